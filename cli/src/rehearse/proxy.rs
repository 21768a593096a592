//! Coolify's proxy for the rehearsal: [`shared::coolify::proxy::compose`] (Coolify's own
//! `generateDefaultProxyConfiguration`, for a standalone or a Swarm server), started the way
//! Coolify's `StartProxy` starts it on a standalone server (`docker compose up -d --wait
//! --remove-orphans` in its folder), with the changes [`CHANGES`] (and on Swarm
//! [`SWARM_CHANGES`]) name so that it sits beside anything already on the machine, a real
//! Coolify proxy included.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;
use shared::coolify::proxy::ServerKind;

use super::docker::{Docker, LABEL};

/// What differs from Coolify's proxy, and why; each applied or the rehearsal stops.
pub const CHANGES: [&str; 6] = [
    "its compose project, container and network are the rehearsal's own (not coolify-proxy / coolify), so a Coolify on this machine is left alone",
    "ports 80, 443 and 8080 are published on free ports of 127.0.0.1 only (443/udp, HTTP/3, is left out)",
    "/data/coolify/proxy is a temporary folder",
    "the Docker socket is the one DOCKER_HOST names, when it names a unix socket (rootless Docker, a second engine)",
    "the Docker provider (on Swarm, the Swarm provider) reads only the rehearsal's containers (services) — a constraint on its label",
    "the plugin is loaded as a local plugin from this binary; ACME points at a closed port, nothing leaves the machine",
];

/// What differs on a Swarm server, beside [`CHANGES`].
pub const SWARM_CHANGES: [&str; 2] = [
    "the proxy runs as a container on this manager (`docker compose up`), not as Coolify's stack: a stack publishes its ports on every address, a container on 127.0.0.1 only; its Swarm provider and its 15 s polls are Coolify's",
    "Traefik's API is read on its own port (`--api.insecure=true`, on 127.0.0.1): the router Coolify gives it is a stack label, which a container does not have",
];

pub struct Proxy {
    /// The compose project, which is also the container's name.
    pub name: String,
    /// Where `127.0.0.1:<port>` answers for Coolify's port 80.
    pub http: String,
    /// Where Traefik's API answers, and the `Host` its router needs, if any.
    api: (String, Option<String>),
    /// The folder mounted as Coolify's `/data/coolify/proxy`.
    dir: PathBuf,
    /// Which provider finds the replicas: `docker` or `swarm`, as Traefik's API names it.
    pub provider: &'static str,
}

impl Proxy {
    /// Starts the proxy of a `kind` server for rehearsal `id` on `network` (made by the
    /// caller) from `dir`.
    pub fn start(
        docker: &Docker,
        kind: ServerKind,
        id: &str,
        network: &str,
        dir: &Path,
    ) -> anyhow::Result<Proxy> {
        let name = format!("{network}-proxy");
        let socket = docker_socket();
        // Docker would make a missing bind-mount source a folder, and the proxy would see
        // no containers: say so instead (only a named socket can be checked from here).
        if std::env::var("DOCKER_HOST").is_ok_and(|h| h.starts_with("unix://")) {
            anyhow::ensure!(
                Path::new(&socket).exists(),
                "DOCKER_HOST names {socket}, which is not on this machine"
            );
        }
        let compose = compose(kind, id, network, &name, dir)?;
        std::fs::write(
            dir.join("docker-compose.yml"),
            serde_json::to_string_pretty(&compose)?,
        )?;
        docker.output(
            docker
                .command()
                .args(["compose", "up", "-d", "--wait", "--remove-orphans"])
                .current_dir(dir),
        )?;
        let http = docker.published(&name, "80/tcp")?;
        let (api, provider) = match kind {
            // The compose service is `traefik`; Traefik names the container's default rule
            // `Host(<service>-<project>)`, as `traefik-coolify-proxy` on a Coolify server.
            ServerKind::Standalone => ((http.clone(), Some(format!("traefik-{name}"))), "docker"),
            ServerKind::Swarm => ((docker.published(&name, "8080/tcp")?, None), "swarm"),
        };
        let proxy = Proxy {
            api,
            name,
            http,
            dir: dir.to_owned(),
            provider,
        };
        proxy.wait_api()?;
        Ok(proxy)
    }

    /// The folder Traefik's file provider watches (Coolify's `/traefik/dynamic/`).
    pub fn dynamic_dir(&self) -> PathBuf {
        self.dir.join("dynamic")
    }

    /// `GET path` of Traefik's API: through port 80 on a standalone server, as the README's
    /// `check --traefik-api` reads it on a Coolify server; on its own port on Swarm.
    pub fn api(&self, path: &str) -> anyhow::Result<Value> {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .new_agent();
        let (address, host) = &self.api;
        let mut request = agent.get(&format!("http://{address}{path}"));
        if let Some(host) = host {
            request = request.header("Host", host);
        }
        let body = request.call()?.body_mut().read_to_string()?;
        Ok(serde_json::from_str(&body)?)
    }

