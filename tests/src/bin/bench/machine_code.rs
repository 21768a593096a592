//! `## The guest's machine code`: CPU per request inside the code wazero compiled, counted
//! by `perf`, lane against lane in one Traefik.
//!
//! Go's profile samples every 10 ms and sees wazero's compiled code only as one anonymous
//! frame, so gaqno-lb's own work rests on a few dozen of its samples. `perf record` on
//! Traefik's pid samples every 50 µs of its CPU; a sample whose instruction pointer lies in
//! an anonymous executable mapping is in code wazero compiled: the guest's functions and
//! wazero's trampolines into and out of them (Go's own code is in the traefik binary, the
//! kernel's in no mapping of the process). The lanes take turns in rounds, each round one
//! lane further along, and a lane's phase is a fixed number of requests, so a round's
//! lanes see the same machine.
//!
//! Optional: without `perf` on the PATH the bench says so and goes on.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use super::*;

/// CPU time between samples: `perf record -e cpu-clock -c` counts nanoseconds.
const SAMPLE_PERIOD_NS: u64 = 50_000;
/// Requests per phase: at 6 to 25 µs of compiled code each, 200 to 700 samples. Short
/// phases keep a round's lanes close in time, so what the machine does meanwhile (other
/// guests on the host) hits them alike.
const REQUESTS_PER_PHASE: usize = 1500;
/// Rounds: every lane once per round.
const ROUNDS: usize = 16;

/// `perf record` running on one process until [`Recording::finish`].
pub(crate) struct Recording {
    child: Child,
    data: PathBuf,
    pid: u32,
}

/// Starts sampling process `pid` into `data`; `None` when `perf` cannot run.
fn record(pid: u32, data: &Path) -> Option<Recording> {
    let child = Command::new("perf")
        .args(["record", "--quiet", "-e", "cpu-clock", "-c"])
        .arg(SAMPLE_PERIOD_NS.to_string())
        .arg("-p")
        .arg(pid.to_string())
        .arg("-o")
        .arg(data)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    // perf attaches to the process's threads after it starts: samples before that are lost.
    std::thread::sleep(Duration::from_millis(300));
    Some(Recording {
        child,
        data: data.to_path_buf(),
        pid,
    })
}

/// What one recording saw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct MachineCode {
    /// Samples in code wazero compiled.
    pub(crate) in_wasm: usize,
    /// All samples of the process.
    pub(crate) all: usize,
}

impl MachineCode {
    /// Microseconds per request in code wazero compiled.
    pub(crate) fn wasm_us_per_request(&self, requests: usize) -> f64 {
        self.in_wasm as f64 * SAMPLE_PERIOD_NS as f64 / 1000.0 / requests.max(1) as f64
    }
}

impl Recording {
    /// Stops the recording (SIGINT, on which perf writes its file and exits), then counts
    /// its samples against the process's anonymous executable mappings as they are now:
    /// wazero compiles a module once, when Traefik loads the middleware, and keeps it.
    fn finish(mut self) -> anyhow::Result<MachineCode> {
        let interrupted = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()?;
        anyhow::ensure!(interrupted.success(), "kill -INT perf: {interrupted}");
        let status = self.child.wait()?;
        // perf writes its file, then ends by the SIGINT (or exits with 0 or 130 for it).
        anyhow::ensure!(
            status.success() || status.code() == Some(130) || status.signal() == Some(2),
            "perf record: {status}"
        );
        let maps = std::fs::read_to_string(format!("/proc/{}/maps", self.pid))?;
        let script = Command::new("perf")
            .args(["script", "-F", "ip", "-i"])
            .arg(&self.data)
            .stderr(Stdio::null())
            .output()?;
        anyhow::ensure!(script.status.success(), "perf script: {}", script.status);
        Ok(count(&maps, &String::from_utf8_lossy(&script.stdout)))
    }
}

/// The address ranges of `/proc/<pid>/maps` lines that are executable and name no file.
fn anonymous_code(maps: &str) -> Vec<(u64, u64)> {
    maps.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // Five fields: address, perms, offset, device, inode; a sixth names the file or
            // `[vdso]`-like region.
            let [range, perms, _, _, _] = fields.as_slice() else {
                return None;
            };
            if !perms.contains('x') {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            Some((
                u64::from_str_radix(start, 16).ok()?,
                u64::from_str_radix(end, 16).ok()?,
            ))
        })
        .collect()
}

/// Counts `perf script -F ip` lines (one hex address each) in and out of anonymous code.
fn count(maps: &str, ips: &str) -> MachineCode {
    let ranges = anonymous_code(maps);
    let mut counted = MachineCode { in_wasm: 0, all: 0 };
    for ip in ips.split_whitespace() {
        let Ok(ip) = u64::from_str_radix(ip, 16) else {
            continue;
        };
        counted.all += 1;
        if ranges
            .iter()
            .any(|&(start, end)| (start..end).contains(&ip))
        {
            counted.in_wasm += 1;
        }
    }
    counted
}

