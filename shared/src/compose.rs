//! A Docker Compose file as replicas on one server need it: what stops a second replica from
//! starting, and the Traefik labels of each service, linted as [`crate::labels`] reads them.
//!
//! Rules (ids as `gaqno-lb lint --list-rules` shows them):
//! - `coolify-compose-replicas` (error): `deploy.replicas` above 1 in a file Coolify deploys
//!   its normal way. Coolify's compose parser (`applicationParser` in
//!   `bootstrap/helpers/parsers.php`) gives every service a `container_name`, so the second
//!   replica never starts, whatever this file says. Only *Compose deployment: Raw (deploy
//!   file as-is)* deploys the file as written, and then the file must join the proxy's
//!   external `coolify` network itself: a replicated service on that network is taken as
//!   such a file and not flagged.
//! - `compose-container-name-with-replicas` (error): `deploy.replicas` above 1 with a
//!   `container_name`: Compose refuses to start a second container of the same name. Fix:
//!   remove `container_name` (GAQNO's runbook warns about exactly this).
//! - `compose-published-port-with-replicas` (error): a replicated service publishing a host
//!   port: the second replica cannot bind it. Traefik reaches replicas on the Docker network;
//!   no published port is needed.
//! - `compose-replicas-without-healthcheck` (warning): Traefik's Docker provider leaves out a
//!   container whose healthcheck is not yet healthy; without one, a replica gets requests
//!   the moment it starts, before it listens.
//! - every finding of [`crate::lint`] on each service's `traefik.` labels.
//!
//! [`raw`] writes a file that passes them: the Raw Compose Deployment of a replicated service.

pub mod raw;

use serde_json::Value;

use crate::labels::{Label, Labels};
use crate::lint::{self, Diagnostic, LintOptions, Severity, Source};

/// One finding in a compose file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The compose service.
    pub service: String,
    /// The rule's id.
    pub rule: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// Where: `services.<s>.<key>`, or for a label finding the label's key.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What fixes it.
    pub fix: Option<String>,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}[{}] {}: {}",
            self.severity, self.rule, self.path, self.message
        )
    }
}

/// The compose-only rules: `(id, severity, summary)`.
pub const RULES: &[(&str, Severity, &str)] = &[
    (
        "coolify-compose-replicas",
        Severity::Error,
        "replicas in a compose file Coolify deploys its normal way, which names every container",
    ),
    (
        "compose-container-name-with-replicas",
        Severity::Error,
        "replicas with a container_name, which Compose refuses",
    ),
    (
        "compose-published-port-with-replicas",
        Severity::Error,
        "replicas publishing a host port only one of them can bind",
    ),
    (
        "compose-replicas-without-healthcheck",
        Severity::Warning,
        "replicas without a healthcheck get requests before they listen",
    ),
];

/// Whether `document` (parsed YAML) is a compose file: `services` whose entries look like
/// containers (`image`, `build`, `deploy`, `labels`, `container_name`).
pub fn is_compose(document: &Value) -> bool {
    document
        .get("services")
        .and_then(Value::as_object)
        .is_some_and(|services| {
            !services.is_empty()
                && services.values().all(|s| {
                    ["image", "build", "deploy", "labels", "container_name"]
                        .iter()
                        .any(|k| s.get(k).is_some())
                })
        })
}

