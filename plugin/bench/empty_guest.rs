//! The reference guest for `cargo xtask bench`: registers a handler that does nothing, so
//! what it costs in Traefik is the http-wasm host's own price; gaqno-lb's cost is what the
//! real plugin adds on top of it.

#[cfg(target_arch = "wasm32")]
struct Empty;

#[cfg(target_arch = "wasm32")]
impl http_wasm_guest::Guest for Empty {}

fn main() {
    #[cfg(target_arch = "wasm32")]
    http_wasm_guest::register(Empty);
}
