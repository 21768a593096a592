//! Path a, N Coolify applications of one image, as Coolify v4.3.10 deploys each (a *Docker
//! Image* application, [`shared::coolify::deploy`]): its compose file with the network alias
//! `<service>-<n>`, in its own folder, and a deploy is `rolling_update` — `docker compose
//! --project-name <uuid> … up -d` of a container with a new name, Coolify's health check
//! wait when the health check is on, then every other container of the application stopped
//! (`docker stop --time=30`, `docker rm -f`), or the new one when it never became healthy.
//! Traefik balances them by the file `gaqno-lb export` writes into the proxy's dynamic
//! folder, its servers the aliases.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};
use shared::coolify::deploy::{self, HealthCheck, STOP_GRACE_SECONDS};
use shared::coolify::proxy::ServerKind;
use shared::model::Project;

use super::docker::{Docker, LABEL};

use std::sync::atomic::AtomicBool;

use crate::flags::Rehearse;
use shared::model::Service;

use super::report::{Finding, Owner, Report, Step};
use super::steps::{
    new_clients_in_words, run_steps, shutdown_findings, start_keep_alive, under_load, Deployed,
    ShutdownEvidence, Stage, DRAIN_FIX, SESSION_UNKNOWN,
};
use super::{check_interrupt, health_of, progress, proxy, start_proxy, Rehearsal};

/// What the rehearsal changes, beside what Coolify and `gaqno-lb export` write.
pub const CHANGES: [&str; 5] = [
    "the domain is http://127.0.0.1: the exported file's routers are on the `http` entrypoint without TLS (TLS does not change which replica a session reaches)",
    "the applications are on the rehearsal's network instead of `coolify`, carry the rehearsal's label, and leave out Coolify's `coolify.*` labels, so that a Coolify on this machine never takes them for its own",
    "Coolify's health check is on in every application, at the project's health check path, when the project's service has one (Coolify's default is off)",
    "a deploy starts the image already on this machine (Coolify's Docker Image deploy pulls it first)",
    "the applications are deployed one after the other, each waiting for the one before (Coolify's queue may run two at once)",
];

/// The environment and command the applications run with, from the rehearsal's document.
#[derive(Debug, Clone)]
pub struct Image {
    pub image: String,
    /// Set for the demo (an operator's image carries its own).
    pub command: Option<Value>,
    /// The application's environment variables: its `.env`, as Coolify writes them.
    pub environment: Vec<(String, String)>,
    /// *Persistent storage*, bind mounts: `(path on this machine, path in the container)`.
    pub file_mounts: Vec<(String, String)>,
}

impl Image {
    /// The service `service` of a compose document (`super::app_document`): its image,
    /// command and environment, and its bind mounts (a path on this machine). Paths a and c
    /// deploy an image: anything else the service says is not Coolify's to apply.
    pub fn of(document: &Value, service: &str) -> anyhow::Result<Image> {
        let spec = &document["services"][service];
        let image = spec["image"]
            .as_str()
            .with_context(|| format!("the service `{service}` names no image: paths a and c deploy an image (give --image, or build it and name it in the file)"))?
            .to_owned();
        let environment = match &spec["environment"] {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    (k.clone(), v)
                })
                .collect(),
            Value::Array(list) => list
                .iter()
                .filter_map(Value::as_str)
                .map(|l| {
                    let (k, v) = l.split_once('=').unwrap_or((l, ""));
                    (k.to_owned(), v.to_owned())
                })
                .collect(),
            _ => Vec::new(),
        };
        let file_mounts = spec["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|v| {
                let mut parts = v.split(':');
                let (from, to) = (parts.next()?, parts.next()?);
                from.starts_with('/')
                    .then(|| (from.to_owned(), to.to_owned()))
            })
            .collect();
        Ok(Image {
            image,
            command: spec.get("command").cloned(),
            environment,
            file_mounts,
        })
    }
}

/// One Coolify application of the rehearsal.
#[derive(Debug, Clone)]
pub struct Application {
    /// Its uuid: the compose project, and the prefix of its containers' names.
    pub uuid: String,
    /// Its network alias (*Custom network aliases*), which the exported file names.
    pub alias: String,
    dir: PathBuf,
}

