//! `gaqno-lb check` at scale: 1,000 sessions, its own CPU and memory (`check_scale`).

use super::*;

/// Median Go heap per held WebSocket `(without, gaqno-lb, empty guest)` in bytes.
/// `gaqno-lb check` as a load generator: one process, many concurrent sessions.
pub(crate) struct CheckScale {
    pub(crate) sessions: u64,
    pub(crate) held: u64,
    pub(crate) replicas: usize,
    pub(crate) wall_s: f64,
    /// The check process's own CPU (user + system).
    pub(crate) cpu_s: f64,
}

/// Concurrent sessions `check_scale` opens at once.
pub(crate) const SCALE_SESSIONS: usize = 1000;

impl CheckScale {
    pub(crate) fn report(&self) -> String {
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
pub(crate) fn children_cpu_s() -> anyhow::Result<f64> {
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
pub(crate) fn check_scale(binary: &Path, plugin: &Path) -> anyhow::Result<CheckScale> {
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
        bench: BenchSetup {
            cpu: Some(TRAEFIK_CPU),
            ..BenchSetup::default()
        },
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
