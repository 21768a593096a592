//! An application's compose file made into one Coolify deploys as written, with replicas:
//! *Advanced → Docker compose → Compose deployment: Raw (deploy file as-is)*.
//!
//! Under Coolify's normal compose deployment every service gets a `container_name`, so
//! `deploy.replicas` cannot work (`coolify-compose-replicas`). In Raw mode Coolify runs the
//! file with `docker compose up -d` as it is, adding only `coolify.managed`,
//! `coolify.applicationId` and `coolify.type` to each service's labels
//! (`Application::oldRawParser`; it appends list items, so labels stay a list here) — and
//! writes no Traefik labels. [`raw_compose`] writes what the service then needs:
//! - `deploy.replicas`, no `container_name`, no published ports (`expose` the port);
//! - a healthcheck if it has none, run by `node` itself (GAQNO's images are Node images, not
//!   all of which carry `wget` or `curl`): a replica gets requests only once healthy;
//! - `env_file: [.env]`: in Raw mode Coolify adds no `env_file` to any service (its normal
//!   compose deployment does); the `.env` it writes with the variables set in its UI is only
//!   `docker compose --env-file`, which fills `${…}` in the file and reaches no container;
//! - the proxy's external `coolify` network beside the file's own, and
//!   `traefik.docker.network=coolify` so Traefik reaches each replica there;
//! - every Traefik label Coolify would have written for the service and its domain
//!   ([`crate::coolify::Application::compose_labels`]: HTTP → HTTPS redirect, HTTPS with TLS
//!   and `letsencrypt`, gzip, a strip-prefix for a path), then ours
//!   ([`crate::labels::coolify::add_affinity`]: sticky cookie, health check, the Socket.IO
//!   routers and the affinity middleware).
//!
//! Run again on its own output it writes the same file. Comments and YAML anchors of the
//! input are not kept.

use serde_json::{json, Map, Value};

use crate::coolify::{Application, Domain, STANDALONE_NETWORK};
use crate::labels::{coolify::add_affinity, Labels};
use crate::model::{Service, Target};

/// What to turn a compose file into.
#[derive(Debug, Clone)]
pub struct RawOptions {
    /// The compose service to replicate.
    pub service: String,
    /// How many replicas.
    pub replicas: u32,
    /// Its domain, `https://host[/path]` (a port in it is ignored: [`RawOptions::port`]).
    pub domain: String,
    /// The port the service listens on.
    pub port: u16,
    /// The stem of the router and service names, where Coolify puts an application's uuid
    /// (`https-0-<stem>-<service>-<hash>`): label names are global to Traefik's Docker
    /// provider, so it must differ between applications.
    pub name_stem: String,
}

/// The file written, and what changed, one line each.
#[derive(Debug, Clone, PartialEq)]
pub struct Raw {
    /// The compose document.
    pub document: Value,
    /// What was changed, in words.
    pub changes: Vec<String>,
}

/// What the operator does with the file, in Coolify v4.3.10's words (screens from
/// `resources/views/livewire/project/application/{general,advanced}.blade.php`).
pub const INSTRUCTIONS: &str = "In Coolify (a Docker Compose application on a standalone server):
  1. Commit this file to the repository at the application's Docker compose location
     (Configuration → General); Coolify reads it from git (General → Reload compose).
  2. Configuration → Advanced → Docker compose → Compose deployment: Raw (deploy file as-is).
     Coolify then writes no labels and no container_name: the domain lives in this file's
     labels, so leave the service's Domains empty.
  3. Deploy. Every deploy of a compose application stops its containers one by one (each
     up to Configuration → Advanced → Stop grace period, 30 s by default), then starts the
     new ones: every open Socket.IO session breaks, and HTTPS clients get 503 from
     Coolify's catch-all until a new replica is healthy. Variables set in Coolify's UI reach
     the replicas through `env_file: .env`, which this file carries.
  Before the first deploy, `gaqno-lb rehearse --path b --service <service> --compose <file>`
  runs it on this machine's Docker behind Coolify's proxy and says what a redeploy does to
  the app's sessions, with the fixes.";

/// The default [`RawOptions::name_stem`].
pub const DEFAULT_NAME_STEM: &str = "gaqno";

