//! The labels Coolify writes for an application, from `bootstrap/helpers/docker.php`
//! (`fqdnLabelsForTraefik`, `fqdnLabelsForCaddy`, `defaultLabels`,
//! `generateLabelsApplication`, `traefikSafeServiceNameSegment`),
//! `bootstrap/helpers/parsers.php` (`applicationParser`, `addTraefikDockerNetworkLabel`) and
//! `app/Jobs/ApplicationDeploymentJob.php` (`generate_compose_file`).
//!
//! What they say, in short:
//! - per domain `i` and scheme, one router and one service of the same name, `http-<i>-<uuid>`
//!   and `https-<i>-<uuid>`; a Docker Compose service appends `-<name>-<md5(name)[..4]>`;
//! - the service and its port label only when the port is known: a standalone application's
//!   first exposed port, or the domain's own (`https://host:4008`) — a compose service has
//!   only the latter;
//! - HTTPS routers get TLS with the `letsencrypt` resolver and `gzip`; with *Redirect HTTP to
//!   HTTPS* the HTTP router only redirects; a domain with a path gets a strip-prefix
//!   middleware (if *Strip prefixes*) before `gzip`;
//! - a compose service's own `traefik.http.middlewares.<name>.…` labels put `<name>` on
//!   every router Coolify writes for it (the regex is case-sensitive: see
//!   [`middlewares_from_labels`]);
//! - the list is sorted bytewise, then Caddy's labels (Coolify writes both unless the server
//!   is set to generate labels for its proxy only).
//!
//! Not ported (GAQNO's services use none of them; the functions here behave as if off): HTTP
//! basic auth, `noindex` domains, www / non-www redirects, the `ghost` image's rewrite, pull
//! request previews.

use super::{CERT_RESOLVER, COOLIFY_VERSION, STANDALONE_NETWORK, SWARM_NETWORK};

/// A domain as Coolify reads one with `Spatie\Url\Url::fromString` (PHP's `parse_url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// `http` or `https` (lowercased).
    pub scheme: String,
    /// The host.
    pub host: String,
    /// The port written in the domain, if any.
    pub port: Option<u16>,
    /// The path, `/` when none.
    pub path: String,
}

impl Domain {
    /// Reads `https://host[:port][/path]`; `None` where Coolify's parse throws (another
    /// scheme, no host), and Coolify then skips the domain.
    pub fn parse(text: &str) -> Option<Domain> {
        let (scheme, rest) = text.trim().split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.is_empty() => (host, Some(port.parse::<u16>().ok()?)),
            Some((host, _)) => (host, None),
            None => (authority, None),
        };
        if host.is_empty() {
            return None;
        }
        let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
        let path = &tail[..path_end];
        Some(Domain {
            scheme,
            host: host.to_owned(),
            port,
            path: if path.is_empty() { "/" } else { path }.to_owned(),
        })
    }
}

/// How an application is built: it decides where its labels come from and go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildPack {
    /// Nixpacks, Dockerfile, Docker image, static: one container whose labels are the
    /// *Active labels* box (General → Container labels).
    Standalone {
        /// General → Networking → *Ports exposes*; the first is the proxy's port.
        ports_exposes: Vec<u16>,
    },
    /// Docker Compose: each service's labels are written at deploy from its domain.
    Compose,
}

/// An application as the parts of Coolify's settings that shape its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// Its database id (`coolify.applicationId`).
    pub id: u64,
    /// Its 24-character public id, in every router and service name.
    pub uuid: String,
    /// Its name.
    pub name: String,
    /// Its project's name.
    pub project: String,
    /// Its environment's name.
    pub environment: String,
    /// The build pack.
    pub build_pack: BuildPack,
    /// Domains (comma-separated in Coolify's field), each `scheme://host[:port][/path]`.
    pub domains: Vec<String>,
    /// Domains → *Redirect HTTP to HTTPS* (on by default).
    pub force_https: bool,
    /// Advanced → Proxy → *Gzip compression* (on by default).
    pub gzip: bool,
    /// Advanced → Proxy → *Path prefixes*: *Strip prefixes* (on by default).
    pub strip_prefix: bool,
}

impl Application {
    /// A standalone application with Coolify's defaults serving `domains` on `port`.
    pub fn standalone(uuid: &str, domains: &[&str], port: u16) -> Application {
        Application {
            id: 1,
            uuid: uuid.to_owned(),
            name: "application".into(),
            project: "project".into(),
            environment: "production".into(),
            build_pack: BuildPack::Standalone {
                ports_exposes: vec![port],
            },
            domains: domains.iter().map(|d| (*d).to_owned()).collect(),
            force_https: true,
            gzip: true,
            strip_prefix: true,
        }
    }

