//! Coolify on a real Docker Engine (`tests::docker`, started by `cargo xtask test`): its
//! proxy started from Coolify's own compose file, an application deployed the way Coolify's
//! deployment job deploys it on each path, with Socket.IO replicas as real containers, and
//! what its deploys do to open sessions, measured. Traefik 3.6 in the proxy, Coolify's tag.

mod applications; // path a: N applications, Coolify's rolling update, health check and stop signals
mod label_corpus; // tests/corpus/labels/ as real containers behind Coolify's proxy
mod path_domain; // Coolify's labels for `https://host/omni` with ours: sessions under the prefix
mod raw_compose; // path b: a Raw Compose Deployment, its redeploys, and stop signals
mod rehearse; // `gaqno-lb rehearse`: apps that pass and fail, and an interrupted one
mod swarm; // path c: two Swarm nodes, Coolify's two naming modes, a node lost

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::docker::Engine;

use crate::affinity::{tools, Tools};
use crate::check::gaqno_lb;

/// A path's name (its letter after `path `) and its test.
type PathTest = (&'static str, fn(&Setup));

/// Coolify's paths on real Docker, one after the other in one test. Not side by side: on an
/// engine in Swarm mode, `docker network create --attachable coolify` (Coolify's) makes a
/// network the Swarm claims, and leaving the Swarm tears it down under a standalone test's
/// containers (seen: the proxy unreachable mid-test). Path c last: it stops the worker.
#[test]
fn coolify_paths_on_real_docker() {
    run_paths(&[
        ("path a, N applications", applications::n_applications),
        (
            "path b, a Raw Compose Deployment",
            raw_compose::raw_compose_deployment,
        ),
        (
            "path domain, a domain with a path",
            path_domain::under_a_path,
        ),
        (
            "path labels, the label corpus",
            label_corpus::label_mistakes_on_real_docker,
        ),
        ("path c, Swarm on two nodes", swarm::swarm_on_two_nodes),
    ]);
}

/// `gaqno-lb rehearse` on the worker engine (run inside its network namespace, where the
/// rehearsal's loopback ports are), beside the paths above on the server engine, but never
/// during the Swarm path, which takes both engines over. `GAQNO_LB_DOCKER_ONLY` without `r`
/// leaves it out.
#[test]
fn rehearsals_on_real_docker() {
    let Some(setup) = setup() else {
        return;
    };
    let Some(worker) = tests::docker::worker_engine() else {
        return;
    };
    if std::env::var("GAQNO_LB_DOCKER_ONLY")
        .is_ok_and(|o| !o.split(',').any(|l| l.trim().starts_with('r')))
    {
        eprintln!("on real Docker: the rehearsals left out (GAQNO_LB_DOCKER_ONLY)");
        return;
    }
    let _turn = tests::docker::rehearsals_turn();
    let started = Instant::now();
    rehearse::rehearsals(&setup, &worker, &tests::docker::worker_netns());
    eprintln!(
        "on real Docker: the rehearsals took {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

/// Runs `paths` in turn, each to its end; fails naming every one that failed.
/// `GAQNO_LB_DOCKER_ONLY=c` (or `a,b`; `d` for the path domain, `l` for the label corpus, `r` for rehearse)
/// runs only those, while working on them.
fn run_paths(paths: &[PathTest]) {
    let Some(setup) = setup() else {
        return;
    };
    let only = std::env::var("GAQNO_LB_DOCKER_ONLY").ok();
    let mut failed = Vec::new();
    for (name, path) in paths {
        let letter = name
            .trim_start_matches("path ")
            .chars()
            .next()
            .unwrap_or('?');
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|l| l.trim().starts_with(letter)))
        {
            eprintln!("on real Docker: {name} left out (GAQNO_LB_DOCKER_ONLY)");
            continue;
        }
        eprintln!("on real Docker: {name}");
        let started = Instant::now();
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| path(&setup))).is_err() {
            failed.push(*name);
        }
        eprintln!(
            "on real Docker: {name} took {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    assert!(
        failed.is_empty(),
        "failed on real Docker (see above): {failed:?}"
    );
}

