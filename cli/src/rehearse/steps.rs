//! What every path's rehearsal does, in order ([`run_steps`] over a [`Stage`]): sessions in
//! every transport with and without cookies, the health check against Traefik's timeout, the
//! path's own redeploy under load ([`under_load`]), one replica killed under load, and the
//! app's keep-alive against how long Traefik keeps an idle connection on that path; and how
//! the sessions of several `gaqno-lb check` runs add up ([`Sessions`]) into what held, what
//! broke, and why.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;

use super::docker::Docker;
use super::report::{self, Finding, Owner, Report, Step};
use super::{
    check_interrupt, path_a, path_b, path_c, probe, progress, proxy, report_of, Rehearsal,
};
use crate::flags::{Format, Rehearse};

/// The sessions of one or more `gaqno-lb check` reports, added up. A session that got as
/// far as its handshake knows its replica (the plugin's token in its sid); one that did
/// not never started: no server answered it.
#[derive(Debug, Default, Clone)]
pub(super) struct Sessions {
    /// Sessions that started (their replica known).
    pub(super) started: u64,
    /// Of those, how many held.
    pub(super) held: u64,
    /// Why started sessions broke: failure label → sessions.
    pub(super) broken: BTreeMap<String, u64>,
    /// Sticky cookie value → started sessions that broke there.
    pub(super) broken_by_replica: BTreeMap<String, u64>,
    /// Sticky cookie value → why the started sessions there broke (failure label → count).
    pub(super) broken_on: BTreeMap<String, BTreeMap<String, u64>>,
    /// Sessions that never started, by failure label.
    pub(super) not_started: BTreeMap<String, u64>,
    /// `check` runs that could not start one session at all, by what `check` said.
    pub(super) refused: BTreeMap<String, u64>,
}

impl Sessions {
    pub(super) fn add(&mut self, report: &Value) {
        let counts = |value: &Value| -> BTreeMap<String, u64> {
            value
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        };
        for mode in report["modes"].as_array().into_iter().flatten() {
            let replicas: u64 = counts(&mode["replicas"]).values().sum();
            self.started += replicas;
            self.held += mode["held"].as_u64().unwrap_or(0);
            let mut started_errors: BTreeMap<String, u64> = BTreeMap::new();
            for (replica, errors) in mode["errors_by_replica"].as_object().into_iter().flatten() {
                for (label, n) in counts(errors) {
                    *started_errors.entry(label.clone()).or_default() += n;
                    *self
                        .broken_on
                        .entry(replica.clone())
                        .or_default()
                        .entry(label)
                        .or_default() += n;
                }
            }
            for (replica, n) in counts(&mode["broken_by_replica"]) {
                *self.broken_by_replica.entry(replica).or_default() += n;
            }
            for (label, n) in counts(&mode["errors"]) {
                let started = started_errors.get(&label).copied().unwrap_or(0);
                if started > 0 {
                    *self.broken.entry(label.clone()).or_default() += started;
                }
                if n > started {
                    *self.not_started.entry(label).or_default() += n - started;
                }
            }
        }
    }

