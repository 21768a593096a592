//! Path c, a Swarm server, as Coolify v4.3.10 deploys a standalone application there
//! ([`shared::coolify::deploy`] on a Swarm server): one stack named after the application's
//! uuid with one service, *Consistent container name* on (the service is `<uuid>`, as the
//! README's path c asks), *Swarm → Replicas*, `update_config.order: start-first`, and the
//! labels `gaqno-lb labels` writes from Coolify's *Active labels* ("Managed manually"). A
//! deploy is `rolling_update` on Swarm: `docker stack deploy --detach=true
//! --with-registry-auth -c <file> <uuid>`, and no health check wait (Coolify's
//! `health_check` does nothing on Swarm: Swarm itself holds a task with a health check out
//! until it is healthy).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};
use shared::coolify::deploy::{self, HealthCheck};
use shared::coolify::proxy::ServerKind;

use super::docker::{Docker, LABEL};
use super::path_a::Image;

use std::sync::atomic::AtomicBool;

use crate::flags::Rehearse;
use shared::model::{Project, Service};

use super::report::{Finding, Owner, Report, Step};
use super::steps::{
    new_clients_in_words, run_steps, shutdown_findings, start_keep_alive, under_load, Deployed,
    ShutdownEvidence, Stage, DRAIN_FIX, SESSION_UNKNOWN,
};
use super::{
    check_interrupt, health_of, progress, proxy, start_proxy, sticky_service, Rehearsal, DOMAIN,
    TRAEFIK_IDLE_TIMEOUT,
};

/// What the rehearsal changes, beside what Coolify and `gaqno-lb labels` write.
pub const CHANGES: [&str; 7] = [
    "the domain is http://127.0.0.1 (HTTP: no certificate to make; TLS does not change which replica a session reaches)",
    "the service is on the rehearsal's overlay instead of `coolify-overlay`, carries the rehearsal's label, and leaves out Coolify's `coolify.*` labels; its tasks are placed on this manager (the image, and the demo's file, are here)",
    "the names of gaqno-lb's routers, service and middleware carry the rehearsal's id, so no other Traefik on this Swarm meets a name it has",
    "*Consistent container name* is on, as path c needs (with Coolify's default every deploy adds a service beside the old one)",
    "the stack deploy asks no registry for the image's digest (`--resolve-image=never`): the image on this machine is the one rehearsed",
    "a redeploy changes one variable of the .env (GAQNO_LB_REHEARSAL_DEPLOY), so that Swarm replaces the tasks as a new image would",
    "Coolify's health check is on, at the project's health check path, when the project's service has one (Coolify's default is off): Swarm then holds a new task out until it is healthy",
];

/// The application's stack.
#[derive(Debug, Clone)]
pub struct Stack {
    /// The application's uuid: the stack's name and, with a consistent name, its service's.
    pub uuid: String,
    dir: PathBuf,
    image: Image,
    /// The labels box's text ("Managed manually").
    labels: String,
    health_check: Option<HealthCheck>,
    replicas: u32,
    port: u16,
    network: String,
    node: String,
    id: String,
}

