//! The Docker CLI, as the operator's shell would run it (`DOCKER_HOST`, `DOCKER_CONFIG` and
//! contexts apply). Everything the rehearsal makes carries [`LABEL`]`=<id>`, so cleaning up
//! removes exactly that and nothing else.

use std::io::BufRead;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};

/// The label on every container, network and volume a rehearsal makes; its value is the
/// rehearsal's id.
pub const LABEL: &str = "gaqno-lb.rehearsal";

#[derive(Debug, Clone)]
pub struct Docker;

/// This engine in Swarm mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Swarm {
    /// In no Swarm.
    None,
    /// A manager, with its node id.
    Manager(String),
    /// A worker: services cannot be made here.
    Worker,
}

impl Docker {
    /// A Docker whose daemon answers and which has Compose v2; otherwise what to do.
    pub fn connect() -> anyhow::Result<Docker> {
        let docker = Docker;
        let version = docker
            .command()
            .args(["version", "--format", "{{.Server.Version}}"])
            .output();
        match version {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "Docker is not installed (no `docker` command): install Docker Engine \
                 (https://docs.docker.com/engine/install/), then run this again"
            ),
            Err(e) => bail!("cannot run `docker`: {e}"),
            Ok(out) if !out.status.success() => bail!(
                "Docker does not answer: {} — start it (`sudo systemctl start docker`), or \
                 point DOCKER_HOST at it, and make sure this user may use it (the `docker` group)",
                last_line(&out.stderr)
            ),
            Ok(_) => {}
        }
        let compose = docker.command().args(["compose", "version"]).output();
        if !compose.is_ok_and(|o| o.status.success()) {
            bail!(
                "Docker Compose v2 is missing (`docker compose version` failed): install the \
                 docker-compose-plugin package, as Coolify does"
            );
        }
        Ok(docker)
    }

    pub fn command(&self) -> Command {
        Command::new("docker")
    }

    /// Runs `command`, failing with its last line of stderr.
    pub fn output(&self, command: &mut Command) -> anyhow::Result<String> {
        let out: Output = command
            .output()
            .with_context(|| format!("cannot run {command:?}"))?;
        if !out.status.success() {
            bail!("{} failed: {}", describe(command), last_line(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// `docker ARGS…`.
    pub fn run(&self, args: &[&str]) -> anyhow::Result<String> {
        self.output(self.command().args(args))
    }

    pub fn has_image(&self, image: &str) -> bool {
        self.command()
            .args(["image", "inspect", "--format", "{{.Id}}", image])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// The running containers with every label of `labels` (`key=value`), by name, sorted.
    pub fn running(&self, labels: &[&str]) -> anyhow::Result<Vec<String>> {
        self.names(&["ps"], labels)
    }

    /// Every container with every label of `labels`, running or not.
    pub fn all(&self, labels: &[&str]) -> anyhow::Result<Vec<String>> {
        self.names(&["ps", "-a"], labels)
    }

    fn names(&self, args: &[&str], labels: &[&str]) -> anyhow::Result<Vec<String>> {
        let mut command = self.command();
        command.args(args);
        for label in labels {
            command.arg("--filter").arg(format!("label={label}"));
        }
        let out = self.output(command.args(["--format", "{{.Names}}"]))?;
        let mut names: Vec<String> = out.lines().map(str::to_owned).collect();
        names.sort();
        Ok(names)
    }

    /// Where this engine stands in Swarm mode (`docker info`); a Swarm still being joined
    /// or left (`pending`) is waited for, up to 20 s.
    pub fn swarm(&self) -> anyhow::Result<Swarm> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let info = self.run(&[
                "info",
                "--format",
                "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.NodeID}}",
            ])?;
            let mut words = info.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some("active"), Some("true"), Some(node)) => {
                    return Ok(Swarm::Manager(node.to_owned()))
                }
                (Some("active"), _, _) => return Ok(Swarm::Worker),
                (Some("inactive"), _, _) => return Ok(Swarm::None),
                (Some("pending"), _, _) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(500));
                }
                _ => bail!(
                    "Docker says its Swarm is `{info}` (`docker info`): neither in one nor out"
                ),
            }
        }
    }

    /// `container`'s address on `network`.
    pub fn address(&self, container: &str, network: &str) -> anyhow::Result<String> {
        let format = format!("{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}");
        let address = self.run(&["inspect", "--format", &format, container])?;
        anyhow::ensure!(!address.is_empty(), "{container} is not on {network}");
        Ok(address)
    }

    /// The host address a container's `port` is published on (`127.0.0.1:49153`).
    pub fn published(&self, container: &str, port: &str) -> anyhow::Result<String> {
        let out = self.run(&["port", container, port])?;
        out.lines()
            .find(|l| l.starts_with("127.0.0.1:"))
            .map(str::to_owned)
            .with_context(|| format!("{container} publishes {port} on no loopback address: {out}"))
    }

    /// Waits until every container in `names` says healthy (or has no health check and
    /// runs), at most `timeout`.
    pub fn wait_healthy(&self, names: &[String], timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut waiting = Vec::new();
            for name in names {
                let state = self
                    .run(&[
                        "inspect",
                        "--format",
                        "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}",
                        name,
                    ])
                    .unwrap_or_default();
                if !(state == "running" || state == "running healthy") {
                    waiting.push(format!("{name}: {state}"));
                }
            }
            if waiting.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "not healthy after {} s: {}",
                    timeout.as_secs(),
                    waiting.join(", ")
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// One container's stop, as the engine logged it: from its first stop signal (`kill`) to its
/// exit (`die`).
#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    pub took: Duration,
    pub exit_code: i64,
}

