use super::*;

/// The application every golden case describes (`shared/test_data/coolify/README.md`).
const UUID: &str = "k4c8w0s8g8ok0c4gs0wck8sg";

use crate::coolify::golden;

fn gaqno(mut app: Application) -> Application {
    app.id = 7;
    app.name = "omnichannel-service".into();
    app.project = "gaqno".into();
    app
}

fn standalone(domains: &[&str]) -> Application {
    gaqno(Application::standalone(UUID, domains, 4008))
}

fn lines(labels: &[String]) -> String {
    labels.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn standalone_active_labels_are_coolifys() {
    let cases = [
        ("standalone.txt", standalone(&["https://omni.example.com"])),
        (
            "standalone-domains.txt",
            standalone(&["https://omni.example.com", "https://chat.example.com"]),
        ),
        (
            "standalone-path.txt",
            standalone(&["https://example.com/omni"]),
        ),
        (
            "standalone-gzip-off.txt",
            Application {
                gzip: false,
                ..standalone(&["https://omni.example.com"])
            },
        ),
        (
            "standalone-http-only.txt",
            standalone(&["http://omni.example.com"]),
        ),
    ];
    for (file, app) in cases {
        assert_eq!(format!("{}\n", app.active_labels()), golden(file), "{file}");
    }
}

#[test]
fn swarm_deploy_labels_are_coolifys() {
    let app = standalone(&["https://omni.example.com"]);
    let app = Application {
        name: "omnichannel-service".into(),
        ..app
    };
    assert_eq!(lines(&app.swarm_labels()), golden("swarm-standalone.txt"));
}

#[test]
fn compose_service_labels_are_coolifys() {
    let with_port = gaqno(Application::compose(
        UUID,
        &["https://omni.example.com:4008"],
    ));
    assert_eq!(
        lines(&with_port.compose_labels("omnichannel-service", &[])),
        golden("compose.txt")
    );
    let without_port = gaqno(Application::compose(UUID, &["https://omni.example.com"]));
    assert_eq!(
        lines(&without_port.compose_labels("omnichannel-service", &[])),
        golden("compose-no-port.txt")
    );
    // A middleware defined in the service's own labels lands on Coolify's routers; spelled
    // `Middlewares` it does not.
    for (file, key) in [
        ("compose-own-middleware.txt", "middlewares"),
        ("compose-own-middleware-capitalised.txt", "Middlewares"),
    ] {
        let own = format!("traefik.http.{key}.gaqno-omnichannel-service-affinity.plugin.gaqno-lb.cookieName=gaqno_omnichannel_service");
        assert_eq!(
            lines(&with_port.compose_labels("omnichannel-service", &[own])),
            golden(file),
            "{file}"
        );
    }
}

#[test]
fn reads_domains_as_coolify_does() {
    let d = Domain::parse("https://omni.example.com:4008/api?x#y").unwrap();
    assert_eq!(
        (d.scheme.as_str(), d.host.as_str(), d.port, d.path.as_str()),
        ("https", "omni.example.com", Some(4008), "/api")
    );
    assert_eq!(Domain::parse("HTTP://a").unwrap().path, "/");
    assert_eq!(Domain::parse("ftp://a"), None);
    assert_eq!(Domain::parse("omni.example.com"), None);
    assert_eq!(Domain::parse("https://a:x"), None);
}

#[test]
fn compose_names_carry_a_hash_of_the_service_name() {
    assert_eq!(
        safe_service_name_segment("omnichannel-service"),
        "omnichannel-service-47ff"
    );
    // Dots and underscores become dashes; the hash keeps `api.test` and `api-test` apart.
    let (dotted, dashed) = (
        safe_service_name_segment("api.test"),
        safe_service_name_segment("api-test"),
    );
    assert!(dotted.starts_with("api-test-") && dashed.starts_with("api-test-"));
    assert_ne!(dotted, dashed);
    assert!(safe_service_name_segment("__").starts_with("service-"));
}
