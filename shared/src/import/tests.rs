use proptest::prelude::{any, prop_assert_eq, prop_oneof, proptest, Just, ProptestConfig};
use proptest::strategy::Strategy as Gen;

use super::*;
use crate::export::{export, to_yaml};
use crate::model::{Sticky, TraefikVersion};
use crate::traefik::GoDuration;

fn reexport(project: &Project) -> (String, Imported) {
    let yaml = to_yaml(project).unwrap();
    // `import`, not `import_yaml`: a project of no services exports and imports too (the
    // text importer calls that nothing to import).
    let imported = import(&crate::yaml::from_str(&yaml).unwrap());
    (yaml, imported)
}

#[test]
fn preset_round_trips_exactly() {
    let preset = Project::gaqno();
    let (yaml, imported) = reexport(&preset);
    assert_eq!(imported.unmapped, []);
    assert_eq!(imported.project, preset);
    assert_eq!(to_yaml(&imported.project).unwrap(), yaml);
}

/// The GAQNO runbook's sticky example, exactly as operators paste it: its `stickyCookie`
/// middleware (which Traefik does not have) becomes the service's sticky cookie, with its
/// name and flags, and the report says so; the port comes from the placeholder URLs.
#[test]
fn the_runbooks_sticky_example_imports_as_meant() {
    let yaml = include_str!("../../test_data/runbook-omnichannel-sticky.yml");
    let imported = super::import_yaml(yaml).unwrap();
    let service = &imported.project.services[0];
    assert!(service.sticky.enabled, "{service:#?}");
    assert_eq!(service.sticky.name, "omnichannel_affinity");
    assert!(service.sticky.secure && service.sticky.http_only);
    assert_eq!(service.sticky.same_site, Some(SameSite::Lax));
    assert_eq!(service.port, 4008);
    assert_eq!(service.hosts, ["omnichannel.gaqno.com.br"]);
    assert_eq!(imported.fixed.len(), 1, "{:?}", imported.fixed);
    assert!(
        imported.fixed[0]
            .starts_with("http.middlewares.omnichannel-sticky.stickyCookie: move the cookie"),
        "{:?}",
        imported.fixed
    );
    assert!(
        imported
            .unmapped
            .iter()
            .all(|u| !u.path.contains("omnichannel-sticky")),
        "the middleware is gone, not unmapped: {:?}",
        imported.unmapped
    );
}

#[test]
fn ports_come_from_the_servers_when_they_agree() {
    use super::url_port;
    assert_eq!(url_port("http://<CONTAINER_OU_IP_1>:4008"), Some(4008));
    assert_eq!(url_port("http://10.0.0.5:3000/base"), Some(3000));
    assert_eq!(url_port("https://api.example.com"), Some(443));
    assert_eq!(url_port("http://[::1]:4008"), Some(4008));
    assert_eq!(url_port("http://[::1]"), Some(80));
    assert_eq!(url_port("not a url"), None);
    let mixed = "http:\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: http://a:3000\n          - url: http://b:4000\n";
    assert_eq!(
        super::import_yaml(mixed).unwrap().project.services[0].port,
        80
    );
}

