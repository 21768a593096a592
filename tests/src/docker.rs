//! A real Docker Engine for the end-to-end tests of Coolify's paths, and Coolify's proxy run
//! on it as Coolify runs it.
//!
//! `cargo xtask test` starts two engines (`xtask/src/docker.rs`): the *server*, a Coolify
//! server in this network namespace, and the *worker*, in a namespace of its own, which a
//! Swarm test joins as a second node. It names them in the environment read here, imports
//! [`TRAEFIK_IMAGE`] and [`REPLICA_IMAGE`] into both, and stops them after the tests,
//! removing what they made.
//!
//! Without those variables a test that needs Docker skips, saying why, under a plain
//! `cargo test`; under `cargo xtask test` (`GAQNO_LB_E2E=1`) it fails. An engine that is named
//! but does not answer always fails the test.
//!
//! Docker tests take turns ([`exclusive`]); each turn removes what its kind ([`Use`]) makes
//! when it starts and ends.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;

use crate::{e2e_required, free_port, project_root, TempDir};

/// Traefik, tagged as Coolify's proxy compose names its image.
pub const TRAEFIK_IMAGE: &str = "traefik:v3.6";
/// Node with `tests/node/replica.js` and Socket.IO in `/app`; its command serves Socket.IO 4
/// on port 4008 on every interface, named after the container (`REPLICA_ON_SIGTERM` and
/// `REPLICA_DRAIN_MS` in its environment say what a stop signal does).
pub const REPLICA_IMAGE: &str = "gaqno-lb/replica:test";

/// One Docker Engine, reached through the `docker` CLI.
#[derive(Debug, Clone)]
pub struct Engine {
    /// `unix:///…/docker.sock`.
    pub host: String,
    /// `DOCKER_CONFIG`: where the Compose v2 CLI plugin is.
    config: Option<PathBuf>,
}

/// The server engine: `None` (after saying why) when the test should skip.
pub fn server_engine() -> Option<Engine> {
    engine_named("GAQNO_LB_DOCKER_HOST")
}

/// The worker engine, in its own network namespace.
pub fn worker_engine() -> Option<Engine> {
    engine_named("GAQNO_LB_DOCKER_WORKER_HOST")
}

/// The network namespace the worker engine runs in: its published ports are on that
/// namespace's loopback.
pub fn worker_netns() -> String {
    std::env::var("GAQNO_LB_DOCKER_WORKER_NETNS")
        .unwrap_or_else(|_| panic!("GAQNO_LB_DOCKER_WORKER_NETNS is not set"))
}

/// The server's and the worker's addresses on the link between their namespaces.
pub fn node_addresses() -> (String, String) {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    (
        var("GAQNO_LB_DOCKER_SERVER_ADDR"),
        var("GAQNO_LB_DOCKER_WORKER_ADDR"),
    )
}

fn engine_named(variable: &str) -> Option<Engine> {
    let Ok(host) = std::env::var(variable) else {
        let why = format!(
            "no Docker engine: {variable} is not set (`cargo xtask test` starts one and sets it)"
        );
        assert!(!e2e_required(), "{why}");
        eprintln!("skipping end-to-end test: {why}");
        return None;
    };
    let engine = Engine {
        host,
        config: std::env::var_os("GAQNO_LB_DOCKER_CONFIG").map(PathBuf::from),
    };
    if let Err(e) = engine.docker(&["version", "--format", "{{.Server.Version}}"]) {
        panic!(
            "the Docker engine at {} does not answer: {e:#}",
            engine.host
        );
    }
    Some(engine)
}

/// What a Docker test does with the engines: what its turn cleans up. Tests take turns,
/// whatever their kind: on an engine in Swarm mode, Coolify's `docker network create
/// --attachable coolify` makes a network the Swarm claims, and leaving the Swarm tears it
/// down under a standalone test's containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Containers and bridge networks on the server engine (paths a and b).
    Standalone,
    /// A Swarm of the server engine (manager) and the worker engine (path c).
    Swarm,
}

/// A test's turn with the engines: what it may have left from an earlier turn is removed
/// when the turn starts, and what it made when the turn ends.
pub struct Turn {
    kind: Use,
    engines: Vec<Engine>,
    _lock: MutexGuard<'static, ()>,
    /// A Swarm turn holds the rehearsals off.
    _rehearsals: Option<MutexGuard<'static, ()>>,
}

