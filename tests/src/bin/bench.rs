//! `cargo xtask bench`: the plugin's cost, measured side by side in one run, written to
//! BENCHMARKS.md. Needs what `cargo xtask test` installs and `dist/plugin/`.
//!
//! - Traefik CPU per request (sum of its threads' on-CPU time, /proc/<pid>/task/*/schedstat)
//!   and requests/s without middleware, through an empty http-wasm guest (the host's own
//!   price) and through gaqno-lb, for a REST request through the middleware, a polling
//!   request carrying a token, and the handshake rewrite. Phases interleave and the median
//!   of each is reported, so drift hits all three alike.
//! - plugin.wasm size and initial linear memory.
//! - Go heap per held WebSocket, same three variants (Traefik's Prometheus metrics).
//! - The pure core natively: ns per `decide::on_request` for a token.
//!
//! Loopback only; every loop is bounded in count and time.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use shared::model::{Service, SocketIo};
use shared::traefik::sticky_cookie_value;
use tests::{free_port, node, wait_http_ok, TempDir, Traefik, TraefikSetup, WEB};

const VERSION: &str = "3.6.15";
const REQUESTS_PER_PHASE: usize = 3000;
/// One sequential keep-alive connection, as a polling client is: with several, how many
/// requests Traefik finds per wake-up varies from phase to phase and so does its CPU per
/// request (±20 % measured with 4 connections, ±3 % with 1).
const CONNECTIONS: usize = 1;
const REPETITIONS: usize = 9;
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
    if let Some(case) = std::env::args()
        .nth(1)
        .filter(|a| a.starts_with("--profile="))
    {
        return profile(&binary, &plugin, &case["--profile=".len()..]);
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
    let heap = heap_per_websocket(&binary, &plugin)?;
    let scale = check_scale(&binary, &plugin)?;
    // GAQNO's health-check timeout, then an aggressive one: the second shows what a timeout
    // shorter than a loaded replica's answer does to the sessions pinned to it.
    let soaks = [
        soak(&binary, &plugin, "3s")?,
        soak(&binary, &plugin, "500ms")?,
    ];

    report.push_str(&format!(
        "# Benchmarks\n\nWritten by `cargo xtask bench` (Traefik {VERSION}, {} cores, {} s). Traefik runs alone on CPU {TRAEFIK_CPU} (`taskset`, `GOMAXPROCS=1`); the load generator and the backend (`tests/node/fake-engine.js`) share the other. All three variants (no middleware, an empty http-wasm guest, gaqno-lb) were measured in the same run on the same Traefik, phases interleaved {REPETITIONS} times, {REQUESTS_PER_PHASE} requests over {CONNECTIONS} sequential keep-alive connection per phase. CPU is Traefik's on-CPU time (all threads) per request; the µs columns are medians over the phases, the ratios are medians of the per-repetition ratios (each repetition measures the variants back to back) with their range over the repetitions in brackets: a target tighter than that range cannot be told apart from noise on this machine.\n\n",
        cores,
        started.elapsed().as_secs()
    ));
    report.push_str("## Traefik CPU per request\n\n| request | without plugin | empty guest | gaqno-lb | empty guest vs without (the host's floor) | gaqno-lb vs without | gaqno-lb vs empty guest | req/s without / empty / gaqno-lb | target (vs without) |\n|---|---|---|---|---|---|---|---|---|\n");
    for row in &requests {
        let [with, without, empty] = &row.phases;
        let (with_m, without_m, empty_m) = (median(with), median(without), median(empty));
        report.push_str(&format!(
            "| {} | {:.1} µs | {:.1} µs | {:.1} µs | {} | {} | {} | {:.0} / {:.0} / {:.0} | {} |\n",
            row.label,
            without_m.cpu_us,
            empty_m.cpu_us,
            with_m.cpu_us,
            paired(empty, without),
            paired(with, without),
            paired(with, empty),
            without_m.rps,
            empty_m.rps,
            with_m.rps,
            row.target
        ));
    }
    report.push_str("\nThe empty guest (`plugin/bench/empty_guest.rs`) is what any http-wasm middleware costs on this host; the column against it is gaqno-lb's own work. `gaqno-lb export` never puts the plugin on REST routes (it gets a router for the Socket.IO path only), so (a) is the cost of a misrouted REST request, not of normal REST traffic.\n");
    let kib = |bytes: f64| bytes / 1024.0;
    report.push_str(&format!(
        "\n## Size and memory\n\n| what | measured | target |\n|---|---|---|\n| plugin.wasm (after wasm-opt -Oz) | {} bytes ({:.1} KiB) | ≤ 64 KiB |\n| initial linear memory | {pages} pages ({} KiB) | 1 page (a build over it fails) |\n| Go heap per held WebSocket, without plugin | {:.1} KiB | |\n| Go heap per held WebSocket, empty guest | {:.1} KiB | |\n| Go heap per held WebSocket-only client through gaqno-lb (the export before its `-socketio-ws` router) | {:.1} KiB | |\n| Go heap per held WebSocket-only client as `gaqno-lb export` routes it now | {:.1} KiB | |\n| through gaqno-lb vs without | {:.2}× | ≤ 1.5× |\n| through gaqno-lb vs empty guest | {:.2}× | |\n| as exported vs without | {:.2}× | |\n",
        wasm.len(),
        wasm.len() as f64 / 1024.0,
        pages * 64,
        kib(heap.without),
        kib(heap.empty_guest),
        kib(heap.through_plugin),
        kib(heap.exported),
        heap.through_plugin / heap.without,
        heap.through_plugin / heap.empty_guest,
        heap.exported / heap.without,
    ));
    report.push_str(&format!(
        "\n## The pure core, natively\n\n`plugin::decide::on_request` on a token-carrying polling URI: {native:.0} ns per call (release build).\n\nHeld WebSockets: {HELD_WEBSOCKETS} per variant, Go heap (`go_memstats_heap_inuse_bytes` right after a GC forced through `/debug/pprof/heap?gc=1`) sampled before and while held, median of 3 fresh Traefik processes per variant. The empty guest is `plugin/bench/empty_guest.rs`.\n"
    ));
    report.push_str(&scale.report());
    report.push_str(&Soak::report(&soaks));
    report.push_str(&web.report());
    let out = tests::project_root().join("BENCHMARKS.md");
    std::fs::write(&out, &report)?;
    print!("{report}");
    eprintln!("written to {}", out.display());
    Ok(())
}

