//! Traefik's CPU per request (`## Traefik CPU per request`), and `--profile`.
//!
//! Every lane is its own entrypoint with the same routers (a REST one, the export's Socket.IO
//! ones) on the same backend, so a request's URI, headers and routing work are the same in
//! every lane and only the middleware differs: none, the empty guest, the floor of the path
//! (the reference guest making gaqno-lb's host calls with gaqno-lb's values), gaqno-lb.
//! Each run is a fresh Traefik; the runs' paired ratios are pooled so what varies from one
//! Traefik process to the next lands in the intervals.

use super::*;

/// What stands in front of the backend, one entrypoint each.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Lane {
    /// No middleware.
    Without,
    /// The reference guest making no host call: any http-wasm middleware's price.
    EmptyGuest,
    /// The reference guest making exactly gaqno-lb's host calls for this case.
    Floor(Case),
    /// gaqno-lb.
    Plugin,
    /// Another build of gaqno-lb with the same config (`GAQNO_LB_BENCH_BASELINE`).
    Baseline,
}

/// The kinds of request measured.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Case {
    /// A REST request through the middleware (outside `socketIoPath`).
    Rest,
    /// A polling request whose sid carries gaqno-lb's token.
    Token,
    /// A polling handshake, its answer rewritten.
    Handshake,
}

impl Case {
    pub(crate) const ALL: [Case; 3] = [Case::Rest, Case::Token, Case::Handshake];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Case::Rest => "(a) REST request through the middleware",
            Case::Token => "(b) polling request with a sid token",
            Case::Handshake => "(c) polling handshake (rewritten)",
        }
    }

    /// The reference guest's `calls` for this case's floor.
    fn calls(self) -> &'static str {
        match self {
            Case::Rest => "rest",
            Case::Token => "token",
            Case::Handshake => "handshake",
        }
    }

    /// The request-target, the same in every lane.
    pub(crate) fn path(self, cookie_value: &str) -> String {
        match self {
            Case::Rest => "/api/users?id=1".into(),
            Case::Token => {
                format!("{IO_PATH}?EIO=4&transport=polling&sid=FAKEsid0000000000001~{cookie_value}")
            }
            Case::Handshake => format!("{IO_PATH}?EIO=4&transport=polling"),
        }
    }

    /// gaqno-lb's own work against the floor: within this many percent.
    fn target(self) -> Target {
        match self {
            Case::Rest => Target::WithinNoise,
            Case::Token | Case::Handshake => Target::AtMost(3.0),
        }
    }
}

impl Lane {
    /// The lanes of one case; each repetition measures them all, starting one further along.
    fn of(case: Case) -> Vec<Lane> {
        let baseline = baseline_dir().is_some().then_some(Lane::Baseline);
        [Some(Lane::Plugin), baseline]
            .into_iter()
            .flatten()
            .chain([Lane::Without, Lane::Floor(case), Lane::EmptyGuest])
            .collect()
    }

    /// Its entrypoint, service and router prefix.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Lane::Without => "without",
            Lane::EmptyGuest => "empty",
            Lane::Floor(Case::Rest) => "floora",
            Lane::Floor(Case::Token) => "floorb",
            Lane::Floor(Case::Handshake) => "floorc",
            Lane::Plugin => "gaqno",
            Lane::Baseline => "before",
        }
    }

    /// The lane's column heading.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Lane::Without => "without middleware",
            Lane::EmptyGuest => "empty guest",
            Lane::Floor(_) => "floor",
            Lane::Plugin => "gaqno-lb",
            Lane::Baseline => "baseline build",
        }
    }

    /// Every lane this bench runs (the baseline only when one is given).
    fn all() -> Vec<Lane> {
        let mut lanes = vec![
            Lane::Without,
            Lane::EmptyGuest,
            Lane::Floor(Case::Rest),
            Lane::Floor(Case::Token),
            Lane::Floor(Case::Handshake),
            Lane::Plugin,
        ];
        if baseline_dir().is_some() {
            lanes.push(Lane::Baseline);
        }
        lanes
    }
}

