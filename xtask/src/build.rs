//! Release builds: plugin.wasm (+ manifest), the web app, the CLI (native and static musl).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, project_root, run, tools};

/// Where `dist` puts the plugin: `plugin.wasm` and `.traefik.yml`, the layout Traefik's
/// `plugins-local/src/<module>/` wants.
fn plugin_dist_dir() -> PathBuf {
    project_root().join("dist/plugin")
}

/// plugin.wasm's budget after wasm-opt: a build over it fails.
pub const PLUGIN_WASM_BUDGET: u64 = 64 * 1024;
/// plugin.wasm's initial linear memory, in 64 KiB pages: every pooled guest instance in
/// Traefik holds at least this much.
pub const PLUGIN_PAGES_BUDGET: u64 = 1;

/// Features binaryen 132 must be told the Rust wasm32-wasip1 output uses.
const WASM_OPT_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-sign-ext",
    "--enable-nontrapping-float-to-int",
    "--enable-mutable-globals",
    "--enable-multivalue",
    "--enable-reference-types",
];

/// `cargo build --profile <profile> --target <target> -p <package> --bin <bin>`; returns
/// the built `.wasm`.
fn cargo_wasm(target: &str, profile: &str, package: &str, bin: &str) -> Result<PathBuf, String> {
    cargo_wasm_bins(target, profile, package, &[bin])?
        .pop()
        .ok_or_else(|| format!("no wasm for {bin}"))
}

/// [`cargo_wasm`] for several binaries of one package, in one cargo run.
fn cargo_wasm_bins(
    target: &str,
    profile: &str,
    package: &str,
    bins: &[&str],
) -> Result<Vec<PathBuf>, String> {
    tools::rust_target(target)?;
    let mut command = cargo();
    command.args([
        "build",
        "--locked",
        "--target",
        target,
        "--profile",
        profile,
        "-p",
        package,
    ]);
    for bin in bins {
        command.args(["--bin", bin]);
    }
    run(&mut command)?;
    let dir = project_root().join("target").join(target).join(profile);
    Ok(bins
        .iter()
        .map(|bin| dir.join(format!("{bin}.wasm")))
        .collect())
}

/// `wasm-opt -Oz` (binaryen 132 from npm) with the features Rust's output uses: for the web
/// app, which runs in browsers.
fn wasm_opt(input: &Path, output: &Path) -> Result<(), String> {
    let wasm_opt = tools::npm_packages()?.join(".bin/wasm-opt");
    run(Command::new(&wasm_opt)
        .arg("-Oz")
        .args(WASM_OPT_FEATURES)
        .arg(input)
        .arg("-o")
        .arg(output))
}

/// `wasm-opt` for a guest of Traefik's http-wasm host: first `memory.fill` and `memory.copy`
/// are lowered to plain loops, then `-Oz` runs with bulk memory switched off, so binaryen's
/// validator refuses the module should any bulk-memory instruction remain.
///
/// Why: Rust (1.87+) emits those instructions for memset/memcpy, and under Traefik 3.6.15's
/// wasm runtime (wazero) they can trap with `out of bounds memory access` inside valid
/// memory: on some x86-64 machines (not all), a `memory.fill` of 10 KiB in `main`, or
/// reading a Cookie header over 2 KiB (http-wasm-guest copies it with `memory.copy`), traps
/// every time. Loops cost nothing measurable at our sizes; the plugin e2e tests
/// (`plugin_inputs`) send such headers.
fn wasm_opt_guest(input: &Path, output: &Path) -> Result<(), String> {
    let wasm_opt = tools::npm_packages()?.join(".bin/wasm-opt");
    let lowered = output.with_extension("lowered.wasm");
    run(Command::new(&wasm_opt)
        .args(WASM_OPT_FEATURES)
        .arg("--llvm-memory-copy-fill-lowering")
        .arg(input)
        .arg("-o")
        .arg(&lowered))?;
    let without_bulk_memory = WASM_OPT_FEATURES
        .iter()
        .filter(|f| **f != "--enable-bulk-memory");
    let result = run(Command::new(&wasm_opt)
        .arg("-Oz")
        .args(without_bulk_memory)
        .arg(&lowered)
        .arg("-o")
        .arg(output));
    let _ = std::fs::remove_file(&lowered);
    result
}

/// Builds plugin.wasm (size-optimised, 16 KiB stack), runs wasm-opt, writes `dist/plugin/`
/// (the layout of Traefik's `plugins-local/src/<module>/`); returns that directory. The
/// catalog zip is `cargo xtask release`'s.
pub fn plugin() -> Result<PathBuf, String> {
    let built = cargo_wasm("wasm32-wasip1", "wasm-release", "plugin", "plugin")?;
    let dir = plugin_dist_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let out = dir.join("plugin.wasm");
    wasm_opt_guest(&built, &out)?;
    copy(
        &project_root().join(".traefik.yml"),
        &dir.join(".traefik.yml"),
    )?;
    let size = std::fs::metadata(&out).map_err(|e| e.to_string())?.len();
    eprintln!(
        "xtask: {} is {size} bytes (budget {PLUGIN_WASM_BUDGET})",
        out.display()
    );
    if size > PLUGIN_WASM_BUDGET {
        return Err(format!(
            "plugin.wasm is {size} bytes, over its {PLUGIN_WASM_BUDGET}-byte budget"
        ));
    }
    let pages = plugin_pages()?;
    if pages > PLUGIN_PAGES_BUDGET {
        return Err(format!(
            "plugin.wasm starts with {pages} pages of memory, over its budget of {PLUGIN_PAGES_BUDGET}"
        ));
    }
    Ok(dir)
}

