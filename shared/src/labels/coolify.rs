//! The Socket.IO affinity for an application whose replicas Coolify runs on one server.
//!
//! Coolify names the routers and services of an application itself (`http-0-<uuid>`,
//! `https-0-<uuid>`, compose services add `-<name>-<hex>`) and writes them as the
//! containers' labels. Every replica carries the same labels, so Traefik's Docker provider
//! merges them into one load balancer with one server per container, and scaling needs no
//! edit. [`add_affinity`] takes the labels the operator copies from Coolify and adds ours,
//! changing no other line:
//! - on every service the application's routers use: the sticky cookie and health check;
//! - per router that serves the application (not a redirect): router
//!   `gaqno-<s>-socketio[-n]` for the Socket.IO path through the affinity middleware, after
//!   the router's own middlewares (so it sees bodies uncompressed), and router
//!   `gaqno-<s>-socketio-ws[-n]` for WebSocket-only opens without it, as the file export
//!   does; both on the router's entrypoints, TLS and service, their longer rules above it;
//! - middleware `gaqno-<s>-affinity` defined in the labels themselves, not in a dynamic
//!   file referenced as `@file`: the service then depends on nothing outside its own labels
//!   (a bad file in Coolify's dynamic folder cannot take its Socket.IO route down), and
//!   identical definitions on every replica merge into one.
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
    /// The labels as they should be pasted back.
    pub labels: Labels,
    /// Lines added (new or replacing a line that said otherwise).
    pub added: Vec<String>,
    /// Lines taken out (ours from an earlier run that changed, or a sticky or health-check
    /// label of the service now written by us).
    pub removed: Vec<String>,
}

/// Adds `service`'s sticky cookie, health check and Socket.IO affinity to `labels`.
pub fn add_affinity(
    labels: &Labels,
    target: &Target,
    service: &Service,
) -> Result<Added, LabelError> {
    let read = labels.to_config()?;
    let names = Names::of(&service.name);
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
        let Some(service_name) = router.service.clone() else {
            return Err(LabelError {
                line: labels.line_of_dotted(&format!("http.routers.{name}")).unwrap_or(0),
                message: format!("router `{name}` names no service: Coolify writes `traefik.http.routers.{name}.service=…`"),
            });
        };
        let rule = router.rule.as_deref().unwrap_or_default();
        let Some(matched) = crate::rule::parse(rule) else {
            return Err(LabelError {
                line: labels.line_of_dotted(&format!("http.routers.{name}.rule")).unwrap_or(0),
                message: format!("router `{name}`'s rule `{rule}` is not `Host(…) && PathPrefix(…)` as Coolify writes it: gaqno-lb cannot derive the Socket.IO route from it"),
            });
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
        let socket_io_rule = crate::rule::build(&matched.hosts, Some(&service.socket_io.path));
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
    let new_labels = to_labels(&DynamicConfig {
        http: Some(fragment),
        ..Default::default()
    });

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
    for label in new_labels {
        let text = label.render(labels.style);
        let unchanged = kept.get(&label.key.to_ascii_lowercase()) == Some(&label.value);
        if unchanged {
            removed.retain(|r| r.trim() != text.trim());
        } else {
            added.push(text.clone());
        }
        lines.push(super::Line {
            text,
            label: Some(label),
        });
    }
    Ok(Added {
        labels: Labels {
            lines,
            style: labels.style,
        },
        added,
        removed,
    })
}

/// The labels Coolify writes for an application serving `service`'s hosts on its port, as
/// the application's Configuration shows them (an HTTP router redirecting to HTTPS, an
/// HTTPS router with gzip, one load balancer per router), with the service's name where
/// Coolify puts the application's id (`https-0-<name>`). What the editor draws a
/// Docker-replica service from, the operator's real labels being unknown to it: the same
/// shape, so the same labels of ours.
pub fn generated_labels(target: &Target, service: &Service) -> String {
    let id = format!("0-{}", service.name);
    let rule = crate::rule::build(&service.hosts, service.path_prefix.as_deref().or(Some("/")));
    let port = service.port;
    let (http, https) = (&target.http_entry_point, &target.https_entry_point);
    let mut text = format!(
        "traefik.enable=true\n\
         traefik.http.middlewares.gzip.compress=true\n\
         traefik.http.middlewares.redirect-to-https.redirectscheme.scheme=https\n\
         traefik.http.routers.http-{id}.entryPoints={http}\n\
         traefik.http.routers.http-{id}.middlewares=redirect-to-https\n\
         traefik.http.routers.http-{id}.rule={rule}\n\
         traefik.http.routers.http-{id}.service=http-{id}\n\
         traefik.http.routers.https-{id}.entryPoints={https}\n\
         traefik.http.routers.https-{id}.middlewares=gzip\n\
         traefik.http.routers.https-{id}.rule={rule}\n\
         traefik.http.routers.https-{id}.service=https-{id}\n"
    );
    if let Some(resolver) = &target.cert_resolver {
        text.push_str(&format!(
            "traefik.http.routers.https-{id}.tls.certresolver={resolver}\n"
        ));
    }
    text.push_str(&format!(
        "traefik.http.routers.https-{id}.tls=true\n\
         traefik.http.services.http-{id}.loadbalancer.server.port={port}\n\
         traefik.http.services.https-{id}.loadbalancer.server.port={port}\n"
    ));
    text
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
