//! What the rehearsal measures: Socket.IO sessions (`gaqno-lb check`, this binary, as a
//! child), what new clients get while something happens, and two numbers of the app that
//! decide whether replicas stay healthy behind Traefik: how long Node keeps an idle
//! connection, and how long its health check takes.

use std::io::{Read, Write};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;

use super::docker::Docker;

/// What `gaqno-lb check` said.
pub enum Checked {
    /// Its JSON report (exit 0 or 1).
    Report(Value),
    /// It could not start a session (exit 2), and why: for a rehearsal, nothing behind the
    /// proxy answered as Socket.IO at that moment.
    Refused(String),
}

/// `gaqno-lb check URL --format json ARGS…`.
pub fn check(url: &str, path: &str, args: &[&str]) -> anyhow::Result<Checked> {
    let exe = std::env::current_exe().context("cannot find this gaqno-lb to run check")?;
    let out = Command::new(exe)
        .args(["check", url, "--path", path, "--format", "json"])
        .args(args)
        .output()
        .context("cannot run gaqno-lb check")?;
    let code = out.status.code().unwrap_or(2);
    if code == 2 && out.stdout.is_empty() {
        // "gaqno-lb: cannot check <url><path>: <why>"
        let said = String::from_utf8_lossy(&out.stderr);
        let prefix = format!("gaqno-lb: cannot check {url}{path}: ");
        let why = said.trim().strip_prefix(&prefix).unwrap_or(said.trim());
        return Ok(Checked::Refused(why.to_owned()));
    }
    let report = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "gaqno-lb check {url} (exit {code}): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })?;
    Ok(Checked::Report(report))
}

/// Long-polling sessions of 8 round trips 500 ms apart, new ones started for `seconds`, on
/// their own thread: what open clients live through while something happens.
pub fn sessions_during(url: &str, path: &str, seconds: u32) -> JoinHandle<anyhow::Result<Checked>> {
    let (url, path) = (url.to_owned(), path.to_owned());
    std::thread::spawn(move || {
        let seconds = seconds.to_string();
        check(
            &url,
            &path,
            &[
                "--transport",
                "polling",
                "--duration",
                &seconds,
                "--rounds",
                "8",
                "--interval",
                "500",
                "--concurrency",
                "8",
            ],
        )
    })
}

/// What a new client got from the proxy, asked every 100 ms: `(ms since start, status or 0
/// for no answer)`.
pub struct Probe {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<(u128, u16)>>,
}

impl Probe {
    /// Probes `GET <url><path>?EIO=4&transport=polling` (a handshake, where a new client
    /// starts), at most 10 minutes.
    pub fn start(url: &str, path: &str) -> Probe {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let url = format!("{url}{path}?EIO=4&transport=polling");
        let thread = std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(2)))
                .http_status_as_error(false)
                .build()
                .into();
            let start = Instant::now();
            let mut seen = Vec::new();
            while !flag.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(600) {
                let at = start.elapsed().as_millis();
                let status = agent.get(&url).call().map_or(0, |r| r.status().as_u16());
                seen.push((at, status));
                std::thread::sleep(Duration::from_millis(100));
            }
            seen
        });
        Probe { stop, thread }
    }

    pub fn stop(self) -> Outage {
        self.stop.store(true, Ordering::Relaxed);
        Outage::of(&self.thread.join().unwrap_or_default())
    }
}

/// The failed probes: how many, their statuses, and the longest run of them.
#[derive(Debug, Clone, Default)]
pub struct Outage {
    pub probes: usize,
    pub failed: usize,
    /// Status → probes (0: no answer).
    pub statuses: std::collections::BTreeMap<u16, usize>,
    pub longest: Duration,
}

impl Outage {
    fn of(seen: &[(u128, u16)]) -> Outage {
        let mut outage = Outage {
            probes: seen.len(),
            ..Outage::default()
        };
        let mut run_start: Option<u128> = None;
        for &(at, status) in seen {
            if status == 200 {
                if let Some(start) = run_start.take() {
                    outage.longest = outage
                        .longest
                        .max(Duration::from_millis((at - start) as u64));
                }
                continue;
            }
            outage.failed += 1;
            *outage.statuses.entry(status).or_default() += 1;
            run_start.get_or_insert(at);
        }
        if let (Some(start), Some(&(end, _))) = (run_start, seen.last()) {
            outage.longest = outage
                .longest
                .max(Duration::from_millis((end - start + 100) as u64));
        }
        outage
    }

