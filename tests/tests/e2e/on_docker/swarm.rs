//! Path c on two real Docker Engines in Swarm mode: the server (manager) and the worker (in
//! its own network namespace), a real overlay between them. Coolify's Swarm proxy
//! (`proxy-swarm.json`, `docker stack deploy … coolify-proxy`, the Swarm provider polling
//! every 15 s as Coolify leaves it) and a standalone application's stack in the shape
//! Coolify v4.3.10's `ApplicationDeploymentJob` writes on a Swarm server
//! ([`SwarmApplication::deploy`]):
//! - `generate_compose_file`: one service, named after the container name — `<uuid>-<Hisu>`,
//!   a new name every deploy, unless *Consistent container name* is on (`<uuid>`); the
//!   `coolify-overlay` network with its aliases; `env_file: [.env]`; `deploy`: replicated,
//!   the *Swarm → Replicas* count, `update_config` and `rollback_config` `order:
//!   start-first`, the labels (`deploy.labels`), resources `0` (no limit); no stop grace
//!   period, so Docker's 10 s;
//! - `rolling_update`: `docker stack deploy --detach=true --with-registry-auth -c <file>
//!   <uuid>`, no `--prune`: a service the new file no longer names keeps running. Here with
//!   `--resolve-image=never` too, and the engines started with
//!   `DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1`: no registry is reachable, so nothing may try
//!   one; the images are on both nodes already.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::docker::{exclusive, CoolifyProxy, Engine, ProxyPlugin, ServerKind, Use, REPLICA_IMAGE};
use tests::TempDir;

use super::{assert_held_on, sessions_during, sessions_in_words, Probe, Setup, PORT};
use crate::check::{check_trusting, modes};
use crate::docker_labels::{gaqno_labels_for, SERVICE};

/// The application's uuid (its stack's name).
const UUID: &str = "k4c8w0s8g8ok0c4gs0wck8sg";

struct SwarmApplication<'a> {
    manager: &'a Engine,
    dir: PathBuf,
}

