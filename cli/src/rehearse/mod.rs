//! `gaqno-lb rehearse`: a deploy rehearsed on this machine's Docker before production.
//!
//! It starts Coolify's own proxy ([`proxy`]) with the plugin from this binary, deploys the
//! service's replicas as the chosen path does ([`path_a`]: N applications and the exported
//! file; [`path_b`]: a Raw Compose Deployment; [`path_c`]: a stack on a Swarm), and then does
//! what production will do ([`steps`]), one [`report::Step`] each: sessions in every
//! transport with and without cookies; the app's health check and keep-alive against
//! Traefik's; a redeploy the way Coolify does it on that path, under load; a replica killed,
//! under load. Sessions are measured by `gaqno-lb check` ([`probe`]). Each finding says what
//! broke, why, and the fix.
//!
//! Everything it makes carries the label `gaqno-lb.rehearsal=<id>` and is removed at the
//! end, on failure and on Ctrl+C ([`Rehearsal`]'s `Drop`), the Swarm `--swarm-init` made
//! included; it never touches anything else.

mod docker;
mod path_a;
mod path_b;
mod path_c;
mod probe;
mod proxy;
mod report;
mod steps;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};
use shared::coolify::proxy::ServerKind;
use shared::model::{Project, Service};

use crate::flags::{Format, RehearsalPath, Rehearse};
use docker::{Docker, Swarm, LABEL};
use report::{Report, Step};

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
    if flags.path != RehearsalPath::B {
        // Before Docker: paths a and c deploy an image.
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
    let rehearsal = Rehearsal::start(docker, id, dir, &flags)?;
    if let Some(demo) = demo {
        std::fs::create_dir_all(rehearsal.dir.join("demo"))?;
        std::fs::write(rehearsal.dir.join("demo/server.js"), demo.data)?;
    }
    let rehearse = match flags.path {
        RehearsalPath::A => path_a::rehearse,
        RehearsalPath::B => path_b::rehearse,
        RehearsalPath::C => path_c::rehearse,
    };
    let result = rehearse(
        &rehearsal,
        &flags,
        replicas,
        &project,
        &service,
        &document,
        &interrupted,
    );
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

/// The rehearsal's own things on this Docker: its id, folder and network (and on path c, the
/// Swarm it runs on); removed on drop unless kept.
struct Rehearsal {
    docker: Docker,
    id: String,
    /// The proxy's network, and the prefix of every name.
    network: String,
    dir: PathBuf,
    keep: bool,
    /// Path c: the Swarm it runs on.
    swarm: Option<SwarmUse>,
}

/// The Swarm a path c rehearsal runs on.
struct SwarmUse {
    /// This manager's node id.
    node: String,
    /// Whether the rehearsal made the Swarm (`--swarm-init`), which it then leaves.
    made: bool,
    /// Whether `docker_gwbridge` was there before: Docker makes it for a Swarm's containers,
    /// and leaving the Swarm keeps it.
    gwbridge_before: bool,
}

impl Rehearsal {
    fn start(
        docker: Docker,
        id: String,
        dir: PathBuf,
        flags: &Rehearse,
    ) -> anyhow::Result<Rehearsal> {
        let network = format!("gaqno-lb-rehearsal-{id}");
        // Path c needs a Swarm manager: the one this engine is, or one made for the
        // rehearsal when asked to; anything else is refused before anything is made.
        let state = match flags.path {
            RehearsalPath::C => Some(docker.swarm()?),
            _ => None,
        };
        let swarm = match (flags.path, state) {
            (RehearsalPath::C, Some(Swarm::Manager(node))) => Some(SwarmUse {
                node,
                made: false,
                gwbridge_before: true,
            }),
            (RehearsalPath::C, Some(Swarm::Worker)) => bail!(
                "this engine is a Swarm worker, and path c deploys a stack, which only a manager can: point DOCKER_HOST at a manager"
            ),
            (RehearsalPath::C, Some(Swarm::None)) if !flags.swarm_init => bail!(
                "this engine is in no Swarm, and path c deploys a stack: add --swarm-init to make it a one-node Swarm for the rehearsal (listening on 127.0.0.1 only, left at the end), or point DOCKER_HOST at a Swarm manager"
            ),
            (RehearsalPath::C, Some(Swarm::None)) => {
                progress("making this engine a one-node Swarm manager (--swarm-init; left at the end)");
                let gwbridge_before = docker.run(&["network", "inspect", GWBRIDGE]).is_ok();
                docker.run(&[
                    "swarm",
                    "init",
                    "--advertise-addr",
                    "127.0.0.1",
                    "--listen-addr",
                    "127.0.0.1:2377",
                ])?;
                match docker.swarm() {
                    Ok(Swarm::Manager(node)) => Some(SwarmUse {
                        node,
                        made: true,
                        gwbridge_before,
                    }),
                    other => {
                        let _ = docker.run(&["swarm", "leave", "--force"]);
                        bail!("`docker swarm init` left this engine as {other:?}, not a manager")
                    }
                }
            }
            _ => None,
        };
        let rehearsal = Rehearsal {
            docker,
            id,
            network,
            dir,
            keep: flags.keep,
            swarm,
        };
        std::fs::create_dir_all(&rehearsal.dir)
            .with_context(|| format!("cannot create {}", rehearsal.dir.display()))?;
        progress(&format!(
            "rehearsal {}: everything it makes carries the label {}",
            rehearsal.id,
            rehearsal.label()
        ));
        let mut create = vec!["network", "create", "--label"];
        let label = rehearsal.label();
        create.push(&label);
        if rehearsal.swarm.is_some() {
            // The stack's tasks and the proxy's container meet on an overlay the proxy can
            // join (attachable), as on Coolify's `coolify-overlay`.
            create.extend(["--driver", "overlay", "--attachable"]);
        }
        // Otherwise a plain bridge: Coolify makes `coolify` `--attachable`, which on an
        // engine in Swarm mode gives the Swarm a claim on it; the rehearsal's network needs
        // none.
        create.push(&rehearsal.network);
        rehearsal.docker.run(&create)?;
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
        let mut commands = String::new();
        if self.swarm.is_some() {
            commands +=
                &format!("  docker service rm $(docker service ls -q --filter label={label})\n");
        }
        commands += &format!(
            "  docker rm -f $(docker ps -aq --filter label={label})\n  docker network rm $(docker network ls -q --filter label={label})\n  rm -r {}",
            self.dir.display()
        );
        if self.swarm.as_ref().is_some_and(|s| s.made) {
            commands += "\n  docker swarm leave --force   (the Swarm --swarm-init made)";
        }
        eprintln!("gaqno-lb: remove it with:\n{commands}");
    }

    /// Removes every service, container, network and volume labelled with this
    /// rehearsal's id, its folder, and the Swarm it made.
    fn remove(&self) {
        let label = format!("label={}", self.label());
        let ids = |list: &[&str]| -> Vec<String> {
            self.docker
                .output(self.docker.command().args(list).arg(&label))
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect()
        };
        let remove = |kind: &str, command: &[&str], ids: &[String]| {
            if ids.is_empty() {
                return true;
            }
            let removed = self
                .docker
                .output(self.docker.command().args(command).args(ids));
            if let Err(e) = &removed {
                eprintln!("gaqno-lb: could not remove the rehearsal's {kind}s: {e:#}");
            }
            removed.is_ok()
        };
        if self.swarm.is_some() {
            let services = ids(&["service", "ls", "-q", "--filter"]);
            remove("service", &["service", "rm"], &services);
        }
        remove(
            "container",
            &["rm", "-f", "-v"],
            &ids(&["ps", "-aq", "--filter"]),
        );
        // An overlay stays in use until Swarm has removed the tasks' containers: tried
        // again for up to 30 s, the last failure said.
        let patience = Duration::from_secs(if self.swarm.is_some() { 30 } else { 0 });
        let deadline = Instant::now() + patience;
        loop {
            let networks = ids(&["network", "ls", "-q", "--filter"]);
            if networks.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                remove("network", &["network", "rm"], &networks);
                break;
            }
            let quietly = self
                .docker
                .command()
                .args(["network", "rm"])
                .args(&networks)
                .output();
            if quietly.is_ok_and(|o| o.status.success()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        remove(
            "volume",
            &["volume", "rm", "-f"],
            &ids(&["volume", "ls", "-q", "--filter"]),
        );
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(swarm) = self.swarm.as_ref().filter(|s| s.made) {
            if let Err(e) = self.docker.run(&["swarm", "leave", "--force"]) {
                eprintln!("gaqno-lb: could not leave the Swarm --swarm-init made: {e:#}");
            }
            if !swarm.gwbridge_before {
                let _ = self.docker.run(&["network", "rm", GWBRIDGE]);
            }
        }
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

/// The bridge Docker makes for the containers of a Swarm's overlays.
const GWBRIDGE: &str = "docker_gwbridge";

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
                "gaqno-lb: quitting without cleaning up; remove what rehearsals left with:\n  docker service rm $(docker service ls -q --filter label={LABEL})   (path c)\n  docker rm -f $(docker ps -aq --filter label={LABEL})\n  docker network rm $(docker network ls -q --filter label={LABEL})\n  docker swarm leave --force   (path c with --swarm-init)"
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

/// The load balancer a service's labels put the sticky cookie on: the one Traefik balances
/// the replicas with.
fn sticky_service(labels: &[Value]) -> Option<String> {
    labels.iter().filter_map(Value::as_str).find_map(|l| {
        let rest = l.strip_prefix("traefik.http.services.")?;
        let (name, key) = rest.split_once('.')?;
        key.to_ascii_lowercase()
            .starts_with("loadbalancer.sticky.cookie.name")
            .then(|| name.to_owned())
    })
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
    let kind = match rehearsal.swarm {
        Some(_) => ServerKind::Swarm,
        None => ServerKind::Standalone,
    };
    proxy::Proxy::start(
        &rehearsal.docker,
        kind,
        &rehearsal.id,
        &rehearsal.network,
        &proxy_dir,
    )
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

#[cfg(test)]
mod tests {
    use super::*;

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
            swarm_init: false,
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