/// The web app's figures (issue 4).
struct WebFigures {
    raw: u64,
    optimized: u64,
    gzipped: u64,
    first_render_cold_ms: f64,
    first_render_warm_ms: Vec<f64>,
    keystroke_ms: Vec<f64>,
    preview_after_typing_ms: f64,
    /// `(bin, bytes, gzipped bytes)` of each size floor (`web/size/`).
    floors: Vec<(String, u64, u64)>,
}

/// What each size floor (`web/size/`, built by `cargo xtask bench` into
/// `dist/bench/web-size/`) holds.
const SIZE_FLOORS: [(&str, &str); 4] = [
    ("size-leptos", "Leptos CSR alone: one signal, one button"),
    ("size-export", "`shared`'s export and YAML writer, no UI"),
    ("size-export-lint", "the same and the linter with its fixes"),
    (
        "size-model",
        "the same and YAML import: all the app takes from `shared`, no UI",
    ),
];

/// `gzip -9`'s output size of `path`.
fn gzipped_len(path: &std::path::Path) -> anyhow::Result<u64> {
    let gzip = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .context("gzip")?;
    anyhow::ensure!(gzip.status.success(), "gzip failed on {}", path.display());
    Ok(gzip.stdout.len() as u64)
}

/// Services in the project the keystroke figure is measured on.
const KEYSTROKE_SERVICES: usize = 100;
const KEYSTROKES: usize = 30;
const WARM_LOADS: usize = 5;

