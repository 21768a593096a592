//! plugin.wasm's entry point: Traefik's http-wasm host runs `main` once per new guest
//! instance; everything host-facing lives in `host.rs`.

#![deny(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

#[cfg(target_arch = "wasm32")]
mod host;

fn main() {
    #[cfg(target_arch = "wasm32")]
    host::start();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("this is the Traefik plugin; build plugin.wasm with `cargo xtask dist` (target wasm32-wasip1)");
}
