//! The web app's entry point (wasm32-unknown-unknown): panic hook, then mount.

fn main() {
    #[cfg(target_arch = "wasm32")]
    web::app::start();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("the web app runs in a browser: `cargo xtask serve`");
}
