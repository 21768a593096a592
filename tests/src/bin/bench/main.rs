//! `cargo xtask bench`: gaqno-lb's cost and the web app's figures, measured in one run and
//! written to BENCHMARKS.md. Needs what `cargo xtask test` installs and `dist/plugin/`.
//!
//! A module per figure, each measuring into named structs; `main` runs them all, then
//! writes the report from those structs:
//! - `requests` — Traefik CPU per request (its threads' on-CPU time) and requests/s without
//!   middleware, through an empty http-wasm guest (the host's own price) and through
//!   gaqno-lb: a REST request through the middleware, a polling request carrying a token, the
//!   handshake rewrite; phases interleave so drift hits all three alike;
//! - `heap` — Go heap per held WebSocket, per way it is routed;
//! - `scale`, `soak` — `gaqno-lb check` with 1,000 sessions, and for a minute through a
//!   replica killed and restarted;
//! - `web_app` — the web app's size, first render (also throttled), keystrokes;
//! - here: plugin.wasm's size and memory, and the pure core natively (ns per
//!   `decide::on_request` for a token).
//!
//! The modules share this file's imports and constants (`use super::*`).
//!
//! Loopback only; every loop is bounded in count and time.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use shared::model::{Service, SocketIo};
use shared::traefik::sticky_cookie_value;
use tests::{
    free_port, node, wait_http_ok, BenchSetup, LocalPlugin, TempDir, Traefik, TraefikSetup, WEB,
};

mod heap;
mod machine_code;
mod profile;
mod requests;
mod scale;
mod soak;
mod web_app;

use heap::*;
use machine_code::machine_code_costs;
use profile::*;
use requests::*;
use scale::*;
use soak::*;
use web_app::*;

const VERSION: &str = "3.6.15";
const REQUESTS_PER_PHASE: usize = 3000;
/// One sequential keep-alive connection, as a polling client is: with several, how many
/// requests Traefik finds per wake-up varies from phase to phase and so does its CPU per
/// request (±20 % measured with 4 connections, ±3 % with 1).
const CONNECTIONS: usize = 1;
/// Repetitions of every (request, lane) phase in one run. Single phases swing by tens of
/// percent on this 2-core machine; a phase costs under half a second.
const REPETITIONS: usize = 12;
/// Whole runs, each a fresh Traefik (`GAQNO_LB_BENCH_RUNS` overrides): one Traefik process
/// differs from the next by more than its repetitions differ from each other (two runs of 25
/// repetitions once gave intervals for the same ratio that did not overlap), so verdicts
/// rest on several.
const RUNS: usize = 4;
/// Traefik runs alone on this CPU; the load generator and the backend share the other.
const TRAEFIK_CPU: usize = 1;
const HELD_WEBSOCKETS: usize = 200;

