//! Coolify "Replicas" on one server: Traefik's real Docker provider (3.6.15, 3.7.15) reads
//! the labels `gaqno-lb labels` writes on top of Coolify-style generated labels, from a
//! stand-in Docker Engine API (`tests/node/docker-api.js`; no Docker daemon runs here).
//! Every "container" is a real Socket.IO replica on its own loopback address (127.0.0.2,
//! 127.0.0.3, …), all on one port, as containers on one Docker network are.
//!
//! - The control: Coolify's labels alone; cookie-less polling sessions break.
//! - With our labels: every transport holds, on every replica.
//! - Scaling 3 → 5 (the same labels on two more containers, announced by an event) adds
//!   two servers; sessions hold on all five.
//! - A container removed: only the sessions it held break; new ones go to the others.
//! - `tests/corpus/labels/`: labels with a known mistake; Traefik's reaction and the lint
//!   finding agree.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shared::model::{HealthCheck, Project, Service, Target};
use shared::traefik::GoDuration;
use tests::{free_port, node, ProcessGuard, TempDir, Traefik, TraefikSetup, WEB};

use crate::affinity::tools;
use crate::check::{check, gaqno_lb, modes};

/// Coolify's labels for an application `t3st` served on plain HTTP (entrypoint `web` here),
/// as its generator writes them: router and service `http-0-t3st`, its `gzip` middleware.
fn coolify_labels(port: u16) -> String {
    format!(
        "coolify.managed=true
coolify.applicationId=7
traefik.enable=true
traefik.http.middlewares.gzip.compress=true
traefik.http.routers.http-0-t3st.entryPoints={WEB}
traefik.http.routers.http-0-t3st.middlewares=gzip
traefik.http.routers.http-0-t3st.rule=Host(`127.0.0.1`) && PathPrefix(`/`)
traefik.http.routers.http-0-t3st.service=http-0-t3st
traefik.http.services.http-0-t3st.loadbalancer.server.port={port}
"
    )
}

/// The project `gaqno-lb labels` reads: one Socket.IO service `chat`.
fn project() -> Project {
    let mut service = Service::new("chat", 0, 0);
    service.hosts.clear();
    service.servers.clear();
    service.sticky.secure = false; // plain HTTP on loopback
    service.health_check = Some(HealthCheck {
        interval: Some(GoDuration::new("1s")),
        ..HealthCheck::gaqno()
    });
    service.set_socket_io(true);
    Project {
        target: Target {
            https_entry_point: WEB.into(),
            cert_resolver: None,
            redirect_http: false,
            ..Target::default()
        },
        services: vec![service],
    }
}

