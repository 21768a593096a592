//! `gaqno-lb check URL`: opens real Engine.IO / Socket.IO sessions against a deployed
//! service and says whether each stayed on one replica, and which replica it was.
//!
//! A session: handshake, Socket.IO connect, `--rounds` round trips (each asks for a
//! namespace no server has, so the replica must answer on that session), close. It *held*
//! when every request succeeded on the same engine.io session. Modes are the transports
//! (`polling`, `upgrade`, `websocket`) times cookies off/on; each runs `--sessions`
//! sessions, `--concurrency` at a time, one thread each.
//!
//! Exit codes: 0 every session held, 1 any broke, 2 the target cannot be checked (a bad
//! URL, nothing listening, TLS, not a Socket.IO endpoint), said in one line.

mod engineio;
mod session;
mod traefik_api;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;

use crate::flags::{self, Check, CheckTransport, Cookies, Format};
use engineio::Eio;
use session::{Failure, Outcome, Target, Transport};

pub fn run(flags: Check) -> anyhow::Result<ExitCode> {
    let target = target(&flags)?;
    let transports: &[Transport] = match flags.transport {
        CheckTransport::Polling => &[Transport::Polling],
        CheckTransport::Upgrade => &[Transport::Upgrade],
        CheckTransport::Websocket => &[Transport::WebSocket],
        CheckTransport::All => &[Transport::Polling, Transport::Upgrade, Transport::WebSocket],
    };
    let cookies: &[bool] = match flags.cookies {
        Cookies::Off => &[false],
        Cookies::On => &[true],
        Cookies::Both => &[false, true],
    };
    // Traefik's view first: a wrong API address is said before any session runs.
    let traefik = match &flags.traefik_api {
        Some(api) => Some((api.clone(), traefik_api::fetch(api, target.timeout)?)),
        None => None,
    };
    // One session first: a target that cannot be checked is said in one line (exit 2)
    // instead of as N broken sessions.
    let first = session::run(&target, transports[0], cookies[0], seed());
    if let Some(failure) = first.failure.as_ref().filter(|_| first.handshake.is_none()) {
        let why = match failure {
            Failure::SessionUnknown => None,
            Failure::Status(_) | Failure::Protocol(_) => Some(format!(
                "{}: not a Socket.IO endpoint (is --path right?)",
                failure.detail()
            )),
            _ => Some(failure.detail()),
        };
        if let Some(why) = why {
            anyhow::bail!("cannot check {}{}: {why}", target.base, target.path);
        }
    }
    // Each session holds up to two sockets (its keep-alive polling connection and the
    // WebSocket): raise the soft open-file limit (often 1024) toward what that needs, as far
    // as the hard limit allows. If it cannot be raised, sessions past it fail and say why.
    let wanted = (flags.concurrency as u64)
        .saturating_mul(3)
        .saturating_add(64);
    let _ = rlimit::increase_nofile_limit(wanted);
    let deadline = flags.duration.map(Duration::from_secs_f64);
    let total = match deadline {
        // A soak's length is time, not sessions: the bar counts sessions started.
        Some(_) => 0,
        None => transports.len() * cookies.len() * flags.sessions,
    };
    let progress = progress_bar(total, matches!(flags.format, Format::Human));
    let mut modes = Vec::new();
    for &transport in transports {
        for &with_cookies in cookies {
            if let Some(bar) = &progress {
                bar.set_message(format!(
                    "{}, {}",
                    transport.name(),
                    if with_cookies {
                        "cookies"
                    } else {
                        "no cookies"
                    }
                ));
            }
            let outcomes = run_sessions(
                &target,
                transport,
                with_cookies,
                flags.sessions,
                flags.concurrency,
                deadline,
                progress.as_ref(),
            );
            modes.push(Mode::new(transport, with_cookies, outcomes));
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let report = Report {
        url: format!("{}{}", target.base, target.path),
        eio: target.eio.number(),
        rounds: target.rounds,
        modes,
        traefik,
    };
    let mut out = std::io::stdout().lock();
    match flags.format {
        Format::Human => report.write_human(&mut out)?,
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report.to_json())?;
            std::io::Write::write_all(&mut out, b"\n")?;
        }
    }
    Ok(if report.all_held() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The target from the flags, checked: an http(s) URL with a host, and a path.
fn target(flags: &Check) -> anyhow::Result<Target> {
    let url =
        url::Url::parse(&flags.url).with_context(|| format!("invalid URL {:?}", flags.url))?;
    anyhow::ensure!(
        matches!(url.scheme(), "http" | "https"),
        "invalid URL {:?}: it must start with http:// or https://",
        flags.url
    );
    let host = url
        .host_str()
        .with_context(|| format!("invalid URL {:?}: no host", flags.url))?;
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    let base = match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    };
    anyhow::ensure!(
        flags.path.starts_with('/') && !flags.path.contains(['?', '#', ' ']),
        "invalid --path {:?}: it must start with '/' and hold no '?', '#' or spaces",
        flags.path
    );
    let path = if flags.path.ends_with('/') {
        flags.path.clone()
    } else {
        format!("{}/", flags.path)
    };
    anyhow::ensure!(flags.sessions > 0, "--sessions must be at least 1");
    anyhow::ensure!(flags.concurrency > 0, "--concurrency must be at least 1");
    anyhow::ensure!(flags.rounds <= 1000, "--rounds must be at most 1000");
    if let Some(duration) = flags.duration {
        anyhow::ensure!(
            duration > 0.0 && duration <= 86_400.0,
            "--duration must be more than 0 and at most 86400 seconds"
        );
    }
    Ok(Target {
        base,
        path,
        eio: match flags.eio {
            flags::EioFlag::V4 => Eio::V4,
            flags::EioFlag::V3 => Eio::V3,
        },
        rounds: flags.rounds,
        interval: Duration::from_millis(flags.interval.min(60_000)),
        timeout: Duration::from_secs_f64(flags.timeout.max(0.1)),
    })
}

/// A seed for the requests' cache-busting tags.
fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| {
            u64::from(d.subsec_nanos()) ^ d.as_secs().rotate_left(20)
        })
}

