//! `gaqno-lb rehearse` on a real Docker Engine, with the replica image as the operator's
//! application, told by its environment how to behave:
//! - path b: an app that drains on SIGTERM, with Node's keep-alive above Traefik's, passes
//!   every step (exit 0; the only finding is path b's own gap during a redeploy);
//! - path b: an app that exits at once on SIGTERM, keeps Node's 5 s keep-alive and answers
//!   its health check in 2 s (of Traefik's 3) fails (exit 1) with those three findings, each
//!   with its fix — the control: the same rehearsal does fail;
//! - path a: the same app fails with the exit and the health check, but not the keep-alive:
//!   the exported file closes Traefik's idle connections after 4 s, before Node's 5 s;
//! - path a: the demo the binary carries (no application given), on the official Node
//!   image's name, passes, each application updated with Coolify's health check on;
//! - path c: on an engine in no Swarm it refuses (exit 2) unless given `--swarm-init`; with
//!   it, the draining app passes on a one-node Swarm the rehearsal makes, and leaves: the
//!   engine is in no Swarm afterwards, and the `docker_gwbridge` Docker made for it is gone;
//!   then the app to fix gets its three verdicts there too (one Swarm at a time: each
//!   rehearsal leaves the Swarm it made);
//! - path b: a rehearsal interrupted (SIGINT) once its replicas run removes everything it
//!   made.
//!
//! They run side by side (path c's two one after the other), and beside the Coolify paths
//! (not the Swarm's, which waits): a rehearsal touches only what carries its own id.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tests::docker::{Engine, REPLICA_IMAGE};
use tests::TempDir;

use super::Setup;
use crate::docker_labels::SERVICE;

