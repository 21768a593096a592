//! Architecture invariants, checked by plain tests so they cannot drift silently.

use std::path::{Path, PathBuf};

use crate::project_root;

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn shared_does_no_io_and_knows_no_frontend() {
    for file in rust_files(&project_root().join("shared/src")) {
        let text = read(&file);
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for banned in [
            "std::fs",
            "std::net",
            "std::process",
            "clap::",
            "leptos",
            "http_wasm_guest",
            "anyhow",
        ] {
            assert!(
                !code.contains(banned),
                "{} uses {banned}: `shared` does no IO and knows no front end",
                file.display()
            );
        }
    }
    let manifest = read(&project_root().join("shared/Cargo.toml"));
    for banned in ["clap", "leptos", "http-wasm-guest", "anyhow"] {
        assert!(
            !manifest.contains(&format!("\n{banned}")),
            "shared/Cargo.toml depends on {banned}"
        );
    }
}

#[test]
fn yaml_crate_is_named_in_one_module() {
    for file in rust_files(&project_root().join("shared/src")) {
        if file.ends_with("yaml.rs") {
            continue;
        }
        assert!(
            !read(&file).contains("serde_yaml"),
            "{} names serde_yaml: go through shared::yaml",
            file.display()
        );
    }
}

#[test]
fn plugin_uses_shared_without_default_features() {
    let manifest = read(&project_root().join("plugin/Cargo.toml"));
    let workspace = read(&project_root().join("Cargo.toml"));
    assert!(
        manifest.contains("shared = { workspace = true }")
            || manifest.contains("default-features = false"),
        "{manifest}"
    );
    assert!(
        workspace.contains(r#"shared = { path = "shared", default-features = false }"#),
        "the workspace must declare shared without default features"
    );
}

#[test]
fn architecture_md_names_every_crate() {
    let map = read(&project_root().join("ARCHITECTURE.md"));
    for krate in ["shared", "plugin", "web", "cli", "tests", "xtask"] {
        assert!(
            map.contains(&format!("### `{krate}`")),
            "ARCHITECTURE.md has no section for `{krate}`"
        );
    }
}

#[test]
fn plugin_never_panics_and_only_host_rs_touches_the_host() {
    for file in rust_files(&project_root().join("plugin/src")) {
        let text = read(&file);
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for banned in [
            ".unwrap()",
            ".expect(",
            "panic!(",
            "unreachable!(",
            "todo!(",
            "unimplemented!(",
        ] {
            assert!(
                !code.contains(banned),
                "{} has `{banned}` outside tests: the plugin must never trap",
                file.display()
            );
        }
        let touches_host = code.contains("http_wasm_guest");
        assert_eq!(
            touches_host,
            file.ends_with("host.rs"),
            "{}: only plugin/src/host.rs may use http_wasm_guest",
            file.display()
        );
    }
}
