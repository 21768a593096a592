//! Path c, Coolify's Swarm servers (one host or many): a standalone-built application with
//! Swarm replicas, its labels amended by `gaqno-lb labels` under Label management "Managed
//! manually", through Traefik's real Swarm provider started with Coolify's
//! Swarm proxy command, reading a stand-in manager API (`tests/node/swarm-api.js`): on
//! Traefik 3.7 only, see [`swarm_replicas_hold_behind_coolifys_proxy`]. Each
//! task is a real Socket.IO replica on its own loopback address, over HTTPS.
//!
//! - The control: Coolify's own labels; cookie-less sessions break.
//! - With ours: every transport holds on 3 tasks, then on 5.
//! - A task taken away (`DesiredState: shutdown`) breaks only its own sessions.
//! - A rolling redeploy as Coolify's stack file asks (`update_config.order: start-first`):
//!   new tasks on new addresses start, then the old ones stop; measured.
//!
//! A compose application on a Swarm server is not covered: Coolify deploys compose
//! applications with `docker compose up` even there, and its Swarm proxy reads only the
//! Swarm provider, so Traefik never sees them (see the README).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tests::{free_port, node, ProcessGuard, TempDir, Traefik};

use crate::affinity::tools;
use crate::check::{gaqno_lb, modes};
use crate::docker_labels::{
    assert_only_its_sessions_broke, check_tls, check_under_load, coolify_traefik, gaqno_labels_for,
    https_service, label_map, replica_values, wait_router, wait_servers, Containers, SERVICE,
};

/// The application's uuid, where Coolify puts it in router and service names.
const UUID: &str = "k4c8w0s8g8ok0c4gs0wck8sg";

/// The stand-in manager API and the state it serves.
struct SwarmApi {
    port: u16,
    _process: ProcessGuard,
}

impl SwarmApi {
    fn start(dir: &Path, state: &Value) -> SwarmApi {
        let port = free_port().expect("port");
        let file = dir.join("swarm.json");
        std::fs::write(&file, state.to_string()).expect("swarm.json");
        let process = node(
            "swarm-api.js",
            &[port.to_string(), file.display().to_string()],
            dir.join("swarm-api.log"),
        )
        .expect("swarm api");
        tests::wait_http_ok(port, "/_ping", 15).expect("swarm api up");
        SwarmApi {
            port,
            _process: process,
        }
    }

