//! Replicas on one Coolify server through Traefik's real Docker provider, reading labels from
//! a stand-in Docker Engine API (`tests/node/docker-api.js`). Every "container" is a real
//! Socket.IO replica on its own loopback address (127.0.0.2, 127.0.0.3, …), all on one port,
//! as containers on one Docker network are. Coolify's paths run on a real Docker Engine with
//! Traefik 3.6 (`on_docker`); these stay for what that does not cover:
//!
//! - Path b, a Raw Compose Deployment, on Traefik 3.7 (Coolify runs 3.6): the labels
//!   `gaqno-lb compose` writes, Traefik started with Coolify's own proxy command, HTTPS
//!   ([`raw_compose_replicas_hold_behind_coolifys_proxy`]).
//! - `tests/corpus/labels/` on Traefik 3.7: labels with a known mistake; Traefik's reaction
//!   and the lint finding agree ([`label_mistakes_traefik_and_lint_agree`]; on 3.6 they run
//!   as real containers, `on_docker::label_corpus`).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tests::{free_port, node, ProcessGuard, TempDir, Traefik, TraefikSetup, WEB};

use crate::affinity::tools;
use crate::check::{gaqno_lb, modes};

/// Label text as the Engine API's `Labels` map.
pub(crate) fn label_map(text: &str) -> Value {
    let labels = shared::labels::Labels::parse(text).expect("labels");
    let map: serde_json::Map<String, Value> = labels
        .labels()
        .map(|l| (l.key.clone(), Value::String(l.value.clone())))
        .collect();
    Value::Object(map)
}

/// Replica processes, one per container address.
pub(crate) struct Containers {
    pub(crate) port: u16,
    pub(crate) replicas: Vec<Option<ProcessGuard>>,
    dir: TempDir,
}