/// A progress bar on stderr, only when it is a terminal and the report is for people.
fn progress_bar(total: usize, human: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !human || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg:>22} [{bar:30}] {pos}/{len} sessions, {per_sec}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    Some(bar)
}

/// `count` sessions, `concurrency` at a time, one thread each; with `duration`, sessions
/// keep starting until it has passed, whatever `count` says.
fn run_sessions(
    target: &Target,
    transport: Transport,
    cookies: bool,
    count: usize,
    concurrency: usize,
    duration: Option<Duration>,
    progress: Option<&indicatif::ProgressBar>,
) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::with_capacity(count));
    let base_tag = seed();
    let deadline = duration.map(|d| std::time::Instant::now() + d);
    let workers = match deadline {
        Some(_) => concurrency,
        None => concurrency.min(count),
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let more = match deadline {
                    Some(deadline) => std::time::Instant::now() < deadline,
                    None => i < count,
                };
                if !more {
                    break;
                }
                let tag = base_tag.wrapping_add((i as u64) << 20);
                let outcome = session::run(target, transport, cookies, tag);
                // In a soak, a session that could not start (nothing answered its handshake)
                // is followed by a pause of `--interval`, as a client backs off before it
                // reconnects (Socket.IO's waits 1 s): a target that is down for a moment is
                // not hammered, nor the machine running the soak.
                if deadline.is_some() && outcome.handshake.is_none() {
                    std::thread::sleep(target.interval);
                }
                if let Some(bar) = progress {
                    bar.inc(1);
                }
                if let Ok(mut outcomes) = outcomes.lock() {
                    outcomes.push(outcome);
                }
            });
        }
    });
    outcomes.into_inner().unwrap_or_default()
}

/// One mode's sessions, summed up.
struct Mode {
    transport: Transport,
    cookies: bool,
    total: usize,
    held: usize,
    /// Sessions per replica (sticky cookie value); `None`: not identified.
    replicas: BTreeMap<String, usize>,
    /// Broken sessions per replica (sticky cookie value).
    broken_by_replica: BTreeMap<String, usize>,
    /// Why they broke, per replica: failure label → sessions.
    errors_by_replica: BTreeMap<String, BTreeMap<String, usize>>,
    unidentified: usize,
    /// Sessions whose handshake sid carried the plugin's token.
    plugin_tokens: usize,
    handshake: Vec<Duration>,
    round_trips: Vec<Duration>,
    errors: BTreeMap<String, usize>,
}

impl Mode {
    fn new(transport: Transport, cookies: bool, outcomes: Vec<Outcome>) -> Mode {
        let mut mode = Mode {
            transport,
            cookies,
            total: outcomes.len(),
            held: 0,
            replicas: BTreeMap::new(),
            broken_by_replica: BTreeMap::new(),
            errors_by_replica: BTreeMap::new(),
            unidentified: 0,
            plugin_tokens: 0,
            handshake: Vec::new(),
            round_trips: Vec::new(),
            errors: BTreeMap::new(),
        };
        for outcome in outcomes {
            mode.held += usize::from(outcome.held);
            mode.plugin_tokens += usize::from(outcome.plugin_token);
            match outcome.replica {
                Some(replica) => {
                    if !outcome.held {
                        *mode.broken_by_replica.entry(replica.clone()).or_default() += 1;
                        if let Some(failure) = &outcome.failure {
                            *mode
                                .errors_by_replica
                                .entry(replica.clone())
                                .or_default()
                                .entry(failure.label())
                                .or_default() += 1;
                        }
                    }
                    *mode.replicas.entry(replica).or_default() += 1;
                }
                None => mode.unidentified += 1,
            }
            mode.handshake.extend(outcome.handshake);
            mode.round_trips.extend(outcome.round_trips);
            if let Some(failure) = outcome.failure {
                *mode.errors.entry(failure.label()).or_default() += 1;
            }
        }
        mode.handshake.sort();
        mode.round_trips.sort();
        mode
    }

