//! The GAQNO service model: what an operator edits. It never serializes as Traefik YAML
//! (`crate::export` converts it); it serializes as gaqno-lb's own project file.
//!
//! Edit operations are methods here, so the web app and the CLI share them.

mod preset;
mod version;

use serde::{Deserialize, Serialize};

pub use self::preset::gaqno_preset;
pub use self::version::TraefikVersion;
use crate::traefik::GoDuration;

/// A set of services behind one Traefik, and how that Traefik is set up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Project {
    /// Facts about the Traefik the YAML is for.
    pub target: Target,
    /// The services, in the order the operator keeps them.
    #[serde(default)]
    pub services: Vec<Service>,
}

/// The Traefik instance the exported YAML is loaded into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Target {
    /// Traefik version (Coolify ships 3.6).
    pub traefik_version: TraefikVersion,
    /// Plain-HTTP entrypoint (Coolify: `http`, Dokploy: `web`).
    pub http_entry_point: String,
    /// TLS entrypoint (Coolify: `https`, Dokploy: `websecure`).
    pub https_entry_point: String,
    /// ACME certificate resolver (Coolify: `letsencrypt`); none = Traefik's default cert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_resolver: Option<String>,
    /// Name of the affinity plugin as declared in Traefik's static config
    /// (`--experimental.localPlugins.<name>.moduleName=...`).
    pub plugin_name: String,
    /// Whether each service also gets a router on the HTTP entrypoint redirecting to HTTPS.
    #[serde(default = "yes")]
    pub redirect_http: bool,
}

fn yes() -> bool {
    true
}

impl Default for Target {
    fn default() -> Target {
        Target {
            traefik_version: TraefikVersion::V3_6,
            http_entry_point: "http".into(),
            https_entry_point: "https".into(),
            cert_resolver: Some("letsencrypt".into()),
            plugin_name: DEFAULT_PLUGIN_NAME.into(),
            redirect_http: true,
        }
    }
}

/// The plugin name the docs and the Coolify instructions use.
pub const DEFAULT_PLUGIN_NAME: &str = "gaqno-lb";
/// The health check path of every GAQNO NestJS service.
pub const GAQNO_HEALTH_PATH: &str = "/v1/health";

/// One backend service with its replicas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Service {
    /// Name, unique in the project (`omnichannel-service`).
    pub name: String,
    /// Host names the service answers on.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Path prefix the service answers under (none = every path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// Port the replicas listen on; used for new replica URLs.
    pub port: u16,
    /// One URL per replica (`http://omnichannel-service-1:4008`): each must be its own server
    /// for the sticky cookie to pick between them. Unused with `docker_replicas`.
    #[serde(default)]
    pub servers: Vec<String>,
    /// Replicas that Traefik's Docker or Swarm provider finds (Swarm tasks, a Raw Compose
    /// Deployment's replicas),
    /// instead of `servers`: they have no stable URL each, so the service's settings go into
    /// the application's labels (`crate::labels::coolify`) and the exported file leaves the
    /// service out. `None`: the replicas are `servers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_replicas: Option<DockerReplicas>,
    /// Active health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,
    /// Traefik's sticky cookie.
    pub sticky: Sticky,
    /// The affinity plugin for Socket.IO's long-polling requests.
    pub socket_io: SocketIo,
    /// Load-balancing strategy (Traefik's default: wrr).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    /// Router priority (Traefik's default: the rule's length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
}

/// Replicas found through labels: Swarm tasks or the containers of one compose service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DockerReplicas {
    /// How many run (Swarm's *Replicas*, or the compose file's `deploy.replicas`), which
    /// `check` should see.
    pub count: u32,
    /// How Coolify runs them.
    #[serde(default, skip_serializing_if = "ReplicasVia::is_swarm")]
    pub via: ReplicasVia,
}

impl DockerReplicas {
    /// `count` replicas run `via`.
    pub fn new(count: u32, via: ReplicasVia) -> DockerReplicas {
        DockerReplicas { count, via }
    }
}

/// How Coolify runs replicas that Traefik finds through their labels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReplicasVia {
    /// Swarm tasks of a standalone-built application (one host or many): its labels.
    #[default]
    Swarm,
    /// A Raw Compose Deployment on one server: the file `gaqno-lb compose` writes.
    Compose,
}

impl ReplicasVia {
    fn is_swarm(&self) -> bool {
        *self == ReplicasVia::Swarm
    }
}

