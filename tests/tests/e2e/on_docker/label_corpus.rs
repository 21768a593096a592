//! `tests/corpus/labels/` on a real Docker Engine: each case's labels (Coolify's, with one
//! known mistake) on a real container on the `coolify` network, read by the Docker provider
//! of Coolify's own proxy (Traefik 3.6, logging at Coolify's default level, ERROR). What
//! Traefik does with the container (loads its routers, or drops it whole) must be what the
//! case's header says, and the linter must name the mistake (`label_corpus`). The cases
//! are each other's control: the same wait tells "dropped" from "loaded".

use std::time::{Duration, Instant};

use serde_json::Value;
use tests::docker::{exclusive, Use, REPLICA_IMAGE};
use tests::TempDir;

use super::{standalone_proxy, Setup};
use crate::docker_labels::label_corpus;

pub(super) fn label_mistakes_on_real_docker(setup: &Setup) {
    let engine = &setup.server;
    let _turn = exclusive(Use::Standalone, &[engine]);
    let dir = TempDir::new("label-corpus-docker").expect("temp dir");
    let (proxy, _ca) = standalone_proxy(setup, dir.path());
    for (i, case) in label_corpus().iter().enumerate() {
        let name = format!("corpus-{i}");
        let label_file = dir.path().join(format!("{name}.labels"));
        std::fs::write(&label_file, &case.labels).expect("label file");
        engine
            .output(
                engine
                    .command()
                    .args([
                        "run",
                        "-d",
                        "--name",
                        &name,
                        "--network",
                        "coolify",
                        "--label-file",
                    ])
                    .arg(&label_file)
                    .arg(REPLICA_IMAGE),
            )
            .expect("docker run");
        let routers = case.routers();
        assert!(!routers.is_empty(), "{}: no routers", case.file.display());
        // The provider's verdict: every router of the case loaded, or the container named in
        // an error (the decode error comes before any of its routers could load).
        let deadline = Instant::now() + Duration::from_secs(30);
        let (loaded, dropped) = loop {
            let raw: Value = proxy
                .api("/api/rawdata")
                .ok()
                .and_then(|(_, body)| serde_json::from_str(&body).ok())
                .unwrap_or_default();
            let loaded: Vec<&String> = routers
                .iter()
                .filter(|r| raw["routers"].get(format!("{r}@docker")).is_some())
                .collect();
            let dropped = proxy
                .logs()
                .lines()
                .any(|l| l.contains("ERR") && l.contains(&name));
            if loaded.len() == routers.len() || dropped || Instant::now() > deadline {
                break (loaded.len(), dropped);
            }
            std::thread::sleep(Duration::from_millis(250));
        };
        match case.traefik.as_str() {
            "skipped" => assert!(
                dropped && loaded == 0,
                "{}: Traefik 3.6 should drop the container: {loaded} of {routers:?} loaded\n{}",
                case.file.display(),
                proxy.logs()
            ),
            _ => assert!(
                !dropped && loaded == routers.len(),
                "{}: Traefik 3.6 should load {routers:?}, loaded {loaded}\n{}",
                case.file.display(),
                proxy.logs()
            ),
        }
        eprintln!(
            "on real Docker: {}: {} as its header says",
            case.file.file_name().unwrap_or_default().to_string_lossy(),
            if dropped { "dropped" } else { "loaded" }
        );
        engine.docker(&["rm", "-f", &name]).expect("docker rm");
        // The cases share Coolify's router names: the next starts once these are gone.
        let deadline = Instant::now() + Duration::from_secs(30);
        while routers.iter().any(|r| {
            proxy
                .api(&format!("/api/http/routers/{r}@docker"))
                .is_ok_and(|(status, _)| status == 200)
        }) {
            assert!(
                Instant::now() < deadline,
                "{}: its routers outlived the container",
                case.file.display()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}
