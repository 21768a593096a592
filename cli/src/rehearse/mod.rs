//! `gaqno-lb rehearse`: a deploy rehearsed on this machine's Docker before production.
//!
//! It starts Coolify's own proxy ([`proxy`]) with the plugin from this binary, deploys the
//! service's replicas as the chosen path does ([`path_b`]), and then does what production
//! will do, one [`report::Step`] each: sessions in every transport with and without
//! cookies; the app's health check and keep-alive against Traefik's; a redeploy the way
//! Coolify does it, under load; a replica killed, under load. Sessions are measured by
//! `gaqno-lb check` ([`probe`]). Each finding says what broke, why, and the fix.
//!
//! Everything it makes carries the label `gaqno-lb.rehearsal=<id>` and is removed at the
//! end, on failure and on Ctrl+C ([`Rehearsal`]'s `Drop`); it never touches anything else.

mod docker;
mod path_a;
mod path_b;
mod probe;
mod proxy;
mod report;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};
use shared::model::{Project, Service};

use crate::flags::{Format, RehearsalPath, Rehearse};
use docker::{Docker, LABEL};
use report::{Finding, Owner, Report, Step};

/// Traefik's idle timeout for connections to a server (`serversTransport`'s
/// `idleConnTimeout`, 90 s by default; Coolify's proxy keeps the default).
const TRAEFIK_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Coolify's proxy image, as its compose file names it.
const PROXY_IMAGE: &str = "traefik:v3.6";

/// The address clients use: Coolify's labels route this domain.
const DOMAIN: &str = "http://127.0.0.1";

/// The image the demo runs on (the official one), when no application is given.
const DEMO_IMAGE: &str = "node:22-alpine";

/// The Socket.IO demo (`cli/demo/server.js` with socket.io, bundled by `cargo xtask`).
#[derive(rust_embed::RustEmbed)]
#[folder = "../dist/demo/"]
#[allow_missing = true]
struct Demo;

