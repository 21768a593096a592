//! The Socket.IO affinity for an application Coolify deploys with labels.
//!
//! Coolify names the routers and services of an application itself (`http-0-<uuid>`,
//! `https-0-<uuid>`, compose services add `-<name>-<hex>`: [`crate::coolify::labels`]) and
//! writes them as the containers' labels. Every replica carries the same labels, so
//! Traefik's Docker or Swarm provider merges them into one load balancer with one server per
//! container or task, and scaling needs no edit. [`add_affinity`] takes the labels Coolify
//! wrote and adds ours, changing no other line:
//! - on every service the application's routers use: the sticky cookie and health check;
//! - per router that serves the application (not a redirect): router
//!   `gaqno-<s>-socketio[-n]` for the Socket.IO path through the affinity middleware, after
//!   the router's own middlewares (so it sees bodies uncompressed and paths stripped), and
//!   router `gaqno-<s>-socketio-ws[-n]` for WebSocket-only opens without it, as the file
//!   export does; both on the router's entrypoints, TLS and service, under the router's own
//!   path (`https://host/omni` → `/omni/socket.io/`), their longer rules above it;
//! - middleware `gaqno-<s>-affinity` defined in the labels themselves, not in a dynamic
//!   file referenced as `@file`: the service then depends on nothing outside its own labels
//!   (a bad file in Coolify's dynamic folder cannot take its Socket.IO route down), and
//!   identical definitions on every replica merge into one.
//!
//! A Docker Compose service's labels (Coolify adds `traefik.docker.network` to them) differ
//! in two ways, because Coolify writes its own labels at every deploy and appends every
//! middleware the service's own labels define to its routers: only our lines are to be added
//! to the compose file, and the middleware is defined under `traefik.http.Middlewares.…`,
//! which Traefik reads (label keys match case-insensitively) and Coolify's case-sensitive
//! match does not take for one of the service's middlewares, so REST traffic stays out of
//! the plugin.
//!
//! Run again on its own output, it replaces its lines rather than adding them twice.

use std::collections::BTreeSet;

use indexmap::IndexMap;

use super::{to_labels, Label, LabelError, Labels};
use crate::export::Names;
use crate::model::{Service, Target};
use crate::traefik::{self, DynamicConfig, HttpConfig, LoadBalancer, Router};

/// The labels with the affinity added, and what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// The labels as they should be pasted back (every line).
    pub labels: Labels,
    /// Only our lines: what a compose service's `labels:` get (Coolify writes the rest).
    pub ours: Labels,
    /// Whether these are a Docker Compose service's labels.
    pub compose: bool,
    /// Lines added (new or replacing a line that said otherwise).
    pub added: Vec<String>,
    /// Lines taken out (ours from an earlier run that changed, or a sticky or health-check
    /// label of the service now written by us).
    pub removed: Vec<String>,
}

impl Added {
    /// Where these lines go in Coolify and what keeps them there, in a few sentences.
    pub fn instructions(&self) -> &'static str {
        if self.compose {
            COMPOSE_INSTRUCTIONS
        } else {
            STANDALONE_INSTRUCTIONS
        }
    }
}

/// What an operator does with a standalone application's labels (General → Container labels).
pub const STANDALONE_INSTRUCTIONS: &str = "Paste these into Configuration → General → Container labels → Active labels, with Label management set to \"Managed manually (edit labels yourself)\": under \"Managed by Coolify\" the box is read-only and every save writes it again. Managed manually, Coolify locks Ports exposes and hides Add on Domains, Gzip and Path prefixes; to change one, switch back to \"Managed by Coolify\" (which writes Coolify's labels again, without these), change it, switch to manual and run gaqno-lb labels again. On a Swarm server, also set Advanced → Container naming to \"Consistent name\": otherwise every deploy adds a second Swarm service and the old one keeps running.";

/// What an operator does with a compose service's lines.
pub const COMPOSE_INSTRUCTIONS: &str = "Add these lines to the service's labels: in the compose file. Coolify writes its own labels at every deploy and keeps these; the affinity middleware is spelled traefik.http.Middlewares so Coolify does not add it to its own routers.";

