//! The web app (`## The web app`): its size and where the size goes, first render (on this
//! machine's loopback and through chromedriver's network throttling), keystrokes with 100
//! services and how soon the preview and the diagram follow. Measured first into the
//! structs below, written out by [`WebFigures::report`].

use super::*;

/// The web app's figures.
pub(crate) struct WebFigures {
    pub(crate) sizes: WasmSizes,
    /// Each size floor (`web/size/`), in [`SIZE_FLOORS`] order.
    pub(crate) floors: Vec<SizeFloor>,
    pub(crate) loads: FirstRenders,
    pub(crate) typing: Typing,
}

/// The web app's two wasm modules (the editor, drawn first; the checks, fetched after).
pub(crate) struct WasmSizes {
    /// The editor's, from rustc (opt-level z, LTO).
    pub(crate) raw: u64,
    pub(crate) editor: Compressed,
    pub(crate) checks: Compressed,
    /// What a browser fetches before the first render (index.html, style.css, web.js,
    /// web_bg.wasm), as `gaqno-lb serve` sends them to a browser: brotli.
    pub(crate) before_first_render: u64,
}

/// A file of `dist/web/` and the variants `gaqno-lb serve` sends.
pub(crate) struct Compressed {
    /// After wasm-bindgen and wasm-opt -Oz.
    pub(crate) bytes: u64,
    /// `.gz` (gzip -9): for clients that do not take brotli.
    pub(crate) gzip: u64,
    /// `.br` (brotli 11): what browsers get over HTTPS and from localhost.
    pub(crate) brotli: u64,
}

impl Compressed {
    fn of(dir: &std::path::Path, file: &str) -> anyhow::Result<Compressed> {
        let len = |name: String| {
            std::fs::metadata(dir.join(&name))
                .map(|m| m.len())
                .with_context(|| format!("dist/web/{name} (run through `cargo xtask bench`)"))
        };
        Ok(Compressed {
            bytes: len(file.to_owned())?,
            gzip: len(format!("{file}.gz"))?,
            brotli: len(format!("{file}.br"))?,
        })
    }
}

/// A part of the app built on its own, as the app is.
pub(crate) struct SizeFloor {
    pub(crate) bin: &'static str,
    pub(crate) what: &'static str,
    pub(crate) bytes: u64,
    pub(crate) gzipped: u64,
}

/// Time to first render (`window.__gaqnoFirstRender`), in ms.
pub(crate) struct FirstRenders {
    /// Fresh profile, loopback.
    pub(crate) cold_ms: f64,
    /// Cached, loopback, one per reload.
    pub(crate) warm_ms: Vec<f64>,
    /// Fresh profile each, through throttled networks.
    pub(crate) throttled: Vec<ThrottledRenders>,
}

/// First renders through one throttled network, each in a fresh browser profile.
pub(crate) struct ThrottledRenders {
    pub(crate) network: Network,
    pub(crate) ms: Vec<f64>,
    /// When the checks module had loaded (`window.__gaqnoChecksReady`), same loads.
    pub(crate) checks_ms: Vec<f64>,
}

/// A network chromedriver emulates.
#[derive(Clone, Copy)]
pub(crate) struct Network {
    pub(crate) name: &'static str,
    pub(crate) kbit_per_s: u64,
    pub(crate) rtt_ms: u64,
    /// The first-render target on it.
    pub(crate) target_ms: f64,
}

/// The networks of the first-render targets.
pub(crate) const NETWORKS: [Network; 2] = [
    Network {
        name: "10 Mbit/s, 40 ms RTT",
        kbit_per_s: 10_000,
        rtt_ms: 40,
        target_ms: 1000.0,
    },
    Network {
        name: "1.6 Mbit/s, 150 ms RTT",
        kbit_per_s: 1_600,
        rtt_ms: 150,
        target_ms: 2000.0,
    },
];

/// Typing in one service's field of a 100-service project.
pub(crate) struct Typing {
    /// Each keystroke: the input event to the next task, plus the layout after it.
    pub(crate) keystroke_ms: Vec<f64>,
    /// From the last keystroke until the preview shows it.
    pub(crate) preview_after_ms: f64,
    /// From the last keystroke until the edited service's diagram shows it.
    pub(crate) diagram_after_ms: f64,
}

