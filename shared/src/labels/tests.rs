use super::coolify::add_affinity;
use super::*;
use crate::lint::{lint, LintOptions};
use crate::model::{gaqno_preset, Project, Service, Target};

/// The *Active labels* Coolify writes for a standalone application `x8k2` serving
/// `https://chat.example.com` on port 4008 (HTTP redirected to HTTPS, gzip), Caddy's labels
/// included: `crate::coolify`, whose tests hold it to Coolify's own output.
fn coolify() -> String {
    crate::coolify::Application::standalone("x8k2", &["https://chat.example.com"], 4008)
        .active_labels()
        + "\n"
}

const LABELS: LintOptions = LintOptions {
    traefik_version: crate::model::TraefikVersion::V3_6,
    source: crate::lint::Source::DockerLabels,
};

fn omnichannel() -> (Target, Service) {
    let project = gaqno_preset();
    let service = project
        .services
        .iter()
        .find(|s| s.socket_io.enabled)
        .cloned()
        .expect("a Socket.IO service in the preset");
    (project.target, service)
}

#[test]
fn reads_labels_as_traefik_does() {
    let labels = Labels::parse(&coolify()).unwrap();
    assert_eq!(labels.style, Style::Plain);
    let read = labels.to_config().unwrap();
    assert_eq!(read.enable, Some(true));
    assert_eq!(
        read.ports,
        vec![
            ("http-0-x8k2".to_owned(), "4008".to_owned()),
            ("https-0-x8k2".to_owned(), "4008".to_owned())
        ]
    );
    let http = read.config.http.as_ref().unwrap();
    let https = &http.routers["https-0-x8k2"];
    assert_eq!(https.entry_points, Some(vec!["https".to_owned()]));
    assert_eq!(https.middlewares, Some(vec!["gzip".to_owned()]));
    assert_eq!(
        https.tls.as_ref().and_then(|t| t.cert_resolver.as_deref()),
        Some("letsencrypt")
    );
    // `redirectscheme` read under its file spelling, `compress=true` as a struct switched on.
    let redirect = http.middlewares["redirect-to-https"]
        .redirect_scheme
        .as_ref()
        .unwrap();
    assert_eq!(redirect.scheme.as_deref(), Some("https"));
    assert!(http.middlewares["gzip"].compress.is_some());
    // Nothing the linter would call unknown: every key found its spelling.
    let findings = lint(&read.config, &LABELS);
    assert!(
        findings.iter().all(|d| d.rule != "unknown-key"),
        "{findings:#?}"
    );
}

#[test]
fn writes_a_config_back_as_the_labels_it_reads() {
    let (target, service) = omnichannel();
    let added = add_affinity(&Labels::parse(&coolify()).unwrap(), &target, &service).unwrap();
    let again = added.labels.to_config().unwrap();
    let relabelled = again.to_labels();
    let reread = Labels {
        lines: relabelled
            .iter()
            .map(|l| Line {
                text: l.render(Style::Plain),
                label: Some(l.clone()),
            })
            .collect(),
        style: Style::Plain,
    }
    .to_config()
    .unwrap();
    assert_eq!(reread, again);
}