impl WebFigures {
    fn report(&self) -> String {
        let sorted = |v: &[f64]| {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            v
        };
        let warm = sorted(&self.first_render_warm_ms);
        let keys = sorted(&self.keystroke_ms);
        let at = |v: &[f64], q: f64| {
            v.get(((v.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or(f64::NAN)
        };
        format!(
            "\n## The web app\n\nHeadless Chromium (Debian's) through chromedriver, the app served by `gaqno-lb serve` (release), on the load generator's CPU.\n\n| what | measured | target |\n|---|---|---|\n| web.wasm from rustc (opt-level z, LTO) | {} bytes ({:.0} KiB) | |\n| after wasm-bindgen and wasm-opt -Oz (`dist/web/web_bg.wasm`) | {} bytes ({:.0} KiB) | |\n| the same, gzip -9 (what `gaqno-lb serve` sends a browser) | {} bytes ({:.0} KiB) | ≤ 150 KiB |\n| time to first render, fresh profile (fetch, compile, mount the preset) | {:.0} ms | ≤ 1 s |\n| time to first render, cached, median of {WARM_LOADS} reloads | {:.0} ms | ≤ 1 s |\n| time per keystroke with {KEYSTROKE_SERVICES} services, median / 90th percentile / max of {KEYSTROKES} | {:.1} / {:.1} / {:.1} ms | ≤ 16 ms |\n| preview and findings showing the last keystroke, after it | {:.0} ms | |\n\nFirst render is `performance.now()` when the app has mounted (`window.__gaqnoFirstRender`). A keystroke is one `input` event in a service's path prefix field, timed in the page from the event to the next task (so every microtask it queued, Leptos' effects, has run) plus the layout that follows: the model edit and the edited service's fields. The preview and the lint findings follow once typing pauses for 120 ms (`SETTLE_DELAY_MS` in `web/src/app.rs`), so 100 services are not exported, written and linted per keystroke; the last row times that, and the preview is checked to hold the typed text.\n",
            self.raw,
            self.raw as f64 / 1024.0,
            self.optimized,
            self.optimized as f64 / 1024.0,
            self.gzipped,
            self.gzipped as f64 / 1024.0,
            self.first_render_cold_ms,
            at(&warm, 0.5),
            at(&keys, 0.5),
            at(&keys, 0.9),
            at(&keys, 1.0),
            self.preview_after_typing_ms,
        ) + &self.floors_report()
    }

    fn floors_report(&self) -> String {
        let mut out = String::from("\n### Where the size goes\n\nEach part built on its own as the app is (web-release, wasm-bindgen, wasm-opt -Oz; `web/size/`), against the 150 KiB gzipped target:\n\n| part | bytes | gzip -9 | of 150 KiB |\n|---|---|---|---|\n");
        let rows = self.floors.iter().map(|(bin, bytes, gz)| {
            let what = SIZE_FLOORS
                .iter()
                .find(|(b, _)| b == bin)
                .map_or(bin.as_str(), |(_, what)| what);
            (format!("{what} (`{bin}`)"), *bytes, *gz)
        });
        let app = ("the web app".to_owned(), self.optimized, self.gzipped);
        for (what, bytes, gz) in rows.chain([app]) {
            out.push_str(&format!(
                "| {what} | {bytes} | {gz} ({:.0} KiB) | {:.0} % |\n",
                gz as f64 / 1024.0,
                gz as f64 / (150.0 * 1024.0) * 100.0
            ));
        }
        out
    }
}

fn web_figures() -> anyhow::Result<WebFigures> {
    let root = tests::project_root();
    let raw = std::fs::metadata(root.join("target/wasm32-unknown-unknown/web-release/web.wasm"))
        .context("web.wasm (run through `cargo xtask bench`)")?
        .len();
    let optimized_path = root.join("dist/web/web_bg.wasm");
    let optimized = std::fs::metadata(&optimized_path)?.len();
    let gzipped = gzipped_len(&optimized_path)?;
    let mut floors = Vec::new();
    for (bin, _) in SIZE_FLOORS {
        let path = root.join("dist/bench/web-size").join(format!("{bin}.wasm"));
        let bytes = std::fs::metadata(&path)
            .with_context(|| format!("{} (run through `cargo xtask bench`)", path.display()))?
            .len();
        floors.push((bin.to_owned(), bytes, gzipped_len(&path)?));
    }

    let gaqno_lb = std::env::var_os("GAQNO_LB_BIN")
        .map(std::path::PathBuf::from)
        .context("GAQNO_LB_BIN (run through `cargo xtask bench`)")?;
    let (chromium, chromedriver) =
        tests::browser::chromium().context("Chromium (run `cargo xtask test` once)")?;
    let dir = TempDir::new("bench-web")?;
    let (_serve, base) = tests::browser::serve(&gaqno_lb, dir.path())?;
    let (_driver, driver_port) = tests::browser::chromedriver(&chromedriver, dir.path())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = tests::browser::session(
            &chromium,
            driver_port,
            &dir.path().join("profile"),
            &dir.path().join("downloads"),
        )
        .await?;
        let measured = browser_figures(&client, &base).await;
        let _ = client.close().await;
        let (first_render_cold_ms, first_render_warm_ms, keystroke_ms, preview_after_typing_ms) =
            measured?;
        Ok(WebFigures {
            raw,
            optimized,
            gzipped,
            first_render_cold_ms,
            first_render_warm_ms,
            keystroke_ms,
            preview_after_typing_ms,
            floors,
        })
    })
}

/// `window.__gaqnoFirstRender` of the page just loaded, waited for (10 s at most).
async fn first_render(client: &fantoccini::Client) -> anyhow::Result<f64> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let value = client
            .execute("return window.__gaqnoFirstRender ?? null;", vec![])
            .await?;
        if let Some(ms) = value.as_f64() {
            return Ok(ms);
        }
        anyhow::ensure!(Instant::now() < deadline, "the app never rendered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn browser_figures(
    client: &fantoccini::Client,
    base: &str,
) -> anyhow::Result<(f64, Vec<f64>, Vec<f64>, f64)> {
    client.goto(base).await?;
    let cold = first_render(client).await?;
    let mut warm = Vec::new();
    for _ in 0..WARM_LOADS {
        client.refresh().await?;
        warm.push(first_render(client).await?);
    }

    // 100 services, saved where the app autosaves, then loaded.
    let mut project = shared::model::Project::gaqno();
    while project.services.len() < KEYSTROKE_SERVICES {
        project.add_service();
    }
    let saved = shared::yaml::to_string(&project)?;
    client
        .execute(
            "localStorage.setItem(arguments[0], arguments[1]);",
            vec![
                serde_json::json!(web::STORAGE_KEY),
                serde_json::json!(saved),
            ],
        )
        .await?;
    client.refresh().await?;
    first_render(client).await?;
    let field = format!("service-{}-path-prefix", KEYSTROKE_SERVICES / 2);
    let script = r#"
        const [testid, count, done] = arguments;
        const field = document.querySelector(`[data-testid="${testid}"]`);
        const preview = document.querySelector('[data-testid="yaml-preview"]');
        if (!field || !preview) { done({error: 'field or preview missing'}); return; }
        const times = [];
        let text = '/k';
        // The next task, not a timer: Chromium clamps nested timers to 4 ms. A task runs
        // only once every microtask the input queued (Leptos' effects) has run.
        const nextTask = () => new Promise(resolve => {
            const channel = new MessageChannel();
            channel.port1.onmessage = resolve;
            channel.port2.postMessage(0);
        });
        (async () => {
            for (let i = 0; i < count; i++) {
                text += String.fromCharCode(97 + (i % 26));
                const started = performance.now();
                field.value = text;
                field.dispatchEvent(new Event('input', {bubbles: true}));
                await nextTask();
                void document.body.offsetHeight;
                times.push(performance.now() - started);
                await new Promise(resolve => setTimeout(resolve, 10)); // between keys
            }
            // The preview follows after a pause in typing: time it from the last keystroke.
            const last = performance.now();
            const expected = 'PathPrefix(`' + text + '`)';
            while (!preview.textContent.includes(expected) && performance.now() - last < 3000) {
                await new Promise(resolve => setTimeout(resolve, 5));
            }
            done({times, shown: preview.textContent.includes(expected), previewMs: performance.now() - last});
        })();
    "#;
    let result = client
        .execute_async(
            script,
            vec![serde_json::json!(field), serde_json::json!(KEYSTROKES)],
        )
        .await?;
    anyhow::ensure!(
        result["shown"] == serde_json::json!(true),
        "the preview did not follow the keystrokes: {result}"
    );
    let times: Vec<f64> = result["times"]
        .as_array()
        .context("no keystroke times")?
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect();
    anyhow::ensure!(times.len() == KEYSTROKES, "keystrokes missing: {result}");
    let preview_ms = result["previewMs"].as_f64().context("no preview time")?;
    Ok((cold, warm, times, preview_ms))
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

/// What stands in front of the backend.
#[derive(Clone, Copy, PartialEq)]
enum Variant {
    /// No middleware.
    Without,
    /// `plugin/bench/empty_guest.rs`: the http-wasm host's own price.
    EmptyGuest,
    /// gaqno-lb.
    Plugin,
}

impl Variant {
    const ALL: [Variant; 3] = [Variant::Plugin, Variant::Without, Variant::EmptyGuest];

    /// `(REST path prefix, Socket.IO path)` routed to this variant.
    fn paths(self) -> (&'static str, &'static str) {
        match self {
            Variant::Without => ("/without/", "/plain.io/"),
            Variant::EmptyGuest => ("/empty/", "/empty.io/"),
            Variant::Plugin => ("/with/", "/socket.io/"),
        }
    }
}

/// Name of the empty guest as a local plugin, and its middleware.
const EMPTY_GUEST: &str = "empty-guest";

fn empty_guest_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::var_os("GAQNO_LB_EMPTY_GUEST_DIR")
        .map(std::path::PathBuf::from)
        .context("GAQNO_LB_EMPTY_GUEST_DIR (run through `cargo xtask bench`)")?;
    anyhow::ensure!(
        dir.join("plugin.wasm").is_file(),
        "no plugin.wasm in {}",
        dir.display()
    );
    Ok(dir)
}

fn reference_plugin() -> anyhow::Result<Option<(String, String, std::path::PathBuf)>> {
    Ok(Some((
        EMPTY_GUEST.into(),
        "github.com/gaqno/empty-guest".into(),
        empty_guest_dir()?,
    )))
}

/// Puts the empty guest in front of `routers`.
fn add_empty_guest(http: &mut shared::traefik::HttpConfig, routers: &[&str]) {
    let middleware = shared::traefik::Middleware {
        plugin: Some(
            [(EMPTY_GUEST.to_owned(), serde_json::json!({}))]
                .into_iter()
                .collect(),
        ),
        ..Default::default()
    };
    http.middlewares.insert(EMPTY_GUEST.into(), middleware);
    for name in routers {
        if let Some(router) = http.routers.get_mut(*name) {
            router.middlewares = Some(vec![EMPTY_GUEST.into()]);
        }
    }
}

struct Phase {
    cpu_us: f64,
    rps: f64,
}

struct Row {
    label: &'static str,
    target: &'static str,
    /// Per repetition, in [`Variant::ALL`] order: gaqno-lb, without, empty guest.
    phases: [Vec<Phase>; 3],
}

/// `a` over `b`, repetition by repetition: "median % [min … max]".
fn paired(a: &[Phase], b: &[Phase]) -> String {
    let mut ratios: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(a, b)| (a.cpu_us / b.cpu_us - 1.0) * 100.0)
        .collect();
    ratios.sort_by(f64::total_cmp);
    match (ratios.first(), ratios.get(ratios.len() / 2), ratios.last()) {
        (Some(low), Some(mid), Some(high)) => format!("{mid:+.1} % [{low:+.1} … {high:+.1}]"),
        _ => "n/a".into(),
    }
}

