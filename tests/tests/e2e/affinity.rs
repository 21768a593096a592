//! The affinity plugin in real Traefik (3.6.15, 3.7.15) in front of three independent
//! Socket.IO replicas (official `socket.io`, no adapter), driven by the official
//! `socket.io-client`. Every scenario runs twice: with the plugin, and as a control with
//! the same Traefik config minus the plugin, which shows what the plugin is for.
//!
//! The Traefik config is the exporter's output for a model fixture; only TLS is taken off
//! (plain HTTP on loopback).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use shared::model::{HealthCheck, Service};
use shared::traefik::GoDuration;
use tests::{
    free_port, node, wait_http_ok, ProcessGuard, TempDir, Traefik, TraefikSetup, TRAEFIK_VERSIONS,
    WEB,
};

/// Sessions per scenario and rounds per session.
const SESSIONS: u64 = 30;

/// What every scenario needs: Traefik binaries, node packages, plugin.wasm.
pub(crate) struct Tools {
    pub(crate) traefik: Vec<(&'static str, PathBuf)>,
    pub(crate) plugin: PathBuf,
}

pub(crate) fn tools() -> Option<Tools> {
    let mut traefik = Vec::new();
    for version in TRAEFIK_VERSIONS {
        traefik.push((version, tests::traefik_binary(version)?));
    }
    tests::node_modules()?;
    Some(Tools {
        traefik,
        plugin: tests::plugin_dir()?,
    })
}

/// Independent Socket.IO servers on loopback.
pub(crate) struct Replicas {
    /// Held so the replicas live as long as this; also killed one by one.
    pub(crate) processes: Vec<ProcessGuard>,
    pub(crate) urls: Vec<String>,
    _dir: TempDir,
}

impl Replicas {
    pub(crate) fn start(count: usize, protocol: u8) -> Replicas {
        let dir = TempDir::new("replicas").expect("temp dir");
        let mut processes = Vec::new();
        let mut urls = Vec::new();
        for i in 0..count {
            let port = free_port().expect("port");
            let name = format!("replica-{i}");
            let args = vec![port.to_string(), name.clone(), protocol.to_string()];
            processes.push(
                node("replica.js", &args, dir.path().join(format!("{name}.log")))
                    .expect("start replica"),
            );
            wait_http_ok(port, "/v1/health", 15).expect("replica up");
            urls.push(format!("http://127.0.0.1:{port}"));
        }
        Replicas {
            processes,
            urls,
            _dir: dir,
        }
    }
}

/// The exporter's config for one Socket.IO service over `servers`, without TLS.
pub(crate) fn dynamic_config(
    servers: &[String],
    with_plugin: bool,
    health_interval: &str,
) -> String {
    let mut service = Service::new("chat", 0, 0);
    service.hosts.clear();
    service.servers = servers.to_vec();
    service.sticky.secure = false; // plain HTTP on loopback: a Secure cookie would never come back
    service.health_check = Some(HealthCheck {
        interval: Some(GoDuration::new(health_interval)),
        timeout: Some(GoDuration::new("500ms")),
        ..HealthCheck::gaqno()
    });
    service.set_socket_io(with_plugin);
    let config = tests::loopback_config(vec![service]);
    shared::yaml::to_string(&config).expect("YAML")
}

pub(crate) fn start_traefik(binary: &Path, version: &str, plugin: &Path, yaml: String) -> Traefik {
    let setup = TraefikSetup {
        entry_points: vec![WEB.into()],
        files: vec![("chat.yaml".into(), yaml)],
        plugin: Some((
            shared::model::DEFAULT_PLUGIN_NAME.into(),
            plugin.to_path_buf(),
        )),
        ..TraefikSetup::default()
    };
    let mut traefik = Traefik::start(binary, version, &setup).expect("start Traefik");
    match traefik.loaded().expect("Traefik loads") {
        tests::Loaded::Config(raw) => {
            let broken: Vec<_> = tests::file_objects(&raw)
                .into_iter()
                .filter(|(_, _, s, _)| s != "enabled")
                .collect();
            assert!(
                broken.is_empty(),
                "Traefik {version} disabled: {broken:?}\n{}",
                traefik.log()
            );
        }
        other => panic!("Traefik {version}: {other:?}\n{}", traefik.log()),
    }
    // Wait until the health checks have seen every replica up.
    std::thread::sleep(Duration::from_millis(600));
    traefik
}

/// Runs `clients.js` with `options` (url etc.) and returns its summary.
pub(crate) fn clients(options: Value) -> Value {
    clients_with(options, |_| {})
}

/// Like [`clients`], calling `meanwhile` while the clients run.
fn clients_with(options: Value, meanwhile: impl FnOnce(&mut std::process::Child)) -> Value {
    let mut child = Command::new("node")
        .arg(tests::project_root().join("tests/node/clients.js"))
        .arg(options.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run clients.js");
    meanwhile(&mut child);
    let output = child.wait_with_output().expect("clients.js output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| {
        panic!(
            "clients.js: {e}\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

pub(crate) fn ok(summary: &Value) -> u64 {
    summary["ok"].as_u64().unwrap_or(0)
}

/// One scenario, with and without the plugin, on every Traefik version.
fn scenario(label: &str, protocol: u8, options: Value, expect_control_to_fail: bool) {
    let Some(tools) = tools() else { return };
    let replicas = Replicas::start(3, protocol);
    for (version, binary) in &tools.traefik {
        for with_plugin in [true, false] {
            let traefik = start_traefik(
                binary,
                version,
                &tools.plugin,
                dynamic_config(&replicas.urls, with_plugin, "1s"),
            );
            let port = traefik.port(WEB).expect("web port");
            let mut run = options.clone();
            run["url"] = json!(format!("http://127.0.0.1:{port}"));
            run["count"] = json!(SESSIONS);
            run["protocol"] = json!(protocol);
            let summary = clients(run);
            let what = format!(
                "{label}, Traefik {version}, {}",
                if with_plugin {
                    "plugin"
                } else {
                    "control without plugin"
                }
            );
            eprintln!(
                "{what}: {} of {SESSIONS} sessions held, errors {}",
                ok(&summary),
                summary["errors"]
            );
            if with_plugin || !expect_control_to_fail {
                assert_eq!(
                    ok(&summary),
                    SESSIONS,
                    "{what}: {summary:#}\n{}",
                    traefik.log()
                );
                for session in summary["sessions"].as_array().into_iter().flatten() {
                    let replicas: std::collections::HashSet<_> = session["replicas"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .collect();
                    assert_eq!(replicas.len(), 1, "{what}: a session moved: {session}");
                }
            } else {
                assert!(
                    ok(&summary) <= SESSIONS / 3,
                    "{what}: the control should break most sessions: {summary:#}"
                );
            }
            if options["transports"] == json!(["polling", "websocket"]) && ok(&summary) == SESSIONS
            {
                assert_eq!(
                    summary["websocket"].as_u64(),
                    Some(SESSIONS),
                    "{what}: every session should upgrade: {summary:#}"
                );
            }
        }
    }
    drop(replicas);
}

#[test]
fn cookieless_polling_sessions_stay_on_one_replica() {
    scenario(
        "polling, no cookies",
        4,
        json!({"transports": ["polling"], "rounds": 4}),
        true,
    );
}

#[test]
fn cookieless_sessions_upgrade_to_websocket_and_stay() {
    scenario(
        "polling then WebSocket, no cookies",
        4,
        json!({"transports": ["polling", "websocket"], "rounds": 4, "intervalMs": 300}),
        true,
    );
}

#[test]
fn websocket_only_clients_are_unaffected() {
    scenario(
        "WebSocket only",
        4,
        json!({"transports": ["websocket"], "rounds": 4}),
        false,
    );
}

#[test]
fn clients_with_cookies_are_unaffected() {
    scenario(
        "polling with cookies",
        4,
        json!({"transports": ["polling"], "rounds": 4, "withCredentials": true}),
        false,
    );
}

#[test]
fn protocol_3_socket_io_v2_sessions_stay() {
    scenario(
        "Socket.IO v2 (EIO=3) polling",
        3,
        json!({"transports": ["polling"], "rounds": 4}),
        true,
    );
}

#[test]
fn a_killed_replica_moves_only_its_own_sessions() {
    let Some(tools) = tools() else { return };
    let (version, binary) = &tools.traefik[0];
    for with_plugin in [true, false] {
        let mut replicas = Replicas::start(3, 4);
        let traefik = start_traefik(
            binary,
            version,
            &tools.plugin,
            dynamic_config(&replicas.urls, with_plugin, "300ms"),
        );
        let port = traefik.port(WEB).expect("web port");
        let options = json!({
            "url": format!("http://127.0.0.1:{port}"), "count": SESSIONS, "concurrency": SESSIONS,
            "transports": ["polling"], "rounds": 14, "intervalMs": 250, "reconnect": true, "timeoutMs": 25000,
        });
        let summary = clients_with(options, |_| {
            std::thread::sleep(Duration::from_millis(1500));
            replicas.processes[0].kill();
        });
        let what = format!(
            "replica-0 killed mid-run, Traefik {version}, {}",
            if with_plugin { "plugin" } else { "control" }
        );
        eprintln!(
            "{what}: {} of {SESSIONS} held, {} reconnected",
            ok(&summary),
            summary["reconnected"]
        );
        if !with_plugin {
            assert!(
                ok(&summary) <= SESSIONS / 3,
                "{what}: the control should break most sessions: {summary:#}"
            );
            continue;
        }
        assert_eq!(
            ok(&summary),
            SESSIONS,
            "{what}: {summary:#}\n{}",
            traefik.log()
        );
        let mut moved = 0;
        for session in summary["sessions"].as_array().into_iter().flatten() {
            let answers: Vec<&str> = session["replicas"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let (Some(first), Some(last)) = (answers.first(), answers.last()) else {
                panic!("{what}: no answer: {session}")
            };
            if *first == "replica-0" {
                moved += 1;
                assert_ne!(
                    *last, "replica-0",
                    "{what}: a session stayed on the dead replica: {session}"
                );
                assert!(
                    session["reconnects"].as_u64() >= Some(1),
                    "{what}: {session}"
                );
            } else {
                assert_eq!(
                    session["reconnects"].as_u64(),
                    Some(0),
                    "{what}: a session on a live replica broke: {session}"
                );
                assert!(
                    answers.iter().all(|a| a == first),
                    "{what}: a session on a live replica moved: {session}"
                );
            }
        }
        assert!(
            moved > 0,
            "{what}: no session was on the killed replica: {summary:#}"
        );
    }
}

#[test]
fn two_traefik_instances_share_nothing_and_sessions_hold() {
    let Some(tools) = tools() else { return };
    let replicas = Replicas::start(3, 4);
    for with_plugin in [true, false] {
        // One Traefik of each version, each request of a session going to the other one.
        let proxies: Vec<Traefik> = tools
            .traefik
            .iter()
            .map(|(version, binary)| {
                start_traefik(
                    binary,
                    version,
                    &tools.plugin,
                    dynamic_config(&replicas.urls, with_plugin, "1s"),
                )
            })
            .collect();
        let dir = TempDir::new("alternate").expect("temp dir");
        let port = free_port().expect("port");
        let mut args = vec![port.to_string()];
        args.extend(
            proxies
                .iter()
                .map(|t| t.port(WEB).expect("web port").to_string()),
        );
        let _alternate =
            node("alternate.js", &args, dir.path().join("alternate.log")).expect("alternate.js");
        wait_http_ok(port, "/__alternate_stats", 10).expect("alternate.js up");
        let options = json!({"url": format!("http://127.0.0.1:{port}"), "count": SESSIONS, "transports": ["polling", "websocket"], "rounds": 4, "intervalMs": 200});
        let summary = clients(options);
        let (_, stats) = tests::http_get(port, "/__alternate_stats").expect("stats");
        let what = format!(
            "two Traefiks (3.6 + 3.7) alternating, {}",
            if with_plugin { "plugin" } else { "control" }
        );
        eprintln!(
            "{what}: {} of {SESSIONS} held; requests per Traefik {stats}",
            ok(&summary)
        );
        let per_proxy: Value = serde_json::from_str(&stats).expect("stats JSON");
        assert!(
            per_proxy
                .as_object()
                .is_some_and(|m| m.len() == 2 && m.values().all(|n| n.as_u64() > Some(SESSIONS))),
            "{what}: {stats}"
        );
        if with_plugin {
            assert_eq!(ok(&summary), SESSIONS, "{what}: {summary:#}");
            assert_eq!(
                summary["websocket"].as_u64(),
                Some(SESSIONS),
                "{what}: {summary:#}"
            );
        } else {
            assert!(
                ok(&summary) <= SESSIONS / 3,
                "{what}: the control should break most sessions: {summary:#}"
            );
        }
    }
}