/// Every finding of a compose file, service by service.
pub fn lint_compose(document: &Value, options: &LintOptions) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(services) = document.get("services").and_then(Value::as_object) else {
        return out;
    };
    for (name, service) in services {
        let replicas = replicas(service);
        let at = |key: &str| format!("services.{name}.{key}");
        let mut push = |rule: &'static str, path: String, message: String, fix: Option<&str>| {
            let severity = RULES
                .iter()
                .find(|(id, _, _)| *id == rule)
                .map_or(Severity::Error, |(_, s, _)| *s);
            out.push(Finding {
                service: name.clone(),
                rule,
                severity,
                path,
                message,
                fix: fix.map(str::to_owned),
            });
        };
        if replicas > 1 {
            if !on_network(document, service, crate::coolify::STANDALONE_NETWORK) {
                push(
                    "coolify-compose-replicas",
                    at("deploy.replicas"),
                    format!("{replicas} replicas: Coolify deploys a compose file with a `container_name` on every service, so a second replica never starts (with or without `container_name` here); Coolify deploys the file as written only with Advanced → Docker compose → Compose deployment: Raw (deploy file as-is)"),
                    Some("write the Raw file with `gaqno-lb compose --service <name> --replicas <n> --domain <url>`, or deploy it as N Coolify applications with network aliases, or as a Dockerfile application with Swarm replicas (a compose application on a Swarm server is not seen by Traefik)"),
                );
            }
            if service.get("container_name").is_some() {
                push(
                    "compose-container-name-with-replicas",
                    at("container_name"),
                    format!("{replicas} replicas and a `container_name`: Compose refuses to start a second container of the same name"),
                    Some("remove `container_name`"),
                );
            }
            for published in published_ports(service) {
                push(
                    "compose-published-port-with-replicas",
                    at("ports"),
                    format!("{replicas} replicas publish host port {published}: only the first can bind it (Traefik reaches replicas on the Docker network, without published ports)"),
                    Some("remove the published port (keep `expose` for the container port)"),
                );
            }
            let healthcheck = service.get("healthcheck");
            let disabled = healthcheck
                .and_then(|h| h.get("disable"))
                .is_some_and(|d| d == &Value::Bool(true) || d.as_str() == Some("true"));
            if healthcheck.is_none() || disabled {
                push(
                    "compose-replicas-without-healthcheck",
                    name.clone(),
                    format!("{replicas} replicas without a healthcheck: Traefik sends a replica requests the moment it starts, before it listens"),
                    Some("add a healthcheck (e.g. `wget -qO- http://127.0.0.1:<port>/v1/health`)"),
                );
            }
        }
        let labels = service_labels(service);
        if labels.labels().next().is_none() {
            continue;
        }
        let read = match labels.to_config() {
            Ok(read) => read,
            Err(e) => {
                push("invalid-value", at("labels"), e.to_string(), None);
                continue;
            }
        };
        let options = LintOptions {
            source: Source::DockerLabels,
            ..options.clone()
        };
        for d in lint::lint(&read.config, &options) {
            let key = labels
                .line_of(&d.path)
                .and_then(|line| labels.lines.get(line - 1))
                .and_then(|l| l.label.as_ref())
                .map(|l| l.key.clone());
            out.push(label_finding(name, &at("labels"), key, d));
        }
    }
    out
}

fn label_finding(service: &str, labels_path: &str, key: Option<String>, d: Diagnostic) -> Finding {
    Finding {
        service: service.to_owned(),
        rule: d.rule,
        severity: d.severity,
        path: match key {
            Some(key) => format!("{labels_path}[{key}]"),
            None => format!("{labels_path} ({})", d.path),
        },
        message: d.message,
        fix: d.fix,
    }
}

/// Whether `service` joins the network named `name` (in Docker), declared `external` at
/// the top level: how a Raw Compose Deployment file reaches Coolify's proxy.
fn on_network(document: &Value, service: &Value, name: &str) -> bool {
    let joins = |key: &str| match service.get("networks") {
        Some(Value::Array(list)) => list.iter().any(|n| n.as_str() == Some(key)),
        Some(Value::Object(map)) => map.contains_key(key),
        _ => false,
    };
    document
        .get("networks")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .any(|(key, network)| {
            let external = network
                .get("external")
                .is_some_and(|e| e == &Value::Bool(true) || e.as_str() == Some("true"));
            let docker_name = network.get("name").and_then(Value::as_str).unwrap_or(key);
            external && docker_name == name && joins(key)
        })
}

/// `deploy.replicas` (or the older `scale`); 1 when absent or unreadable.
fn replicas(service: &Value) -> u64 {
    let read = |v: &Value| v.as_u64().or_else(|| v.as_str()?.trim().parse().ok());
    service
        .get("deploy")
        .and_then(|d| d.get("replicas"))
        .and_then(read)
        .or_else(|| service.get("scale").and_then(read))
        .unwrap_or(1)
}