pub fn run(flags: Rehearse) -> anyhow::Result<ExitCode> {
    if flags.path == RehearsalPath::C {
        bail!("path c cannot be rehearsed yet: this version rehearses paths a (N applications) and b (a Raw Compose Deployment)");
    }
    let project = match &flags.project {
        Some(path) => crate::commands::read_project(path)?,
        None => Project::gaqno(),
    };
    let service = crate::commands::project_service(
        &project,
        flags.project_service.as_deref().unwrap_or(&flags.service),
    )?
    .clone();
    // Path a runs one application per server of the project's service.
    let servers = (flags.path == RehearsalPath::A && service.servers.len() >= 2)
        .then(|| u32::try_from(service.servers.len()).unwrap_or(u32::MAX));
    let replicas = flags
        .replicas
        .or(service.docker_replicas.map(|d| d.count))
        .or(servers)
        .unwrap_or(3);
    anyhow::ensure!(
        (2..=20).contains(&replicas),
        "--replicas {replicas}: a rehearsal runs 2 to 20"
    );
    let id = rehearsal_id();
    let dir = std::env::temp_dir().join(format!("gaqno-lb-rehearsal-{id}"));
    let document = app_document(&flags, &service, &dir)?;
    if flags.path == RehearsalPath::A {
        // Before Docker: path a needs an image to deploy.
        path_a::Image::of(&document, &flags.service)?;
    }
    let demo = match (&flags.image, &flags.compose) {
        (None, None) => Some(Demo::get("server.js").context(
            "this gaqno-lb was built without its demo app: give --image or --compose, or build it with `cargo xtask dist`",
        )?),
        _ => None,
    };
    let docker = Docker::connect()?;
    let mut images = vec![PROXY_IMAGE.to_owned()];
    images.extend(images_of(&document));
    for image in &images {
        if !docker.has_image(image) {
            progress(&format!("pulling {image} (not on this machine)"));
            docker
                .run(&["pull", image])
                .with_context(|| format!("cannot pull {image}"))?;
        }
    }
    let interrupted = interrupt_flag()?;
    let rehearsal = Rehearsal::start(docker, id, dir, flags.keep)?;
    if let Some(demo) = demo {
        std::fs::create_dir_all(rehearsal.dir.join("demo"))?;
        std::fs::write(rehearsal.dir.join("demo/server.js"), demo.data)?;
    }
    let result = match flags.path {
        RehearsalPath::A => rehearse_path_a(
            &rehearsal,
            &flags,
            replicas,
            &project,
            &service,
            &document,
            &interrupted,
        ),
        _ => rehearse_path_b(
            &rehearsal,
            &flags,
            replicas,
            &project,
            &service,
            &document,
            &interrupted,
        ),
    };
    let mut rehearsal = rehearsal;
    if interrupted.load(Ordering::SeqCst) {
        // Ctrl+C means stop: nothing is kept.
        rehearsal.keep = false;
    } else if flags.keep {
        rehearsal.say_how_to_remove(result.as_ref().ok().map(|(_, url)| url.as_str()));
    }
    drop(rehearsal);
    if interrupted.load(Ordering::SeqCst) {
        eprintln!("gaqno-lb: interrupted; everything the rehearsal made is removed");
        return Ok(ExitCode::from(130));
    }
    let (report, _) = result?;
    match flags.format {
        Format::Human => report.write_human(&mut std::io::stdout().lock())?,
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The rehearsal's own things on this Docker: its id, folder and network; removed on drop
/// unless kept.
struct Rehearsal {
    docker: Docker,
    id: String,
    /// The proxy's network, and the prefix of every name.
    network: String,
    dir: PathBuf,
    keep: bool,
}

impl Rehearsal {
    fn start(docker: Docker, id: String, dir: PathBuf, keep: bool) -> anyhow::Result<Rehearsal> {
        let network = format!("gaqno-lb-rehearsal-{id}");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let rehearsal = Rehearsal {
            docker,
            id,
            network,
            dir,
            keep,
        };
        progress(&format!(
            "rehearsal {}: everything it makes carries the label {}",
            rehearsal.id,
            rehearsal.label()
        ));
        // A plain bridge: Coolify makes `coolify` `--attachable`, which on an engine in Swarm
        // mode gives the Swarm a claim on it; the rehearsal's network needs none.
        rehearsal.docker.run(&[
            "network",
            "create",
            "--label",
            &rehearsal.label(),
            &rehearsal.network,
        ])?;
        Ok(rehearsal)
    }

    fn label(&self) -> String {
        format!("{LABEL}={}", self.id)
    }

    fn say_how_to_remove(&self, url: Option<&str>) {
        if let Some(url) = url {
            eprintln!("gaqno-lb: left running (--keep): {url}");
        }
        let label = self.label();
        eprintln!(
            "gaqno-lb: remove it with:\n  docker rm -f $(docker ps -aq --filter label={label})\n  docker network rm $(docker network ls -q --filter label={label})\n  rm -r {}",
            self.dir.display()
        );
    }

    /// Removes every container, network and volume labelled with this rehearsal's id, and
    /// its folder.
    fn remove(&self) {
        let label = format!("label={}", self.label());
        for (kind, list) in [
            ("container", &["ps", "-aq", "--filter"][..]),
            ("network", &["network", "ls", "-q", "--filter"][..]),
            ("volume", &["volume", "ls", "-q", "--filter"][..]),
        ] {
            let ids = self
                .docker
                .output(self.docker.command().args(list).arg(&label))
                .unwrap_or_default();
            let ids: Vec<&str> = ids.lines().collect();
            if ids.is_empty() {
                continue;
            }
            let remove: &[&str] = match kind {
                "container" => &["rm", "-f", "-v"],
                "network" => &["network", "rm"],
                _ => &["volume", "rm", "-f"],
            };
            if let Err(e) = self
                .docker
                .output(self.docker.command().args(remove).args(&ids))
            {
                eprintln!("gaqno-lb: could not remove the rehearsal's {kind}s: {e:#}");
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Rehearsal {
    fn drop(&mut self) {
        if !self.keep {
            progress("removing what the rehearsal made");
            self.remove();
        }
    }
}

/// A rehearsal's id: 8 hex digits from the clock and the process id.
fn rehearsal_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{:08x}", nanos ^ std::process::id().rotate_left(16))
}

/// Set by Ctrl+C (SIGINT, and SIGTERM): the rehearsal stops at its next wait and cleans up.
fn interrupt_flag() -> anyhow::Result<Arc<AtomicBool>> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    if let Some(flag) = FLAG.get() {
        return Ok(flag.clone());
    }
    let flag = Arc::new(AtomicBool::new(false));
    let handler = flag.clone();
    ctrlc::set_handler(move || {
        if !handler.swap(true, Ordering::SeqCst) {
            eprintln!("gaqno-lb: interrupted; stopping the rehearsal and removing what it made (again to quit at once)");
        } else {
            eprintln!(
                "gaqno-lb: quitting without cleaning up; remove what rehearsals left with:\n  docker rm -f $(docker ps -aq --filter label={LABEL})\n  docker network rm $(docker network ls -q --filter label={LABEL})"
            );
            std::process::exit(130);
        }
    })
    .context("cannot catch Ctrl+C")?;
    Ok(FLAG.get_or_init(|| flag).clone())
}

fn check_interrupt(flag: &AtomicBool) -> anyhow::Result<()> {
    if flag.load(Ordering::SeqCst) {
        bail!("interrupted");
    }
    Ok(())
}

/// A line of progress on stderr.
fn progress(line: &str) {
    eprintln!("· {line}");
}

/// The application's compose document: `--compose`; or one service running `--image` on
/// the project service's port; or, with neither, the demo on the official `node` image,
/// from `<dir>/demo/server.js`.
fn app_document(
    flags: &Rehearse,
    service: &Service,
    dir: &std::path::Path,
) -> anyhow::Result<Value> {
    let port = service.port.to_string();
    match (&flags.compose, &flags.image) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let document: Value = shared::yaml::from_str(&text)
                .with_context(|| format!("{} is not YAML", path.display()))?;
            anyhow::ensure!(
                document["services"].get(&flags.service).is_some(),
                "{} has no service `{}`",
                path.display(),
                flags.service
            );
            Ok(document)
        }
        (None, Some(image)) => Ok(json!({
            "services": {flags.service.clone(): {
                "image": image,
                "expose": [port],
            }}
        })),
        (None, None) => Ok(json!({
            "services": {flags.service.clone(): {
                "image": DEMO_IMAGE,
                "command": ["node", "/demo/server.js"],
                "environment": {"PORT": port},
                "volumes": [format!("{}:/demo:ro", dir.join("demo").display())],
                "expose": [port],
            }}
        })),
    }
}

fn images_of(document: &Value) -> Vec<String> {
    let mut images: Vec<String> = document["services"]
        .as_object()
        .into_iter()
        .flat_map(|s| s.values())
        .filter_map(|s| s["image"].as_str().map(str::to_owned))
        .collect();
    images.sort();
    images.dedup();
    images
}

/// The sessions of one or more `gaqno-lb check` reports, added up. A session that got as
/// far as its handshake knows its replica (the plugin's token in its sid); one that did
/// not never started: no server answered it.
#[derive(Debug, Default)]
struct Sessions {
    /// Sessions that started (their replica known).
    started: u64,
    /// Of those, how many held.
    held: u64,
    /// Why started sessions broke: failure label → sessions.
    broken: BTreeMap<String, u64>,
    /// Sticky cookie value → started sessions that broke there.
    broken_by_replica: BTreeMap<String, u64>,
    /// Sessions that never started, by failure label.
    not_started: BTreeMap<String, u64>,
    /// `check` runs that could not start one session at all, by what `check` said.
    refused: BTreeMap<String, u64>,
}

impl Sessions {
    fn add(&mut self, report: &Value) {
        let counts = |value: &Value| -> BTreeMap<String, u64> {
            value
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        };
        for mode in report["modes"].as_array().into_iter().flatten() {
            let replicas: u64 = counts(&mode["replicas"]).values().sum();
            self.started += replicas;
            self.held += mode["held"].as_u64().unwrap_or(0);
            let mut started_errors: BTreeMap<String, u64> = BTreeMap::new();
            for errors in mode["errors_by_replica"].as_object().into_iter().flatten() {
                for (label, n) in counts(errors.1) {
                    *started_errors.entry(label).or_default() += n;
                }
            }
            for (replica, n) in counts(&mode["broken_by_replica"]) {
                *self.broken_by_replica.entry(replica).or_default() += n;
            }
            for (label, n) in counts(&mode["errors"]) {
                let started = started_errors.get(&label).copied().unwrap_or(0);
                if started > 0 {
                    *self.broken.entry(label.clone()).or_default() += started;
                }
                if n > started {
                    *self.not_started.entry(label).or_default() += n - started;
                }
            }
        }
    }

    fn broken_count(&self) -> u64 {
        self.broken.values().sum()
    }

    /// Started sessions that broke without a close from the server: cut.
    fn cut(&self) -> u64 {
        self.broken
            .iter()
            .filter(|(label, _)| label.as_str() != CLOSED_BY_SERVER)
            .map(|(_, n)| n)
            .sum()
    }

    /// "sessions: 10 of 22 held; broken: closed by the server ×9, timeout ×1; 40 new
    /// sessions could not start (HTTP 404 ×40)".
    fn in_words(&self) -> String {
        let mut words = format!("sessions: {} of {} held", self.held, self.started);
        if !self.broken.is_empty() {
            words += &format!("; broken: {}", counted(&self.broken));
        }
        let not_started: u64 =
            self.not_started.values().sum::<u64>() + self.refused.values().sum::<u64>();
        if not_started > 0 {
            let mut why = self.not_started.clone();
            for (reason, n) in &self.refused {
                *why.entry(reason.clone()).or_default() += n;
            }
            words += &format!(
                "; {not_started} new session(s) could not start ({})",
                counted(&why)
            );
        }
        words
    }
}

/// What `check` calls a session the server ended with a close packet.
const CLOSED_BY_SERVER: &str = "closed by the server";
/// What `check` calls a session a replica did not know (engine.io's 400 "Session ID unknown").
const SESSION_UNKNOWN: &str = "session ID unknown (another replica)";

/// "a ×2, b ×1".
fn counted(map: &BTreeMap<String, u64>) -> String {
    let parts: Vec<String> = map.iter().map(|(l, n)| format!("{l} ×{n}")).collect();
    parts.join(", ")
}

/// When sessions are open, from the start of [`sessions_until`]: `check` runs one whole
/// session first (8 round trips 500 ms apart), then its workers; what a step does to the
/// replicas waits this long so that it meets open sessions.
const SESSIONS_IN_FLIGHT: Duration = Duration::from_secs(6);

/// Sessions run in `check` chunks of a few seconds, back to back, until `done` is set and
/// one chunk started after it has ended: what open clients live through while something
/// happens, however long it takes. Bounded at 10 minutes.
fn sessions_until(
    url: &str,
    path: &str,
    done: &AtomicBool,
    interrupted: &AtomicBool,
) -> anyhow::Result<Sessions> {
    let mut sessions = Sessions::default();
    let started = Instant::now();
    loop {
        let finished_before = done.load(Ordering::SeqCst);
        let run = probe::sessions_during(url, path, 5)
            .join()
            .map_err(|_| anyhow::anyhow!("the sessions' thread failed"))?;
        match run? {
            probe::Checked::Report(report) => sessions.add(&report),
            // No session could start (nothing behind the proxy for a moment): counted, and
            // tried again.
            probe::Checked::Refused(why) => {
                // "HTTP 404: not a Socket.IO endpoint (is --path right?)": the status is
                // what matters here, and it is counted with the sessions that got it.
                let why = why
                    .split(": not a Socket.IO endpoint")
                    .next()
                    .unwrap_or(&why)
                    .to_owned();
                *sessions.refused.entry(why).or_default() += 1;
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        if finished_before || interrupted.load(Ordering::SeqCst) {
            return Ok(sessions);
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "the sessions ran 10 minutes without the step ending"
        );
    }
}

/// The service Traefik balances the replicas with (the one the sticky cookie is on), from
/// the labels of `file`'s `service`.
fn balanced_service(file: &Value, service: &str) -> anyhow::Result<String> {
    file["services"][service]["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find_map(|l| {
            let rest = l.strip_prefix("traefik.http.services.")?;
            let (name, key) = rest.split_once('.')?;
            key.to_ascii_lowercase()
                .starts_with("loadbalancer.sticky.cookie.name")
                .then(|| name.to_owned())
        })
        .context("the file's labels give the service no sticky cookie")
}

/// How the replicas run, for the steps every path shares.
#[derive(Clone, Copy)]
enum Deployed<'a> {
    A(&'a path_a::Applications),
    B(&'a path_b::RawApp),
}

impl Deployed<'_> {
    /// The running replicas' containers.
    fn replicas(&self, docker: &Docker) -> anyhow::Result<Vec<String>> {
        match self {
            Deployed::A(apps) => apps.replicas(docker),
            Deployed::B(app) => app.replicas(docker),
        }
    }

    /// The replica the replica-lost step kills: its container and its server URL in Traefik.
    fn victim(
        &self,
        docker: &Docker,
        network: &str,
        port: u16,
    ) -> anyhow::Result<(String, String)> {
        let container = self
            .replicas(docker)?
            .into_iter()
            .next()
            .context("no replica to kill")?;
        let url = match self {
            // The first application's: its alias, as the exported file names it.
            Deployed::A(apps) => apps.server_url(&apps.apps[0]),
            Deployed::B(_) => format!("http://{}:{port}", docker.address(&container, network)?),
        };
        Ok((container, url))
    }
}

/// What the steps need: where the service answers, and how its replicas run.
struct Stage<'a> {
    rehearsal: &'a Rehearsal,
    proxy: &'a proxy::Proxy,
    deployed: Deployed<'a>,
    /// Where clients reach the service (the proxy's port 80).
    url: String,
    socket_path: String,
    /// The balanced service in Traefik's API, with its provider (`…@docker`, `…@file`).
    traefik_service: String,
    replicas: u32,
    port: u16,
    /// The project's health check.
    health: Option<shared::model::HealthCheck>,
    /// The path the app is asked on: the health check's, or GAQNO's.
    health_path: String,
    /// How long Traefik keeps an idle connection to a replica on this path, and why.
    idle_timeout: (Duration, &'static str),
}

impl Stage<'_> {
    fn docker(&self) -> &Docker {
        &self.rehearsal.docker
    }

    /// Waits until every replica runs healthy and Traefik has each as a server, UP.
    fn wait_replicas(&self, within: Duration, interrupted: &AtomicBool) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        let count = self.replicas as usize;
        loop {
            check_interrupt(interrupted)?;
            let replicas = self.deployed.replicas(self.docker())?;
            if replicas.len() == count {
                self.docker()
                    .wait_healthy(
                        &replicas,
                        deadline.saturating_duration_since(Instant::now()),
                    )
                    .context(
                        "the replicas never became healthy (their logs: docker logs <name>)",
                    )?;
                return self.proxy.wait_servers(
                    &self.traefik_service,
                    count,
                    deadline
                        .saturating_duration_since(Instant::now())
                        .max(Duration::from_secs(5)),
                );
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{} of {count} replicas are running after {} s",
                replicas.len(),
                within.as_secs()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// The project's health check and the path the app is asked on (its path, or GAQNO's when
/// there is none: the keep-alive and the latency need a request that answers).
fn health_of(service: &Service) -> (Option<shared::model::HealthCheck>, String) {
    let health = service.health_check.clone();
    let path = health
        .as_ref()
        .map_or(shared::model::GAQNO_HEALTH_PATH, |h| h.path.as_str())
        .to_owned();
    (health, path)
}

fn start_proxy(rehearsal: &Rehearsal) -> anyhow::Result<proxy::Proxy> {
    progress("starting Coolify's proxy with the plugin");
    let proxy_dir = rehearsal.dir.join("proxy");
    std::fs::create_dir_all(&proxy_dir)?;
    proxy::Proxy::start(
        &rehearsal.docker,
        &rehearsal.id,
        &rehearsal.network,
        &proxy_dir,
    )
}

fn rehearse_path_a(
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
    let image = path_a::Image::of(document, &flags.service)?;
    let apps = path_a::Applications::new(
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
    differences.extend(path_a::CHANGES.iter().map(|c| (*c).to_owned()));

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
        let (docker, apps) = (docker.clone(), apps.clone());
        let (network, proxy_name, path) = (
            rehearsal.network.clone(),
            proxy.name.clone(),
            health_path.clone(),
        );
        let limit = idle_timeout_of_the_file();
        std::thread::spawn(move || {
            apps.deploy(&docker, &apps.keep_alive)?;
            let container = apps
                .containers(&docker, &apps.keep_alive)?
                .into_iter()
                .next()
                .context("the keep-alive's application is not running")?;
            docker.wait_healthy(std::slice::from_ref(&container), Duration::from_secs(180))?;
            let address = docker.address(&container, &network)?;
            probe::keep_alive(&docker, &proxy_name, &address, port, &path, limit)
        })
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
            "the exported file's servers transport closes idle connections after",
        ),
    };
    stage.wait_replicas(Duration::from_secs(180), interrupted)?;
    let steps = run_steps(
        &stage,
        flags,
        "a redeploy as Coolify does it on path a, under load",
        &|| redeploy_step_a(&stage, &apps, interrupted),
        keep_alive,
        interrupted,
    )?;
    Ok((
        report_of(flags, replicas, document, differences, steps),
        stage.url,
    ))
}

/// The idle timeout the exported file gives Traefik's connections to the replicas.
fn idle_timeout_of_the_file() -> Duration {
    shared::traefik::GoDuration::new(shared::export::NODE_IDLE_CONN_TIMEOUT)
        .nanos()
        .map_or(Duration::from_secs(4), |n| {
            Duration::from_nanos(n.max(0) as u64)
        })
}

fn rehearse_path_b(
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
    let app = path_b::RawApp::new(
        &rehearsal.dir.join("applications"),
        &format!("{}-app", rehearsal.network),
        &flags.service,
        &rehearsal.id,
    )?;
    let file = app.rehearsal_file(&raw.document, &rehearsal.network)?;
    let traefik_service = balanced_service(&file, &flags.service)?;
    let (health, health_path) = health_of(service);
    let mut differences: Vec<String> = proxy::CHANGES.iter().map(|c| (*c).to_owned()).collect();
    differences.extend(path_b::CHANGES.iter().map(|c| (*c).to_owned()));

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
        let docker = docker.clone();
        let name = app.run_one_off(&docker, "keep-alive")?;
        let (network, proxy_name, path) = (
            rehearsal.network.clone(),
            proxy.name.clone(),
            health_path.clone(),
        );
        std::thread::spawn(move || {
            docker.wait_healthy(std::slice::from_ref(&name), Duration::from_secs(180))?;
            let address = docker.address(&name, &network)?;
            probe::keep_alive(
                &docker,
                &proxy_name,
                &address,
                port,
                &path,
                TRAEFIK_IDLE_TIMEOUT,
            )
        })
    };
    let stage = Stage {
        rehearsal,
        proxy: &proxy,
        deployed: Deployed::B(&app),
        url: format!("http://{}", proxy.http),
        socket_path: service.socket_io.path.clone(),
        traefik_service: format!("{traefik_service}@docker"),
        replicas,
        port,
        health,
        health_path,
        idle_timeout: (
            TRAEFIK_IDLE_TIMEOUT,
            "Traefik keeps one (its default, which Coolify's proxy keeps)",
        ),
    };
    stage.wait_replicas(Duration::from_secs(180), interrupted)?;
    let steps = run_steps(
        &stage,
        flags,
        "a redeploy as Coolify does it on path b, under load",
        &|| redeploy_step_b(&stage, &app, &file, interrupted),
        keep_alive,
        interrupted,
    )?;
    Ok((
        report_of(flags, replicas, document, differences, steps),
        stage.url,
    ))
}

fn report_of(
    flags: &Rehearse,
    replicas: u32,
    document: &Value,
    differences: Vec<String>,
    steps: Vec<Step>,
) -> Report {
    Report {
        path: flags.path.letter().to_owned(),
        service: flags.service.clone(),
        image: images_of(document).join(", "),
        replicas,
        differences,
        passed: steps.iter().all(Step::passed),
        steps,
    }
}

/// The steps every path takes, in order; `redeploy` is the path's own.
fn run_steps(
    stage: &Stage,
    flags: &Rehearse,
    redeploy_progress: &str,
    redeploy: &dyn Fn() -> anyhow::Result<Step>,
    keep_alive: KeepAliveProbe,
    interrupted: &AtomicBool,
) -> anyhow::Result<Vec<Step>> {
    let mut steps = Vec::new();
    // For a person, each step as it ends; JSON waits for the whole report.
    let report_step = |step: Step, steps: &mut Vec<Step>| {
        if matches!(flags.format, Format::Human) {
            let _ = report::write_step(&mut std::io::stdout().lock(), &step);
        }
        steps.push(step);
    };

    progress("sessions in every transport, with and without cookies");
    report_step(sessions_step(&stage.url, &stage.socket_path)?, &mut steps);
    check_interrupt(interrupted)?;

    progress("the health check, against Traefik's timeout");
    report_step(
        health_step(stage.proxy, stage.health.as_ref(), &stage.health_path)?,
        &mut steps,
    );
    check_interrupt(interrupted)?;

    progress(redeploy_progress);
    report_step(redeploy()?, &mut steps);
    check_interrupt(interrupted)?;

    progress("one replica killed, under load");
    report_step(replica_lost_step(stage, interrupted)?, &mut steps);
    check_interrupt(interrupted)?;

    progress(&format!(
        "the app's keep-alive against Traefik's (up to {} s)",
        stage.idle_timeout.0.as_secs()
    ));
    report_step(
        keep_alive_step(keep_alive, stage.idle_timeout, interrupted)?,
        &mut steps,
    );
    Ok(steps)
}

fn sessions_step(url: &str, path: &str) -> anyhow::Result<Step> {
    let mut step = Step::new("Sessions in every transport, with and without cookies");
    let all_modes = [
        "--transport",
        "all",
        "--cookies",
        "both",
        "--sessions",
        "12",
        "--concurrency",
        "6",
    ];
    let report = match probe::check(url, path, &all_modes)? {
        probe::Checked::Report(report) => report,
        probe::Checked::Refused(why) => bail!("no Socket.IO session could start: {why}"),
    };
    for mode in report["modes"].as_array().into_iter().flatten() {
        step.measured.push(format!(
            "{}, cookies {}: {} of {} held, on {} replica(s)",
            mode["transport"].as_str().unwrap_or("?"),
            if mode["cookies"].as_bool() == Some(true) {
                "on"
            } else {
                "off"
            },
            mode["held"],
            mode["sessions"],
            mode["replicas"].as_object().map_or(0, |r| r.len()),
        ));
    }
    let mut sessions = Sessions::default();
    sessions.add(&report);
    let broken = sessions.broken_count() + sessions.not_started.values().sum::<u64>();
    if broken > 0 {
        let unknown = sessions.broken.contains_key(SESSION_UNKNOWN);
        step.findings.push(Finding {
            owner: Owner::App,
            what: format!("with nothing else going on: {}", sessions.in_words()),
            fix: if unknown {
                "a session reached a replica that did not know it: with the plugin loaded that means the replicas do not share what a session needs (one Socket.IO server per replica, no adapter shortcut such as a shared in-memory store), or the app answers Socket.IO on another path than the project's".into()
            } else {
                "run `gaqno-lb check` against the rehearsal with --keep to see each failure; the app's log (docker logs) says why it dropped them".into()
            },
        });
    }
    Ok(step)
}

fn health_step(
    proxy: &proxy::Proxy,
    health: Option<&shared::model::HealthCheck>,
    path: &str,
) -> anyhow::Result<Step> {
    let mut step = Step::new("The health check, against Traefik's timeout");
    let Some(health) = health else {
        step.findings.push(Finding {
            owner: Owner::Project,
            what: "the project's service has no health check: Traefik keeps sending sessions to a replica that hangs, until Docker reports it dead".into(),
            fix: format!("give the service a health check in the project ({path}, every 10 s, 3 s timeout, as GAQNO's services have)"),
        });
        return Ok(step);
    };
    let timeout = health
        .timeout
        .as_ref()
        .and_then(|t| t.nanos())
        .map_or(Duration::from_secs(5), |n| {
            Duration::from_nanos(n.max(0) as u64)
        });
    let slowest = probe::health_latency(&proxy.http, "127.0.0.1", &health.path, 5)?;
    step.measured.push(format!(
        "GET {}: {:.2} s at the slowest of 5; Traefik gives up after {:.0} s",
        health.path,
        slowest.as_secs_f64(),
        timeout.as_secs_f64()
    ));
    if slowest * 2 > timeout {
        step.findings.push(Finding {
            owner: Owner::App,
            what: format!(
                "the health check took {:.1} s of the {:.0} s Traefik waits: under load a live replica will miss it, be marked DOWN, and the sessions pinned to it move to another replica and break",
                slowest.as_secs_f64(),
                timeout.as_secs_f64()
            ),
            fix: format!(
                "answer {} at once, without waiting on databases or queues (a liveness check), or raise the service's health check timeout in the project",
                health.path
            ),
        });
    }
    Ok(step)
}

/// "new clients: 3 of 80 probes failed (HTTP 404 ×3), for 0.4 s at the longest".
fn new_clients_in_words(outage: &probe::Outage) -> String {
    format!(
        "new clients: {} of {} probes failed{}",
        outage.failed,
        outage.probes,
        if outage.failed == 0 {
            String::new()
        } else {
            format!(
                " ({}), for {:.1} s at the longest",
                outage.statuses_in_words(),
                outage.longest.as_secs_f64()
            )
        }
    )
}

/// The fix for an app that does not drain on SIGTERM.
const DRAIN_FIX: &str = "drain on SIGTERM: in main.ts `app.enableShutdownHooks();`, and in a provider's `onApplicationShutdown()` wait a few seconds, then `io.disconnectSockets(true)` (every client gets a close and reconnects at once; `io.close()` alone drops them without one)";

/// What the replaced replicas' stops say about the app's SIGTERM: ignored (Docker killed it
/// when the grace period ended), or an exit at once (sessions cut, not one closed).
///
/// `shared_address`: old and new replicas answered at one address for a while (path a's
/// alias), so sessions also broke by reaching the new one ("session ID unknown"), whatever
/// the app does on SIGTERM; there, only a stop as fast as an exit (under a second: no drain)
/// says the app exits at once.
fn shutdown_findings(
    step: &mut Step,
    stops: &[Duration],
    sessions: &Sessions,
    shared_address: bool,
) {
    let slowest_stop = stops.iter().max().copied().unwrap_or_default();
    let exits_at_once = !shared_address || slowest_stop < Duration::from_secs(1);
    let grace = shared::coolify::deploy::STOP_GRACE_SECONDS;
    if slowest_stop >= Duration::from_secs(u64::from(grace) - 1) {
        step.findings.push(Finding {
            owner: Owner::App,
            what: format!(
                "each replaced replica took {:.0} s to stop and its sessions were cut: the app ignores SIGTERM (`node` as the container's first process has no default action for it), so Docker killed it when Coolify's {grace} s grace period ended",
                slowest_stop.as_secs_f64(),
            ),
            fix: DRAIN_FIX.into(),
        });
    } else if exits_at_once && sessions.cut() > 0 && !sessions.broken.contains_key(CLOSED_BY_SERVER)
    {
        // Not one close: a draining app closes most of its sessions (measured on real
        // Docker: 8 to 11 of 17 to 21), and the rest break as it goes in any case.
        step.findings.push(Finding {
            owner: Owner::App,
            what: format!(
                "sessions on the replaced replicas were cut without a close ({} of {}): the app exits on SIGTERM at once (the slowest replica stopped in {:.1} s)",
                sessions.cut(),
                sessions.started,
                slowest_stop.as_secs_f64()
            ),
            fix: DRAIN_FIX.into(),
        });
    }
}

/// Runs `redeploy` on its own thread once sessions are open, and sessions until it ends;
/// then waits for every replica to be back. What it returned, the sessions, and what new
/// clients got meanwhile.
fn under_load<T: Send + 'static>(
    stage: &Stage,
    redeploy: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    interrupted: &AtomicBool,
) -> anyhow::Result<(T, Sessions, probe::Outage)> {
    let probe = probe::Probe::start(&stage.url, &stage.socket_path);
    let done = Arc::new(AtomicBool::new(false));
    let thread = {
        let done = done.clone();
        std::thread::spawn(move || {
            std::thread::sleep(SESSIONS_IN_FLIGHT);
            let result = redeploy();
            done.store(true, Ordering::SeqCst);
            result
        })
    };
    let sessions = sessions_until(&stage.url, &stage.socket_path, &done, interrupted)?;
    let result = thread
        .join()
        .map_err(|_| anyhow::anyhow!("the redeploy's thread failed"))??;
    stage.wait_replicas(Duration::from_secs(180), interrupted)?;
    Ok((result, sessions, probe.stop()))
}

fn redeploy_step_a(
    stage: &Stage,
    apps: &path_a::Applications,
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
    shutdown_findings(&mut step, &stops, &sessions, true);
    if let Some(unknown) = sessions.broken.get(SESSION_UNKNOWN) {
        step.findings.push(Finding {
            owner: Owner::Path,
            what: format!(
                "{unknown} session(s) broke with \"session ID unknown\" on an application being updated: while its old and new containers run side by side ({:.1} s at the longest), both carry its alias, Docker's DNS answers either, and Traefik's new connections reach the one that does not know the session; the client reconnects",
                longest_wait.as_secs_f64()
            ),
            fix: "the window is Coolify's health check wait: its start period plus an interval or two (Configuration → Health check) — shorter settings narrow it; path c (Swarm) gives every replica an address of its own, and no redeploy breaks a session that way".into(),
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
                    "give the project's service a health check, and turn on Coolify's health check in each application (Configuration → Health check, path {}): Coolify then stops the old container only once the new one answers",
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

fn redeploy_step_b(
    stage: &Stage,
    app: &path_b::RawApp,
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
    shutdown_findings(&mut step, &deployed.stops, &sessions, false);
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

fn replica_lost_step(stage: &Stage, interrupted: &AtomicBool) -> anyhow::Result<Step> {
    let mut step = Step::new("One replica killed (a crash, an out-of-memory kill), under load");
    let docker = stage.docker();
    let (victim, victim_url) =
        stage
            .deployed
            .victim(docker, &stage.rehearsal.network, stage.port)?;
    let victim_cookie = shared::traefik::sticky_cookie_value(&victim_url);
    let (_, sessions, outage) = {
        let (docker, victim) = (docker.clone(), victim.clone());
        let probe = probe::Probe::start(&stage.url, &stage.socket_path);
        let done = Arc::new(AtomicBool::new(false));
        let killer = {
            let done = done.clone();
            std::thread::spawn(move || {
                std::thread::sleep(SESSIONS_IN_FLIGHT);
                let killed = docker.run(&["kill", &victim]);
                // Long enough for Traefik's health check to notice (GAQNO's: every 10 s).
                std::thread::sleep(Duration::from_secs(12));
                done.store(true, Ordering::SeqCst);
                killed
            })
        };
        let sessions = sessions_until(&stage.url, &stage.socket_path, &done, interrupted)?;
        killer
            .join()
            .map_err(|_| anyhow::anyhow!("the kill's thread failed"))??;
        ((), sessions, probe.stop())
    };
    let on_victim = sessions
        .broken_by_replica
        .get(&victim_cookie)
        .copied()
        .unwrap_or(0);
    let elsewhere = sessions.broken_count().saturating_sub(on_victim);
    step.measured.push(format!(
        "{}; {on_victim} broke on the killed replica, {elsewhere} elsewhere",
        sessions.in_words()
    ));
    // The Docker provider drops a container when Docker reports it dead; a server that
    // stays (a file's alias, or a label's container not yet gone) is left to Traefik's
    // health check.
    let servers = stage.proxy.servers(&stage.traefik_service);
    let traefik_did = match servers.get(&victim_url).map(String::as_str) {
        None => "Traefik dropped the killed replica as soon as Docker reported it dead",
        Some("UP") => "Traefik still counts the killed replica UP",
        Some(_) => "Traefik's health check marked the killed replica DOWN",
    };
    step.measured.push(if outage.failed == 0 {
        format!("{traefik_did}; no new client failed")
    } else {
        format!(
            "{traefik_did}; new clients: {} for {:.1} s at the longest",
            outage.statuses_in_words(),
            outage.longest.as_secs_f64()
        )
    });
    if elsewhere > 0 {
        step.findings.push(Finding {
            owner: Owner::App,
            what: format!(
                "{elsewhere} session(s) on replicas that stayed up broke when one replica died ({})",
                counted(&sessions.broken)
            ),
            fix: "a replica's sessions must not depend on another replica: keep session state in the replica that owns it, or in a store every replica reaches (Redis with @socket.io/redis-adapter for rooms and broadcasts)".into(),
        });
    }
    // A request already on its way to the replica fails in any case, and a probe waits up
    // to 2 s for its answer: a longer run of failures means Traefik kept sending new
    // clients there.
    if outage.longest > Duration::from_secs(3) {
        let interval = stage
            .health
            .as_ref()
            .and_then(|h| h.interval.as_ref())
            .map_or("30s", |i| i.as_str());
        step.findings.push(Finding {
            owner: Owner::Path,
            what: format!(
                "new clients got {} for {:.1} s after the replica died, until Traefik stopped sending them there (its health check runs every {interval})",
                outage.statuses_in_words(),
                outage.longest.as_secs_f64()
            ),
            fix: "a shorter health check interval in the project shortens that window (each check is one request per replica)".into(),
        });
    }
    match stage.deployed {
        // Path a's container has `restart: unless-stopped`: Docker restarts one that
        // crashes, but `docker kill` counts as a stop; started again here, as after a crash.
        Deployed::A(_) => {
            docker.run(&["start", &victim])?;
            stage.wait_replicas(Duration::from_secs(180), interrupted)?;
        }
        // Coolify does not restart it (the file has no restart policy). A kept rehearsal
        // is left with all its replicas: `compose up` starts the missing one.
        Deployed::B(app) => {
            let _ = docker.run(&["rm", "-f", &victim]);
            if stage.rehearsal.keep {
                app.up(docker)?;
            }
        }
    }
    Ok(step)
}

/// The keep-alive probe: a replica of its own, outside Traefik's service, measured from the
/// proxy's container, on its own thread.
type KeepAliveProbe = std::thread::JoinHandle<anyhow::Result<Option<Duration>>>;

/// `idle_timeout`: how long Traefik keeps an idle connection on this path, and the words
/// that say why.
fn keep_alive_step(
    probe: KeepAliveProbe,
    idle_timeout: (Duration, &str),
    interrupted: &AtomicBool,
) -> anyhow::Result<Step> {
    let (traefik_keeps, why) = idle_timeout;
    let mut step = Step::new("Node's keep-alive against Traefik's");
    while !probe.is_finished() {
        check_interrupt(interrupted)?;
        std::thread::sleep(Duration::from_millis(200));
    }
    let kept = probe
        .join()
        .map_err(|_| anyhow::anyhow!("the keep-alive probe's thread failed"))??;
    match kept {
        None => step.measured.push(format!(
            "an idle connection stayed open past Traefik's {:.0} s ({why} {:.0} s)",
            traefik_keeps.as_secs_f64(),
            traefik_keeps.as_secs_f64()
        )),
        Some(kept) => {
            step.measured.push(format!(
                "the app closed an idle connection after {:.1} s; {why} {:.0} s",
                kept.as_secs_f64(),
                traefik_keeps.as_secs_f64()
            ));
            step.findings.push(Finding {
                owner: Owner::App,
                what: format!(
                    "idle connections close after {:.0} s, Traefik reuses them for up to {:.0} s: a request Traefik sends on one the app is just closing fails, and for a long-polling POST that is a 502 and a lost session on a healthy replica",
                    kept.as_secs_f64(),
                    traefik_keeps.as_secs_f64()
                ),
                fix: "in main.ts, after `app.listen(…)`: `const server = app.getHttpServer(); server.keepAliveTimeout = 95_000; server.headersTimeout = 96_000;`".into(),
            });
        }
    }
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_add_up_and_tell_a_cut_from_a_close() {
        // Two replicas: 10 sessions started, 4 broke there (3 closed by the server, one
        // HTTP 502); 5 more never started (HTTP 404: no replica known).
        let report = json!({"modes": [{
            "sessions": 15, "held": 6,
            "replicas": {"a1": 6, "b2": 4},
            "broken_by_replica": {"a1": 3, "b2": 1},
            "errors_by_replica": {"a1": {"closed by the server": 3}, "b2": {"HTTP 502": 1}},
            "errors": {"closed by the server": 3, "HTTP 502": 1, "HTTP 404": 5},
        }]});
        let mut sessions = Sessions::default();
        sessions.add(&report);
        sessions.add(&report);
        sessions
            .refused
            .insert("HTTP 404: not a Socket.IO endpoint".into(), 1);
        assert_eq!(
            (sessions.started, sessions.held, sessions.broken_count()),
            (20, 12, 8)
        );
        // A close from the server is not a cut; a 502 mid-session is.
        assert_eq!(sessions.cut(), 2);
        assert_eq!(sessions.broken_by_replica["a1"], 6);
        assert_eq!(
            sessions.in_words(),
            "sessions: 12 of 20 held; broken: HTTP 502 ×2, closed by the server ×6; 11 new session(s) could not start (HTTP 404 ×10, HTTP 404: not a Socket.IO endpoint ×1)"
        );
    }

    #[test]
    fn a_shared_address_needs_a_fast_stop_to_blame_sigterm() {
        let sessions = Sessions {
            started: 107,
            broken: BTreeMap::from([(SESSION_UNKNOWN.to_owned(), 13)]),
            ..Sessions::default()
        };
        let findings = |stop_ms: u64, shared_address: bool| {
            let mut step = Step::new("redeploy");
            let stops = [Duration::from_millis(stop_ms)];
            shutdown_findings(&mut step, &stops, &sessions, shared_address);
            step.findings.len()
        };
        // Path a, a replica that drained for 4.7 s: the broken sessions met the new
        // container at the alias, not a replica that exits.
        assert_eq!(findings(4_700, true), 0);
        // Stopped in 0.2 s: it exits at once, on either path.
        assert_eq!(findings(200, true), 1);
        assert_eq!(findings(4_700, false), 1);
        // Ignored until Docker killed it.
        assert_eq!(findings(30_100, true), 1);
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

    #[test]
    fn the_application_is_the_compose_file_or_one_service_of_the_image_or_the_demo() {
        let service = Project::gaqno().services[0].clone();
        let flags = |image: Option<&str>| Rehearse {
            path: RehearsalPath::B,
            service: service.name.clone(),
            project_service: None,
            image: image.map(str::to_owned),
            replicas: Some(3),
            project: None,
            compose: None,
            keep: false,
            format: Format::Json,
        };
        let dir = std::path::Path::new("/tmp/gaqno-lb-rehearsal-x");
        let document = app_document(&flags(Some("gaqno/omni:1")), &service, dir).unwrap();
        assert_eq!(document["services"][&service.name]["image"], "gaqno/omni:1");
        assert_eq!(
            document["services"][&service.name]["expose"],
            json!([service.port.to_string()])
        );
        assert_eq!(images_of(&document), ["gaqno/omni:1"]);
        // Neither: the demo on the official node image, its file mounted from the folder.
        let demo = app_document(&flags(None), &service, dir).unwrap();
        let demo = &demo["services"][&service.name];
        assert_eq!(demo["image"], DEMO_IMAGE);
        assert_eq!(demo["command"], json!(["node", "/demo/server.js"]));
        assert_eq!(
            demo["volumes"],
            json!(["/tmp/gaqno-lb-rehearsal-x/demo:/demo:ro"])
        );
    }
}
