//! Size floor (`cargo xtask bench`, "where the web app's size goes"): the model's export
//! and YAML writer, no UI. `black_box` keeps the optimiser from folding the preset away.

use std::hint::black_box;

fn main() {
    let project = black_box(shared::model::Project::gaqno());
    let config = shared::export::export(&project);
    black_box(shared::export::config_to_yaml(&config).ok());
}