/// Turns `document` into a Raw Compose Deployment file replicating `options.service`, with
/// `settings` (the project's service: sticky cookie, health check, Socket.IO affinity).
pub fn raw_compose(
    document: &Value,
    options: &RawOptions,
    target: &Target,
    settings: &Service,
) -> Result<Raw, String> {
    let mut document = document.clone();
    let mut changes = Vec::new();
    let name = &options.service;
    if options.replicas == 0 {
        return Err("--replicas must be at least 1".into());
    }
    let domain = Domain::parse(&options.domain).ok_or_else(|| {
        format!(
            "`{}` is not a domain as Coolify takes one: write `https://host` or `https://host/path`",
            options.domain
        )
    })?;
    let root = document
        .as_object_mut()
        .ok_or("the compose file is not a YAML mapping")?;
    let services = root
        .get_mut("services")
        .and_then(Value::as_object_mut)
        .ok_or("the compose file has no `services`")?;
    let names: Vec<String> = services.keys().cloned().collect();
    let service = services
        .get_mut(name.as_str())
        .and_then(Value::as_object_mut)
        .ok_or_else(|| {
            format!(
                "the compose file has no service `{name}`; it has: {}",
                names.join(", ")
            )
        })?;

    if service.remove("container_name").is_some() {
        changes.push(format!(
            "removed services.{name}.container_name (a second replica could not start)"
        ));
    }
    if service.remove("scale").is_some() {
        changes.push(format!(
            "removed services.{name}.scale (deploy.replicas says it)"
        ));
    }
    if service.remove("ports").is_some() {
        changes.push(format!(
            "removed services.{name}.ports (replicas cannot share a host port; Traefik reaches them on the coolify network)"
        ));
    }
    let port = Value::String(options.port.to_string());
    let expose = service.entry("expose").or_insert_with(|| json!([]));
    if let Some(list) = expose.as_array_mut() {
        if !list
            .iter()
            .any(|p| p.as_str() == port.as_str() || p.as_u64() == Some(u64::from(options.port)))
        {
            list.push(port);
            changes.push(format!("services.{name}.expose: {}", options.port));
        }
    }
    let deploy = service.entry("deploy").or_insert_with(|| json!({}));
    if let Some(deploy) = deploy.as_object_mut() {
        let before = deploy.insert("replicas".into(), json!(options.replicas));
        if before != Some(json!(options.replicas)) {
            changes.push(format!(
                "services.{name}.deploy.replicas: {}",
                options.replicas
            ));
        }
    }
    if !service.contains_key("healthcheck") {
        let path = settings
            .health_check
            .as_ref()
            .map_or(crate::model::GAQNO_HEALTH_PATH, |h| h.path.as_str());
        service.insert("healthcheck".into(), healthcheck(options.port, path));
        changes.push(format!(
            "services.{name}.healthcheck: GET {path} on port {} (by node)",
            options.port
        ));
    }
    add_env_file(service, &mut changes, name);
    join_coolify_network(service, &mut changes, name);

    // Labels: ours and Coolify's are written again; any other label is kept.
    let kept: Vec<String> = existing_labels(service)
        .into_iter()
        .filter(|l| !l.to_ascii_lowercase().starts_with("traefik."))
        .collect();
    let with_port = format!(
        "{}://{}:{}{}",
        domain.scheme, domain.host, options.port, domain.path
    );
    let app = Application::compose(&options.name_stem, &[with_port.as_str()]);
    let network_label = format!("traefik.docker.network={STANDALONE_NETWORK}");
    let coolifys: Vec<String> = app
        .compose_labels(name, std::slice::from_ref(&network_label))
        .into_iter()
        .filter(|l| !l.starts_with("coolify.") && !l.starts_with("caddy_"))
        .collect();
    let text: String = coolifys.iter().map(|l| format!("{l}\n")).collect();
    let labels = Labels::parse(&text).map_err(|e| e.to_string())?;
    let added = add_affinity(&labels, target, settings).map_err(|e| e.to_string())?;
    let mut all: Vec<Value> = kept.into_iter().map(Value::String).collect();
    all.extend(
        added
            .labels
            .labels()
            .map(|l| Value::String(format!("{}={}", l.key, l.value))),
    );
    let count = all.len();
    service.insert("labels".into(), Value::Array(all));
    changes.push(format!(
        "services.{name}.labels: {count} labels (Coolify's routers for {} and gaqno-lb's)",
        options.domain
    ));

    let networks = root.entry("networks").or_insert_with(|| json!({}));
    if let Some(networks) = networks.as_object_mut() {
        if !networks.contains_key(STANDALONE_NETWORK) {
            networks.insert(
                STANDALONE_NETWORK.into(),
                json!({"external": true, "name": STANDALONE_NETWORK}),
            );
            changes.push("networks.coolify: external (the proxy's network)".into());
        }
    }
    Ok(Raw { document, changes })
}

