//! `gaqno-lb serve` embeds `dist/web/` and `dist/plugin/`: rebuild when they change, also
//! when they did not exist at the previous build. `--version` names the git commit the
//! binary was built from (`GAQNO_LB_COMMIT` overrides, for builds outside a git checkout).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=../dist/web");
    println!("cargo:rerun-if-changed=../dist/plugin");
    println!("cargo:rerun-if-env-changed=GAQNO_LB_COMMIT");
    for git_file in [
        "../.git/HEAD",
        "../.git/refs",
        "../.git/packed-refs",
        "../.git/index",
    ] {
        println!("cargo:rerun-if-changed={git_file}");
    }
    let commit = std::env::var("GAQNO_LB_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=GAQNO_LB_COMMIT={commit}");
}

/// `git rev-parse --short=12 HEAD`, with `-dirty` when tracked files have changes.
fn git_commit() -> Option<String> {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir("..")
            // `git status` must not rewrite the index this script watches.
            .env("GIT_OPTIONAL_LOCKS", "0")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let hash = git(&["rev-parse", "--short=12", "HEAD"]).filter(|h| !h.is_empty())?;
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{hash}-dirty") } else { hash })
}
