//! Project → Traefik dynamic configuration → YAML.
//!
//! Per service `<s>` (every name prefixed `gaqno-` so nothing clashes with Coolify's own):
//! - service `gaqno-<s>`: one `servers` entry per replica, sticky cookie, health check, and
//!   servers transport `gaqno-node-keepalive` (idle connections closed before Node closes
//!   them: [`NODE_IDLE_CONN_TIMEOUT`]);
//! - router `gaqno-<s>` on the HTTPS entrypoint with TLS;
//! - router `gaqno-<s>-http` on the HTTP entrypoint, redirecting to HTTPS (if enabled);
//! - with Socket.IO affinity: router `gaqno-<s>-socketio` for the Socket.IO path only,
//!   through middleware `gaqno-<s>-affinity`, so plain REST traffic never enters the plugin;
//!   and router `gaqno-<s>-socketio-ws` for the WebSocket-only opens on that path (no `sid`,
//!   `transport=websocket`), without the plugin: they need no affinity, and each held
//!   WebSocket through a wasm middleware keeps a guest instance in Traefik.
//!
//! A service whose replicas are Docker replicas on one server (`docker_replicas`) is left
//! out: its settings go into the application's labels (`crate::labels::coolify`).
//!
//! Never an empty list or map (Coolify re-serialises them into something Traefik rejects).

use indexmap::IndexMap;

use crate::error::Error;
use crate::model::{Project, Service, Target};
use crate::plugin_config::PluginConfig;
use crate::traefik::{
    self, Cookie, DynamicConfig, HttpConfig, LoadBalancer, Middleware, RedirectScheme, Router,
    RouterTls, Server, Sticky,
};

/// Prefix of every object gaqno-lb writes.
pub const NAME_PREFIX: &str = "gaqno-";
/// The shared HTTP → HTTPS redirect middleware.
pub const REDIRECT_MIDDLEWARE: &str = "gaqno-redirect-to-https";
/// TLS options every Traefik has; named so a resolver-less router needs no empty `tls: {}`.
pub const DEFAULT_TLS_OPTIONS: &str = "default";
/// The servers transport every exported service uses: see [`NODE_IDLE_CONN_TIMEOUT`].
pub const NODE_SERVERS_TRANSPORT: &str = "gaqno-node-keepalive";
/// How long Traefik keeps an idle connection to a replica: less than Node's
/// `server.keepAliveTimeout` (5 s by default, NestJS's too). With Traefik's default (90 s)
/// Node closes idle connections first, and a request Traefik sends on one as it closes fails:
/// a POST with 502 "write: broken pipe" (GET is retried); the soak (BENCHMARKS.md) breaks
/// sessions on live replicas that way without it.
pub const NODE_IDLE_CONN_TIMEOUT: &str = "4s";

/// The Traefik object names gaqno-lb gives one service's routers, middleware and load balancer.
pub struct Names {
    /// The load balancer (`gaqno-<name>`).
    pub service: String,
    /// The HTTPS router serving every path.
    pub router: String,
    /// The HTTP router that redirects to HTTPS.
    pub http_router: String,
    /// The router of Socket.IO's path, with the affinity middleware.
    pub socket_io_router: String,
    /// The router of WebSocket connections that open without a session (no affinity needed).
    pub websocket_router: String,
    /// The gaqno-lb plugin middleware.
    pub affinity: String,
}

impl Names {
    /// The names for the service called `service_name`.
    pub fn of(service_name: &str) -> Names {
        let base = format!("{NAME_PREFIX}{service_name}");
        Names {
            http_router: format!("{base}-http"),
            socket_io_router: format!("{base}-socketio"),
            websocket_router: format!("{base}-socketio-ws"),
            affinity: format!("{base}-affinity"),
            router: base.clone(),
            service: base,
        }
    }
}