/// Name of the baseline build of gaqno-lb as a local plugin.
const BASELINE: &str = "gaqno-lb-before";

/// `GAQNO_LB_BENCH_BASELINE`: a directory with another build of gaqno-lb (`plugin.wasm`,
/// `.traefik.yml`; say a copy of `dist/plugin` before a change), measured as one more lane
/// so a change's effect is measured in one run.
pub(crate) fn baseline_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("GAQNO_LB_BENCH_BASELINE").map(std::path::PathBuf::from)
}

fn baseline_plugin() -> anyhow::Result<Option<LocalPlugin>> {
    let Some(dir) = baseline_dir() else {
        return Ok(None);
    };
    anyhow::ensure!(
        dir.join("plugin.wasm").is_file(),
        "GAQNO_LB_BENCH_BASELINE: no plugin.wasm in {}",
        dir.display()
    );
    Ok(Some(LocalPlugin {
        name: BASELINE.into(),
        module: "github.com/gaqno/gaqno-lb-before".into(),
        dir,
    }))
}

/// gaqno-lb's Socket.IO path in the bench, the same in every lane.
pub(crate) const IO_PATH: &str = "/socket.io/";

/// Name of the reference guest as a local plugin.
pub(crate) const REFERENCE_GUEST: &str = "reference-guest";
/// The empty guest's middleware: the reference guest making no host call.
pub(crate) const EMPTY_GUEST: &str = "empty-guest";

pub(crate) fn reference_guest_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::var_os("GAQNO_LB_REFERENCE_GUEST_DIR")
        .map(std::path::PathBuf::from)
        .context("GAQNO_LB_REFERENCE_GUEST_DIR (run through `cargo xtask bench`)")?;
    anyhow::ensure!(
        dir.join("plugin.wasm").is_file(),
        "no plugin.wasm in {}",
        dir.display()
    );
    Ok(dir)
}

/// The reference guest as a local plugin beside gaqno-lb.
pub(crate) fn reference_plugin() -> anyhow::Result<LocalPlugin> {
    Ok(LocalPlugin {
        name: REFERENCE_GUEST.into(),
        module: "github.com/gaqno/reference-guest".into(),
        dir: reference_guest_dir()?,
    })
}

/// A middleware running the reference guest with `config`.
fn reference_middleware(config: serde_json::Value) -> shared::traefik::Middleware {
    shared::traefik::Middleware {
        plugin: Some([(REFERENCE_GUEST.to_owned(), config)].into_iter().collect()),
        ..Default::default()
    }
}

/// Puts the empty guest in front of `routers`.
pub(crate) fn add_empty_guest(http: &mut shared::traefik::HttpConfig, routers: &[&str]) {
    http.middlewares.insert(
        EMPTY_GUEST.into(),
        reference_middleware(serde_json::json!({"calls": "none"})),
    );
    for name in routers {
        if let Some(router) = http.routers.get_mut(*name) {
            router.middlewares = Some(vec![EMPTY_GUEST.into()]);
        }
    }
}

/// What gaqno-lb writes on the token path and the handshake, computed by its own library
/// from its config in the bench's export. The floor writes the same, and
/// [`check_floor_matches`] holds Traefik to it.
pub(crate) struct Writes {
    /// The request-target without the token.
    uri: String,
    /// The Cookie header naming the replica.
    cookie: String,
    /// The rewritten handshake body.
    body: String,
}

