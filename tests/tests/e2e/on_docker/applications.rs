//! Path a on a real Docker Engine: the same image deployed as three Coolify applications on
//! one server, each with a network alias (`omnichannel-service-1`, …) and no domain, balanced
//! by the file `gaqno-lb export` writes into the proxy's dynamic folder; Traefik resolves the
//! aliases through Docker's DNS on the `coolify` network.
//!
//! Each application is deployed as Coolify v4.3.10's `ApplicationDeploymentJob` deploys a
//! standalone application ([`Application::deploy`]):
//! - `generate_compose_file`: one service and container named `<uuid>-<Hisu>` (the deploy's
//!   time, `generateApplicationContainerName`), `restart: unless-stopped`, `expose` the port,
//!   the `coolify` network with the aliases `[<container name>, <yours>…]`, `env_file: [.env]`,
//!   the health check when it is on (`generate_healthcheck_commands`: `curl … || wget …`,
//!   interval 5 s, timeout 5 s, 10 retries, start period 5 s: the defaults), the labels
//!   (`generateLabelsApplication` then `defaultLabels`);
//! - `rolling_update`: `start_by_compose_file` (`docker compose --project-name <uuid>
//!   --project-directory <dir> -f <dir>/docker-compose.yaml up -d`), then `health_check`
//!   (with it on: the start period, then `docker inspect` of the health every interval until
//!   healthy), then `stop_running_container`: every other container of the application,
//!   `docker stop --time=<grace>` and `docker rm -f`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::docker::{exclusive, Engine, Use, REPLICA_IMAGE};
use tests::TempDir;

use super::{
    assert_held_on, broken_by, sessions_during, sessions_in_words, standalone_proxy,
    stop_running_containers, Probe, Setup, PORT,
};
use crate::check::{check_trusting, modes};
use crate::docker_labels::SERVICE;

/// One Coolify application on the server.
struct Application<'a> {
    engine: &'a Engine,
    /// Its number, 1-based: its alias is `omnichannel-service-<n>`, its id `n`.
    n: usize,
    uuid: String,
    dir: PathBuf,
    /// Configuration → Health check: Enabled (off by default).
    health_check: bool,
    /// Configuration → Advanced: the stop grace period, seconds (30 by default).
    grace: u32,
    /// Configuration → General → Domains (path a leaves it empty).
    domain: Option<&'static str>,
}

/// What a rolling update took.
#[derive(Debug)]
struct RollingUpdate {
    /// From `compose up` to the old container's stop command.
    overlap: Duration,
    /// The old container's `docker stop`.
    stopping: Duration,
}

/// The deploy's container name, `<uuid>-<Hisu>`, by the clock now.
pub(super) fn container_name(uuid: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    shared::coolify::deploy::container_name(uuid, now)
}

impl Application<'_> {
    fn alias(&self) -> String {
        format!("{SERVICE}-{}", self.n)
    }

    /// `generate_compose_file` for a container named `container`
    /// ([`shared::coolify::deploy::Deploy`]).
    fn compose(&self, container: &str) -> Value {
        let domains: Vec<&str> = self.domain.into_iter().collect();
        let mut app = shared::coolify::Application::standalone(&self.uuid, &domains, PORT);
        app.id = self.n as u64;
        shared::coolify::deploy::Deploy {
            application: &app,
            container: container.to_owned(),
            image: REPLICA_IMAGE.to_owned(),
            aliases: vec![self.alias()],
            health_check: self
                .health_check
                .then(|| shared::coolify::deploy::HealthCheck::at("/v1/health")),
            custom_labels: None,
            file_mounts: Vec::new(),
            swarm_replicas: 1,
        }
        .compose_file(shared::coolify::proxy::ServerKind::Standalone)
    }

    /// A deploy: the first one starts the application, later ones are Coolify's rolling
    /// update. `env` is the application's `.env` (its variables in Coolify's UI).
    fn deploy(&self, env: &str) -> RollingUpdate {
        let container = container_name(&self.uuid);
        let file = self.dir.join("docker-compose.yaml");
        std::fs::write(
            &file,
            shared::yaml::to_string(&self.compose(&container)).expect("YAML"),
        )
        .expect("compose file");
        std::fs::write(self.dir.join(".env"), env).expect(".env");
        let dir = self.dir.display().to_string();
        let started = Instant::now();
        self.engine
            .output(self.engine.command().args([
                "compose",
                "--project-name",
                &self.uuid,
                "--project-directory",
                &dir,
                "-f",
                &format!("{dir}/docker-compose.yaml"),
                "up",
                "-d",
            ]))
            .expect("docker compose up");
        if self.health_check {
            // `health_check`: the start period, then every interval until healthy.
            std::thread::sleep(Duration::from_secs(5));
            for _ in 0..10 {
                let status = self
                    .engine
                    .inspect(&container, "{{.State.Health.Status}}")
                    .unwrap_or_default();
                if status == "healthy" {
                    break;
                }
                assert_ne!(status, "unhealthy", "{}", self.engine.logs(&container));
                std::thread::sleep(Duration::from_secs(5));
            }
        }
        let overlap = started.elapsed();
        let stopping = Instant::now();
        stop_running_containers(self.engine, self.n as u64, Some(&container), self.grace);
        RollingUpdate {
            overlap,
            stopping: stopping.elapsed(),
        }
    }

    /// The application's running container.
    fn container(&self) -> String {
        let names = self
            .engine
            .running_with_label(&format!("coolify.applicationId={}", self.n))
            .expect("docker ps");
        names.into_iter().next().expect("a running container")
    }
}

