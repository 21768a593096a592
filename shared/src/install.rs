//! How an operator installs gaqno-lb, as text the web app's Coolify panel shows and the tests
//! hold to the README: the plugin's module name, the proxy flags for Traefik's plugin catalog
//! and for the offline local-plugin route, and the release's download addresses.
//! The version is the caller's (`CARGO_PKG_VERSION`: the workspace version a release sets).

/// The plugin's Go-style module name: the repository Traefik's catalog knows it by.
pub const PLUGIN_MODULE: &str = "github.com/gaqno/gaqno-lb";

/// Where releases are published.
pub const RELEASES_URL: &str = "https://github.com/gaqno/gaqno-lb/releases";

/// The hosted web app (GitHub Pages, published from each release).
pub const HOSTED_EDITOR_URL: &str = "https://gaqno.github.io/gaqno-lb/";

/// The volume a local plugin needs on Coolify's proxy (the catalog route needs none).
pub const LOCAL_PLUGIN_VOLUME: &str = "/data/coolify/proxy/plugins-local:/plugins-local:ro";

/// Where a local plugin's files go on each server.
pub const LOCAL_PLUGIN_DIR: &str =
    "/data/coolify/proxy/plugins-local/src/github.com/gaqno/gaqno-lb/";

/// The two proxy flags that install release `version` of the plugin, under `plugin_name`,
/// from Traefik's catalog.
pub fn catalog_flags(plugin_name: &str, version: &str) -> [String; 2] {
    [
        format!("--experimental.plugins.{plugin_name}.moduleName={PLUGIN_MODULE}"),
        format!("--experimental.plugins.{plugin_name}.version=v{version}"),
    ]
}

/// The proxy flag that loads the plugin from [`LOCAL_PLUGIN_DIR`] (offline).
pub fn local_plugin_flag(plugin_name: &str) -> String {
    format!("--experimental.localPlugins.{plugin_name}.moduleName={PLUGIN_MODULE}")
}

/// The plugin zip of release `version` (the catalog's asset; also the offline download).
pub fn plugin_zip_url(version: &str) -> String {
    format!("{RELEASES_URL}/download/v{version}/gaqno-lb-plugin-v{version}.zip")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_name_the_module_and_the_tag() {
        assert_eq!(
            catalog_flags("gaqno-lb", "0.1.0"),
            [
                "--experimental.plugins.gaqno-lb.moduleName=github.com/gaqno/gaqno-lb",
                "--experimental.plugins.gaqno-lb.version=v0.1.0"
            ]
        );
        assert_eq!(
            local_plugin_flag("affinity"),
            "--experimental.localPlugins.affinity.moduleName=github.com/gaqno/gaqno-lb"
        );
        assert!(LOCAL_PLUGIN_DIR.ends_with(&format!("src/{PLUGIN_MODULE}/")));
        assert_eq!(
            plugin_zip_url("0.1.0"),
            "https://github.com/gaqno/gaqno-lb/releases/download/v0.1.0/gaqno-lb-plugin-v0.1.0.zip"
        );
    }

    /// The README gives the same lines, for the version the workspace is at.
    #[test]
    fn the_readme_says_the_same() {
        let readme = include_str!("../../README.md");
        let version = env!("CARGO_PKG_VERSION");
        for line in catalog_flags("gaqno-lb", version) {
            assert!(readme.contains(&line), "README.md lacks {line}");
        }
        for text in [
            local_plugin_flag("gaqno-lb"),
            LOCAL_PLUGIN_VOLUME.to_owned(),
            HOSTED_EDITOR_URL.to_owned(),
            plugin_zip_url(version),
        ] {
            assert!(readme.contains(&text), "README.md lacks {text}");
        }
    }
}
