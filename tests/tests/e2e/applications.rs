//! Path a, one Coolify server with N applications: the same repository deployed as three
//! Coolify applications, each with a network alias (`omnichannel-service-1`, …) and no
//! domain, balanced by the file `gaqno-lb export` writes (servers from
//! `Service::set_alias_replicas`), in Traefik run with Coolify's own proxy flags, over HTTPS.
//! Docker's DNS is stood in for by `tests/node/alias.js`: each alias is a loopback address
//! forwarding new connections to the container that holds it; the applications' own
//! containers (with Coolify's labels) are served by the Docker stand-in.
//!
//! - The control: the same file without the affinity plugin; cookie-less sessions break.
//! - With it: every transport holds on the three applications.
//! - An application that kept its domain: `check --traefik-api` names its competing router.
//! - A rolling update of one application (Coolify's: the new container takes the alias,
//!   then the old one stops) while sessions run: measured; only its sessions break.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tests::{free_port, node, TempDir};

use crate::affinity::tools;
use crate::check::{gaqno_lb, modes};
use crate::docker_labels::{
    assert_only_its_sessions_broke, check_tls, check_under_load, coolify_traefik, label_map,
    replica_values, Containers, DockerApi, SERVICE,
};

/// The alias address of application `n` (1-based): what Docker's DNS gives for
/// `omnichannel-service-<n>` here.
fn alias(n: usize, port: u16) -> String {
    format!("127.0.1.{n}:{port}")
}

/// The exported file for the service as three aliased applications, each alias resolved to
/// its loopback address (Traefik resolves names through the system here, not Docker).
fn exported(port: u16, affinity: bool) -> String {
    let mut project = shared::model::Project::gaqno();
    project.services.retain(|s| s.name == SERVICE);
    let service = &mut project.services[0];
    service.hosts = vec!["127.0.0.1".into()];
    service.port = port;
    service.set_alias_replicas(SERVICE, 3);
    assert_eq!(service.alias_replicas(), Some((SERVICE.to_owned(), 3)));
    if !affinity {
        service.socket_io.enabled = false;
    }
    let mut yaml = shared::export::to_yaml(&project).expect("export");
    for n in 1..=3 {
        yaml = yaml.replace(
            &format!("http://{SERVICE}-{n}:{port}"),
            &format!("http://{}", alias(n, port)),
        );
    }
    yaml
}

/// Application `n`'s container as the Engine API lists it, with the labels Coolify gives it
/// (`generateLabelsApplication`): none for Traefik without a domain, a router with one.
fn application(n: usize, containers: &Containers, domain: Option<&str>) -> Value {
    let uuid = format!("app{n}k4c8w0s8g8ok0c4gs0wck8");
    let domains: Vec<&str> = domain.into_iter().collect();
    let app = shared::coolify::Application::standalone(&uuid, &domains, containers.port);
    let mut labels = app.active_labels();
    labels.push_str("\ncoolify.managed=true\ncoolify.type=application\n");
    json!({
        "id": format!("{:064x}", 0xa000 + n),
        "name": uuid,
        "ip": Containers::address(n - 1),
        "labels": label_map(&labels),
    })
}

