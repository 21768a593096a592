//! `gaqno-lb serve` embeds `dist/web/` and `dist/plugin/`: rebuild when they change, also
//! when they did not exist at the previous build.

fn main() {
    println!("cargo:rerun-if-changed=../dist/web");
    println!("cargo:rerun-if-changed=../dist/plugin");
}