/// The rehearsals, on `engine` from inside `netns` (where its loopback ports are).
pub(super) fn rehearsals(setup: &Setup, engine: &Engine, netns: &str) {
    let dir = TempDir::new("rehearse-docker").expect("temp dir");
    let good = app_file(
        dir.path(),
        "good",
        &[
            ("REPLICA_ON_SIGTERM", "drain"),
            ("REPLICA_DRAIN_MS", "2000"),
            ("REPLICA_KEEP_ALIVE_MS", "95000"),
        ],
    );
    let bad = app_file(
        dir.path(),
        "bad",
        &[
            ("REPLICA_ON_SIGTERM", "exit"),
            ("REPLICA_HEALTH_DELAY_MS", "2000"),
        ],
    );
    let interrupted = app_file(
        dir.path(),
        "interrupted",
        &[("REPLICA_ON_SIGTERM", "drain")],
    );

    // Path c on an engine in no Swarm, without --swarm-init: refused before anything is made.
    assert_eq!(
        swarm_state(engine),
        "inactive",
        "the worker engine starts in no Swarm"
    );
    let refused = command(&setup.binary, engine, netns, "c", Some(&good))
        .output()
        .expect("run gaqno-lb rehearse");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{said}");
    assert!(said.contains("add --swarm-init"), "{said}");
    assert_eq!(swarm_state(engine), "inactive", "{said}");
    let has_gwbridge = || {
        engine
            .docker(&["network", "inspect", "docker_gwbridge"])
            .is_ok()
    };
    let gwbridge_before = has_gwbridge();

    // Path c's two, one after the other: each makes the Swarm and leaves it.
    let swarm_runs = {
        let (binary, engine) = (setup.binary.clone(), engine.clone());
        let netns = netns.to_owned();
        let (good, bad) = (good.clone(), bad.clone());
        std::thread::spawn(move || {
            let first = rehearse(&binary, &engine, &netns, "c", Some(&good));
            let state_between = swarm_state(&engine);
            (
                first,
                state_between,
                rehearse(&binary, &engine, &netns, "c", Some(&bad)),
            )
        })
    };
    let runs = [
        ("b", Some(good.clone())),
        ("b", Some(bad.clone())),
        ("a", Some(bad)),
        ("a", None),
    ]
    .map(|(path, file)| {
        let (binary, engine) = (setup.binary.clone(), engine.clone());
        let netns = netns.to_owned();
        std::thread::spawn(move || rehearse(&binary, &engine, &netns, path, file.as_deref()))
    });
    let interrupt = interrupt_once_running(setup, engine, netns, &interrupted);
    // Every rehearsal to its end before any assertion: a panic here would end the turn and
    // clear the engine under the others.
    let [good_run, bad_run, bad_run_a, demo_run] = runs.map(|r| r.join());
    let interrupt = interrupt.join();
    let swarm_runs = swarm_runs.join();
    let (good_run, bad_run, bad_run_a, demo_run) = (
        good_run.expect("the draining app's rehearsal"),
        bad_run.expect("the rehearsal of the app to fix"),
        bad_run_a.expect("the rehearsal of the app to fix, path a"),
        demo_run.expect("the demo's rehearsal"),
    );
    let (swarm_run, state_between, bad_run_c) = swarm_runs.expect("the rehearsals on a Swarm");
    assert_eq!(
        state_between, "inactive",
        "the Swarm the first made is left"
    );

    // Path c, on the Swarm --swarm-init made: the draining app passes, its tasks replaced
    // start-first; the Swarm is gone afterwards.
    let (code, report, id) = swarm_run;
    eprintln!("rehearsal of the draining app, path c:\n{report:#}");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["path"], json!("c"));
    assert_eq!(app_findings(&report).len(), 0, "{report:#}");
    assert!(
        measured(&step(&report, "A redeploy")).contains("replaced 3 task(s) start-first"),
        "{report:#}"
    );
    // Judged by the tasks' own stops, which the engine timed: a 2 s drain, not an exit.
    let slowest_stop = |report: &Value| {
        seconds_after(
            &measured(&step(report, "A redeploy")),
            "the slowest stopped ",
        )
    };
    assert!(slowest_stop(&report) >= 2.0, "{report:#}");
    assert_eq!(swarm_state(engine), "inactive", "the Swarm it made is left");
    assert_eq!(
        has_gwbridge(),
        gwbridge_before,
        "the bridge Docker made for the Swarm is gone with it"
    );
    assert_nothing_left(engine, &id);

    // The app to fix, on path c: each verdict with its fix; Swarm replaced its tasks at
    // once (no drain) and Traefik kept its 90 s against Node's 5 s.
    let (code, report, id) = bad_run_c;
    eprintln!("rehearsal of the app that needs fixes, path c:\n{report:#}");
    assert_eq!(code, 1, "{report:#}");
    assert_findings(
        &report,
        &[
            ("exits on SIGTERM at once", "io.disconnectSockets(true)"),
            (
                "idle connections close after",
                "server.keepAliveTimeout = 95_000",
            ),
            ("the health check took 2.", "answer /v1/health at once"),
        ],
    );
    assert!(slowest_stop(&report) < 1.0, "{report:#}");
    assert_eq!(swarm_state(engine), "inactive", "the Swarm it made is left");
    assert_nothing_left(engine, &id);

    // The demo this binary carries, on the official Node image's name, on path a: an app
    // as it should be, so it passes.
    let (code, report, id) = demo_run;
    eprintln!("rehearsal of the demo on path a:\n{report:#}");
    assert_eq!(code, 0, "the demo passes: {report:#}");
    assert_eq!(report["path"], json!("a"));
    assert_eq!(report["image"], json!("node:22-alpine"));
    assert_eq!(app_findings(&report).len(), 0, "{report:#}");
    assert!(
        measured(&step(&report, "A redeploy")).contains("until Coolify's health check passed"),
        "{report:#}"
    );
    assert!(
        measured(&step(&report, "Node's keep-alive")).contains("stayed open past Traefik's 4 s"),
        "{report:#}"
    );
    assert_nothing_left(engine, &id);

    // The app to fix, on path a: the same verdicts on its exit and its health check; Node's
    // 5 s keep-alive outlasts the exported file's 4 s, so that one holds.
    let (code, report, id) = bad_run_a;
    eprintln!("rehearsal of the app that needs fixes, path a:\n{report:#}");
    assert_eq!(code, 1, "{report:#}");
    assert_findings(
        &report,
        &[
            ("exits on SIGTERM at once", "io.disconnectSockets(true)"),
            ("the health check took 2.", "answer /v1/health at once"),
        ],
    );
    let keep_alive = step(&report, "Node's keep-alive");
    assert_eq!(keep_alive["findings"], json!([]), "{report:#}");
    assert!(
        measured(&keep_alive).contains("stayed open past Traefik's 4 s"),
        "{report:#}"
    );
    assert_nothing_left(engine, &id);

    // The app that drains and keeps connections longer than Traefik: ready.
    let (code, report, id) = good_run;
    eprintln!("rehearsal of the draining app:\n{report:#}");
    assert_eq!(
        code, 0,
        "a draining app with a long keep-alive passes: {report:#}"
    );
    assert_eq!(report["passed"], json!(true));
    assert_eq!(app_findings(&report).len(), 0, "{report:#}");
    let redeploy = step(&report, "A redeploy");
    assert!(
        redeploy["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["owner"] == "path")),
        "path b's gap during a redeploy is said: {redeploy:#}"
    );
    assert!(
        measured(&step(&report, "Node's keep-alive")).contains("stayed open past Traefik's 90 s"),
        "{report:#}"
    );
    assert_nothing_left(engine, &id);

    // The app that exits at once, keeps Node's default keep-alive and is slow to say it is
    // healthy: each gets its verdict and its fix.
    let (code, report, id) = bad_run;
    eprintln!("rehearsal of the app that needs fixes:\n{report:#}");
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["passed"], json!(false));
    assert_findings(
        &report,
        &[
            ("exits on SIGTERM at once", "io.disconnectSockets(true)"),
            (
                "idle connections close after",
                "server.keepAliveTimeout = 95_000",
            ),
            ("the health check took 2.", "answer /v1/health at once"),
        ],
    );
    // Node's own 5 s, timed from inside the proxy.
    let kept = measured(&step(&report, "Node's keep-alive"));
    let seconds: f64 = kept
        .split("closed an idle connection after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no time in {kept}"));
    assert!(
        (4.5..7.0).contains(&seconds),
        "Node's 5 s keep-alive read as {seconds} s"
    );
    assert_nothing_left(engine, &id);

    let id = interrupt.expect("the interrupted rehearsal");
    assert_nothing_left(engine, &id);
}