/// The label `gaqno-lb rehearse` puts on everything it makes.
pub const REHEARSAL_LABEL: &str = "gaqno-lb.rehearsal";

/// Held while `gaqno-lb rehearse` runs on the worker engine, beside the standalone tests on
/// the server's; a Swarm turn waits for it, since the Swarm takes both engines over.
static REHEARSALS: Mutex<()> = Mutex::new(());

/// The rehearsals' turn: beside standalone turns, never during a Swarm's.
pub fn rehearsals_turn() -> MutexGuard<'static, ()> {
    REHEARSALS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waits for this test's turn: `kind` of use of `engines` (for [`Use::Swarm`], the manager
/// first).
pub fn exclusive(kind: Use, engines: &[&Engine]) -> Turn {
    static LOCK: Mutex<()> = Mutex::new(());
    let rehearsals = (kind == Use::Swarm).then(rehearsals_turn);
    let turn = Turn {
        kind,
        engines: engines.iter().map(|e| (*e).clone()).collect(),
        _lock: LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
        _rehearsals: rehearsals,
    };
    turn.clean();
    turn
}

impl Turn {
    fn clean(&self) {
        for engine in &self.engines {
            match self.kind {
                Use::Standalone => engine.remove_standalone(),
                Use::Swarm => engine.remove_swarm(),
            }
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if std::env::var_os("GAQNO_LB_KEEP_TEMP").is_some() && std::thread::panicking() {
            eprintln!("containers kept for inspection (GAQNO_LB_KEEP_TEMP)");
            return;
        }
        self.clean();
    }
}

impl Engine {
    /// `docker` against this engine.
    pub fn command(&self) -> Command {
        let mut command = Command::new("docker");
        command.env("DOCKER_HOST", &self.host);
        if let Some(config) = &self.config {
            command.env("DOCKER_CONFIG", config);
        }
        command
    }

    /// `docker <args>`; its standard output, or an error with its standard error.
    pub fn docker(&self, args: &[&str]) -> anyhow::Result<String> {
        self.output(self.command().args(args))
    }

