//! The plugin against hostile and odd input, in real Traefik: a stand-in engine.io backend
//! (`tests/node/fake-engine.js`) echoes the URI and Cookie header it received, so every
//! case asserts byte for byte what reached the replica. No case may get a 500 from the
//! plugin or a panic in Traefik's log. Bad plugin configs must disable their middleware
//! with our reason in Traefik's log.

use serde_json::{json, Value};
use shared::model::{Service, SocketIo};
use shared::traefik::{sticky_cookie_value, Middleware, Router};
use tests::{
    free_port, http_request, node, wait_http_ok, HttpResponse, Loaded, TempDir, Traefik,
    TraefikSetup, TRAEFIK_VERSIONS, WEB,
};

const SECRET: &str = "a-secret-of-more-than-16-bytes";

/// Bad configs, each under `/bad-<i>/`, with the reason Traefik's log must show. (A `null`
/// config never reaches the plugin: Traefik's file provider refuses the whole file; the
/// `null-plugin-config` lint and its corpus case cover it.)
fn bad_configs() -> Vec<(Value, &'static str)> {
    vec![
        (json!({}), "cookieName is required"),
        (json!({"cookieName": ""}), "1 to 64 bytes"),
        (json!({"cookieName": "a;b"}), "contains ';'"),
        (
            json!({"cookieName": "c", "socketIoPath": "no-slash"}),
            "must start with '/'",
        ),
        (
            json!({"cookieName": "c", "secret": "short"}),
            "16 to 256 bytes",
        ),
        (
            json!({"cookieName": "c", "cookiename": "d"}),
            "unknown field `cookiename`",
        ),
        (
            json!({"cookieName": "c", "debugHeader": "maybe"}),
            "debugHeader must be true or false",
        ),
        (
            json!({"cookieName": "c", "nested": {"a": 1}}),
            "lists and maps are not accepted",
        ),
    ]
}

fn config(fake_url: &str) -> String {
    let service = |name: &str, path: &str, secret: Option<&str>| {
        let mut s = Service::new(name, 0, 0);
        s.hosts.clear();
        s.servers = vec![fake_url.to_owned()];
        s.health_check = None;
        s.sticky.secure = false;
        s.socket_io = SocketIo {
            enabled: true,
            path: path.into(),
            secret: secret.map(String::from),
        };
        s
    };
    let mut config = tests::loopback_config(vec![
        service("chat", "/socket.io/", None),
        service("signed", "/signed/", Some(SECRET)),
    ]);
    let http = config.http.as_mut().expect("http");
    // The debug header on the unsigned service, set the way the file provider sends it.
    if let Some(Value::Object(plugin)) = http
        .middlewares
        .get_mut("gaqno-chat-affinity")
        .and_then(|m| m.plugin.as_mut())
        .and_then(|p| p.get_mut("gaqno-lb"))
    {
        plugin.insert("debugHeader".into(), json!("true"));
    }
    for (i, (bad, _)) in bad_configs().into_iter().enumerate() {
        let name = format!("bad-{i}");
        http.middlewares.insert(
            name.clone(),
            Middleware {
                plugin: Some([("gaqno-lb".to_owned(), bad)].into_iter().collect()),
                ..Default::default()
            },
        );
        http.routers.insert(
            name.clone(),
            Router {
                rule: Some(format!("PathPrefix(`/{name}/`)")),
                middlewares: Some(vec![name]),
                service: Some("gaqno-chat".into()),
                entry_points: Some(vec![WEB.into()]),
                ..Default::default()
            },
        );
    }
    shared::yaml::to_string(&config).expect("YAML")
}

struct Rig {
    traefik: Traefik,
    fake_url: String,
    _fake: tests::ProcessGuard,
    _dir: TempDir,
}

impl Rig {
    fn get(&self, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
        self.request("GET", path, headers)
    }

    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
        let port = self.traefik.port(WEB).expect("web port");
        let response = http_request(port, method, path, headers)
            .unwrap_or_else(|e| panic!("{method} {path}: {e:#}"));
        assert!(
            !(response.status == 500 && String::from_utf8_lossy(&response.body).contains("wasm")),
            "{path}: the plugin failed: {response:?}"
        );
        response
    }

    fn seen_uri(&self, path: &str, headers: &[(&str, &str)]) -> String {
        let response = self.get(path, headers);
        assert_eq!(response.status, 200, "{path}: {response:?}");
        response.header("x-seen-uri").unwrap_or_default().to_owned()
    }
}

