//! How Coolify deploys a standalone application (a Docker image, a Dockerfile, Nixpacks):
//! the compose file `ApplicationDeploymentJob::generate_compose_file` writes into the
//! application's folder, its health check command (`generate_healthcheck_commands`), and the
//! container's name (`generateApplicationContainerName`), ported from
//! `app/Jobs/ApplicationDeploymentJob.php` and `bootstrap/helpers/docker.php` of v4.3.10.
//!
//! What a deploy then runs is `rolling_update`, in this order (the callers run it; this
//! crate does no IO):
//! - standalone server: `docker compose --project-name <uuid> --project-directory <dir> -f
//!   <dir>/docker-compose.yaml up --build -d` (`start_by_compose_file`); then `health_check`:
//!   with Coolify's health check off, the new container counts as healthy at once; with it
//!   on, the start period, then `docker inspect` of `.State.Health.Status` every interval, up
//!   to `retries` times, until `healthy` (or `unhealthy`); then `stop_running_container`:
//!   when healthy, every other container labelled `coolify.applicationId=<id>` gets
//!   `docker stop --time=<grace>` (30 s by default) and `docker rm -f`; when not, the *new*
//!   container does, and the deploy fails with the old one still running.
//! - Swarm server: `docker stack deploy --detach=true --with-registry-auth -c <file> <uuid>`,
//!   and no health check wait (`health_check` does nothing on Swarm).

use serde_json::{json, Value};

use super::proxy::ServerKind;
use super::{Application, STANDALONE_NETWORK, SWARM_NETWORK};

/// Coolify's default stop grace period (`DEFAULT_STOP_GRACE_PERIOD_SECONDS`), seconds.
pub const STOP_GRACE_SECONDS: u32 = 30;

/// *Configuration → Health check* of an application, HTTP type (Coolify's default type),
/// method `GET`, scheme `http`, host `localhost`: what the command asks, from inside the
/// container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// *Path* (`/` when empty).
    pub path: String,
    /// *Port* (none: the first exposed port).
    pub port: Option<u16>,
    /// *Interval*, seconds.
    pub interval: u32,
    /// *Timeout*, seconds.
    pub timeout: u32,
    /// *Retries*.
    pub retries: u32,
    /// *Start period*, seconds.
    pub start_period: u32,
}

impl HealthCheck {
    /// The health check on `path` with Coolify's defaults: 5 s interval, 5 s timeout, 10
    /// retries, 5 s start period.
    pub fn at(path: &str) -> HealthCheck {
        HealthCheck {
            path: path.to_owned(),
            port: None,
            interval: 5,
            timeout: 5,
            retries: 10,
            start_period: 5,
        }
    }

    /// `generate_healthcheck_commands`: `curl … || wget … || exit 1` against the port, or
    /// none when there is no port to ask (no *Port* and nothing exposed).
    pub fn command(&self, ports_exposes: &[u16]) -> Option<String> {
        let port = self.port.or_else(|| ports_exposes.first().copied())?;
        // `sanitizeHealthCheckValue`: a path outside this set falls back to `/`.
        let path_allowed = |c: char| c.is_ascii_alphanumeric() || "/-_.~%,;".contains(c);
        let path = if !self.path.is_empty() && self.path.chars().all(path_allowed) {
            self.path.as_str()
        } else {
            "/"
        };
        let url = shell_quoted(&format!("http://localhost:{port}{path}"));
        let method = shell_quoted("GET");
        Some(format!(
            "curl -s -X {method} -f {url} > /dev/null || wget -q -O- {url} > /dev/null || exit 1"
        ))
    }
}

/// PHP's `escapeshellarg` on Linux: single quotes, each `'` inside as `'\''`.
fn shell_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `generateApplicationContainerName` without *Consistent container name*: `<uuid>-<Hisu>`,
/// the deploy's time (hours, minutes, seconds, microseconds; the server's clock, UTC on a
/// Coolify server) given as the time since the Unix epoch.
pub fn container_name(uuid: &str, since_epoch: std::time::Duration) -> String {
    let day = since_epoch.as_secs() % 86_400;
    format!(
        "{uuid}-{:02}{:02}{:02}{:06}",
        day / 3600,
        day / 60 % 60,
        day % 60,
        since_epoch.subsec_micros()
    )
}