    /// A Docker Compose application with Coolify's defaults; `domains` are its service's.
    pub fn compose(uuid: &str, domains: &[&str]) -> Application {
        Application {
            build_pack: BuildPack::Compose,
            ..Application::standalone(uuid, domains, 0)
        }
    }

    fn only_port(&self) -> Option<u16> {
        match &self.build_pack {
            BuildPack::Standalone { ports_exposes } => ports_exposes.first().copied(),
            BuildPack::Compose => None,
        }
    }

    /// The *Active labels* box of a standalone application under "Managed by Coolify"
    /// (`generateLabelsApplication`, joined with newlines by `General::resetDefaultLabels`):
    /// Traefik's labels, then Caddy's. Deploying adds `coolify.*` labels to these.
    pub fn active_labels(&self) -> String {
        self.active_labels_on(STANDALONE_NETWORK)
    }

    /// [`Application::active_labels`] on a server whose destination network is `network`
    /// (`$application->destination->network`, which Caddy's labels name): `coolify` on a
    /// standalone server, `coolify-overlay` on a Swarm server.
    pub fn active_labels_on(&self, network: &str) -> String {
        let mut labels = traefik_labels(&self.uuid, &self.domains, &self.settings(None, &[]));
        labels.extend(caddy_labels(
            network,
            &self.uuid,
            &self.domains,
            self.only_port(),
            self.gzip,
            self.strip_prefix,
            self.force_https,
            false,
        ));
        labels.join("\n")
    }

    /// The labels of one service of a Docker Compose application as Coolify deploys it
    /// (`applicationParser`): the service's `own` labels, `coolify.*`, the network label,
    /// then the domain's labels (every `own` middleware added to Coolify's routers).
    pub fn compose_labels(&self, service: &str, own: &[String]) -> Vec<String> {
        let container = format!("{service}-{}", self.uuid);
        let mut labels: Vec<String> = own.to_vec();
        labels.extend(default_labels(
            self.id,
            &container,
            &self.project,
            &self.name,
            &self.environment,
        ));
        labels = labels.iter().map(|l| l.replace('$', "$$")).collect();
        // addTraefikDockerNetworkLabel: the application's own network, unless set.
        if !labels
            .iter()
            .any(|l| l.split('=').next() == Some("traefik.docker.network"))
        {
            labels.push(format!("traefik.docker.network={}", self.uuid));
        }
        if self.domains.is_empty() {
            return labels;
        }
        let from_labels = middlewares_from_labels(&labels);
        let settings = self.settings(Some(service), &from_labels);
        labels.extend(traefik_labels(&self.uuid, &self.domains, &settings));
        labels.extend(caddy_labels(
            &self.uuid,
            &self.uuid,
            &self.domains,
            None,
            self.gzip,
            self.strip_prefix,
            self.force_https,
            true,
        ));
        labels
    }

    /// The `deploy.labels` of a standalone application on a Swarm server
    /// (`generate_compose_file`): the active labels without `coolify.` lines, `$` escaped,
    /// then `coolify.*`.
    pub fn swarm_labels(&self) -> Vec<String> {
        self.deploy_labels(SWARM_NETWORK)
    }

    /// The labels `generate_compose_file` gives the container (a standalone server) or the
    /// service's `deploy.labels` (a Swarm server) whose destination network is `network`:
    /// the active labels without `coolify.` lines, `$` escaped, then `coolify.*`.
    pub fn deploy_labels(&self, network: &str) -> Vec<String> {
        self.swarm_labels_from(&self.active_labels_on(network))
    }

    /// The `deploy.labels` of a standalone application on a Swarm server whose labels are
    /// `custom` (Label management: "Managed manually", the text in the labels box).
    pub fn swarm_labels_from(&self, custom: &str) -> Vec<String> {
        let mut labels: Vec<String> = custom
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter(|l| !l.starts_with("coolify."))
            .map(|l| l.replace('$', "$$"))
            .collect();
        labels.extend(default_labels(
            self.id,
            &self.uuid,
            &self.project,
            &self.name,
            &self.environment,
        ));
        labels
    }

    fn settings(&self, service: Option<&str>, from_labels: &[String]) -> TraefikSettings {
        TraefikSettings {
            only_port: self.only_port(),
            force_https: self.force_https,
            gzip: self.gzip,
            strip_prefix: self.strip_prefix,
            service_name: service.map(safe_service_name_segment),
            middlewares_from_labels: from_labels.to_vec(),
        }
    }
}