fn rigs() -> Vec<Rig> {
    let Some(plugin) = tests::plugin_dir() else {
        return vec![];
    };
    if tests::node_modules().is_none() {
        return vec![];
    }
    let mut rigs = Vec::new();
    for version in TRAEFIK_VERSIONS {
        let Some(binary) = tests::traefik_binary(version) else {
            return vec![];
        };
        let dir = TempDir::new("fake-engine").expect("temp dir");
        let port = free_port().expect("port");
        let fake = node(
            "fake-engine.js",
            &[port.to_string()],
            dir.path().join("fake.log"),
        )
        .expect("fake engine");
        wait_http_ok(port, "/v1/health", 10).expect("fake engine up");
        let fake_url = format!("http://127.0.0.1:{port}");
        let setup = TraefikSetup {
            entry_points: vec![WEB.into()],
            files: vec![("inputs.yaml".into(), config(&fake_url))],
            plugin: Some(("gaqno-lb".into(), plugin.clone())),
            ..TraefikSetup::default()
        };
        let mut traefik = Traefik::start(&binary, version, &setup).expect("Traefik");
        assert!(
            matches!(traefik.loaded().expect("loaded"), Loaded::Config(_)),
            "{}",
            traefik.log()
        );
        rigs.push(Rig {
            traefik,
            fake_url,
            _fake: fake,
            _dir: dir,
        });
    }
    rigs
}

#[test]
fn hostile_requests_pass_or_pin_never_break() {
    for rig in rigs() {
        let version = rig.traefik.version.clone();
        let value = sticky_cookie_value(&rig.fake_url);
        let base = "/socket.io/?EIO=4&transport=polling";

        // A token pins: stripped from the sid, its value in the sticky cookie, which
        // Traefik's balancer accepts (no Set-Cookie back).
        let path = format!("{base}&sid=FAKEsid~{value}&t=1");
        let response = rig.get(&path, &[]);
        assert_eq!(
            response.header("x-seen-uri"),
            Some(format!("{base}&sid=FAKEsid&t=1").as_str()),
            "{version}: {response:?}\n{}",
            rig.traefik.log()
        );
        assert_eq!(
            response.header("x-seen-cookie"),
            Some(format!("gaqno_chat={value}").as_str()),
            "{version}"
        );
        assert_eq!(
            response.header("set-cookie"),
            None,
            "{version}: Traefik should route by the injected cookie"
        );
        assert_eq!(
            response.header("x-gaqno-lb-route"),
            Some("sid"),
            "{version}"
        );

        // The sid's token wins over a stale cookie; other cookies are kept.
        let response = rig.get(
            &path,
            &[("Cookie", "a=1; gaqno_chat=0000000000000000; b=2")],
        );
        assert_eq!(
            response.header("x-seen-cookie"),
            Some(format!("a=1; b=2; gaqno_chat={value}").as_str()),
            "{version}"
        );
        // A cookie naming the same replica already (a browser that keeps it): the header
        // goes on as sent, not rewritten (against the stale case just above), and Traefik
        // routes by it.
        let kept = format!("b=2;gaqno_chat={value} ; a=1");
        let response = rig.get(&path, &[("Cookie", &kept)]);
        assert_eq!(
            response.header("x-seen-cookie"),
            Some(kept.as_str()),
            "{version}"
        );
        assert_eq!(
            response.header("x-seen-uri"),
            Some(format!("{base}&sid=FAKEsid&t=1").as_str()),
            "{version}"
        );
        assert_eq!(response.header("set-cookie"), None, "{version}");

        // A percent-encoded separator, and an unknown value (Traefik then picks and re-sets).
        assert_eq!(
            rig.seen_uri(&format!("{base}&sid=FAKEsid%7E{value}"), &[]),
            format!("{base}&sid=FAKEsid"),
            "{version}"
        );
        let unknown = rig.get(&format!("{base}&sid=FAKEsid~ffffffffffffffff"), &[]);
        assert!(
            unknown
                .header("set-cookie")
                .is_some_and(|c| c.starts_with(&format!("gaqno_chat={value}"))),
            "{version}: {unknown:?}"
        );

        // Garbage passes through byte for byte.
        for sid in [
            "FAKEsid~!!",
            "FAKEsid~",
            "~v1",
            "FAKEsid%7",
            "FAKEsid~v1.nothex",
            "plain",
        ] {
            let path = format!("{base}&sid={sid}&z=%20");
            assert_eq!(rig.seen_uri(&path, &[]), path, "{version}: {sid}");
        }
        let duplicate = format!("{base}&sid=a~v1&sid=b~v2");
        assert_eq!(rig.seen_uri(&duplicate, &[]), duplicate, "{version}");
        let huge_sid = format!("{base}&sid={}~v1", "A".repeat(8000));
        assert_eq!(rig.seen_uri(&huge_sid, &[]), huge_sid, "{version}");

        // A huge Cookie header: the sid is still stripped, the cookie left alone.
        let huge_cookie = format!("big={}", "x".repeat(20_000));
        let response = rig.get(&path, &[("Cookie", &huge_cookie)]);
        assert_eq!(
            response.header("x-seen-uri"),
            Some(format!("{base}&sid=FAKEsid&t=1").as_str()),
            "{version}"
        );
        assert_eq!(
            response.header("x-seen-cookie"),
            Some(huge_cookie.as_str()),
            "{version}"
        );

        // Outside socketIoPath nothing is touched (REST never enters the plugin's router).
        let rest = format!("/api/users?sid=FAKEsid~{value}");
        assert_eq!(rig.seen_uri(&rest, &[]), rest, "{version}");

        // Signed service: a forged token is stripped and not followed.
        let forged = rig.get(
            &format!("/signed/?EIO=4&transport=polling&sid=FAKEsid~{value}.0123456789abcdef"),
            &[],
        );
        assert_eq!(
            forged.header("x-seen-uri"),
            Some("/signed/?EIO=4&transport=polling&sid=FAKEsid"),
            "{version}"
        );
        assert_eq!(
            forged.header("x-seen-cookie"),
            Some(""),
            "{version}: a forged token must not pin"
        );
        // ... and a genuine one, from a real handshake, pins.
        let handshake = rig.get("/signed/?EIO=4&transport=polling", &[]);
        let body = String::from_utf8_lossy(&handshake.body).into_owned();
        let sid = body
            .split("\"sid\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_default()
            .to_owned();
        assert!(
            sid.starts_with(&format!("FAKEsid0000000000001~{value}.")),
            "{version}: {body}"
        );
        let genuine = rig.get(&format!("/signed/?EIO=4&transport=polling&sid={sid}"), &[]);
        assert_eq!(
            genuine.header("x-seen-uri"),
            Some("/signed/?EIO=4&transport=polling&sid=FAKEsid0000000000001"),
            "{version}"
        );
        assert_eq!(
            genuine.header("x-seen-cookie"),
            Some(format!("gaqno_signed={value}").as_str()),
            "{version}"
        );

        let log = rig.traefik.log();
        assert!(
            log.contains("sid token failed its signature"),
            "{version}: the forged token should be logged\n{log}"
        );
        assert!(!log.contains("gaqno-lb: panic"), "{version}: {log}");
        // The only traps are the deliberate ones of the bad configs, at load time.
        let traps: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("wasm error") && !l.contains("routerName=bad-"))
            .collect();
        assert!(traps.is_empty(), "{version}: {traps:#?}");
    }
}