/// The project as Traefik dynamic configuration.
pub fn export(project: &Project) -> DynamicConfig {
    let mut http = HttpConfig::default();
    let target = &project.target;
    // Docker replicas are configured by their labels (`crate::labels::coolify`), not here.
    let file_services = || {
        project
            .services
            .iter()
            .filter(|s| s.docker_replicas.is_none())
    };
    for service in file_services() {
        let names = Names::of(&service.name);
        let rule = crate::rule::build(&service.hosts, service.path_prefix.as_deref());
        http.routers.insert(
            names.router.clone(),
            Router {
                entry_points: Some(vec![target.https_entry_point.clone()]),
                service: Some(names.service.clone()),
                rule: Some(rule.clone()),
                priority: service.priority,
                tls: Some(router_tls(target)),
                ..Router::default()
            },
        );
        if service.socket_io.enabled {
            let socket_io_rule = crate::rule::build(&service.hosts, Some(&service.socket_io.path));
            http.routers.insert(
                names.socket_io_router.clone(),
                Router {
                    entry_points: Some(vec![target.https_entry_point.clone()]),
                    middlewares: Some(vec![names.affinity.clone()]),
                    service: Some(names.service.clone()),
                    rule: Some(socket_io_rule.clone()),
                    // Above the service's own router, which would otherwise win on equal priority.
                    priority: service.priority.map(|p| p.saturating_add(1)),
                    tls: Some(router_tls(target)),
                    ..Router::default()
                },
            );
            http.routers.insert(
                names.websocket_router.clone(),
                Router {
                    entry_points: Some(vec![target.https_entry_point.clone()]),
                    service: Some(names.service.clone()),
                    rule: Some(crate::rule::websocket_only(&socket_io_rule)),
                    // Above the Socket.IO router, whose requests it narrows.
                    priority: service.priority.map(|p| p.saturating_add(2)),
                    tls: Some(router_tls(target)),
                    ..Router::default()
                },
            );
            http.middlewares
                .insert(names.affinity.clone(), affinity_middleware(target, service));
        }
        if target.redirect_http {
            http.routers.insert(
                names.http_router.clone(),
                Router {
                    entry_points: Some(vec![target.http_entry_point.clone()]),
                    middlewares: Some(vec![REDIRECT_MIDDLEWARE.to_owned()]),
                    service: Some(names.service.clone()),
                    rule: Some(rule),
                    priority: service.priority,
                    ..Router::default()
                },
            );
        }
        http.services.insert(
            names.service,
            traefik::Service {
                load_balancer: Some(load_balancer(service)),
                ..Default::default()
            },
        );
    }
    if target.redirect_http && file_services().next().is_some() {
        http.middlewares.insert(
            REDIRECT_MIDDLEWARE.to_owned(),
            Middleware {
                redirect_scheme: Some(RedirectScheme {
                    scheme: Some("https".into()),
                    permanent: Some(true),
                    ..Default::default()
                }),
                ..Default::default()
            },
        );
    }
    if !http.services.is_empty() {
        http.extra
            .insert("serversTransports".into(), node_servers_transports());
    }
    let is_empty = http == HttpConfig::default();
    DynamicConfig {
        http: (!is_empty).then_some(http),
        ..Default::default()
    }
}

/// The project as the YAML file to paste into Coolify, with a header saying where it goes.
pub fn to_yaml(project: &Project) -> Result<String, Error> {
    config_to_yaml(&export(project))
}

/// The file [`to_yaml`] writes, from an already exported config.
pub fn config_to_yaml(config: &DynamicConfig) -> Result<String, Error> {
    let body = crate::yaml::to_string(config)?;
    let body = if body.trim() == "{}" {
        String::new()
    } else {
        body
    };
    Ok(format!("{YAML_HEADER}{body}"))
}

/// The comment that opens every exported file (Coolify drops comments: nothing relies on it).
pub const YAML_HEADER: &str = "# Traefik dynamic configuration written by gaqno-lb.\n\
     # Coolify: Servers > (server) > Proxy > Dynamic Configurations > + Add.\n";