#[test]
fn adds_the_affinity_and_changes_no_other_line() {
    let (target, service) = omnichannel();
    let labels = Labels::parse(&coolify()).unwrap();
    let added = add_affinity(&labels, &target, &service).unwrap();
    let text = added.labels.text();
    assert!(text.starts_with(&coolify()), "{text}");
    assert!(added.removed.is_empty(), "{:?}", added.removed);
    let ours = &text[coolify().len()..];
    let cookie = &service.sticky.name;
    let s = &service.name;
    for expected in [
        format!("traefik.http.routers.gaqno-{s}-socketio.entryPoints=https"),
        format!("traefik.http.routers.gaqno-{s}-socketio.middlewares=gzip,gaqno-{s}-affinity"),
        format!("traefik.http.routers.gaqno-{s}-socketio.service=https-0-x8k2"),
        format!("traefik.http.routers.gaqno-{s}-socketio.rule=Host(`chat.example.com`) && PathPrefix(`/socket.io/`)"),
        format!("traefik.http.routers.gaqno-{s}-socketio.tls.certResolver=letsencrypt"),
        format!("traefik.http.routers.gaqno-{s}-socketio-ws.middlewares=gzip"),
        format!("traefik.http.services.https-0-x8k2.loadBalancer.sticky.cookie.name={cookie}"),
        "traefik.http.services.https-0-x8k2.loadBalancer.healthCheck.path=/v1/health".to_owned(),
        format!("traefik.http.middlewares.gaqno-{s}-affinity.plugin.gaqno-lb.cookieName={cookie}"),
        format!("traefik.http.middlewares.gaqno-{s}-affinity.plugin.gaqno-lb.socketIoPath=/socket.io/"),
    ] {
        assert!(ours.lines().any(|l| l == expected), "missing {expected}\n{ours}");
    }
    // The redirecting router's service gets nothing: no request reaches it.
    assert!(!ours.contains("services.http-0-x8k2"), "{ours}");
    assert_eq!(added.added.len(), ours.lines().count());
    // The result lints clean of errors, and the plugin is attached where the cookie is.
    let read = added.labels.to_config().unwrap();
    let findings = lint(&read.config, &LABELS);
    assert!(
        findings
            .iter()
            .all(|d| d.severity == crate::lint::Severity::Warning),
        "{findings:#?}"
    );
    assert!(
        findings.iter().all(|d| d.rule != "plugin-cookie-mismatch"),
        "{findings:#?}"
    );
    // Run again on its own output: nothing added, nothing removed, same text.
    let twice = add_affinity(&added.labels, &target, &service).unwrap();
    assert_eq!(twice.labels.text(), text);
    assert!(twice.added.is_empty() && twice.removed.is_empty());
}

#[test]
fn replaces_what_it_wrote_before_when_settings_change() {
    let (target, mut service) = omnichannel();
    let first = add_affinity(&Labels::parse(&coolify()).unwrap(), &target, &service).unwrap();
    service.sticky.name = "renamed_cookie".into();
    let second = add_affinity(&first.labels, &target, &service).unwrap();
    let text = second.labels.text();
    assert!(
        !text.contains(&format!("={}\n", first_cookie(&first))),
        "{text}"
    );
    assert_eq!(text.matches("renamed_cookie").count(), 2, "{text}"); // sticky + plugin
    assert_eq!(second.added.len(), 2);
    assert_eq!(second.removed.len(), 2);
}

fn first_cookie(added: &coolify::Added) -> String {
    added
        .labels
        .labels()
        .find(|l| l.key.ends_with("sticky.cookie.name"))
        .map(|l| l.value.clone())
        .unwrap_or_default()
}

#[test]
fn keeps_the_compose_style_it_was_given() {
    let (target, service) = omnichannel();
    let list: String = coolify()
        .lines()
        .map(|l| format!("      - '{l}'\n"))
        .collect();
    let labels = Labels::parse(&format!("    labels:\n{list}")).unwrap();
    assert_eq!(
        labels.style,
        Style::List {
            quote: Some('\''),
            indent: 6
        }
    );
    let added = add_affinity(&labels, &target, &service).unwrap();
    assert!(added
        .added
        .iter()
        .all(|l| l.starts_with("      - 'traefik.") && l.ends_with('\'')));
    let map: String = coolify()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            format!("  {k}: '{v}'\n")
        })
        .collect();
    let labels = Labels::parse(&map).unwrap();
    assert_eq!(labels.style, Style::Map { indent: 2 });
    let read = labels.to_config().unwrap();
    assert_eq!(
        read.config.http.unwrap().routers["https-0-x8k2"]
            .rule
            .as_deref(),
        Some("Host(`chat.example.com`) && PathPrefix(`/`)")
    );
    let added = add_affinity(&Labels::parse(&map).unwrap(), &target, &service).unwrap();
    let reread = Labels::parse(&added.labels.text())
        .unwrap()
        .to_config()
        .unwrap();
    assert!(reread.config.http.unwrap().middlewares.len() == 3);
}

