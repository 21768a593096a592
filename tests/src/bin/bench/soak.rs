//! The soak: `gaqno-lb check` for a minute through a replica killed and restarted.

use super::*;

/// The soak: long-lived cookie-less sessions while a replica dies and comes back.
pub(crate) struct Soak {
    /// The service's health-check timeout (every second).
    pub(crate) health_timeout: &'static str,
    /// Health checks of live replicas that timed out (Traefik's log): each marked a healthy
    /// replica DOWN, and the balancer then sends its pinned sessions elsewhere.
    pub(crate) live_health_timeouts: usize,
    pub(crate) sessions: u64,
    pub(crate) held: u64,
    pub(crate) broken_on_killed: u64,
    pub(crate) broken_on_surviving: u64,
    /// Broken before a replica was known (a handshake sent to the dead replica).
    pub(crate) unidentified: u64,
    /// How the sessions on the surviving replicas broke: failure → sessions.
    pub(crate) surviving_errors: std::collections::BTreeMap<String, u64>,
    /// Replicas that took sessions in a short check after the restart.
    pub(crate) replicas_after_restart: usize,
    pub(crate) heap_before: f64,
    pub(crate) heap_after: f64,
}

pub(crate) const SOAK_SECONDS: u64 = 60;
pub(crate) const SOAK_SESSIONS: usize = 1000;

impl Soak {
    /// The first soak carries the targets; the others are shown beside it.
    pub(crate) fn report(soaks: &[Soak]) -> String {
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

pub(crate) fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// Runs `gaqno-lb check <url> --format json <args>` to its end (killed after `limit`);
/// returns its report.
pub(crate) fn run_check(
    url: &str,
    args: &[String],
    limit: Duration,
) -> anyhow::Result<serde_json::Value> {
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
pub(crate) fn metric(api_port: u16, name: &str) -> anyhow::Result<f64> {
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
pub(crate) fn drained_heap(api_port: u16, idle: f64) -> anyhow::Result<f64> {
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

pub(crate) fn soak(
    binary: &Path,
    plugin: &Path,
    health_timeout: &'static str,
) -> anyhow::Result<Soak> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    pin_to_cpus(&format!("0-{}", cores.saturating_sub(1)))?;
    let result = soak_unpinned(binary, plugin, health_timeout);
    pin_to_cpu(0)?;
    result
}

pub(crate) fn soak_unpinned(
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
        bench: BenchSetup {
            pprof: true,
            // The soak is about the whole system under load, not per-request cost: nothing
            // is pinned (check's 1,000 threads and the replicas starved on one core otherwise).
            cpu: None,
            local_plugins: Vec::new(),
        },
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