/// Each `(what, fix)` is one of the report's findings on the app.
fn assert_findings(report: &Value, expected: &[(&str, &str)]) {
    let findings = app_findings(report);
    for (what, fix) in expected {
        assert!(
            findings.iter().any(|f| {
                f["what"].as_str().is_some_and(|w| w.contains(what))
                    && f["fix"].as_str().is_some_and(|x| x.contains(fix))
            }),
            "no finding \"{what}\" with the fix \"{fix}\": {findings:#?}"
        );
    }
}

/// The application's compose file: the replica image with `env`.
fn app_file(dir: &std::path::Path, name: &str, env: &[(&str, &str)]) -> std::path::PathBuf {
    let environment: serde_json::Map<String, Value> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    let file = json!({"services": {SERVICE: {
        "image": REPLICA_IMAGE,
        "expose": ["4008"],
        "environment": environment,
    }}});
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, shared::yaml::to_string(&file).expect("YAML")).expect("write");
    path
}

/// `gaqno-lb rehearse --path <path>` of `file` (no file: the demo it carries) against
/// `engine`, as the operator's shell would run it.
fn command(
    binary: &std::path::Path,
    engine: &Engine,
    netns: &str,
    path: &str,
    file: Option<&std::path::Path>,
) -> Command {
    // `ip netns exec` execs the binary in the namespace: the same process, the same pid.
    let mut command = Command::new("ip");
    command.args(["netns", "exec", netns]).arg(binary);
    for (key, value) in engine.command().get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    command.args(["rehearse", "--path", path, "--service", SERVICE]);
    if let Some(file) = file {
        command.arg("--compose").arg(file);
    }
    command.args(["--format", "json"]);
    command
}

/// Runs a rehearsal to its end: exit code, report, and its id (from its progress).
fn rehearse(
    binary: &std::path::Path,
    engine: &Engine,
    netns: &str,
    path: &str,
    file: Option<&std::path::Path>,
) -> (i32, Value, String) {
    let mut command = command(binary, engine, netns, path, file);
    if path == "c" {
        command.arg("--swarm-init");
    }
    let out = command.output().expect("run gaqno-lb rehearse");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "rehearse: {e}\nstdout: {}\nstderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (
        out.status.code().unwrap_or(-1),
        report,
        rehearsal_id(&stderr).expect("the rehearsal says its id"),
    )
}