/// One service through the plugin and the same one without it, on one fake engine.io backend.
fn bench_config(fake_url: &str) -> String {
    let service = |name: &str, path: &str, plugin: bool| {
        let mut s = Service::new(name, 0, 0);
        s.hosts.clear();
        s.servers = vec![fake_url.to_owned()];
        s.health_check = None;
        s.sticky.secure = false;
        s.path_prefix = Some(format!("/{name}/"));
        s.socket_io = SocketIo {
            enabled: plugin,
            path: path.into(),
            secret: None,
        };
        s
    };
    let mut config = tests::loopback_config(vec![
        service("with", "/socket.io/", true),
        service("without", "/plain.io/", false),
        service("empty", "/empty.io/", false),
    ]);
    let http = config.http.as_mut().expect("http");
    // The REST route of the plugin's service also passes through the middleware: case (a).
    if let Some(router) = http.routers.get_mut("gaqno-with") {
        router.middlewares = Some(vec!["gaqno-with-affinity".into()]);
    }
    // The plain service answers on /plain.io/ as the plugin's does on /socket.io/.
    let plain_router = http
        .routers
        .get("gaqno-with-socketio")
        .cloned()
        .map(|mut r| {
            r.rule = Some("PathPrefix(`/plain.io/`)".into());
            r.middlewares = None;
            r.service = Some("gaqno-without".into());
            r
        });
    if let Some(r) = plain_router.clone() {
        http.routers.insert("gaqno-without-plainio".into(), r);
    }
    // The empty guest's service answers on /empty.io/ and /empty/, through the empty guest.
    if let Some(mut r) = plain_router {
        r.rule = Some("PathPrefix(`/empty.io/`)".into());
        r.service = Some("gaqno-empty".into());
        http.routers.insert("gaqno-empty-emptyio".into(), r);
    }
    add_empty_guest(http, &["gaqno-empty", "gaqno-empty-emptyio"]);
    shared::yaml::to_string(&config).expect("YAML")
}

fn request_costs(binary: &Path, plugin: &Path) -> anyhow::Result<Vec<Row>> {
    let dir = TempDir::new("bench")?;
    let fake_port = free_port()?;
    let _fake = node(
        "fake-engine.js",
        &[fake_port.to_string()],
        dir.path().join("fake.log"),
    )?;
    wait_http_ok(fake_port, "/v1/health", 10)?;
    let fake_url = format!("http://127.0.0.1:{fake_port}");
    let setup = TraefikSetup {
        entry_points: vec![WEB.into()],
        files: vec![("bench.yaml".into(), bench_config(&fake_url))],
        plugin: Some(("gaqno-lb".into(), plugin.to_path_buf())),
        reference_plugin: reference_plugin()?,
        cpu: Some(TRAEFIK_CPU),
        ..TraefikSetup::default()
    };
    let mut traefik = Traefik::start(binary, VERSION, &setup)?;
    match traefik.loaded()? {
        tests::Loaded::Config(raw) => {
            let broken: Vec<_> = tests::file_objects(&raw)
                .into_iter()
                .filter(|o| o.2 != "enabled")
                .collect();
            anyhow::ensure!(
                broken.is_empty(),
                "bench config not loaded: {broken:?}\n{}",
                traefik.log()
            );
        }
        other => anyhow::bail!("Traefik did not load the bench config: {other:?}"),
    }
    let port = traefik.port(WEB).context("web port")?;
    let value = sticky_cookie_value(&fake_url);
    let path = |variant: Variant, case: usize| {
        let (rest, io) = variant.paths();
        match case {
            0 => format!("{rest}users?id=1"),
            1 => format!("{io}?EIO=4&transport=polling&sid=FAKEsid0000000000001~{value}"),
            _ => format!("{io}?EIO=4&transport=polling"),
        }
    };
    let cases = [
        ("(a) REST request through the middleware", "≤ +2 %"),
        ("(b) polling request with a sid token", "≤ +5 %"),
        ("(c) polling handshake (rewritten)", "≤ +5 %"),
    ];
    let mut rows = Vec::new();
    for (case, (label, target)) in cases.into_iter().enumerate() {
        // Warm every path (guest instances, connections) before measuring.
        for variant in Variant::ALL {
            load(port, &path(variant, case), 500)?;
        }
        let mut phases: [Vec<Phase>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..REPETITIONS {
            for (i, variant) in Variant::ALL.into_iter().enumerate() {
                let measured = phase(&traefik, port, &path(variant, case))?;
                eprintln!(
                    "bench: case {case} variant {i}: {:.1} µs/request",
                    measured.cpu_us
                );
                phases[i].push(measured);
            }
        }
        rows.push(Row {
            label,
            target,
            phases,
        });
    }
    drop(traefik);
    Ok(rows)
}

/// `bench --profile=a|b|c`: only gaqno-lb, one case, 20 s of load, with Traefik's pid
/// printed so `perf record -p <pid>` can watch where its CPU goes.
fn profile(binary: &Path, plugin: &Path, case: &str) -> anyhow::Result<()> {
    let dir = TempDir::new("bench-profile")?;
    let fake_port = free_port()?;
    let _fake = node(
        "fake-engine.js",
        &[fake_port.to_string()],
        dir.path().join("fake.log"),
    )?;
    wait_http_ok(fake_port, "/v1/health", 10)?;
    let fake_url = format!("http://127.0.0.1:{fake_port}");
    let setup = TraefikSetup {
        entry_points: vec![WEB.into()],
        files: vec![("bench.yaml".into(), bench_config(&fake_url))],
        plugin: Some(("gaqno-lb".into(), plugin.to_path_buf())),
        reference_plugin: reference_plugin()?,
        cpu: Some(TRAEFIK_CPU),
        pprof: true,
        ..TraefikSetup::default()
    };
    let mut traefik = Traefik::start(binary, VERSION, &setup)?;
    anyhow::ensure!(
        matches!(traefik.loaded()?, tests::Loaded::Config(_)),
        "Traefik did not load"
    );
    let port = traefik.port(WEB).context("web port")?;
    let value = sticky_cookie_value(&fake_url);
    let path = match case {
        "a" => "/with/users?id=1".to_owned(),
        "b" => format!("/socket.io/?EIO=4&transport=polling&sid=FAKEsid0000000000001~{value}"),
        "c" => "/socket.io/?EIO=4&transport=polling".to_owned(),
        other => anyhow::bail!("--profile=a|b|c, not {other}"),
    };
    load(port, &path, 2000)?;
    eprintln!(
        "traefik pid {}; CPU profile: curl -o cpu.pb.gz 'http://127.0.0.1:{}/debug/pprof/profile?seconds=15'; log: {}",
        traefik.pid(),
        traefik.api_port,
        traefik.log_path().display()
    );
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        load(port, &path, 2000)?;
    }
    Ok(())
}

