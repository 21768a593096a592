//! `cargo xtask release [VERSION] [--allow-dirty]`: what an operator installs without Rust,
//! in `dist/release/`:
//!
//! - `gaqno-lb-plugin-vX.Y.Z.zip` — `plugin.wasm`, `.traefik.yml`, `LICENSE` at the zip root,
//!   where Traefik's installer and the catalog's analyzer look;
//! - `gaqno-lb-vX.Y.Z-<target>.tar.gz` for each of [`CLI_TARGETS`] — the static CLI (web app
//!   and plugin embedded), cross-built with cargo-zigbuild and zig from PyPI;
//! - `gaqno-lb-web-vX.Y.Z.tar.gz` — the web app, static files with relative paths only;
//! - `SHA256SUMS` over all of them.
//!
//! VERSION, when given, is first written into the workspace (Cargo.toml, Cargo.lock, and the
//! README's install lines, which name the tag). Every check runs before anything is written,
//! and the archives are made in `dist/release.partial/`, which replaces `dist/release/` only
//! when complete: a failed run leaves no half-written release behind.
//!
//! The plugin zip and the web tarball are reproducible: `package.py` fixes mtimes (the
//! commit's time, or `SOURCE_DATE_EPOCH`), modes and entry order; `cargo xtask test` packs
//! them twice and the `release` end-to-end test compares the bytes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{build, project_root, run, tools};

/// The static CLI's targets: what Coolify servers run on.
pub const CLI_TARGETS: [&str; 2] = ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"];

/// Where a finished release lands.
pub fn release_dir() -> PathBuf {
    project_root().join("dist/release")
}

/// What `cargo xtask release` was asked.
#[derive(Debug, PartialEq)]
pub struct Options {
    pub version: Option<String>,
    pub allow_dirty: bool,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            version: None,
            allow_dirty: false,
        };
        for arg in args {
            match arg.as_str() {
                "--allow-dirty" => options.allow_dirty = true,
                flag if flag.starts_with('-') && !is_version_like(flag) => {
                    return Err(format!(
                        "release: unknown flag {flag:?}: usage: cargo xtask release [VERSION] [--allow-dirty]"
                    ))
                }
                version if options.version.is_none() => {
                    options.version = Some(parse_version(version)?)
                }
                extra => return Err(format!("release: unexpected argument {extra:?}")),
            }
        }
        Ok(options)
    }
}

/// `-1.0.0` is a malformed version, not an unknown flag: say so.
fn is_version_like(arg: &str) -> bool {
    arg.trim_start_matches('-')
        .starts_with(|c: char| c.is_ascii_digit())
}