#[test]
fn bad_label_text_names_its_line() {
    let err = Labels::parse("traefik.enable=true\nthis is not a label\n").unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.message.contains("is not a label"), "{err}");
    let err =
        Labels::parse("traefik.enable=true\ntraefik.htp.routers.a.rule=Host(`a`)\n").unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.message.contains("`htp` a typo"), "{err}");
    let err = Labels::parse("=x\n").unwrap_err();
    assert_eq!(err.line, 1);
    let err = Labels::parse(
        "traefik.http.routers.a.tls=yes\ntraefik.http.routers.a.tls.certresolver=le\n",
    )
    .unwrap()
    .to_config()
    .unwrap_err();
    assert_eq!(err.line, 2, "{err}");
    let err = Labels::parse("traefik.http.routers.a..rule=x\n")
        .unwrap()
        .to_config()
        .unwrap_err();
    assert_eq!(err.line, 1, "{err}");
}

#[test]
fn the_runbooks_mistake_is_caught_in_labels_too() {
    // The runbook's `stickyCookie` middleware, as labels.
    let text = format!(
        "{}traefik.http.middlewares.sticky.stickyCookie.name=gaqno_omni\ntraefik.http.routers.https-0-x8k2.middlewares=gzip,sticky\n",
        coolify()
    );
    let labels = Labels::parse(&text).unwrap();
    let read = labels.to_config().unwrap();
    let findings = lint(&read.config, &LABELS);
    let finding = findings
        .iter()
        .find(|d| d.rule == "sticky-cookie-middleware")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    let line = labels.line_of(&finding.path).unwrap();
    assert!(
        labels.lines[line - 1].text.contains("stickyCookie"),
        "line {line}"
    );
}

#[test]
fn a_plugin_with_another_cookie_name_is_caught() {
    let (target, service) = omnichannel();
    let added = add_affinity(&Labels::parse(&coolify()).unwrap(), &target, &service).unwrap();
    let text = added.labels.text().replace(
        ".plugin.gaqno-lb.cookieName=",
        ".plugin.gaqno-lb.cookieName=other_",
    );
    let labels = Labels::parse(&text).unwrap();
    let findings = lint(&labels.to_config().unwrap().config, &LABELS);
    assert!(
        findings.iter().any(|d| d.rule == "plugin-cookie-mismatch"),
        "{findings:#?}"
    );
}

#[test]
fn labels_without_a_serving_router_say_so() {
    let (target, service) = omnichannel();
    let err = add_affinity(
        &Labels::parse("traefik.enable=true\n").unwrap(),
        &target,
        &service,
    )
    .unwrap_err();
    assert!(
        err.message.contains("paste the labels Coolify shows"),
        "{err}"
    );
    let only_redirect: String = coolify()
        .lines()
        .filter(|l| !l.contains("https-0"))
        .map(|l| format!("{l}\n"))
        .collect();
    let err = add_affinity(&Labels::parse(&only_redirect).unwrap(), &target, &service).unwrap_err();
    assert!(err.message.contains("only redirects"), "{err}");
}

#[test]
fn a_plugin_on_no_router_is_caught() {
    let (target, service) = omnichannel();
    let added = add_affinity(&Labels::parse(&coolify()).unwrap(), &target, &service).unwrap();
    let text: String = added
        .labels
        .text()
        .lines()
        .filter(|l| !l.contains(".routers.gaqno-"))
        .map(|l| format!("{l}\n"))
        .collect();
    let labels = Labels::parse(&text).unwrap();
    let findings = lint(&labels.to_config().unwrap().config, &LABELS);
    let finding = findings
        .iter()
        .find(|d| d.rule == "affinity-not-attached")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    let line = labels.line_of(&finding.path).unwrap();
    assert!(
        labels.lines[line - 1].text.contains("-affinity.plugin."),
        "{line}"
    );
}