fn median(phases: &[Phase]) -> Phase {
    let mut cpu: Vec<f64> = phases.iter().map(|p| p.cpu_us).collect();
    cpu.sort_by(f64::total_cmp);
    let cpu_us = cpu.get(cpu.len() / 2).copied().unwrap_or(0.0);
    let mut rps: Vec<f64> = phases.iter().map(|p| p.rps).collect();
    rps.sort_by(f64::total_cmp);
    Phase {
        cpu_us,
        rps: rps.get(rps.len() / 2).copied().unwrap_or(0.0),
    }
}

fn phase(traefik: &Traefik, port: u16, path: &str) -> anyhow::Result<Phase> {
    let cpu_before = cpu_ns(traefik.pid())?;
    let started = Instant::now();
    let done = load(port, path, REQUESTS_PER_PHASE)?;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_ns(traefik.pid())?.saturating_sub(cpu_before);
    Ok(Phase {
        cpu_us: cpu as f64 / 1000.0 / done as f64,
        rps: done as f64 / elapsed,
    })
}

/// On-CPU nanoseconds of every thread of `pid`.
fn cpu_ns(pid: u32) -> anyhow::Result<u64> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let schedstat = std::fs::read_to_string(task?.path().join("schedstat")).unwrap_or_default();
        total += schedstat
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Ok(total)
}

/// `count` GETs of `path` over [`CONNECTIONS`] keep-alive connections, 60 s at most;
/// returns how many got a 200.
fn load(port: u16, path: &str, count: usize) -> anyhow::Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let per_connection = count / CONNECTIONS;
    let results: Vec<anyhow::Result<usize>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CONNECTIONS)
            .map(|_| {
                scope.spawn(move || -> anyhow::Result<usize> {
                    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
                    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                    let mut ok = 0;
                    let mut buffer = Vec::with_capacity(4096);
                    for _ in 0..per_connection {
                        if Instant::now() > deadline {
                            break;
                        }
                        stream.write_all(request.as_bytes())?;
                        if read_response(&mut stream, &mut buffer)? == 200 {
                            ok += 1;
                        }
                    }
                    Ok(ok)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("load thread panicked")))
            })
            .collect()
    });
    let mut total = 0;
    for r in results {
        total += r?;
    }
    anyhow::ensure!(
        total == per_connection * CONNECTIONS,
        "only {total} of {count} requests to {path} answered 200"
    );
    Ok(total)
}

/// Reads one HTTP/1.1 response with a Content-Length body; returns its status.
fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> anyhow::Result<u16> {
    buffer.clear();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk)?;
        anyhow::ensure!(n > 0, "connection closed mid-response");
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).to_ascii_lowercase();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("status")?;
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .context("responses must carry Content-Length")?;
    while buffer.len() < header_end + length {
        let n = stream.read(&mut chunk)?;
        anyhow::ensure!(n > 0, "connection closed mid-body");
        buffer.extend_from_slice(&chunk[..n]);
    }
    Ok(status)
}

/// Median Go heap per held WebSocket `(without, gaqno-lb, empty guest)` in bytes.
/// `gaqno-lb check` as a load generator: one process, many concurrent sessions.
struct CheckScale {
    sessions: u64,
    held: u64,
    replicas: usize,
    wall_s: f64,
    /// The check process's own CPU (user + system).
    cpu_s: f64,
}

/// Concurrent sessions `check_scale` opens at once.
const SCALE_SESSIONS: usize = 1000;

impl CheckScale {
    fn report(&self) -> String {
        format!(
            "\n## gaqno-lb check at scale\n\n`gaqno-lb check --transport upgrade --sessions {SCALE_SESSIONS} --concurrency {SCALE_SESSIONS} --rounds 2` (release build, one process, one thread per session, sharing CPU 0 with the three Socket.IO replicas; Traefik with the plugin alone on CPU {TRAEFIK_CPU}): {} of {} polling→WebSocket sessions held on {} replicas, {:.1} s wall, {:.0} sessions/s, {:.2} s of check's own CPU ({:.2} ms per session).\n",
            self.held,
            self.sessions,
            self.replicas,
            self.wall_s,
            self.sessions as f64 / self.wall_s.max(1e-9),
            self.cpu_s,
            1000.0 * self.cpu_s / (self.sessions.max(1) as f64),
        )
    }
}

/// CPU seconds (user + system) of this process's waited-for children, from `/proc/self/stat`
/// (`cutime`, `cstime`: fields 16 and 17, in clock ticks of 1/100 s on Linux).
fn children_cpu_s() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let after_name = stat.rsplit_once(')').context("/proc/self/stat")?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let tick = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i)
            .context("/proc/self/stat fields")?
            .parse::<f64>()?
            / 100.0)
    };
    // After the name, field 3 (state) is index 0: cutime (16) is 13, cstime (17) is 14.
    Ok(tick(13)? + tick(14)?)
}