/// The arguments of `fqdnLabelsForTraefik` that gaqno-lb's cases use.
struct TraefikSettings {
    only_port: Option<u16>,
    force_https: bool,
    gzip: bool,
    strip_prefix: bool,
    /// A compose service's name segment (`traefikSafeServiceNameSegment`).
    service_name: Option<String>,
    middlewares_from_labels: Vec<String>,
}

/// `fqdnLabelsForTraefik`.
fn traefik_labels(uuid: &str, domains: &[String], s: &TraefikSettings) -> Vec<String> {
    let mut labels = vec!["traefik.enable=true".to_owned()];
    if s.gzip {
        labels.push("traefik.http.middlewares.gzip.compress=true".into());
    }
    labels.push("traefik.http.middlewares.redirect-to-https.redirectscheme.scheme=https".into());
    for (i, text) in domains.iter().enumerate() {
        let Some(domain) = Domain::parse(text) else {
            continue; // Coolify's try/catch skips it, keeping the index
        };
        let suffix = s
            .service_name
            .as_ref()
            .map(|n| format!("-{n}"))
            .unwrap_or_default();
        let (http, https) = (
            format!("http-{i}-{uuid}{suffix}"),
            format!("https-{i}-{uuid}{suffix}"),
        );
        let Domain {
            scheme, host, path, ..
        } = &domain;
        let port = domain.port.or(s.only_port);
        let rule = format!("Host(`{host}`) && PathPrefix(`{path}`)");
        // The serving router's middlewares (HTTPS, or HTTP when there is no HTTPS).
        let serving = if scheme == "https" { &https } else { &http };
        let mut middlewares = Vec::new();
        if path != "/" && s.strip_prefix {
            labels.push(format!(
                "traefik.http.middlewares.{serving}-stripprefix.stripprefix.prefixes={path}"
            ));
            middlewares.push(format!("{serving}-stripprefix"));
        }
        if s.gzip {
            middlewares.push("gzip".to_owned());
        }
        middlewares.extend(s.middlewares_from_labels.iter().cloned());
        if scheme == "https" {
            labels.push(format!("traefik.http.routers.{https}.rule={rule}"));
            labels.push(format!("traefik.http.routers.{https}.entryPoints=https"));
            if let Some(port) = port {
                labels.push(format!("traefik.http.routers.{https}.service={https}"));
                labels.push(format!(
                    "traefik.http.services.{https}.loadbalancer.server.port={port}"
                ));
            }
            if !middlewares.is_empty() {
                labels.push(format!(
                    "traefik.http.routers.{https}.middlewares={}",
                    middlewares.join(",")
                ));
            }
            labels.push(format!("traefik.http.routers.{https}.tls=true"));
            labels.push(format!(
                "traefik.http.routers.{https}.tls.certresolver={CERT_RESOLVER}"
            ));
            labels.push(format!("traefik.http.routers.{http}.rule={rule}"));
            labels.push(format!("traefik.http.routers.{http}.entryPoints=http"));
            if let Some(port) = port {
                labels.push(format!(
                    "traefik.http.services.{http}.loadbalancer.server.port={port}"
                ));
                labels.push(format!("traefik.http.routers.{http}.service={http}"));
            }
            let http_middlewares = if s.force_https {
                vec!["redirect-to-https".to_owned()]
            } else {
                middlewares
            };
            if !http_middlewares.is_empty() {
                labels.push(format!(
                    "traefik.http.routers.{http}.middlewares={}",
                    http_middlewares.join(",")
                ));
            }
        } else {
            labels.push(format!("traefik.http.routers.{http}.rule={rule}"));
            labels.push(format!("traefik.http.routers.{http}.entryPoints=http"));
            if let Some(port) = port {
                labels.push(format!(
                    "traefik.http.services.{http}.loadbalancer.server.port={port}"
                ));
                labels.push(format!("traefik.http.routers.{http}.service={http}"));
            }
            if !middlewares.is_empty() {
                labels.push(format!(
                    "traefik.http.routers.{http}.middlewares={}",
                    middlewares.join(",")
                ));
            }
        }
    }
    // `$labels->sort()`: PHP compares non-numeric strings bytewise.
    labels.sort();
    labels
}

