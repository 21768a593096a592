//! Path b, a Raw Compose Deployment, as Coolify v4.3.10 deploys it
//! (`ApplicationDeploymentJob::deploy_docker_compose_buildpack` with *Raw (deploy file
//! as-is)*): the file `gaqno-lb compose` writes, in the application's folder, and a deploy
//! is `stop_running_container` — every container of the application, one after the other,
//! `docker stop --time=<grace>` (30 s by default) then `docker rm -f` — then
//! `docker compose --env-file <dir>/.env --project-directory <dir> -f
//! <dir>/docker-compose.yaml up -d`, with no `--project-name`: the project is the folder's
//! name (Coolify's: the application's uuid).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

use super::docker::{Docker, LABEL};

use std::sync::atomic::AtomicBool;

use crate::flags::Rehearse;
use shared::model::{Project, Service};

use super::report::{Finding, Owner, Report, Step};
use super::steps::{
    new_clients_in_words, run_steps, shutdown_findings, start_keep_alive, under_load, Deployed,
    ShutdownEvidence, Stage,
};
use super::{
    check_interrupt, health_of, progress, proxy, start_proxy, sticky_service, Rehearsal, DOMAIN,
    TRAEFIK_IDLE_TIMEOUT,
};

/// The file's name in the application's folder, as Coolify writes it.
const COMPOSE_FILE: &str = "docker-compose.yaml";

/// Coolify's default stop grace period (`DEFAULT_STOP_GRACE_PERIOD_SECONDS`).
pub const GRACE_SECONDS: u32 = 30;

/// What the rehearsal changes in the file, beside what `gaqno-lb compose` writes.
pub const CHANGES: [&str; 4] = [
    "the domain is http://127.0.0.1 (HTTP: no certificate to make; TLS does not change which replica a session reaches)",
    "router, service and middleware names carry the rehearsal's id, so no other Traefik on this engine meets a name it has",
    "the proxy's network is the rehearsal's instead of `coolify`, and every service and network carries the rehearsal's label",
    "Coolify's own `coolify.*` labels are left out, so that a Coolify on this machine never takes the containers for its own",
];

#[derive(Clone)]
pub struct RawApp {
    /// The application's folder; its name is the compose project's.
    pub dir: PathBuf,
    pub project: String,
    pub service: String,
    /// `com.docker.compose.project=<project>`.
    project_label: String,
    id: String,
}

/// How long each container took to stop in a deploy.
#[derive(Debug, Default)]
pub struct Deploy {
    pub stops: Vec<Duration>,
}