    /// "HTTP 503 ×12, no answer ×2".
    pub fn statuses_in_words(&self) -> String {
        self.statuses
            .iter()
            .map(|(status, n)| match status {
                0 => format!("no answer ×{n}"),
                s => format!("HTTP {s} ×{n}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// [`keep_alive`], asked again while the app does not listen yet (a container that runs is
/// not yet a Node that listens), for up to a minute.
pub fn keep_alive_once_listening(
    docker: &Docker,
    proxy: &str,
    address: &str,
    port: u16,
    health: &str,
    limit: Duration,
) -> anyhow::Result<Option<Duration>> {
    let started = Instant::now();
    loop {
        match keep_alive(docker, proxy, address, port, health, limit) {
            Err(e)
                if format!("{e:#}").contains("can't connect")
                    && started.elapsed() < Duration::from_secs(60) =>
            {
                std::thread::sleep(Duration::from_secs(1));
            }
            other => return other,
        }
    }
}

/// How long the app keeps an idle keep-alive connection, measured from inside the proxy's
/// container (where Traefik's connections start): `docker exec -i <proxy> nc <address>
/// <port>`, one request written, then nothing while the input stays open, until the app
/// closes the connection and `nc` ends. `None`: still open after `limit` (it outlasts
/// Traefik's idle timeout).
pub fn keep_alive(
    docker: &Docker,
    proxy: &str,
    address: &str,
    port: u16,
    health: &str,
    limit: Duration,
) -> anyhow::Result<Option<Duration>> {
    let mut child = docker
        .command()
        .args(["exec", "-i", proxy, "nc", address, &port.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("docker exec")?;
    // Held until the end: closing it would half-close the connection, which Node answers
    // by closing at once.
    let mut input = child.stdin.take().context("nc's input")?;
    write!(input, "GET {health} HTTP/1.1\r\nHost: {address}\r\n\r\n")?;
    input.flush()?;
    // The idle time starts when the answer arrives (not when `docker exec` starts, which
    // takes a while on a busy machine), and ends when `nc` sees the app close.
    let mut output = child.stdout.take().context("nc's output")?;
    let answered = std::thread::spawn(move || {
        let mut first = [0u8; 1];
        let at = output
            .read(&mut first)
            .ok()
            .filter(|n| *n > 0)
            .map(|_| Instant::now());
        let _ = std::io::copy(&mut output, &mut std::io::sink());
        at
    });
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            let closed = Instant::now();
            let answered = answered.join().ok().flatten();
            if !status.success() || answered.is_none() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                anyhow::bail!(
                    "cannot time the app's keep-alive from the proxy (nc): {}",
                    if err.trim().is_empty() {
                        "no answer to GET"
                    } else {
                        err.trim()
                    }
                );
            }
            return Ok(answered.map(|at| closed.duration_since(at)));
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The slowest of `count` health checks through the proxy (`GET <url><health>`), with
/// nothing else going on; an error names the first failure.
pub fn health_latency(
    http: &str,
    host: &str,
    health: &str,
    count: usize,
) -> anyhow::Result<Duration> {
    let mut slowest = Duration::ZERO;
    for _ in 0..count {
        let started = Instant::now();
        let mut stream =
            std::net::TcpStream::connect(http).with_context(|| format!("connect {http}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "GET {health} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        let took = started.elapsed();
        let status = answer.split(' ').nth(1).unwrap_or_default();
        anyhow::ensure!(
            status == "200",
            "GET {health} answered {}",
            answer.lines().next().unwrap_or("nothing")
        );
        slowest = slowest.max(took);
    }
    Ok(slowest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_its_longest_run_of_failed_probes() {
        let seen = [
            (0, 200),
            (100, 503),
            (200, 503),
            (300, 200),
            (400, 0),
            (500, 0),
            (600, 0),
            (700, 200),
        ];
        let outage = Outage::of(&seen);
        assert_eq!((outage.probes, outage.failed), (8, 5));
        assert_eq!(outage.longest, Duration::from_millis(300));
        assert_eq!(outage.statuses_in_words(), "no answer ×3, HTTP 503 ×2");
        // Still failing when probing stopped: counted to the last probe.
        let outage = Outage::of(&[(0, 200), (100, 404), (200, 404)]);
        assert_eq!(outage.longest, Duration::from_millis(200));
        assert_eq!(Outage::of(&[(0, 200)]).failed, 0);
    }
}
