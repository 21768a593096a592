//! Traefik's CPU per request without middleware, through the empty guest and through
//! gaqno-lb (`## Traefik CPU per request`), and `--profile`.

use super::*;

/// What stands in front of the backend.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Variant {
    /// No middleware.
    Without,
    /// `plugin/bench/empty_guest.rs`: the http-wasm host's own price.
    EmptyGuest,
    /// gaqno-lb.
    Plugin,
}

impl Variant {
    pub(crate) const ALL: [Variant; 3] = [Variant::Plugin, Variant::Without, Variant::EmptyGuest];

    /// `(REST path prefix, Socket.IO path)` routed to this variant.
    pub(crate) fn paths(self) -> (&'static str, &'static str) {
        match self {
            Variant::Without => ("/without/", "/plain.io/"),
            Variant::EmptyGuest => ("/empty/", "/empty.io/"),
            Variant::Plugin => ("/with/", "/socket.io/"),
        }
    }
}

/// Name of the empty guest as a local plugin, and its middleware.
pub(crate) const EMPTY_GUEST: &str = "empty-guest";

pub(crate) fn empty_guest_dir() -> anyhow::Result<std::path::PathBuf> {
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

/// The empty guest as a local plugin beside gaqno-lb.
pub(crate) fn reference_plugin() -> anyhow::Result<LocalPlugin> {
    Ok(LocalPlugin {
        name: EMPTY_GUEST.into(),
        module: "github.com/gaqno/empty-guest".into(),
        dir: empty_guest_dir()?,
    })
}

/// Puts the empty guest in front of `routers`.
pub(crate) fn add_empty_guest(http: &mut shared::traefik::HttpConfig, routers: &[&str]) {
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

pub(crate) struct Phase {
    pub(crate) cpu_us: f64,
    pub(crate) rps: f64,
}

/// One figure per [`Variant`].
#[derive(Default)]
pub(crate) struct PerVariant<T> {
    pub(crate) without: T,
    pub(crate) empty_guest: T,
    pub(crate) gaqno_lb: T,
}

impl<T> PerVariant<T> {
    pub(crate) fn get_mut(&mut self, variant: Variant) -> &mut T {
        match variant {
            Variant::Without => &mut self.without,
            Variant::EmptyGuest => &mut self.empty_guest,
            Variant::Plugin => &mut self.gaqno_lb,
        }
    }
}

/// What gaqno-lb may cost over the empty guest for one kind of request.
#[derive(Clone, Copy)]
pub(crate) enum Target {
    /// Not told apart from the empty guest: the median's interval holds 0.
    WithinNoise,
    /// At most this many percent more CPU than the empty guest.
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
    /// it is, and otherwise this machine's noise cannot tell.
    pub(crate) fn verdict(self, ratio: &Ratio) -> &'static str {
        let (low, high) = ratio.median_interval;
        match self {
            Target::WithinNoise if low <= 0.0 && 0.0 <= high => "met",
            Target::WithinNoise if high < 0.0 => "met (cheaper)",
            Target::WithinNoise => "not met",
            Target::AtMost(limit) if high <= limit => "met",
            Target::AtMost(limit) if low > limit => "not met",
            Target::AtMost(_) => "cannot tell on this machine",
        }
    }
}

/// One kind of request, every variant measured once per repetition.
pub(crate) struct Row {
    pub(crate) label: &'static str,
    /// gaqno-lb against the empty guest.
    pub(crate) target: Target,
    /// Per variant, one phase per repetition (the same index is the same repetition).
    pub(crate) phases: PerVariant<Vec<Phase>>,
}

/// `a`'s CPU over `b`'s, in percent, paired repetition by repetition.
pub(crate) struct Ratio {
    pub(crate) median: f64,
    /// The range of the per-repetition ratios.
    pub(crate) low: f64,
    pub(crate) high: f64,
    /// Where the median lies: 90 % of 2,000 bootstrap resamples of the repetitions.
    pub(crate) median_interval: (f64, f64),
}

impl Ratio {
    pub(crate) fn of(a: &[Phase], b: &[Phase]) -> Option<Ratio> {
        let ratios: Vec<f64> = a
            .iter()
            .zip(b)
            .map(|(a, b)| (a.cpu_us / b.cpu_us - 1.0) * 100.0)
            .collect();
        let median_of = |values: &mut Vec<f64>| {
            values.sort_by(f64::total_cmp);
            values.get(values.len() / 2).copied()
        };
        let mut sorted = ratios.clone();
        let median = median_of(&mut sorted)?;
        // A fixed-seed xorshift: the same figures give the same interval.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut medians: Vec<f64> = (0..2000)
            .filter_map(|_| {
                let mut sample: Vec<f64> = (0..ratios.len())
                    .map(|_| ratios[(next() % ratios.len() as u64) as usize])
                    .collect();
                median_of(&mut sample)
            })
            .collect();
        medians.sort_by(f64::total_cmp);
        let at = |q: f64| medians[((medians.len() - 1) as f64 * q).round() as usize];
        Some(Ratio {
            median,
            low: *sorted.first()?,
            high: *sorted.last()?,
            median_interval: (at(0.05), at(0.95)),
        })
    }

    /// "median % [min … max]".
    pub(crate) fn text(&self) -> String {
        format!(
            "{:+.1} % [{:+.1} … {:+.1}]",
            self.median, self.low, self.high
        )
    }
}

/// `a` over `b`, repetition by repetition: "median % [min … max]".
pub(crate) fn paired(a: &[Phase], b: &[Phase]) -> String {
    Ratio::of(a, b).map_or_else(|| "n/a".into(), |r| r.text())
}

/// The `## Traefik CPU per request` section.
pub(crate) fn report(rows: &[Row]) -> String {
    let mut out = String::from("## Traefik CPU per request\n\n| request | without plugin | empty guest | gaqno-lb | empty guest vs without (the host's floor) | gaqno-lb vs without | req/s without / empty / gaqno-lb | gaqno-lb vs empty guest | its median's 90 % interval | target (vs empty guest) | |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for row in rows {
        let PerVariant {
            without,
            empty_guest,
            gaqno_lb,
        } = &row.phases;
        let (with_m, without_m, empty_m) = (median(gaqno_lb), median(without), median(empty_guest));
        let own = Ratio::of(gaqno_lb, empty_guest);
        let (interval, verdict) = match &own {
            Some(r) => (
                format!(
                    "{:+.1} … {:+.1} %",
                    r.median_interval.0, r.median_interval.1
                ),
                row.target.verdict(r),
            ),
            None => ("n/a".into(), "cannot tell on this machine"),
        };
        out.push_str(&format!(
            "| {} | {:.1} µs | {:.1} µs | {:.1} µs | {} | {} | {:.0} / {:.0} / {:.0} | {} | {interval} | {} | {verdict} |\n",
            row.label,
            without_m.cpu_us,
            empty_m.cpu_us,
            with_m.cpu_us,
            paired(empty_guest, without),
            paired(gaqno_lb, without),
            without_m.rps,
            empty_m.rps,
            with_m.rps,
            own.as_ref().map_or_else(|| "n/a".into(), Ratio::text),
            row.target.text(),
        ));
    }
    out.push_str("\nThe empty guest (`plugin/bench/empty_guest.rs`) is what any http-wasm middleware costs on this host, so gaqno-lb's targets are set against it: the column against it is gaqno-lb's own work. A ratio is paired per repetition (the variants run back to back) and shown as median [min … max] of the repetitions; the interval is where that median lies (bootstrap). A target is met when the whole interval is within it, not met when none of it is, and otherwise this machine cannot tell. `gaqno-lb export` never puts the plugin on REST routes (it gets a router for the Socket.IO path only), so (a) is the cost of a misrouted REST request, not of normal REST traffic.\n");
    out
}

/// One service through the plugin and the same one without it, on one fake engine.io backend.
pub(crate) fn bench_config(fake_url: &str) -> String {
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

pub(crate) fn request_costs(binary: &Path, plugin: &Path) -> anyhow::Result<Vec<Row>> {
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
        bench: BenchSetup {
            reference_plugin: Some(reference_plugin()?),
            cpu: Some(TRAEFIK_CPU),
            pprof: false,
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
        (
            "(a) REST request through the middleware",
            Target::WithinNoise,
        ),
        ("(b) polling request with a sid token", Target::AtMost(5.0)),
        ("(c) polling handshake (rewritten)", Target::AtMost(10.0)),
    ];
    let mut rows = Vec::new();
    for (case, (label, target)) in cases.into_iter().enumerate() {
        // Warm every path (guest instances, connections) before measuring.
        for variant in Variant::ALL {
            load(port, &path(variant, case), 500)?;
        }
        let mut phases = PerVariant::<Vec<Phase>>::default();
        for _ in 0..REPETITIONS {
            for (i, variant) in Variant::ALL.into_iter().enumerate() {
                let measured = phase(&traefik, port, &path(variant, case))?;
                eprintln!(
                    "bench: case {case} variant {i}: {:.1} µs/request",
                    measured.cpu_us
                );
                phases.get_mut(variant).push(measured);
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
pub(crate) fn profile(binary: &Path, plugin: &Path, case: &str) -> anyhow::Result<()> {
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
        bench: BenchSetup {
            reference_plugin: Some(reference_plugin()?),
            cpu: Some(TRAEFIK_CPU),
            pprof: true,
        },
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

pub(crate) fn median(phases: &[Phase]) -> Phase {
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