impl RawApp {
    pub fn new(
        parent: &std::path::Path,
        project: &str,
        service: &str,
        id: &str,
    ) -> anyhow::Result<RawApp> {
        let dir = parent.join(project);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(".env"), "")?;
        Ok(RawApp {
            dir,
            project: project.to_owned(),
            project_label: format!("com.docker.compose.project={project}"),
            service: service.to_owned(),
            id: id.to_owned(),
        })
    }

    /// `raw` (the document `gaqno-lb compose` wrote) with [`CHANGES`] for `network`.
    pub fn rehearsal_file(&self, raw: &Value, network: &str) -> anyhow::Result<Value> {
        let mut file = raw.clone();
        let coolify = shared::coolify::STANDALONE_NETWORK;
        let ours = format!("{LABEL}={}", self.id);
        anyhow::ensure!(
            file["networks"].get(coolify).is_some(),
            "the compose file has no `{coolify}` network to put on the rehearsal's"
        );
        file["networks"][coolify] = json!({"external": true, "name": network});
        file["networks"]["default"] = json!({"labels": [ours.clone()]});
        let services = file["services"]
            .as_object_mut()
            .context("the compose file has no services")?;
        for service in services.values_mut() {
            let labels = service
                .as_object_mut()
                .context("a service is not a mapping")?
                .entry("labels")
                .or_insert_with(|| json!([]));
            let list = labels
                .as_array_mut()
                .context("a service's labels are not a list")?;
            for label in list.iter_mut() {
                if label.as_str() == Some(&format!("traefik.docker.network={coolify}")) {
                    *label = Value::String(format!("traefik.docker.network={network}"));
                }
            }
            list.push(Value::String(ours.clone()));
        }
        Ok(file)
    }

    /// Deploys `file` the way Coolify does (this module's doc).
    pub fn deploy(&self, docker: &Docker, file: &Value) -> anyhow::Result<Deploy> {
        std::fs::write(self.dir.join(COMPOSE_FILE), shared::yaml::to_string(file)?)?;
        let mut deploy = Deploy::default();
        for container in docker.all(&self.labels())? {
            let started = Instant::now();
            let _ = docker.run(&["stop", &format!("--time={GRACE_SECONDS}"), &container]);
            deploy.stops.push(started.elapsed());
            let _ = docker.run(&["rm", "-f", &container]);
        }
        self.up(docker)?;
        Ok(deploy)
    }

    /// `docker compose` on the file in the application's folder, as Coolify runs it: its
    /// `.env`, the folder as the project (no `--project-name`).
    fn compose(&self, docker: &Docker) -> std::process::Command {
        let mut command = docker.command();
        command
            .arg("compose")
            .arg("--env-file")
            .arg(self.dir.join(".env"))
            .arg("--project-directory")
            .arg(&self.dir)
            .arg("-f")
            .arg(self.dir.join(COMPOSE_FILE));
        command
    }

    /// Coolify's `docker compose … up -d`.
    pub fn up(&self, docker: &Docker) -> anyhow::Result<()> {
        docker.output(self.compose(docker).args(["up", "-d"]))?;
        Ok(())
    }

    /// The running replicas of the service.
    pub fn replicas(&self, docker: &Docker) -> anyhow::Result<Vec<String>> {
        let service = format!("com.docker.compose.service={}", self.service);
        let mut labels = self.labels();
        labels.push(&service);
        docker.running(&labels)
    }

    /// A one-off container of the service (`docker compose run`: its image, command,
    /// environment and networks) that Traefik leaves out, named `<project>-<what>`.
    pub fn run_one_off(&self, docker: &Docker, what: &str) -> anyhow::Result<String> {
        let name = format!("{}-{what}", self.project);
        docker.output(self.compose(docker).args([
            "run",
            "-d",
            "--no-deps",
            "--name",
            &name,
            "--label",
            "traefik.enable=false",
            &self.service,
        ]))?;
        Ok(name)
    }

    /// The application's containers (Coolify's filter is its `coolify.applicationId`
    /// label; here the compose project), one-off ones left out.
    fn labels(&self) -> Vec<&str> {
        vec![&self.project_label, "com.docker.compose.oneoff=False"]
    }
}

/// Rehearses path b: the proxy, `gaqno-lb compose`'s file deployed as Coolify deploys a
/// Raw Compose Deployment (and a one-off of it for the keep-alive), then the steps, the
/// redeploy being Coolify's stop-everything-then-up.
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
    // Router, service and middleware names carry the rehearsal's id: any other Traefik
    // reading this engine (a Coolify proxy on the same machine) sees no name it has.
    let mut settings = service.clone();
    settings.name = format!("rehearsal-{}-{}", rehearsal.id, service.name);
    let options = shared::compose::raw::RawOptions {
        service: flags.service.clone(),
        replicas,
        domain: DOMAIN.to_owned(),
        port,
        name_stem: format!("rehearsal-{}", rehearsal.id),
    };
    let raw = shared::compose::raw::raw_compose(document, &options, &project.target, &settings)
        .map_err(|e| anyhow::anyhow!("gaqno-lb compose: {e}"))?;
    let app = RawApp::new(
        &rehearsal.dir.join("applications"),
        &format!("{}-app", rehearsal.network),
        &flags.service,
        &rehearsal.id,
    )?;
    let file = app.rehearsal_file(&raw.document, &rehearsal.network)?;
    let traefik_service = balanced_service(&file, &flags.service)?;
    let (health, health_path) = health_of(service);
    let mut differences: Vec<String> = proxy::CHANGES.iter().map(|c| (*c).to_owned()).collect();
    differences.extend(CHANGES.iter().map(|c| (*c).to_owned()));

    let proxy = start_proxy(rehearsal)?;
    check_interrupt(interrupted)?;
    progress(&format!(
        "deploying {} replicas of {} as Coolify deploys path b",
        replicas, flags.service
    ));
    app.deploy(docker, &file)?;
    // The keep-alive takes up to Traefik's idle timeout to measure: on a replica of its own
    // (not the service's: the redeploy would end it), from the start, on its own thread.
    let keep_alive = {
        let name = app.run_one_off(docker, "keep-alive")?;
        start_keep_alive(
            rehearsal,
            &proxy,
            port,
            &health_path,
            TRAEFIK_IDLE_TIMEOUT,
            move |_| Ok(name),
        )
    };
    let stage = Stage {
        rehearsal,
        proxy: &proxy,
        deployed: Deployed::B(&app),
        url: format!("http://{}", proxy.http),
        socket_path: service.socket_io.path.clone(),
        traefik_service: format!("{traefik_service}@{}", proxy.provider),
        replicas,
        port,
        health,
        health_path,
        idle_timeout: (
            TRAEFIK_IDLE_TIMEOUT,
            "Traefik's default, which Coolify's proxy keeps",
        ),
    };
    let report = run_steps(
        &stage,
        flags,
        document,
        differences,
        "a redeploy as Coolify does it on path b, under load",
        &|| redeploy_step(&stage, &app, &file, interrupted),
        keep_alive,
        interrupted,
    )?;
    Ok((report, stage.url))
}