impl Writes {
    fn of(
        plugin_config: &serde_json::Value,
        cookie_value: &str,
        open: &[u8],
    ) -> anyhow::Result<Writes> {
        let settings = plugin::config::parse(&serde_json::to_vec(plugin_config)?)
            .map_err(|e| anyhow::anyhow!("the export's plugin config: {e}"))?;
        let name = settings.config.cookie_name.clone();
        let token_path = Case::Token.path(cookie_value);
        let plugin::decide::RequestAction::Pin { uri, value } =
            plugin::decide::on_request(&settings, token_path.as_bytes(), || b"GET")
        else {
            anyhow::bail!("gaqno-lb would not pin the token request");
        };
        let plugin::cookie::Pinning::Write(cookie) =
            plugin::cookie::pin::<&[u8]>(&[], name.as_bytes(), value)
        else {
            anyhow::bail!("gaqno-lb would not write the Cookie header");
        };
        // The balancer's Set-Cookie, as far as gaqno-lb reads it (name=value).
        let set_cookie = format!("{name}={cookie_value}; Path=/");
        let body = plugin::decide::on_handshake_response(
            &settings,
            &plugin::decide::HandshakeResponse {
                status: 200,
                content_encoding: None,
                body: open,
                set_cookies: &[set_cookie.as_bytes()],
            },
            Vec::<Vec<u8>>::new,
        )
        .context("gaqno-lb would not rewrite the handshake")?;
        Ok(Writes {
            uri: String::from_utf8(uri)?,
            cookie: String::from_utf8(cookie)?,
            body: String::from_utf8(body)?,
        })
    }
}

/// Every lane an entrypoint of its own with the export's routers for one Socket.IO service,
/// its own copy of the service (one backend) and its own middleware on every router.
pub(crate) fn bench_config(fake_url: &str, open: &[u8]) -> anyhow::Result<String> {
    let mut service = Service::new("bench", 0, 0);
    service.hosts.clear();
    service.servers = vec![fake_url.to_owned()];
    service.health_check = None;
    service.sticky.secure = false;
    service.path_prefix = None;
    service.socket_io = SocketIo {
        enabled: true,
        path: IO_PATH.into(),
        secret: None,
    };
    let mut exported = tests::loopback_config(vec![service]);
    let http = exported.http.take().context("http")?;
    let (affinity, plugin_config) = http
        .middlewares
        .iter()
        .find_map(|(name, m)| {
            let config = m.plugin.as_ref()?.values().next()?.clone();
            Some((name.clone(), config))
        })
        .context("the export has no plugin middleware")?;
    let cookie_value = sticky_cookie_value(fake_url);
    let writes = Writes::of(&plugin_config, &cookie_value, open)?;
    // Shared by every lane: the serversTransport the export's services name.
    let mut lanes = shared::traefik::HttpConfig {
        extra: http.extra.clone(),
        ..Default::default()
    };
    for lane in Lane::all() {
        let prefix = |name: &str| format!("{}-{name}", lane.name());
        let own = prefix("mw");
        let middleware = match lane {
            Lane::Without => None,
            Lane::EmptyGuest => Some(reference_middleware(serde_json::json!({"calls": "none"}))),
            Lane::Floor(case) => Some(reference_middleware(serde_json::json!({
                "calls": case.calls(),
                "uri": writes.uri,
                "cookie": writes.cookie,
                "body": writes.body,
            }))),
            Lane::Plugin => http.middlewares.get(&affinity).cloned(),
            // The same middleware and config, run by the baseline build.
            Lane::Baseline => Some(shared::traefik::Middleware {
                plugin: Some(
                    [(BASELINE.to_owned(), plugin_config.clone())]
                        .into_iter()
                        .collect(),
                ),
                ..Default::default()
            }),
        };
        if let Some(m) = middleware {
            lanes.middlewares.insert(own.clone(), m);
        }
        for (name, m) in http.middlewares.iter().filter(|(n, _)| **n != affinity) {
            lanes.middlewares.insert(prefix(name), m.clone());
        }
        for (name, s) in &http.services {
            lanes.services.insert(prefix(name), s.clone());
        }
        for (name, router) in &http.routers {
            let mut router = router.clone();
            router.entry_points = Some(vec![lane.name().into()]);
            router.service = router.service.as_deref().map(prefix);
            // The lane's middleware on every router, REST included: case (a) is a REST
            // request through it (the export keeps gaqno-lb off REST routers).
            let mut middlewares: Vec<String> = router
                .middlewares
                .unwrap_or_default()
                .iter()
                .filter(|m| **m != affinity)
                .map(|m| prefix(m))
                .collect();
            if lane != Lane::Without {
                middlewares.insert(0, own.clone());
            }
            router.middlewares = (!middlewares.is_empty()).then_some(middlewares);
            lanes.routers.insert(prefix(name), router);
        }
    }
    exported.http = Some(lanes);
    Ok(shared::yaml::to_string(&exported)?)
}