/// The exported file for the service as three aliased applications; the plugin on or off.
fn exported(affinity: bool) -> String {
    let mut project = shared::model::Project::gaqno();
    project.services.retain(|s| s.name == SERVICE);
    let service = &mut project.services[0];
    service.hosts = vec!["127.0.0.1".into()];
    service.port = PORT;
    service.set_alias_replicas(SERVICE, 3);
    if !affinity {
        service.socket_io.enabled = false;
    }
    shared::export::to_yaml(&project).expect("export")
}

/// Path a end to end on real Docker, behind Coolify's proxy with the plugin as a local
/// plugin, over HTTPS:
/// - the control (the file without the affinity plugin) breaks cookie-less sessions;
/// - the exported file holds them in every transport, on all three applications;
/// - Coolify's rolling update of one application while sessions run, measured with the
///   health check off (Coolify's default) and on, for an app that drains on SIGTERM and
///   one that exits at once: which sessions break, and how.
pub(super) fn n_applications(setup: &Setup) {
    let engine = &setup.server;
    let _turn = exclusive(Use::Standalone, &[engine]);
    let dir = TempDir::new("applications-docker").expect("temp dir");
    let (proxy, ca) = standalone_proxy(setup, dir.path());
    // The app boots for 3 s before it listens, as a NestJS app does; it drains or exits on
    // SIGTERM as the `.env` of its deploy says.
    let drain = "REPLICA_ON_SIGTERM=drain\nREPLICA_DRAIN_MS=3000\nREPLICA_LISTEN_DELAY_MS=3000\n";
    let exit = "REPLICA_ON_SIGTERM=exit\nREPLICA_LISTEN_DELAY_MS=3000\n";
    let apps: Vec<Application> = (1..=3)
        .map(|n| {
            let uuid = format!("app{n}k4c8w0s8g8ok0c4gs0wck8");
            Application {
                engine,
                n,
                dir: tests::docker::application_dir(dir.path(), &uuid).expect("dir"),
                uuid,
                health_check: false,
                grace: 30,
                domain: None,
            }
        })
        .collect();
    for app in &apps {
        app.deploy(drain);
    }
    for app in &apps {
        engine
            .wait_listening(&app.container(), PORT, 30)
            .expect("listening");
    }
    let url = proxy.https_url();
    let service = "gaqno-omnichannel-service@file";
    let urls: Vec<String> = (1..=3)
        .map(|n| format!("http://{SERVICE}-{n}:{PORT}"))
        .collect();

    // The control: the file without the plugin.
    proxy.write_dynamic("gaqno-lb.yaml", &exported(false));
    proxy
        .wait_servers(service, &urls, 60)
        .expect("the control's servers");
    let (code, report) =
        check_trusting(&setup.binary, &url, Some(&ca), &["--transport", "polling"]);
    assert_eq!(code, 1, "without the plugin: {report:#}");
    assert!(modes(&report)[0]["held"].as_u64() < Some(6), "{report:#}");

    // The exported file.
    proxy.write_dynamic("gaqno-lb.yaml", &exported(true));
    proxy
        .wait_router("gaqno-omnichannel-service-socketio@file", 60)
        .expect("our router");
    let (code, report) = check_trusting(&setup.binary, &url, Some(&ca), &[]);
    assert_eq!(code, 0, "the exported file: {report:#}");
    assert_held_on(&report, &urls, "three applications");

    // Application 1 keeps its domain: Coolify's router for the host competes with ours, and
    // `check --traefik-api` (Traefik's API saved through the proxy's own route) names it.
    let kept_domain = Application {
        domain: Some("https://127.0.0.1"),
        ..apps[0].clone_settings()
    };
    kept_domain.deploy(drain);
    let rawdata = dir.path().join("rawdata.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    let competing = loop {
        let (_, body) = proxy.api("/api/rawdata").expect("rawdata");
        std::fs::write(&rawdata, body).expect("rawdata file");
        let (_, report) = check_trusting(
            &setup.binary,
            &url,
            Some(&ca),
            &[
                "--transport",
                "polling",
                "--traefik-api",
                &rawdata.display().to_string(),
            ],
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
            .contains(&format!("https-0-{}@docker", apps[0].uuid)),
        "{competing:#}"
    );
    apps[0].deploy(drain);
    engine
        .wait_listening(&apps[0].container(), PORT, 30)
        .expect("listening");

    // Rolling updates of application 1 while sessions run.
    let value = shared::traefik::sticky_cookie_value(&urls[0]);
    let mut figures = Vec::new();
    for (case, health_check, next_env) in [
        ("health check off, app drains on SIGTERM", false, exit),
        ("health check off, app exits at once", false, drain),
        ("health check on, app drains on SIGTERM", true, exit),
        ("health check on, app exits at once", true, drain),
    ] {
        let app = Application {
            health_check,
            ..apps[0].clone_settings()
        };
        let before = engine.replica_stat(&app.container(), PORT, "connections");
        let probe = Probe::start(&url, &ca);
        // Past the update: 0.4 s side by side and a stop with the health check off, 10.5 s and
        // a stop with it on.
        let run = sessions_during(setup, &url, &ca, if health_check { 20 } else { 12 });
        let deadline = Instant::now() + Duration::from_secs(30);
        while engine.replica_stat(&app.container(), PORT, "connections") < before + 2 {
            assert!(Instant::now() < deadline, "no session on application 1");
            std::thread::sleep(Duration::from_millis(200));
        }
        let update = app.deploy(next_env);
        let (_, report) = run.join().expect("check thread");
        let probes = probe.finish();
        let mode = &modes(&report)[0];
        let theirs = mode["broken_by_replica"][&value].as_u64().unwrap_or(0);
        let others: u64 = mode["broken_by_replica"]
            .as_object()
            .map(|b| {
                b.iter()
                    .filter(|(v, _)| **v != value)
                    .filter_map(|(_, n)| n.as_u64())
                    .sum()
            })
            .unwrap_or(0);
        let line = format!(
            "rolling update of application 1, {case}: old and new side by side {:.1} s, old stopped in {:.1} s; {}; application 1's sessions broken: {theirs}, the others': {others}; new clients: {}",
            update.overlap.as_secs_f64(),
            update.stopping.as_secs_f64(),
            sessions_in_words(mode),
            probes.summary(),
        );
        eprintln!("path a on Docker: {line}");
        figures.push(line);
        assert_eq!(
            others, 0,
            "only application 1's sessions may break ({case}): {mode:#}"
        );
        assert_eq!(
            probes.count(503),
            0,
            "the other applications answer ({case}): {}",
            probes.summary()
        );
        if health_check && case.ends_with("drains on SIGTERM") {
            // Coolify stops the old container only once the new one is healthy, and the old
            // one keeps answering while it drains: no request meets a container that does
            // not listen. (One that exits at once can still cut a request Traefik sent it on
            // a pooled connection: 502, seen once in four runs.)
            assert_eq!(probes.count(502), 0, "({case}): {}", probes.summary());
            assert_eq!(broken_by(mode, "HTTP 502"), 0, "({case}): {mode:#}");
        }
    }
    eprintln!("path a on Docker, figures:\n  {}", figures.join("\n  "));
}

impl Application<'_> {
    /// The same application (uuid, folder, grace period), to change a setting for a deploy.
    fn clone_settings(&self) -> Self {
        Application {
            engine: self.engine,
            n: self.n,
            uuid: self.uuid.clone(),
            dir: self.dir.clone(),
            health_check: self.health_check,
            grace: self.grace,
            domain: self.domain,
        }
    }
}