/// `gaqno-lb labels --service chat` on `labels`, as an operator runs it.
fn gaqno_labels(binary: &Path, dir: &Path, labels: &str) -> String {
    let project_file = dir.join("project.yaml");
    std::fs::write(
        &project_file,
        shared::yaml::to_string(&project()).expect("YAML"),
    )
    .expect("project file");
    let pasted = dir.join("coolify-labels.txt");
    std::fs::write(&pasted, labels).expect("labels file");
    let out = Command::new(binary)
        .args(["labels", "--service", "chat", "--project"])
        .arg(&project_file)
        .arg(&pasted)
        .output()
        .expect("gaqno-lb labels");
    assert!(
        out.status.success(),
        "gaqno-lb labels: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Label text as the Engine API's `Labels` map.
fn label_map(text: &str) -> Value {
    let labels = shared::labels::Labels::parse(text).expect("labels");
    let map: serde_json::Map<String, Value> = labels
        .labels()
        .map(|l| (l.key.clone(), Value::String(l.value.clone())))
        .collect();
    Value::Object(map)
}

/// Replica processes, one per container address.
struct Containers {
    port: u16,
    replicas: Vec<Option<ProcessGuard>>,
    dir: TempDir,
}

impl Containers {
    fn start(count: usize) -> Containers {
        let dir = TempDir::new("docker-replicas").expect("temp dir");
        let mut containers = Containers {
            port: free_port().expect("port"),
            replicas: Vec::new(),
            dir,
        };
        for _ in 0..count {
            containers.add();
        }
        containers
    }

    fn address(i: usize) -> String {
        format!("127.0.0.{}", i + 2)
    }

    fn url(&self, i: usize) -> String {
        format!("http://{}:{}", Containers::address(i), self.port)
    }

    fn add(&mut self) {
        let i = self.replicas.len();
        let args = vec![
            self.port.to_string(),
            format!("container-{i}"),
            "4".into(),
            "/socket.io/".into(),
            Containers::address(i),
        ];
        let process = node(
            "replica.js",
            &args,
            self.dir.path().join(format!("container-{i}.log")),
        )
        .expect("replica");
        let deadline = Instant::now() + Duration::from_secs(15);
        let address = format!("{}:{}", Containers::address(i), self.port);
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(Instant::now() < deadline, "replica {address} did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        self.replicas.push(Some(process));
    }

    /// A counter of replica `i`'s `/stats`: `open` (Engine.IO sessions open now) or
    /// `connections` (Socket.IO connects so far).
    fn stat(&self, i: usize, key: &str) -> u64 {
        use std::io::{Read, Write};
        let Ok(mut stream) =
            std::net::TcpStream::connect((Containers::address(i).as_str(), self.port))
        else {
            return 0;
        };
        let _ = stream.write_all(b"GET /stats HTTP/1.0\r\nHost: replica\r\n\r\n");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v[key].as_u64())
            .unwrap_or(0)
    }

    /// The Engine API's view: the live replicas, each with `labels`.
    fn api_list(&self, labels: &Value) -> Value {
        Value::Array(
            self.replicas
                .iter()
                .enumerate()
                .filter(|(_, p)| p.is_some())
                .map(|(i, _)| {
                    json!({
                        "id": format!("{:064x}", i + 1),
                        "name": format!("t3st-{i}"),
                        "ip": Containers::address(i),
                        "labels": labels,
                    })
                })
                .collect(),
        )
    }
}

/// The stand-in Engine API.
struct DockerApi {
    port: u16,
    _process: ProcessGuard,
}

impl DockerApi {
    fn start(dir: &Path, containers: &Value) -> DockerApi {
        let port = free_port().expect("port");
        let file = dir.join("containers.json");
        std::fs::write(&file, containers.to_string()).expect("containers.json");
        let process = node(
            "docker-api.js",
            &[port.to_string(), file.display().to_string()],
            dir.join("docker-api.log"),
        )
        .expect("docker api");
        tests::wait_http_ok(port, "/_ping", 15).expect("docker api up");
        DockerApi {
            port,
            _process: process,
        }
    }

    /// Replaces the containers; the stand-in announces the change on `/events`.
    fn set(&self, containers: &Value) {
        use std::io::{Read, Write};
        let body = containers.to_string();
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("docker api");
        write!(
            stream,
            "PUT /_test/containers HTTP/1.0\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("PUT containers");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}

/// Waits until Traefik's Docker provider shows `service` with exactly `urls` as servers.
fn wait_servers(traefik: &Traefik, service: &str, urls: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = String::new();
    loop {
        let (status, body) = tests::http_get(
            traefik.api_port,
            &format!("/api/http/services/{service}@docker"),
        )
        .unwrap_or((0, String::new()));
        if status == 200 {
            let value: Value = serde_json::from_str(&body).unwrap_or_default();
            let mut seen: Vec<String> = value["loadBalancer"]["servers"]
                .as_array()
                .map(|s| {
                    s.iter()
                        .filter_map(|s| s["url"].as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            seen.sort();
            let mut wanted = urls.to_vec();
            wanted.sort();
            let all_up = urls
                .iter()
                .all(|u| value["serverStatus"][u].as_str() == Some("UP"));
            if seen == wanted && all_up {
                return;
            }
            last = body;
        }
        assert!(
            Instant::now() < deadline,
            "Traefik {} never showed {service} with {urls:?}: {last}\n{}",
            traefik.version,
            traefik.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn start_traefik(binary: &Path, version: &str, plugin: &Path, api: &DockerApi) -> Traefik {
    let setup = TraefikSetup {
        entry_points: vec![WEB.into()],
        plugin: Some((
            shared::model::DEFAULT_PLUGIN_NAME.into(),
            plugin.to_path_buf(),
        )),
        docker_api: Some(api.port),
        ..TraefikSetup::default()
    };
    Traefik::start(binary, version, &setup).expect("Traefik")
}

fn replica_values(mode: &Value) -> Vec<String> {
    mode["replicas"]
        .as_object()
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn coolify_replicas_hold_through_docker_labels() {
    let (Some(tools), Some(binary)) = (tools(), gaqno_lb()) else {
        return;
    };
    for (version, traefik_binary) in &tools.traefik {
        let mut containers = Containers::start(3);
        let dir = TempDir::new("docker-labels").expect("temp dir");
        let coolify = coolify_labels(containers.port);
        let ours = gaqno_labels(&binary, dir.path(), &coolify);
        assert!(ours.starts_with(&coolify), "only lines added: {ours}");

        // The control: Coolify's labels alone.
        let api = DockerApi::start(dir.path(), &containers.api_list(&label_map(&coolify)));
        let traefik = start_traefik(traefik_binary, version, &tools.plugin, &api);
        let urls: Vec<String> = (0..3).map(|i| containers.url(i)).collect();
        wait_servers(&traefik, "http-0-t3st", &urls);
        let url = format!("http://127.0.0.1:{}", traefik.port(WEB).expect("port"));
        let (code, report) = check(&binary, &url, &["--transport", "polling"]);
        let polling = &modes(&report)[0];
        assert_eq!(
            code, 1,
            "Traefik {version}, Coolify's labels alone: {report:#}"
        );
        assert!(
            polling["held"].as_u64() < Some(6),
            "Traefik {version}: cookie-less sessions break without our labels: {polling:#}"
        );

        // Our labels on the same three containers (Traefik re-reads them on the event).
        api.set(&containers.api_list(&label_map(&ours)));
        wait_router(&traefik, "gaqno-chat-socketio");
        let (code, report) = check(&binary, &url, &[]);
        assert_eq!(code, 0, "Traefik {version}, our labels: {report:#}");
        let expected: Vec<String> = urls
            .iter()
            .map(|u| shared::traefik::sticky_cookie_value(u))
            .collect();
        for mode in modes(&report) {
            assert_eq!(mode["held"], mode["sessions"], "{mode:#}");
            if mode["transport"] != "websocket" {
                let mut seen = replica_values(&mode);
                seen.sort();
                let mut wanted = expected.clone();
                wanted.sort();
                assert_eq!(
                    seen, wanted,
                    "Traefik {version}: all three replicas: {mode:#}"
                );
            }
        }

        // Scale 3 → 5: two more containers with the very same labels.
        containers.add();
        containers.add();
        api.set(&containers.api_list(&label_map(&ours)));
        let urls: Vec<String> = (0..5).map(|i| containers.url(i)).collect();
        wait_servers(&traefik, "http-0-t3st", &urls);
        let (code, report) = check(&binary, &url, &["--transport", "polling"]);
        assert_eq!(code, 0, "Traefik {version}, five containers: {report:#}");
        assert_eq!(
            replica_values(&modes(&report)[0]).len(),
            5,
            "Traefik {version}: {report:#}"
        );

        // Remove container 4 while sessions run: only its sessions break.
        let args = [
            "--transport",
            "polling",
            "--duration",
            "6",
            "--rounds",
            "8",
            "--interval",
            "500",
        ];
        let connects = |c: &Containers| (0..5).map(|i| c.stat(i, "connections")).sum::<u64>();
        let connects_before = connects(&containers);
        let run = {
            let binary = binary.clone();
            let url = url.clone();
            std::thread::spawn(move || check(&binary, &url, &args))
        };
        // Remove it while the run's own sessions are open on it. check first runs one probe
        // session alone, to its end, and does not count it: two connects mean the probe is
        // over and the counted sessions have begun, so a session open on container 4 from
        // then on is one of them.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !(connects(&containers) >= connects_before + 2 && containers.stat(4, "open") >= 1) {
            assert!(
                Instant::now() < deadline,
                "no counted session on container 4"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        containers.replicas[4] = None; // the replica process ends with its guard
        api.set(&containers.api_list(&label_map(&ours)));
        let (_, report) = run.join().expect("check thread");
        let mode = &modes(&report)[0];
        let removed = shared::traefik::sticky_cookie_value(&containers.url(4));
        let broken: Vec<&String> = mode["broken_by_replica"]
            .as_object()
            .map(|b| b.keys().collect())
            .unwrap_or_default();
        assert!(
            broken.iter().all(|v| **v == removed),
            "Traefik {version}: only the removed container's sessions break: {mode:#}"
        );
        let held_elsewhere: u64 = mode["replicas"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(v, _)| **v != removed)
            .map(|(_, n)| n.as_u64().unwrap_or(0))
            .sum();
        assert!(held_elsewhere > 0, "{mode:#}");
        // The removal did hit sessions: the ones the container held at the time broke.
        assert!(
            mode["broken_by_replica"][&removed].as_u64() > Some(0),
            "Traefik {version}: sessions on the removed container: {mode:#}"
        );
        eprintln!("Traefik {version}, a container removed under load: {mode}");
        assert_eq!(
            mode["unidentified"], 0,
            "Traefik {version}: every broken session named its replica: {mode:#}"
        );
        let urls: Vec<String> = (0..4).map(|i| containers.url(i)).collect();
        wait_servers(&traefik, "http-0-t3st", &urls);
        let (code, report) = check(&binary, &url, &["--transport", "polling"]);
        assert_eq!(code, 0, "Traefik {version}, after the removal: {report:#}");
        assert!(!replica_values(&modes(&report)[0]).contains(&removed));
    }
}

/// Waits until Traefik shows router `name` from the Docker provider, enabled.
fn wait_router(traefik: &Traefik, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = tests::http_get(
            traefik.api_port,
            &format!("/api/http/routers/{name}@docker"),
        )
        .unwrap_or((0, String::new()));
        if status == 200 && body.contains("\"status\":\"enabled\"") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Traefik {}: router {name}@docker never enabled: {body}\n{}",
            traefik.version,
            traefik.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Each file in `tests/corpus/labels/` is one container's labels with a known mistake.
/// Headers: `# traefik: skipped` (the provider drops the container: none of its routers
/// load) or `accepted`; `# lint: <rule>` the finding `shared::lint` must report, on a line
/// of the file that holds the mistake.
#[test]
fn label_mistakes_traefik_and_lint_agree() {
    let Some(tools) = tools() else {
        return;
    };
    let dir = tests::project_root().join("tests/corpus/labels");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/corpus/labels")
        .filter_map(|e| Some(e.ok()?.path()))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    let containers = Containers::start(1);
    for (version, traefik_binary) in &tools.traefik {
        for file in &files {
            let text = std::fs::read_to_string(file).expect("corpus file");
            let header = |key: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(&format!("# {key}: ")))
                    .map(str::trim)
                    .unwrap_or_else(|| panic!("{}: no `# {key}:` header", file.display()))
                    .to_owned()
            };
            let (expect_traefik, expect_rule) = (header("traefik"), header("lint"));
            let text = text.replace("PORT", &containers.port.to_string());
            let labels = shared::labels::Labels::parse(&text).expect("labels");
            let read = labels.to_config().expect("labels read");
            let findings = shared::lint::lint(
                &read.config,
                &shared::lint::LintOptions {
                    source: shared::lint::Source::DockerLabels,
                    ..Default::default()
                },
            );
            let finding = findings
                .iter()
                .find(|d| d.rule == expect_rule)
                .unwrap_or_else(|| panic!("{}: no {expect_rule}: {findings:#?}", file.display()));
            assert!(
                labels.line_of(&finding.path).is_some(),
                "{}: the finding names a line",
                file.display()
            );

            let api_dir = TempDir::new("docker-corpus").expect("temp dir");
            let api = DockerApi::start(api_dir.path(), &containers.api_list(&label_map(&text)));
            let traefik = start_traefik(traefik_binary, version, &tools.plugin, &api);
            // Wait for the provider's verdict: the container's routers, or its decode error.
            let deadline = Instant::now() + Duration::from_secs(20);
            let routers = loop {
                let (_, body) =
                    tests::http_get(traefik.api_port, "/api/rawdata").unwrap_or((0, String::new()));
                let raw: Value = serde_json::from_str(&body).unwrap_or_default();
                let routers: Vec<String> = raw["routers"]
                    .as_object()
                    .map(|r| {
                        r.keys()
                            .filter(|k| k.ends_with("@docker"))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                let decided = match expect_traefik.as_str() {
                    "skipped" => traefik.log().contains("field not found"),
                    _ => !routers.is_empty(),
                };
                if decided || Instant::now() > deadline {
                    break routers;
                }
                std::thread::sleep(Duration::from_millis(250));
            };
            match expect_traefik.as_str() {
                "skipped" => assert!(
                    routers.is_empty(),
                    "Traefik {version}, {}: the container should be dropped: {routers:?}\n{}",
                    file.display(),
                    traefik.log()
                ),
                "accepted" => assert!(
                    !routers.is_empty(),
                    "Traefik {version}, {}: the container's routers should load\n{}",
                    file.display(),
                    traefik.log()
                ),
                other => panic!("{}: unknown `# traefik: {other}`", file.display()),
            }
        }
    }
}