fn set_alias(control: u16, alias: &str, target: &str) {
    use std::io::{Read, Write};
    let body = json!({"alias": alias, "target": target}).to_string();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", control)).expect("alias control");
    write!(
        stream,
        "PUT /_test/alias HTTP/1.0\r\nHost: alias\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("PUT alias");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn n_applications_hold_behind_coolifys_proxy() {
    let (Some(tools), Some(binary)) = (tools(), gaqno_lb()) else {
        return;
    };
    for (version, traefik_binary) in &tools.traefik {
        let mut containers = Containers::start(3);
        let port = containers.port;
        let dir = TempDir::new("applications").expect("temp dir");
        let certificates = tests::test_certificates(dir.path(), "localhost").expect("certificates");
        let ca = certificates.0.clone();
        let aliases: serde_json::Map<String, Value> = (1..=3)
            .map(|n| {
                (
                    alias(n, port),
                    Value::String(format!("{}:{port}", Containers::address(n - 1))),
                )
            })
            .collect();
        let aliases_file = dir.path().join("aliases.json");
        std::fs::write(&aliases_file, Value::Object(aliases).to_string()).expect("aliases");
        let control = free_port().expect("port");
        let _aliases = node(
            "alias.js",
            &[control.to_string(), aliases_file.display().to_string()],
            dir.path().join("alias.log"),
        )
        .expect("aliases");
        tests::wait_http_ok(control, "/_ping", 15).expect("aliases up");
        let api = DockerApi::start(
            dir.path(),
            &json!((1..=3)
                .map(|n| application(n, &containers, None))
                .collect::<Vec<_>>()),
        );
        let start = |affinity: bool| {
            let mut traefik = coolify_traefik(
                traefik_binary,
                version,
                &tools.plugin,
                shared::coolify::proxy::ServerKind::Standalone,
                api.port,
                &certificates,
                vec![("gaqno-lb.yaml".into(), exported(port, affinity))],
            );
            assert!(
                matches!(traefik.loaded().expect("loaded"), tests::Loaded::Config(_)),
                "Traefik {version}: {}",
                traefik.log()
            );
            std::thread::sleep(Duration::from_millis(600));
            traefik
        };

        // The control: the file without the affinity plugin.
        let traefik = start(false);
        let url = format!("https://127.0.0.1:{}", traefik.port("https").expect("port"));
        let (code, report) = check_tls(&binary, &url, &ca, &["--transport", "polling"]);
        assert_eq!(code, 1, "Traefik {version}, no plugin: {report:#}");
        drop(traefik);

        let traefik = start(true);
        let url = format!("https://127.0.0.1:{}", traefik.port("https").expect("port"));
        let (code, report) = check_tls(&binary, &url, &ca, &[]);
        assert_eq!(code, 0, "Traefik {version}, three applications: {report:#}");
        for mode in modes(&report) {
            if mode["transport"] != "websocket" {
                assert_eq!(replica_values(&mode).len(), 3, "{mode:#}");
            }
        }

        // Application 1 keeps its domain: Coolify's router for it competes with ours.
        let api_url = format!("http://127.0.0.1:{}", traefik.api_port);
        let mut apps: Vec<Value> = (1..=3).map(|n| application(n, &containers, None)).collect();
        apps[0] = application(1, &containers, Some("https://127.0.0.1"));
        api.set(&json!(apps));
        let deadline = Instant::now() + Duration::from_secs(30);
        let competing = loop {
            let (_, report) = check_tls(
                &binary,
                &url,
                &ca,
                &["--transport", "polling", "--traefik-api", &api_url],
            );
            let competing = report["traefik"]["competing_routers"].clone();
            if competing.as_array().is_some_and(|c| !c.is_empty()) || Instant::now() > deadline {
                break competing;
            }
            std::thread::sleep(Duration::from_millis(500));
        };
        assert!(
            competing
                .to_string()
                .contains("https-0-app1k4c8w0s8g8ok0c4gs0wck8@docker"),
            "Traefik {version}: {competing:#}"
        );
        api.set(&json!((1..=3)
            .map(|n| application(n, &containers, None))
            .collect::<Vec<_>>()));

        // A rolling update of application 2 under load: the new container (a new address)
        // takes the alias, the old one stops.
        let run = check_under_load(
            &binary,
            &url,
            &ca,
            &containers,
            "no counted session on application 2",
            |c, new| new >= 2 && c.stat(1, "open") >= 1,
        );
        containers.add();
        let new = containers.replicas.len() - 1;
        set_alias(
            control,
            &alias(2, port),
            &format!("{}:{port}", Containers::address(new)),
        );
        std::thread::sleep(Duration::from_millis(500));
        containers.replicas[1] = None;
        let (_, report) = run.join().expect("check thread");
        let mode = &modes(&report)[0];
        let updated = shared::traefik::sticky_cookie_value(&format!("http://{}", alias(2, port)));
        eprintln!(
            "Traefik {version}, path a, a rolling update of one application under load: {mode}"
        );
        assert_only_its_sessions_broke(
            version,
            mode,
            &updated,
            "only the updated application's sessions break",
        );
        let (code, report) = check_tls(&binary, &url, &ca, &["--transport", "polling"]);
        assert_eq!(code, 0, "Traefik {version}, after the update: {report:#}");
    }
}
