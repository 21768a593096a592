//! `gaqno-lb check` against real Traefik (3.6.15, 3.7.15) in front of three real Socket.IO
//! replicas. The control first: without the affinity plugin, cookie-less polling sessions
//! break and `check` says so (exit 1) — the command can fail. With cookies, or with the
//! plugin, every mode holds (exit 0) and `check` names the three replicas.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::affinity::{dynamic_config, start_traefik, tools, Replicas};
use tests::WEB;

/// `target/<profile>/gaqno-lb`, built by `cargo test --workspace` for the cli's own tests.
pub(crate) fn gaqno_lb() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let binary = exe.parent()?.parent()?.join("gaqno-lb");
    if binary.is_file() {
        return Some(binary);
    }
    assert!(!tests::e2e_required(), "gaqno-lb is not built");
    eprintln!("skipping end-to-end test: gaqno-lb not built (run `cargo xtask test`)");
    None
}

/// Runs `gaqno-lb check <url> --format json <args>`: exit code and report.
pub(crate) fn check(binary: &std::path::Path, url: &str, args: &[&str]) -> (i32, Value) {
    check_trusting(binary, url, None, args)
}

/// [`check`], trusting the test CA `ca` (`SSL_CERT_FILE`, the roots the platform verifier
/// reads on Linux) when given.
pub(crate) fn check_trusting(
    binary: &std::path::Path,
    url: &str,
    ca: Option<&std::path::Path>,
    args: &[&str],
) -> (i32, Value) {
    let mut command = Command::new(binary);
    command
        .args([
            "check",
            url,
            "--format",
            "json",
            "--sessions",
            "12",
            "--concurrency",
            "6",
        ])
        .args(args);
    if let Some(ca) = ca {
        command.env("SSL_CERT_FILE", ca);
    }
    let out = command.output().expect("run gaqno-lb check");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check {url} {args:?}: {e}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

pub(crate) fn modes(report: &Value) -> Vec<Value> {
    report["modes"].as_array().cloned().unwrap_or_default()
}

#[test]
fn check_tells_held_sessions_from_broken_ones() {
    let (Some(tools), Some(binary)) = (tools(), gaqno_lb()) else {
        return;
    };
    let replicas = Replicas::start(3, 4);
    for (version, traefik_binary) in &tools.traefik {
        // The control: no plugin, cookie-less polling breaks; with cookies it holds.
        let traefik = start_traefik(
            traefik_binary,
            version,
            &tools.plugin,
            dynamic_config(&replicas.urls, false, "1s"),
        );
        let url = format!("http://127.0.0.1:{}", traefik.port(WEB).expect("port"));
        let (code, report) = check(&binary, &url, &["--transport", "polling"]);
        let polling = &modes(&report)[0];
        eprintln!("Traefik {version}, no plugin, no cookies: {polling}");
        assert_eq!(
            code, 1,
            "Traefik {version}: broken sessions must exit 1: {report:#}"
        );
        assert!(
            polling["held"].as_u64() < Some(12)
                && polling["errors"]
                    .as_object()
                    .is_some_and(|e| e.keys().any(|k| k.contains("session ID unknown"))),
            "Traefik {version}: {polling:#}"
        );
        let (code, report) = check(
            &binary,
            &url,
            &["--transport", "polling", "--cookies", "on"],
        );
        assert_eq!(code, 0, "Traefik {version}, cookies on: {report:#}");
        drop(traefik);

        // The plugin: every transport, cookies off and on, all held on the three replicas.
        let traefik = start_traefik(
            traefik_binary,
            version,
            &tools.plugin,
            dynamic_config(&replicas.urls, true, "1s"),
        );
        let url = format!("http://127.0.0.1:{}", traefik.port(WEB).expect("port"));
        let (code, report) = check(&binary, &url, &["--cookies", "both"]);
        assert_eq!(code, 0, "Traefik {version} with the plugin: {report:#}");
        assert_eq!(modes(&report).len(), 6, "3 transports x 2 cookie settings");
        for mode in modes(&report) {
            assert_eq!(mode["held"], mode["sessions"], "{mode:#}");
            assert_eq!(
                mode["unidentified"], 0,
                "every session's replica named: {mode:#}"
            );
            let seen: Vec<&String> = mode["replicas"]
                .as_object()
                .map(|r| r.keys().collect())
                .unwrap_or_default();
            let expected: Vec<String> = replicas
                .urls
                .iter()
                .map(|u| shared::traefik::sticky_cookie_value(u))
                .collect();
            assert!(
                seen.len() == 3 && seen.iter().all(|s| expected.contains(s)),
                "three replicas, named by their cookie values {expected:?}: {mode:#}"
            );
        }
    }
}

#[test]
fn check_holds_protocol_3_through_the_plugin() {
    let (Some(tools), Some(binary)) = (tools(), gaqno_lb()) else {
        return;
    };
    let replicas = Replicas::start(3, 3);
    let (version, traefik_binary) = &tools.traefik[0];
    let traefik = start_traefik(
        traefik_binary,
        version,
        &tools.plugin,
        dynamic_config(&replicas.urls, true, "1s"),
    );
    let url = format!("http://127.0.0.1:{}", traefik.port(WEB).expect("port"));
    let (code, report) = check(&binary, &url, &["--eio", "3", "--transport", "polling"]);
    assert_eq!(code, 0, "Socket.IO v2 through the plugin: {report:#}");
    assert_eq!(report["eio"], 3);
    let (code, report) = check(&binary, &url, &["--eio", "3", "--transport", "upgrade"]);
    assert_eq!(
        code, 0,
        "Socket.IO v2 upgrade through the plugin: {report:#}"
    );
}

/// `--traefik-api`: a Traefik started without the plugin is said to lack it (and its
/// affinity router is disabled); with the plugin and a replica killed, that server is DOWN,
/// every session held on the others, and each replica is named by its server URL; with the
/// plugin's `cookieName` not the sticky cookie's, sessions break and the mismatch is named.
#[test]
fn check_reads_traefiks_view() {
    let (Some(tools), Some(binary)) = (tools(), gaqno_lb()) else {
        return;
    };
    let mut replicas = Replicas::start(3, 4);
    let (version, traefik_binary) = &tools.traefik[0];

    // Without the plugin flag.
    let setup = tests::TraefikSetup {
        entry_points: vec![WEB.into()],
        files: vec![(
            "chat.yaml".into(),
            dynamic_config(&replicas.urls, true, "1s"),
        )],
        ..tests::TraefikSetup::default()
    };
    let mut traefik = tests::Traefik::start(traefik_binary, version, &setup).expect("Traefik");
    traefik.loaded().expect("loaded");
    let url = format!("http://127.0.0.1:{}", traefik.port(WEB).expect("port"));
    let api = format!("http://127.0.0.1:{}", traefik.api_port);
    let (_, report) = check(
        &binary,
        &url,
        &["--transport", "polling", "--traefik-api", &api],
    );
    assert_eq!(
        report["traefik"]["plugin_loaded"],
        Value::Bool(false),
        "{report:#}"
    );
    let human = Command::new(&binary)
        .args([
            "check",
            &url,
            "--sessions",
            "2",
            "--transport",
            "polling",
            "--traefik-api",
            &api,
        ])
        .output()
        .expect("check");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("the gaqno-lb plugin is not loaded in this Traefik"),
        "{text}"
    );
    drop(traefik);

    // With the plugin; one replica killed.
    let traefik = start_traefik(
        traefik_binary,
        version,
        &tools.plugin,
        dynamic_config(&replicas.urls, true, "1s"),
    );
    let killed = replicas.urls[2].clone();
    replicas.processes[2].kill();
    // The health check (every second, 500 ms timeout) marks it down.
    std::thread::sleep(std::time::Duration::from_millis(3000));
    let url = format!("http://127.0.0.1:{}", traefik.port(WEB).expect("port"));
    let api = format!("http://127.0.0.1:{}", traefik.api_port);
    let (code, report) = check(
        &binary,
        &url,
        &["--transport", "polling", "--traefik-api", &api],
    );
    assert_eq!(
        code, 0,
        "sessions hold on the two live replicas: {report:#}"
    );
    assert_eq!(report["traefik"]["plugin_loaded"], Value::Bool(true));
    let servers = report["traefik"]["services"][0]["servers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let down = servers
        .iter()
        .find(|s| s["url"] == Value::String(killed.clone()))
        .unwrap_or_else(|| panic!("{killed} not listed: {report:#}"));
    assert_eq!(down["status"], "DOWN", "{report:#}");
    assert_eq!(
        down["cookie"],
        Value::String(shared::traefik::sticky_cookie_value(&killed))
    );
    let mode = &modes(&report)[0];
    let named: Vec<&Value> = mode["replica_urls"]
        .as_object()
        .map(|m| m.values().collect())
        .unwrap_or_default();
    assert_eq!(named.len(), 2, "the two live replicas, by URL: {mode:#}");
    assert!(
        named
            .iter()
            .all(|u| replicas.urls[..2].contains(&u.as_str().unwrap_or_default().to_owned())),
        "{mode:#}"
    );
    drop(traefik);

    // The plugin's cookieName renamed away from the service's sticky cookie (a hand edit
    // gone wrong): the plugin pins through a cookie the balancer never reads, so cookie-less
    // sessions break, and `check` says why.
    let yaml = dynamic_config(&replicas.urls[..2], true, "1s");
    let renamed: String = yaml
        .lines()
        .map(|line| match line.split_once("cookieName:") {
            Some((indent, _)) => format!("{indent}cookieName: gaqno_renamed\n"),
            None => format!("{line}\n"),
        })
        .collect();
    assert!(
        yaml.contains("cookieName:"),
        "the plugin's cookieName: {yaml}"
    );
    let traefik = start_traefik(traefik_binary, version, &tools.plugin, renamed);
    let url = format!("http://127.0.0.1:{}", traefik.port(WEB).expect("port"));
    let api = format!("http://127.0.0.1:{}", traefik.api_port);
    let (code, report) = check(
        &binary,
        &url,
        &["--transport", "polling", "--traefik-api", &api],
    );
    assert_eq!(code, 1, "sessions break: {report:#}");
    let mismatches = report["traefik"]["cookie_mismatches"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(mismatches.len(), 1, "{report:#}");
    assert_eq!(mismatches[0]["plugin_cookie_name"], "gaqno_renamed");
    let human = Command::new(&binary)
        .args([
            "check",
            &url,
            "--sessions",
            "2",
            "--transport",
            "polling",
            "--traefik-api",
            &api,
        ])
        .output()
        .expect("check");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("the plugin's cookieName gaqno_renamed is not the service's sticky cookie"),
        "{text}"
    );
}

/// `check` over HTTPS and WSS, trusting the system's roots: Traefik terminates TLS with a
/// certificate from a test CA that `SSL_CERT_FILE` names (the roots the platform verifier
/// reads on Linux); every mode holds. The control: without that CA the target cannot be
/// checked, in one line (exit 2).
#[test]
fn check_speaks_tls_with_the_systems_roots() {
    let (Some(tools), Some(binary)) = (tools(), gaqno_lb()) else {
        return;
    };
    let replicas = Replicas::start(3, 4);
    let (version, traefik_binary) = &tools.traefik[0];
    let dir = tests::TempDir::new("check-tls").expect("temp dir");
    let (ca, key, cert) = tests::test_certificates(dir.path(), "localhost").expect("certificates");
    let mut config: shared::traefik::DynamicConfig =
        shared::yaml::from_str(&dynamic_config(&replicas.urls, true, "1s")).expect("YAML");
    for router in config.http.iter_mut().flat_map(|h| h.routers.values_mut()) {
        router.tls = Some(shared::traefik::RouterTls {
            options: Some(shared::export::DEFAULT_TLS_OPTIONS.into()),
            ..Default::default()
        });
    }
    let certificates = format!(
        "tls:\n  certificates:\n    - certFile: {}\n      keyFile: {}\n",
        cert.display(),
        key.display()
    );
    let setup = tests::TraefikSetup {
        entry_points: vec![WEB.into()],
        files: vec![
            (
                "chat.yaml".into(),
                shared::yaml::to_string(&config).expect("YAML"),
            ),
            ("certificates.yaml".into(), certificates),
        ],
        plugin: Some((
            shared::model::DEFAULT_PLUGIN_NAME.into(),
            tools.plugin.clone(),
        )),
        ..tests::TraefikSetup::default()
    };
    let mut traefik = tests::Traefik::start(traefik_binary, version, &setup).expect("Traefik");
    traefik.loaded().expect("loaded");
    std::thread::sleep(std::time::Duration::from_millis(600));
    let url = format!("https://127.0.0.1:{}", traefik.port(WEB).expect("port"));

    let out = Command::new(&binary)
        .args([
            "check",
            &url,
            "--format",
            "json",
            "--sessions",
            "6",
            "--rounds",
            "2",
        ])
        .env("SSL_CERT_FILE", &ca)
        .output()
        .expect("check");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(0), "over TLS: {report:#}");
    assert_eq!(
        modes(&report).len(),
        3,
        "polling, upgrade (wss), websocket (wss)"
    );

    let out = Command::new(&binary)
        .args(["check", &url, "--sessions", "2"])
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .output()
        .expect("check");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an untrusted certificate: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("cannot check") && stderr.to_lowercase().contains("certificate"),
        "{stderr}"
    );
}