    /// Runs `command` (from [`Engine::command`]); its standard output, trimmed.
    pub fn output(&self, command: &mut Command) -> anyhow::Result<String> {
        let out = command
            .output()
            .with_context(|| format!("cannot run {command:?}"))?;
        anyhow::ensure!(
            out.status.success(),
            "{command:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Removes what a standalone test makes: every container that is not a Swarm task, the
    /// bridge networks (but Docker's own), unused volumes. Never fails. What carries
    /// [`REHEARSAL_LABEL`] is left alone: a rehearsal removes its own.
    pub fn remove_standalone(&self) {
        let quiet = |args: &[&str]| {
            let _ = self.command().args(args).output();
        };
        if let Ok(list) = self.docker(&[
            "ps",
            "-a",
            "--format",
            &format!(
                "{{{{.ID}}}} {{{{.Label \"com.docker.swarm.task.id\"}}}}{{{{.Label \"{REHEARSAL_LABEL}\"}}}}"
            ),
        ]) {
            let ids: Vec<&str> = list
                .lines()
                .filter_map(|l| match l.split_whitespace().collect::<Vec<_>>()[..] {
                    [id] => Some(id),
                    _ => None,
                })
                .collect();
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f", "-v"];
                args.extend(ids);
                quiet(&args);
            }
        }
        if let Ok(names) = self.docker(&[
            "network",
            "ls",
            "--filter",
            "driver=bridge",
            "--format",
            &format!("{{{{.Name}}}} {{{{.Label \"{REHEARSAL_LABEL}\"}}}}"),
        ]) {
            for line in names.lines() {
                let (name, rehearsal) = line.split_once(' ').unwrap_or((line, ""));
                if rehearsal.trim().is_empty() && !matches!(name, "bridge" | "docker_gwbridge") {
                    quiet(&["network", "rm", name]);
                }
            }
        }
        quiet(&["volume", "prune", "-f"]);
    }

    /// Removes what a Swarm test makes: its stacks, and the Swarm itself (with its services
    /// and overlay networks). Never fails.
    pub fn remove_swarm(&self) {
        let quiet = |args: &[&str]| {
            let _ = self.command().args(args).output();
        };
        if let Ok(stacks) = self.docker(&["stack", "ls", "--format", "{{.Name}}"]) {
            for stack in stacks.lines() {
                quiet(&["stack", "rm", stack]);
            }
        }
        quiet(&["swarm", "leave", "--force"]);
        // A task's container outlives the Swarm it belonged to for a moment.
        let deadline = Instant::now() + Duration::from_secs(30);
        while self
            .docker(&["ps", "-aq", "--filter", "label=com.docker.swarm.task.id"])
            .is_ok_and(|ids| !ids.is_empty())
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Makes this engine a Swarm manager advertising `manager_addr`, and `workers` its
    /// workers.
    pub fn swarm_init(&self, manager_addr: &str, workers: &[&Engine]) -> anyhow::Result<()> {
        self.docker(&["swarm", "init", "--advertise-addr", manager_addr])?;
        let token = self.docker(&["swarm", "join-token", "-q", "worker"])?;
        for worker in workers {
            worker.docker(&[
                "swarm",
                "join",
                "--token",
                &token,
                &format!("{manager_addr}:2377"),
            ])?;
        }
        Ok(())
    }

    /// Stops this engine's daemon (SIGTERM to the pid in `dockerd.pid` beside its socket,
    /// once it is seen to be a dockerd), as a server shutting down: its containers are stopped
    /// with it. Waits at most 60 s for it to exit.
    pub fn stop_daemon(&self) -> anyhow::Result<()> {
        let socket = Path::new(self.host.strip_prefix("unix://").context("a unix socket")?);
        let pid_file = socket.with_file_name("dockerd.pid");
        let pid = std::fs::read_to_string(&pid_file)?.trim().to_owned();
        // A zombie (state `Z`: exited, its parent, xtask, not yet told) is gone.
        let is_dockerd = || {
            let running = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                stat.rsplit(") ")
                    .next()
                    .is_some_and(|rest| !rest.starts_with('Z'))
            });
            running
                && std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "dockerd")
        };
        anyhow::ensure!(
            is_dockerd(),
            "{} names no running dockerd",
            pid_file.display()
        );
        let status = Command::new("kill").arg(&pid).status()?;
        anyhow::ensure!(status.success(), "kill {pid}: {status}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while is_dockerd() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "dockerd {pid} still runs after 60 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    }

    /// `docker inspect -f <format> <object>`.
    pub fn inspect(&self, object: &str, format: &str) -> anyhow::Result<String> {
        self.docker(&["inspect", "-f", format, object])
    }

    /// A container's address on `network`.
    pub fn address(&self, container: &str, network: &str) -> anyhow::Result<String> {
        let address = self.inspect(
            container,
            &format!("{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}"),
        )?;
        anyhow::ensure!(
            !address.is_empty(),
            "{container} has no address on {network}"
        );
        Ok(address)
    }

    /// Names of the running containers with label `key=value`, sorted.
    pub fn running_with_label(&self, label: &str) -> anyhow::Result<Vec<String>> {
        let out = self.docker(&[
            "ps",
            "--filter",
            &format!("label={label}"),
            "--format",
            "{{.Names}}",
        ])?;
        let mut names: Vec<String> = out.lines().map(str::to_owned).collect();
        names.sort();
        Ok(names)
    }

    /// Waits (at most `seconds`) until `container`'s health check says healthy.
    pub fn wait_healthy(&self, container: &str, seconds: u64) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let status = self.inspect(container, "{{.State.Health.Status}}")?;
            if status == "healthy" {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{container} is {status} after {seconds} s: {}",
                self.logs(container)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A container's log (stdout and stderr).
    pub fn logs(&self, container: &str) -> String {
        self.command()
            .args(["logs", container])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout).into_owned()
                    + &String::from_utf8_lossy(&o.stderr)
            })
            .unwrap_or_default()
    }

    /// Waits (at most `seconds`) until a replica container answers its health check
    /// (`/v1/health` on `port`, asked inside it).
    pub fn wait_listening(&self, container: &str, port: u16, seconds: u64) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let url = format!("http://127.0.0.1:{port}/v1/health");
        while self
            .docker(&["exec", container, "wget", "-qO-", &url])
            .is_err()
        {
            anyhow::ensure!(
                Instant::now() < deadline,
                "{container} does not answer on {port} after {seconds} s: {}",
                self.logs(container)
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        Ok(())
    }

    /// A replica container's `/stats` counter (`open`: Engine.IO sessions open now,
    /// `connections`: Socket.IO connects so far), asked inside the container, so nothing
    /// here aims at a container's address.
    pub fn replica_stat(&self, container: &str, port: u16, key: &str) -> u64 {
        self.docker(&[
            "exec",
            container,
            "wget",
            "-qO-",
            &format!("http://127.0.0.1:{port}/stats"),
        ])
        .ok()
        .and_then(|body| serde_json::from_str::<Value>(&body).ok())
        .and_then(|v| v[key].as_u64())
        .unwrap_or(0)
    }
}