/// Whether `perf` runs here.
pub(crate) fn available() -> bool {
    Command::new("perf")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// One case measured: per lane, one phase per round.
pub(crate) struct CaseCode {
    case: Case,
    lanes: Vec<Lane>,
    /// Per lane (in `lanes`' order), per round: µs per request in compiled code.
    phases: Vec<Vec<Phase>>,
    /// Per lane: samples in compiled code over every round.
    samples: Vec<usize>,
}

/// Measures the lanes of (b) and (c) in one fresh Traefik; `perf`'s files go to `dir`.
/// `None` when `perf` does not run here.
pub(crate) fn machine_code_costs(
    binary: &Path,
    plugin: &Path,
    dir: &Path,
) -> anyhow::Result<Option<Vec<CaseCode>>> {
    if !available() {
        eprintln!("bench: `perf` does not run here, so the guest's machine code is not counted (Debian: apt install linux-perf)");
        return Ok(None);
    }
    std::fs::create_dir_all(dir)?;
    let bench = Bench::start(binary, plugin, false)?;
    let pid = bench.traefik.pid();
    let mut out = Vec::new();
    for case in [Case::Token, Case::Handshake] {
        // The floor and gaqno-lb (and the baseline build): the empty guest's compiled code
        // is the trampolines alone, about 1 µs, which the floor has too.
        let lanes: Vec<Lane> = profiled_lanes(case)
            .into_iter()
            .filter(|lane| *lane != Lane::EmptyGuest)
            .collect();
        let path = case.path(&bench.cookie_value);
        for &lane in &lanes {
            load(bench.ports.of(lane), &path, 300)?;
        }
        let mut phases: Vec<Vec<Phase>> = lanes.iter().map(|_| Vec::new()).collect();
        let mut samples = vec![0; lanes.len()];
        eprintln!("bench: counting {case:?}'s machine code, {ROUNDS} rounds of {lanes:?}");
        for round in 0..ROUNDS {
            for turn in 0..lanes.len() {
                let at = (round + turn) % lanes.len();
                let lane = lanes[at];
                let data = dir.join(format!("{case:?}-{}.perf.data", lane.name()).to_lowercase());
                let recording = record(pid, &data).context("perf record would not start")?;
                let started = Instant::now();
                let requests = load(bench.ports.of(lane), &path, REQUESTS_PER_PHASE)?;
                let seconds = started.elapsed().as_secs_f64();
                let counted = recording.finish()?;
                phases[at].push(Phase {
                    cpu_us: counted.wasm_us_per_request(requests),
                    rps: requests as f64 / seconds,
                });
                samples[at] += counted.in_wasm;
            }
        }
        out.push(CaseCode {
            case,
            lanes,
            phases,
            samples,
        });
    }
    Ok(Some(out))
}

/// The `## The guest's machine code` section.
pub(crate) fn report(costs: Option<&[CaseCode]>) -> String {
    let mut out = String::from("\n## The guest's machine code\n\n");
    let Some(costs) = costs else {
        out.push_str("Not measured: `perf` does not run on this machine.\n");
        return out;
    };
    out.push_str(&format!(
        "Traefik's CPU inside the code wazero compiled (the guest's functions and the trampolines into and out of them), counted by `perf record` on Traefik (a sample every {} µs of its CPU) while one lane carries {REQUESTS_PER_PHASE} requests; {ROUNDS} rounds in one fresh Traefik, each round one lane further along (`tests/src/bin/bench/machine_code.rs`). Go's profile above sees this code as one frame and a few dozen samples; here each lane has thousands, so it is the figure to compare guest builds by. µs are medians over the rounds; a ratio is the median of per-round ratios, its interval 90 % of bootstrap resamples of the rounds.\n",
        SAMPLE_PERIOD_NS / 1000
    ));
    for code in costs {
        let column = |lane: Lane| code.lanes.iter().position(|l| *l == lane);
        out.push_str(&format!(
            "\n{}\n\n| lane | µs per request in compiled code | samples |\n|---|---|---|\n",
            code.case.label()
        ));
        for (at, lane) in code.lanes.iter().enumerate() {
            let median =
                median_of(code.phases[at].iter().map(|p| p.cpu_us).collect()).unwrap_or(0.0);
            out.push_str(&format!(
                "| {} | {median:.2} | {} |\n",
                lane.title(),
                code.samples[at]
            ));
        }
        let ratio = |a: Lane, b: Lane| {
            let (a, b) = (column(a)?, column(b)?);
            let ratio = Ratio::of(&[&code.phases[a]], &[&code.phases[b]])?;
            Some(format!(
                "{:+.1} % [{:+.1} … {:+.1}]",
                ratio.median, ratio.interval.0, ratio.interval.1
            ))
        };
        out.push('\n');
        if let Some(r) = ratio(Lane::Plugin, Lane::Floor(code.case)) {
            out.push_str(&format!("- gaqno-lb against the floor: {r}\n"));
        }
        if let Some(r) = ratio(Lane::Plugin, Lane::Baseline) {
            out.push_str(&format!("- gaqno-lb against the baseline build: {r}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as Linux writes them for Traefik: its binary, wazero's rwx code, heap, vdso.
    const MAPS: &str = "\
00400000-02a4b000 r-xp 00000000 fe:01 1234                               /work/.tools/traefik
c000000000-c004000000 rw-p 00000000 00:00 0 
7f8712c59000-7f8712c67000 rwxp 00000000 00:00 0 
7f8712d2f000-7f8712db8000 rwxp 00000000 00:00 0 
7fa406a01000-7fa406a03000 r-xp 00000000 00:00 0                          [vdso]
";

    #[test]
    fn counts_only_anonymous_executable_code() {
        let ips = "7f8712d78010\n  737c7b\nffffffff8224f5f9\n7f8712c59000\nc000001000\n7fa406a01100\n7f8712db8000\nnot-hex\n";
        assert_eq!(
            count(MAPS, ips),
            // In wazero's code: the first and fourth; the last is one past its end.
            MachineCode { in_wasm: 2, all: 7 }
        );
    }

    #[test]
    fn per_request_uses_the_sample_period() {
        let m = MachineCode {
            in_wasm: 1000,
            all: 40_000,
        };
        // 1,000 samples of 50 µs over 5,000 requests.
        assert_eq!(m.wasm_us_per_request(5_000), 10.0);
    }
}
