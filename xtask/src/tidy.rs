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

/// The project reads on its own: no file points into the workplace's `../shared/` folder
/// (facts the code relies on live in the project's own docs). `../../shared` from
/// `plugin/fuzz/` is the `shared` crate, and allowed.
#[test]
fn nothing_points_outside_the_project() {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if !matches!(
                    name.as_ref(),
                    "target" | "node_modules" | ".tools" | ".git" | "dist" | "corpus" | "artifacts"
                ) {
                    walk(&path, out);
                }
            } else if [
                "rs", "toml", "md", "yml", "yaml", "js", "py", "html", "css", "json",
            ]
            .iter()
            .any(|ext| name.ends_with(&format!(".{ext}")))
            {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&project_root(), &mut files);
    assert!(files.len() > 50, "walked too few files: {}", files.len());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let outside = text
            .match_indices("../shared")
            .any(|(at, _)| !text[..at].ends_with("../") && !file.ends_with("tidy.rs"));
        assert!(
            !outside && !(text.contains("shared/docs") && !file.ends_with("tidy.rs")),
            "{} points into ../shared/: put the fact into the project's own docs",
            file.display()
        );
    }
}