/// A GET on loopback `port` with `Host: host`: `(status, body)`. How an operator reads
/// Traefik's API through the route Coolify's proxy labels give it.
pub fn get_with_host(port: u16, host: &str, path: &str) -> anyhow::Result<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n")?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").context("no end of headers")?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no status")?;
    Ok((status, body.to_owned()))
}

/// How the affinity plugin reaches Coolify's proxy.
#[derive(Debug, Clone)]
pub enum ProxyPlugin {
    /// No plugin flag: Coolify's proxy as it comes.
    None,
    /// The README's offline install: the plugin's files in
    /// `/data/coolify/proxy/plugins-local/src/<module>/`, the volume
    /// `/data/coolify/proxy/plugins-local:/plugins-local:ro` and the `localPlugins` flag.
    Local(PathBuf),
    /// The README's catalog install: its two `experimental.plugins` flags for `version`.
    /// Traefik downloads the plugin from plugins.traefik.io; here through `registry`
    /// (`host:port` of `tests/node/plugin-registry.js` on the proxy's network, a CONNECT
    /// proxy that answers for plugins.traefik.io itself), whose certificate `ca` signed: the
    /// proxy gets `HTTPS_PROXY` and `SSL_CERT_FILE` for that, nothing else.
    Catalog {
        version: String,
        registry: String,
        ca: PathBuf,
    },
}

/// Coolify's proxy on the server engine: `proxy-standalone.json` (Coolify's own
/// `generateDefaultProxyConfiguration`, `shared/test_data/coolify/`) written as
/// `docker-compose.yml` into the proxy folder and started the way Coolify's `StartProxy`
/// does (`docker compose up -d --wait --remove-orphans` in that folder), changed only where
/// this machine differs ([`CoolifyProxy::CHANGES`]).
pub struct CoolifyProxy {
    engine: Engine,
    kind: ServerKind,
    /// `/data/coolify/proxy/` here: mounted at `/traefik`; its `dynamic` folder is the file provider's.
    pub dir: TempDir,
    /// The loopback ports published for Coolify's `80` and `443`.
    pub http: u16,
    pub https: u16,
    /// And for its `8080` (nothing listens: `--api.insecure=false`).
    dashboard: u16,
}

pub use shared::coolify::proxy::ServerKind;

/// The proxy's container on a standalone server, as Coolify names it.
pub const PROXY_CONTAINER: &str = "coolify-proxy";
/// The proxy's Swarm service: stack `coolify-proxy`, service `traefik`.
pub const PROXY_SERVICE: &str = "coolify-proxy_traefik";

/// Traefik's default rule for the proxy's own router (the container's name on a standalone
/// server, the service's on Swarm, normalised): the `Host` that reads Traefik's API on port 80.
pub fn proxy_api_host(kind: ServerKind) -> &'static str {
    match kind {
        ServerKind::Standalone => "traefik-coolify-proxy",
        ServerKind::Swarm => "coolify-proxy-traefik",
    }
}

impl CoolifyProxy {
    /// What the tests change in Coolify's proxy compose, and why; [`CoolifyProxy::start`]
    /// fails if one no longer applies (Coolify's file changed: follow it).
    pub const CHANGES: [&'static str; 4] = [
        "ports 80, 443, 443/udp and 8080 published on free ports: on 127.0.0.1 (the machine's own ports are not ours); on Swarm in host mode, which takes no address (this machine has no IPVS for the routing mesh's ingress ports)",
        "the Docker socket's source is the test engine's socket",
        "/data/coolify/proxy is a temporary folder",
        "--certificatesresolvers.letsencrypt.acme.caserver points at a closed loopback port (nothing leaves the machine); the default certificate is a test CA's",
    ];