    fn wait_api(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self.api("/api/overview") {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > deadline => {
                    return Err(e.context("Coolify's proxy never answered on its API router"))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(250)),
            }
        }
    }

    /// Waits until Traefik shows `service` (with its provider: `…@docker`, `…@file`) with
    /// `count` servers, every one UP.
    pub fn wait_servers(
        &self,
        service: &str,
        count: usize,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let mut last = Value::Null;
        loop {
            if let Ok(value) = self.api(&format!("/api/http/services/{service}")) {
                let servers = value["loadBalancer"]["servers"]
                    .as_array()
                    .map_or(0, Vec::len);
                let down = value["serverStatus"]
                    .as_object()
                    .is_some_and(|s| s.values().any(|v| v != "UP"));
                if servers == count && !down {
                    return Ok(());
                }
                last = value;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "Traefik never had {count} healthy servers for {service} in {} s: {last}",
                timeout.as_secs()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The servers of `service` (with its provider) and their status (`UP`, `DOWN`, or `?` before its
    /// first health check), as Traefik has them now.
    pub fn servers(&self, service: &str) -> std::collections::BTreeMap<String, String> {
        let Ok(value) = self.api(&format!("/api/http/services/{service}")) else {
            return Default::default();
        };
        value["loadBalancer"]["servers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["url"].as_str())
            .map(|url| {
                let status = value["serverStatus"][url].as_str().unwrap_or("?");
                (url.to_owned(), status.to_owned())
            })
            .collect()
    }
}

/// Coolify's proxy compose for a `kind` server with [`CHANGES`] (and [`SWARM_CHANGES`]).
fn compose(
    kind: ServerKind,
    id: &str,
    network: &str,
    name: &str,
    dir: &Path,
) -> anyhow::Result<Value> {
    let mut compose = shared::coolify::proxy::compose(kind);
    let (coolify_network, provider) = match kind {
        ServerKind::Standalone => (shared::coolify::STANDALONE_NETWORK, "docker"),
        ServerKind::Swarm => (shared::coolify::SWARM_NETWORK, "swarm"),
    };
    let mut applied = [false; 6];
    compose["name"] = Value::String(name.to_owned());
    compose["networks"][coolify_network] = serde_json::json!({"external": true, "name": network});
    let traefik = compose["services"]["traefik"]
        .as_object_mut()
        .context("Coolify's proxy compose has no traefik service")?;
    traefik.insert("container_name".into(), Value::String(name.to_owned()));
    applied[0] = true;
    if let Some(ports) = traefik.get_mut("ports").and_then(Value::as_array_mut) {
        ports.retain(|p| p.as_str() != Some("443:443/udp"));
        for port in ports.iter_mut() {
            let target = port
                .as_str()
                .and_then(|p| p.split(':').nth(1))
                .unwrap_or_default();
            *port = Value::String(format!("127.0.0.1::{target}"));
        }
        applied[1] = ports.len() == 3;
    }
    let plugins = dir.join("plugins-local");
    if let Some(volumes) = traefik.get_mut("volumes").and_then(Value::as_array_mut) {
        for volume in volumes.iter_mut() {
            if let Some(rest) = volume
                .as_str()
                .and_then(|v| v.strip_prefix("/var/run/docker.sock:"))
            {
                *volume = Value::String(format!("{}:{rest}", docker_socket()));
                applied[3] = true;
            } else if let Some(rest) = volume.as_str().and_then(|v| {
                v.strip_prefix("/data/coolify/proxy/:")
                    .or_else(|| v.strip_prefix("/data/coolify/proxy:"))
            }) {
                *volume = Value::String(format!("{}:{rest}", dir.display()));
                applied[2] = true;
            }
        }
        volumes.push(Value::String(format!(
            "{}:/plugins-local:ro",
            plugins.display()
        )));
    }
    if let Some(command) = traefik.get_mut("command").and_then(Value::as_array_mut) {
        command.push(Value::String(format!(
            "--providers.{provider}.constraints=Label(`{LABEL}`,`{id}`)"
        )));
        applied[4] = true;
        command.push(Value::String(shared::install::local_plugin_flag(
            shared::model::DEFAULT_PLUGIN_NAME,
        )));
        command.push(Value::String(
            "--certificatesresolvers.letsencrypt.acme.caserver=https://127.0.0.1:9/directory"
                .into(),
        ));
        if kind == ServerKind::Swarm {
            command.push(Value::String("--api.insecure=true".into()));
        }
        applied[5] = write_plugin(&plugins)?;
    }
    // A stack's settings (its labels, its placement) mean nothing to a container.
    traefik.remove("deploy");
    let label = Value::String(format!("{LABEL}={id}"));
    match traefik.get_mut("labels").and_then(Value::as_array_mut) {
        Some(labels) => labels.push(label),
        None => {
            traefik.insert("labels".into(), Value::Array(vec![label]));
        }
    }
    std::fs::create_dir_all(dir.join("dynamic"))?;
    for (done, change) in applied.iter().zip(CHANGES) {
        anyhow::ensure!(
            *done,
            "cannot apply \"{change}\" to Coolify's proxy compose"
        );
    }
    Ok(compose)
}

/// The socket of the engine the `docker` command talks to, for the proxy's Docker provider:
/// `DOCKER_HOST`'s when it is a unix socket, Docker's default otherwise.
fn docker_socket() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|host| host.strip_prefix("unix://").map(str::to_owned))
        .unwrap_or_else(|| "/var/run/docker.sock".to_owned())
}

/// The plugin's files (embedded in this binary) where a local plugin goes:
/// `plugins-local/src/<module>/`.
fn write_plugin(plugins: &Path) -> anyhow::Result<bool> {
    let target: PathBuf = plugins.join("src").join(shared::install::PLUGIN_MODULE);
    std::fs::create_dir_all(&target)?;
    for file in ["plugin.wasm", ".traefik.yml"] {
        let bytes = crate::serve::plugin_file(file).with_context(|| {
            format!(
                "this gaqno-lb was built without the plugin ({file}): build it with `cargo xtask dist`"
            )
        })?;
        std::fs::write(target.join(file), bytes)?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Coolify's file with exactly the named changes: nothing published beyond loopback,
    /// only the rehearsal's containers read, Coolify's own names left free.
    #[test]
    fn coolifys_proxy_with_the_rehearsals_changes() {
        let dir = std::env::temp_dir().join(format!("gaqno-lb-proxy-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let written = compose(
            ServerKind::Standalone,
            "abc",
            "gaqno-lb-rehearsal-abc",
            "gaqno-lb-rehearsal-abc-proxy",
            &dir,
        );
        let _ = std::fs::remove_dir_all(&dir);
        // Without the plugin's files embedded (a build without `dist/plugin/`) it says so.
        let compose = match written {
            Ok(compose) => compose,
            Err(e) => {
                assert!(
                    format!("{e:#}").contains("built without the plugin"),
                    "{e:#}"
                );
                return;
            }
        };
        let traefik = &compose["services"]["traefik"];
        assert_eq!(compose["name"], "gaqno-lb-rehearsal-abc-proxy");
        assert_eq!(traefik["container_name"], "gaqno-lb-rehearsal-abc-proxy");
        assert_eq!(
            compose["networks"]["coolify"],
            serde_json::json!({"external": true, "name": "gaqno-lb-rehearsal-abc"})
        );
        assert_eq!(
            traefik["ports"],
            serde_json::json!(["127.0.0.1::80", "127.0.0.1::443", "127.0.0.1::8080"])
        );
        let command: Vec<&str> = traefik["command"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let coolifys = shared::coolify::proxy::default_command(ServerKind::Standalone);
        assert_eq!(
            command[..coolifys.len()],
            coolifys[..],
            "Coolify's flags first, unchanged"
        );
        assert!(
            command.contains(&"--providers.docker.constraints=Label(`gaqno-lb.rehearsal`,`abc`)")
        );
        assert!(traefik["labels"]
            .as_array()
            .unwrap()
            .contains(&Value::String("gaqno-lb.rehearsal=abc".into())));
        assert!(!traefik["volumes"].to_string().contains("/data/coolify"));
    }

    /// On Swarm: Coolify's Swarm proxy as a container on the rehearsal's overlay, its API on
    /// its own loopback port, its Swarm provider reading only the rehearsal's services.
    #[test]
    fn coolifys_swarm_proxy_as_a_container() {
        let dir = std::env::temp_dir().join(format!("gaqno-lb-proxy-swarm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let written = compose(ServerKind::Swarm, "abc", "net-abc", "net-abc-proxy", &dir);
        let _ = std::fs::remove_dir_all(&dir);
        let Ok(compose) = written else {
            return; // Built without the plugin: said by the standalone test.
        };
        let traefik = &compose["services"]["traefik"];
        assert_eq!(
            compose["networks"]["coolify-overlay"],
            serde_json::json!({"external": true, "name": "net-abc"})
        );
        assert!(traefik.get("deploy").is_none());
        assert_eq!(
            traefik["ports"],
            serde_json::json!(["127.0.0.1::80", "127.0.0.1::443", "127.0.0.1::8080"])
        );
        let command = traefik["command"].to_string();
        assert!(command.contains("--providers.swarm.constraints=Label(`gaqno-lb.rehearsal`,`abc`)"));
        assert!(command.contains("--providers.swarm.endpoint=unix:///var/run/docker.sock"));
        assert!(command.contains("--api.insecure=true"));
        assert_eq!(
            traefik["labels"],
            serde_json::json!(["gaqno-lb.rehearsal=abc"])
        );
    }
}