/// The applications of the service, and the settings each is deployed with.
#[derive(Debug, Clone)]
pub struct Applications {
    pub apps: Vec<Application>,
    /// The one the keep-alive is measured on: deployed once, not in the file.
    pub keep_alive: Application,
    image: Image,
    port: u16,
    health_check: Option<HealthCheck>,
    network: String,
    id: String,
}

/// What one application's rolling update did.
#[derive(Debug, Default)]
pub struct RollingUpdate {
    /// From `compose up` to the decision: Coolify's health check wait.
    pub waited: Duration,
    /// The old containers' stops (or the new one's, when it never became healthy).
    pub stops: Vec<Duration>,
    /// The health check's last word when the new container never became healthy: Coolify
    /// rolled back.
    pub unhealthy: Option<String>,
}

impl Applications {
    /// `count` applications named after the rehearsal `id`, for the service `alias_prefix`
    /// (its aliases `<alias_prefix>-<n>`), in folders under `parent`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        parent: &Path,
        id: &str,
        alias_prefix: &str,
        count: u32,
        image: Image,
        port: u16,
        health_path: Option<&str>,
        network: &str,
    ) -> anyhow::Result<Applications> {
        let application = |suffix: &str, alias: String| -> anyhow::Result<Application> {
            // Coolify's uuids are 24 lowercase letters and digits; these carry the id.
            let uuid = format!("r{id}{suffix}");
            let dir = parent.join(&uuid);
            std::fs::create_dir_all(&dir)?;
            Ok(Application { uuid, alias, dir })
        };
        let apps = (1..=count)
            .map(|n| application(&format!("app{n}"), format!("{alias_prefix}-{n}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Applications {
            apps,
            keep_alive: application("keepalive", format!("{alias_prefix}-keep-alive"))?,
            image,
            port,
            health_check: health_path.map(HealthCheck::at),
            network: network.to_owned(),
            id: id.to_owned(),
        })
    }

    pub fn health_check(&self) -> Option<&HealthCheck> {
        self.health_check.as_ref()
    }

    /// The compose file of `app`'s deploy as container `container`, with [`CHANGES`].
    fn compose_file(&self, app: &Application, container: &str) -> Value {
        let coolify = shared::coolify::Application::standalone(&app.uuid, &[], self.port);
        let mut file = deploy::Deploy {
            application: &coolify,
            container: container.to_owned(),
            image: self.image.image.clone(),
            aliases: vec![app.alias.clone()],
            health_check: self.health_check.clone(),
            custom_labels: None,
            file_mounts: self.image.file_mounts.clone(),
            swarm_replicas: 1,
        }
        .compose_file(ServerKind::Standalone);
        let coolify_network = shared::coolify::STANDALONE_NETWORK;
        file["networks"][coolify_network] = json!({"external": true, "name": self.network});
        let service = &mut file["services"][container];
        if let Some(labels) = service["labels"].as_array_mut() {
            labels.retain(|l| !l.as_str().is_some_and(|l| l.starts_with("coolify.")));
            labels.push(Value::String(format!("{LABEL}={}", self.id)));
        }
        if let Some(command) = &self.image.command {
            service["command"] = command.clone();
        }
        file
    }

    /// A deploy of `app` as Coolify runs it (this module's doc).
    pub fn deploy(&self, docker: &Docker, app: &Application) -> anyhow::Result<RollingUpdate> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let container = deploy::container_name(&app.uuid, now);
        let file = app.dir.join("docker-compose.yaml");
        std::fs::write(
            &file,
            shared::yaml::to_string(&self.compose_file(app, &container))?,
        )?;
        let env: String = self
            .image
            .environment
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        std::fs::write(app.dir.join(".env"), env)?;
        let started = Instant::now();
        docker.output(
            docker
                .command()
                .args([
                    "compose",
                    "--project-name",
                    &app.uuid,
                    "--project-directory",
                ])
                .arg(&app.dir)
                .arg("-f")
                .arg(&file)
                .args(["up", "-d"]),
        )?;
        let mut update = RollingUpdate {
            unhealthy: self.wait_healthy(docker, &container),
            ..RollingUpdate::default()
        };
        update.waited = started.elapsed();
        let stop = |name: &str| {
            let started = Instant::now();
            let _ = docker.run(&["stop", &format!("--time={STOP_GRACE_SECONDS}"), name]);
            let _ = docker.run(&["rm", "-f", name]);
            started.elapsed()
        };
        if update.unhealthy.is_some() {
            // Coolify's rollback: the new container goes, the old one stays.
            update.stops.push(stop(&container));
        } else {
            for old in self.containers(docker, app)? {
                if old != container {
                    update.stops.push(stop(&old));
                }
            }
        }
        Ok(update)
    }

    /// Coolify's `health_check`: none when healthy (or the check is off); otherwise the
    /// health check's last output.
    fn wait_healthy(&self, docker: &Docker, container: &str) -> Option<String> {
        let health = self.health_check.as_ref()?;
        std::thread::sleep(Duration::from_secs(health.start_period.into()));
        let mut status = String::new();
        for _ in 0..health.retries {
            status = docker
                .run(&[
                    "inspect",
                    "--format",
                    "{{json .State.Health.Status}}",
                    container,
                ])
                .unwrap_or_default()
                .replace('"', "");
            match status.as_str() {
                "healthy" => return None,
                "unhealthy" => break,
                _ => std::thread::sleep(Duration::from_secs(health.interval.into())),
            }
        }
        let log = docker
            .run(&[
                "inspect",
                "--format",
                "{{json .State.Health.Log}}",
                container,
            ])
            .unwrap_or_default();
        Some(format!("{status}; {}", last_health_output(&log)))
    }

    /// The application's containers (Coolify's filter is `coolify.applicationId`; here its
    /// compose project), running or not.
    pub fn containers(&self, docker: &Docker, app: &Application) -> anyhow::Result<Vec<String>> {
        docker.all(&[&format!("com.docker.compose.project={}", app.uuid)])
    }

    /// The running container of each application, in order.
    pub fn replicas(&self, docker: &Docker) -> anyhow::Result<Vec<String>> {
        let mut running = Vec::new();
        for app in &self.apps {
            running.extend(docker.running(&[&format!("com.docker.compose.project={}", app.uuid)])?);
        }
        Ok(running)
    }

    /// The server URL the exported file gives `app`.
    pub fn server_url(&self, app: &Application) -> String {
        format!("http://{}:{}", app.alias, self.port)
    }

    /// The file `gaqno-lb export` writes for `service` of `project` as these applications,
    /// with the routers on the HTTP entrypoint (the rehearsal's domain).
    pub fn exported_file(
        &self,
        project: &Project,
        service: &shared::model::Service,
        alias_prefix: &str,
    ) -> anyhow::Result<String> {
        let mut service = service.clone();
        service.hosts = vec!["127.0.0.1".into()];
        service.port = self.port;
        service.set_alias_replicas(alias_prefix, self.apps.len() as u32);
        let mut project = Project {
            target: project.target.clone(),
            services: vec![service],
        };
        project.target.redirect_http = false;
        let mut config = shared::export::export(&project);
        let http = project.target.http_entry_point.clone();
        for router in config.http.iter_mut().flat_map(|h| h.routers.values_mut()) {
            router.entry_points = Some(vec![http.clone()]);
            router.tls = None;
        }
        shared::export::config_to_yaml(&config).map_err(|e| anyhow::anyhow!("export: {e}"))
    }
}