/// The floor does what gaqno-lb does: on the token path the backend saw the same URI and
/// Cookie through both (the fake engine echoes them), on the handshake the client got the
/// same body. Otherwise the floor would not be gaqno-lb's floor, and the bench says so.
/// The control: the empty guest, which writes nothing, must differ from gaqno-lb by the
/// same comparison, or the comparison could not tell.
fn check_floor_matches(ports: &Ports, cookie_value: &str) -> anyhow::Result<()> {
    let seen = |lane: Lane, case: Case| -> anyhow::Result<Vec<(String, String)>> {
        let tests::HttpResponse {
            status,
            headers,
            body,
        } = tests::http_request(ports.of(lane), "GET", &case.path(cookie_value), &[])?;
        anyhow::ensure!(status == 200, "{lane:?} {case:?}: HTTP {status}");
        let mut kept: Vec<(String, String)> = headers
            .into_iter()
            .filter(|(n, _)| n.starts_with("x-seen-") || n == "content-length")
            .collect();
        kept.push(("body".into(), String::from_utf8_lossy(&body).into_owned()));
        Ok(kept)
    };
    for case in [Case::Token, Case::Handshake] {
        let (plugin, floor) = (seen(Lane::Plugin, case)?, seen(Lane::Floor(case), case)?);
        anyhow::ensure!(
            plugin == floor,
            "{case:?}: the floor differs from gaqno-lb\n  gaqno-lb: {plugin:?}\n  floor:    {floor:?}"
        );
        let empty = seen(Lane::EmptyGuest, case)?;
        anyhow::ensure!(
            empty != plugin,
            "{case:?}: the floor check sees no difference between gaqno-lb and a guest that writes nothing: {empty:?}"
        );
    }
    Ok(())
}

/// Each lane's port.
pub(crate) struct Ports(Vec<(Lane, u16)>);

impl Ports {
    pub(crate) fn of(&self, lane: Lane) -> u16 {
        self.0
            .iter()
            .find(|(l, _)| *l == lane)
            .map_or(0, |(_, p)| *p)
    }
}

pub(crate) struct Phase {
    pub(crate) cpu_us: f64,
    pub(crate) rps: f64,
}

/// One case measured: per run, per lane (in [`Lane::of`]'s order), one phase per repetition.
pub(crate) struct Row {
    pub(crate) case: Case,
    pub(crate) runs: Vec<Vec<Vec<Phase>>>,
}

impl Row {
    /// `lane`'s phases, run by run.
    fn lane(&self, lane: Lane) -> Vec<&[Phase]> {
        let at = Lane::of(self.case)
            .iter()
            .position(|l| *l == lane)
            .unwrap_or(0);
        self.runs.iter().map(|run| &run[at][..]).collect()
    }

    fn median(&self, lane: Lane) -> Phase {
        let all: Vec<&Phase> = self.lane(lane).into_iter().flatten().collect();
        let cpu = median_of(all.iter().map(|p| p.cpu_us).collect()).unwrap_or(0.0);
        let rps = median_of(all.iter().map(|p| p.rps).collect()).unwrap_or(0.0);
        Phase { cpu_us: cpu, rps }
    }
}

/// What gaqno-lb may cost over its reference.
#[derive(Clone, Copy)]
pub(crate) enum Target {
    /// Not told apart from the reference: the median's interval holds 0.
    WithinNoise,
    /// At most this many percent more CPU than the reference.
    AtMost(f64),
}