/// A release version: `MAJOR.MINOR.PATCH`, optionally `-PRERELEASE` (semver, no build
/// metadata: a tag `v1.0.0+x` is not a Go module version, which Traefik's installer needs).
/// A leading `v` is accepted and dropped.
pub fn parse_version(text: &str) -> Result<String, String> {
    let malformed = || {
        format!("release: malformed version {text:?}: expected MAJOR.MINOR.PATCH, such as 0.1.0")
    };
    let bare = text.strip_prefix('v').unwrap_or(text);
    let (core, pre) = match bare.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (bare, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    let number_ok = |n: &&str| {
        !n.is_empty()
            && n.len() <= 9
            && n.bytes().all(|b| b.is_ascii_digit())
            && (n.len() == 1 || !n.starts_with('0'))
    };
    if numbers.len() != 3 || !numbers.iter().all(number_ok) {
        return Err(malformed());
    }
    if let Some(pre) = pre {
        let ident_ok =
            |i: &str| !i.is_empty() && i.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !pre.split('.').all(ident_ok) {
            return Err(malformed());
        }
    }
    Ok(bare.to_owned())
}

/// Refuses a working tree with changes (`git status --porcelain` output) unless allowed.
pub fn check_clean(status: &str, allow_dirty: bool) -> Result<(), String> {
    let changed = status.lines().filter(|l| !l.trim().is_empty()).count();
    if changed == 0 {
        return Ok(());
    }
    if allow_dirty {
        eprintln!("xtask: warning: releasing from a working tree with {changed} uncommitted change(s) (--allow-dirty)");
        return Ok(());
    }
    Err(format!(
        "release: the working tree has {changed} uncommitted change(s) (see `git status`): commit them, or pass --allow-dirty"
    ))
}

/// Fails with one line when a program the release needs is not on PATH.
pub fn require_program(program: &str, why: &str) -> Result<(), String> {
    match Command::new(program).arg("--version").output() {
        Ok(_) => Ok(()),
        Err(_) => Err(format!(
            "release: {program} is missing: it is needed to {why}; install it and run again"
        )),
    }
}

/// The `[workspace.package]` version in the root Cargo.toml.
pub fn workspace_version() -> Result<String, String> {
    let manifest = read(&project_root().join("Cargo.toml"))?;
    version_in_manifest(&manifest)
        .ok_or_else(|| "release: no version in [workspace.package] of Cargo.toml".to_owned())
}

fn version_in_manifest(manifest: &str) -> Option<String> {
    let section = manifest.split("[workspace.package]").nth(1)?;
    let section = section.split("\n[").next()?;
    section.lines().find_map(|line| {
        let value = line
            .trim()
            .strip_prefix("version")?
            .trim()
            .strip_prefix('=')?;
        Some(value.trim().trim_matches('"').to_owned())
    })
}

/// Writes `version` into Cargo.toml's `[workspace.package]`, the workspace members'
/// entries in Cargo.lock, and the README (every `v<old>`: the tag its install lines name).
fn set_version(version: &str) -> Result<(), String> {
    let old = workspace_version()?;
    if old == version {
        return Ok(());
    }
    let root = project_root();
    let manifest_path = root.join("Cargo.toml");
    let manifest = read(&manifest_path)?;
    let members = workspace_members(&manifest);
    let (head, tail) = manifest
        .split_once("[workspace.package]")
        .ok_or("release: no [workspace.package] in Cargo.toml")?;
    let tail = tail.replacen(
        &format!("version = \"{old}\""),
        &format!("version = \"{version}\""),
        1,
    );
    write(&manifest_path, &format!("{head}[workspace.package]{tail}"))?;

    let lock_path = root.join("Cargo.lock");
    let lock = read(&lock_path)?;
    write(
        &lock_path,
        &set_members_in_lock(&lock, &members, &old, version),
    )?;

    let readme_path = root.join("README.md");
    let readme = read(&readme_path)?;
    write(
        &readme_path,
        &readme.replace(&format!("v{old}"), &format!("v{version}")),
    )?;
    eprintln!("xtask: version {old} -> {version} in Cargo.toml, Cargo.lock, README.md");
    Ok(())
}

/// `members = ["a", "b"]` of the root manifest.
fn workspace_members(manifest: &str) -> Vec<String> {
    manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("members = ["))
        .map(|list| {
            list.trim_end_matches(']')
                .split(',')
                .map(|m| m.trim().trim_matches('"').to_owned())
                .filter(|m| !m.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Cargo.lock with the version of each workspace member (a package without `source`) set.
fn set_members_in_lock(lock: &str, members: &[String], old: &str, new: &str) -> String {
    lock.split_inclusive("[[package]]")
        .map(|block| {
            let is_member = !block.contains("\nsource = ")
                && members
                    .iter()
                    .any(|m| block.contains(&format!("\nname = \"{m}\"\n")));
            if is_member {
                block.replacen(
                    &format!("\nversion = \"{old}\"\n"),
                    &format!("\nversion = \"{new}\"\n"),
                    1,
                )
            } else {
                block.to_owned()
            }
        })
        .collect()
}

/// `cargo xtask release [VERSION] [--allow-dirty]`.
pub fn release(args: &[String]) -> Result<(), String> {
    let options = Options::parse(args)?;
    require_program("git", "name the commit and check the working tree")?;
    require_program(tools::python(), "write the archives")?;
    require_program("gzip", "compress the web app")?;
    require_program("rustup", "add the musl targets")?;
    check_clean(&git(&["status", "--porcelain"])?, options.allow_dirty)?;
    if let Some(version) = &options.version {
        set_version(version)?;
    }
    let version = parse_version(&workspace_version()?)?;

    let out = release_dir();
    let staging = project_root().join("dist/release.partial");
    remove_dir(&staging)?;
    std::fs::create_dir_all(&staging)
        .map_err(|e| format!("cannot create {}: {e}", staging.display()))?;
    match build_into(&staging, &version) {
        Ok(files) => {
            remove_dir(&out)?;
            std::fs::rename(&staging, &out).map_err(|e| {
                format!(
                    "cannot move {} to {}: {e}",
                    staging.display(),
                    out.display()
                )
            })?;
            eprintln!("xtask: release v{version} in {}:", out.display());
            for file in files {
                eprintln!("xtask:   {file}");
            }
            Ok(())
        }
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(error)
        }
    }
}

/// Builds and packs everything into `dir`; returns the file names.
fn build_into(dir: &Path, version: &str) -> Result<Vec<String>, String> {
    let mut files = plugin_and_web(dir, version)?;
    for target in CLI_TARGETS {
        let binary = build::cli_static(target)?;
        let name = format!("gaqno-lb-v{version}-{target}");
        let file = format!("{name}.tar.gz");
        let root = project_root();
        package(&[
            "tar".into(),
            dir.join(&file).display().to_string(),
            name,
            format!("gaqno-lb={}", binary.display()),
            format!("LICENSE={}", root.join("LICENSE").display()),
            format!("README.md={}", root.join("README.md").display()),
        ])?;
        files.push(file);
    }
    let mut sums = vec![
        "sums".to_owned(),
        dir.join("SHA256SUMS").display().to_string(),
    ];
    sums.extend(files.iter().map(|f| dir.join(f).display().to_string()));
    package(&sums)?;
    files.push("SHA256SUMS".into());
    Ok(files)
}

/// Builds plugin.wasm and the web app and packs the plugin zip and the web tarball into
/// `dir`: the reproducible part of a release. Returns the file names.
pub fn plugin_and_web(dir: &Path, version: &str) -> Result<Vec<String>, String> {
    let root = project_root();
    let plugin = build::plugin()?;
    let zip = plugin_zip_name(version);
    package(&[
        "zip".into(),
        dir.join(&zip).display().to_string(),
        format!("plugin.wasm={}", plugin.join("plugin.wasm").display()),
        format!(".traefik.yml={}", plugin.join(".traefik.yml").display()),
        format!("LICENSE={}", root.join("LICENSE").display()),
    ])?;
    let web = build::web()?;
    let name = format!("gaqno-lb-web-v{version}");
    let mut args = vec![
        "tar".to_owned(),
        dir.join(format!("{name}.tar.gz")).display().to_string(),
        name.clone(),
    ];
    let mut entries: Vec<String> = std::fs::read_dir(&web)
        .map_err(|e| format!("cannot read {}: {e}", web.display()))?
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    args.extend(
        entries
            .iter()
            .map(|f| format!("{f}={}", web.join(f).display())),
    );
    package(&args)?;
    Ok(vec![zip, format!("{name}.tar.gz")])
}

/// The catalog asset's file name.
pub fn plugin_zip_name(version: &str) -> String {
    format!("gaqno-lb-plugin-v{version}.zip")
}

/// The archives' timestamp: `SOURCE_DATE_EPOCH` if set, else the commit's time.
pub fn source_date_epoch() -> Result<String, String> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) if !value.is_empty() => Ok(value),
        _ => Ok(git(&["log", "-1", "--format=%ct"])?.trim().to_owned()),
    }
}