/// Adds `service`'s sticky cookie, health check and Socket.IO affinity to `labels`.
pub fn add_affinity(
    labels: &Labels,
    target: &Target,
    service: &Service,
) -> Result<Added, LabelError> {
    let read = labels.to_config()?;
    let names = Names::of(&service.name);
    let compose = labels
        .labels()
        .any(|l| l.key.eq_ignore_ascii_case("traefik.docker.network"));
    let http = read.config.http.clone().unwrap_or_default();
    // Routers of the application: Coolify's, not ours from an earlier run.
    let theirs: Vec<(&String, &Router)> = http
        .routers
        .iter()
        .filter(|(name, _)| !is_ours(&names, name))
        .collect();
    if theirs.is_empty() {
        return Err(LabelError {
            line: 0,
            message: "no `traefik.http.routers.…` labels: paste the labels Coolify shows for the application (it writes them once the application has a domain)".into(),
        });
    }
    let serving: Vec<(&String, &Router)> = theirs
        .iter()
        .copied()
        .filter(|(_, router)| !crate::lint::redirects_to_https(router, Some(&http)))
        .collect();
    if serving.is_empty() {
        return Err(LabelError {
            line: 0,
            message:
                "every router in these labels only redirects: no router serves the application"
                    .into(),
        });
    }
    let mut fragment = HttpConfig::default();
    let mut services = BTreeSet::new();
    let socket_io = service.socket_io.enabled;
    for (i, (name, router)) in serving.iter().enumerate() {
        let rule = router.rule.as_deref().unwrap_or_default();
        let Some(matched) = crate::rule::parse(rule) else {
            return Err(LabelError {
                line: labels.line_of_dotted(&format!("http.routers.{name}.rule")).unwrap_or(0),
                message: format!("router `{name}`'s rule `{rule}` is not `Host(…) && PathPrefix(…)` as Coolify writes it: gaqno-lb cannot derive the Socket.IO route from it"),
            });
        };
        let Some(service_name) = router.service.clone() else {
            return Err(no_service(labels, name, &matched, service, compose));
        };
        let suffix = if i == 0 {
            String::new()
        } else {
            format!("-{}", i + 1)
        };
        services.insert(service_name.clone());
        if !socket_io {
            continue; // a REST service: the sticky cookie and health check only
        }
        let public_path =
            socket_io_path_under(&http, name, router, &matched, service).map_err(|message| {
                LabelError {
                    line: labels
                        .line_of_dotted(&format!("http.routers.{name}.rule"))
                        .unwrap_or(0),
                    message,
                }
            })?;
        let socket_io_rule = crate::rule::build(&matched.hosts, Some(&public_path));
        let mut middlewares = router.middlewares.clone().unwrap_or_default();
        middlewares.retain(|m| m != &names.affinity);
        middlewares.push(names.affinity.clone());
        fragment.routers.insert(
            format!("{}{suffix}", names.socket_io_router),
            Router {
                entry_points: router.entry_points.clone(),
                middlewares: Some(middlewares),
                service: Some(service_name.clone()),
                rule: Some(socket_io_rule.clone()),
                tls: router.tls.clone(),
                ..Router::default()
            },
        );
        fragment.routers.insert(
            format!("{}{suffix}", names.websocket_router),
            Router {
                entry_points: router.entry_points.clone(),
                middlewares: router.middlewares.clone().filter(|m| !m.is_empty()),
                service: Some(service_name.clone()),
                rule: Some(crate::rule::websocket_only(&socket_io_rule)),
                tls: router.tls.clone(),
                ..Router::default()
            },
        );
    }
    let ours = crate::export::load_balancer(service);
    for name in &services {
        fragment.services.insert(
            name.clone(),
            traefik::Service {
                load_balancer: Some(LoadBalancer {
                    sticky: ours.sticky.clone(),
                    health_check: ours.health_check.clone(),
                    ..LoadBalancer::default()
                }),
                ..Default::default()
            },
        );
    }
    if socket_io {
        fragment.middlewares.insert(
            names.affinity.clone(),
            crate::export::affinity_middleware(target, service),
        );
    }
    let mut new_labels = to_labels(&DynamicConfig {
        http: Some(fragment),
        ..Default::default()
    });
    if compose {
        // Coolify appends every middleware a compose service's own labels define to its
        // routers, matching `traefik.http.middlewares.` case-sensitively
        // (`crate::coolify::labels::middlewares_from_labels`); Traefik reads the key
        // case-insensitively. So spelled this way the plugin stays on our routers only.
        for label in &mut new_labels {
            if let Some(rest) = label.key.strip_prefix("traefik.http.middlewares.") {
                label.key = format!("traefik.http.{COMPOSE_MIDDLEWARES_KEY}.{rest}");
            }
        }
    }

    // Lines ours replace: our objects, and the sticky cookie and health check of the
    // services we write them for.
    let replaced_prefixes: Vec<String> = services
        .iter()
        .flat_map(|s| {
            let base = format!(
                "traefik.http.services.{}.loadbalancer.",
                s.to_ascii_lowercase()
            );
            [format!("{base}sticky."), format!("{base}healthcheck.")]
        })
        .collect();
    let replaced = |label: &Label| {
        let key = label.key.to_ascii_lowercase();
        let Some(rest) = key.strip_prefix("traefik.http.") else {
            return false;
        };
        let object = rest.split('.').nth(1).unwrap_or_default();
        (rest.starts_with("routers.") || rest.starts_with("middlewares."))
            && is_ours(&names, object)
            || replaced_prefixes
                .iter()
                .any(|p| key.starts_with(p.as_str()))
    };
    let mut lines = Vec::new();
    let mut removed = Vec::new();
    let mut kept = IndexMap::new();
    for line in &labels.lines {
        match &line.label {
            Some(label) if replaced(label) => {
                kept.insert(label.key.to_ascii_lowercase(), label.value.clone());
                removed.push(line.text.clone());
            }
            _ => lines.push(line.clone()),
        }
    }
    // Drop blank lines at the end, then ours follow the application's labels.
    while lines
        .last()
        .is_some_and(|l| l.label.is_none() && l.text.trim().is_empty())
    {
        lines.pop();
    }
    let mut added = Vec::new();
    let mut ours_only = Vec::new();
    for label in new_labels {
        let text = label.render(labels.style);
        let unchanged = kept.get(&label.key.to_ascii_lowercase()) == Some(&label.value);
        if unchanged {
            removed.retain(|r| r.trim() != text.trim());
        } else {
            added.push(text.clone());
        }
        let line = super::Line {
            text,
            label: Some(label),
        };
        ours_only.push(line.clone());
        lines.push(line);
    }
    Ok(Added {
        labels: Labels {
            lines,
            style: labels.style,
        },
        ours: Labels {
            lines: ours_only,
            style: labels.style,
        },
        compose,
        added,
        removed,
    })
}

