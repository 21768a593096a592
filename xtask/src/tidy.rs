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
            !outside && (!text.contains("shared/docs") || file.ends_with("tidy.rs")),
            "{} points into ../shared/: put the fact into the project's own docs",
            file.display()
        );
    }
}

/// Every repository path a doc names in backticks exists: in the `*.md` files and in doc
/// comments (`//!`, `///`) of the Rust sources. A path is a backticked word with a `/` and a
/// file extension, or ending in `/`; it is looked up from the repository root, then from
/// the crate of the file that names it, then from that file's directory. Generated places
/// (`dist/`, `target/`, `.tools/`, node packages) and absolute or remote paths are not
/// checked; neither are words with placeholders (`<service>`, `*`, `{..}`).
#[test]
fn paths_named_in_docs_exist() {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !matches!(
                    name.as_str(),
                    "target" | "node_modules" | ".tools" | ".git" | "dist" | "corpus" | "artifacts"
                ) {
                    walk(&path, out);
                }
            } else if name.ends_with(".md") || name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    let root = project_root();
    const EXTENSIONS: &[&str] = &[
        "rs", "toml", "md", "yml", "yaml", "js", "json", "py", "html", "css", "txt", "lock",
    ];
    let looks_like_path = |word: &str| {
        word.contains('/')
            && !word.contains("://")
            && !word.starts_with('/')
            && !word.starts_with("..")
            && !word.contains(['<', '>', '*', '{', '}', ' ', '$', '(', '`', '|', '=', ':'])
            && (word.ends_with('/')
                || word
                    .rsplit_once('.')
                    .is_some_and(|(_, ext)| EXTENSIONS.contains(&ext)))
    };
    // Made by builds, installs and fuzzing (`cargo test -p xtask` may run before the fuzz
    // step makes the corpus), or a place in Traefik's working directory.
    let generated = [
        "plugin/fuzz/corpus/",
        "dist/",
        "target/",
        ".tools/",
        "node_modules/",
        "tests/node/node_modules",
        "plugins-local/",
    ];
    // ARCHITECTURE.md names a crate's files from that crate's section (`lint/`, `tests/cli.rs`).
    let crates: Vec<PathBuf> = ["shared", "cli", "plugin", "web", "tests", "xtask"]
        .iter()
        .map(|c| root.join(c))
        .collect();
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut missing = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = read(file);
        let docs: String = if file.extension().is_some_and(|e| e == "md") {
            text.clone()
        } else {
            text.lines()
                .filter_map(|l| {
                    let l = l.trim_start();
                    l.strip_prefix("//!").or_else(|| l.strip_prefix("///"))
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let crate_dir = file
            .ancestors()
            .skip(1)
            .find(|d| d.join("Cargo.toml").is_file())
            .unwrap_or(&root)
            .to_path_buf();
        let parts: Vec<&str> = docs.split('`').collect();
        for word in parts.iter().skip(1).step_by(2) {
            let word = word.trim();
            if !looks_like_path(word) || generated.iter().any(|g| word.starts_with(g)) {
                continue;
            }
            checked += 1;
            let mut candidates = vec![
                root.join(word),
                crate_dir.join(word),
                crate_dir.join("src").join(word),
                file.parent().unwrap_or(&root).join(word),
            ];
            if file.extension().is_some_and(|e| e == "md") {
                for krate in &crates {
                    candidates.push(krate.join(word));
                    candidates.push(krate.join("src").join(word));
                }
            }
            if !candidates.iter().any(|c| c.exists()) {
                missing.push(format!("{}: `{word}`", file.display()));
            }
        }
    }
    assert!(checked > 30, "checked too few paths: {checked}");
    assert!(
        missing.is_empty(),
        "paths named in docs that do not exist:\n{}",
        missing.join("\n")
    );
}

/// The web app's `view!` markup is formatted as leptosfmt writes it (rustfmt skips macro
/// bodies). `cargo xtask test` installs leptosfmt and names it in `GAQNO_LB_LEPTOSFMT`;
/// a plain `cargo test` without it skips this check, unless end-to-end tests are required.
#[test]
fn view_markup_is_formatted() {
    let Some(leptosfmt) = std::env::var_os("GAQNO_LB_LEPTOSFMT") else {
        assert!(
            std::env::var_os("GAQNO_LB_E2E").is_none(),
            "GAQNO_LB_LEPTOSFMT is not set: run through `cargo xtask test`"
        );
        eprintln!("skipping: leptosfmt not installed (run `cargo xtask test`)");
        return;
    };
    let output = std::process::Command::new(leptosfmt)
        .args(["--check", "--quiet"])
        .arg(project_root().join("web/src"))
        .output()
        .expect("leptosfmt runs");
    assert!(
        output.status.success(),
        "view! markup not formatted: run `.tools/cargo/bin/leptosfmt web/src`, then `cargo fmt`\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