impl Target {
    fn text(self) -> String {
        match self {
            Target::WithinNoise => "within the noise".into(),
            Target::AtMost(limit) => format!("≤ +{limit:.0} %"),
        }
    }

    /// Met when the whole interval of the median is within the target, not met when none of
    /// it is; otherwise this machine cannot tell, said with how far the runs spread.
    pub(crate) fn verdict(self, ratio: &Ratio) -> String {
        let (low, high) = ratio.interval;
        let decided = match self {
            Target::WithinNoise if low <= 0.0 && 0.0 <= high => Some("met"),
            Target::WithinNoise if high < 0.0 => Some("met (cheaper)"),
            Target::WithinNoise => Some("not met"),
            Target::AtMost(limit) if high <= limit => Some("met"),
            Target::AtMost(limit) if low > limit => Some("not met"),
            Target::AtMost(_) => None,
        };
        decided.map_or_else(
            || {
                format!(
                    "cannot tell on this machine: its {} runs' medians spread over {:.1} points",
                    ratio.run_medians.len(),
                    ratio.spread()
                )
            },
            String::from,
        )
    }
}

/// `a`'s CPU over `b`'s in percent, paired repetition by repetition within each run.
pub(crate) struct Ratio {
    /// The median of every run's paired ratios pooled.
    pub(crate) median: f64,
    /// Each run's median.
    pub(crate) run_medians: Vec<f64>,
    /// Where the median lies: 90 % of 2,000 bootstrap resamples that draw runs, then
    /// repetitions within each drawn run, so run-to-run variation widens it.
    pub(crate) interval: (f64, f64),
    /// Repetitions per run.
    pub(crate) repetitions: usize,
}

pub(crate) fn median_of(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

impl Ratio {
    pub(crate) fn of(a: &[&[Phase]], b: &[&[Phase]]) -> Option<Ratio> {
        let runs: Vec<Vec<f64>> = a
            .iter()
            .zip(b)
            .map(|(a, b)| {
                a.iter()
                    .zip(b.iter())
                    .map(|(a, b)| (a.cpu_us / b.cpu_us - 1.0) * 100.0)
                    .collect::<Vec<f64>>()
            })
            .filter(|r| !r.is_empty())
            .collect();
        let median = median_of(runs.concat())?;
        let run_medians: Vec<f64> = runs.iter().filter_map(|r| median_of(r.clone())).collect();
        // A fixed-seed xorshift: the same figures give the same interval.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % below as u64) as usize
        };
        let mut medians: Vec<f64> = (0..2000)
            .filter_map(|_| {
                let mut sample = Vec::new();
                for _ in 0..runs.len() {
                    let run = &runs[next(runs.len())];
                    sample.extend((0..run.len()).map(|_| run[next(run.len())]));
                }
                median_of(sample)
            })
            .collect();
        medians.sort_by(f64::total_cmp);
        let at = |q: f64| medians[((medians.len() - 1) as f64 * q).round() as usize];
        Some(Ratio {
            median,
            interval: (at(0.05), at(0.95)),
            repetitions: runs.iter().map(Vec::len).max().unwrap_or(0),
            run_medians,
        })
    }

    /// How far the runs' medians lie apart, in percentage points.
    fn spread(&self) -> f64 {
        let low = self
            .run_medians
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let high = self
            .run_medians
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        high - low
    }
}

/// Every case measured, and what the hypervisor took meanwhile.
pub(crate) struct RequestCosts {
    pub(crate) rows: Vec<Row>,
    /// Per run: the share of both CPUs' time the hypervisor gave to other guests (`steal`
    /// in `/proc/stat`), in percent. It moves the absolute µs from one day to the next.
    pub(crate) steal_percent: Vec<f64>,
}

/// `(steal, all)` jiffies of every CPU since boot (`/proc/stat`'s `cpu` line).
fn cpu_jiffies() -> anyhow::Result<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat.lines().next().context("/proc/stat is empty")?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal [guest guest_nice, counted in user]
    let steal = fields.get(7).copied().unwrap_or(0);
    Ok((steal, fields.iter().take(8).sum()))
}