/// An active health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HealthCheck {
    /// Path probed on every replica.
    pub path: String,
    /// Time between probes (Traefik's default: 30s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<GoDuration>,
    /// Probe timeout (Traefik's default: 5s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
}

impl HealthCheck {
    /// GAQNO's check: `GET /v1/health` every 10 s, 3 s timeout.
    pub fn gaqno() -> HealthCheck {
        HealthCheck {
            path: GAQNO_HEALTH_PATH.into(),
            interval: Some(GoDuration::new("10s")),
            timeout: Some(GoDuration::new("3s")),
        }
    }
}

/// Traefik's sticky cookie for a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Sticky {
    /// Whether the service is sticky; the other fields are kept while it is off.
    pub enabled: bool,
    /// Cookie name; also the affinity plugin's `cookieName`.
    pub name: String,
    /// `Secure` attribute.
    #[serde(default)]
    pub secure: bool,
    /// `HttpOnly` attribute.
    #[serde(default)]
    pub http_only: bool,
    /// `SameSite` attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_site: Option<SameSite>,
    /// Lifetime in seconds (none = a session cookie).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
}

impl Sticky {
    /// The sticky cookie a new service starts with: on, `Secure`, `HttpOnly`.
    pub fn for_service(service_name: &str, enabled: bool) -> Sticky {
        Sticky {
            enabled,
            name: default_cookie_name(service_name),
            secure: true,
            http_only: true,
            same_site: None,
            max_age: None,
        }
    }
}

/// `gaqno_<service>` with characters a cookie name may not hold replaced by `_`.
pub fn default_cookie_name(service_name: &str) -> String {
    let body: String = service_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("gaqno_{body}")
}

/// `SameSite` values Traefik accepts (case-sensitive in 3.6.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SameSite {
    /// `none` (requires `Secure`).
    None,
    /// `lax`.
    Lax,
    /// `strict`.
    Strict,
}

impl SameSite {
    /// The value as Traefik spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::None => "none",
            SameSite::Lax => "lax",
            SameSite::Strict => "strict",
        }
    }

    /// Parses Traefik's spelling.
    pub fn parse(text: &str) -> Option<SameSite> {
        [SameSite::None, SameSite::Lax, SameSite::Strict]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// The affinity plugin on a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SocketIo {
    /// Whether Socket.IO requests go through the affinity plugin.
    pub enabled: bool,
    /// The Socket.IO path (`/socket.io/`).
    pub path: String,
    /// Secret signing the sid tokens (16+ bytes): without it a client can pick its replica
    /// by writing a token by hand; with it a forged token is stripped and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl SocketIo {
    /// Affinity on or off at the default path.
    pub fn at_default_path(enabled: bool) -> SocketIo {
        SocketIo {
            enabled,
            path: crate::plugin_config::DEFAULT_SOCKET_IO_PATH.into(),
            secret: None,
        }
    }
}

/// `loadBalancer.strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Weighted round robin (Traefik's default).
    Wrr,
    /// Power of two choices (3.4+).
    P2c,
    /// Highest random weight on the client IP (3.6+); ignores sticky cookies.
    Hrw,
    /// Least response time (3.6+).
    #[serde(rename = "leasttime")]
    LeastTime,
}

impl Strategy {
    /// Every strategy, in Traefik's documentation order.
    pub const ALL: [Strategy; 4] = [
        Strategy::Wrr,
        Strategy::P2c,
        Strategy::Hrw,
        Strategy::LeastTime,
    ];

    /// The value as Traefik spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Wrr => "wrr",
            Strategy::P2c => "p2c",
            Strategy::Hrw => "hrw",
            Strategy::LeastTime => "leasttime",
        }
    }

    /// Parses Traefik's spelling.
    pub fn parse(text: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The first Traefik 3.x minor version that knows this strategy.
    pub fn since(self) -> TraefikVersion {
        match self {
            Strategy::Wrr => TraefikVersion::V3_0,
            Strategy::P2c => TraefikVersion::new(4),
            Strategy::Hrw | Strategy::LeastTime => TraefikVersion::V3_6,
        }
    }
}

