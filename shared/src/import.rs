//! Traefik dynamic configuration → project, best effort: everything that has no place in
//! the GAQNO model is reported by its key path, never dropped silently.
//!
//! On [`crate::export`]'s output, export ∘ import ∘ export = export (a file does not carry
//! everything: see [`import_onto`]). Hand-written files are read as well as possible: the
//! lint fixes that carry the file's intent are applied first (the GAQNO runbook's
//! `stickyCookie` middleware becomes the service's sticky cookie; a key Traefik reads under
//! another spelling is renamed) and reported; then a `loadBalancer` service becomes a GAQNO
//! service, its routers give hosts, path prefix, priority, entrypoints and TLS, an affinity
//! plugin middleware turns on Socket.IO.

use std::collections::HashSet;

use crate::error::Error;
use crate::export::NAME_PREFIX;
use crate::model::{self, HealthCheck, Project, SameSite, Service, SocketIo, Strategy, Target};
use crate::plugin_config::PluginConfig;
use crate::traefik::{self, DynamicConfig, Extra, Middleware, Router};

/// A project read from Traefik configuration, and what did not map.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The project.
    pub project: Project,
    /// Parts of the input the project cannot hold, in input order.
    pub unmapped: Vec<Unmapped>,
    /// Lint fixes applied before importing, because they carry what the file meant:
    /// `<key path>: <what the fix did>`.
    pub fixed: Vec<String>,
}

/// The lint rules whose fixes say what a file meant rather than change it.
const INTENT_FIXES: &[&str] = &["sticky-cookie-middleware", "unknown-key"];

/// `config` with the fixes of [`INTENT_FIXES`] applied, and what they did.
fn with_intent_fixes(config: &DynamicConfig) -> (DynamicConfig, Vec<String>) {
    let mut config = config.clone();
    let mut fixed = Vec::new();
    let options = crate::lint::LintOptions::default();
    // A rename can reveal a nested key to fix: a few rounds at most.
    for _ in 0..8 {
        let found: Vec<_> = crate::lint::lint(&config, &options)
            .into_iter()
            .filter(|d| INTENT_FIXES.contains(&d.rule) && d.fix.is_some())
            .collect();
        let mut changed = false;
        for d in found {
            if crate::lint::apply_fix(&mut config, &d) {
                changed = true;
                fixed.push(format!("{}: {}", d.path, d.fix.unwrap_or_default()));
            }
        }
        if !changed {
            break;
        }
    }
    (config, fixed)
}

/// A part of the input with no place in the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmapped {
    /// Key path (`http.middlewares.gzip`).
    pub path: String,
    /// Why it did not map.
    pub reason: String,
}

impl std::fmt::Display for Unmapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// The port of a server URL, explicit or the scheme's, read without parsing the host (a
/// placeholder such as `http://<CONTAINER_1>:4008` has one too).
pub(crate) fn url_port(url: &str) -> Option<u16> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    // `[::1]` has colons but no port.
    let port = match host_port.ends_with(']') {
        true => None,
        false => host_port.rsplit_once(':').map(|(_, port)| port),
    };
    match port {
        Some(port) => port.parse().ok(),
        None => match scheme.to_ascii_lowercase().as_str() {
            "http" | "h2c" => Some(80),
            "https" => Some(443),
            _ => None,
        },
    }
}

/// Reads YAML text and imports it. Text that holds no service to import is an error (of
/// kind [`crate::error::ErrorKind::Empty`]) that says what the text looks like instead: an
/// import that finds nothing must not read as a success that empties a project.
pub fn import_yaml(text: &str) -> Result<Imported, Error> {
    let imported = import(&crate::yaml::from_str::<DynamicConfig>(text)?);
    if imported.project.services.is_empty() {
        return Err(Error::new(
            crate::error::ErrorKind::Empty,
            nothing_to_import(text, &imported.unmapped),
        ));
    }
    Ok(imported)
}

/// Why `text` gave no service, in the operator's words.
fn nothing_to_import(text: &str, unmapped: &[Unmapped]) -> String {
    const WHERE: &str =
        "a service comes from an `http.services.<name>.loadBalancer` with its servers";
    if text.trim().is_empty() {
        return format!("nothing to import: the text is empty ({WHERE})");
    }
    let top_level = |key: &str| unmapped.iter().any(|u| u.path == key);
    if top_level("services") {
        return "nothing to import: this looks like a Docker compose file (a top-level `services:`), not Traefik dynamic configuration; the compose panel, or `gaqno-lb compose`, reads compose files".to_owned();
    }
    if unmapped.is_empty() {
        return format!("nothing to import: no service found ({WHERE})");
    }
    let found: Vec<&str> = unmapped.iter().take(3).map(|u| u.path.as_str()).collect();
    let more = if unmapped.len() > found.len() {
        ", …"
    } else {
        ""
    };
    format!(
        "nothing to import: no service found, only {}{more} ({WHERE})",
        found.join(", ")
    )
}