/// A file name Coolify's Dynamic Configurations screen accepts and that sorts after
/// `coolify.yaml` and `default_redirect_503.yaml` (the first definition of a name wins).
pub const COOLIFY_FILE_NAME: &str = "gaqno-lb.yaml";

fn router_tls(target: &Target) -> RouterTls {
    match &target.cert_resolver {
        Some(resolver) => RouterTls {
            cert_resolver: Some(resolver.clone()),
            ..Default::default()
        },
        None => RouterTls {
            options: Some(DEFAULT_TLS_OPTIONS.to_owned()),
            ..Default::default()
        },
    }
}

/// `http.serversTransports` as the export writes it.
pub(crate) fn node_servers_transports() -> traefik::Value {
    serde_json::json!({
        NODE_SERVERS_TRANSPORT: {"forwardingTimeouts": {"idleConnTimeout": NODE_IDLE_CONN_TIMEOUT}}
    })
}

pub(crate) fn affinity_middleware(target: &Target, service: &Service) -> Middleware {
    let config = PluginConfig {
        socket_io_path: service.socket_io.path.clone(),
        secret: service.socket_io.secret.clone(),
        ..PluginConfig::new(service.sticky.name.clone())
    };
    let value = serde_json::to_value(config).unwrap_or_default();
    Middleware {
        plugin: Some(IndexMap::from([(target.plugin_name.clone(), value)])),
        ..Default::default()
    }
}

pub(crate) fn load_balancer(service: &Service) -> LoadBalancer {
    let servers = service
        .servers
        .iter()
        .map(|url| Server {
            url: Some(url.clone()),
            ..Default::default()
        })
        .collect::<Vec<_>>();
    let sticky = &service.sticky;
    LoadBalancer {
        servers: (!servers.is_empty()).then_some(servers),
        sticky: sticky.enabled.then(|| Sticky {
            cookie: Some(Cookie {
                name: Some(sticky.name.clone()),
                secure: sticky.secure.then_some(true),
                http_only: sticky.http_only.then_some(true),
                same_site: sticky.same_site.map(|s| s.as_str().to_owned()),
                max_age: sticky.max_age,
                ..Default::default()
            }),
            ..Default::default()
        }),
        strategy: service.strategy.map(|s| s.as_str().to_owned()),
        health_check: service.health_check.as_ref().map(|h| traefik::HealthCheck {
            path: Some(h.path.clone()),
            interval: h.interval.clone(),
            timeout: h.timeout.clone(),
            ..Default::default()
        }),
        servers_transport: Some(NODE_SERVERS_TRANSPORT.to_owned()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect_file;

    use crate::model::Project;

    #[test]
    fn gaqno_preset_yaml() {
        expect_file!["../test_data/gaqno-preset.yml"]
            .assert_eq(&super::to_yaml(&Project::gaqno()).unwrap());
    }

    #[test]
    fn docker_replicas_stay_out_of_the_file() {
        let mut project = Project::gaqno();
        for service in &mut project.services {
            service.docker_replicas = Some(crate::model::DockerReplicas::new(
                3,
                crate::model::ReplicasVia::Swarm,
            ));
        }
        let yaml = super::to_yaml(&project).unwrap();
        assert!(yaml.lines().all(|l| l.starts_with('#')), "{yaml}");
        project.services[1].docker_replicas = None;
        let config = super::export(&project);
        let http = config.http.unwrap();
        let name = format!("gaqno-{}", project.services[1].name);
        assert_eq!(http.services.keys().collect::<Vec<_>>(), [&name]);
        assert!(http.routers.keys().all(|r| r.starts_with(&name)));
    }

    #[test]
    fn empty_project_is_a_valid_empty_file() {
        let yaml = super::to_yaml(&Project::default()).unwrap();
        assert!(yaml.lines().all(|l| l.starts_with('#')), "{yaml}");
    }
}