fn main() -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    pin_to_cpu(0)?;
    let binary = tests::traefik_binary(VERSION).context("Traefik (run `cargo xtask test` once)")?;
    let plugin = tests::plugin_dir().context("dist/plugin (run `cargo xtask dist`)")?;
    tests::node_modules().context("node packages (run `cargo xtask test` once)")?;
    let profiles_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-profiles");
    if std::env::args().nth(1).as_deref() == Some("--profile") {
        let profiles = profiles(&binary, &plugin)?;
        print!(
            "{}{}",
            dump(&profiles, &profiles_dir)?,
            attribution(&profiles)
        );
        return Ok(());
    }
    if std::env::args().nth(1).as_deref() == Some("--machine-code") {
        let costs = machine_code_costs(&binary, &plugin, &profiles_dir)?;
        print!("{}", machine_code::report(costs.as_deref()));
        return Ok(());
    }
    if std::env::var_os("GAQNO_LB_BENCH_REQUESTS_ONLY").is_some() {
        print!("{}", requests::report(&request_costs(&binary, &plugin)?));
        return Ok(());
    }
    if std::env::var_os("GAQNO_LB_BENCH_SOAK_ONLY").is_some() {
        let soaks = [
            soak(&binary, &plugin, "3s")?,
            soak(&binary, &plugin, "500ms")?,
        ];
        print!("{}", Soak::report(&soaks));
        return Ok(());
    }
    let mut report = String::new();
    let started = Instant::now();

    let wasm = std::fs::read(plugin.join("plugin.wasm"))?;
    // Read by `cargo xtask bench` from the module it built (and gates at 1).
    let pages: u64 = std::env::var("GAQNO_LB_PLUGIN_PAGES")
        .ok()
        .and_then(|p| p.parse().ok())
        .context("GAQNO_LB_PLUGIN_PAGES (run through `cargo xtask bench`)")?;
    let native = native_decide_ns();

    let web = web_figures()?;
    if std::env::var_os("GAQNO_LB_BENCH_WEB_ONLY").is_some() {
        print!("{}", web.report());
        return Ok(());
    }
    let requests = request_costs(&binary, &plugin)?;
    let profiles = profiles(&binary, &plugin)?;
    let machine_code = machine_code_costs(&binary, &plugin, &profiles_dir)?;
    let heap = heap_per_websocket(&binary, &plugin)?;
    let scale = check_scale(&binary, &plugin)?;
    // GAQNO's health-check timeout, then an aggressive one: the second shows what a timeout
    // shorter than a loaded replica's answer does to the sessions pinned to it.
    let soaks = [
        soak(&binary, &plugin, "3s")?,
        soak(&binary, &plugin, "500ms")?,
    ];

    report.push_str(&format!(
        "# Benchmarks\n\nWritten by `cargo xtask bench` (Traefik {VERSION}, {} cores, {} s). Traefik runs alone on CPU {TRAEFIK_CPU} (`taskset`, `GOMAXPROCS=1`); the load generator and the backend (`tests/node/fake-engine.js`) share the other. Per request: {} runs (each a fresh Traefik with every lane: no middleware, the empty http-wasm guest, the floor of each path, gaqno-lb), in each the lanes of a case measured back to back {REPETITIONS} times, {REQUESTS_PER_PHASE} requests over {CONNECTIONS} sequential keep-alive connection per phase. CPU is Traefik's on-CPU time (all threads) per request; the µs columns are medians over every phase, the ratios medians of the per-repetition ratios with each run's median beside them.\n\n",
        cores,
        started.elapsed().as_secs(),
        requests.rows.first().map_or(0, |r| r.runs.len()),
    ));
    report.push_str(&requests::report(&requests));
    report.push_str(&attribution(&profiles));
    report.push_str(&machine_code::report(machine_code.as_deref()));
    let kib = |bytes: f64| bytes / 1024.0;
    report.push_str(&format!(
        "\n## Size and memory\n\n| what | measured | target |\n|---|---|---|\n| plugin.wasm (after wasm-opt -Oz) | {} bytes ({:.1} KiB) | ≤ 64 KiB (a build over it fails) |\n| initial linear memory | {pages} pages ({} KiB) | 1 page (a build over it fails) |\n| Go heap per held WebSocket, without plugin | {:.1} KiB | |\n| Go heap per held WebSocket, empty guest | {:.1} KiB | |\n| Go heap per held WebSocket-only client through gaqno-lb (the export before its `-socketio-ws` router) | {:.1} KiB | |\n| Go heap per held WebSocket-only client as `gaqno-lb export` routes it now | {:.1} KiB | |\n| through gaqno-lb vs without | {:.2}× | |\n| through gaqno-lb vs empty guest (the host's floor: each held WebSocket keeps one guest instance, whatever the guest) | {:.2}× | ≤ 1.05×: {} |\n| as exported vs without | {:.2}× | |\n",
        wasm.len(),
        wasm.len() as f64 / 1024.0,
        pages * 64,
        kib(heap.without),
        kib(heap.empty_guest),
        kib(heap.through_plugin),
        kib(heap.exported),
        heap.through_plugin / heap.without,
        heap.through_plugin / heap.empty_guest,
        if heap.through_plugin / heap.empty_guest <= 1.05 {
            "met"
        } else {
            "not met"
        },
        heap.exported / heap.without,
    ));
    report.push_str(&format!(
        "\n## The pure core, natively\n\n`plugin::decide::on_request` on a token-carrying polling URI: {native:.0} ns per call (release build).\n\nHeld WebSockets: {HELD_WEBSOCKETS} per variant, Go heap (`go_memstats_heap_inuse_bytes` right after a GC forced through `/debug/pprof/heap?gc=1`) sampled before and while held, median of 3 fresh Traefik processes per variant. The empty guest is `plugin/bench/reference_guest.rs` making no host call.\n"
    ));
    report.push_str(&scale.report());
    report.push_str(&Soak::report(&soaks));
    report.push_str(&web.report());
    let out = tests::project_root().join("BENCHMARKS.md");
    // Sections this does not measure, carried over as they are: the guest's functions and
    // the decisions' figures (by hand) and `cargo xtask fuzz --long`'s.
    let before = std::fs::read_to_string(&out).unwrap_or_default();
    for heading in [
        "\n## Which guest functions the compiled code's time is in\n",
        "\n## Measured decisions\n",
        "\n## Fuzzing\n",
    ] {
        if let Some(at) = before.find(heading) {
            let section = &before[at + 1..];
            let end = section[1..].find("\n## ").map_or(section.len(), |e| e + 2);
            report.push('\n');
            report.push_str(section[..end].trim_end());
            report.push('\n');
        }
    }
    std::fs::write(&out, &report)?;
    print!("{report}");
    eprintln!("written to {}", out.display());
    Ok(())
}

/// Pins this process (and the node processes it starts) to `cpu`, away from Traefik's.
fn pin_to_cpu(cpu: usize) -> anyhow::Result<()> {
    pin_to_cpus(&cpu.to_string())
}

/// Pins this process (and the children it starts from now on) to a `taskset` CPU list.
fn pin_to_cpus(list: &str) -> anyhow::Result<()> {
    let status = std::process::Command::new("taskset")
        .arg("-p")
        .arg("-c")
        .arg(list)
        .arg(std::process::id().to_string())
        .stdout(std::process::Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "taskset failed");
    Ok(())
}

fn native_decide_ns() -> f64 {
    let settings = plugin::config::parse(br#"{"cookieName":"gaqno_chat"}"#).expect("config");
    let uri =
        b"/socket.io/?EIO=4&transport=polling&t=PXa1b2c&sid=Q1x4bUh0bVp5NWcAAAAB~b52e7b55edbbb02e";
    let rounds = 200_000u32;
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(plugin::decide::on_request(
            &settings,
            std::hint::black_box(uri),
            || "GET",
        ));
    }
    started.elapsed().as_nanos() as f64 / f64::from(rounds)
}