    /// Replaces the state; Traefik sees it at its next poll (1 s).
    fn set(&self, state: &Value) {
        use std::io::{Read, Write};
        let body = state.to_string();
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("swarm api");
        write!(
            stream,
            "PUT /_test/state HTTP/1.0\r\nHost: swarm\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("PUT state");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}

/// The service with `labels` (its `deploy.labels`) and a task per `(task id, replica index,
/// desired state)`.
fn state(labels: &[String], tasks: &[(String, usize, &str)]) -> Value {
    json!({
        "service": {
            "id": "svc0",
            "name": UUID,
            "labels": label_map(&labels.iter().map(|l| format!("{l}\n")).collect::<String>()),
        },
        "tasks": tasks.iter().map(|(id, i, desired)| json!({
            "id": id,
            "ip": Containers::address(*i),
            "desired": desired,
        })).collect::<Vec<_>>(),
    })
}

fn running(range: std::ops::Range<usize>) -> Vec<(String, usize, &'static str)> {
    range.map(|i| (format!("t{i:02}"), i, "running")).collect()
}

/// Waits until Traefik's service `service` no longer lists server `url`.
fn wait_dropped(traefik: &Traefik, service: &str, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = tests::http_get(traefik.api_port, &format!("/api/http/services/{service}"))
            .unwrap_or((0, String::new()));
        let value: Value = serde_json::from_str(&body).unwrap_or_default();
        let listed = value["loadBalancer"]["servers"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["url"] == url));
        if !listed && value.is_object() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Traefik never dropped {url}: {value}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Traefik 3.7 only: on 3.6, Coolify's tag, path c runs on two real Swarm nodes
/// (`on_docker::swarm`). The stand-in stays for 3.7, which Coolify does not run: one proxy
/// image on the engines keeps the real-Docker tests within CI's time.
#[test]
fn swarm_replicas_hold_behind_coolifys_proxy() {
    let (Some(tools), Some(binary)) = (tools(), gaqno_lb()) else {
        return;
    };
    let versions = tools.traefik.iter().filter(|(v, _)| !v.starts_with("3.6."));
    for (version, traefik_binary) in versions {
        let mut containers = Containers::start(3);
        let dir = TempDir::new("swarm").expect("temp dir");
        let certificates = tests::test_certificates(dir.path(), "localhost").expect("certificates");
        let ca = certificates.0.clone();
        // A standalone application (Dockerfile or Nixpacks) on a Swarm server, its port in
        // Ports exposes, its domain https://127.0.0.1.
        let mut app =
            shared::coolify::Application::standalone(UUID, &["https://127.0.0.1"], containers.port);
        app.id = 7;
        let active = app.active_labels();
        let amended = gaqno_labels_for(
            &binary,
            dir.path(),
            &active.lines().map(str::to_owned).collect::<Vec<_>>(),
        );
        assert!(
            amended.join("\n").starts_with(&active),
            "only lines added: {amended:?}"
        );
        // What Coolify deploys: the stack file's deploy.labels (`generate_compose_file`).
        let coolifys = app.swarm_labels();
        let ours = app.swarm_labels_from(&amended.join("\n"));
        assert!(
            !ours.iter().any(|l| l.starts_with("traefik.swarm.")),
            "never traefik.swarm.* beside traefik.docker.*: {ours:?}"
        );
        let service = format!("{}@swarm", https_service(&ours));

        let api = SwarmApi::start(dir.path(), &state(&coolifys, &running(0..3)));
        let traefik = coolify_traefik(
            traefik_binary,
            version,
            &tools.plugin,
            shared::coolify::proxy::ServerKind::Swarm,
            api.port,
            &certificates,
            Vec::new(),
        );
        let urls: Vec<String> = (0..3).map(|i| containers.url(i)).collect();
        wait_servers(&traefik, &service, &urls);
        let url = format!("https://127.0.0.1:{}", traefik.port("https").expect("port"));

        // The control: Coolify's labels alone.
        let (code, report) = check_tls(&binary, &url, &ca, &["--transport", "polling"]);
        assert_eq!(
            code, 1,
            "Traefik {version}, Coolify's labels alone: {report:#}"
        );
        assert!(
            modes(&report)[0]["held"].as_u64() < Some(6),
            "Traefik {version}: {report:#}"
        );

        // Ours, on the same three tasks.
        api.set(&state(&ours, &running(0..3)));
        wait_router(&traefik, &format!("gaqno-{SERVICE}-socketio@swarm"));
        let (code, report) = check_tls(&binary, &url, &ca, &[]);
        assert_eq!(
            code, 0,
            "Traefik {version}, our labels on Swarm: {report:#}"
        );
        for mode in modes(&report) {
            assert_eq!(mode["held"], mode["sessions"], "{mode:#}");
            if mode["transport"] != "websocket" {
                assert_eq!(replica_values(&mode).len(), 3, "{mode:#}");
            }
        }

        // Scale 3 → 5 (the Swarm page's Replicas field, then a deploy).
        containers.add();
        containers.add();
        api.set(&state(&ours, &running(0..5)));
        let urls: Vec<String> = (0..5).map(|i| containers.url(i)).collect();
        wait_servers(&traefik, &service, &urls);
        let (code, report) = check_tls(&binary, &url, &ca, &["--transport", "polling"]);
        assert_eq!(code, 0, "Traefik {version}, five tasks: {report:#}");
        assert_eq!(replica_values(&modes(&report)[0]).len(), 5, "{report:#}");

        // Task 4 taken away under load: Swarm marks it `shutdown` while it still runs its
        // grace period; the desired-state filter hides it, Traefik drops it at its next poll.
        let run = check_under_load(
            &binary,
            &url,
            &ca,
            &containers,
            "no counted session on task 4",
            |c, new| new >= 2 && c.stat(4, "open") >= 1,
        );
        let mut tasks = running(0..5);
        tasks[4].2 = "shutdown";
        api.set(&state(&ours, &tasks));
        let (_, report) = run.join().expect("check thread");
        containers.replicas[4] = None;
        let mode = &modes(&report)[0];
        let removed = shared::traefik::sticky_cookie_value(&containers.url(4));
        assert_only_its_sessions_broke(
            version,
            mode,
            &removed,
            "only the shut-down task's sessions break",
        );
        eprintln!("Traefik {version}, Swarm, a task shut down under load: {mode}");

        // A rolling redeploy, start-first: each new task (a new address) starts, then an old
        // one is marked `shutdown` and runs out its grace period: it ends only once Traefik
        // has dropped it (an app that keeps serving after SIGTERM until then).
        let urls: Vec<String> = (0..4).map(|i| containers.url(i)).collect();
        wait_servers(&traefik, &service, &urls);
        let run = check_under_load(
            &binary,
            &url,
            &ca,
            &containers,
            "no counted sessions before the redeploy",
            |_, new| new >= 4,
        );
        let mut tasks = running(0..4);
        for old in 0..4 {
            containers.add();
            let new = containers.replicas.len() - 1;
            tasks.push((format!("t{new:02}"), new, "running"));
            api.set(&state(&ours, &tasks));
            std::thread::sleep(Duration::from_millis(600));
            for task in tasks.iter_mut().filter(|(_, i, _)| *i == old) {
                task.2 = "shutdown";
            }
            api.set(&state(&ours, &tasks));
            wait_dropped(&traefik, &service, &containers.url(old));
            tasks.retain(|(_, i, _)| *i != old);
            containers.replicas[old] = None;
        }
        let (_, report) = run.join().expect("check thread");
        let mode = &modes(&report)[0];
        let (sessions, held) = (
            mode["sessions"].as_u64().unwrap_or(0),
            mode["held"].as_u64().unwrap_or(0),
        );
        eprintln!(
            "Traefik {version}, Swarm rolling redeploy (start-first, new addresses): {held} of {sessions} sessions held over 6 s: {mode}"
        );
        assert!(
            held < sessions,
            "open sessions on old tasks break: {mode:#}"
        );
        // Each old task ran until Traefik dropped it: no request failed, sessions on it only
        // had to reconnect.
        assert!(
            mode["errors"]
                .as_object()
                .into_iter()
                .flatten()
                .all(|(why, _)| why.starts_with("session ID unknown")),
            "Traefik {version}: {mode:#}"
        );
        let fresh: Vec<String> = (5..containers.replicas.len())
            .map(|i| containers.url(i))
            .collect();
        wait_servers(&traefik, &service, &fresh);
        let (code, report) = check_tls(&binary, &url, &ca, &["--transport", "polling"]);
        assert_eq!(code, 0, "Traefik {version}, after the redeploy: {report:#}");
    }
}