fn redeploy_step(
    stage: &Stage,
    app: &RawApp,
    file: &Value,
    interrupted: &AtomicBool,
) -> anyhow::Result<Step> {
    let mut step =
        Step::new("A redeploy, as Coolify does it on path b (every container stopped, then up)");
    let (deployed, sessions, outage) = {
        let (app, docker, file) = (app.clone(), stage.docker().clone(), file.clone());
        under_load(stage, move || app.deploy(&docker, &file), interrupted)?
    };
    let slowest_stop = deployed.stops.iter().max().copied().unwrap_or_default();
    step.measured.push(format!(
        "{} containers stopped one by one, the slowest in {:.1} s (Coolify waits up to {} s)",
        deployed.stops.len(),
        slowest_stop.as_secs_f64(),
        shared::coolify::deploy::STOP_GRACE_SECONDS
    ));
    step.measured.push(sessions.in_words());
    step.measured.push(new_clients_in_words(&outage));
    shutdown_findings(
        &mut step,
        &deployed.stops,
        &sessions,
        ShutdownEvidence::Breaks,
    );
    if outage.failed > 0 {
        step.findings.push(Finding {
            owner: Owner::Path,
            what: format!(
                "{} for {:.1} s: no container during the redeploy (path b stops every container before it starts the new ones; on HTTPS, Coolify's catch-all answers 503), and every open session ends",
                outage.statuses_in_words(),
                outage.longest.as_secs_f64()
            ),
            fix: "to redeploy without a gap, use path a (N applications, Coolify's rolling update with its health check on) or path c (Swarm, start-first)".into(),
        });
    }
    Ok(step)
}

/// The service Traefik balances the replicas with (the one the sticky cookie is on), from
/// the labels of `file`'s `service`.
fn balanced_service(file: &Value, service: &str) -> anyhow::Result<String> {
    let labels = file["services"][service]["labels"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    sticky_service(labels).context("the file's labels give the service no sticky cookie")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_goes_on_the_rehearsals_network_with_its_label() {
        let raw = json!({
            "services": {"omni": {"image": "x", "networks": ["default", "coolify"], "labels": [
                "traefik.docker.network=coolify", "traefik.enable=true",
            ]}},
            "networks": {"coolify": {"external": true, "name": "coolify"}},
        });
        let app = RawApp {
            dir: PathBuf::from("/nonexistent"),
            project: "p".into(),
            project_label: "com.docker.compose.project=p".into(),
            service: "omni".into(),
            id: "abc".into(),
        };
        let file = app.rehearsal_file(&raw, "gaqno-lb-rehearsal-abc").unwrap();
        assert_eq!(
            file["networks"]["coolify"],
            json!({"external": true, "name": "gaqno-lb-rehearsal-abc"})
        );
        assert_eq!(
            file["networks"]["default"]["labels"],
            json!(["gaqno-lb.rehearsal=abc"])
        );
        assert_eq!(
            file["services"]["omni"]["labels"],
            json!([
                "traefik.docker.network=gaqno-lb-rehearsal-abc",
                "traefik.enable=true",
                "gaqno-lb.rehearsal=abc"
            ])
        );
        let no_coolify = json!({"services": {"omni": {}}, "networks": {}});
        assert!(app.rehearsal_file(&no_coolify, "n").is_err());
    }

    #[test]
    fn the_balanced_service_is_the_one_with_the_sticky_cookie() {
        let file = json!({"services": {"omni": {"labels": [
            "traefik.http.services.http-0-gaqno-omni-1234.loadbalancer.server.port=4008",
            "traefik.http.services.http-0-gaqno-omni-1234.loadBalancer.sticky.cookie.name=gaqno_omni",
        ]}}});
        assert_eq!(
            balanced_service(&file, "omni").unwrap(),
            "http-0-gaqno-omni-1234"
        );
        assert!(balanced_service(&json!({"services": {"omni": {}}}), "omni").is_err());
    }
}
