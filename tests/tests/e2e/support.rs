//! Helpers shared by the end-to-end modules.

use shared::model::Project;
use tests::{Loaded, Traefik, TraefikSetup};

/// Coolify's own dynamic files (stand-ins), to load beside ours.
pub fn coolify_files() -> Vec<(String, String)> {
    ["coolify.yaml", "default_redirect_503.yaml"]
        .into_iter()
        .map(|name| {
            let path = tests::project_root().join("tests/coolify").join(name);
            (
                name.to_owned(),
                std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
            )
        })
        .collect()
}

/// A Traefik set up the way the project's target describes (entrypoints, resolver, the
/// affinity plugin under the project's plugin name).
pub fn setup_for(
    project: &Project,
    files: Vec<(String, String)>,
    plugin: &std::path::Path,
) -> TraefikSetup {
    let target = &project.target;
    let mut entry_points = vec![
        target.http_entry_point.clone(),
        target.https_entry_point.clone(),
    ];
    for coolify in ["http", "https"] {
        if !entry_points.iter().any(|e| e == coolify) {
            entry_points.push(coolify.to_owned());
        }
    }
    let mut cert_resolvers: Vec<String> = target.cert_resolver.iter().cloned().collect();
    if !cert_resolvers.iter().any(|r| r == "letsencrypt") {
        cert_resolvers.push("letsencrypt".into());
    }
    TraefikSetup {
        entry_points,
        cert_resolvers,
        files,
        plugin: Some((target.plugin_name.clone(), plugin.to_path_buf())),
        ..TraefikSetup::default()
    }
}

/// Starts Traefik `version` with `setup` and returns what its file provider made of it.
pub fn load(binary: &std::path::Path, version: &str, setup: &TraefikSetup) -> (Loaded, String) {
    let mut traefik = Traefik::start(binary, version, setup)
        .unwrap_or_else(|e| panic!("Traefik {version}: {e:#}"));
    let loaded = traefik.loaded().unwrap_or_else(|e| panic!("{e:#}"));
    let log = traefik.log();
    (loaded, log)
}