/// Runs `check` with [`SCALE_SESSIONS`] concurrent upgrade sessions through Traefik and the
/// plugin to three replicas; at most three minutes.
fn check_scale(binary: &Path, plugin: &Path) -> anyhow::Result<CheckScale> {
    let dir = TempDir::new("bench-scale")?;
    let mut replicas = Vec::new();
    let mut servers = Vec::new();
    for i in 0..3 {
        let port = free_port()?;
        replicas.push(node(
            "replica.js",
            &[port.to_string(), format!("scale-{i}"), "4".into()],
            dir.path().join(format!("replica-{i}.log")),
        )?);
        wait_http_ok(port, "/v1/health", 10)?;
        servers.push(format!("http://127.0.0.1:{port}"));
    }
    let mut service = Service::new("scale", 0, 0);
    service.hosts.clear();
    service.servers = servers;
    service.health_check = None;
    service.sticky.secure = false;
    service.set_socket_io(true);
    let config = tests::loopback_config(vec![service]);
    let setup = TraefikSetup {
        entry_points: vec![WEB.into()],
        files: vec![("scale.yaml".into(), shared::yaml::to_string(&config)?)],
        plugin: Some(("gaqno-lb".into(), plugin.to_path_buf())),
        cpu: Some(TRAEFIK_CPU),
        ..TraefikSetup::default()
    };
    let mut traefik = Traefik::start(binary, VERSION, &setup)?;
    anyhow::ensure!(
        matches!(traefik.loaded()?, tests::Loaded::Config(_)),
        "Traefik did not load"
    );
    let url = format!(
        "http://127.0.0.1:{}",
        traefik.port(WEB).context("web port")?
    );
    let cpu_before = children_cpu_s()?;
    let started = Instant::now();
    let args = strings(&[
        "--transport",
        "upgrade",
        "--sessions",
        &SCALE_SESSIONS.to_string(),
        "--concurrency",
        &SCALE_SESSIONS.to_string(),
        "--rounds",
        "2",
        "--timeout",
        "30",
    ]);
    let report = run_check(&url, &args, Duration::from_secs(180))?;
    let wall_s = started.elapsed().as_secs_f64();
    let cpu_s = children_cpu_s()? - cpu_before;
    let mode = &report["modes"][0];
    Ok(CheckScale {
        sessions: mode["sessions"].as_u64().unwrap_or(0),
        held: mode["held"].as_u64().unwrap_or(0),
        replicas: mode["replicas"].as_object().map_or(0, |r| r.len()),
        wall_s,
        cpu_s,
    })
}

/// The soak: long-lived cookie-less sessions while a replica dies and comes back.
struct Soak {
    /// The service's health-check timeout (every second).
    health_timeout: &'static str,
    /// Health checks of live replicas that timed out (Traefik's log): each marked a healthy
    /// replica DOWN, and the balancer then sends its pinned sessions elsewhere.
    live_health_timeouts: usize,
    sessions: u64,
    held: u64,
    broken_on_killed: u64,
    broken_on_surviving: u64,
    /// Broken before a replica was known (a handshake sent to the dead replica).
    unidentified: u64,
    /// How the sessions on the surviving replicas broke: failure → sessions.
    surviving_errors: std::collections::BTreeMap<String, u64>,
    /// Replicas that took sessions in a short check after the restart.
    replicas_after_restart: usize,
    heap_before: f64,
    heap_after: f64,
}

const SOAK_SECONDS: u64 = 60;
const SOAK_SESSIONS: usize = 1000;

