//! A domain with a path, *Strip prefixes* on (Coolify's default), on a real Docker Engine:
//! Coolify's labels route `https://127.0.0.1/omni` through its strip-prefix middleware;
//! `gaqno-lb labels` puts the Socket.IO routers under `/omni/socket.io/`, and the plugin,
//! after the strip, sees `/socket.io/`. Three containers carry the labels (a compose project
//! with `deploy.replicas: 3` on the `coolify` network), read by the real Docker provider of
//! Coolify's proxy.

use serde_json::json;
use tests::docker::{exclusive, Use, REPLICA_IMAGE};
use tests::TempDir;

use super::{assert_held_on, standalone_proxy, Setup, PORT};
use crate::check::check_trusting;
use crate::docker_labels::{gaqno_labels_for, https_service, SERVICE};

/// The control (Coolify's labels alone) breaks cookie-less sessions under `/omni`; ours hold
/// them in every transport.
pub(super) fn under_a_path(setup: &Setup) {
    let engine = &setup.server;
    let _turn = exclusive(Use::Standalone, &[engine]);
    let dir = TempDir::new("path-domain-docker").expect("temp dir");
    let (proxy, ca) = standalone_proxy(setup, dir.path());
    let app = shared::coolify::Application::standalone(
        "k4c8w0s8g8ok0c4gs0wck8sg",
        &["https://127.0.0.1/omni"],
        PORT,
    );
    let active: Vec<String> = app.active_labels().lines().map(str::to_owned).collect();
    let ours = gaqno_labels_for(&setup.binary, dir.path(), &active);
    assert!(
        ours.iter()
            .any(|l| l.ends_with("PathPrefix(`/omni/socket.io/`)")),
        "{ours:?}"
    );
    let deploy = |labels: &[String]| {
        let mut labels = labels.to_vec();
        labels.push("traefik.docker.network=coolify".into());
        let file = json!({
            "services": {SERVICE: {
                "image": REPLICA_IMAGE,
                "deploy": {"replicas": 3},
                "networks": ["coolify"],
                "labels": labels,
            }},
            "networks": {"coolify": {"external": true}},
        });
        let path = dir.path().join("docker-compose.yaml");
        std::fs::write(&path, shared::yaml::to_string(&file).expect("YAML")).expect("write");
        engine
            .output(
                engine
                    .command()
                    .args(["compose", "-p", "omni", "-f"])
                    .arg(&path)
                    .args(["up", "-d", "--wait"]),
            )
            .expect("docker compose up");
    };
    let urls = || -> Vec<String> {
        engine
            .running_with_label("com.docker.compose.project=omni")
            .expect("docker ps")
            .iter()
            .map(|c| {
                format!(
                    "http://{}:{PORT}",
                    engine.address(c, "coolify").expect("address")
                )
            })
            .collect()
    };
    let url = proxy.https_url();
    let path = ["--path", "/omni/socket.io/"];
    let service = format!("{}@docker", https_service(&active));

    deploy(&active);
    proxy
        .wait_servers(&service, &urls(), 60)
        .expect("the control's containers");
    let (code, report) = check_trusting(
        &setup.binary,
        &url,
        Some(&ca),
        &[&path[..], &["--transport", "polling"]].concat(),
    );
    assert_eq!(code, 1, "Coolify's labels alone: {report:#}");

    deploy(&ours);
    proxy
        .wait_router(&format!("gaqno-{SERVICE}-socketio@docker"), 60)
        .expect("our router");
    proxy
        .wait_servers(&service, &urls(), 60)
        .expect("our containers");
    let (code, report) = check_trusting(&setup.binary, &url, Some(&ca), &path);
    assert_eq!(code, 0, "under /omni: {report:#}");
    assert_held_on(&report, &urls(), "under /omni");
}