impl Containers {
    pub(crate) fn start(count: usize) -> Containers {
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

    pub(crate) fn address(i: usize) -> String {
        format!("127.0.0.{}", i + 2)
    }

    pub(crate) fn url(&self, i: usize) -> String {
        format!("http://{}:{}", Containers::address(i), self.port)
    }

    pub(crate) fn add(&mut self) {
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
    pub(crate) fn stat(&self, i: usize, key: &str) -> u64 {
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

impl Containers {
    /// Socket.IO connects so far over every replica (a stopped one counts none).
    pub(crate) fn connects(&self) -> u64 {
        (0..self.replicas.len())
            .map(|i| self.stat(i, "connections"))
            .sum()
    }
}

/// `check` over long-polling for 6 s (sessions of 8 round trips 500 ms apart, started until
/// then) on its own thread, returned once `ready(containers, connects since the start)`
/// holds. `check` first runs one probe session alone and does not count it: two connects
/// mean the counted sessions have begun.
pub(crate) fn check_under_load(
    binary: &Path,
    url: &str,
    ca: &Path,
    containers: &Containers,
    waiting_for: &str,
    ready: impl Fn(&Containers, u64) -> bool,
) -> std::thread::JoinHandle<(i32, Value)> {
    let before = containers.connects();
    let run = {
        let (binary, url, ca) = (binary.to_path_buf(), url.to_owned(), ca.to_path_buf());
        std::thread::spawn(move || {
            check_tls(
                &binary,
                &url,
                &ca,
                &[
                    "--transport",
                    "polling",
                    "--duration",
                    "6",
                    "--rounds",
                    "8",
                    "--interval",
                    "500",
                ],
            )
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready(containers, containers.connects().saturating_sub(before)) {
        assert!(Instant::now() < deadline, "{waiting_for}");
        std::thread::sleep(Duration::from_millis(50));
    }
    run
}

/// In a `check` mode's report: every broken session was on the replica with sticky cookie
/// value `value`, and some were.
pub(crate) fn assert_only_its_sessions_broke(version: &str, mode: &Value, value: &str, what: &str) {
    let broken: Vec<&String> = mode["broken_by_replica"]
        .as_object()
        .map(|b| b.keys().collect())
        .unwrap_or_default();
    assert!(
        broken.iter().all(|v| *v == value),
        "Traefik {version}: {what}: {mode:#}"
    );
    assert!(
        mode["broken_by_replica"][value].as_u64() > Some(0),
        "Traefik {version}: the sessions it held broke: {mode:#}"
    );
}

/// The stand-in Engine API.
pub(crate) struct DockerApi {
    pub(crate) port: u16,
    _process: ProcessGuard,
}

impl DockerApi {
    pub(crate) fn start(dir: &Path, containers: &Value) -> DockerApi {
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
    pub(crate) fn set(&self, containers: &Value) {
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
pub(crate) fn wait_servers(traefik: &Traefik, service: &str, urls: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = String::new();
    loop {
        let (status, body) = tests::http_get(
            traefik.api_port,
            &format!("/api/http/services/{}", at_provider(service)),
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

/// Traefik started with Coolify's proxy command for a `kind` server, the gaqno-lb plugin, the
/// stand-in Engine API on `api_port`, and `files` in its dynamic directory. No ACME server is
/// reachable, so Traefik serves its default certificate: here `certificates`' (from
/// [`tests::test_certificates`]: CA, key, certificate), which `check` trusts through the CA.
pub(crate) fn coolify_traefik(
    binary: &Path,
    version: &str,
    plugin: &Path,
    kind: shared::coolify::proxy::ServerKind,
    api_port: u16,
    certificates: &(std::path::PathBuf, std::path::PathBuf, std::path::PathBuf),
    mut files: Vec<(String, String)>,
) -> Traefik {
    let (_, key, cert) = certificates;
    files.push((
        "certificates.yaml".into(),
        format!(
            "tls:\n  stores:\n    default:\n      defaultCertificate:\n        certFile: {}\n        keyFile: {}\n",
            cert.display(),
            key.display()
        ),
    ));
    let setup = TraefikSetup {
        files,
        plugin: Some((
            shared::model::DEFAULT_PLUGIN_NAME.into(),
            plugin.to_path_buf(),
        )),
        docker_api: Some(api_port),
        coolify: Some(kind),
        ..TraefikSetup::default()
    };
    Traefik::start(binary, version, &setup).expect("Traefik")
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

pub(crate) fn replica_values(mode: &Value) -> Vec<String> {
    mode["replicas"]
        .as_object()
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default()
}

/// The compose service replicated in these tests, as GAQNO names it.
pub(crate) const SERVICE: &str = "omnichannel-service";

/// `gaqno-lb compose` on an application's compose file, as the operator runs it for a Raw
/// Compose Deployment; returns the service's labels as Coolify deploys them: the file's
/// labels plus the three Coolify adds in Raw mode (`Application::oldRawParser`).
fn raw_compose_labels(binary: &Path, dir: &Path, port: u16) -> Vec<String> {
    let app = dir.join("docker-compose.yaml");
    std::fs::write(
        &app,
        format!("services:\n  {SERVICE}:\n    build: .\n    container_name: omni\n    ports: ['{port}:{port}']\n  redis:\n    image: redis:7\n"),
    )
    .expect("compose file");
    let out = Command::new(binary)
        .args(["compose", "--service", SERVICE, "--replicas", "3"])
        .args(["--domain", "https://127.0.0.1"])
        .arg(&app)
        .output()
        .expect("gaqno-lb compose");
    assert!(
        out.status.success(),
        "gaqno-lb compose: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let document: Value =
        shared::yaml::from_str(&String::from_utf8_lossy(&out.stdout)).expect("compose YAML");
    assert_eq!(document["services"][SERVICE]["deploy"]["replicas"], 3);
    let mut labels: Vec<String> = document["services"][SERVICE]["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .filter_map(|l| l.as_str().map(str::to_owned))
        .collect();
    labels.extend([
        "coolify.managed=true".to_owned(),
        "coolify.applicationId=7".to_owned(),
        "coolify.type=application".to_owned(),
    ]);
    labels
}

/// `gaqno-lb labels --service omnichannel-service` on `shown` (the labels Coolify shows for
/// the service): only our lines, for the compose file.
pub(crate) fn gaqno_labels_for(binary: &Path, dir: &Path, shown: &[String]) -> Vec<String> {
    let pasted = dir.join("coolify-compose-labels.txt");
    std::fs::write(
        &pasted,
        shown.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .expect("labels file");
    let out = Command::new(binary)
        .args(["labels", "--service", SERVICE])
        .arg(&pasted)
        .output()
        .expect("gaqno-lb labels");
    assert!(
        out.status.success(),
        "gaqno-lb labels: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The Engine API's `Labels` map of `key=value` lines.
pub(crate) fn map_of(labels: &[String]) -> Value {
    label_map(&labels.iter().map(|l| format!("{l}\n")).collect::<String>())
}

/// The name in `traefik.http.services.<name>.loadbalancer.server.port` of Coolify's HTTPS
/// router's service.
pub(crate) fn https_service(labels: &[String]) -> String {
    labels
        .iter()
        .find_map(|l| {
            let rest = l.strip_prefix("traefik.http.services.https-")?;
            let (name, _) = rest.split_once(".loadbalancer.server.port=")?;
            Some(format!("https-{name}"))
        })
        .expect("Coolify's https service")
}

/// `gaqno-lb check <url> --format json <args>`, trusting the test CA (`SSL_CERT_FILE`).
pub(crate) fn check_tls(binary: &Path, url: &str, ca: &Path, args: &[&str]) -> (i32, Value) {
    crate::check::check_trusting(binary, url, Some(ca), args)
}

/// Coolify's proxy container as the Engine API lists it: `coolify-proxy`, started by
/// `docker compose` from Coolify's proxy compose file (project `coolify-proxy`, service
/// `traefik`), with the labels `generateDefaultProxyConfiguration` gives it.
fn with_proxy(mut list: Value) -> Value {
    let mut labels: Vec<String> = shared::coolify::proxy::PROXY_LABELS
        .iter()
        .map(|l| (*l).to_owned())
        .collect();
    labels.extend([
        "com.docker.compose.project=coolify-proxy".to_owned(),
        "com.docker.compose.service=traefik".to_owned(),
    ]);
    if let Some(list) = list.as_array_mut() {
        list.push(json!({
            "id": format!("{:064x}", 0xc0_01f1u64),
            "name": "coolify-proxy",
            "ip": "127.0.0.1",
            "labels": map_of(&labels),
        }));
    }
    list
}

/// A router's middlewares as Traefik's API shows them.
fn router_middlewares(traefik: &Traefik, router: &str) -> Vec<String> {
    let (_, body) = tests::http_get(
        traefik.api_port,
        &format!("/api/http/routers/{router}@docker"),
    )
    .unwrap_or((0, String::new()));
    let value: Value = serde_json::from_str(&body).unwrap_or_default();
    value["middlewares"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().map(str::to_owned))
        .collect()
}

/// Path b, one standalone server with a Raw Compose Deployment: Traefik started with
/// Coolify's own proxy command (entrypoints `http`/`https`, `letsencrypt`, the Docker
/// provider with `exposedbydefault=false`, log level ERROR), reading the labels of the file
/// `gaqno-lb compose` wrote from a stand-in Engine API, over HTTPS.
///
/// - The control: Coolify's labels for the same service alone; cookie-less sessions break.
/// - With the file's labels: every transport holds on all three replicas; the plugin never
///   logs under Coolify's level, yet `check` sees it in the sids; REST goes through
///   Coolify's router, whose only middleware is Coolify's gzip.
/// - Scale 3 → 5, then a replica removed under load: only its sessions break.
/// - A redeploy as Coolify does it for compose (every container stopped, then new ones
///   started): measured, open sessions break.
///
/// Traefik 3.7 only: on 3.6, Coolify's tag, the same file runs on a real Docker Engine
/// (`on_docker::raw_compose`). The stand-in stays for 3.7, which Coolify does not run: one
/// proxy image on the engines keeps the real-Docker tests within CI's time.
#[test]
fn raw_compose_replicas_hold_behind_coolifys_proxy() {
    let (Some(tools), Some(binary)) = (tools(), gaqno_lb()) else {
        return;
    };
    for (version, traefik_binary) in tools.traefik.iter().filter(|(v, _)| !v.starts_with("3.6.")) {
        let mut containers = Containers::start(3);
        let dir = TempDir::new("raw-compose").expect("temp dir");
        let certificates = tests::test_certificates(dir.path(), "localhost").expect("certificates");
        let ca = certificates.0.clone();
        let ours = raw_compose_labels(&binary, dir.path(), containers.port);
        let service = https_service(&ours);
        // Coolify's labels for this service with the domain `https://127.0.0.1:<port>`, as its
        // managed compose deployment writes them (`fqdnLabelsForTraefik` via the parser).
        let domain = format!("https://127.0.0.1:{}", containers.port);
        let coolify = shared::coolify::Application::compose(
            shared::compose::raw::DEFAULT_NAME_STEM,
            &[domain.as_str()],
        )
        .compose_labels(SERVICE, &["traefik.docker.network=coolify".to_owned()]);
        assert_eq!(
            https_service(&coolify),
            service,
            "the same router and service names"
        );

        let api = DockerApi::start(
            dir.path(),
            &with_proxy(containers.api_list(&map_of(&coolify))),
        );
        let traefik = coolify_traefik(
            traefik_binary,
            version,
            &tools.plugin,
            shared::coolify::proxy::ServerKind::Standalone,
            api.port,
            &certificates,
            Vec::new(),
        );
        let urls: Vec<String> = (0..3).map(|i| containers.url(i)).collect();
        wait_servers(&traefik, &service, &urls);
        let url = format!("https://127.0.0.1:{}", traefik.port("https").expect("port"));

        // The control: Coolify's labels alone.
        let (code, report) = check_tls(&binary, &url, &ca, &["--transport", "polling"]);
        let polling = &modes(&report)[0];
        assert_eq!(
            code, 1,
            "Traefik {version}, Coolify's labels alone: {report:#}"
        );
        assert!(
            polling["held"].as_u64() < Some(6),
            "Traefik {version}: cookie-less sessions break without our labels: {polling:#}"
        );
        assert_eq!(report["plugin_answered"], false, "{report:#}");

        // The Raw Compose Deployment's labels on the same three containers.
        api.set(&with_proxy(containers.api_list(&map_of(&ours))));
        let socketio = format!("gaqno-{SERVICE}-socketio");
        wait_router(&traefik, &socketio);
        let (code, report) = check_tls(&binary, &url, &ca, &[]);
        assert_eq!(
            code, 0,
            "Traefik {version}, the raw compose labels: {report:#}"
        );
        assert_eq!(modes(&report).len(), 3, "polling, upgrade, websocket");
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
                assert_eq!(mode["plugin_tokens"], mode["sessions"], "{mode:#}");
            }
        }
        // Coolify's log level is ERROR: the INFO line `Plugins loaded.` never shows; the
        // sids say the plugin answered.
        assert!(
            !traefik.log().contains("Plugins loaded"),
            "{}",
            traefik.log()
        );
        assert_eq!(report["plugin_answered"], true, "{report:#}");

        // REST takes Coolify's router, whose middlewares are Coolify's alone; the Socket.IO
        // router carries the affinity middleware.
        let https_router = service.clone();
        assert_eq!(
            router_middlewares(&traefik, &https_router),
            ["gzip@docker"],
            "Traefik {version}: REST never enters the plugin"
        );
        assert!(
            router_middlewares(&traefik, &socketio)
                .contains(&format!("gaqno-{SERVICE}-affinity@docker")),
            "Traefik {version}: {:?}",
            router_middlewares(&traefik, &socketio)
        );
        // Traefik's API, read as an operator can on the server without exposing anything
        // new: Coolify's proxy labels route `api@internal` on the `http` entrypoint with no
        // rule, so Traefik's default rule for the container applies.
        let (_, body) = tests::http_get(traefik.api_port, "/api/http/routers/traefik@docker")
            .expect("proxy router");
        let proxy_router: Value = serde_json::from_str(&body).expect("router JSON");
        assert_eq!(
            proxy_router["rule"], "Host(`traefik-coolify-proxy`)",
            "Traefik {version}: {proxy_router:#}"
        );
        // What `curl -H 'Host: traefik-coolify-proxy' http://127.0.0.1/api/rawdata` sends.
        let answer = {
            use std::io::{Read, Write};
            let mut stream =
                std::net::TcpStream::connect(("127.0.0.1", traefik.port("http").expect("port")))
                    .expect("http entrypoint");
            stream
                .write_all(b"GET /api/rawdata HTTP/1.0\r\nHost: traefik-coolify-proxy\r\n\r\n")
                .expect("request");
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).expect("answer");
            String::from_utf8_lossy(&answer).into_owned()
        };
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(
            head.starts_with("HTTP/1.0 200"),
            "Traefik {version}: {head}"
        );
        let rawdata = dir.path().join("rawdata.json");
        std::fs::write(&rawdata, body).expect("rawdata file");
        let rawdata_arg = rawdata.display().to_string();
        let (code, report) = check_tls(
            &binary,
            &url,
            &ca,
            &["--transport", "polling", "--traefik-api", &rawdata_arg],
        );
        assert_eq!(code, 0, "Traefik {version}, --traefik-api FILE: {report:#}");
        let servers = report["traefik"]["services"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["name"] == service.as_str())
            .map(|s| s["servers"].as_array().map_or(0, Vec::len));
        assert_eq!(servers, Some(3), "Traefik {version}: {report:#}");
        assert_eq!(
            modes(&report)[0]["replica_urls"]
                .as_object()
                .map(|u| u.len()),
            Some(3),
            "each replica named by its server: {report:#}"
        );

        // Coolify's HTTP router redirects to HTTPS.
        let http_port = traefik.port("http").expect("http port");
        let answer = tests::http_request(http_port, "GET", "/v1/health", &[]).expect("http");
        assert!(
            (301..=308).contains(&answer.status)
                && answer
                    .header("location")
                    .is_some_and(|l| l.starts_with("https://127.0.0.1")),
            "Traefik {version}: {answer:?}"
        );

        // The managed compose deployment instead: `gaqno-lb labels` on what Coolify shows for
        // the service, its lines put in the compose file's labels, Coolify's parser adding its
        // own around them (`applicationParser`), which appends every
        // `traefik.http.middlewares.<name>` it finds to its own routers.
        let network = "traefik.docker.network=coolify".to_owned();
        let app = shared::coolify::Application::compose(
            shared::compose::raw::DEFAULT_NAME_STEM,
            &[domain.as_str()],
        );
        let shown = app.compose_labels(SERVICE, std::slice::from_ref(&network));
        let ours_for_compose = gaqno_labels_for(&binary, dir.path(), &shown);
        let deployed = |own: &[String]| {
            let mut all = vec![network.clone()];
            all.extend(own.iter().cloned());
            app.compose_labels(SERVICE, &all)
        };
        api.set(&with_proxy(
            containers.api_list(&map_of(&deployed(&ours_for_compose))),
        ));
        wait_router(&traefik, &socketio);
        let (code, report) = check_tls(&binary, &url, &ca, &["--transport", "polling"]);
        assert_eq!(
            code, 0,
            "Traefik {version}, managed compose labels: {report:#}"
        );
        assert_eq!(
            router_middlewares(&traefik, &https_router),
            ["gzip@docker"],
            "Traefik {version}: Coolify leaves our middleware off its router"
        );
        // The control: the middleware spelled as usual rides onto Coolify's router, and
        // every REST request would go through the plugin.
        let lowercase: Vec<String> = ours_for_compose
            .iter()
            .map(|l| l.replace("traefik.http.Middlewares.", "traefik.http.middlewares."))
            .collect();
        api.set(&with_proxy(
            containers.api_list(&map_of(&deployed(&lowercase))),
        ));
        let affinity = format!("gaqno-{SERVICE}-affinity@docker");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !router_middlewares(&traefik, &https_router).contains(&affinity) {
            assert!(
                Instant::now() < deadline,
                "Traefik {version}: the control never put the plugin on Coolify's router: {:?}",
                router_middlewares(&traefik, &https_router)
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        api.set(&with_proxy(containers.api_list(&map_of(&ours))));

        // Scale 3 → 5: two more containers with the very same labels.
        containers.add();
        containers.add();
        api.set(&with_proxy(containers.api_list(&map_of(&ours))));
        let urls: Vec<String> = (0..5).map(|i| containers.url(i)).collect();
        wait_servers(&traefik, &service, &urls);
        let (code, report) = check_tls(&binary, &url, &ca, &["--transport", "polling"]);
        assert_eq!(code, 0, "Traefik {version}, five containers: {report:#}");
        assert_eq!(replica_values(&modes(&report)[0]).len(), 5, "{report:#}");

        // Remove container 4 while sessions run: only its sessions break.
        let run = check_under_load(
            &binary,
            &url,
            &ca,
            &containers,
            "no counted session on container 4",
            |c, new| new >= 2 && c.stat(4, "open") >= 1,
        );
        containers.replicas[4] = None; // the replica process ends with its guard
        api.set(&with_proxy(containers.api_list(&map_of(&ours))));
        let (_, report) = run.join().expect("check thread");
        let mode = &modes(&report)[0];
        let removed = shared::traefik::sticky_cookie_value(&containers.url(4));
        assert_only_its_sessions_broke(
            version,
            mode,
            &removed,
            "only the removed container's sessions break",
        );
        assert_eq!(mode["unidentified"], 0, "{mode:#}");
        eprintln!("Traefik {version}, raw compose, a container removed under load: {mode}");

        // A redeploy as Coolify does it for every compose application
        // (`ApplicationDeploymentJob::deploy_docker_compose_buildpack`): every container of
        // the application stopped (`stop_running_container`), then `docker compose up -d`
        // starts new ones, on new addresses.
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
        let old: Vec<usize> = (0..containers.replicas.len())
            .filter(|i| containers.replicas[*i].is_some())
            .collect();
        for i in &old {
            containers.replicas[*i] = None;
        }
        api.set(&with_proxy(containers.api_list(&map_of(&ours))));
        for _ in 0..3 {
            containers.add();
        }
        api.set(&with_proxy(containers.api_list(&map_of(&ours))));
        let (_, report) = run.join().expect("check thread");
        let mode = &modes(&report)[0];
        let sessions = mode["sessions"].as_u64().unwrap_or(0);
        let held = mode["held"].as_u64().unwrap_or(0);
        eprintln!(
            "Traefik {version}, raw compose redeploy (all stopped, then started): {held} of {sessions} sessions held over 6 s: {mode}"
        );
        assert!(
            held < sessions,
            "Traefik {version}: a compose redeploy breaks the open sessions: {mode:#}"
        );
        let fresh: Vec<String> = (old.len() + 1..containers.replicas.len())
            .map(|i| containers.url(i))
            .collect();
        wait_servers(&traefik, &service, &fresh);
        let (code, report) = check_tls(&binary, &url, &ca, &["--transport", "polling"]);
        assert_eq!(code, 0, "Traefik {version}, after the redeploy: {report:#}");
    }
}

/// Waits until Traefik shows router `name` from the Docker provider, enabled.
pub(crate) fn wait_router(traefik: &Traefik, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = tests::http_get(
            traefik.api_port,
            &format!("/api/http/routers/{}", at_provider(name)),
        )
        .unwrap_or((0, String::new()));
        if status == 200 && body.contains("\"status\":\"enabled\"") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Traefik {}: router {} never enabled: {body}\n{}",
            traefik.version,
            at_provider(name),
            traefik.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// `name` as Traefik's API names it: `@docker` unless it names its provider.
fn at_provider(name: &str) -> String {
    if name.contains('@') {
        name.to_owned()
    } else {
        format!("{name}@docker")
    }
}

/// The labels Coolify v4.3.10 writes for `case` (`shared/test_data/coolify/<case>.txt`, made
/// by Coolify's own code) edited by `mistake`'s lines: a line whose key Coolify wrote
/// replaces it in place, as an operator edits the box; the others are added at the end.
fn on_coolifys_labels(case: &str, mistake: &str) -> String {
    let path = tests::project_root().join(format!("shared/test_data/coolify/{case}.txt"));
    let coolify =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let edits: Vec<(&str, &str)> = mistake
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| Some((l.split_once('=')?.0, l)))
        .collect();
    let mut out: Vec<String> = coolify
        .lines()
        .map(|line| {
            let key = line.split_once('=').map_or(line, |(k, _)| k);
            edits
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(line, |(_, l)| l)
                .to_owned()
        })
        .collect();
    for (key, line) in &edits {
        if !coolify
            .lines()
            .any(|l| l.split_once('=').map(|(k, _)| k) == Some(key))
        {
            out.push((*line).to_owned());
        }
    }
    out.join("\n") + "\n"
}

/// One file of `tests/corpus/labels/`: one container's labels with a known mistake, made on
/// the labels Coolify writes for the case its `# coolify:` header names.
/// Headers: `# traefik: skipped` (the provider drops the container: none of its routers
/// load) or `accepted`; `# lint: <rule>` the finding `shared::lint` must report, on a line
/// of the file that holds the mistake.
pub(crate) struct LabelCase {
    pub(crate) file: std::path::PathBuf,
    /// `skipped` or `accepted`.
    pub(crate) traefik: String,
    /// The container's labels: Coolify's, edited by the file.
    pub(crate) labels: String,
}

impl LabelCase {
    /// The routers the labels define (`traefik.http.routers.<name>.…`).
    pub(crate) fn routers(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .labels
            .lines()
            .filter_map(|l| l.strip_prefix("traefik.http.routers.")?.split_once('.'))
            .map(|(name, _)| name.to_owned())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// Every case of `tests/corpus/labels/`, each checked against the linter: the finding its
/// `# lint:` header names, on a line of the labels.
pub(crate) fn label_corpus() -> Vec<LabelCase> {
    let dir = tests::project_root().join("tests/corpus/labels");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/corpus/labels")
        .filter_map(|e| Some(e.ok()?.path()))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).expect("corpus file");
            let header = |key: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(&format!("# {key}: ")))
                    .map(str::trim)
                    .unwrap_or_else(|| panic!("{}: no `# {key}:` header", file.display()))
                    .to_owned()
            };
            let (traefik, expect_rule) = (header("traefik"), header("lint"));
            assert!(
                ["skipped", "accepted"].contains(&traefik.as_str()),
                "{}: unknown `# traefik: {traefik}`",
                file.display()
            );
            let labels = on_coolifys_labels(&header("coolify"), &text);
            let parsed = shared::labels::Labels::parse(&labels).expect("labels");
            let read = parsed.to_config().expect("labels read");
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
                parsed.line_of(&finding.path).is_some(),
                "{}: the finding names a line",
                file.display()
            );
            LabelCase {
                file,
                traefik,
                labels,
            }
        })
        .collect()
}

/// `tests/corpus/labels/` through the stand-in Engine API: Traefik's reaction and the lint
/// finding agree. Traefik 3.7 only: on 3.6, Coolify's tag, every case runs as a real
/// container behind Coolify's proxy (`on_docker::label_corpus`); the stand-in stays for 3.7,
/// which Coolify does not run, so that no third engine image is imported for one version.
#[test]
fn label_mistakes_traefik_and_lint_agree() {
    let Some(tools) = tools() else {
        return;
    };
    let cases = label_corpus();
    let containers = Containers::start(1);
    for (version, traefik_binary) in tools.traefik.iter().filter(|(v, _)| !v.starts_with("3.6.")) {
        for case in &cases {
            let (file, text, expect_traefik) = (&case.file, &case.labels, &case.traefik);
            let api_dir = TempDir::new("docker-corpus").expect("temp dir");
            let api = DockerApi::start(api_dir.path(), &containers.api_list(&label_map(text)));
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
                _ => assert!(
                    !routers.is_empty(),
                    "Traefik {version}, {}: the container's routers should load\n{}",
                    file.display(),
                    traefik.log()
                ),
            }
        }
    }
}