/// One lane's column in [`medians_table`].
struct Column {
    heading: &'static str,
    /// Its name in the req/s heading.
    short: &'static str,
    /// Its lane for a case.
    lane: fn(Case) -> Lane,
}

/// A table of each case's median µs per lane, then their req/s in one cell.
fn medians_table(rows: &[Row], columns: &[Column]) -> String {
    let headings: Vec<&str> = columns.iter().map(|c| c.heading).collect();
    let short: Vec<&str> = columns.iter().map(|c| c.short).collect();
    let mut out = format!(
        "| request | {} | req/s {} |\n|---|{}---|\n",
        headings.join(" | "),
        short.join(" / "),
        "---|".repeat(columns.len())
    );
    for row in rows {
        let medians: Vec<Phase> = columns
            .iter()
            .map(|c| row.median((c.lane)(row.case)))
            .collect();
        let cpu: Vec<String> = medians
            .iter()
            .map(|m| format!("{:.1} µs", m.cpu_us))
            .collect();
        let rps: Vec<String> = medians.iter().map(|m| format!("{:.0}", m.rps)).collect();
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            row.case.label(),
            cpu.join(" | "),
            rps.join(" / ")
        ));
    }
    out
}

/// The `## Traefik CPU per request` section.
pub(crate) fn report(costs: &RequestCosts) -> String {
    let rows = &costs.rows;
    let steal: Vec<String> = costs
        .steal_percent
        .iter()
        .map(|s| format!("{s:.0} %"))
        .collect();
    let mut out = format!(
        "## Traefik CPU per request\n\nStolen by the hypervisor during the runs (`/proc/stat`): {}. The µs below move with it from one day to the next; the ratios are paired within a repetition, so they move much less.\n\n",
        steal.join(", ")
    );
    out.push_str(&medians_table(
        rows,
        &[
            Column {
                heading: "without middleware",
                short: "without",
                lane: |_| Lane::Without,
            },
            Column {
                heading: "empty guest",
                short: "empty",
                lane: |_| Lane::EmptyGuest,
            },
            Column {
                heading: "floor (gaqno-lb's host calls)",
                short: "floor",
                lane: Lane::Floor,
            },
            Column {
                heading: "gaqno-lb",
                short: "gaqno-lb",
                lane: |_| Lane::Plugin,
            },
        ],
    ));
    if baseline_dir().is_some() {
        out.push('\n');
        out.push_str(&medians_table(
            rows,
            &[
                Column {
                    heading: "gaqno-lb before (`GAQNO_LB_BENCH_BASELINE`)",
                    short: "before",
                    lane: |_| Lane::Baseline,
                },
                Column {
                    heading: "gaqno-lb",
                    short: "gaqno-lb",
                    lane: |_| Lane::Plugin,
                },
            ],
        ));
    }
    out.push_str("\n| request | what | ratio (median) | the runs' medians | its 90 % interval | runs × repetitions | target | verdict |\n|---|---|---|---|---|---|---|---|\n");
    for row in rows {
        let mut comparisons: Vec<(Lane, Lane, &str, Option<Target>)> = vec![
            (
                Lane::EmptyGuest,
                Lane::Without,
                "empty guest vs without: any http-wasm middleware's price",
                None,
            ),
            (
                Lane::Floor(row.case),
                Lane::EmptyGuest,
                "floor vs empty guest: what Traefik charges for gaqno-lb's host calls",
                None,
            ),
            (
                Lane::Plugin,
                Lane::Floor(row.case),
                "**gaqno-lb vs floor: gaqno-lb's own work**",
                Some(row.case.target()),
            ),
            (
                Lane::Plugin,
                Lane::EmptyGuest,
                "gaqno-lb vs empty guest",
                None,
            ),
        ];
        if baseline_dir().is_some() {
            comparisons.push((
                Lane::Plugin,
                Lane::Baseline,
                "gaqno-lb vs the baseline build: the change's effect",
                None,
            ));
        }
        for (a, b, what, target) in comparisons {
            let Some(ratio) = Ratio::of(&row.lane(a), &row.lane(b)) else {
                continue;
            };
            let runs: Vec<String> = ratio
                .run_medians
                .iter()
                .map(|m| format!("{m:+.1}"))
                .collect();
            out.push_str(&format!(
                "| {} | {what} | {:+.1} % | {} | {:+.1} … {:+.1} % | {} × {} | {} | {} |\n",
                row.case.label(),
                ratio.median,
                runs.join(", "),
                ratio.interval.0,
                ratio.interval.1,
                ratio.run_medians.len(),
                ratio.repetitions,
                target.map_or_else(String::new, Target::text),
                target.map_or_else(String::new, |t| t.verdict(&ratio)),
            ));
        }
    }
    out.push_str("\nEach lane is an entrypoint of its own with the same routers (a REST router and the export's Socket.IO routers) in front of one backend, so the request, its routing and the backend's answer are the same in every lane and only the middleware differs. The empty guest and the floor are one module, `plugin/bench/reference_guest.rs`, configured per lane: the empty guest makes no host call; the floor makes exactly gaqno-lb's host calls for the path with the values gaqno-lb writes (computed by gaqno-lb's own library, and checked through Traefik before measuring: the backend saw the same URI and Cookie, the client the same handshake body) and takes no decision. So the floor against the empty guest is what Traefik charges for those calls, and gaqno-lb against the floor is gaqno-lb's own work. A ratio is paired per repetition (the lanes of a case run back to back, each repetition starting one lane further along so no lane always comes first); every run is a fresh Traefik process. The interval is where the pooled median lies, bootstrapped over runs and then repetitions, so what differs from one Traefik process to the next is in it. A target is met when the whole interval is within it, not met when none of it is, and otherwise this machine cannot tell. `gaqno-lb export` never puts the plugin on REST routes, so (a) is the cost of a misrouted REST request, not of normal REST traffic.\n");
    out
}