/// What the health check printed last (Docker's health log, JSON), one line, bounded.
fn last_health_output(log: &str) -> String {
    let log: Value = serde_json::from_str(log).unwrap_or_default();
    let output = log
        .as_array()
        .and_then(|entries| entries.last())
        .and_then(|entry| entry["Output"].as_str())
        .unwrap_or_default();
    let line = output.trim().lines().last().unwrap_or("").trim();
    if line.is_empty() {
        return "the check printed nothing".into();
    }
    let mut short: String = line.chars().take(160).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    short
}

/// Rehearses path a: the proxy, the exported file in its dynamic folder, one application
/// per replica deployed as Coolify does (and one more for the keep-alive), then the steps,
/// the redeploy being each application's rolling update.
pub(super) fn rehearse(
    rehearsal: &Rehearsal,
    flags: &Rehearse,
    replicas: u32,
    project: &Project,
    service: &Service,
    document: &Value,
    interrupted: &AtomicBool,
) -> anyhow::Result<(Report, String)> {
    let docker = &rehearsal.docker;
    let port = shared::compose::raw::service_port(document, &flags.service).unwrap_or(service.port);
    let (health, health_path) = health_of(service);
    let image = Image::of(document, &flags.service)?;
    let apps = Applications::new(
        &rehearsal.dir.join("applications"),
        &rehearsal.id,
        &service.name,
        replicas,
        image,
        port,
        health.as_ref().map(|h| h.path.as_str()),
        &rehearsal.network,
    )?;
    let exported = apps.exported_file(project, service, &service.name)?;
    let mut differences: Vec<String> = proxy::CHANGES.iter().map(|c| (*c).to_owned()).collect();
    differences.extend(CHANGES.iter().map(|c| (*c).to_owned()));

    let proxy = start_proxy(rehearsal)?;
    check_interrupt(interrupted)?;
    progress(&format!(
        "deploying {replicas} applications of {} as Coolify deploys path a, and gaqno-lb's file in the proxy's dynamic folder",
        flags.service
    ));
    std::fs::write(proxy.dynamic_dir().join("gaqno-lb.yaml"), exported)?;
    for app in &apps.apps {
        check_interrupt(interrupted)?;
        let update = apps.deploy(docker, app)?;
        if let Some(why) = update.unhealthy {
            bail!(
                "Coolify's health check never passed on the first deploy of {} ({why}): the app does not answer {health_path} on port {port} inside its container, or the image has neither curl nor wget (docker logs {}-…)",
                app.alias,
                app.uuid
            );
        }
    }
    // The keep-alive is measured on an application of its own, outside the file (the
    // redeploy would end one of the service's), on its own thread.
    let keep_alive = {
        let apps = apps.clone();
        start_keep_alive(
            rehearsal,
            &proxy,
            port,
            &health_path,
            idle_timeout_of_the_file(),
            move |docker| {
                apps.deploy(docker, &apps.keep_alive)?;
                apps.containers(docker, &apps.keep_alive)?
                    .into_iter()
                    .next()
                    .context("the keep-alive's application is not running")
            },
        )
    };
    let stage = Stage {
        rehearsal,
        proxy: &proxy,
        deployed: Deployed::A(&apps),
        url: format!("http://{}", proxy.http),
        socket_path: service.socket_io.path.clone(),
        traefik_service: format!("{}@file", shared::export::Names::of(&service.name).service),
        replicas,
        port,
        health,
        health_path,
        idle_timeout: (
            idle_timeout_of_the_file(),
            "the exported file's servers transport",
        ),
    };
    let report = run_steps(
        &stage,
        flags,
        document,
        differences,
        "a redeploy as Coolify does it on path a, under load",
        &|| redeploy_step(&stage, &apps, interrupted),
        keep_alive,
        interrupted,
    )?;
    Ok((report, stage.url))
}