impl Service {
    /// A service with GAQNO's defaults: `<name>.gaqno.com.br`, `replicas` servers named
    /// `http://<name>-<n>:<port>`, the GAQNO health check, sticky cookie on.
    pub fn new(name: &str, port: u16, replicas: usize) -> Service {
        let mut service = Service {
            name: name.to_owned(),
            hosts: vec![format!("{name}.gaqno.com.br")],
            path_prefix: None,
            port,
            servers: Vec::new(),
            docker_replicas: None,
            health_check: Some(HealthCheck::gaqno()),
            sticky: Sticky::for_service(name, true),
            socket_io: SocketIo::at_default_path(false),
            strategy: None,
            priority: None,
        };
        for _ in 0..replicas {
            service.add_replica();
        }
        service
    }

    /// Adds a replica `http://<name>-<n>:<port>` with the first `n` not yet used; returns its URL.
    pub fn add_replica(&mut self) -> String {
        let url = (1..)
            .map(|n| format!("http://{}-{n}:{}", self.name, self.port))
            .find(|url| !self.servers.contains(url))
            .unwrap_or_default();
        self.servers.push(url.clone());
        url
    }

    /// Path a on Coolify: the service as `count` Coolify applications of one repository on
    /// one server, each with the network alias `<prefix>-<n>` (Configuration → General →
    /// Network aliases), which Traefik reaches on the `coolify` network. Sets the servers to
    /// `http://<prefix>-1:<port>` … `http://<prefix>-<count>:<port>`; replicas from labels
    /// are turned off.
    pub fn set_alias_replicas(&mut self, prefix: &str, count: u32) {
        self.docker_replicas = None;
        self.servers = (1..=count)
            .map(|n| format!("http://{prefix}-{n}:{}", self.port))
            .collect();
    }

    /// `(prefix, count)` when the servers are exactly what [`Service::set_alias_replicas`]
    /// writes: `http://<prefix>-1:<port>` … in order, on the service's port.
    pub fn alias_replicas(&self) -> Option<(String, u32)> {
        let first = self.servers.first()?;
        let host = first
            .strip_prefix("http://")?
            .strip_suffix(&format!(":{}", self.port))?;
        let prefix = host.strip_suffix("-1")?;
        if prefix.is_empty() {
            return None;
        }
        let count = u32::try_from(self.servers.len()).ok()?;
        let mut expected = self.clone();
        expected.set_alias_replicas(prefix, count);
        (expected.servers == self.servers && self.docker_replicas.is_none())
            .then(|| (prefix.to_owned(), count))
    }

    /// Removes the replica at `index`, if there is one.
    pub fn remove_replica(&mut self, index: usize) -> Option<String> {
        (index < self.servers.len()).then(|| self.servers.remove(index))
    }

    /// Turns Socket.IO affinity on or off. Turning it on also turns the sticky cookie on:
    /// the plugin steers requests through that cookie and does nothing without it.
    pub fn set_socket_io(&mut self, enabled: bool) {
        self.socket_io.enabled = enabled;
        if enabled {
            self.sticky.enabled = true;
        }
    }
}

impl Project {
    /// The GAQNO preset (see [`gaqno_preset`]).
    pub fn gaqno() -> Project {
        gaqno_preset()
    }

    /// The service called `name`.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// A name not used by any service yet, built from `base`.
    pub fn unused_name(&self, base: &str) -> String {
        std::iter::once(base.to_owned())
            .chain((2..).map(|n| format!("{base}-{n}")))
            .find(|name| self.service(name).is_none())
            .unwrap_or_default()
    }

    /// Appends a new service with GAQNO defaults and 2 replicas; returns its index.
    pub fn add_service(&mut self) -> usize {
        let name = self.unused_name("new-service");
        self.services.push(Service::new(&name, 3000, 2));
        self.services.len() - 1
    }

    /// Copies the service at `index` under a fresh name, right after it; returns the copy's index.
    pub fn duplicate_service(&mut self, index: usize) -> Option<usize> {
        let original = self.services.get(index)?;
        let mut copy = original.clone();
        let name = self.unused_name(&format!("{}-copy", original.name));
        copy.rename(&name);
        self.services.insert(index + 1, copy);
        Some(index + 1)
    }

    /// Removes the service at `index`.
    pub fn remove_service(&mut self, index: usize) -> Option<Service> {
        (index < self.services.len()).then(|| self.services.remove(index))
    }