fn rehearsal_id(progress: &str) -> Option<String> {
    progress.lines().find_map(|l| {
        l.strip_prefix("· rehearsal ")?
            .split(':')
            .next()
            .map(str::to_owned)
    })
}

/// Starts a rehearsal, and once its replicas are up (its progress says it started the
/// sessions), sends it SIGINT; returns its id after checking it exited 130.
fn interrupt_once_running(
    setup: &Setup,
    engine: &Engine,
    netns: &str,
    file: &std::path::Path,
) -> std::thread::JoinHandle<String> {
    let mut child = command(&setup.binary, engine, netns, "b", Some(file))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gaqno-lb rehearse");
    let engine = engine.clone();
    std::thread::spawn(move || {
        let stderr = child.stderr.take().expect("stderr");
        let (mut id, mut log) = (None, String::new());
        let deadline = Instant::now() + Duration::from_secs(300);
        let mut lines = BufReader::new(stderr).lines();
        for line in lines.by_ref().map_while(Result::ok) {
            log.push_str(&line);
            log.push('\n');
            id = id.or_else(|| rehearsal_id(&line));
            if line.contains("sessions in every transport") || Instant::now() > deadline {
                break;
            }
        }
        let id = id.unwrap_or_else(|| panic!("the rehearsal never said its id:\n{log}"));
        // The control: the rehearsal's containers are there before the interrupt.
        let running = engine
            .docker(&[
                "ps",
                "-q",
                "--filter",
                &format!("label=gaqno-lb.rehearsal={id}"),
            ])
            .expect("docker ps");
        assert!(
            running.lines().count() >= 4,
            "proxy and 3 replicas running before the interrupt:\n{log}"
        );
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill -INT");
        for line in lines.map_while(Result::ok) {
            log.push_str(&line);
            log.push('\n');
        }
        let status = child.wait().expect("wait");
        assert_eq!(
            status.code(),
            Some(130),
            "an interrupted rehearsal exits 130:\n{log}"
        );
        assert!(
            log.contains("everything the rehearsal made is removed"),
            "{log}"
        );
        id
    })
}

/// `docker info`'s Swarm state of `engine`: `inactive`, `active`, …
fn swarm_state(engine: &Engine) -> String {
    engine
        .docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"])
        .expect("docker info")
}

/// No container, network or volume with the rehearsal's label, and no folder of its own.
fn assert_nothing_left(engine: &Engine, id: &str) {
    let filter = format!("label=gaqno-lb.rehearsal={id}");
    for list in [
        &["ps", "-aq"][..],
        &["network", "ls", "-q"],
        &["volume", "ls", "-q"],
    ] {
        let mut args = list.to_vec();
        args.extend(["--filter", &filter]);
        let left = engine.docker(&args).expect("docker ls");
        assert!(
            left.is_empty(),
            "rehearsal {id} left `docker {}`: {left}",
            list.join(" ")
        );
    }
    let folder = std::env::temp_dir().join(format!("gaqno-lb-rehearsal-{id}"));
    assert!(!folder.exists(), "rehearsal {id} left {}", folder.display());
}

fn step(report: &Value, name: &str) -> Value {
    report["steps"]
        .as_array()
        .and_then(|s| {
            s.iter()
                .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with(name)))
        })
        .cloned()
        .unwrap_or_else(|| panic!("no step {name}: {report:#}"))
}

fn measured(step: &Value) -> String {
    step["measured"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The number of seconds `text` gives right after `prefix` ("… stopped 2.1 s …" → 2.1).
fn seconds_after(text: &str, prefix: &str) -> f64 {
    text.split_once(prefix)
        .and_then(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no \"{prefix}<seconds>\" in: {text}"))
}

fn app_findings(report: &Value) -> Vec<Value> {
    report["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["findings"].as_array().cloned().unwrap_or_default())
        .filter(|f| f["owner"] == "app")
        .collect()
}