/// The exporter's WebSocket-only router: a WebSocket open without a sid reaches the
/// replica without entering the plugin (no debug header: it never ran, so Traefik holds no
/// guest instance for the socket), while the same request with a tokened sid (an upgrade)
/// and polling still go through it.
#[test]
fn websocket_only_opens_skip_the_plugin() {
    for rig in rigs() {
        let version = rig.traefik.version.clone();
        let value = sticky_cookie_value(&rig.fake_url);
        let open = "/socket.io/?EIO=4&transport=websocket";
        let response = rig.get(open, &[]);
        assert_eq!(response.header("x-seen-uri"), Some(open), "{version}");
        assert_eq!(
            response.header("x-gaqno-lb-route"),
            None,
            "{version}: a WebSocket-only open went through the plugin: {response:?}"
        );
        // The control: with a sid (the upgrade of a polling session) the plugin runs.
        let upgrade = format!("{open}&sid=FAKEsid~{value}");
        let response = rig.get(&upgrade, &[]);
        assert_eq!(
            response.header("x-gaqno-lb-route"),
            Some("sid"),
            "{version}"
        );
        assert_eq!(
            response.header("x-seen-uri"),
            Some(format!("{open}&sid=FAKEsid").as_str()),
            "{version}"
        );
        let polling = rig.get("/socket.io/?EIO=4&transport=polling", &[]);
        assert!(
            polling.header("x-gaqno-lb-route").is_some(),
            "{version}: polling skipped the plugin: {polling:?}"
        );
    }
}