#[test]
fn foreign_file_reports_what_does_not_map() {
    let yaml = r#"
http:
  routers:
    lb-https:
      rule: Host(`example.com`) && Method(`GET`)
      entryPoints: [https]
      middlewares: [gzip]
      service: lb-https
      tls: {certResolver: letsencrypt}
      observability: {accessLogs: false}
  services:
    lb-https:
      loadBalancer:
        servers:
          - url: http://10.0.0.1:80
            weight: 2
        passHostHeader: false
    mirror:
      mirroring: {service: lb-https}
  middlewares:
    gzip:
      compress: {}
tcp:
  routers: {}
"#;
    let imported = import_yaml(yaml).unwrap();
    let notes: Vec<String> = imported.unmapped.iter().map(|u| u.to_string()).collect();
    expect_test::expect![[r#"
        [
            "tcp: not part of the GAQNO model",
            "http.middlewares.gzip: only the affinity plugin and an HTTPS redirect map to the GAQNO model",
            "http.services.lb-https.loadBalancer.servers[0].weight: server weights are not part of the GAQNO model",
            "http.services.lb-https.loadBalancer.passHostHeader: not part of the GAQNO model",
            "http.services.mirror: only loadBalancer services map to a GAQNO service",
            "http.routers.lb-https.middlewares[0]: a middleware the GAQNO model does not hold",
            "http.routers.lb-https.observability: not part of the GAQNO model",
            "http.routers.lb-https.rule: only Host(..) || Host(..) with an optional PathPrefix(..) maps to hosts and path",
        ]
    "#]]
    .assert_debug_eq(&notes);
    let service = &imported.project.services[0];
    assert_eq!(service.name, "lb-https");
    assert_eq!(service.servers, ["http://10.0.0.1:80"]);
    assert_eq!(service.port, 80);
    assert!(!imported.project.target.redirect_http);
}

#[test]
fn affinity_without_sticky_keeps_the_plugin_cookie_name() {
    let mut project = Project::gaqno();
    project.services[0].sticky.enabled = false;
    project.services[0].sticky.name = "chosen".into();
    let (yaml, imported) = reexport(&project);
    assert_eq!(imported.project.services[0].sticky.name, "chosen");
    assert_eq!(to_yaml(&imported.project).unwrap(), yaml);
}

fn name() -> impl Gen<Value = String> {
    "[a-z][a-z0-9-]{0,10}"
}

fn duration() -> impl Gen<Value = Option<GoDuration>> {
    proptest::option::of(
        prop_oneof![Just("10s"), Just("500ms"), Just("1m30s"), Just("3s")]
            .prop_map(GoDuration::new),
    )
}

fn service() -> impl Gen<Value = Service> {
    (
        (
            name(),
            proptest::collection::vec("[a-z]{1,8}\\.gaqno\\.com\\.br", 0..3),
            proptest::option::of("/[a-z]{1,8}"),
            1u16..65535,
        ),
        (
            proptest::collection::vec(("[a-z]{1,6}", 1u8..9), 0..4),
            proptest::option::of(("/[a-z/]{1,10}", duration(), duration())),
        ),
        (
            any::<bool>(),
            "[a-z_]{1,12}",
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(0usize..3),
            proptest::option::of(0i64..86400),
        ),
        (
            any::<bool>(),
            "/[a-z.]{1,10}/",
            proptest::option::of(0usize..4),
            proptest::option::of(1i64..1000),
            proptest::option::of("[a-zA-Z0-9]{16,24}"),
        ),
    )
        .prop_map(
            |(
                (name, hosts, path_prefix, port),
                (servers, hc),
                sticky,
                (io, io_path, strategy, priority, secret),
            )| {
                let mut servers: Vec<String> = servers
                    .into_iter()
                    .map(|(h, n)| format!("http://{h}-{n}:{port}"))
                    .collect();
                servers.dedup();
                Service {
                    name,
                    hosts,
                    path_prefix,
                    port,
                    servers,
                    docker_replicas: None,
                    health_check: hc.map(|(path, interval, timeout)| HealthCheck {
                        path,
                        interval,
                        timeout,
                    }),
                    sticky: Sticky {
                        enabled: sticky.0,
                        name: sticky.1,
                        secure: sticky.2,
                        http_only: sticky.3,
                        same_site: sticky
                            .4
                            .map(|i| [SameSite::None, SameSite::Lax, SameSite::Strict][i]),
                        max_age: sticky.5,
                    },
                    socket_io: SocketIo {
                        enabled: io,
                        path: io_path,
                        secret,
                    },
                    strategy: strategy.map(|i| Strategy::ALL[i]),
                    priority,
                }
            },
        )
}

pub(crate) fn project() -> impl Gen<Value = Project> {
    (
        (
            prop_oneof![Just(TraefikVersion::V3_6), Just(TraefikVersion::V3_7)],
            "[a-z]{1,8}",
            "[a-z]{1,8}",
        ),
        (
            proptest::option::of("[a-z]{1,10}"),
            "[a-z][a-z-]{0,10}",
            any::<bool>(),
        ),
        proptest::collection::vec(service(), 0..5),
    )
        .prop_map(
            |((version, http_ep, https_ep), (resolver, plugin, redirect), services)| {
                let mut unique: Vec<Service> = Vec::new();
                for service in services {
                    if !unique.iter().any(|s| s.name == service.name) {
                        unique.push(service);
                    }
                }
                Project {
                    target: Target {
                        traefik_version: version,
                        http_entry_point: http_ep,
                        https_entry_point: https_ep,
                        cert_resolver: resolver,
                        plugin_name: plugin,
                        redirect_http: redirect,
                    },
                    services: unique,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn import_onto_its_own_export_gives_the_project_back(
        project in project(),
        docker in proptest::collection::vec(any::<bool>(), 5),
    ) {
        let mut project = project;
        for (service, docker) in project.services.iter_mut().zip(docker) {
            // What a file cannot say about a service, set to what the model would hold.
            if docker {
                service.docker_replicas = Some(crate::model::DockerReplicas::new(3, crate::model::ReplicasVia::Swarm));
            }
        }
        let back = crate::import::import_onto(&export(&project), &project);
        prop_assert_eq!(export(&back), export(&project));
        prop_assert_eq!(back.target.traefik_version, project.target.traefik_version);
        prop_assert_eq!(&back.target.http_entry_point, &project.target.http_entry_point);
        prop_assert_eq!(back.services.len(), project.services.len());
        for (back, was) in back.services.iter().zip(&project.services) {
            prop_assert_eq!(&back.name, &was.name);
            prop_assert_eq!(back.port, was.port);
            if was.docker_replicas.is_some() {
                prop_assert_eq!(back, was);
            }
        }
    }

    #[test]
    fn export_import_export_is_identical(project in project()) {
        let (yaml, imported) = reexport(&project);
        prop_assert_eq!(&imported.unmapped, &[]);
        prop_assert_eq!(to_yaml(&imported.project).unwrap(), yaml);
        // The typed configs agree too, not just their text.
        prop_assert_eq!(export(&imported.project), export(&project));
    }
}