    /// What broke on the replicas other than `victim` (a sticky cookie value), split: by the
    /// app, and by the proxy's own answers (a gateway status, no answer in time), which say
    /// Traefik struggled (on a busy machine, or while a name it resolves disappears), not
    /// that the app's replicas depend on each other.
    pub(super) fn broken_elsewhere(
        &self,
        victim: &str,
    ) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
        let mut by_app: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_proxy: BTreeMap<String, u64> = BTreeMap::new();
        for (replica, errors) in &self.broken_on {
            if replica == victim {
                continue;
            }
            for (label, n) in errors {
                let proxy = label == "timeout" || label.starts_with("HTTP 5");
                let into = if proxy { &mut by_proxy } else { &mut by_app };
                *into.entry(label.clone()).or_default() += n;
            }
        }
        (by_app, by_proxy)
    }

    pub(super) fn broken_count(&self) -> u64 {
        self.broken.values().sum()
    }

    /// Started sessions that broke without a close from the server: cut.
    pub(super) fn cut(&self) -> u64 {
        self.broken
            .iter()
            .filter(|(label, _)| label.as_str() != CLOSED_BY_SERVER)
            .map(|(_, n)| n)
            .sum()
    }

    /// "sessions: 10 of 22 held; broken: closed by the server ×9, timeout ×1; 40 new
    /// sessions could not start (HTTP 404 ×40)".
    pub(super) fn in_words(&self) -> String {
        let mut words = format!("sessions: {} of {} held", self.held, self.started);
        if !self.broken.is_empty() {
            words += &format!("; broken: {}", counted(&self.broken));
        }
        let not_started: u64 =
            self.not_started.values().sum::<u64>() + self.refused.values().sum::<u64>();
        if not_started > 0 {
            let mut why = self.not_started.clone();
            for (reason, n) in &self.refused {
                *why.entry(reason.clone()).or_default() += n;
            }
            words += &format!(
                "; {not_started} new session(s) could not start ({})",
                counted(&why)
            );
        }
        words
    }
}

/// What `check` calls a session the server ended with a close packet.
pub(super) const CLOSED_BY_SERVER: &str = "closed by the server";

/// What `check` calls a session a replica did not know (engine.io's 400 "Session ID unknown").
pub(super) const SESSION_UNKNOWN: &str = "session ID unknown (another replica)";

/// "a ×2, b ×1".
pub(super) fn counted(map: &BTreeMap<String, u64>) -> String {
    let parts: Vec<String> = map.iter().map(|(l, n)| format!("{l} ×{n}")).collect();
    parts.join(", ")
}

/// When sessions are open, from the start of [`sessions_until`]: `check` runs one whole
/// session first (8 round trips 500 ms apart), then its workers; what a step does to the
/// replicas waits this long so that it meets open sessions.
pub(super) const SESSIONS_IN_FLIGHT: Duration = Duration::from_secs(6);