/// What each size floor (`web/size/`, built by `cargo xtask bench` into
/// `dist/bench/web-size/`) holds.
pub(crate) const SIZE_FLOORS: [(&str, &str); 4] = [
    ("size-leptos", "Leptos CSR alone: one signal, one button"),
    ("size-export", "`shared`'s export and YAML writer, no UI"),
    ("size-export-lint", "the same and the linter with its fixes"),
    (
        "size-model",
        "the same and YAML import: all the app takes from `shared`, no UI",
    ),
];

/// `gzip -9`'s output size of `path`.
pub(crate) fn gzipped_len(path: &std::path::Path) -> anyhow::Result<u64> {
    let gzip = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .context("gzip")?;
    anyhow::ensure!(gzip.status.success(), "gzip failed on {}", path.display());
    Ok(gzip.stdout.len() as u64)
}

/// Services in the project the keystroke figure is measured on.
pub(crate) const KEYSTROKE_SERVICES: usize = 100;
pub(crate) const KEYSTROKES: usize = 30;
pub(crate) const WARM_LOADS: usize = 5;
/// Fresh-profile loads per throttled network.
pub(crate) const THROTTLED_LOADS: usize = 3;

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// The value at quantile `q` of sorted `v`.
fn at(v: &[f64], q: f64) -> f64 {
    v.get(((v.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "not met"
    }
}

impl WebFigures {
    pub(crate) fn report(&self) -> String {
        let kib = |b: u64| b as f64 / 1024.0;
        let WasmSizes {
            raw,
            ref editor,
            ref checks,
            before_first_render,
        } = self.sizes;
        let warm = sorted(&self.loads.warm_ms);
        let keys = sorted(&self.typing.keystroke_ms);
        let mut out = format!(
            "\n## The web app\n\nHeadless Chromium (Debian's) through chromedriver, the app served by `gaqno-lb serve` (release), on the load generator's CPU. The app is two wasm modules: the editor (`web_bg.wasm`, drawn first) and the checks (`analysis_bg.wasm`: lint, fixes, import, labels), fetched once the editor is drawn.\n\n| what | measured | target |\n|---|---|---|\n| the editor's web.wasm from rustc (opt-level z, LTO) | {raw} bytes ({:.0} KiB) | |\n| after wasm-bindgen and wasm-opt -Oz (`dist/web/web_bg.wasm`) | {} bytes ({:.0} KiB) | |\n| the same, gzip -9 / brotli 11 (`gaqno-lb serve` sends browsers brotli) | {} / {} bytes ({:.0} / {:.0} KiB) | ≤ 150 KiB: {}; ≤ 256 KiB brotli, a build gate (`xtask/src/build.rs`) |\n| the checks module, `analysis_bg.wasm`: bytes, gzip, brotli | {} / {} / {} bytes ({:.0} KiB brotli) | after the first render |\n| everything fetched before the first render (HTML, CSS, JS, the editor's wasm), brotli | {before_first_render} bytes ({:.0} KiB) | |\n| time to first render, fresh profile, loopback (fetch, compile, mount the preset) | {:.0} ms | ≤ 1 s: {} |\n| time to first render, cached, median of {WARM_LOADS} reloads | {:.0} ms | ≤ 1 s: {} |\n",
            kib(raw),
            editor.bytes,
            kib(editor.bytes),
            editor.gzip,
            editor.brotli,
            kib(editor.gzip),
            kib(editor.brotli),
            verdict(kib(editor.brotli) <= 150.0),
            checks.bytes,
            checks.gzip,
            checks.brotli,
            kib(checks.brotli),
            kib(before_first_render),
            self.loads.cold_ms,
            verdict(self.loads.cold_ms <= 1000.0),
            at(&warm, 0.5),
            verdict(at(&warm, 0.5) <= 1000.0),
        );
        for throttled in &self.loads.throttled {
            let ms = sorted(&throttled.ms);
            let network = throttled.network;
            out.push_str(&format!(
                "| time to first render, fresh profile, {}: median [min … max] of {} | {:.0} ms [{:.0} … {:.0}] | ≤ {:.1} s: {} |\n",
                network.name,
                ms.len(),
                at(&ms, 0.5),
                at(&ms, 0.0),
                at(&ms, 1.0),
                network.target_ms / 1000.0,
                verdict(at(&ms, 0.5) <= network.target_ms),
            ));
            let checks = sorted(&throttled.checks_ms);
            out.push_str(&format!(
                "| the checks loaded (findings follow), same loads: median [min … max] | {:.0} ms [{:.0} … {:.0}] | |\n",
                at(&checks, 0.5),
                at(&checks, 0.0),
                at(&checks, 1.0),
            ));
        }
        out.push_str(&format!(
            "| time per keystroke with {KEYSTROKE_SERVICES} services, median / 90th percentile / max of {KEYSTROKES} | {:.1} / {:.1} / {:.1} ms | 90th ≤ 16 ms: {} |\n| preview and findings showing the last keystroke, after it | {:.0} ms | |\n| the edited service's diagram showing it, after it | {:.0} ms | with the preview (the same settle, {} ms after the last key), a frame at most behind: {} |\n",
            at(&keys, 0.5),
            at(&keys, 0.9),
            at(&keys, 1.0),
            verdict(at(&keys, 0.9) <= 16.0),
            self.typing.preview_after_ms,
            self.typing.diagram_after_ms,
            SETTLE_DELAY_MS,
            verdict(self.typing.diagram_after_ms <= self.typing.preview_after_ms + 16.0),
        ));
        out.push_str(&format!("\nFirst render is `performance.now()` when the app has mounted (`window.__gaqnoFirstRender`), from navigation start; the checks loaded is the same when the second module has been fetched and instantiated (`window.__gaqnoChecksReady`). Throttled loads use chromedriver's network conditions (latency per request, download and upload throughput), each in a new browser profile so nothing is cached. A keystroke is one `input` event in the path prefix field of service {} (opened from the list first), timed in the page from the event to the next task (so every microtask it queued, Leptos' effects, has run) plus the layout that follows: the model edit, the open service's fields and the list's row. The preview, the lint findings and the open service's diagram follow once typing pauses for {SETTLE_DELAY_MS} ms (`SETTLE_DELAY_MS` in `web/src/app/mod.rs`), so 100 services are not exported, written and linted per keystroke; the last rows time that (both include exporting and linting 100 services after the delay), and the preview and diagram are checked to hold the typed text.\n", KEYSTROKE_SERVICES / 2));
        out + &self.floors_report()
    }

    fn floors_report(&self) -> String {
        let mut out = String::from("\n### Where the size goes\n\nEach part built on its own as the app is (web-release, wasm-bindgen, wasm-opt -Oz; `web/size/`), against the 150 KiB gzipped target:\n\n| part | bytes | gzip -9 | of 150 KiB |\n|---|---|---|---|\n");
        let rows = self
            .floors
            .iter()
            .map(|f| (format!("{} (`{}`)", f.what, f.bin), f.bytes, f.gzipped));
        let app = [
            (
                "the editor's module, drawn first (`web_bg.wasm`)".to_owned(),
                self.sizes.editor.bytes,
                self.sizes.editor.gzip,
            ),
            (
                "the checks module, fetched after (`analysis_bg.wasm`)".to_owned(),
                self.sizes.checks.bytes,
                self.sizes.checks.gzip,
            ),
        ];
        for (what, bytes, gz) in rows.chain(app) {
            out.push_str(&format!(
                "| {what} | {bytes} | {gz} ({:.0} KiB) | {:.0} % |\n",
                gz as f64 / 1024.0,
                gz as f64 / (150.0 * 1024.0) * 100.0
            ));
        }
        out
    }
}

/// The web app's settle delay (`SETTLE_DELAY_MS` in `web/src/app/mod.rs`, wasm only).
const SETTLE_DELAY_MS: u64 = 120;

pub(crate) fn web_figures() -> anyhow::Result<WebFigures> {
    let root = tests::project_root();
    let raw = std::fs::metadata(root.join("target/wasm32-unknown-unknown/web-release/web.wasm"))
        .context("web.wasm (run through `cargo xtask bench`)")?
        .len();
    let dist = root.join("dist/web");
    let mut before_first_render = 0;
    for file in ["index.html", "style.css", "web.js", "web_bg.wasm"] {
        before_first_render += Compressed::of(&dist, file)?.brotli;
    }
    let sizes = WasmSizes {
        raw,
        editor: Compressed::of(&dist, "web_bg.wasm")?,
        checks: Compressed::of(&dist, "analysis_bg.wasm")?,
        before_first_render,
    };
    let mut floors = Vec::new();
    for (bin, what) in SIZE_FLOORS {
        let path = root.join("dist/bench/web-size").join(format!("{bin}.wasm"));
        let bytes = std::fs::metadata(&path)
            .with_context(|| format!("{} (run through `cargo xtask bench`)", path.display()))?
            .len();
        floors.push(SizeFloor {
            bin,
            what,
            bytes,
            gzipped: gzipped_len(&path)?,
        });
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
        let session = |name: String| {
            let profile = dir.path().join(name);
            let downloads = dir.path().join("downloads");
            let chromium = chromium.clone();
            async move {
                tests::browser::session(&chromium, driver_port, &profile, &downloads).await
            }
        };
        let client = session("profile".into()).await?;
        let measured = async {
            let (cold_ms, warm_ms) = loopback_renders(&client, &base).await?;
            let typing = typing(&client).await?;
            anyhow::Ok((cold_ms, warm_ms, typing))
        }
        .await;
        let _ = client.close().await;
        let (cold_ms, warm_ms, typing) = measured?;
        let mut throttled = Vec::new();
        for (n, network) in NETWORKS.into_iter().enumerate() {
            let (mut ms, mut checks_ms) = (Vec::new(), Vec::new());
            for load in 0..THROTTLED_LOADS {
                let client = session(format!("profile-{n}-{load}")).await?;
                let measured = throttled_render(&client, driver_port, network, &base).await;
                let _ = client.close().await;
                let (render, checks) = measured?;
                ms.push(render);
                checks_ms.push(checks);
            }
            throttled.push(ThrottledRenders {
                network,
                ms,
                checks_ms,
            });
        }
        Ok(WebFigures {
            sizes,
            floors,
            loads: FirstRenders {
                cold_ms,
                warm_ms,
                throttled,
            },
            typing,
        })
    })
}

/// `window.__gaqnoFirstRender` of the page just loaded, waited for (30 s at most: a
/// throttled load takes seconds).
pub(crate) async fn first_render(client: &fantoccini::Client) -> anyhow::Result<f64> {
    mark(client, "__gaqnoFirstRender").await
}

/// `window[name]`, a time the app marks (`browser::mark_time`), waited for (30 s at most).
async fn mark(client: &fantoccini::Client, name: &str) -> anyhow::Result<f64> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let value = client
            .execute(
                "return window[arguments[0]] ?? null;",
                vec![serde_json::json!(name)],
            )
            .await?;
        if let Some(ms) = value.as_f64() {
            return Ok(ms);
        }
        anyhow::ensure!(Instant::now() < deadline, "the app never set {name}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// First render with a fresh profile, then `WARM_LOADS` cached reloads.
async fn loopback_renders(
    client: &fantoccini::Client,
    base: &str,
) -> anyhow::Result<(f64, Vec<f64>)> {
    client.goto(base).await?;
    let cold = first_render(client).await?;
    let mut warm = Vec::new();
    for _ in 0..WARM_LOADS {
        client.refresh().await?;
        warm.push(first_render(client).await?);
    }
    Ok((cold, warm))
}

/// First render in `client` (a fresh profile) through `network`, set with chromedriver's
/// `chromium/network_conditions` command; then when the checks module had loaded.
async fn throttled_render(
    client: &fantoccini::Client,
    driver_port: u16,
    network: Network,
    base: &str,
) -> anyhow::Result<(f64, f64)> {
    let bytes_per_s = network.kbit_per_s * 1000 / 8;
    tests::browser::chromedriver_command(
        client,
        driver_port,
        "chromium/network_conditions",
        serde_json::json!({
            "network_conditions": {
                "offline": false,
                "latency": network.rtt_ms,
                "download_throughput": bytes_per_s,
                "upload_throughput": bytes_per_s,
            }
        }),
    )
    .await?;
    client.goto(base).await?;
    let render = first_render(client).await?;
    Ok((render, mark(client, "__gaqnoChecksReady").await?))
}

/// Keystrokes in service 50's path prefix with 100 services, then how soon the preview and
/// the diagram show the typed text.
async fn typing(client: &fantoccini::Client) -> anyhow::Result<Typing> {
    // 100 services, saved where the app autosaves, then loaded.
    let mut project = shared::model::Project::gaqno();
    while project.services.len() < KEYSTROKE_SERVICES {
        project.add_service();
    }
    let saved = ::web::saved_text(&project).context("the project as the app saves it")?;
    client
        .execute(
            "localStorage.setItem(arguments[0], arguments[1]);",
            vec![
                serde_json::json!(::web::STORAGE_KEY),
                serde_json::json!(saved),
            ],
        )
        .await?;
    client.refresh().await?;
    first_render(client).await?;
    let index = KEYSTROKE_SERVICES / 2;
    let item = format!("service-item-{index}");
    let field = ::web::Field::PathPrefix.testid(index);
    let script = r#"
        const [item, testid, count, done] = arguments;
        const nextTask = () => new Promise(resolve => {
            const channel = new MessageChannel();
            channel.port1.onmessage = resolve;
            channel.port2.postMessage(0);
        });
        (async () => {
            document.querySelector(`[data-testid="${item}"]`)?.click();
            let field = null;
            for (let i = 0; i < 200 && !field; i++) {
                await new Promise(resolve => setTimeout(resolve, 10));
                field = document.querySelector(`[data-testid="${testid}"]`);
            }
            const preview = document.querySelector('[data-testid="yaml-preview"]');
            if (!field || !preview) { done({error: 'field or preview missing'}); return; }
            await new Promise(resolve => setTimeout(resolve, 300)); // the opened editor settles
            const times = [];
            let text = '/k';
            // The next task, not a timer: Chromium clamps nested timers to 4 ms. A task runs
            // only once every microtask the input queued (Leptos' effects) has run.
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
            // The preview and the diagram follow after a pause in typing: time them from
            // the last keystroke.
            const last = performance.now();
            const inPreview = 'PathPrefix(`' + text + '`)';
            const inDiagram = 'path ' + text.slice(0, 20);
            const diagram = () => document.querySelector('[data-testid="diagram"]')?.textContent ?? '';
            let previewMs = null, diagramMs = null;
            while ((previewMs === null || diagramMs === null) && performance.now() - last < 3000) {
                if (previewMs === null && preview.textContent.includes(inPreview)) previewMs = performance.now() - last;
                if (diagramMs === null && diagram().includes(inDiagram)) diagramMs = performance.now() - last;
                await new Promise(resolve => setTimeout(resolve, 2));
            }
            done({times, previewMs, diagramMs});
        })();
    "#;
    let result = client
        .execute_async(
            script,
            vec![
                serde_json::json!(item),
                serde_json::json!(field),
                serde_json::json!(KEYSTROKES),
            ],
        )
        .await?;
    let keystroke_ms: Vec<f64> = result["times"]
        .as_array()
        .context("no keystroke times")?
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect();
    anyhow::ensure!(
        keystroke_ms.len() == KEYSTROKES,
        "keystrokes missing: {result}"
    );
    Ok(Typing {
        keystroke_ms,
        preview_after_ms: result["previewMs"]
            .as_f64()
            .with_context(|| format!("the preview did not follow the keystrokes: {result}"))?,
        diagram_after_ms: result["diagramMs"]
            .as_f64()
            .with_context(|| format!("the diagram did not follow the keystrokes: {result}"))?,
    })
}