/// Imports `config`, the export of `previous` after an edit of the configuration itself (a
/// lint fix), back onto `previous`. What a Traefik file cannot carry stays as it was: the
/// target's Traefik version and HTTP entrypoint, each service's port, and the services the
/// export leaves out (Docker replicas), in their places. The properties tested: the export
/// of the result is the export of `previous`, and those carried fields are `previous`'s.
/// Settings the file does not write (a disabled cookie's name, a disabled Socket.IO path,
/// the plugin's name with no Socket.IO service) come back as an import makes them.
pub fn import_onto(config: &DynamicConfig, previous: &Project) -> Project {
    let mut project = import(config).project;
    project.target.traefik_version = previous.target.traefik_version;
    project.target.http_entry_point = previous.target.http_entry_point.clone();
    let mut imported = std::mem::take(&mut project.services).into_iter();
    for old in &previous.services {
        if old.docker_replicas.is_some() {
            project.services.push(old.clone());
        } else if let Some(mut new) = imported.next() {
            new.port = old.port;
            project.services.push(new);
        }
    }
    project.services.extend(imported);
    project
}

/// Imports a parsed configuration.
pub fn import(config: &DynamicConfig) -> Imported {
    let (config, fixed) = with_intent_fixes(config);
    let mut imported = import_as_written(&config);
    imported.fixed = fixed;
    imported
}

/// The import itself, of a config taken as it is.
fn import_as_written(config: &DynamicConfig) -> Imported {
    let mut cx = Importer {
        unmapped: Vec::new(),
        project: Project {
            target: Target::default(),
            services: Vec::new(),
        },
    };
    cx.extra("", &config.extra);
    let Some(http) = &config.http else {
        return cx.finish();
    };
    // The servers transport the export writes is implied by the model: not a loss.
    let mut http_extra = http.extra.clone();
    if http_extra.get("serversTransports") == Some(&crate::export::node_servers_transports()) {
        http_extra.shift_remove("serversTransports");
    }
    cx.extra("http.", &http_extra);

    let affinity: Vec<(&String, String, PluginConfig)> = http
        .middlewares
        .iter()
        .filter_map(|(name, mw)| affinity_plugin(mw).map(|(plugin, config)| (name, plugin, config)))
        .collect();
    if let Some((_, plugin_name, _)) = affinity.first() {
        cx.project.target.plugin_name = plugin_name.clone();
    }
    let redirects: HashSet<&String> = http
        .middlewares
        .iter()
        .filter(|(_, mw)| is_https_redirect(mw))
        .map(|(n, _)| n)
        .collect();
    for (name, _) in &http.middlewares {
        if !redirects.contains(name) && !affinity.iter().any(|(n, _, _)| *n == name) {
            cx.note(
                format!("http.middlewares.{name}"),
                "only the affinity plugin and an HTTPS redirect map to the GAQNO model",
            );
        }
    }

    // Services first: routers attach to them.
    let mut service_keys = Vec::new();
    for (key, service) in &http.services {
        let path = format!("http.services.{key}");
        match &service.load_balancer {
            Some(lb) => {
                service_keys.push(key.as_str());
                let imported = cx.service(&path, key, lb);
                cx.project.services.push(imported);
                cx.extra(&format!("{path}."), &service.extra);
            }
            None => {
                cx.note(path, "only loadBalancer services map to a GAQNO service");
                continue;
            }
        }
        if let Some(mw) = &service.middlewares {
            if !mw.is_empty() {
                cx.note(
                    format!("http.services.{key}.middlewares"),
                    "service middlewares have no place in the GAQNO model",
                );
            }
        }
    }

    let mut seen_https_router = HashSet::new();
    let mut redirect_seen = false;
    let mut any_router = false;
    for (key, router) in &http.routers {
        let path = format!("http.routers.{key}");
        let Some(index) = router
            .service
            .as_deref()
            .map(|s| s.strip_suffix("@file").unwrap_or(s))
            .and_then(|s| service_keys.iter().position(|k| *k == s))
        else {
            cx.note(
                path,
                "its service is not a loadBalancer service in this file",
            );
            continue;
        };
        any_router = true;
        // The WebSocket-only router `export` writes beside the Socket.IO router: it follows
        // from Socket.IO affinity, so it holds nothing of its own.
        if router
            .rule
            .as_deref()
            .is_some_and(crate::rule::is_websocket_only)
            && router.middlewares.as_deref().unwrap_or_default().is_empty()
        {
            continue;
        }
        let middlewares = router.middlewares.as_deref().unwrap_or_default();
        let plugin = middlewares
            .iter()
            .find_map(|m| affinity.iter().find(|(n, _, _)| *n == m));
        let redirect = middlewares.iter().any(|m| redirects.contains(m));
        for (i, m) in middlewares.iter().enumerate() {
            let known = redirects.contains(m) || affinity.iter().any(|(n, _, _)| *n == m);
            if !known {
                cx.note(
                    format!("{path}.middlewares[{i}]"),
                    "a middleware the GAQNO model does not hold",
                );
            }
        }
        cx.router_leftovers(&path, router);
        if let Some((_, _, config)) = plugin {
            let service = &mut cx.project.services[index];
            service.socket_io = SocketIo {
                enabled: true,
                path: config.socket_io_path.clone(),
                secret: config.secret.clone(),
            };
            if !service.sticky.enabled {
                // Kept for when the operator turns stickiness on (the lint asks them to).
                service.sticky.name = config.cookie_name.clone();
            }
        } else if redirect && router.tls.is_none() {
            redirect_seen = true;
            if let Some(ep) = router.entry_points.as_ref().and_then(|e| e.first()) {
                cx.project.target.http_entry_point = ep.clone();
            }
        } else if seen_https_router.insert(index) {
            cx.main_router(&path, router, index);
        } else {
            cx.note(
                path,
                "a second router for the same service: only the first one maps",
            );
        }
    }
    cx.project.target.redirect_http = redirect_seen || !any_router;
    cx.finish()
}