impl Stack {
    /// The stack of rehearsal `id` on `network`, its tasks on `node`, in a folder under
    /// `parent`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        parent: &std::path::Path,
        id: &str,
        network: &str,
        node: &str,
        image: Image,
        port: u16,
        replicas: u32,
        health_path: Option<&str>,
        labels: String,
    ) -> anyhow::Result<Stack> {
        let uuid = uuid_of(id);
        let dir = parent.join(&uuid);
        std::fs::create_dir_all(&dir)?;
        Ok(Stack {
            uuid,
            dir,
            image,
            labels,
            health_check: health_path.map(HealthCheck::at),
            replicas,
            port,
            network: network.to_owned(),
            node: node.to_owned(),
            id: id.to_owned(),
        })
    }

    /// The Coolify application the stack is (its Active labels are what `gaqno-lb labels`
    /// reads).
    pub fn application(uuid: &str, domain: &str, port: u16) -> shared::coolify::Application {
        shared::coolify::Application::standalone(uuid, &[domain], port)
    }

    /// The service in Swarm: `<stack>_<service>`.
    pub fn service(&self) -> String {
        format!("{0}_{0}", self.uuid)
    }

    /// The stack file with [`CHANGES`].
    pub fn file(&self, domain: &str) -> Value {
        let coolify = Stack::application(&self.uuid, domain, self.port);
        let mut file = deploy::Deploy {
            application: &coolify,
            container: self.uuid.clone(),
            image: self.image.image.clone(),
            aliases: Vec::new(),
            health_check: self.health_check.clone(),
            custom_labels: Some(self.labels.clone()),
            file_mounts: self.image.file_mounts.clone(),
            swarm_replicas: self.replicas,
        }
        .compose_file(ServerKind::Swarm);
        let overlay = shared::coolify::SWARM_NETWORK;
        file["networks"][overlay] = json!({"external": true, "name": self.network});
        let service = &mut file["services"][&self.uuid];
        if let Some(labels) = service["deploy"]["labels"].as_array_mut() {
            labels.retain(|l| !l.as_str().is_some_and(|l| l.starts_with("coolify.")));
            for label in labels.iter_mut() {
                let network_label = format!("traefik.docker.network={overlay}");
                if label.as_str() == Some(&network_label) {
                    *label = Value::String(format!("traefik.docker.network={}", self.network));
                }
            }
            labels.push(Value::String(format!("{LABEL}={}", self.id)));
        }
        service["deploy"]["placement"] =
            json!({"constraints": [format!("node.id=={}", self.node)]});
        if let Some(command) = &self.image.command {
            service["command"] = command.clone();
        }
        file
    }

    /// Coolify's deploy on Swarm, the `n`th: the file and its `.env`, then `docker stack
    /// deploy`.
    pub fn deploy(&self, docker: &Docker, file: &Value, n: u32) -> anyhow::Result<()> {
        std::fs::write(
            self.dir.join("docker-compose.yaml"),
            shared::yaml::to_string(file)?,
        )?;
        let mut env: String = self
            .image
            .environment
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        env += &format!("GAQNO_LB_REHEARSAL_DEPLOY={n}\n");
        std::fs::write(self.dir.join(".env"), env)?;
        docker.output(
            docker
                .command()
                .args([
                    "stack",
                    "deploy",
                    "--detach=true",
                    "--with-registry-auth",
                    "--resolve-image=never",
                    "-c",
                    "docker-compose.yaml",
                    &self.uuid,
                ])
                .current_dir(&self.dir),
        )?;
        Ok(())
    }

    /// Waits for the service's update to end; how long it took, or why it did not end.
    pub fn wait_update(&self, docker: &Docker, within: Duration) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let service = self.service();
        let mut seen_updating = false;
        loop {
            let state = docker
                .run(&[
                    "service",
                    "inspect",
                    "--format",
                    "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}",
                    &service,
                ])
                .unwrap_or_default();
            match state.as_str() {
                "updating" => seen_updating = true,
                "completed" if seen_updating || started.elapsed() > Duration::from_secs(3) => {
                    return Ok(started.elapsed())
                }
                "paused" | "rollback_started" | "rollback_completed" | "rollback_paused" => {
                    anyhow::bail!("Swarm's update of {service} ended `{state}`: a new task did not start (docker service ps {service})")
                }
                _ => {}
            }
            anyhow::ensure!(
                started.elapsed() < within,
                "Swarm's update of {service} did not end in {} s (`{state}`)",
                within.as_secs()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The running containers of the service's tasks on this node.
    pub fn replicas(&self, docker: &Docker) -> anyhow::Result<Vec<String>> {
        docker.running(&[&format!("com.docker.swarm.service.name={}", self.service())])
    }

    /// A container of the application outside Swarm and Traefik (its image, command,
    /// `.env` and mounts), on the overlay, named `<network>-<what>`.
    pub fn run_one_off(&self, docker: &Docker, what: &str) -> anyhow::Result<String> {
        let name = format!("{}-{what}", self.network);
        let mut command = docker.command();
        command
            .args(["run", "-d", "--name", &name, "--network", &self.network])
            .arg("--label")
            .arg(format!("{LABEL}={}", self.id))
            .arg("--env-file")
            .arg(self.dir.join(".env"));
        for (on_server, in_container) in &self.image.file_mounts {
            command.arg("-v").arg(format!("{on_server}:{in_container}"));
        }
        command.arg(&self.image.image);
        if let Some(args) = self.image.command.as_ref().and_then(Value::as_array) {
            command.args(args.iter().filter_map(Value::as_str));
        }
        docker
            .output(&mut command)
            .context("cannot start the keep-alive's container")?;
        Ok(name)
    }
}

/// The application's uuid in rehearsal `id` (Coolify's are 24 lowercase letters and digits).
pub fn uuid_of(id: &str) -> String {
    format!("r{id}stack")
}

/// Rehearses path c: the Swarm proxy, the stack with `gaqno-lb labels`' labels (and a
/// container beside it for the keep-alive), then the steps, the redeploy being Swarm's
/// start-first update.
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
    let node = rehearsal
        .swarm
        .as_ref()
        .map(|s| s.node.clone())
        .context("path c runs on a Swarm")?;
    let port = shared::compose::raw::service_port(document, &flags.service).unwrap_or(service.port);
    let (health, health_path) = health_of(service);
    let image = Image::of(document, &flags.service)?;
    // `gaqno-lb labels` on Coolify's Active labels, the names ours carry with the id.
    let active = Stack::application(&uuid_of(&rehearsal.id), DOMAIN, port)
        .active_labels_on(shared::coolify::SWARM_NETWORK);
    let mut settings = service.clone();
    settings.name = format!("rehearsal-{}-{}", rehearsal.id, service.name);
    let pasted = shared::labels::Labels::parse(&active)
        .map_err(|e| anyhow::anyhow!("Coolify's labels: {e}"))?;
    let labels = shared::labels::coolify::add_affinity(&pasted, &project.target, &settings)
        .map_err(|e| anyhow::anyhow!("gaqno-lb labels: {e}"))?
        .labels
        .text();
    let stack = Stack::new(
        &rehearsal.dir.join("applications"),
        &rehearsal.id,
        &rehearsal.network,
        &node,
        image,
        port,
        replicas,
        health.as_ref().map(|h| h.path.as_str()),
        labels,
    )?;
    let file = stack.file(DOMAIN);
    let traefik_service = sticky_service(
        file["services"][&stack.uuid]["deploy"]["labels"]
            .as_array()
            .map_or(&[][..], Vec::as_slice),
    )
    .context("gaqno-lb labels gave the service no sticky cookie")?;
    let mut differences: Vec<String> = proxy::CHANGES.iter().map(|c| (*c).to_owned()).collect();
    differences.extend(proxy::SWARM_CHANGES.iter().map(|c| (*c).to_owned()));
    differences.extend(CHANGES.iter().map(|c| (*c).to_owned()));

    let proxy = start_proxy(rehearsal)?;
    check_interrupt(interrupted)?;
    progress(&format!(
        "deploying {replicas} tasks of {} as Coolify deploys path c (a stack)",
        flags.service
    ));
    stack.deploy(docker, &file, 1)?;
    // The keep-alive on a container of its own beside the stack, on its own thread.
    let keep_alive = {
        let name = stack.run_one_off(docker, "keep-alive")?;
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
        deployed: Deployed::C(&stack),
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
        "a redeploy as Coolify does it on path c (start-first), under load",
        &|| redeploy_step(&stage, &stack, &file, interrupted),
        keep_alive,
        interrupted,
    )?;
    Ok((report, stage.url))
}