/// Whole runs, each a fresh Traefik and backend: at least 3, so run-to-run variation shows.
fn runs() -> usize {
    std::env::var("GAQNO_LB_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(RUNS)
        .max(1)
}

/// One fresh Traefik with every lane, and the backend behind it.
pub(crate) struct Bench {
    _dir: TempDir,
    _fake: tests::ProcessGuard,
    pub(crate) traefik: Traefik,
    pub(crate) ports: Ports,
    pub(crate) cookie_value: String,
}

impl Bench {
    pub(crate) fn start(binary: &Path, plugin: &Path, pprof: bool) -> anyhow::Result<Bench> {
        let dir = TempDir::new("bench")?;
        let fake_port = free_port()?;
        let fake = node(
            "fake-engine.js",
            &[fake_port.to_string()],
            dir.path().join("fake.log"),
        )?;
        wait_http_ok(fake_port, "/v1/health", 10)?;
        let fake_url = format!("http://127.0.0.1:{fake_port}");
        let handshake = tests::http_request(fake_port, "GET", &Case::Handshake.path(""), &[])?;
        anyhow::ensure!(
            handshake.status == 200,
            "the fake engine's handshake: HTTP {}",
            handshake.status
        );
        let setup = TraefikSetup {
            entry_points: Lane::all().iter().map(|l| l.name().to_owned()).collect(),
            files: vec![(
                "bench.yaml".into(),
                bench_config(&fake_url, &handshake.body)?,
            )],
            plugin: Some(("gaqno-lb".into(), plugin.to_path_buf())),
            bench: BenchSetup {
                local_plugins: [Some(reference_plugin()?), baseline_plugin()?]
                    .into_iter()
                    .flatten()
                    .collect(),
                cpu: Some(TRAEFIK_CPU),
                pprof,
            },
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
        let ports = Ports(
            Lane::all()
                .into_iter()
                .map(|l| Ok((l, traefik.port(l.name()).context("a lane's port")?)))
                .collect::<anyhow::Result<_>>()?,
        );
        let cookie_value = sticky_cookie_value(&fake_url);
        check_floor_matches(&ports, &cookie_value)?;
        Ok(Bench {
            _dir: dir,
            _fake: fake,
            traefik,
            ports,
            cookie_value,
        })
    }
}

pub(crate) fn request_costs(binary: &Path, plugin: &Path) -> anyhow::Result<RequestCosts> {
    let mut rows: Vec<Row> = Case::ALL
        .into_iter()
        .map(|case| Row {
            case,
            runs: Vec::new(),
        })
        .collect();
    let runs = runs();
    let mut steal_percent = Vec::new();
    for run in 0..runs {
        let (steal_before, all_before) = cpu_jiffies()?;
        let bench = Bench::start(binary, plugin, false)?;
        for row in &mut rows {
            let path = row.case.path(&bench.cookie_value);
            let lanes = Lane::of(row.case);
            // Warm every lane (guest instances, connections) before measuring.
            for &lane in &lanes {
                load(bench.ports.of(lane), &path, 500)?;
            }
            let mut phases: Vec<Vec<Phase>> = lanes.iter().map(|_| Vec::new()).collect();
            for repetition in 0..REPETITIONS {
                // Each repetition starts one lane later, so every lane is measured in every
                // position (after a GC, first after the previous case) equally often.
                for offset in 0..lanes.len() {
                    let i = (repetition + offset) % lanes.len();
                    let lane = lanes[i];
                    let measured = phase(&bench.traefik, bench.ports.of(lane), &path)?;
                    eprintln!(
                        "bench: run {}/{runs} {:?} {lane:?}: {:.1} µs/request",
                        run + 1,
                        row.case,
                        measured.cpu_us
                    );
                    phases[i].push(measured);
                }
            }
            row.runs.push(phases);
        }
        let (steal, all) = cpu_jiffies()?;
        steal_percent.push(
            100.0 * steal.saturating_sub(steal_before) as f64
                / all.saturating_sub(all_before).max(1) as f64,
        );
    }
    Ok(RequestCosts {
        rows,
        steal_percent,
    })
}
pub(crate) fn phase(traefik: &Traefik, port: u16, path: &str) -> anyhow::Result<Phase> {
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
pub(crate) fn cpu_ns(pid: u32) -> anyhow::Result<u64> {
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
pub(crate) fn load(port: u16, path: &str, count: usize) -> anyhow::Result<usize> {
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
pub(crate) fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> anyhow::Result<u16> {
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

// Not `mod tests`: that name would hide the `tests` crate this file calls.
#[cfg(test)]
mod report_tests {
    use super::*;

    #[test]
    fn medians_table_has_a_column_per_lane_and_their_rps_in_one_cell() {
        // Lane::of(Token)'s order without a baseline: gaqno-lb, without, floor, empty guest.
        let phase = |cpu_us, rps| vec![Phase { cpu_us, rps }];
        let row = Row {
            case: Case::Token,
            runs: vec![vec![
                phase(233.5, 2580.0),
                phase(209.1, 2820.0),
                phase(236.0, 2615.0),
                phase(221.3, 2630.0),
            ]],
        };
        let columns = [
            Column {
                heading: "without middleware",
                short: "without",
                lane: |_| Lane::Without,
            },
            Column {
                heading: "floor",
                short: "floor",
                lane: Lane::Floor,
            },
            Column {
                heading: "gaqno-lb",
                short: "gaqno-lb",
                lane: |_| Lane::Plugin,
            },
        ];
        assert_eq!(
            medians_table(&[row], &columns),
            "| request | without middleware | floor | gaqno-lb | req/s without / floor / gaqno-lb |\n\
             |---|---|---|---|---|\n\
             | (b) polling request with a sid token | 209.1 µs | 236.0 µs | 233.5 µs | 2820 / 2615 / 2580 |\n"
        );
    }
}