    /// On Swarm only: the file's top-level `name` is removed. `docker stack deploy` refuses
    /// Coolify's file with it (Docker CLI 28.2: "Additional property name is not allowed";
    /// 20.10 refuses a file without `version` outright), so Coolify's Swarm proxy cannot
    /// start as written with these CLIs.
    pub const SWARM_CHANGE: &'static str =
        "the top-level `name` removed (docker stack deploy refuses it)";

    /// Starts Coolify's proxy for a `kind` server (on Swarm, `engine` is a manager) with
    /// `plugin`, the test CA's certificate as Traefik's default (`certificates`: CA, key,
    /// certificate from [`crate::test_certificates`]) and `files` in its dynamic folder
    /// beside Coolify's own.
    pub fn start(
        kind: ServerKind,
        engine: &Engine,
        plugin: &ProxyPlugin,
        certificates: &(PathBuf, PathBuf, PathBuf),
        files: &[(String, String)],
    ) -> anyhow::Result<CoolifyProxy> {
        let dir = TempDir::new("coolify-proxy")?;
        let (http, https, dashboard) = (free_port()?, free_port()?, free_port()?);
        let dynamic = dir.path().join("dynamic");
        std::fs::create_dir_all(&dynamic)?;
        for (name, content) in files {
            std::fs::write(dynamic.join(name), content)?;
        }
        let certs = dir.path().join("certs");
        std::fs::create_dir_all(&certs)?;
        std::fs::copy(&certificates.1, certs.join("host.key"))?;
        std::fs::copy(&certificates.2, certs.join("host.pem"))?;
        std::fs::write(
            dynamic.join("zz-test-certificate.yaml"),
            "tls:\n  stores:\n    default:\n      defaultCertificate:\n        certFile: /traefik/certs/host.pem\n        keyFile: /traefik/certs/host.key\n",
        )?;

        let proxy = CoolifyProxy {
            engine: engine.clone(),
            kind,
            dir,
            http,
            https,
            dashboard,
        };
        proxy.write_compose(plugin, &[])?;
        // Coolify makes the network when it validates a server (`InstallDocker`), and starts
        // the proxy in its folder (`StartProxy`).
        match kind {
            ServerKind::Standalone => {
                engine.docker(&["network", "create", "--attachable", "coolify"])?;
                proxy.compose_up()?;
            }
            ServerKind::Swarm => {
                engine.docker(&[
                    "network",
                    "create",
                    "--attachable",
                    "--driver",
                    "overlay",
                    "coolify-overlay",
                ])?;
                engine.output(
                    engine
                        .command()
                        .args([
                            "stack",
                            "deploy",
                            "--detach=true",
                            // Coolify's command has no such flag; no registry is reachable
                            // here, and none may be asked for the image's digest.
                            "--resolve-image=never",
                            "-c",
                            "docker-compose.yml",
                            "coolify-proxy",
                        ])
                        .current_dir(proxy.dir.path()),
                )?;
            }
        }
        proxy.wait_api()?;
        Ok(proxy)
    }

