//! `cargo xtask coolify-golden COOLIFY_SOURCE [--check]`: the golden files of
//! `shared/test_data/coolify/`, written again by Coolify's own PHP
//! (`shared/test_data/coolify/harness/generate.php`) from a checkout of Coolify, or with
//! `--check`, compared with the committed ones.
//!
//! Not part of `cargo xtask test`: it needs Coolify's source, which no package registry
//! carries. `shared::coolify`'s tests compare against the committed files instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{
    docker::{apt_install, dpkg_installed},
    project_root, run,
};

/// Debian's packages the harness loads: PHP, Symfony's YAML (Coolify's `Yaml::dump`), and
/// Laravel's collections and `Str` (8.x; `stand-ins.php` adds the few later methods Coolify
/// calls).
const PACKAGES: [&str; 5] = [
    "php-cli",
    "php-mbstring",
    "php-symfony-yaml",
    "php-illuminate-support",
    "php-illuminate-collections",
];

/// The Coolify commit the golden files come from (tag v4.3.10), as the README names it.
const COOLIFY_COMMIT: &str = "83f1a2e50374c27125671084b445b2599815f114";

pub fn coolify_golden(args: &[String]) -> Result<(), String> {
    let check = args.iter().any(|a| a == "--check");
    let source = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .ok_or_else(|| {
            format!(
                "usage: cargo xtask coolify-golden COOLIFY_SOURCE [--check]\n\
                 COOLIFY_SOURCE: a checkout of coollabsio/coolify at {COOLIFY_COMMIT} (v4.3.10)"
            )
        })?;
    if !source.join("bootstrap/helpers/docker.php").is_file() {
        return Err(format!(
            "{} is not Coolify's source: it has no bootstrap/helpers/docker.php",
            source.display()
        ));
    }
    warn_on_another_commit(&source);
    let missing: Vec<&str> = PACKAGES
        .into_iter()
        .filter(|package| !dpkg_installed(package))
        .collect();
    if !missing.is_empty() {
        apt_install(&missing)?;
    }

    let golden = project_root().join("shared/test_data/coolify");
    let out = project_root().join("target/coolify-golden");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    run(Command::new("php")
        .arg(golden.join("harness/generate.php"))
        .arg(&source)
        .arg(&out))?;

    let mut differ = Vec::new();
    for entry in
        std::fs::read_dir(&out).map_err(|e| format!("cannot read {}: {e}", out.display()))?
    {
        let written = entry.map_err(|e| e.to_string())?.path();
        let Some(name) = written.file_name() else {
            continue;
        };
        let committed = golden.join(name);
        if read(&written)? != std::fs::read(&committed).unwrap_or_default() {
            differ.push(name.to_string_lossy().into_owned());
            if !check {
                std::fs::copy(&written, &committed)
                    .map_err(|e| format!("cannot write {}: {e}", committed.display()))?;
            }
        }
    }
    differ.sort();
    match (check, differ.is_empty()) {
        (_, true) => eprintln!("xtask: every golden file is what Coolify writes"),
        (true, false) => {
            return Err(format!(
                "Coolify writes something else for {} (its output is in {})",
                differ.join(", "),
                out.display()
            ))
        }
        (false, false) => eprintln!("xtask: wrote {}", differ.join(", ")),
    }
    Ok(())
}

/// A checkout at another commit is allowed (to see what a newer Coolify writes) but said.
fn warn_on_another_commit(source: &Path) {
    let head = Command::new("git")
        .arg("-C")
        .arg(source)
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match head {
        Some(head) if head == COOLIFY_COMMIT => {}
        Some(head) => eprintln!(
            "xtask: {} is at {head}, not {COOLIFY_COMMIT} (v4.3.10) that the golden files name",
            source.display()
        ),
        None => eprintln!(
            "xtask: {} is not a git checkout; make sure it is Coolify {COOLIFY_COMMIT} (v4.3.10)",
            source.display()
        ),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}
