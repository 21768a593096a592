//! Go heap per held WebSocket: without middleware, empty guest, through gaqno-lb.

use super::*;

/// Go heap per held WebSocket-only Socket.IO connection, in bytes, per way it is routed
/// (the median of the rounds; while measuring, each round's samples).
#[derive(Default)]
pub(crate) struct HeapPerWebSocket<T = f64> {
    pub(crate) without: T,
    pub(crate) empty_guest: T,
    /// Through the plugin: an export without the `-socketio-ws` router, which sends a
    /// WebSocket that opens without a session around the plugin.
    pub(crate) through_plugin: T,
    /// As `gaqno-lb export` routes it: around the plugin.
    pub(crate) exported: T,
}

impl<T> HeapPerWebSocket<T> {
    fn get_mut(&mut self, case: HeapCase) -> &mut T {
        match case {
            HeapCase::Without => &mut self.without,
            HeapCase::EmptyGuest => &mut self.empty_guest,
            HeapCase::ThroughPlugin => &mut self.through_plugin,
            HeapCase::Exported => &mut self.exported,
        }
    }
}

/// The routings [`heap_per_websocket`] compares.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum HeapCase {
    Without,
    EmptyGuest,
    ThroughPlugin,
    Exported,
}

pub(crate) fn heap_per_websocket(binary: &Path, plugin: &Path) -> anyhow::Result<HeapPerWebSocket> {
    const CASES: [HeapCase; 4] = [
        HeapCase::ThroughPlugin,
        HeapCase::Exported,
        HeapCase::Without,
        HeapCase::EmptyGuest,
    ];
    let dir = TempDir::new("bench-ws")?;
    // Bytes per held WebSocket, one sample per round, per case.
    let mut samples = HeapPerWebSocket::<Vec<f64>>::default();
    for round in 0..3 {
        for case in CASES {
            let through_plugin = matches!(case, HeapCase::ThroughPlugin | HeapCase::Exported);
            let port = free_port()?;
            let io_path = IO_PATH;
            let log_name = format!("{round}-{case:?}");
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
                enabled: through_plugin,
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
                metrics: true,
                bench: BenchSetup {
                    local_plugins: vec![reference_plugin()?],
                    // For `/debug/pprof/heap?gc=1`: see `live_heap`.
                    pprof: true,
                    cpu: Some(TRAEFIK_CPU),
                },
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
            samples
                .get_mut(case)
                .push((held - before) / HELD_WEBSOCKETS as f64);
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    Ok(HeapPerWebSocket {
        without: median(samples.without),
        empty_guest: median(samples.empty_guest),
        through_plugin: median(samples.through_plugin),
        exported: median(samples.exported),
    })
}

/// Go's in-use heap right after a garbage collection: live memory, not live memory plus
/// whatever garbage the last GC cycle left (that made the per-WebSocket figure swing by a
/// third between runs). Go's heap profile endpoint collects first when asked `gc=1`.
pub(crate) fn live_heap(api_port: u16) -> anyhow::Result<f64> {
    let (status, _) = tests::http_get(api_port, "/debug/pprof/heap?gc=1")?;
    anyhow::ensure!(status == 200, "/debug/pprof/heap answered {status}");
    heap_inuse(api_port)
}

pub(crate) fn heap_inuse(api_port: u16) -> anyhow::Result<f64> {
    let (_, metrics) = tests::http_get(api_port, "/metrics")?;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("go_memstats_heap_inuse_bytes "))
        .and_then(|v| v.trim().parse().ok())
        .context("no go_memstats_heap_inuse_bytes in /metrics")
}