/// Sessions run in `check` chunks of a few seconds, back to back, until `done` is set and
/// one chunk started after it has ended: what open clients live through while something
/// happens, however long it takes. Bounded at 10 minutes.
pub(super) fn sessions_until(
    url: &str,
    path: &str,
    done: &AtomicBool,
    interrupted: &AtomicBool,
) -> anyhow::Result<Sessions> {
    let mut sessions = Sessions::default();
    let started = Instant::now();
    loop {
        let finished_before = done.load(Ordering::SeqCst);
        let run = probe::sessions_during(url, path, 5)
            .join()
            .map_err(|_| anyhow::anyhow!("the sessions' thread failed"))?;
        match run? {
            probe::Checked::Report(report) => sessions.add(&report),
            // No session could start (nothing behind the proxy for a moment): counted, and
            // tried again.
            probe::Checked::Refused(why) => {
                // "HTTP 404: not a Socket.IO endpoint (is --path right?)": the status is
                // what matters here, and it is counted with the sessions that got it.
                let why = why
                    .split(": not a Socket.IO endpoint")
                    .next()
                    .unwrap_or(&why)
                    .to_owned();
                *sessions.refused.entry(why).or_default() += 1;
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        if finished_before || interrupted.load(Ordering::SeqCst) {
            return Ok(sessions);
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "the sessions ran 10 minutes without the step ending"
        );
    }
}

/// How the replicas run, for the steps every path shares.
#[derive(Clone, Copy)]
pub(super) enum Deployed<'a> {
    A(&'a path_a::Applications),
    B(&'a path_b::RawApp),
    C(&'a path_c::Stack),
}

impl Deployed<'_> {
    /// The running replicas' containers.
    pub(super) fn replicas(&self, docker: &Docker) -> anyhow::Result<Vec<String>> {
        match self {
            Deployed::A(apps) => apps.replicas(docker),
            Deployed::B(app) => app.replicas(docker),
            Deployed::C(stack) => stack.replicas(docker),
        }
    }

    /// The replica the replica-lost step kills: its container and its server URL in Traefik.
    pub(super) fn victim(
        &self,
        docker: &Docker,
        network: &str,
        port: u16,
    ) -> anyhow::Result<(String, String)> {
        let container = self
            .replicas(docker)?
            .into_iter()
            .next()
            .context("no replica to kill")?;
        let url = match self {
            // The first application's: its alias, as the exported file names it.
            Deployed::A(apps) => apps.server_url(&apps.apps[0]),
            Deployed::B(_) | Deployed::C(_) => {
                format!("http://{}:{port}", docker.address(&container, network)?)
            }
        };
        Ok((container, url))
    }
}

/// What the steps need: where the service answers, and how its replicas run.
pub(super) struct Stage<'a> {
    pub(super) rehearsal: &'a Rehearsal,
    pub(super) proxy: &'a proxy::Proxy,
    pub(super) deployed: Deployed<'a>,
    /// Where clients reach the service (the proxy's port 80).
    pub(super) url: String,
    pub(super) socket_path: String,
    /// The balanced service in Traefik's API, with its provider (`…@docker`, `…@file`).
    pub(super) traefik_service: String,
    pub(super) replicas: u32,
    pub(super) port: u16,
    /// The project's health check.
    pub(super) health: Option<shared::model::HealthCheck>,
    /// The path the app is asked on: the health check's, or GAQNO's.
    pub(super) health_path: String,
    /// How long Traefik keeps an idle connection to a replica on this path, and why.
    pub(super) idle_timeout: (Duration, &'static str),
}

impl Stage<'_> {
    pub(super) fn docker(&self) -> &Docker {
        &self.rehearsal.docker
    }

    /// Waits until every replica runs healthy and Traefik has each as a server, UP.
    pub(super) fn wait_replicas(
        &self,
        within: Duration,
        interrupted: &AtomicBool,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        let count = self.replicas as usize;
        loop {
            check_interrupt(interrupted)?;
            let replicas = self.deployed.replicas(self.docker())?;
            if replicas.len() == count {
                self.docker()
                    .wait_healthy(
                        &replicas,
                        deadline.saturating_duration_since(Instant::now()),
                    )
                    .context(
                        "the replicas never became healthy (their logs: docker logs <name>)",
                    )?;
                return self.proxy.wait_servers(
                    &self.traefik_service,
                    count,
                    deadline
                        .saturating_duration_since(Instant::now())
                        .max(Duration::from_secs(5)),
                );
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{} of {count} replicas are running after {} s",
                replicas.len(),
                within.as_secs()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// Once every replica is up, the steps every path takes, in order (`redeploy` is the
/// path's own), and the report of them: `differences` from production, the app `document`.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_steps(
    stage: &Stage,
    flags: &Rehearse,
    document: &Value,
    differences: Vec<String>,
    redeploy_progress: &str,
    redeploy: &dyn Fn() -> anyhow::Result<Step>,
    keep_alive: KeepAliveProbe,
    interrupted: &AtomicBool,
) -> anyhow::Result<Report> {
    stage.wait_replicas(Duration::from_secs(180), interrupted)?;
    let mut steps = Vec::new();
    // For a person, each step as it ends; JSON waits for the whole report.
    let report_step = |step: Step, steps: &mut Vec<Step>| {
        if matches!(flags.format, Format::Human) {
            let _ = report::write_step(&mut std::io::stdout().lock(), &step);
        }
        steps.push(step);
    };

    progress("sessions in every transport, with and without cookies");
    report_step(sessions_step(&stage.url, &stage.socket_path)?, &mut steps);
    check_interrupt(interrupted)?;

    progress("the health check, against Traefik's timeout");
    report_step(
        health_step(stage.proxy, stage.health.as_ref(), &stage.health_path)?,
        &mut steps,
    );
    check_interrupt(interrupted)?;

    progress(redeploy_progress);
    report_step(redeploy()?, &mut steps);
    check_interrupt(interrupted)?;

    progress("one replica killed, under load");
    report_step(replica_lost_step(stage, interrupted)?, &mut steps);
    check_interrupt(interrupted)?;

    progress(&format!(
        "the app's keep-alive against Traefik's (up to {} s)",
        stage.idle_timeout.0.as_secs()
    ));
    report_step(
        keep_alive_step(keep_alive, stage.idle_timeout, interrupted)?,
        &mut steps,
    );
    Ok(report_of(
        flags,
        stage.replicas,
        document,
        differences,
        steps,
    ))
}

pub(super) fn sessions_step(url: &str, path: &str) -> anyhow::Result<Step> {
    let mut step = Step::new("Sessions in every transport, with and without cookies");
    let all_modes = [
        "--transport",
        "all",
        "--cookies",
        "both",
        "--sessions",
        "12",
        "--concurrency",
        "6",
    ];
    let report = match probe::check(url, path, &all_modes)? {
        probe::Checked::Report(report) => report,
        probe::Checked::Refused(why) => bail!("no Socket.IO session could start: {why}"),
    };
    for mode in report["modes"].as_array().into_iter().flatten() {
        step.measured.push(format!(
            "{}, cookies {}: {} of {} held, on {} replica(s)",
            mode["transport"].as_str().unwrap_or("?"),
            if mode["cookies"].as_bool() == Some(true) {
                "on"
            } else {
                "off"
            },
            mode["held"],
            mode["sessions"],
            mode["replicas"].as_object().map_or(0, |r| r.len()),
        ));
    }
    let mut sessions = Sessions::default();
    sessions.add(&report);
    let broken = sessions.broken_count() + sessions.not_started.values().sum::<u64>();
    if broken > 0 {
        let unknown = sessions.broken.contains_key(SESSION_UNKNOWN);
        step.findings.push(Finding {
            owner: Owner::App,
            what: format!("with nothing else going on: {}", sessions.in_words()),
            fix: if unknown {
                "a session reached a replica that did not know it: with the plugin loaded that means the replicas do not share what a session needs (one Socket.IO server per replica, no adapter shortcut such as a shared in-memory store), or the app answers Socket.IO on another path than the project's".into()
            } else {
                "run `gaqno-lb check` against the rehearsal with --keep to see each failure; the app's log (docker logs) says why it dropped them".into()
            },
        });
    }
    Ok(step)
}

pub(super) fn health_step(
    proxy: &proxy::Proxy,
    health: Option<&shared::model::HealthCheck>,
    path: &str,
) -> anyhow::Result<Step> {
    let mut step = Step::new("The health check, against Traefik's timeout");
    let Some(health) = health else {
        step.findings.push(Finding {
            owner: Owner::Project,
            what: "the project's service has no health check: Traefik keeps sending sessions to a replica that hangs, until Docker reports it dead".into(),
            fix: format!("give the service a health check in the project ({path}, every 10 s, 3 s timeout, as GAQNO's services have)"),
        });
        return Ok(step);
    };
    let timeout = health
        .timeout
        .as_ref()
        .and_then(|t| t.nanos())
        .map_or(Duration::from_secs(5), |n| {
            Duration::from_nanos(n.max(0) as u64)
        });
    let slowest = probe::health_latency(&proxy.http, "127.0.0.1", &health.path, 5)?;
    step.measured.push(format!(
        "GET {}: {:.2} s at the slowest of 5; Traefik gives up after {:.0} s",
        health.path,
        slowest.as_secs_f64(),
        timeout.as_secs_f64()
    ));
    if slowest * 2 > timeout {
        step.findings.push(Finding {
            owner: Owner::App,
            what: format!(
                "the health check took {:.1} s of the {:.0} s Traefik waits: under load a live replica will miss it, be marked DOWN, and the sessions pinned to it move to another replica and break",
                slowest.as_secs_f64(),
                timeout.as_secs_f64()
            ),
            fix: format!(
                "answer {} at once, without waiting on databases or queues (a liveness check), or raise the service's health check timeout in the project",
                health.path
            ),
        });
    }
    Ok(step)
}

/// "new clients: 3 of 80 probes failed (HTTP 404 ×3), for 0.4 s at the longest".
pub(super) fn new_clients_in_words(outage: &probe::Outage) -> String {
    format!(
        "new clients: {} of {} probes failed{}",
        outage.failed,
        outage.probes,
        if outage.failed == 0 {
            String::new()
        } else {
            format!(
                " ({}), for {:.1} s at the longest",
                outage.statuses_in_words(),
                outage.longest.as_secs_f64()
            )
        }
    )
}

/// The fix for an app that does not drain on SIGTERM.
pub(super) const DRAIN_FIX: &str = "drain on SIGTERM: in main.ts `app.enableShutdownHooks();`, and in a provider's `onApplicationShutdown()` wait a few seconds, then `io.disconnectSockets(true)` (every client gets a close and reconnects at once; `io.close()` alone drops them without one)";

/// What a redeploy can say about the app's SIGTERM, by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ShutdownEvidence {
    /// Path b: a stopped replica's sessions break only by its stop.
    Breaks,
    /// Paths a and c: sessions also broke by reaching a replica that never had them
    /// ("session ID unknown") whatever the app does — on a, old and new containers answer
    /// at one alias for a while; on c, a replaced task leaves Traefik's servers only at its
    /// next read of the Swarm. Only a stop as fast as an exit (under a second: no drain)
    /// says the app exits at once.
    StopTime,
}

/// What the replaced replicas' stops say about the app's SIGTERM: ignored (Docker killed it
/// when the grace period ended), or an exit at once (sessions cut, not one closed).
pub(super) fn shutdown_findings(
    step: &mut Step,
    stops: &[Duration],
    sessions: &Sessions,
    evidence: ShutdownEvidence,
) {
    let slowest_stop = stops.iter().max().copied().unwrap_or_default();
    let cut = sessions.cut();
    let exits_at_once =
        evidence != ShutdownEvidence::StopTime || slowest_stop < Duration::from_secs(1);
    let grace = shared::coolify::deploy::STOP_GRACE_SECONDS;
    if slowest_stop >= Duration::from_secs(u64::from(grace) - 1) {
        step.findings.push(Finding {
            owner: Owner::App,
            what: format!(
                "each replaced replica took {:.0} s to stop and its sessions were cut: the app ignores SIGTERM (`node` as the container's first process has no default action for it), so Docker killed it when Coolify's {grace} s grace period ended",
                slowest_stop.as_secs_f64(),
            ),
            fix: DRAIN_FIX.into(),
        });
    } else if exits_at_once && cut > 0 && !sessions.broken.contains_key(CLOSED_BY_SERVER) {
        // Not one close: a draining app closes most of its sessions (measured on real
        // Docker: 8 to 11 of 17 to 21), and the rest break as it goes in any case.
        step.findings.push(Finding {
            owner: Owner::App,
            what: format!(
                "sessions on the replaced replicas were cut without a close ({cut} of {}): the app exits on SIGTERM at once{}",
                sessions.started,
                match evidence {
                    ShutdownEvidence::StopTime => format!(
                        " (the slowest replica stopped in {:.1} s)",
                        slowest_stop.as_secs_f64()
                    ),
                    ShutdownEvidence::Breaks => String::new(),
                }
            ),
            fix: DRAIN_FIX.into(),
        });
    }
}

/// Runs `redeploy` on its own thread once sessions are open, and sessions until it ends;
/// then waits for every replica to be back. What it returned, the sessions, and what new
/// clients got meanwhile.
pub(super) fn under_load<T: Send + 'static>(
    stage: &Stage,
    redeploy: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    interrupted: &AtomicBool,
) -> anyhow::Result<(T, Sessions, probe::Outage)> {
    let probe = probe::Probe::start(&stage.url, &stage.socket_path);
    let done = Arc::new(AtomicBool::new(false));
    let thread = {
        let done = done.clone();
        std::thread::spawn(move || {
            std::thread::sleep(SESSIONS_IN_FLIGHT);
            let result = redeploy();
            done.store(true, Ordering::SeqCst);
            result
        })
    };
    let sessions = sessions_until(&stage.url, &stage.socket_path, &done, interrupted)?;
    let result = thread
        .join()
        .map_err(|_| anyhow::anyhow!("the redeploy's thread failed"))??;
    stage.wait_replicas(Duration::from_secs(180), interrupted)?;
    Ok((result, sessions, probe.stop()))
}

pub(super) fn replica_lost_step(stage: &Stage, interrupted: &AtomicBool) -> anyhow::Result<Step> {
    let mut step = Step::new("One replica killed (a crash, an out-of-memory kill), under load");
    let docker = stage.docker();
    let (victim, victim_url) =
        stage
            .deployed
            .victim(docker, &stage.rehearsal.network, stage.port)?;
    let victim_cookie = shared::traefik::sticky_cookie_value(&victim_url);
    let (_, sessions, outage) = {
        let (docker, victim) = (docker.clone(), victim.clone());
        let probe = probe::Probe::start(&stage.url, &stage.socket_path);
        let done = Arc::new(AtomicBool::new(false));
        let killer = {
            let done = done.clone();
            std::thread::spawn(move || {
                std::thread::sleep(SESSIONS_IN_FLIGHT);
                let killed = docker.run(&["kill", &victim]);
                // Long enough for Traefik's health check to notice (GAQNO's: every 10 s).
                std::thread::sleep(Duration::from_secs(12));
                done.store(true, Ordering::SeqCst);
                killed
            })
        };
        let sessions = sessions_until(&stage.url, &stage.socket_path, &done, interrupted)?;
        killer
            .join()
            .map_err(|_| anyhow::anyhow!("the kill's thread failed"))??;
        ((), sessions, probe.stop())
    };
    let on_victim = sessions
        .broken_by_replica
        .get(&victim_cookie)
        .copied()
        .unwrap_or(0);
    let elsewhere = sessions.broken_count().saturating_sub(on_victim);
    let (by_app, by_proxy) = sessions.broken_elsewhere(&victim_cookie);
    step.measured.push(format!(
        "{}; {on_victim} broke on the killed replica, {elsewhere} elsewhere{}",
        sessions.in_words(),
        if by_proxy.is_empty() {
            String::new()
        } else {
            format!(
                " ({} of them the proxy's answer: {})",
                by_proxy.values().sum::<u64>(),
                counted(&by_proxy)
            )
        }
    ));
    // The Docker provider drops a container when Docker reports it dead; a server that
    // stays (a file's alias, or a label's container not yet gone) is left to Traefik's
    // health check.
    let servers = stage.proxy.servers(&stage.traefik_service);
    let swarm = matches!(stage.deployed, Deployed::C(_));
    let traefik_did = match (servers.get(&victim_url).map(String::as_str), swarm) {
        (None, false) => "Traefik dropped the killed replica as soon as Docker reported it dead",
        (None, true) => "Traefik dropped the killed task at its next read of the Swarm",
        (Some("UP"), false) => "Traefik still counts the killed replica UP",
        (Some("UP"), true) => {
            "Traefik still counts the killed task UP (it reads the Swarm every 15 s)"
        }
        (Some(_), _) => "Traefik's health check marked the killed replica DOWN",
    };
    step.measured.push(if outage.failed == 0 {
        format!("{traefik_did}; no new client failed")
    } else {
        format!(
            "{traefik_did}; new clients: {} for {:.1} s at the longest",
            outage.statuses_in_words(),
            outage.longest.as_secs_f64()
        )
    });
    if !by_app.is_empty() {
        step.findings.push(Finding {
            owner: Owner::App,
            what: format!(
                "{} session(s) on replicas that stayed up broke when one replica died ({})",
                by_app.values().sum::<u64>(),
                counted(&by_app)
            ),
            fix: "a replica's sessions must not depend on another replica: keep session state in the replica that owns it, or in a store every replica reaches (Redis with @socket.io/redis-adapter for rooms and broadcasts)".into(),
        });
    }
    // A request already on its way to the replica fails in any case, and a probe waits up
    // to 2 s for its answer: a longer run of failures means Traefik kept sending new
    // clients there.
    if outage.longest > Duration::from_secs(3) {
        let interval = stage
            .health
            .as_ref()
            .and_then(|h| h.interval.as_ref())
            .map_or("30s", |i| i.as_str());
        step.findings.push(Finding {
            owner: Owner::Path,
            what: format!(
                "new clients got {} for {:.1} s after the replica died, until Traefik stopped sending them there (its health check runs every {interval})",
                outage.statuses_in_words(),
                outage.longest.as_secs_f64()
            ),
            fix: "a shorter health check interval in the project shortens that window (each check is one request per replica)".into(),
        });
    }
    match stage.deployed {
        // Path a's container has `restart: unless-stopped`: Docker restarts one that
        // crashes, but `docker kill` counts as a stop; started again here, as after a crash.
        Deployed::A(_) => {
            docker.run(&["start", &victim])?;
            stage.wait_replicas(Duration::from_secs(180), interrupted)?;
        }
        // Swarm starts a task in its place.
        Deployed::C(_) => stage.wait_replicas(Duration::from_secs(180), interrupted)?,
        // Coolify does not restart it (the file has no restart policy). A kept rehearsal
        // is left with all its replicas: `compose up` starts the missing one.
        Deployed::B(app) => {
            let _ = docker.run(&["rm", "-f", &victim]);
            if stage.rehearsal.keep {
                app.up(docker)?;
            }
        }
    }
    Ok(step)
}

/// The keep-alive probe: a replica of its own, outside Traefik's service, measured from the
/// proxy's container, on its own thread.
pub(super) type KeepAliveProbe = std::thread::JoinHandle<anyhow::Result<Option<Duration>>>;

/// Starts the keep-alive probe: on its own thread (it takes up to Traefik's idle timeout),
/// `container` gives the replica's container (starting it if it must), which is waited for,
/// then timed from the proxy's container against `limit`.
pub(super) fn start_keep_alive(
    rehearsal: &Rehearsal,
    proxy: &proxy::Proxy,
    port: u16,
    path: &str,
    limit: Duration,
    container: impl FnOnce(&Docker) -> anyhow::Result<String> + Send + 'static,
) -> KeepAliveProbe {
    let docker = rehearsal.docker.clone();
    let (network, proxy_name, path) = (
        rehearsal.network.clone(),
        proxy.name.clone(),
        path.to_owned(),
    );
    std::thread::spawn(move || {
        let name = container(&docker)?;
        docker.wait_healthy(std::slice::from_ref(&name), Duration::from_secs(180))?;
        let address = docker.address(&name, &network)?;
        probe::keep_alive_once_listening(&docker, &proxy_name, &address, port, &path, limit)
    })
}

/// `idle_timeout`: how long Traefik keeps an idle connection on this path, and the words
/// that say why.
pub(super) fn keep_alive_step(
    probe: KeepAliveProbe,
    idle_timeout: (Duration, &str),
    interrupted: &AtomicBool,
) -> anyhow::Result<Step> {
    let (traefik_keeps, why) = idle_timeout;
    let mut step = Step::new("Node's keep-alive against Traefik's");
    while !probe.is_finished() {
        check_interrupt(interrupted)?;
        std::thread::sleep(Duration::from_millis(200));
    }
    let kept = probe
        .join()
        .map_err(|_| anyhow::anyhow!("the keep-alive probe's thread failed"))??;
    match kept {
        None => step.measured.push(format!(
            "an idle connection stayed open past Traefik's {:.0} s ({why})",
            traefik_keeps.as_secs_f64(),
        )),
        Some(kept) => {
            step.measured.push(format!(
                "the app closed an idle connection after {:.1} s; Traefik keeps one {:.0} s ({why})",
                kept.as_secs_f64(),
                traefik_keeps.as_secs_f64()
            ));
            step.findings.push(Finding {
                owner: Owner::App,
                what: format!(
                    "idle connections close after {:.0} s, Traefik reuses them for up to {:.0} s: a request Traefik sends on one the app is just closing fails, and for a long-polling POST that is a 502 and a lost session on a healthy replica",
                    kept.as_secs_f64(),
                    traefik_keeps.as_secs_f64()
                ),
                fix: "in main.ts, after `app.listen(…)`: `const server = app.getHttpServer(); server.keepAliveTimeout = 95_000; server.headersTimeout = 96_000;`".into(),
            });
        }
    }
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sessions_add_up_and_tell_a_cut_from_a_close() {
        // Two replicas: 10 sessions started, 4 broke there (3 closed by the server, one
        // HTTP 502); 5 more never started (HTTP 404: no replica known).
        let report = json!({"modes": [{
            "sessions": 15, "held": 6,
            "replicas": {"a1": 6, "b2": 4},
            "broken_by_replica": {"a1": 3, "b2": 1},
            "errors_by_replica": {"a1": {"closed by the server": 3}, "b2": {"HTTP 502": 1}},
            "errors": {"closed by the server": 3, "HTTP 502": 1, "HTTP 404": 5},
        }]});
        let mut sessions = Sessions::default();
        sessions.add(&report);
        sessions.add(&report);
        sessions
            .refused
            .insert("HTTP 404: not a Socket.IO endpoint".into(), 1);
        assert_eq!(
            (sessions.started, sessions.held, sessions.broken_count()),
            (20, 12, 8)
        );
        // A close from the server is not a cut; a 502 mid-session is.
        assert_eq!(sessions.cut(), 2);
        assert_eq!(sessions.broken_by_replica["a1"], 6);
        // a1 killed: b2's 502s are the proxy's answer, not the app's.
        let (by_app, by_proxy) = sessions.broken_elsewhere("a1");
        assert!(by_app.is_empty());
        assert_eq!(by_proxy["HTTP 502"], 2);
        let (by_app, _) = sessions.broken_elsewhere("b2");
        assert_eq!(by_app["closed by the server"], 6);
        assert_eq!(
            sessions.in_words(),
            "sessions: 12 of 20 held; broken: HTTP 502 ×2, closed by the server ×6; 11 new session(s) could not start (HTTP 404 ×10, HTTP 404: not a Socket.IO endpoint ×1)"
        );
    }

    #[test]
    fn a_shared_address_needs_a_fast_stop_to_blame_sigterm() {
        let sessions = Sessions {
            started: 107,
            broken: BTreeMap::from([(SESSION_UNKNOWN.to_owned(), 13)]),
            ..Sessions::default()
        };
        let findings = |stop_ms: u64, evidence: ShutdownEvidence, sessions: &Sessions| {
            let mut step = Step::new("redeploy");
            let stops = [Duration::from_millis(stop_ms)];
            shutdown_findings(&mut step, &stops, sessions, evidence);
            step.findings.len()
        };
        use ShutdownEvidence::*;
        // Paths a and c, a replica that drained for 4.7 s: the broken sessions met a
        // replica that never had them, not one that exits.
        assert_eq!(findings(4_700, StopTime, &sessions), 0);
        // Stopped in 0.2 s: it exits at once, on either path.
        assert_eq!(findings(200, StopTime, &sessions), 1);
        assert_eq!(findings(4_700, Breaks, &sessions), 1);
        // Ignored until Docker killed it.
        assert_eq!(findings(30_100, StopTime, &sessions), 1);
    }
}