/// The initial memory pages of the built `dist/plugin/plugin.wasm`.
pub fn plugin_pages() -> Result<u64, String> {
    let path = plugin_dist_dir().join("plugin.wasm");
    let wasm = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    initial_memory_pages(&wasm).ok_or_else(|| format!("{}: no memory section", path.display()))
}

/// The `min` pages of a wasm module's memory (memory section, id 5).
fn initial_memory_pages(wasm: &[u8]) -> Option<u64> {
    fn leb(bytes: &[u8], at: &mut usize) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *bytes.get(*at)?;
            *at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    let mut at = 8; // magic + version
    while at < wasm.len() {
        let id = *wasm.get(at)?;
        at += 1;
        let size = usize::try_from(leb(wasm, &mut at)?).ok()?;
        if id == 5 {
            let mut inner = at;
            let _count = leb(wasm, &mut inner)?;
            inner += 1; // limits flags
            return leb(wasm, &mut inner);
        }
        at += size;
    }
    None
}

/// The benchmark's reference guest (`plugin/bench/reference_guest.rs`: the empty guest and
/// the floor of each path), laid out like the plugin in `dist/bench/reference-guest/`.
pub fn reference_guest() -> Result<PathBuf, String> {
    let built = cargo_wasm("wasm32-wasip1", "wasm-release", "plugin", "reference-guest")?;
    let dir = project_root().join("dist/bench/reference-guest");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    wasm_opt_guest(&built, &dir.join("plugin.wasm"))?;
    let manifest = "displayName: reference guest (benchmark)\ntype: middleware\nruntime: wasm\nsummary: Makes the host calls its config names, takes no decisions.\ntestData: {}\n";
    std::fs::write(dir.join(".traefik.yml"), manifest).map_err(|e| e.to_string())?;
    Ok(dir)
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

/// The web app's size floors (`web/size/`), each as the app is built (web-release,
/// wasm-bindgen, wasm-opt), as `<bin>.wasm` in the returned `dist/bench/web-size/`.
pub fn web_size_floors() -> Result<PathBuf, String> {
    const FLOORS: [&str; 4] = [
        "size-leptos",
        "size-export",
        "size-export-lint",
        "size-model",
    ];
    let wasm_bindgen = tools::wasm_bindgen(&tools::install_all()?)?;
    let built = cargo_wasm_bins("wasm32-unknown-unknown", "web-release", "web", &FLOORS)?;
    let dir = project_root().join("dist/bench/web-size");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (bin, wasm) in FLOORS.into_iter().zip(built) {
        run(Command::new(&wasm_bindgen)
            .args(["--target", "web", "--no-typescript", "--out-dir"])
            .arg(&dir)
            .arg(&wasm))?;
        let bindgen_wasm = dir.join(format!("{bin}_bg.wasm"));
        wasm_opt(&bindgen_wasm, &dir.join(format!("{bin}.wasm")))?;
    }
    Ok(dir)
}

/// The static CLI for a musl `target` (`target/<target>/release/gaqno-lb`), cross-built by
/// cargo-zigbuild with zig as the linker (and C compiler, should a dependency need one).
pub fn cli_static(target: &str) -> Result<PathBuf, String> {
    demo()?;
    tools::rust_target(target)?;
    let (zigbuild, zig) = tools::cargo_zigbuild(&tools::dir())?;
    run(Command::new(zigbuild)
        .args([
            "zigbuild",
            "--release",
            "--locked",
            "--target",
            target,
            "-p",
            "cli",
        ])
        .current_dir(project_root())
        .env("CARGO_ZIGBUILD_ZIG_PATH", zig))?;
    Ok(project_root()
        .join("target")
        .join(target)
        .join("release/gaqno-lb"))
}

/// The Socket.IO demo `gaqno-lb rehearse` runs without `--image`: `cli/demo/server.js` and
/// socket.io (from `tests/node/node_modules`) bundled into `dist/demo/server.js` by esbuild,
/// which the CLI embeds. Build it before the CLI.
pub fn demo() -> Result<PathBuf, String> {
    let modules = tools::npm_packages()?;
    let out = project_root().join("dist/demo/server.js");
    run(Command::new(modules.join(".bin/esbuild"))
        .arg(project_root().join("cli/demo/server.js"))
        .args([
            "--bundle",
            "--platform=node",
            "--target=node18",
            "--minify",
            "--log-level=warning",
        ])
        .arg(format!("--outfile={}", out.display()))
        // socket.io is resolved from the test packages, where `npm ci` put it.
        .env("NODE_PATH", &modules))?;
    Ok(out)
}

/// The CLI at `target/release/gaqno-lb`.
pub fn cli() -> Result<PathBuf, String> {
    demo()?;
    run(cargo().args(["build", "--release", "--locked", "-p", "cli"]))?;
    Ok(project_root().join("target/release/gaqno-lb"))
}

/// The budget of the editor's wasm as browsers fetch it (brotli): a build over it fails.
/// Everything before the first render must arrive within ~1.4 s at 1.6 Mbit/s for it to
/// take ≤ 2 s (BENCHMARKS.md, "The web app"); the linter, the importer or the label reader
/// linked into the editor would add over 100 KiB (they belong to the checks module).
pub const WEB_EDITOR_BROTLI_BUDGET: u64 = 256 * 1024;

/// The web app's files in `dist/web/`, each with a `.gz` and a `.br` beside it.
pub const WEB_FILES: [&str; 6] = [
    "index.html",
    "style.css",
    "web.js",
    "web_bg.wasm",
    "analysis.js",
    "analysis_bg.wasm",
];

/// The web app in `dist/web/`: its two wasm modules (`web`, the editor; `analysis`, what
/// it loads after the first render: `web/analysis/`) built for wasm32-unknown-unknown, put
/// through wasm-bindgen (the CLI pinned to Cargo.lock's version) and wasm-opt; the static
/// files of `web/static/`; a `.gz` and a `.br` of each.
pub fn web() -> Result<PathBuf, String> {
    let wasm_bindgen = tools::wasm_bindgen(&tools::install_all()?)?;
    let editor = cargo_wasm("wasm32-unknown-unknown", "web-release", "web", "web")?;
    // Its own cargo run: built with the editor's, `web` would get its `ui` feature.
    run(cargo().args([
        "build",
        "--locked",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "web-release",
        "-p",
        "web-analysis",
        "--lib",
    ]))?;
    let analysis =
        project_root().join("target/wasm32-unknown-unknown/web-release/web_analysis.wasm");
    let dir = project_root().join("dist/web");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (built, name) in [(&editor, "web"), (&analysis, "analysis")] {
        run(Command::new(&wasm_bindgen)
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                name,
                "--out-dir",
            ])
            .arg(&dir)
            .arg(built))?;
        let bindgen_wasm = dir.join(format!("{name}_bg.wasm"));
        wasm_opt(&bindgen_wasm, &bindgen_wasm)?;
    }
    for file in ["index.html", "style.css"] {
        copy(
            &project_root().join("web/static").join(file),
            &dir.join(file),
        )?;
    }
    // Compressed variants beside each file, for `gaqno-lb serve` to send to clients that
    // accept them: the editor's wasm goes over the wire at ~40 % of its size as gzip, ~33 %
    // as brotli (which browsers take over HTTPS and from localhost). `-n`: no name or time
    // inside, so the same input gives the same bytes.
    for file in WEB_FILES {
        run(Command::new("gzip")
            .args(["-9", "-n", "-k", "-f"])
            .arg(dir.join(file)))?;
    }
    brotli(&dir, &WEB_FILES)?;
    let editor_brotli = std::fs::metadata(dir.join("web_bg.wasm.br"))
        .map_err(|e| format!("web_bg.wasm.br: {e}"))?
        .len();
    if editor_brotli > WEB_EDITOR_BROTLI_BUDGET {
        return Err(format!(
            "the editor's wasm is {editor_brotli} bytes as brotli, over its budget of {WEB_EDITOR_BROTLI_BUDGET}: a slow link's first render would take over 2 s (is the linter, import or label reading called from web/src/app/ rather than through app::analysis?)"
        ));
    }
    Ok(dir)
}

/// Writes `<file>.br` beside each of `files` in `dir`: brotli at its best (quality 11, a
/// 16 MiB window), by Node's zlib (Google's brotli; Node is here for wasm-opt already).
fn brotli(dir: &Path, files: &[&str]) -> Result<(), String> {
    const SCRIPT: &str = r#"
const fs = require("fs"), zlib = require("zlib");
for (const file of process.argv.slice(1)) {
  const input = fs.readFileSync(file);
  fs.writeFileSync(file + ".br", zlib.brotliCompressSync(input, { params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
    [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
    [zlib.constants.BROTLI_PARAM_SIZE_HINT]: input.length,
  } }));
}
"#;
    run(Command::new("node")
        .arg("-e")
        .arg(SCRIPT)
        .args(files.iter().map(|f| dir.join(f))))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_a_modules_initial_memory() {
        // magic, version; a type section (id 1, 4 bytes) to skip; memory section: 1 memory,
        // flags 0, min 200 (LEB128 0xc8 0x01).
        let module = [
            0, b'a', b's', b'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 5, 4, 1, 0, 0xc8, 0x01,
        ];
        assert_eq!(super::initial_memory_pages(&module), Some(200));
        assert_eq!(super::initial_memory_pages(&module[..14]), None);
    }
}