/// `(plugin name, config)` when `mw` is the affinity plugin with a valid config.
pub(crate) fn affinity_plugin(mw: &Middleware) -> Option<(String, PluginConfig)> {
    let plugin = mw.plugin.as_ref()?;
    let (name, value) = plugin.iter().next()?;
    let config: PluginConfig = serde_json::from_value(value.clone()).ok()?;
    Some((name.clone(), config))
}

fn is_https_redirect(mw: &Middleware) -> bool {
    mw.redirect_scheme
        .as_ref()
        .is_some_and(|r| r.scheme.as_deref() == Some("https"))
}

struct Importer {
    project: Project,
    unmapped: Vec<Unmapped>,
}

impl Importer {
    fn finish(self) -> Imported {
        Imported {
            project: self.project,
            unmapped: self.unmapped,
            fixed: Vec::new(),
        }
    }

    fn note(&mut self, path: String, reason: &str) {
        self.unmapped.push(Unmapped {
            path,
            reason: reason.to_owned(),
        });
    }

    fn extra(&mut self, prefix: &str, extra: &Extra) {
        for key in extra.keys() {
            self.note(format!("{prefix}{key}"), "not part of the GAQNO model");
        }
    }

    fn service(&mut self, path: &str, key: &str, lb: &traefik::LoadBalancer) -> Service {
        let name = key.strip_prefix(NAME_PREFIX).unwrap_or(key).to_owned();
        let servers: Vec<String> = lb
            .servers
            .iter()
            .flatten()
            .filter_map(|s| s.url.clone())
            .collect();
        // The servers' port when they agree (placeholders such as `<IP_1>` included).
        let ports: Vec<u16> = servers.iter().filter_map(|u| url_port(u)).collect();
        let port = match ports.first() {
            Some(first) if ports.iter().all(|p| p == first) => *first,
            _ => 80,
        };
        let mut service = Service {
            name: name.clone(),
            hosts: Vec::new(),
            path_prefix: None,
            port,
            servers,
            docker_replicas: None,
            health_check: None,
            sticky: model::Sticky::for_service(&name, false),
            socket_io: SocketIo::at_default_path(false),
            strategy: None,
            priority: None,
        };
        for (i, server) in lb.servers.iter().flatten().enumerate() {
            let p = format!("{path}.loadBalancer.servers[{i}]");
            if server.url.is_none() {
                self.note(p.clone(), "a server without url");
            }
            if server.weight.is_some() {
                self.note(
                    format!("{p}.weight"),
                    "server weights are not part of the GAQNO model",
                );
            }
            if server.preserve_path.is_some() {
                self.note(format!("{p}.preservePath"), "not part of the GAQNO model");
            }
            self.extra(&format!("{p}."), &server.extra);
        }
        let lb_path = format!("{path}.loadBalancer");
        if let Some(sticky) = &lb.sticky {
            let cookie = sticky.cookie.clone().unwrap_or_default();
            service.sticky.enabled = true;
            if let Some(name) = cookie.name {
                service.sticky.name = name;
            }
            service.sticky.secure = cookie.secure.unwrap_or(false);
            service.sticky.http_only = cookie.http_only.unwrap_or(false);
            service.sticky.max_age = cookie.max_age;
            if let Some(same_site) = &cookie.same_site {
                service.sticky.same_site = SameSite::parse(same_site);
                if service.sticky.same_site.is_none() {
                    self.note(
                        format!("{lb_path}.sticky.cookie.sameSite"),
                        "not one of none, lax, strict",
                    );
                }
            }
            for (field, set) in [
                ("path", cookie.path.is_some()),
                ("domain", cookie.domain.is_some()),
            ] {
                if set {
                    self.note(
                        format!("{lb_path}.sticky.cookie.{field}"),
                        "not part of the GAQNO model",
                    );
                }
            }
            self.extra(&format!("{lb_path}.sticky.cookie."), &cookie.extra);
            self.extra(&format!("{lb_path}.sticky."), &sticky.extra);
        }
        if let Some(hc) = &lb.health_check {
            match &hc.path {
                Some(p) => {
                    service.health_check = Some(HealthCheck {
                        path: p.clone(),
                        interval: hc.interval.clone(),
                        timeout: hc.timeout.clone(),
                    })
                }
                None => self.note(
                    format!("{lb_path}.healthCheck"),
                    "a health check without path",
                ),
            }
            let ignored = traefik::HealthCheck {
                path: None,
                interval: None,
                timeout: None,
                extra: Extra::new(),
                ..hc.clone()
            };
            if ignored != traefik::HealthCheck::default() {
                self.note(
                    format!("{lb_path}.healthCheck"),
                    "only path, interval and timeout are part of the GAQNO model",
                );
            }
            self.extra(&format!("{lb_path}.healthCheck."), &hc.extra);
        }
        if let Some(strategy) = &lb.strategy {
            service.strategy = Strategy::parse(strategy);
            if service.strategy.is_none() {
                self.note(
                    format!("{lb_path}.strategy"),
                    "not a strategy Traefik knows",
                );
            }
        }
        let leftovers = [
            ("passiveHealthCheck", lb.passive_health_check.is_some()),
            ("passHostHeader", lb.pass_host_header.is_some()),
            ("responseForwarding", lb.response_forwarding.is_some()),
            (
                "serversTransport",
                lb.servers_transport
                    .as_deref()
                    .is_some_and(|t| t != crate::export::NODE_SERVERS_TRANSPORT),
            ),
        ];
        for (field, set) in leftovers {
            if set {
                self.note(format!("{lb_path}.{field}"), "not part of the GAQNO model");
            }
        }
        self.extra(&format!("{lb_path}."), &lb.extra);
        service
    }