    /// Writes `docker-compose.yml` into the proxy folder: Coolify's file with
    /// [`CoolifyProxy::CHANGES`], `plugin`'s flag (and volume), and `labels` added to the
    /// proxy's own, as an operator adds them in *Proxy → Configuration*.
    fn write_compose(&self, plugin: &ProxyPlugin, labels: &[&str]) -> anyhow::Result<()> {
        let path = project_root().join(match self.kind {
            ServerKind::Standalone => "shared/test_data/coolify/proxy-standalone.json",
            ServerKind::Swarm => "shared/test_data/coolify/proxy-swarm.json",
        });
        let mut compose: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        let socket = self
            .engine
            .host
            .strip_prefix("unix://")
            .context("a unix socket engine")?
            .to_owned();
        let traefik = &mut compose["services"]["traefik"];
        let mut changed = [false; 4];
        if let Some(ports) = traefik["ports"].as_array_mut() {
            let mut moved = 0;
            for port in ports.iter_mut() {
                let (published, target, protocol) = match port.as_str() {
                    Some("80:80") => (self.http, 80, "tcp"),
                    Some("443:443") => (self.https, 443, "tcp"),
                    Some("443:443/udp") => (self.https, 443, "udp"),
                    Some("8080:8080") => (self.dashboard, 8080, "tcp"),
                    _ => continue,
                };
                *port = match self.kind {
                    ServerKind::Standalone => Value::String(format!(
                        "127.0.0.1:{published}:{target}{}",
                        if protocol == "udp" { "/udp" } else { "" }
                    )),
                    ServerKind::Swarm => serde_json::json!({
                        "target": target, "published": published, "protocol": protocol, "mode": "host",
                    }),
                };
                moved += 1;
            }
            changed[0] = moved == 4;
        }
        if let Some(volumes) = traefik["volumes"].as_array_mut() {
            for volume in volumes.iter_mut() {
                let Some(text) = volume.as_str() else {
                    continue;
                };
                if let Some(rest) = text.strip_prefix("/var/run/docker.sock:") {
                    *volume = Value::String(format!("{socket}:{rest}"));
                    changed[1] = true;
                } else if let Some(rest) = text
                    .strip_prefix("/data/coolify/proxy/:")
                    .or_else(|| text.strip_prefix("/data/coolify/proxy:"))
                {
                    *volume = Value::String(format!("{}:{rest}", self.dir.path().display()));
                    changed[2] = true;
                }
            }
            if let ProxyPlugin::Local(_) = plugin {
                volumes.push(Value::String(format!(
                    "{}/plugins-local:/plugins-local:ro",
                    self.dir.path().display()
                )));
            }
        }
        if !labels.is_empty() {
            let list = match self.kind {
                ServerKind::Standalone => traefik["labels"].as_array_mut(),
                ServerKind::Swarm => traefik["deploy"]["labels"].as_array_mut(),
            }
            .context("the proxy's labels")?;
            list.extend(labels.iter().map(|l| Value::String((*l).to_owned())));
        }
        if let Some(command) = traefik["command"].as_array_mut() {
            command.push(Value::String(
                "--certificatesresolvers.letsencrypt.acme.caserver=https://127.0.0.1:9/directory"
                    .into(),
            ));
            changed[3] = true;
            if let ProxyPlugin::Local(plugin) = plugin {
                let module = shared::install::PLUGIN_MODULE;
                let target = self.dir.path().join("plugins-local/src").join(module);
                std::fs::create_dir_all(&target)?;
                for file in ["plugin.wasm", ".traefik.yml"] {
                    std::fs::copy(plugin.join(file), target.join(file))
                        .with_context(|| format!("copying {file}"))?;
                }
                command.push(Value::String(format!(
                    "--experimental.localPlugins.{}.moduleName={module}",
                    shared::model::DEFAULT_PLUGIN_NAME
                )));
            }
            if let ProxyPlugin::Catalog { version, .. } = plugin {
                for flag in
                    shared::install::catalog_flags(shared::model::DEFAULT_PLUGIN_NAME, version)
                {
                    command.push(Value::String(flag));
                }
            }
        }
        for (done, change) in changed.iter().zip(CoolifyProxy::CHANGES) {
            anyhow::ensure!(
                *done,
                "Coolify's proxy compose changed: cannot apply \"{change}\" to {}",
                path.display()
            );
        }
        if let ProxyPlugin::Catalog { registry, ca, .. } = plugin {
            let certs = self.dir.path().join("certs");
            std::fs::copy(ca, certs.join("registry-ca.pem"))?;
            let proxy = format!("http://{registry}");
            traefik["environment"] = serde_json::json!({
                "HTTPS_PROXY": proxy, "https_proxy": proxy, "NO_PROXY": "", "no_proxy": "",
                "SSL_CERT_FILE": "/traefik/certs/registry-ca.pem",
            });
        }
        if self.kind == ServerKind::Swarm {
            let name = compose.as_object_mut().and_then(|c| c.remove("name"));
            anyhow::ensure!(
                name.is_some(),
                "Coolify's Swarm proxy compose changed: cannot apply \"{}\"",
                CoolifyProxy::SWARM_CHANGE
            );
        }
        std::fs::write(
            self.dir.path().join("docker-compose.yml"),
            serde_json::to_string_pretty(&compose)?,
        )?;
        Ok(())
    }

    /// `docker compose up -d --wait --remove-orphans` in the proxy folder (`StartProxy`).
    fn compose_up(&self) -> anyhow::Result<()> {
        self.engine.output(
            self.engine
                .command()
                .args(["compose", "up", "-d", "--wait", "--remove-orphans"])
                .current_dir(self.dir.path()),
        )?;
        Ok(())
    }