#[test]
fn a_rest_service_gets_the_sticky_cookie_and_health_check_only() {
    let (target, mut service) = omnichannel();
    service.set_socket_io(false);
    let added = add_affinity(&Labels::parse(&coolify()).unwrap(), &target, &service).unwrap();
    assert!(
        added
            .added
            .iter()
            .all(|l| l.contains(".services.https-0-x8k2.")),
        "{:#?}",
        added.added
    );
    assert!(!added.added.is_empty());
}

#[test]
fn a_www_redirect_router_still_serves() {
    let (target, service) = omnichannel();
    let text = coolify().replace(
        "traefik.http.routers.https-0-x8k2.middlewares=gzip",
        "traefik.http.routers.https-0-x8k2.middlewares=redirect-to-non-www,gzip",
    ) + "traefik.http.middlewares.redirect-to-non-www.redirectregex.regex=^https?://www\\.(.+)\ntraefik.http.middlewares.redirect-to-non-www.redirectregex.replacement=https://${1}\n";
    let added = add_affinity(&Labels::parse(&text).unwrap(), &target, &service).unwrap();
    assert!(
        added.added.iter().any(|l| l.contains(".routers.gaqno-omnichannel-service-socketio.service=https-0-x8k2")),
        "{:#?}",
        added.added
    );
}

#[test]
fn generated_labels_have_coolifys_shape_and_take_our_labels() {
    let project = Project::gaqno();
    let service = project
        .services
        .iter()
        .find(|s| s.socket_io.enabled)
        .expect("a Socket.IO service");
    let text = coolify::generated_labels(service);
    let labels = Labels::parse(&text).expect("parses");
    let read = labels.to_config().expect("reads");
    let http = read.config.http.expect("routers");
    let https_router = format!("https-0-{}", service.name);
    assert_eq!(
        http.routers[&https_router].rule.as_deref(),
        Some("Host(`omnichannel-service.gaqno.com.br`) && PathPrefix(`/`)")
    );
    assert!(text.contains(&format!(
        "traefik.http.services.{https_router}.loadbalancer.server.port=4008"
    )));
    let added = add_affinity(&labels, &project.target, service).expect("ours added");
    assert!(added
        .added
        .iter()
        .any(|l| l.contains("socketio.middlewares=")));
    assert!(added.removed.is_empty());
}

/// What Coolify's own functions wrote (`shared/test_data/coolify/`).
fn golden(name: &str) -> String {
    crate::coolify::golden(name)
}

/// Every finding of the linter on labels, as text.
fn findings_on(labels: &Labels) -> Vec<String> {
    let read = labels.to_config().unwrap();
    lint(&read.config, &LABELS)
        .iter()
        .map(|d| format!("{d}"))
        .collect()
}

#[test]
fn every_coolify_case_keeps_coolifys_lines_and_lints_clean() {
    let (target, service) = omnichannel();
    for file in [
        "standalone.txt",
        "standalone-domains.txt",
        "standalone-path.txt",
        "standalone-gzip-off.txt",
        "standalone-http-only.txt",
        "swarm-standalone.txt",
        "compose.txt",
    ] {
        let text = golden(file);
        let labels = Labels::parse(&text).unwrap();
        // Nothing on Coolify's lines is wrong; what they lack is what `add_affinity` adds.
        let on_coolifys: Vec<String> = findings_on(&labels)
            .into_iter()
            .filter(|f| !f.contains("[missing-health-check]"))
            .collect();
        assert_eq!(
            on_coolifys,
            Vec::<String>::new(),
            "{file}: Coolify's own lines"
        );
        let added = add_affinity(&labels, &target, &service).unwrap();
        assert!(added.labels.text().starts_with(&text), "{file}");
        assert!(added.removed.is_empty(), "{file}: {:?}", added.removed);
        assert_eq!(findings_on(&added.labels), Vec::<String>::new(), "{file}");
        assert_eq!(added.compose, file.starts_with("compose"), "{file}");
    }
}

