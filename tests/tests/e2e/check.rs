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
fn gaqno_lb() -> Option<PathBuf> {
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
fn check(binary: &PathBuf, url: &str, args: &[&str]) -> (i32, Value) {
    let out = Command::new(binary)
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
        .args(args)
        .output()
        .expect("run gaqno-lb check");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check {url} {args:?}: {e}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn modes(report: &Value) -> Vec<Value> {
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