    /// *Proxy → Configuration* saved with `plugin` and `labels` (standalone server), then
    /// *Restart Proxy*: `StartProxy` stops and removes `coolify-proxy` and starts it again.
    pub fn restart(&self, plugin: &ProxyPlugin, labels: &[&str]) -> anyhow::Result<()> {
        anyhow::ensure!(self.kind == ServerKind::Standalone, "a standalone proxy");
        self.write_compose(plugin, labels)?;
        let _ = self.engine.docker(&["stop", PROXY_CONTAINER]);
        let _ = self.engine.docker(&["rm", "-f", PROXY_CONTAINER]);
        self.compose_up()
    }

    /// Waits until Traefik's API answers through the proxy's own route (on Swarm, after a
    /// poll of the provider: every 15 s by Coolify's flags).
    fn wait_api(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if matches!(self.api("/api/version"), Ok((200, _))) {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "Traefik's API never answered through Host: {}:\n{}",
                proxy_api_host(self.kind),
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `GET path` of Traefik's API, as an operator reads it on the server: port 80 with
    /// the `Host` of the proxy's own router ([`proxy_api_host`]).
    pub fn api(&self, path: &str) -> anyhow::Result<(u16, String)> {
        get_with_host(self.http, proxy_api_host(self.kind), path)
    }

    /// `GET path` of Traefik's API from inside the proxy's container (`docker exec
    /// coolify-proxy wget …` to its own port 80): the request comes from 127.0.0.1 there.
    pub fn api_inside(&self, path: &str) -> anyhow::Result<String> {
        self.engine.docker(&[
            "exec",
            PROXY_CONTAINER,
            "wget",
            "-qO-",
            "--header",
            &format!("Host: {}", proxy_api_host(self.kind)),
            &format!("http://127.0.0.1:80{path}"),
        ])
    }

    /// Writes `name` into the proxy's dynamic folder, as *Proxy → Dynamic Configurations*
    /// does (`/data/coolify/proxy/dynamic/`, watched: no restart).
    pub fn write_dynamic(&self, name: &str, content: &str) {
        let path = self.dir.path().join("dynamic").join(name);
        std::fs::write(&path, content).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }

    /// The proxy's log.
    pub fn logs(&self) -> String {
        match self.kind {
            ServerKind::Standalone => self.engine.logs(PROXY_CONTAINER),
            ServerKind::Swarm => self
                .engine
                .command()
                .args(["service", "logs", "--raw", PROXY_SERVICE])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default(),
        }
    }

    /// The HTTPS URL clients use.
    pub fn https_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.https)
    }

    /// Waits until Traefik shows `service` (`name@provider`) with exactly `urls` as
    /// servers, every one UP.
    pub fn wait_servers(&self, service: &str, urls: &[String], seconds: u64) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut wanted = urls.to_vec();
        wanted.sort();
        let mut last = String::new();
        loop {
            if let Ok((200, body)) = self.api(&format!("/api/http/services/{service}")) {
                let value: Value = serde_json::from_str(&body).unwrap_or_default();
                let mut seen: Vec<String> = value["loadBalancer"]["servers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s["url"].as_str().map(str::to_owned))
                    .collect();
                seen.sort();
                let all_up = wanted
                    .iter()
                    .all(|u| value["serverStatus"][u].as_str() != Some("DOWN"));
                if seen == wanted && all_up {
                    return Ok(());
                }
                last = body;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "Traefik never showed {service} with {wanted:?} in {seconds} s: {last}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits until router `name` (`name@provider`) is enabled.
    pub fn wait_router(&self, name: &str, seconds: u64) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let (status, body) = self
                .api(&format!("/api/http/routers/{name}"))
                .unwrap_or((0, String::new()));
            if status == 200 && body.contains("\"status\":\"enabled\"") {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "router {name} never enabled in {seconds} s: {body}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// A folder of the test (under [`TempDir`]) as a Coolify application's workdir,
/// `/data/coolify/applications/<uuid>`: its last component is the uuid, which Compose takes
/// as the project name when Coolify gives none (Raw mode).
pub fn application_dir(parent: &Path, uuid: &str) -> anyhow::Result<PathBuf> {
    let dir = parent.join("applications").join(uuid);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