impl SwarmApplication<'_> {
    /// Deploys the application's stack: service `name`, with the labels box's text `custom`
    /// ("Managed manually"; none: Coolify's) and `replicas`
    /// ([`shared::coolify::deploy::Deploy`] on a Swarm server).
    fn deploy(&self, name: &str, custom: Option<&str>, replicas: u32, env: &str) {
        let file = shared::coolify::deploy::Deploy {
            application: &coolify_application(),
            container: name.to_owned(),
            image: REPLICA_IMAGE.to_owned(),
            aliases: Vec::new(),
            health_check: None,
            custom_labels: custom.map(str::to_owned),
            file_mounts: Vec::new(),
            swarm_replicas: replicas,
        }
        .compose_file(ServerKind::Swarm);
        std::fs::write(
            self.dir.join("docker-compose.yaml"),
            shared::yaml::to_string(&file).expect("YAML"),
        )
        .expect("stack file");
        std::fs::write(self.dir.join(".env"), env).expect(".env");
        self.manager
            .output(
                self.manager
                    .command()
                    .args([
                        "stack",
                        "deploy",
                        "--detach=true",
                        "--with-registry-auth",
                        // Not Coolify's: no registry is reachable here, and none may be
                        // asked for the image's digest.
                        "--resolve-image=never",
                        "-c",
                        "docker-compose.yaml",
                        UUID,
                    ])
                    .current_dir(&self.dir),
            )
            .expect("docker stack deploy");
    }

    /// The running tasks' server URLs on the overlay, with the node each runs on.
    fn tasks(&self) -> Vec<(String, String)> {
        let services = self
            .manager
            .docker(&["stack", "services", UUID, "--format", "{{.Name}}"])
            .unwrap_or_default();
        let mut out = Vec::new();
        for service in services.lines() {
            let ids = self
                .manager
                .docker(&[
                    "service",
                    "ps",
                    service,
                    "--filter",
                    "desired-state=running",
                    "--format",
                    "{{.ID}}",
                ])
                .unwrap_or_default();
            for id in ids.lines() {
                let task: Value = self
                    .manager
                    .docker(&["inspect", id])
                    .ok()
                    .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                    .map(|t| t[0].clone())
                    .unwrap_or_default();
                if task["Status"]["State"] != "running" {
                    continue;
                }
                let address = task["NetworksAttachments"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|a| a["Network"]["Spec"]["Name"] == "coolify-overlay")
                    .and_then(|a| a["Addresses"][0].as_str())
                    .and_then(|a| a.split('/').next())
                    .map(str::to_owned);
                if let (Some(address), Some(node)) = (address, task["NodeID"].as_str()) {
                    out.push((format!("http://{address}:{PORT}"), node.to_owned()));
                }
            }
        }
        out.sort();
        out
    }

    /// Waits until `count` tasks run; their URLs.
    fn wait_tasks(&self, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let tasks = self.tasks();
            if tasks.len() == count {
                return tasks.into_iter().map(|(url, _)| url).collect();
            }
            assert!(
                Instant::now() < deadline,
                "{count} tasks never ran: {tasks:?}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// The deploy's time, as Coolify names containers.
fn container_name() -> String {
    super::applications::container_name(UUID)
}

/// The application: a standalone one with a domain, on the Swarm server.
fn coolify_application() -> shared::coolify::Application {
    shared::coolify::Application::standalone(UUID, &["https://127.0.0.1"], PORT)
}

/// Path c end to end on a real two-node Swarm, over HTTPS through Coolify's Swarm proxy with
/// the plugin as a local plugin:
/// - the control (Coolify's labels) breaks cookie-less sessions; `gaqno-lb labels` holds
///   them in every transport, on tasks on both nodes; scaled 4 → 6;
/// - a redeploy with Coolify's default naming adds a second service beside the first (both
///   serve), and one with *Consistent container name* replaces tasks start-first: measured;
/// - the worker's engine stopped while sessions run: only its tasks' sessions break.
pub(super) fn swarm_on_two_nodes(setup: &Setup) {
    let worker = tests::docker::worker_engine().expect("the worker engine");
    let manager = &setup.server;
    let _turn = exclusive(Use::Swarm, &[manager, &worker]);
    let (manager_addr, _) = tests::docker::node_addresses();
    manager
        .swarm_init(&manager_addr, &[&worker])
        .expect("a two-node Swarm");
    let dir = TempDir::new("swarm-docker").expect("temp dir");
    let certificates = tests::test_certificates(dir.path(), "localhost").expect("certificates");
    let ca = certificates.0.clone();
    let proxy = CoolifyProxy::start(
        ServerKind::Swarm,
        manager,
        &ProxyPlugin::Local(setup.tools.plugin.clone()),
        &certificates,
        &crate::support::coolify_files(),
    )
    .expect("Coolify's Swarm proxy");
    let app = SwarmApplication {
        manager,
        dir: tests::docker::application_dir(dir.path(), UUID).expect("dir"),
    };
    let coolify = coolify_application();
    let service = format!(
        "{}@swarm",
        crate::docker_labels::https_service(&coolify.swarm_labels())
    );
    let url = proxy.https_url();
    let env = "REPLICA_ON_SIGTERM=drain\nREPLICA_DRAIN_MS=3000\n";

    // The control: Coolify's labels.
    let consistent = UUID.to_owned();
    app.deploy(&consistent, None, 4, env);
    let urls = app.wait_tasks(4);
    proxy
        .wait_servers(&service, &urls, 60)
        .expect("the control's tasks");
    let (code, report) =
        check_trusting(&setup.binary, &url, Some(&ca), &["--transport", "polling"]);
    assert_eq!(code, 1, "Coolify's labels alone: {report:#}");

    // `gaqno-lb labels` on the Active labels, pasted back under "Managed manually".
    let active: Vec<String> = coolify.active_labels().lines().map(str::to_owned).collect();
    let ours = gaqno_labels_for(&setup.binary, dir.path(), &active).join("\n");
    app.deploy(&consistent, Some(&ours), 4, env);
    proxy
        .wait_router(&format!("gaqno-{SERVICE}-socketio@swarm"), 60)
        .expect("our router");
    let urls = app.wait_tasks(4);
    proxy.wait_servers(&service, &urls, 60).expect("our tasks");
    let nodes: std::collections::BTreeSet<String> =
        app.tasks().into_iter().map(|(_, node)| node).collect();
    assert_eq!(nodes.len(), 2, "tasks on both nodes: {:?}", app.tasks());
    let (code, report) = check_trusting(&setup.binary, &url, Some(&ca), &[]);
    assert_eq!(code, 0, "gaqno-lb labels on Swarm: {report:#}");
    assert_held_on(&report, &urls, "four tasks on two nodes");

    // Scale 4 → 6 (Swarm → Replicas, redeploy).
    app.deploy(&consistent, Some(&ours), 6, env);
    let urls = app.wait_tasks(6);
    proxy.wait_servers(&service, &urls, 60).expect("six tasks");
    let (code, report) =
        check_trusting(&setup.binary, &url, Some(&ca), &["--transport", "polling"]);
    assert_eq!(code, 0, "six tasks: {report:#}");

    // Redeploys while sessions run.
    let mut figures = Vec::new();
    let mut measure = |case: &str, redeploy: &dyn Fn()| {
        let probe = Probe::start(&url, &ca);
        // Past the change and Traefik's next poll (15 s).
        let run = sessions_during(setup, &url, &ca, 24);
        std::thread::sleep(Duration::from_secs(3));
        let started = Instant::now();
        redeploy();
        let took = started.elapsed();
        let (_, report) = run.join().expect("check thread");
        let probes = probe.finish();
        let mode = modes(&report)[0].clone();
        let line = format!(
            "{case} ({:.1} s): {}; new clients: {}{}",
            took.as_secs_f64(),
            sessions_in_words(&mode),
            probes.summary(),
            match probes.span_ms(503) {
                0 => String::new(),
                ms => format!(", HTTP 503 for {:.1} s", ms as f64 / 1000.0),
            }
        );
        eprintln!("path c on Docker: {line}");
        figures.push(line);
        (mode, probes)
    };

    // Consistent container name: the same service, its tasks replaced start-first. The old
    // tasks run with the variables of the deploy before: first they drain, then they exit at
    // once.
    for (case, next) in [
        ("old tasks drain on SIGTERM", "REPLICA_ON_SIGTERM=exit\n"),
        ("old tasks exit at once", env),
    ] {
        let (mode, _) = measure(
            &format!("redeploy, Consistent container name (start-first, task by task), {case}"),
            &|| {
                app.deploy(&consistent, Some(&ours), 6, next);
                let deadline = Instant::now() + Duration::from_secs(90);
                while manager
                    .docker(&[
                        "service",
                        "inspect",
                        "-f",
                        "{{.UpdateStatus.State}}",
                        &format!("{UUID}_{consistent}"),
                    ])
                    .unwrap_or_default()
                    != "completed"
                {
                    assert!(Instant::now() < deadline, "the update never completed");
                    std::thread::sleep(Duration::from_millis(500));
                }
            },
        );
        // Every old task is replaced, so the sessions on them break. Whether new clients
        // meet a moment with no task is timing: the update (about 8 s) can end before
        // Traefik's next poll (every 15 s), and Traefik then knows only stopped tasks: 503.
        assert!(
            mode["held"].as_u64() < mode["sessions"].as_u64(),
            "the replaced tasks' sessions break ({case}): {mode:#}"
        );
    }

    // Coolify's default: a new service name every deploy, no --prune.
    let renamed = container_name();
    let (mode, _) = measure("redeploy, default naming (a second service)", &|| {
        app.deploy(&renamed, Some(&ours), 6, env);
        app.wait_tasks(12);
    });
    let services = manager
        .docker(&["stack", "services", UUID, "--format", "{{.Name}}"])
        .expect("services");
    assert_eq!(
        services.lines().count(),
        2,
        "the old service keeps running: {services}"
    );
    let urls = app.wait_tasks(12);
    proxy
        .wait_servers(&service, &urls, 60)
        .expect("both services' tasks in one load balancer");
    assert!(mode["sessions"].as_u64() > Some(0), "{mode:#}");

    // The worker's engine stops while sessions run: only its tasks' sessions may break.
    let on_worker: Vec<String> = {
        let worker_id = worker
            .docker(&["info", "--format", "{{.Swarm.NodeID}}"])
            .expect("node id");
        app.tasks()
            .into_iter()
            .filter(|(_, node)| *node == worker_id)
            .map(|(url, _)| shared::traefik::sticky_cookie_value(&url))
            .collect()
    };
    assert!(
        !on_worker.is_empty(),
        "tasks on the worker: {:?}",
        app.tasks()
    );
    let (mode, _) = measure("the worker's engine stopped", &|| {
        worker.stop_daemon().expect("stop the worker");
    });
    let broken: Vec<String> = mode["broken_by_replica"]
        .as_object()
        .map(|b| b.keys().cloned().collect())
        .unwrap_or_default();
    assert!(
        broken.iter().all(|v| on_worker.contains(v)),
        "only the worker's tasks' sessions break: {mode:#}"
    );
    eprintln!("path c on Docker, figures:\n  {}", figures.join("\n  "));
}