impl Soak {
    /// The first soak carries the targets; the others are shown beside it.
    fn report(soaks: &[Soak]) -> String {
        let mut out = format!(
            "\n## Soak: a replica killed and restarted under load\n\n`gaqno-lb check --transport polling --duration {SOAK_SECONDS} --concurrency {SOAK_SESSIONS} --rounds 10 --interval 1000` through Traefik with the plugin to three replicas (health check every second), nothing pinned; the third replica is killed at 20 s and started again at 35 s. The heap is Traefik's live heap (`go_memstats_heap_alloc_bytes` after forced GCs until it stops shrinking: idle guest instances take several), sampled after a 10 s warm-up soak and again after the soak, each time once Traefik's goroutines are back to idle (keep-alive connections to the backends linger for a while).\n\nThe soak runs twice: with GAQNO's health-check timeout (3 s), which the targets apply to, and with 500 ms. A check that times out marks a *live* replica DOWN, and Traefik's balancer then ignores the sticky cookie that names it: every request of the sessions pinned there goes to another replica (\"Session ID unknown\"), with or without the plugin. Under the burst of {SOAK_SESSIONS} handshakes the Node replicas answer `/v1/health` later than 500 ms. A killed replica is seen as fast with either timeout (its port refuses at once). `gaqno-lb lint` warns about health-check timeouts under 2 s on sticky services for this reason.\n\n| what |"
        );
        for soak in soaks {
            out.push_str(&format!(" timeout {} |", soak.health_timeout));
        }
        out.push_str(" target (first column) |\n|---|");
        for _ in soaks {
            out.push_str("---|");
        }
        out.push_str("---|\n");
        let mut row = |what: &str, cell: &dyn Fn(&Soak) -> String, target: &str| {
            out.push_str(&format!("| {what} |"));
            for soak in soaks {
                out.push_str(&format!(" {} |", cell(soak)));
            }
            out.push_str(&format!(" {target} |\n"));
        };
        row(
            &format!("sessions (each about 10 s, {SOAK_SESSIONS} at a time)"),
            &|s| format!("{} ({} held)", s.sessions, s.held),
            "",
        );
        row(
            "broken on the surviving replicas",
            &|s| s.broken_on_surviving.to_string(),
            "0",
        );
        row(
            "how those broke",
            &|s| {
                let kinds: Vec<String> = s
                    .surviving_errors
                    .iter()
                    .map(|(e, n)| format!("{e}: {n}"))
                    .collect();
                if kinds.is_empty() {
                    "-".into()
                } else {
                    kinds.join(", ")
                }
            },
            "",
        );
        row(
            "broken on the killed replica",
            &|s| s.broken_on_killed.to_string(),
            "",
        );
        row(
            "broken before a replica answered (handshakes sent to the dead replica before the health check saw it)",
            &|s| s.unidentified.to_string(),
            "",
        );
        row(
            "health checks of live replicas that timed out (Traefik's log)",
            &|s| s.live_health_timeouts.to_string(),
            "",
        );
        row(
            "replicas taking new sessions after the restart (a short check)",
            &|s| s.replicas_after_restart.to_string(),
            "3",
        );
        row(
            "Traefik's live heap after the soak vs after the warm-up",
            &|s| {
                format!(
                    "{:.1} MiB vs {:.1} MiB ({:+.1} %)",
                    s.heap_after / 1_048_576.0,
                    s.heap_before / 1_048_576.0,
                    100.0 * (s.heap_after / s.heap_before.max(1.0) - 1.0)
                )
            },
            "at most +10 %",
        );
        out.push_str("\nA session answered by two replicas cannot pass unseen: the second replica answers \"Session ID unknown\", and the session counts as broken.\n");
        out
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// Runs `gaqno-lb check <url> --format json <args>` to its end (killed after `limit`);
/// returns its report.
fn run_check(url: &str, args: &[String], limit: Duration) -> anyhow::Result<serde_json::Value> {
    let gaqno_lb = std::env::var_os("GAQNO_LB_BIN")
        .map(std::path::PathBuf::from)
        .context("GAQNO_LB_BIN (run through `cargo xtask bench`)")?;
    let mut child = std::process::Command::new(&gaqno_lb)
        .args(["check", url, "--format", "json"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    // Read while waiting: a large report must not block the child on a full pipe.
    let mut stdout = child.stdout.take().context("check's stdout")?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + limit;
    while child.try_wait()?.is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!("check did not finish within {} s", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = reader
        .join()
        .map_err(|_| anyhow::anyhow!("reading check's output"))?;
    serde_json::from_slice(&out).context("check's JSON report")
}

/// A number from Traefik's `/metrics`.
fn metric(api_port: u16, name: &str) -> anyhow::Result<f64> {
    let (_, metrics) = tests::http_get(api_port, "/metrics")?;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no {name} in /metrics"))
}

/// Traefik's live heap (bytes allocated after GC) once the load has drained: its goroutines
/// back near `idle` (idle keep-alive connections to the backends close after a while; at
/// most two minutes), then forced GCs until it stops shrinking.
fn drained_heap(api_port: u16, idle: f64) -> anyhow::Result<f64> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while metric(api_port, "go_goroutines")? > idle + 8.0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1));
    }
    // Forced GCs until the live heap stops shrinking: an idle guest instance leaves the
    // `sync.Pool` over two GCs, then its wazero module is closed by a finalizer and freed
    // by a later GC (seen in heap profiles: 43 MiB of guest memories still live after two
    // GCs, gone after a few more). Live bytes rather than in-use spans: spans half full of
    // freed objects stay in use after a GC and would read as growth.
    let mut last = f64::MAX;
    for _ in 0..10 {
        live_heap(api_port)?;
        std::thread::sleep(Duration::from_millis(300));
        let now = metric(api_port, "go_memstats_heap_alloc_bytes")?;
        if now > last * 0.99 {
            return Ok(now.min(last));
        }
        last = now;
    }
    Ok(last)
}

fn soak(binary: &Path, plugin: &Path, health_timeout: &'static str) -> anyhow::Result<Soak> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    pin_to_cpus(&format!("0-{}", cores.saturating_sub(1)))?;
    let result = soak_unpinned(binary, plugin, health_timeout);
    pin_to_cpu(0)?;
    result
}

fn soak_unpinned(
    binary: &Path,
    plugin: &Path,
    health_timeout: &'static str,
) -> anyhow::Result<Soak> {
    let dir = TempDir::new("bench-soak")?;
    let start_replica = |i: usize, port: u16, run: &str| {
        node(
            "replica.js",
            &[port.to_string(), format!("soak-{i}"), "4".into()],
            dir.path().join(format!("replica-{i}-{run}.log")),
        )
    };
    let mut replicas = Vec::new();
    let mut servers = Vec::new();
    let mut ports = Vec::new();
    for i in 0..3 {
        let port = free_port()?;
        replicas.push(start_replica(i, port, "first")?);
        wait_http_ok(port, "/v1/health", 10)?;
        servers.push(format!("http://127.0.0.1:{port}"));
        ports.push(port);
    }
    let mut service = Service::new("soak", 0, 0);
    service.hosts.clear();
    service.servers = servers.clone();
    service.health_check = Some(shared::model::HealthCheck {
        interval: Some(shared::traefik::GoDuration::new("1s")),
        timeout: Some(shared::traefik::GoDuration::new(health_timeout)),
        ..shared::model::HealthCheck::gaqno()
    });
    service.sticky.secure = false;
    service.set_socket_io(true);
    let config = tests::loopback_config(vec![service]);
    let setup = TraefikSetup {
        entry_points: vec![WEB.into()],
        files: vec![("soak.yaml".into(), shared::yaml::to_string(&config)?)],
        plugin: Some(("gaqno-lb".into(), plugin.to_path_buf())),
        metrics: true,
        pprof: true,
        // The soak is about the whole system under load, not per-request cost: nothing is
        // pinned (check's 1,000 threads and the replicas starved on one core otherwise).
        cpu: None,
        ..TraefikSetup::default()
    };
    let mut traefik = Traefik::start(binary, VERSION, &setup)?;
    anyhow::ensure!(
        matches!(traefik.loaded()?, tests::Loaded::Config(_)),
        "Traefik did not load"
    );
    std::thread::sleep(Duration::from_millis(1500));
    let url = format!(
        "http://127.0.0.1:{}",
        traefik.port(WEB).context("web port")?
    );
    // Warm-up: Go's caches and pools grow once to their size under this load (measured: a
    // second identical soak adds nothing), so "before" is taken after a short one, once
    // the connections it left have closed.
    let idle_goroutines = metric(traefik.api_port, "go_goroutines")?;
    let warm_up = strings(&[
        "--transport",
        "polling",
        "--duration",
        "10",
        "--concurrency",
        &SOAK_SESSIONS.to_string(),
        "--rounds",
        "5",
        "--interval",
        "1000",
    ]);
    run_check(&url, &warm_up, Duration::from_secs(120))?;
    let heap_before = drained_heap(traefik.api_port, idle_goroutines)?;
    let args = strings(&[
        "--transport",
        "polling",
        "--duration",
        &SOAK_SECONDS.to_string(),
        "--concurrency",
        &SOAK_SESSIONS.to_string(),
        "--rounds",
        "10",
        "--interval",
        "1000",
        "--timeout",
        "10",
    ]);
    let soak_url = url.clone();
    let run = std::thread::spawn(move || {
        run_check(&soak_url, &args, Duration::from_secs(SOAK_SECONDS + 120))
    });
    std::thread::sleep(Duration::from_secs(20));
    replicas[2].kill();
    std::thread::sleep(Duration::from_secs(15));
    replicas[2] = start_replica(2, ports[2], "restarted")?;
    let report = run
        .join()
        .map_err(|_| anyhow::anyhow!("the soak's check panicked"))??;
    let heap_after = drained_heap(traefik.api_port, idle_goroutines)?;
    let after = strings(&[
        "--transport",
        "polling",
        "--sessions",
        "60",
        "--concurrency",
        "20",
    ]);
    let after = run_check(&url, &after, Duration::from_secs(60))?;
    let killed = sticky_cookie_value(&servers[2]);
    let mode = &report["modes"][0];
    let (mut broken_on_killed, mut broken_on_surviving) = (0, 0);
    let mut surviving_errors = std::collections::BTreeMap::new();
    for (value, errors) in mode["errors_by_replica"].as_object().into_iter().flatten() {
        if *value == killed {
            continue;
        }
        for (error, n) in errors.as_object().into_iter().flatten() {
            *surviving_errors.entry(error.clone()).or_insert(0) += n.as_u64().unwrap_or(0);
        }
    }
    for (value, n) in mode["broken_by_replica"].as_object().into_iter().flatten() {
        let n = n.as_u64().unwrap_or(0);
        if *value == killed {
            broken_on_killed += n;
        } else {
            broken_on_surviving += n;
        }
    }
    let sessions = mode["sessions"].as_u64().unwrap_or(0);
    let held = mode["held"].as_u64().unwrap_or(0);
    let killed_url = &servers[2];
    let live_health_timeouts = traefik
        .log()
        .lines()
        .filter(|l| {
            l.contains("Health check failed")
                && l.contains("deadline exceeded")
                && !l.contains(&format!("targetURL={killed_url}"))
        })
        .count();
    Ok(Soak {
        health_timeout,
        live_health_timeouts,
        sessions,
        held,
        broken_on_killed,
        broken_on_surviving,
        unidentified: (sessions - held).saturating_sub(broken_on_killed + broken_on_surviving),
        surviving_errors,
        replicas_after_restart: after["modes"][0]["replicas"]
            .as_object()
            .map_or(0, |r| r.len()),
        heap_before,
        heap_after,
    })
}

/// Go heap per held WebSocket-only Socket.IO connection, in bytes, per way it is routed.
struct HeapPerWebSocket {
    without: f64,
    empty_guest: f64,
    /// Through the plugin: the export without its `-socketio-ws` router (before issue 10).
    through_plugin: f64,
    /// As `gaqno-lb export` routes it: around the plugin.
    exported: f64,
}

/// The routings [`heap_per_websocket`] compares.
#[derive(Clone, Copy, PartialEq)]
enum HeapCase {
    Without,
    EmptyGuest,
    ThroughPlugin,
    Exported,
}

fn heap_per_websocket(binary: &Path, plugin: &Path) -> anyhow::Result<HeapPerWebSocket> {
    const CASES: [HeapCase; 4] = [
        HeapCase::ThroughPlugin,
        HeapCase::Exported,
        HeapCase::Without,
        HeapCase::EmptyGuest,
    ];
    let dir = TempDir::new("bench-ws")?;
    let mut results: [Vec<f64>; 4] = Default::default();
    for round in 0..3 {
        for (c, case) in CASES.into_iter().enumerate() {
            let variant = match case {
                HeapCase::Without => Variant::Without,
                HeapCase::EmptyGuest => Variant::EmptyGuest,
                HeapCase::ThroughPlugin | HeapCase::Exported => Variant::Plugin,
            };
            let port = free_port()?;
            let io_path = variant.paths().1;
            let log_name = format!("{round}-{c}");
            let args = vec![
                port.to_string(),
                format!("ws-{round}"),
                "4".into(),
                io_path.into(),
            ];
            let _replica = node(
                "replica.js",
                &args,
                dir.path().join(format!("replica-{log_name}.log")),
            )?;
            wait_http_ok(port, "/v1/health", 10)?;
            let mut service = Service::new("ws", 0, 0);
            service.hosts.clear();
            service.servers = vec![format!("http://127.0.0.1:{port}")];
            service.health_check = None;
            service.socket_io = SocketIo {
                enabled: variant == Variant::Plugin,
                path: io_path.into(),
                secret: None,
            };
            let mut config = tests::loopback_config(vec![service]);
            if let Some(http) = config.http.as_mut() {
                match case {
                    HeapCase::EmptyGuest => add_empty_guest(http, &["gaqno-ws"]),
                    HeapCase::ThroughPlugin => {
                        anyhow::ensure!(
                            http.routers.shift_remove("gaqno-ws-socketio-ws").is_some(),
                            "the export has no WebSocket-only router"
                        );
                    }
                    HeapCase::Without | HeapCase::Exported => {}
                }
            }
            let setup = TraefikSetup {
                entry_points: vec![WEB.into()],
                files: vec![("ws.yaml".into(), shared::yaml::to_string(&config)?)],
                plugin: Some(("gaqno-lb".into(), plugin.to_path_buf())),
                reference_plugin: reference_plugin()?,
                metrics: true,
                // For `/debug/pprof/heap?gc=1`: see `live_heap`.
                pprof: true,
                cpu: Some(TRAEFIK_CPU),
                ..TraefikSetup::default()
            };
            let mut traefik = Traefik::start(binary, VERSION, &setup)?;
            anyhow::ensure!(
                matches!(traefik.loaded()?, tests::Loaded::Config(_)),
                "Traefik did not load"
            );
            let web = traefik.port(WEB).context("web port")?;
            std::thread::sleep(Duration::from_millis(1500));
            let before = live_heap(traefik.api_port)?;
            let hold_log = dir.path().join(format!("hold-{log_name}.log"));
            let hold_args = vec![
                format!("http://127.0.0.1:{web}"),
                io_path.into(),
                HELD_WEBSOCKETS.to_string(),
                "6000".into(),
            ];
            let _holder = node("hold-ws.js", &hold_args, hold_log.clone())?;
            std::thread::sleep(Duration::from_millis(4000));
            let held = live_heap(traefik.api_port)?;
            let log = std::fs::read_to_string(&hold_log).unwrap_or_default();
            anyhow::ensure!(
                log.contains(&format!("connected {HELD_WEBSOCKETS}")),
                "not every WebSocket connected: {log}"
            );
            results[c].push((held - before) / HELD_WEBSOCKETS as f64);
        }
    }
    let [through_plugin, exported, without, empty_guest] = results.map(|mut v| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    });
    Ok(HeapPerWebSocket {
        without,
        empty_guest,
        through_plugin,
        exported,
    })
}

/// Go's in-use heap right after a garbage collection: live memory, not live memory plus
/// whatever garbage the last GC cycle left (that made the per-WebSocket figure swing by a
/// third between runs). Go's heap profile endpoint collects first when asked `gc=1`.
fn live_heap(api_port: u16) -> anyhow::Result<f64> {
    let (status, _) = tests::http_get(api_port, "/debug/pprof/heap?gc=1")?;
    anyhow::ensure!(status == 200, "/debug/pprof/heap answered {status}");
    heap_inuse(api_port)
}

fn heap_inuse(api_port: u16) -> anyhow::Result<f64> {
    let (_, metrics) = tests::http_get(api_port, "/metrics")?;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("go_memstats_heap_inuse_bytes "))
        .and_then(|v| v.trim().parse().ok())
        .context("no go_memstats_heap_inuse_bytes in /metrics")
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