    /// Merges `imported` by service name: a service of the same name is replaced in its
    /// place, a new one is appended; every other service and the target stay. Returns the
    /// replaced and the added names, in `imported`'s order.
    pub fn merge_services(&mut self, imported: Vec<Service>) -> (Vec<String>, Vec<String>) {
        let (mut replaced, mut added) = (Vec::new(), Vec::new());
        for service in imported {
            match self.services.iter_mut().find(|s| s.name == service.name) {
                Some(old) => {
                    replaced.push(service.name.clone());
                    *old = service;
                }
                None => {
                    added.push(service.name.clone());
                    self.services.push(service);
                }
            }
        }
        (replaced, added)
    }

    /// Moves the service at `from` to position `to`.
    pub fn move_service(&mut self, from: usize, to: usize) -> bool {
        if from >= self.services.len() || to >= self.services.len() {
            return false;
        }
        let service = self.services.remove(from);
        self.services.insert(to, service);
        true
    }
}

impl Service {
    /// Renames the service; a cookie name that was the default follows the new name.
    pub fn rename(&mut self, new_name: &str) {
        if self.sticky.name == default_cookie_name(&self.name) {
            self.sticky.name = default_cookie_name(new_name);
        }
        self.name = new_name.to_owned();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn merging_replaces_by_name_in_place_and_appends_the_rest() {
        let mut project = super::Project::gaqno();
        let mut changed = project.services[1].clone();
        changed.port = 1234;
        let fresh = super::Service::new("billing", 3000, 2);
        let (replaced, added) = project.merge_services(vec![changed.clone(), fresh.clone()]);
        assert_eq!(replaced, [changed.name.clone()]);
        assert_eq!(added, ["billing"]);
        assert_eq!(project.services.len(), 6);
        assert_eq!(project.services[1], changed, "replaced in its place");
        assert_eq!(project.services[5], fresh, "added at the end");
        let preset = super::Project::gaqno();
        assert_eq!(project.services[0], preset.services[0]);
        assert_eq!(project.target, preset.target);
    }

    #[test]
    fn alias_replicas_are_servers_named_by_prefix_and_number() {
        let mut service = super::Service::new("omnichannel-service", 4008, 2);
        assert_eq!(
            service.alias_replicas(),
            Some(("omnichannel-service".to_owned(), 2)),
            "the preset's servers already follow Coolify's aliases"
        );
        service.set_alias_replicas("omni", 3);
        assert_eq!(
            service.servers,
            [
                "http://omni-1:4008",
                "http://omni-2:4008",
                "http://omni-3:4008"
            ]
        );
        assert_eq!(service.alias_replicas(), Some(("omni".to_owned(), 3)));
        service.servers.swap(0, 1);
        assert_eq!(service.alias_replicas(), None, "out of order");
        service.servers = vec!["http://10.0.0.5:4008".into()];
        assert_eq!(service.alias_replicas(), None);
    }

    use super::*;

    #[test]
    fn replicas_get_the_first_free_number() {
        let mut service = Service::new("api", 3000, 2);
        assert_eq!(service.servers, ["http://api-1:3000", "http://api-2:3000"]);
        service.remove_replica(0);
        assert_eq!(service.add_replica(), "http://api-1:3000");
        assert_eq!(service.remove_replica(9), None);
    }

    #[test]
    fn socket_io_affinity_turns_sticky_on() {
        let mut service = Service::new("chat", 4008, 2);
        service.sticky.enabled = false;
        service.set_socket_io(true);
        assert!(service.sticky.enabled && service.socket_io.enabled);
        service.set_socket_io(false);
        assert!(service.sticky.enabled && !service.socket_io.enabled);
    }

    #[test]
    fn duplicate_move_remove() {
        let mut project = Project::default();
        project.add_service();
        let copy = project.duplicate_service(0).unwrap();
        assert_eq!(project.services[copy].name, "new-service-copy");
        assert_eq!(project.services[copy].sticky.name, "gaqno_new_service_copy");
        assert!(project.move_service(1, 0));
        assert_eq!(project.services[0].name, "new-service-copy");
        assert!(!project.move_service(0, 5));
        assert_eq!(
            project.remove_service(0).map(|s| s.name),
            Some("new-service-copy".into())
        );
        assert_eq!(project.unused_name("new-service"), "new-service-2");
    }

    #[test]
    fn cookie_names_are_cookie_tokens() {
        assert_eq!(
            default_cookie_name("omnichannel-service"),
            "gaqno_omnichannel_service"
        );
        assert!(crate::plugin_config::check_cookie_name(&default_cookie_name("a b/é")).is_ok());
    }
}