/// One deploy of a standalone application: what `generate_compose_file` reads.
#[derive(Debug, Clone)]
pub struct Deploy<'a> {
    /// The application (its uuid, labels and domains).
    pub application: &'a Application,
    /// The container's name ([`container_name`]); on Swarm, the service's.
    pub container: String,
    /// The image the build produced, or the *Docker Image* application's image.
    pub image: String,
    /// *Network → Custom network aliases*, after the container's name.
    pub aliases: Vec<String>,
    /// *Health check*, when enabled (off by default).
    pub health_check: Option<HealthCheck>,
    /// *Container labels* under "Managed manually": the text in the labels box (none:
    /// Coolify's own, [`Application::deploy_labels`]).
    pub custom_labels: Option<String>,
    /// *Persistent storage → File mounts*: `(path on the server, path in the container)`.
    pub file_mounts: Vec<(String, String)>,
    /// *Swarm → Replicas* (Swarm servers only).
    pub swarm_replicas: u32,
}

impl Deploy<'_> {
    /// The exposed ports (*Ports Exposes*).
    fn ports(&self) -> Vec<u16> {
        match &self.application.build_pack {
            super::BuildPack::Standalone { ports_exposes } => ports_exposes.clone(),
            super::BuildPack::Compose => Vec::new(),
        }
    }

    /// `generate_compose_file`'s document for a server of `kind` (Coolify's defaults: no
    /// resource limits, labels escaped, no ports mapped, no GPU, no log drain).
    pub fn compose_file(&self, kind: ServerKind) -> Value {
        let network = match kind {
            ServerKind::Standalone => STANDALONE_NETWORK,
            ServerKind::Swarm => SWARM_NETWORK,
        };
        let ports = self.ports();
        let mut aliases = vec![self.container.clone()];
        aliases.extend(self.aliases.iter().cloned());
        let labels = match &self.custom_labels {
            Some(custom) => self.application.swarm_labels_from(custom),
            None => self.application.deploy_labels(network),
        };
        let mut service = serde_json::Map::new();
        service.insert("image".into(), json!(self.image));
        if kind == ServerKind::Standalone {
            service.insert("container_name".into(), json!(self.container));
            service.insert("restart".into(), json!("unless-stopped"));
            if !ports.is_empty() {
                // `main_port()` is a list of strings in PHP; Yaml::dump writes them unquoted.
                let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
                service.insert("expose".into(), json!(ports));
            }
        }
        service.insert("networks".into(), json!({network: {"aliases": aliases}}));
        if kind == ServerKind::Standalone {
            // The columns' defaults: "0" memory (no limit), swappiness 60, 0 CPUs, 1024 shares.
            for (key, value) in [
                ("mem_limit", json!("0")),
                ("memswap_limit", json!("0")),
                ("mem_swappiness", json!(60)),
                ("mem_reservation", json!("0")),
                ("cpus", json!(0.0)),
                ("cpu_shares", json!(1024)),
            ] {
                service.insert(key.into(), value);
            }
        }
        service.insert("env_file".into(), json!([".env"]));
        if let Some(command) = self
            .health_check
            .as_ref()
            .and_then(|h| Some((h, h.command(&ports)?)))
        {
            let (health, command) = command;
            service.insert(
                "healthcheck".into(),
                json!({
                    "test": ["CMD-SHELL", command],
                    "interval": format!("{}s", health.interval),
                    "timeout": format!("{}s", health.timeout),
                    "retries": health.retries,
                    "start_period": format!("{}s", health.start_period),
                }),
            );
        }
        match kind {
            ServerKind::Standalone => {
                service.insert("labels".into(), json!(labels));
            }
            ServerKind::Swarm => {
                service.insert(
                    "deploy".into(),
                    json!({
                        "mode": "replicated",
                        "replicas": self.swarm_replicas,
                        "update_config": {"order": "start-first"},
                        "rollback_config": {"order": "start-first"},
                        "labels": labels,
                        "resources": {
                            "limits": {"cpus": "0", "memory": "0"},
                            "reservations": {"cpus": "0", "memory": "0"},
                        },
                    }),
                );
            }
        }
        if !self.file_mounts.is_empty() {
            let volumes: Vec<String> = self
                .file_mounts
                .iter()
                .map(|(on_server, in_container)| format!("{on_server}:{in_container}"))
                .collect();
            service.insert("volumes".into(), json!(volumes));
        }
        json!({
            "services": {self.container.clone(): service},
            "networks": {network: {"external": true, "name": network, "attachable": true}},
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_health_check_command_asks_the_first_port_from_inside() {
        let health = HealthCheck::at("/v1/health");
        assert_eq!(
            health.command(&[4008, 9000]).unwrap(),
            "curl -s -X 'GET' -f 'http://localhost:4008/v1/health' > /dev/null || wget -q -O- 'http://localhost:4008/v1/health' > /dev/null || exit 1"
        );
        // A path Coolify's pattern refuses is `/`; no port at all, no command.
        let odd = HealthCheck::at("/health?x=1");
        assert!(odd
            .command(&[80])
            .unwrap()
            .contains("'http://localhost:80/'"));
        assert_eq!(HealthCheck::at("/").command(&[]), None);
        assert_eq!(shell_quoted("it's"), r"'it'\''s'");
    }

    #[test]
    fn container_names_carry_the_deploys_time() {
        // 2026-12-06 13:04:05.000123 UTC.
        let at = std::time::Duration::new(1_796_562_245, 123_456);
        assert_eq!(container_name("abc", at), "abc-130405000123");
    }

    #[test]
    fn a_standalone_deploy_in_coolifys_shape() {
        let app = Application::standalone("k4c8", &[], 4008);
        let deploy = Deploy {
            application: &app,
            container: "k4c8-130405000123".into(),
            image: "gaqno/omni:1".into(),
            aliases: vec!["omnichannel-service-1".into()],
            health_check: Some(HealthCheck::at("/v1/health")),
            custom_labels: None,
            file_mounts: vec![("/data/x/server.js".into(), "/demo/server.js".into())],
            swarm_replicas: 1,
        };
        let file = deploy.compose_file(ServerKind::Standalone);
        let service = &file["services"]["k4c8-130405000123"];
        let keys: Vec<&str> = service
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "image",
                "container_name",
                "restart",
                "expose",
                "networks",
                "mem_limit",
                "memswap_limit",
                "mem_swappiness",
                "mem_reservation",
                "cpus",
                "cpu_shares",
                "env_file",
                "healthcheck",
                "labels",
                "volumes"
            ]
        );
        assert_eq!(service["expose"], json!(["4008"]));
        assert_eq!(
            service["networks"],
            json!({"coolify": {"aliases": ["k4c8-130405000123", "omnichannel-service-1"]}})
        );
        assert_eq!(service["healthcheck"]["retries"], 10);
        assert_eq!(service["healthcheck"]["start_period"], "5s");
        assert_eq!(
            service["volumes"],
            json!(["/data/x/server.js:/demo/server.js"])
        );
        let labels = service["labels"].as_array().unwrap();
        assert!(labels.contains(&json!("coolify.applicationId=1")));
        assert_eq!(
            file["networks"],
            json!({"coolify": {"external": true, "name": "coolify", "attachable": true}})
        );
    }

    #[test]
    fn a_swarm_deploy_moves_the_labels_and_drops_the_container_settings() {
        let app = Application::standalone("k4c8", &["https://omni.example.com"], 4008);
        let deploy = Deploy {
            application: &app,
            container: "k4c8-130405000123".into(),
            image: "gaqno/omni:1".into(),
            aliases: Vec::new(),
            health_check: None,
            custom_labels: Some("traefik.enable=true\ncoolify.managed=true".into()),
            file_mounts: Vec::new(),
            swarm_replicas: 4,
        };
        let file = deploy.compose_file(ServerKind::Swarm);
        let service = &file["services"]["k4c8-130405000123"];
        for gone in [
            "container_name",
            "expose",
            "restart",
            "mem_limit",
            "cpus",
            "labels",
            "healthcheck",
        ] {
            assert!(service.get(gone).is_none(), "{gone}");
        }
        assert_eq!(service["deploy"]["replicas"], 4);
        assert_eq!(service["deploy"]["update_config"]["order"], "start-first");
        // The labels box's text, its `coolify.` lines replaced by Coolify's own.
        assert_eq!(
            service["deploy"]["labels"],
            json!(app.swarm_labels_from("traefik.enable=true"))
        );
        assert_eq!(service["deploy"]["labels"][0], "traefik.enable=true");
        assert_eq!(file["networks"]["coolify-overlay"]["attachable"], true);
    }
}