    fn label(&self) -> String {
        format!(
            "{}, {}",
            self.transport.name(),
            if self.cookies {
                "cookies"
            } else {
                "no cookies"
            }
        )
    }
}

/// The `q` quantile (0..=1) of sorted durations, in milliseconds.
fn quantile_ms(sorted: &[Duration], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let index = ((last as f64) * q).round() as usize;
    sorted
        .get(index.min(last))
        .map(|d| d.as_secs_f64() * 1000.0)
}

struct Report {
    url: String,
    eio: u8,
    rounds: usize,
    modes: Vec<Mode>,
    /// `--traefik-api`: its address and what it said.
    traefik: Option<(String, traefik_api::Status)>,
}

impl Report {
    fn all_held(&self) -> bool {
        self.modes.iter().all(|m| m.held == m.total)
    }

    /// Whether any handshake carried the plugin's token in its sid.
    fn plugin_answered(&self) -> bool {
        self.modes.iter().any(|m| m.plugin_tokens > 0)
    }

    /// One line on whether the plugin answered, told from the sids alone: Traefik at
    /// Coolify's log level (ERROR) never logs `Plugins loaded.`, and its API is off.
    fn plugin_line(&self) -> String {
        let with: Vec<String> = self
            .modes
            .iter()
            .filter(|m| m.plugin_tokens > 0)
            .map(|m| format!("{} {} of {}", m.transport.name(), m.plugin_tokens, m.total))
            .collect();
        if with.is_empty() {
            "gaqno-lb plugin: no sid carried its token; it is not loaded, or not on this path's router".to_owned()
        } else {
            format!(
                "gaqno-lb plugin: it answered (sids carrying its token: {})",
                with.join(", ")
            )
        }
    }

    /// Server URL per sticky cookie value, when Traefik's API was asked.
    fn urls(&self) -> BTreeMap<String, String> {
        self.traefik
            .as_ref()
            .map(|(_, status)| status.urls_by_cookie())
            .unwrap_or_default()
    }

    fn write_human(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let sessions = self.modes.first().map_or(0, |m| m.total);
        let urls = self.urls();
        writeln!(
            out,
            "gaqno-lb check {} (Engine.IO {}, {sessions} sessions x {} round trips per mode)",
            self.url, self.eio, self.rounds
        )?;
        writeln!(out)?;
        for mode in &self.modes {
            writeln!(
                out,
                "{}: {} of {} held",
                mode.label(),
                mode.held,
                mode.total
            )?;
            let mut rows: Vec<Vec<String>> = mode
                .replicas
                .iter()
                .map(|(value, n)| {
                    let share = 100.0 * *n as f64 / mode.total.max(1) as f64;
                    let name = match urls.get(value) {
                        Some(url) => format!("{url} ({value})"),
                        None => value.clone(),
                    };
                    let broken = mode.broken_by_replica.get(value).copied().unwrap_or(0);
                    vec![
                        name,
                        n.to_string(),
                        format!("{share:.0} %"),
                        broken.to_string(),
                    ]
                })
                .collect();
            if mode.unidentified > 0 {
                let broken_identified: usize = mode.broken_by_replica.values().sum();
                let broken = (mode.total - mode.held).saturating_sub(broken_identified);
                let share = 100.0 * mode.unidentified as f64 / mode.total.max(1) as f64;
                rows.push(vec![
                    "not identified (no sid token, no sticky cookie)".into(),
                    mode.unidentified.to_string(),
                    format!("{share:.0} %"),
                    broken.to_string(),
                ]);
            }
            write_table(out, &["replica", "sessions", "share", "broken"], &rows)?;
            let ms = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1} ms"));
            let latency = |name: &str, sorted: &[Duration]| {
                vec![
                    name.to_owned(),
                    ms(quantile_ms(sorted, 0.5)),
                    ms(quantile_ms(sorted, 0.95)),
                ]
            };
            write_table(
                out,
                &["latency", "p50", "p95"],
                &[
                    latency("handshake", &mode.handshake),
                    latency("round trip", &mode.round_trips),
                ],
            )?;
            if !mode.errors.is_empty() {
                let rows: Vec<Vec<String>> = mode
                    .errors
                    .iter()
                    .map(|(error, n)| vec![error.clone(), n.to_string()])
                    .collect();
                write_table(out, &["broken by", "sessions"], &rows)?;
            }
            writeln!(out)?;
        }
        if let Some((api, status)) = &self.traefik {
            status.write_human(api, out)?;
            writeln!(out)?;
        }
        writeln!(out, "{}", self.plugin_line())?;
        if self.all_held() {
            writeln!(out, "every session held on one replica")
        } else {
            let broken: usize = self.modes.iter().map(|m| m.total - m.held).sum();
            writeln!(out, "{broken} session(s) broke: see above")
        }
    }

    fn to_json(&self) -> serde_json::Value {
        let urls = self.urls();
        let modes: Vec<serde_json::Value> = self
            .modes
            .iter()
            .map(|m| {
                serde_json::json!({
                    "transport": m.transport.name(),
                    "cookies": m.cookies,
                    "sessions": m.total,
                    "held": m.held,
                    "replicas": m.replicas,
                    "broken_by_replica": m.broken_by_replica,
                    "errors_by_replica": m.errors_by_replica,
                    "replica_urls": m.replicas.keys().filter_map(|v| Some((v.clone(), urls.get(v)?.clone()))).collect::<BTreeMap<_, _>>(),
                    "unidentified": m.unidentified,
                    "plugin_tokens": m.plugin_tokens,
                    "handshake_ms": {"p50": quantile_ms(&m.handshake, 0.5), "p95": quantile_ms(&m.handshake, 0.95)},
                    "round_trip_ms": {"p50": quantile_ms(&m.round_trips, 0.5), "p95": quantile_ms(&m.round_trips, 0.95)},
                    "errors": m.errors,
                })
            })
            .collect();
        serde_json::json!({
            "url": self.url,
            "eio": self.eio,
            "rounds": self.rounds,
            "all_held": self.all_held(),
            "plugin_answered": self.plugin_answered(),
            "modes": modes,
            "traefik": self.traefik.as_ref().map(|(_, status)| status.to_json()),
        })
    }
}