/// What a Docker test needs; `None` when it skips (each missing piece said why).
pub(crate) struct Setup {
    pub(crate) tools: Tools,
    /// The `gaqno-lb` binary.
    pub(crate) binary: PathBuf,
    pub(crate) server: Engine,
}

pub(crate) fn setup() -> Option<Setup> {
    Some(Setup {
        tools: tools()?,
        binary: gaqno_lb()?,
        server: tests::docker::server_engine()?,
    })
}

/// Coolify's standalone proxy on the server engine with the plugin as a local plugin, its
/// default certificate from a test CA made in `dir`; returns it and the CA to trust.
pub(crate) fn standalone_proxy(
    setup: &Setup,
    dir: &Path,
) -> (tests::docker::CoolifyProxy, PathBuf) {
    let certificates = tests::test_certificates(dir, "localhost").expect("certificates");
    let proxy = tests::docker::CoolifyProxy::start(
        tests::docker::ServerKind::Standalone,
        &setup.server,
        &tests::docker::ProxyPlugin::Local(setup.tools.plugin.clone()),
        &certificates,
        &crate::support::coolify_files(),
    )
    .expect("Coolify's proxy");
    (proxy, certificates.0)
}

/// `gaqno-lb check` of `url` (trusting `ca`) on its own thread: cookie-less long-polling
/// sessions of 8 round trips 500 ms apart, new ones started for `seconds`.
pub(crate) fn sessions_during(
    setup: &Setup,
    url: &str,
    ca: &Path,
    seconds: u32,
) -> std::thread::JoinHandle<(i32, Value)> {
    let (binary, url, ca) = (setup.binary.clone(), url.to_owned(), ca.to_path_buf());
    std::thread::spawn(move || {
        let duration = seconds.to_string();
        crate::check::check_trusting(
            &binary,
            &url,
            Some(&ca),
            &[
                "--transport",
                "polling",
                "--duration",
                &duration,
                "--rounds",
                "8",
                "--interval",
                "500",
            ],
        )
    })
}

/// In `check`'s `report`, every mode held all its sessions; the polling and upgrade modes on
/// exactly the replicas `urls` name (by their sticky cookie values), every handshake
/// answered by the plugin.
pub(crate) fn assert_held_on(report: &Value, urls: &[String], what: &str) {
    let mut expected: Vec<String> = urls
        .iter()
        .map(|u| shared::traefik::sticky_cookie_value(u))
        .collect();
    expected.sort();
    for mode in crate::check::modes(report) {
        assert_eq!(mode["held"], mode["sessions"], "{what}: {mode:#}");
        if mode["transport"] != "websocket" {
            let mut seen = crate::docker_labels::replica_values(&mode);
            seen.sort();
            assert_eq!(seen, expected, "{what}: every replica: {mode:#}");
            assert_eq!(mode["plugin_tokens"], mode["sessions"], "{what}: {mode:#}");
        }
    }
}

/// Coolify's `stop_running_container`: every container labelled with application `id` but
/// `keep` (the new one), one after another, as `graceful_shutdown_container` does it:
/// `docker stop --time=<grace>`, then `docker rm -f`.
pub(crate) fn stop_running_containers(engine: &Engine, id: u64, keep: Option<&str>, grace: u32) {
    let names = engine
        .docker(&[
            "ps",
            "-a",
            "--filter",
            &format!("label=coolify.applicationId={id}"),
            "--format",
            "{{.Names}}",
        ])
        .expect("docker ps");
    for name in names.lines().filter(|name| Some(*name) != keep) {
        let _ = engine.docker(&["stop", &format!("--time={grace}"), name]);
        let _ = engine.docker(&["rm", "-f", name]);
    }
}

/// The port every replica listens on ([`tests::docker::REPLICA_IMAGE`]'s command), as
/// GAQNO's omnichannel-service does.
pub(crate) const PORT: u16 = 4008;

/// What HTTPS clients got from the proxy, probed every 100 ms while something happened:
/// `(milliseconds since the start, HTTP status or 0 for no answer)`.
pub(crate) struct Probe {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<(u128, u16)>>,
}