/// `python3 xtask/package.py <args>` with SOURCE_DATE_EPOCH set (see [`source_date_epoch`]).
fn package(args: &[String]) -> Result<(), String> {
    let epoch = source_date_epoch()?;
    run(Command::new(tools::python())
        .arg(project_root().join("xtask/package.py"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", epoch))
}

/// `git <args>` in the project root; its standard output.
fn git(args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(project_root())
        // `git status` must not rewrite the index (the CLI's build script watches it).
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn remove_dir(dir: &Path) -> Result<(), String> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot remove {}: {e}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for good in ["0.1.0", "v0.1.0", "1.20.300", "1.0.0-rc.1", "2.0.0-beta-2"] {
            assert!(parse_version(good).is_ok(), "{good}");
        }
        assert_eq!(parse_version("v0.1.0").as_deref(), Ok("0.1.0"));
        for bad in [
            "",
            "v",
            "1",
            "1.0",
            "1.x.0",
            "01.0.0",
            "1.0.0.0",
            "1.0.0-",
            "1.0.0-rc..1",
            "1.0.0+build",
            "1.0.0 ",
            "-1.0.0",
            "1.0.0-ü",
            "1234567890.0.0",
        ] {
            let error = parse_version(bad).expect_err(bad);
            assert!(error.starts_with("release: malformed version"), "{error}");
            assert!(!error.contains('\n'), "one line: {error}");
        }
    }

    #[test]
    fn arguments() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            Options::parse(&args(&["0.1.0", "--allow-dirty"])),
            Ok(Options {
                version: Some("0.1.0".into()),
                allow_dirty: true
            })
        );
        assert_eq!(
            Options::parse(&args(&[])),
            Ok(Options {
                version: None,
                allow_dirty: false
            })
        );
        assert!(Options::parse(&args(&["--force"])).is_err_and(|e| e.contains("unknown flag")));
        assert!(Options::parse(&args(&["-1.0.0"])).is_err_and(|e| e.contains("malformed version")));
        assert!(Options::parse(&args(&["0.1.0", "0.2.0"]))
            .is_err_and(|e| e.contains("unexpected argument")));
    }

    #[test]
    fn dirty_trees_are_refused_unless_allowed() {
        assert!(check_clean("", false).is_ok());
        assert!(check_clean(" M README.md\n?? new.txt\n", true).is_ok());
        let error = check_clean(" M README.md\n?? new.txt\n", false).expect_err("dirty");
        assert!(error.contains("2 uncommitted change(s)"), "{error}");
        assert!(error.contains("--allow-dirty"), "{error}");
    }

    #[test]
    fn a_missing_program_is_one_line() {
        let error = require_program("gaqno-lb-no-such-program", "test").expect_err("missing");
        assert_eq!(
            error,
            "release: gaqno-lb-no-such-program is missing: it is needed to test; install it and run again"
        );
    }

    #[test]
    fn version_edits() {
        let manifest = "[workspace]\nmembers = [\"shared\", \"cli\"]\n\n[workspace.package]\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace.dependencies]\nserde = { version = \"1.0\" }\n";
        assert_eq!(version_in_manifest(manifest).as_deref(), Some("0.1.0"));
        assert_eq!(workspace_members(manifest), ["shared", "cli"]);
        let lock = "version = 4\n\n[[package]]\nname = \"cli\"\nversion = \"0.1.0\"\ndependencies = []\n\n[[package]]\nname = \"itoa\"\nversion = \"0.1.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"shared\"\nversion = \"0.1.0\"\n";
        let members = workspace_members(manifest);
        let updated = set_members_in_lock(lock, &members, "0.1.0", "0.2.0");
        assert_eq!(
            updated.matches("version = \"0.2.0\"").count(),
            2,
            "{updated}"
        );
        assert!(
            updated.contains("name = \"itoa\"\nversion = \"0.1.0\""),
            "{updated}"
        );
    }

    /// The version the repository is at is a valid release version, and the README's
    /// install lines name its tag (what `set_version` keeps true).
    #[test]
    fn readme_names_the_workspace_version() {
        let version = workspace_version().expect("version");
        parse_version(&version).expect("valid");
        let readme = read(&project_root().join("README.md")).expect("README");
        assert!(
            readme.contains(&format!("version=v{version}")),
            "README.md must name the tag v{version} in its catalog install lines"
        );
    }
}