/// The port `service` listens on, as its compose file says: the first `expose` entry, else
/// the container side of the first `ports` entry (`"4008:4008"`, `"127.0.0.1:80:4008/tcp"`,
/// or the long form's `target`).
pub fn service_port(document: &Value, service: &str) -> Option<u16> {
    let service = document.get("services")?.get(service)?;
    let number = |v: &Value| -> Option<u16> {
        match v {
            Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Value::String(s) => s.split('/').next()?.trim().parse().ok(),
            _ => None,
        }
    };
    if let Some(port) = service
        .get("expose")
        .and_then(Value::as_array)
        .and_then(|l| l.first())
        .and_then(number)
    {
        return Some(port);
    }
    let first = service.get("ports")?.as_array()?.first()?;
    match first {
        Value::Object(long) => long.get("target").and_then(number),
        Value::String(short) => {
            let container = short.rsplit(':').next()?;
            number(&Value::String(container.to_owned()))
        }
        other => number(other),
    }
}

/// A healthcheck by `node` (in every Node image) on `path`.
fn healthcheck(port: u16, path: &str) -> Value {
    let probe = format!(
        "require('http').get('http://127.0.0.1:{port}{path}', r => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))"
    );
    json!({
        "test": ["CMD", "node", "-e", probe],
        "interval": "5s",
        "timeout": "3s",
        "retries": 3,
        "start_period": "10s",
    })
}

/// The file Coolify writes the variables of its UI into, in the application's folder (the
/// compose project directory): `ApplicationDeploymentJob::save_runtime_environment_variables`
/// writes it for every compose deployment, empty if there are none.
const COOLIFY_ENV_FILE: &str = ".env";

/// Adds [`COOLIFY_ENV_FILE`] to the service's `env_file` (a string or a list; either form
/// of item) unless it is there.
fn add_env_file(service: &mut Map<String, Value>, changes: &mut Vec<String>, name: &str) {
    let names_env = |item: &Value| {
        let path = item
            .as_str()
            .or_else(|| item.get("path").and_then(Value::as_str));
        path.is_some_and(|p| p.trim_start_matches("./") == COOLIFY_ENV_FILE)
    };
    let list = match service.remove("env_file") {
        None => Vec::new(),
        Some(Value::Array(list)) => list,
        Some(other) => vec![other],
    };
    let has = list.iter().any(names_env);
    let mut list = list;
    if !has {
        list.push(Value::String(COOLIFY_ENV_FILE.into()));
        changes.push(format!(
            "services.{name}.env_file: {COOLIFY_ENV_FILE} (in Raw mode the variables set in Coolify reach the replicas only this way)"
        ));
    }
    service.insert("env_file".into(), Value::Array(list));
}

/// Puts the service on the `coolify` network, keeping the ones it had (without `networks`
/// it was on the file's `default`, which its neighbours reach it on).
fn join_coolify_network(service: &mut Map<String, Value>, changes: &mut Vec<String>, name: &str) {
    let networks = service
        .entry("networks")
        .or_insert_with(|| json!(["default"]));
    let joined = match networks {
        Value::Array(list) => {
            if list.iter().any(|n| n.as_str() == Some(STANDALONE_NETWORK)) {
                false
            } else {
                list.push(Value::String(STANDALONE_NETWORK.into()));
                true
            }
        }
        Value::Object(map) => map.insert(STANDALONE_NETWORK.into(), json!({})).is_none(),
        _ => false,
    };
    if joined {
        changes.push(format!("services.{name}.networks: + coolify"));
    }
}