    fn main_router(&mut self, path: &str, router: &Router, index: usize) {
        if let Some(ep) = router.entry_points.as_ref().and_then(|e| e.first()) {
            self.project.target.https_entry_point = ep.clone();
        }
        match &router.tls {
            Some(tls) => {
                self.project.target.cert_resolver = tls.cert_resolver.clone();
                if tls
                    .options
                    .as_deref()
                    .is_some_and(|o| o != crate::export::DEFAULT_TLS_OPTIONS)
                {
                    self.note(
                        format!("{path}.tls.options"),
                        "only the default TLS options map",
                    );
                }
                if tls.domains.is_some() {
                    self.note(format!("{path}.tls.domains"), "not part of the GAQNO model");
                }
            }
            None => self.note(
                path.to_owned(),
                "a router without TLS: gaqno-lb serves every service over HTTPS",
            ),
        }
        let service = &mut self.project.services[index];
        service.priority = router.priority;
        match router.rule.as_deref().map(crate::rule::parse) {
            Some(Some(m)) => {
                service.hosts = m.hosts;
                service.path_prefix = m.path_prefix;
            }
            _ => self.note(
                format!("{path}.rule"),
                "only Host(..) || Host(..) with an optional PathPrefix(..) maps to hosts and path",
            ),
        }
    }

    fn router_leftovers(&mut self, path: &str, router: &Router) {
        if router.rule_syntax.is_some() {
            self.note(format!("{path}.ruleSyntax"), "not part of the GAQNO model");
        }
        if router.observability.is_some() {
            self.note(
                format!("{path}.observability"),
                "not part of the GAQNO model",
            );
        }
        if router.entry_points.as_ref().is_some_and(|e| e.len() > 1) {
            self.note(
                format!("{path}.entryPoints"),
                "only the first entrypoint maps",
            );
        }
        self.extra(&format!("{path}."), &router.extra);
    }
}

#[cfg(test)]
mod tests;