#[test]
fn several_domains_get_a_socket_io_router_each() {
    let (target, service) = omnichannel();
    let added = add_affinity(
        &Labels::parse(&golden("standalone-domains.txt")).unwrap(),
        &target,
        &service,
    )
    .unwrap();
    let routers = added
        .labels
        .to_config()
        .unwrap()
        .config
        .http
        .unwrap()
        .routers;
    let s = &service.name;
    for (router, host, backend) in [
        (
            format!("gaqno-{s}-socketio"),
            "omni.example.com",
            "https-0-k4c8w0s8g8ok0c4gs0wck8sg",
        ),
        (
            format!("gaqno-{s}-socketio-2"),
            "chat.example.com",
            "https-1-k4c8w0s8g8ok0c4gs0wck8sg",
        ),
    ] {
        let r = &routers[&router];
        assert_eq!(
            r.rule.as_deref(),
            Some(format!("Host(`{host}`) && PathPrefix(`/socket.io/`)").as_str())
        );
        assert_eq!(r.service.as_deref(), Some(backend));
    }
}

#[test]
fn a_domain_with_a_path_puts_socket_io_under_it() {
    let (target, service) = omnichannel();
    let s = &service.name;
    let uuid = "k4c8w0s8g8ok0c4gs0wck8sg";
    let added = add_affinity(
        &Labels::parse(&golden("standalone-path.txt")).unwrap(),
        &target,
        &service,
    )
    .unwrap();
    let http = added.labels.to_config().unwrap().config.http.unwrap();
    let socket_io = &http.routers[&format!("gaqno-{s}-socketio")];
    assert_eq!(
        socket_io.rule.as_deref(),
        Some("Host(`example.com`) && PathPrefix(`/omni/socket.io/`)")
    );
    // The prefix is stripped before the plugin, which is set for the path it then sees.
    assert_eq!(
        socket_io.middlewares.as_deref().unwrap(),
        [
            format!("https-0-{uuid}-stripprefix"),
            "gzip".to_owned(),
            format!("gaqno-{s}-affinity")
        ]
    );
    let plugin = &http.middlewares[&format!("gaqno-{s}-affinity")]
        .plugin
        .as_ref()
        .unwrap()["gaqno-lb"];
    assert_eq!(plugin["socketIoPath"], "/socket.io/");
    assert!(http.routers[&format!("gaqno-{s}-socketio-ws")]
        .rule
        .as_deref()
        .unwrap()
        .starts_with("Host(`example.com`) && PathPrefix(`/omni/socket.io/`) && Query("));

    // Path prefixes kept as-is: the application sees `/omni/…`; its Socket.IO path must be
    // under it, and is then the public path and the plugin's.
    let kept = crate::coolify::Application {
        strip_prefix: false,
        ..crate::coolify::Application::standalone(uuid, &["https://example.com/omni"], 4008)
    }
    .active_labels();
    let err = add_affinity(&Labels::parse(&kept).unwrap(), &target, &service).unwrap_err();
    assert!(
        err.message.contains("set it to `/omni/socket.io/`"),
        "{err}"
    );
    let mut under = service.clone();
    under.socket_io.path = "/omni/socket.io/".into();
    let added = add_affinity(&Labels::parse(&kept).unwrap(), &target, &under).unwrap();
    let http = added.labels.to_config().unwrap().config.http.unwrap();
    assert_eq!(
        http.routers[&format!("gaqno-{s}-socketio")].rule.as_deref(),
        Some("Host(`example.com`) && PathPrefix(`/omni/socket.io/`)")
    );
    assert_eq!(findings_on(&added.labels), Vec::<String>::new());
}

