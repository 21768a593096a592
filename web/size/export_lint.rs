//! Size floor (`cargo xtask bench`, "where the web app's size goes"): export, YAML writer
//! and the linter with its fixes, no UI.

use std::hint::black_box;

fn main() {
    let project = black_box(shared::model::Project::gaqno());
    let mut config = shared::export::export(&project);
    black_box(shared::export::config_to_yaml(&config).ok());
    let findings = shared::lint::lint(&config, &shared::lint::LintOptions::default());
    if let Some(first) = findings.first() {
        black_box(shared::lint::apply_fix(&mut config, first));
    }
}