/// A service's labels as `key=value` strings, list or map.
fn existing_labels(service: &Map<String, Value>) -> Vec<String> {
    match service.get("labels") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                Value::Null => format!("{k}="),
                other => format!("{k}={other}"),
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::lint_compose;
    use crate::lint::LintOptions;

    const APP: &str = "services:
  omnichannel-service:
    build: .
    container_name: omnichannel
    ports: ['4008:4008']
    environment:
      REDIS_URL: redis://redis:6379
    labels:
      - com.example.team=gaqno
  redis:
    image: redis:7
";

    fn options() -> RawOptions {
        RawOptions {
            service: "omnichannel-service".into(),
            replicas: 3,
            domain: "https://omni.example.com".into(),
            port: 4008,
            name_stem: DEFAULT_NAME_STEM.into(),
        }
    }

    fn omnichannel() -> (Target, Service) {
        let project = crate::model::gaqno_preset();
        let service = project
            .services
            .iter()
            .find(|s| s.name == "omnichannel-service")
            .cloned()
            .unwrap();
        (project.target, service)
    }

    fn raw(yaml: &str) -> Raw {
        let (target, service) = omnichannel();
        let document: Value = crate::yaml::from_str(yaml).unwrap();
        raw_compose(&document, &options(), &target, &service).unwrap()
    }

    #[test]
    fn the_port_comes_from_expose_then_the_container_side_of_ports() {
        let port = |yaml: &str| service_port(&crate::yaml::from_str(yaml).unwrap(), "s");
        assert_eq!(
            port("services: {s: {expose: ['4008'], ports: ['80:3000']}}"),
            Some(4008)
        );
        assert_eq!(
            port("services: {s: {ports: ['127.0.0.1:80:4008/tcp']}}"),
            Some(4008)
        );
        assert_eq!(
            port("services: {s: {ports: [{target: 4008, published: 80}]}}"),
            Some(4008)
        );
        assert_eq!(port("services: {s: {ports: [4008]}}"), Some(4008));
        assert_eq!(port("services: {s: {image: x}}"), None);
        assert_eq!(port("services: {t: {expose: [1]}}"), None);
    }

    #[test]
    fn writes_what_a_raw_deployment_needs_and_lints_clean() {
        let out = raw(APP);
        let service = &out.document["services"]["omnichannel-service"];
        assert!(service.get("container_name").is_none());
        assert!(service.get("ports").is_none());
        assert_eq!(service["deploy"]["replicas"], 3);
        assert_eq!(service["expose"], json!(["4008"]));
        assert_eq!(service["env_file"], json!([".env"]));
        assert_eq!(service["networks"], json!(["default", "coolify"]));
        assert_eq!(out.document["networks"]["coolify"]["external"], true);
        assert!(service["healthcheck"]["test"][3]
            .as_str()
            .unwrap()
            .contains("http://127.0.0.1:4008/v1/health"));
        let labels: Vec<&str> = service["labels"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(labels[0], "com.example.team=gaqno");
        let router = "https-0-gaqno-omnichannel-service-47ff";
        for expected in [
            "traefik.enable=true".to_owned(),
            "traefik.docker.network=coolify".to_owned(),
            format!("traefik.http.routers.{router}.tls.certresolver=letsencrypt"),
            format!("traefik.http.routers.{router}.middlewares=gzip"),
            "traefik.http.routers.http-0-gaqno-omnichannel-service-47ff.middlewares=redirect-to-https".to_owned(),
            format!("traefik.http.services.{router}.loadbalancer.server.port=4008"),
            format!("traefik.http.services.{router}.loadBalancer.sticky.cookie.name=gaqno_omnichannel_service"),
            format!("traefik.http.services.{router}.loadBalancer.healthCheck.path=/v1/health"),
            "traefik.http.routers.gaqno-omnichannel-service-socketio.middlewares=gzip,gaqno-omnichannel-service-affinity".to_owned(),
        ] {
            assert!(labels.contains(&expected.as_str()), "{expected}\n{labels:#?}");
        }
        assert!(labels
            .iter()
            .any(|l| l
                .starts_with("traefik.http.routers.gaqno-omnichannel-service-socketio-ws.rule=")));
        assert!(!labels
            .iter()
            .any(|l| l.starts_with("coolify.") || l.starts_with("caddy")));
        // The neighbours are untouched.
        assert_eq!(
            out.document["services"]["redis"],
            json!({"image": "redis:7"})
        );
        assert_eq!(
            lint_compose(&out.document, &LintOptions::default()),
            Vec::new(),
            "{}",
            crate::yaml::to_string(&out.document).unwrap()
        );
    }

    #[test]
    fn coolifys_env_file_is_added_once_beside_the_services_own() {
        let env_file =
            |yaml: &str| raw(yaml).document["services"]["omnichannel-service"]["env_file"].clone();
        let with =
            |line: &str| APP.replace("    build: .\n", &format!("    build: .\n    {line}\n"));
        assert_eq!(
            env_file(&with("env_file: common.env")),
            json!(["common.env", ".env"])
        );
        assert_eq!(env_file(&with("env_file: ./.env")), json!(["./.env"]));
        assert_eq!(
            env_file(&with("env_file: [{path: .env, required: false}]")),
            json!([{"path": ".env", "required": false}])
        );
    }

    #[test]
    fn run_again_it_writes_the_same_file() {
        let once = raw(APP);
        let text = crate::yaml::to_string(&once.document).unwrap();
        let twice = raw(&text);
        assert_eq!(twice.document, once.document);
        assert_eq!(
            twice.changes.len(),
            1,
            "only the labels, rewritten: {:?}",
            twice.changes
        );
    }

    #[test]
    fn bad_input_says_what_is_wrong() {
        let (target, service) = omnichannel();
        let document: Value = crate::yaml::from_str(APP).unwrap();
        let err = raw_compose(
            &document,
            &RawOptions {
                service: "api".into(),
                ..options()
            },
            &target,
            &service,
        )
        .unwrap_err();
        assert_eq!(
            err,
            "the compose file has no service `api`; it has: omnichannel-service, redis"
        );
        let err = raw_compose(
            &document,
            &RawOptions {
                domain: "omni.example.com".into(),
                ..options()
            },
            &target,
            &service,
        )
        .unwrap_err();
        assert!(err.contains("https://host"), "{err}");
    }
}