/// Writes an aligned table indented by two spaces: the first column left-aligned, the
/// others (numbers) right-aligned, columns two spaces apart.
fn write_table(
    out: &mut impl std::io::Write,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let width = |column: usize| {
        rows.iter()
            .filter_map(|row| row.get(column))
            .map(|cell| cell.chars().count())
            .chain(header.get(column).map(|h| h.chars().count()))
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::from(" ");
        for (column, cell) in row.iter().enumerate() {
            let w = widths.get(column).copied().unwrap_or(0);
            if column == 0 {
                line.push_str(&format!(" {cell:<w$}"));
            } else {
                line.push_str(&format!("  {cell:>w$}"));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(token: bool) -> Outcome {
        Outcome {
            held: true,
            replica: Some("10c318b72adc7a81".into()),
            plugin_token: token,
            handshake: None,
            round_trips: Vec::new(),
            failure: None,
        }
    }

    #[test]
    fn the_plugin_line_comes_from_the_sids_alone() {
        let report = |modes: Vec<Mode>| Report {
            url: "https://omni.example.com/socket.io/".into(),
            eio: 4,
            rounds: 1,
            modes,
            traefik: None,
        };
        let with = report(vec![
            Mode::new(
                Transport::Polling,
                false,
                vec![outcome(true), outcome(true)],
            ),
            Mode::new(Transport::WebSocket, false, vec![outcome(false)]),
        ]);
        assert_eq!(
            with.plugin_line(),
            "gaqno-lb plugin: it answered (sids carrying its token: polling 2 of 2)"
        );
        assert_eq!(with.to_json()["plugin_answered"], true);
        let without = report(vec![Mode::new(
            Transport::Polling,
            false,
            vec![outcome(false)],
        )]);
        assert!(without.plugin_line().contains("no sid carried its token"));
        assert_eq!(without.to_json()["plugin_answered"], false);
    }

    #[test]
    fn tables_align_names_left_and_numbers_right() {
        let mut out = Vec::new();
        let rows = vec![
            vec!["http://10.0.0.5:4008 (4b5d)".to_owned(), "9".into()],
            vec!["b".to_owned(), "120".into()],
        ];
        write_table(&mut out, &["replica", "sessions"], &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "  replica                      sessions\n  http://10.0.0.5:4008 (4b5d)         9\n  b                                 120\n"
        );
    }

    #[test]
    fn quantiles() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile_ms(&sorted, 0.5).map(f64::round), Some(51.0));
        assert_eq!(quantile_ms(&sorted, 0.95).map(f64::round), Some(95.0));
        assert_eq!(quantile_ms(&[], 0.5), None);
    }
}