#[test]
fn handshakes_are_rewritten_only_when_recognised() {
    for rig in rigs() {
        let version = rig.traefik.version.clone();
        let value = sticky_cookie_value(&rig.fake_url);
        let base = "/socket.io/?EIO=4&transport=polling";
        let length_matches = |r: &HttpResponse| {
            r.header("content-length")
                .and_then(|l| l.parse::<usize>().ok())
                == Some(r.body.len())
        };

        let fresh = rig.get(base, &[]);
        let body = String::from_utf8_lossy(&fresh.body).into_owned();
        assert!(
            body.starts_with(&format!(
                "0{{\"sid\":\"FAKEsid0000000000001~{value}\",\"upgrades\""
            )),
            "{version}: {body}"
        );
        assert!(
            length_matches(&fresh),
            "{version}: Content-Length must follow the body: {fresh:?}"
        );
        assert_eq!(fresh.header("x-gaqno-lb-route"), Some("new"), "{version}");

        // A client that already has the cookie: Traefik sets none, the request's is used.
        let known = rig.get(base, &[("Cookie", &format!("gaqno_chat={value}"))]);
        assert!(
            String::from_utf8_lossy(&known.body).contains(&format!("~{value}\"")),
            "{version}: {known:?}"
        );
        assert_eq!(
            known.header("x-gaqno-lb-route"),
            Some("cookie"),
            "{version}"
        );

        // Header values past 2 KiB on both sides (the backend's Set-Cookie values, the
        // client's Cookie): still tagged, nothing trapped.
        let long_cookie = format!("big={}", "c".repeat(3000));
        let many = rig.get(
            &format!("{base}&case=many-cookies"),
            &[("Cookie", &long_cookie)],
        );
        assert!(
            String::from_utf8_lossy(&many.body).contains(&format!("~{value}\"")),
            "{version}: {many:?}"
        );
        assert!(length_matches(&many), "{version}");
        let known = rig.get(
            &format!("{base}&case=many-cookies"),
            &[("Cookie", &format!("{long_cookie}; gaqno_chat={value}"))],
        );
        assert!(
            String::from_utf8_lossy(&known.body).contains(&format!("~{value}\"")),
            "{version}: {known:?}"
        );

        // Protocol 3: the length prefix is fixed, what follows kept.
        let eio3 = rig.get(&format!("{base}&case=eio3"), &[]);
        let text = String::from_utf8_lossy(&eio3.body).into_owned();
        let (len, rest) = text.split_once(':').expect("length prefix");
        let packet_len: usize = len.parse().expect("length");
        assert!(
            rest[..packet_len].starts_with("0{\"sid\":\"FAKEsid0000000000001~")
                && &rest[packet_len..] == "2:40",
            "{version}: {text}"
        );
        assert!(length_matches(&eio3), "{version}");

        // Everything else passes untouched.
        // With Accept-Encoding from the client, Traefik's transport passes the gzip body on.
        let gzip = rig.get(&format!("{base}&case=gzip"), &[("Accept-Encoding", "gzip")]);
        assert_eq!(
            (gzip.header("content-encoding"), gzip.body.get(..2)),
            (Some("gzip"), Some(&[0x1f, 0x8b][..])),
            "{version}"
        );
        assert!(length_matches(&gzip), "{version}");
        for (case, status) in [("error", 500), ("not-engineio", 200), ("big", 200)] {
            let r = rig.get(&format!("{base}&case={case}"), &[]);
            assert_eq!(r.status, status, "{version}: {case}");
            assert!(
                !String::from_utf8_lossy(&r.body).contains('~'),
                "{version}: {case} was rewritten"
            );
            assert!(length_matches(&r), "{version}: {case}");
        }
        let jsonp = rig.get(&format!("{base}&j=0"), &[]);
        assert!(
            !String::from_utf8_lossy(&jsonp.body).contains('~'),
            "{version}: JSONP was rewritten"
        );
        let post = rig.request("POST", base, &[("Content-Length", "0")]);
        assert!(
            !String::from_utf8_lossy(&post.body).contains('~'),
            "{version}: a POST is no handshake"
        );
    }
}

#[test]
fn bad_configs_disable_their_middleware_loudly() {
    for rig in rigs() {
        let version = &rig.traefik.version;
        let (_, body) = tests::http_get(rig.traefik.api_port, "/api/rawdata").expect("rawdata");
        let raw: Value = serde_json::from_str(&body).expect("rawdata JSON");
        let objects = tests::file_objects(&raw);
        let log = rig.traefik.log();
        for (i, (config, reason)) in bad_configs().into_iter().enumerate() {
            let name = format!("bad-{i}");
            let disabled = objects.iter().any(|(kind, n, status, _)| {
                n == &name && status != "enabled" && (kind == "middlewares" || kind == "routers")
            });
            assert!(
                disabled,
                "{version}: {config} should disable {name}: {objects:?}"
            );
            assert!(
                log.contains(reason),
                "{version}: Traefik's log should say `{reason}` for {config}\n{log}"
            );
            // Its traffic falls through to the service's plain router: never rewritten.
            let response = rig.get(&format!("/{name}/?EIO=4&transport=polling"), &[]);
            assert!(
                !String::from_utf8_lossy(&response.body).contains('~'),
                "{version}: {name}: {response:?}"
            );
        }
        // The good ones are enabled.
        for name in [
            "gaqno-chat-affinity",
            "gaqno-signed-affinity",
            "gaqno-chat-socketio",
        ] {
            assert!(
                objects
                    .iter()
                    .any(|(_, n, status, _)| n == name && status == "enabled"),
                "{version}: {name}: {objects:?}"
            );
        }
    }
}