/// Host ports a service publishes: `"8080:4008"`, `"127.0.0.1:8080:4008"`,
/// `{published: 8080, target: 4008}`; a bare container port publishes nothing fixed.
fn published_ports(service: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for port in service
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match port {
            Value::Object(long) => {
                if let Some(published) = long.get("published").filter(|p| !p.is_null()) {
                    out.push(match published {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                }
            }
            Value::String(short) => {
                let spec = short.split('/').next().unwrap_or_default();
                // IPv6 host addresses are bracketed; split on the colons outside them.
                let parts: Vec<&str> = match spec.rsplit_once("]:") {
                    Some((_, rest)) => std::iter::once("ip").chain(rest.split(':')).collect(),
                    None => spec.split(':').collect(),
                };
                if parts.len() >= 2 {
                    let published = parts[parts.len() - 2];
                    if !published.is_empty() {
                        out.push(published.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// A service's `labels`, list (`- key=value`) or map (`key: value`).
fn service_labels(service: &Value) -> Labels {
    let mut labels = Labels::default();
    let mut push = |key: String, value: String| {
        let label = Label { key, value };
        labels.lines.push(crate::labels::Line {
            text: label.render(crate::labels::Style::Plain),
            label: Some(label),
        });
    };
    match service.get("labels") {
        Some(Value::Array(items)) => {
            for item in items.iter().filter_map(Value::as_str) {
                let (key, value) = item.split_once('=').unwrap_or((item, ""));
                push(key.trim().to_owned(), value.to_owned());
            }
        }
        Some(Value::Object(map)) => {
            for (key, value) in map {
                let value = match value {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                push(key.clone(), value);
            }
        }
        _ => {}
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(yaml: &str) -> Vec<Finding> {
        let document: Value = crate::yaml::from_str(yaml).unwrap();
        assert!(is_compose(&document), "{yaml}");
        lint_compose(&document, &LintOptions::default())
    }

    fn rules(yaml: &str) -> Vec<&'static str> {
        findings(yaml).iter().map(|f| f.rule).collect()
    }

    #[test]
    fn replicas_need_no_container_name_no_published_port_and_a_healthcheck() {
        let yaml = "services:\n  chat:\n    image: gaqno/chat\n    container_name: chat\n    ports: ['4008:4008', '127.0.0.1:9000:9000/tcp', '5000', {target: 80, published: 8080}]\n    deploy: {replicas: 3}\n";
        assert_eq!(
            rules(yaml),
            [
                "coolify-compose-replicas",
                "compose-container-name-with-replicas",
                "compose-published-port-with-replicas",
                "compose-published-port-with-replicas",
                "compose-published-port-with-replicas",
                "compose-replicas-without-healthcheck",
            ]
        );
        let found = findings(yaml);
        assert!(
            found[0].message.contains("Raw (deploy file as-is)"),
            "{}",
            found[0]
        );
        assert_eq!(found[1].path, "services.chat.container_name");
        assert!(found[2].message.contains("host port 4008"), "{}", found[2]);
        assert!(found[3].message.contains("host port 9000"), "{}", found[3]);
        assert!(found[4].message.contains("host port 8080"), "{}", found[4]);
        // A Raw Compose Deployment file: on Coolify's network, as written.
        let fine = "services:\n  chat:\n    image: gaqno/chat\n    expose: ['4008']\n    networks: [coolify]\n    healthcheck: {test: ['CMD', 'true']}\n    deploy: {replicas: 3}\nnetworks:\n  coolify: {external: true}\n";
        assert_eq!(rules(fine), Vec::<&str>::new());
        // One replica: a container name and a published port are fine.
        let single = "services:\n  chat:\n    image: gaqno/chat\n    container_name: chat\n    ports: ['4008:4008']\n";
        assert_eq!(rules(single), Vec::<&str>::new());
        // Not external, or another network: Coolify's normal deployment.
        let managed = fine.replace("{external: true}", "{}");
        assert_eq!(rules(&managed), ["coolify-compose-replicas"]);
    }

    #[test]
    fn lints_each_services_traefik_labels() {
        let yaml = "services:\n  chat:\n    image: gaqno/chat\n    labels:\n      - traefik.enable=true\n      - traefik.http.middlewares.sticky.stickyCookie.name=gaqno_chat\n      - traefik.http.routers.chat.rule=Host(`chat.example.com`)\n      - traefik.http.routers.chat.middlewares=sticky\n      - traefik.http.services.chat.loadbalancer.server.port=4008\n  api:\n    image: gaqno/api\n    labels:\n      traefik.enable: 'true'\n      traefik.http.routers.api.rule: Host(`api.example.com`)\n      traefik.http.routers.api.service: nowhere\n";
        let found = findings(yaml);
        let sticky = found
            .iter()
            .find(|f| f.rule == "sticky-cookie-middleware")
            .unwrap_or_else(|| panic!("{found:#?}"));
        assert_eq!(sticky.service, "chat");
        assert!(
            sticky
                .path
                .starts_with("services.chat.labels[traefik.http.middlewares.sticky"),
            "{}",
            sticky.path
        );
        assert!(
            found
                .iter()
                .any(|f| f.service == "api" && f.rule == "undefined-reference"),
            "{found:#?}"
        );
    }

    #[test]
    fn a_dynamic_config_is_not_compose() {
        let document: Value =
            crate::yaml::from_str("http:\n  services:\n    s: {loadBalancer: {}}\n").unwrap();
        assert!(!is_compose(&document));
        let document: Value =
            crate::yaml::from_str("services:\n  s: {loadBalancer: {}}\n").unwrap();
        assert!(!is_compose(&document));
    }
}