/// `fqdnLabelsForCaddy`, for the same cases.
#[allow(clippy::too_many_arguments)]
fn caddy_labels(
    network: &str,
    uuid: &str,
    domains: &[String],
    only_port: Option<u16>,
    gzip: bool,
    strip_prefix: bool,
    force_https: bool,
    with_service_labels: bool,
) -> Vec<String> {
    let mut labels = vec![format!(
        "caddy_ingress_network={}",
        if with_service_labels { uuid } else { network }
    )];
    let handle = if strip_prefix {
        "handle_path"
    } else {
        "handle"
    };
    for (i, text) in domains.iter().enumerate() {
        let Some(domain) = Domain::parse(text) else {
            continue;
        };
        let Domain {
            scheme, host, path, ..
        } = &domain;
        let site = if scheme == "https" && !force_https {
            format!("http://{host}, https://{host}")
        } else {
            format!("{scheme}://{host}")
        };
        labels.push(format!("caddy_{i}={site}"));
        labels.push(format!("caddy_{i}.header=-Server"));
        labels.push(format!(
            "caddy_{i}.try_files={{path}} /index.html /index.php"
        ));
        match domain.port.or(only_port) {
            Some(port) => labels.push(format!(
                "caddy_{i}.{handle}.{i}_reverse_proxy={{{{upstreams {port}}}}}"
            )),
            None => labels.push(format!(
                "caddy_{i}.{handle}.{i}_reverse_proxy={{{{upstreams}}}}"
            )),
        }
        labels.push(format!("caddy_{i}.{handle}={path}*"));
        if gzip {
            labels.push(format!("caddy_{i}.encode=zstd gzip"));
        }
    }
    labels.sort();
    labels
}

/// `defaultLabels` for an application (`pull_request_id` 0).
fn default_labels(
    id: u64,
    name: &str,
    project: &str,
    resource: &str,
    environment: &str,
) -> Vec<String> {
    vec![
        "coolify.managed=true".into(),
        format!("coolify.version={COOLIFY_VERSION}"),
        format!("coolify.applicationId={id}"),
        "coolify.type=application".into(),
        format!("coolify.name={}", slug(name)),
        format!("coolify.resourceName={}", slug(resource)),
        format!("coolify.projectName={}", slug(project)),
        format!("coolify.serviceName={}", slug(resource)),
        format!("coolify.environmentName={}", slug(environment)),
        "coolify.pullRequestId=0".into(),
    ]
}

/// The middleware names Coolify adds to a compose service's routers: every
/// `traefik.http.middlewares.<name>.` label of the service (and `coolify.traefik.middlewares=`
/// lists), by the regex `/traefik\.http\.middlewares\.(.*?)(\.|$)/` over `key=value`. It is
/// case-sensitive where Traefik's label keys are not: `traefik.http.Middlewares.<name>.…`
/// defines the same middleware for Traefik and is not added.
pub fn middlewares_from_labels(labels: &[String]) -> Vec<String> {
    const NEEDLE: &str = "traefik.http.middlewares.";
    let mut names: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !name.is_empty() && !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    };
    for label in labels {
        if let Some(at) = label.find(NEEDLE) {
            let rest = &label[at + NEEDLE.len()..];
            add(rest.split('.').next().unwrap_or_default());
        } else if let Some(at) = label.find("coolify.traefik.middlewares=") {
            let list = &label[at + "coolify.traefik.middlewares=".len()..];
            list.split(',').for_each(&mut add);
        }
    }
    names
}

/// `traefikSafeServiceNameSegment`: a compose service's name made label-safe, with the first
/// 4 hex digits of its md5 so `api.test` and `api-test` stay apart.
pub fn safe_service_name_segment(name: &str) -> String {
    let mut normalized = String::new();
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '-' {
            c
        } else {
            '-'
        };
        if !(c == '-' && normalized.ends_with('-')) {
            normalized.push(c);
        }
    }
    let normalized = normalized.trim_matches('-');
    let normalized = if normalized.is_empty() {
        "service"
    } else {
        normalized
    };
    let digest = md5_hex(name);
    format!("{normalized}-{}", &digest[..4])
}

fn md5_hex(text: &str) -> String {
    use md5::Digest;
    md5::Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Laravel's `Str::slug` for the names Coolify puts in `coolify.*` labels.
fn slug(title: &str) -> String {
    let lowered = title.to_lowercase().replace('_', "-").replace('@', "-at-");
    let kept: String = lowered
        .chars()
        .filter(|c| *c == '-' || c.is_alphanumeric() || c.is_whitespace())
        .collect();
    let mut out = String::new();
    for c in kept.chars() {
        let c = if c.is_whitespace() { '-' } else { c };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests;