impl Stop {
    /// Docker's SIGKILL when the grace period ended: the app did not exit on SIGTERM.
    pub fn killed(&self) -> bool {
        self.exit_code == 137
    }
}

/// `docker events` for the containers with a label, read while something else (Swarm's
/// update) stops them: the engine's own clock for when each got its signal and exited,
/// which the rehearsal cannot see from outside a Swarm task.
pub struct StopWatch {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Docker {
    /// Starts watching the stops of every container labelled `label` (`key=value`).
    pub fn watch_stops(&self, label: &str) -> anyhow::Result<StopWatch> {
        // `--since` a second back: the stream is live only once the CLI has connected, and
        // the engine replays from its buffer what happened in between.
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs().saturating_sub(1))
            .unwrap_or(0)
            .to_string();
        let mut child = self
            .command()
            .args(["events", "--since", &since, "--format", "{{json .}}"])
            .args(["--filter", "type=container", "--filter", "event=kill"])
            .args(["--filter", "event=die", "--filter"])
            .arg(format!("label={label}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot run `docker events`")?;
        let stdout = child
            .stdout
            .take()
            .context("`docker events` has no output")?;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if let Ok(mut lines) = lines.lock() {
                        lines.push(line);
                    }
                }
            })
        };
        Ok(StopWatch {
            child,
            lines,
            reader: Some(reader),
        })
    }
}

impl StopWatch {
    /// Waits until `count` stopped containers have exited, at most `within`, then stops
    /// watching. The stops seen, in the order the containers exited.
    pub fn finish(mut self, count: usize, within: Duration) -> Vec<Stop> {
        let deadline = Instant::now() + within;
        let seen = |lines: &Arc<Mutex<Vec<String>>>| {
            lines.lock().map(|l| stops_in(&l)).unwrap_or_default()
        };
        while seen(&self.lines).len() < count && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
        }
        self.stop();
        seen(&self.lines)
    }

    /// Ends `docker events` (our child, by its handle) and its reader.
    fn stop(&mut self) {
        if let Some(reader) = self.reader.take() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            let _ = reader.join();
        }
    }
}

/// A rehearsal interrupted or failed mid-redeploy leaves no `docker events` behind.
impl Drop for StopWatch {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The stops in `docker events --format '{{json .}}'` lines: each container's first `kill`
/// to its `die`. A container that died with no `kill` (it crashed, or exited by itself) was
/// not stopped, and is left out.
pub fn stops_in(lines: &[String]) -> Vec<Stop> {
    let mut signalled: Vec<(String, i64)> = Vec::new();
    let mut stops = Vec::new();
    for line in lines {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(id), Some(at)) = (event["Actor"]["ID"].as_str(), event["timeNano"].as_i64())
        else {
            continue;
        };
        match event["Action"].as_str() {
            Some("kill") if !signalled.iter().any(|(c, _)| c == id) => {
                signalled.push((id.to_owned(), at));
            }
            Some("die") => {
                if let Some(i) = signalled.iter().position(|(c, _)| c == id) {
                    let (_, since) = signalled.swap_remove(i);
                    let exit_code = event["Actor"]["Attributes"]["exitCode"]
                        .as_str()
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(-1);
                    stops.push(Stop {
                        took: Duration::from_nanos(u64::try_from(at - since).unwrap_or(0)),
                        exit_code,
                    });
                }
            }
            _ => {}
        }
    }
    stops
}

fn describe(command: &Command) -> String {
    let args: Vec<String> = command
        .get_args()
        .take(3)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("docker {}", args.join(" "))
}

fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(no message)")
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_runs_from_the_first_signal_to_the_exit() {
        let event = |action: &str, id: &str, at: i64, attributes: &str| {
            format!(
                r#"{{"Type":"container","Action":"{action}","Actor":{{"ID":"{id}","Attributes":{{{attributes}}}}},"timeNano":{at}}}"#
            )
        };
        let second = 1_000_000_000;
        let lines = vec![
            // Drained for 3.5 s.
            event("kill", "a", 10 * second, r#""signal":"15""#),
            // Ignored SIGTERM: killed when the 10 s grace ended.
            event("kill", "b", 11 * second, r#""signal":"15""#),
            event("die", "a", 13 * second + second / 2, r#""exitCode":"0""#),
            event("kill", "b", 21 * second, r#""signal":"9""#),
            event("die", "b", 21 * second + 5, r#""exitCode":"137""#),
            // Crashed: no stop.
            event("die", "c", 22 * second, r#""exitCode":"1""#),
            "not json".into(),
        ];
        let stops = stops_in(&lines);
        assert_eq!(
            stops,
            vec![
                Stop {
                    took: Duration::from_millis(3_500),
                    exit_code: 0
                },
                Stop {
                    took: Duration::from_nanos(10 * 1_000_000_000 + 5),
                    exit_code: 137
                },
            ]
        );
        assert!(!stops[0].killed() && stops[1].killed());
    }
}