impl Probe {
    /// Starts probing `GET <url>/socket.io/?EIO=4&transport=polling` (a handshake: the
    /// path a new client takes) with `curl`, trusting `ca`.
    pub(crate) fn start(url: &str, ca: &Path) -> Probe {
        let stop = Arc::new(AtomicBool::new(false));
        let url = format!("{url}/socket.io/?EIO=4&transport=polling");
        let (ca, flag) = (ca.to_path_buf(), stop.clone());
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let mut seen = Vec::new();
            // Bounded: at most 5 minutes of probes, whatever the test does.
            while !flag.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(300) {
                let out = Command::new("curl")
                    .args([
                        "-s",
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code}",
                        "--max-time",
                        "2",
                    ])
                    .arg("--cacert")
                    .arg(&ca)
                    .arg(&url)
                    .output();
                let status = out
                    .ok()
                    .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
                    .unwrap_or(0);
                seen.push((start.elapsed().as_millis(), status));
                std::thread::sleep(Duration::from_millis(100));
            }
            seen
        });
        Probe { stop, thread }
    }

    /// Stops probing; what was seen.
    pub(crate) fn finish(self) -> ProbeReport {
        self.stop.store(true, Ordering::Relaxed);
        ProbeReport(self.thread.join().unwrap_or_default())
    }
}

/// The probes' answers over time.
#[derive(Debug)]
pub(crate) struct ProbeReport(pub(crate) Vec<(u128, u16)>);

impl ProbeReport {
    /// Milliseconds during which answers were `status`: from the first probe that got it to
    /// the first one after the last that did (0 when none did).
    pub(crate) fn span_ms(&self, status: u16) -> u128 {
        let first = self.0.iter().position(|(_, s)| *s == status);
        let last = self.0.iter().rposition(|(_, s)| *s == status);
        match (first, last) {
            (Some(first), Some(last)) => {
                let end = self.0.get(last + 1).map_or(self.0[last].0, |(t, _)| *t);
                end.saturating_sub(self.0[first].0)
            }
            _ => 0,
        }
    }

    /// How many probes got `status`.
    pub(crate) fn count(&self, status: u16) -> usize {
        self.0.iter().filter(|(_, s)| *s == status).count()
    }

    /// `status × count` of every answer seen, e.g. `200×140 503×38`.
    pub(crate) fn summary(&self) -> String {
        let mut counts = std::collections::BTreeMap::new();
        for (_, status) in &self.0 {
            *counts.entry(*status).or_insert(0usize) += 1;
        }
        counts
            .iter()
            .map(|(s, n)| format!("{s}×{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A `check` mode's sessions in words: of the sessions that opened (on a replica it
/// could name), how many held and why the others broke; then the clients that could not
/// open one (`check --duration` starts a new session as soon as one ends, so these count
/// attempts during an outage, not users).
pub(crate) fn sessions_in_words(mode: &Value) -> String {
    let count = |v: &Value| v.as_u64().unwrap_or(0);
    let sessions = count(&mode["sessions"]);
    let unopened = count(&mode["unidentified"]);
    let mut after_open = std::collections::BTreeMap::<String, u64>::new();
    for reasons in mode["errors_by_replica"].as_object().into_iter().flatten() {
        for (why, n) in reasons.1.as_object().into_iter().flatten() {
            *after_open.entry(why.clone()).or_default() += count(n);
        }
    }
    let mut before_open = std::collections::BTreeMap::<String, u64>::new();
    for (why, n) in mode["errors"].as_object().into_iter().flatten() {
        let left = count(n).saturating_sub(after_open.get(why).copied().unwrap_or(0));
        if left > 0 {
            before_open.insert(why.clone(), left);
        }
    }
    let list = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter()
            .map(|(why, n)| format!("{n} {why}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!(
        "{} of {} opened sessions held",
        count(&mode["held"]),
        sessions - unopened
    );
    if !after_open.is_empty() {
        out.push_str(&format!(" (broken: {})", list(&after_open)));
    }
    if unopened > 0 {
        out.push_str(&format!(
            "; {unopened} attempts opened none ({})",
            list(&before_open)
        ));
    }
    out
}

/// The number of sessions of `mode` that broke for `why` (a `check` failure label).
pub(crate) fn broken_by(mode: &Value, why: &str) -> u64 {
    mode["errors"][why].as_u64().unwrap_or(0)
}