/// How [`add_affinity`] spells `middlewares` in a compose service's labels.
pub const COMPOSE_MIDDLEWARES_KEY: &str = "Middlewares";

/// A serving router without a service: Coolify knew no port for it.
fn no_service(
    labels: &Labels,
    name: &str,
    matched: &crate::rule::RouteMatch,
    service: &Service,
    compose: bool,
) -> LabelError {
    let line = labels
        .line_of_dotted(&format!("http.routers.{name}"))
        .unwrap_or(0);
    let host = matched.hosts.first().map_or("your.domain", String::as_str);
    let path = matched
        .path_prefix
        .as_deref()
        .filter(|p| *p != "/")
        .unwrap_or_default();
    let port = service.port;
    let message = if compose {
        format!("router `{name}` has no service: Coolify writes a compose service's load balancer only when its domain names the port; set the domain to `https://{host}:{port}{path}` and copy the labels again")
    } else {
        format!("router `{name}` has no service: the application exposes no port; set General → Networking → Ports exposes to {port} and copy the labels again")
    };
    LabelError { line, message }
}

/// The public path of Socket.IO under `router`. Coolify's router matches `PathPrefix(P)`
/// (`/` for a domain without a path). With *Strip prefixes* its strip-prefix middleware
/// takes `P` off before the application, which serves Socket.IO at `socket_io.path`: the
/// public path is `P` + that. Without, the application sees `P` itself, so its Socket.IO
/// path must lie under `P`. Either way the plugin, after the router's middlewares, sees
/// `socket_io.path`.
fn socket_io_path_under(
    http: &HttpConfig,
    name: &str,
    router: &Router,
    matched: &crate::rule::RouteMatch,
    service: &Service,
) -> Result<String, String> {
    let path = &service.socket_io.path;
    let prefix = match matched.path_prefix.as_deref() {
        None | Some("/") | Some("") => return Ok(path.clone()),
        Some(prefix) => prefix,
    };
    let stripped = router.middlewares.iter().flatten().any(|m| {
        http.middlewares
            .get(m)
            .and_then(|mw| mw.strip_prefix.as_ref())
            .and_then(|s| s.prefixes.as_ref())
            .is_some_and(|prefixes| prefixes.iter().any(|p| p == prefix))
    });
    if stripped {
        return Ok(format!("{}{path}", prefix.trim_end_matches('/')));
    }
    let under = prefix.trim_end_matches('/');
    if path.starts_with(&format!("{under}/")) {
        Ok(path.clone())
    } else {
        Err(format!("router `{name}` serves `{prefix}` and keeps the prefix (Path prefixes: Keep paths as-is), so the application sees `{prefix}…`, but the service's Socket.IO path is `{path}`: set it to `{under}{path}` (the application's Socket.IO `path` option too), or strip the prefix"))
    }
}

/// The labels Coolify writes for a standalone application serving `service` on its hosts,
/// path and port, with Coolify's defaults ([`crate::coolify::Application::active_labels`]),
/// and the service's name where Coolify puts the application's id (`https-0-<name>`). What
/// the editor draws a Docker-replica service from, the operator's real labels being
/// unknown to it: the same shape, so the same labels of ours.
pub fn generated_labels(service: &Service) -> String {
    let path = service.path_prefix.as_deref().unwrap_or_default();
    let domains: Vec<String> = service
        .hosts
        .iter()
        .map(|h| format!("https://{h}{path}"))
        .collect();
    let domains: Vec<&str> = domains.iter().map(String::as_str).collect();
    crate::coolify::Application::standalone(&service.name, &domains, service.port).active_labels()
}

/// Whether `name` is one of the objects [`add_affinity`] writes for this service.
fn is_ours(names: &Names, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let is = |base: &str| {
        let base = base.to_ascii_lowercase();
        name == base
            || name
                .strip_prefix(&format!("{base}-"))
                .is_some_and(|n| n.parse::<u32>().is_ok())
    };
    is(&names.socket_io_router)
        || is(&names.websocket_router)
        || name == names.affinity.to_ascii_lowercase()
}