fn redeploy_step(
    stage: &Stage,
    stack: &Stack,
    file: &Value,
    interrupted: &AtomicBool,
) -> anyhow::Result<Step> {
    let mut step = Step::new(
        "A redeploy, as Coolify does it on path c (`docker stack deploy`: tasks replaced start-first)",
    );
    // Swarm stops the replaced tasks itself; the engine's events say how each stop went.
    let watch = stage.docker().watch_stops(&format!(
        "com.docker.swarm.service.name={}",
        stack.service()
    ))?;
    let (took, sessions, outage) = {
        let (stack, docker, file) = (stack.clone(), stage.docker().clone(), file.clone());
        under_load(
            stage,
            move || {
                stack.deploy(&docker, &file, 2)?;
                stack.wait_update(&docker, Duration::from_secs(300))
            },
            interrupted,
        )?
    };
    // Swarm may call the update done before the last old task has gone (10 s at most).
    let stops = watch.finish(stack.replicas as usize, Duration::from_secs(15));
    let killed = stops.iter().filter(|s| s.killed()).count();
    let slowest = stops.iter().map(|s| s.took).max().unwrap_or_default();
    step.measured.push(format!(
        "Swarm replaced {} task(s) start-first in {:.1} s; the slowest stopped {:.1} s after its SIGTERM, and {killed} had to be killed when Docker's 10 s grace ended (Coolify sets no stop grace period on Swarm)",
        stops.len(),
        took.as_secs_f64(),
        slowest.as_secs_f64()
    ));
    step.measured.push(sessions.in_words());
    step.measured.push(new_clients_in_words(&outage));
    if killed > 0 {
        step.findings.push(Finding {
            owner: Owner::App,
            what: format!(
                "{killed} replaced task(s) ignored SIGTERM and were killed after Docker's 10 s, their sessions cut (`node` as the container's first process has no default action for SIGTERM)"
            ),
            fix: DRAIN_FIX.into(),
        });
    } else {
        let stops: Vec<Duration> = stops.iter().map(|s| s.took).collect();
        shutdown_findings(&mut step, &stops, &sessions, ShutdownEvidence::StopTime);
    }
    if let Some(unknown) = sessions.broken.get(SESSION_UNKNOWN) {
        step.findings.push(Finding {
            owner: Owner::Path,
            what: format!(
                "{unknown} session(s) broke with \"session ID unknown\" during the update instead of getting a close: a replaced task leaves Traefik's servers at its next read of the Swarm (every 15 s on Coolify's proxy), and a session's requests then reach another task; the client reconnects"
            ),
            fix: "nothing in Coolify's settings changes it: an app that closes its sessions on SIGTERM (io.disconnectSockets(true)) sends most clients a close first, so few meet it".into(),
        });
    }
    if outage.failed > 0 {
        step.findings.push(Finding {
            owner: Owner::Path,
            what: format!(
                "new clients got {} for {:.1} s: Swarm stopped a task before Traefik dropped it (Coolify's proxy reads the Swarm every 15 s, and a task gets 10 s to stop)",
                outage.statuses_in_words(),
                outage.longest.as_secs_f64()
            ),
            fix: "nothing in Coolify's settings closes that gap: an app that keeps answering for its whole 10 s after SIGTERM, then closes its sessions, keeps it shortest".into(),
        });
    }
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stack_is_coolifys_swarm_deploy_on_the_rehearsals_overlay() {
        let dir = std::env::temp_dir().join(format!("gaqno-lb-path-c-{}", std::process::id()));
        let image = Image {
            image: "node:22-alpine".into(),
            command: Some(json!(["node", "/demo/server.js"])),
            environment: vec![("PORT".into(), "4008".into())],
            file_mounts: vec![("/tmp/r/demo".into(), "/demo".into())],
        };
        let labels = "traefik.enable=true\ntraefik.http.services.http-0-x.loadbalancer.sticky.cookie.name=gaqno_omni\ncoolify.managed=true";
        let stack = Stack::new(
            &dir,
            "abc",
            "net-abc",
            "node1",
            image,
            4008,
            3,
            Some("/v1/health"),
            labels.into(),
        )
        .unwrap();
        let file = stack.file("http://127.0.0.1");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(stack.service(), "rabcstack_rabcstack");
        let service = &file["services"]["rabcstack"];
        assert_eq!(service["deploy"]["replicas"], 3);
        assert_eq!(service["deploy"]["update_config"]["order"], "start-first");
        assert_eq!(
            service["deploy"]["placement"]["constraints"],
            json!(["node.id==node1"])
        );
        let deploy_labels = service["deploy"]["labels"].as_array().unwrap();
        assert!(!deploy_labels
            .iter()
            .any(|l| l.as_str().unwrap().starts_with("coolify.")));
        assert_eq!(deploy_labels.last().unwrap(), "gaqno-lb.rehearsal=abc");
        assert_eq!(sticky_service(deploy_labels).as_deref(), Some("http-0-x"));
        assert_eq!(
            file["networks"]["coolify-overlay"],
            json!({"external": true, "name": "net-abc"})
        );
        assert!(service["healthcheck"]["test"][1]
            .as_str()
            .unwrap()
            .contains("localhost:4008/v1/health"));
        assert_eq!(service["command"], json!(["node", "/demo/server.js"]));
        assert_eq!(service["volumes"], json!(["/tmp/r/demo:/demo"]));
    }
}