#[test]
fn compose_lines_are_ours_only_and_stay_off_coolifys_routers() {
    let (target, service) = omnichannel();
    let s = &service.name;
    let added = add_affinity(
        &Labels::parse(&golden("compose.txt")).unwrap(),
        &target,
        &service,
    )
    .unwrap();
    assert!(added.compose);
    assert!(added.instructions().contains("labels: in the compose file"));
    let ours: Vec<String> = added
        .ours
        .labels()
        .map(|l| format!("{}={}", l.key, l.value))
        .collect();
    assert_eq!(ours.len(), added.added.len());
    assert!(ours
        .iter()
        .all(|l| !l.starts_with("coolify.") && !l.contains("routers.https-0-")));
    assert!(
        ours.iter().any(|l| l.starts_with(&format!(
            "traefik.http.Middlewares.gaqno-{s}-affinity.plugin."
        ))),
        "{ours:#?}"
    );
    // Deployed: Coolify writes its labels after ours (its own function, ported), and its
    // routers keep only their own middlewares.
    let app = crate::coolify::Application::compose(
        "k4c8w0s8g8ok0c4gs0wck8sg",
        &["https://omni.example.com:4008"],
    );
    let deployed = app.compose_labels("omnichannel-service", &ours);
    let text: String = deployed.iter().map(|l| format!("{l}\n")).collect();
    let labels = Labels::parse(&text).unwrap();
    let http = labels.to_config().unwrap().config.http.unwrap();
    let coolifys = &http.routers["https-0-k4c8w0s8g8ok0c4gs0wck8sg-omnichannel-service-47ff"];
    assert_eq!(coolifys.middlewares.as_deref().unwrap(), ["gzip"]);
    assert!(http.routers[&format!("gaqno-{s}-socketio")]
        .middlewares
        .as_deref()
        .unwrap()
        .contains(&format!("gaqno-{s}-affinity")));
    assert_eq!(findings_on(&labels), Vec::<String>::new());
    // The control: spelled as Traefik's docs spell it, Coolify would take the middleware.
    let lower: Vec<String> = ours
        .iter()
        .map(|l| l.replace("traefik.http.Middlewares.", "traefik.http.middlewares."))
        .collect();
    let deployed = app.compose_labels("omnichannel-service", &lower);
    assert!(
        deployed
            .iter()
            .any(|l| l.ends_with(&format!(".middlewares=gzip,gaqno-{s}-affinity"))),
        "{deployed:#?}"
    );
}

#[test]
fn a_compose_domain_without_its_port_names_the_fix() {
    let (target, service) = omnichannel();
    let err = add_affinity(
        &Labels::parse(&golden("compose-no-port.txt")).unwrap(),
        &target,
        &service,
    )
    .unwrap_err();
    let text = err.to_string();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains("set the domain to `https://omni.example.com:4008`"),
        "{text}"
    );
    assert!(
        !text.contains("Coolify writes `traefik.http.routers"),
        "{text}"
    );
}

/// Issue 31: a router added by hand beside Coolify's, with its rule on its entry point,
/// is found in labels as in a file.
#[test]
fn a_router_claiming_coolifys_route_is_found() {
    let https_rule = Labels::parse(&coolify())
        .unwrap()
        .to_config()
        .unwrap()
        .config
        .http
        .unwrap()
        .routers["https-0-x8k2"]
        .rule
        .clone()
        .unwrap();
    let text = format!(
        "{}traefik.http.routers.mine.rule={https_rule}\ntraefik.http.routers.mine.entryPoints=https\ntraefik.http.routers.mine.service=https-0-x8k2\n",
        coolify()
    );
    let read = Labels::parse(&text).unwrap().to_config().unwrap();
    let found: Vec<_> = lint(&read.config, &LABELS)
        .into_iter()
        .filter(|d| d.rule == "routers-claim-one-route")
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .message
            .contains("claims what `https-0-x8k2` claims"),
        "{found:?}"
    );
    // Coolify's own labels claim nothing twice.
    let own = Labels::parse(&coolify()).unwrap().to_config().unwrap();
    assert!(!lint(&own.config, &LABELS)
        .iter()
        .any(|d| d.rule == "routers-claim-one-route"));
}