/// The idle timeout the exported file gives Traefik's connections to the replicas.
fn idle_timeout_of_the_file() -> Duration {
    shared::traefik::GoDuration::new(shared::export::NODE_IDLE_CONN_TIMEOUT)
        .nanos()
        .map_or(Duration::from_secs(4), |n| {
            Duration::from_nanos(n.max(0) as u64)
        })
}

fn redeploy_step(
    stage: &Stage,
    apps: &Applications,
    interrupted: &AtomicBool,
) -> anyhow::Result<Step> {
    let mut step = Step::new(
        "A redeploy, as Coolify does it on path a (each application's rolling update, one after the other)",
    );
    let (updates, sessions, outage) = {
        let (apps, docker) = (apps.clone(), stage.docker().clone());
        under_load(
            stage,
            move || {
                apps.apps
                    .iter()
                    .map(|app| apps.deploy(&docker, app))
                    .collect::<anyhow::Result<Vec<_>>>()
            },
            interrupted,
        )?
    };
    let stops: Vec<Duration> = updates.iter().flat_map(|u| u.stops.clone()).collect();
    let slowest_stop = stops.iter().max().copied().unwrap_or_default();
    let longest_wait = updates.iter().map(|u| u.waited).max().unwrap_or_default();
    step.measured.push(match apps.health_check() {
        Some(_) => format!(
            "{} applications updated: each new container ran beside the old one until Coolify's health check passed ({:.1} s at the longest), then the old one stopped in {:.1} s at the slowest",
            updates.len(),
            longest_wait.as_secs_f64(),
            slowest_stop.as_secs_f64()
        ),
        None => format!(
            "{} applications updated with Coolify's health check off: each old container was stopped as soon as the new one started, in {:.1} s at the slowest",
            updates.len(),
            slowest_stop.as_secs_f64()
        ),
    });
    step.measured.push(sessions.in_words());
    step.measured.push(new_clients_in_words(&outage));
    let unhealthy: Vec<&str> = updates
        .iter()
        .filter_map(|u| u.unhealthy.as_deref())
        .collect();
    if let (Some(last), Some(health)) = (unhealthy.last(), apps.health_check()) {
        step.findings.push(Finding {
            owner: Owner::App,
            what: format!(
                "Coolify's health check never passed on {} of {} new containers ({last}): Coolify rolled each back, the old container kept serving, and the deploy failed",
                unhealthy.len(),
                updates.len()
            ),
            fix: format!(
                "Coolify checks from inside the container with `curl … || wget …`: the image needs one of them (node's alpine images have wget), and {} must answer 200 within {} s, {} s after the start",
                health.path, health.timeout, health.start_period
            ),
        });
    }
    shutdown_findings(&mut step, &stops, &sessions, ShutdownEvidence::StopTime);
    if let Some(unknown) = sessions.broken.get(SESSION_UNKNOWN) {
        step.findings.push(Finding {
            owner: Owner::Path,
            what: format!(
                "{unknown} session(s) broke with \"session ID unknown\" on an application being updated: while its old and new containers run side by side ({:.1} s at the longest), both carry its alias, Docker's DNS answers either, and Traefik's new connections reach the one that does not know the session; the client reconnects",
                longest_wait.as_secs_f64()
            ),
            fix: "the window is Coolify's health check wait: its start period plus an interval or two (Configuration → Healthcheck) — shorter settings narrow it; path c (Swarm) gives every replica an address of its own, and no redeploy breaks a session that way".into(),
        });
    }
    if outage.failed > 0 {
        match apps.health_check() {
            None => step.findings.push(Finding {
                owner: Owner::Project,
                what: format!(
                    "new clients got {} for {:.1} s: with Coolify's health check off, it stops the old container as soon as the new one starts, before the new one listens",
                    outage.statuses_in_words(),
                    outage.longest.as_secs_f64()
                ),
                fix: format!(
                    "give the project's service a health check, and turn on Coolify's health check in each application (Configuration → Healthcheck, path {}): Coolify then stops the old container only once the new one answers",
                    stage.health_path
                ),
            }),
            Some(_) => step.findings.push(Finding {
                owner: Owner::App,
                what: format!(
                    "new clients got {} for {:.1} s although Coolify waited for each new container: the old one stopped answering before Traefik stopped sending it requests",
                    outage.statuses_in_words(),
                    outage.longest.as_secs_f64()
                ),
                fix: DRAIN_FIX.into(),
            }),
        }
    }
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applications(dir: &Path) -> Applications {
        let image = Image {
            image: "node:22-alpine".into(),
            command: Some(json!(["node", "/demo/server.js"])),
            environment: vec![("PORT".into(), "4008".into())],
            file_mounts: vec![("/tmp/r/demo".into(), "/demo:ro".into())],
        };
        Applications::new(
            dir,
            "abc",
            "omni",
            2,
            image,
            4008,
            Some("/v1/health"),
            "net-abc",
        )
        .unwrap()
    }

    #[test]
    fn each_application_is_coolifys_deploy_on_the_rehearsals_network() {
        let dir = std::env::temp_dir().join(format!("gaqno-lb-path-a-{}", std::process::id()));
        let apps = applications(&dir);
        let file = apps.compose_file(&apps.apps[1], "rabcapp2-1");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(apps.apps[1].uuid, "rabcapp2");
        assert_eq!(apps.server_url(&apps.apps[1]), "http://omni-2:4008");
        let service = &file["services"]["rabcapp2-1"];
        assert_eq!(
            service["networks"]["coolify"]["aliases"],
            json!(["rabcapp2-1", "omni-2"])
        );
        assert_eq!(
            file["networks"]["coolify"],
            json!({"external": true, "name": "net-abc"})
        );
        let labels = service["labels"].as_array().unwrap();
        assert!(!labels
            .iter()
            .any(|l| l.as_str().unwrap().starts_with("coolify.")));
        assert_eq!(labels.last().unwrap(), "gaqno-lb.rehearsal=abc");
        assert!(service["healthcheck"]["test"][1]
            .as_str()
            .unwrap()
            .contains("http://localhost:4008/v1/health"));
        assert_eq!(service["command"], json!(["node", "/demo/server.js"]));
        assert_eq!(service["volumes"], json!(["/tmp/r/demo:/demo:ro"]));
        assert_eq!(service["restart"], "unless-stopped");
    }

    #[test]
    fn the_exported_file_routes_plain_http_to_the_aliases() {
        let dir = std::env::temp_dir().join(format!("gaqno-lb-path-a-x-{}", std::process::id()));
        let apps = applications(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        let project = Project::gaqno();
        let service = project.services[0].clone();
        let yaml = apps.exported_file(&project, &service, "omni").unwrap();
        assert!(yaml.contains("url: http://omni-1:4008"), "{yaml}");
        assert!(yaml.contains("url: http://omni-2:4008"), "{yaml}");
        assert!(!yaml.contains("tls"), "{yaml}");
        assert!(!yaml.contains("- https"), "{yaml}");
        assert!(yaml.contains("Host(`127.0.0.1`)"), "{yaml}");
        // The linter finds nothing Traefik would reject.
        let config: shared::traefik::DynamicConfig = shared::yaml::from_str(&yaml).unwrap();
        let options = shared::lint::LintOptions {
            traefik_version: project.target.traefik_version,
            source: shared::lint::Source::File,
        };
        let errors: Vec<_> = shared::lint::lint(&config, &options)
            .into_iter()
            .filter(|d| d.severity == shared::lint::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn the_health_checks_last_output_is_one_bounded_line() {
        let log = r#"[{"ExitCode":1,"Output":"old"},{"ExitCode":1,"Output":"sh: curl: not found\nsh: wget: not found\n"}]"#;
        assert_eq!(last_health_output(log), "sh: wget: not found");
        assert_eq!(last_health_output("null"), "the check printed nothing");
        let long = format!(r#"[{{"Output":"{}"}}]"#, "x".repeat(500));
        assert_eq!(last_health_output(&long).chars().count(), 161);
    }

    #[test]
    fn the_image_and_its_settings_come_from_the_compose_service() {
        let document = json!({"services": {"omni": {
            "image": "gaqno/omni:1",
            "environment": ["A=1", "B"],
            "volumes": ["/srv/a.js:/app/a.js:ro", "data:/data"],
        }}});
        let image = Image::of(&document, "omni").unwrap();
        assert_eq!(image.image, "gaqno/omni:1");
        assert_eq!(
            image.environment,
            [("A".into(), "1".into()), ("B".into(), String::new())]
        );
        assert_eq!(
            image.file_mounts,
            [("/srv/a.js".into(), "/app/a.js".into())]
        );
        let built = json!({"services": {"omni": {"build": "."}}});
        assert!(Image::of(&built, "omni").is_err());
    }
}
