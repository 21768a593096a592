//! `## The guest's machine code`: CPU per request inside the code wazero compiled, counted
//! by `perf`, lane against lane in one Traefik.
//!
//! Go's profile samples every 10 ms and sees wazero's compiled code only as one anonymous
//! frame, so gaqno-lb's own work rests on a few dozen of its samples. `perf record` on
//! Traefik's pid samples every 250 µs of its CPU, 40 times as often; a sample whose
//! instruction pointer lies in
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

/// CPU time between samples: `perf record -e cpu-clock -c` counts nanoseconds. Sampling
/// costs the process it samples: every 50 µs made Traefik's CPU per request 3 times what
/// it is unsampled, and its compiled code's twice (so shares came out skewed); every
/// 250 µs, about a quarter more than the same day's unsampled request table.
const SAMPLE_PERIOD_NS: u64 = 250_000;
/// Requests per phase: at 3 to 15 µs of compiled code each, 50 to 250 samples. Short
/// phases keep a round's lanes close in time, so what the machine does meanwhile (other
/// guests on the host) hits them alike.
const REQUESTS_PER_PHASE: usize = 4000;
/// Rounds: every lane once per round.
const ROUNDS: usize = 16;

/// `perf record` running on one process until [`Recording::finish`] (or, if a phase
/// fails first, until it is dropped).
struct Recording {
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
struct MachineCode {
    /// Samples in code wazero compiled.
    in_wasm: usize,
    /// Every sample of the process: all of Traefik's CPU, in Go, wasm or the kernel.
    all: usize,
}

/// Microseconds per request that `samples` stand for.
fn us_per_request(samples: usize, requests: usize) -> f64 {
    samples as f64 * SAMPLE_PERIOD_NS as f64 / 1000.0 / requests.max(1) as f64
}

impl Recording {
    /// Stops the recording (SIGINT, on which perf writes its file and exits), then counts
    /// its samples against the process's anonymous executable mappings as they are now:
    /// wazero compiles a module once, when Traefik loads the middleware, and keeps it.
    fn finish(mut self) -> anyhow::Result<MachineCode> {
        self.stop()?;
        let maps = std::fs::read_to_string(format!("/proc/{}/maps", self.pid))?;
        let script = Command::new("perf")
            .args(["script", "-F", "ip", "-i"])
            .arg(&self.data)
            .stderr(Stdio::null())
            .output()?;
        anyhow::ensure!(script.status.success(), "perf script: {}", script.status);
        Ok(count(&maps, &String::from_utf8_lossy(&script.stdout)))
    }

    /// SIGINT, on which perf writes its file and ends.
    fn stop(&mut self) -> anyhow::Result<()> {
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
        Ok(())
    }
}

impl Drop for Recording {
    /// A phase that failed leaves no perf behind (after `finish` this only finds it waited
    /// for, and does nothing).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

/// One lane's phase: µs per request.
struct PhaseCode {
    /// In code wazero compiled.
    wasm_us: f64,
    /// In all of Traefik.
    all_us: f64,
}

/// One case measured: per lane, one phase per round.
pub(crate) struct CaseCode {
    case: Case,
    lanes: Vec<Lane>,
    /// Per lane (in `lanes`' order), per round.
    phases: Vec<Vec<PhaseCode>>,
    /// Per lane: samples in compiled code over every round.
    samples: Vec<usize>,
}

/// gaqno-lb's own work as a share of a request, from one round: the floor makes the same
/// host calls with the same values, so what gaqno-lb costs beyond it is its compiled code
/// beyond the floor's. As a pair for [`Ratio::of`]: the floor's whole CPU plus that extra,
/// against the floor's whole CPU. The rest of Traefik's CPU, which swings from phase to
/// phase with the machine, stays out of the numerator.
fn own_share_pair(ours: &PhaseCode, floor: &PhaseCode) -> (Phase, Phase) {
    let with_ours = Phase {
        cpu_us: floor.all_us + ours.wasm_us - floor.wasm_us,
        rps: 0.0,
    };
    let floor = Phase {
        cpu_us: floor.all_us,
        rps: 0.0,
    };
    (with_ours, floor)
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
        let mut phases: Vec<Vec<PhaseCode>> = lanes.iter().map(|_| Vec::new()).collect();
        let mut samples = vec![0; lanes.len()];
        eprintln!("bench: counting {case:?}'s machine code, {ROUNDS} rounds of {lanes:?}");
        for round in 0..ROUNDS {
            for turn in 0..lanes.len() {
                let at = (round + turn) % lanes.len();
                let lane = lanes[at];
                let data = dir.join(format!("{case:?}-{}.perf.data", lane.name()).to_lowercase());
                let recording = record(pid, &data).context("perf record would not start")?;
                let requests = load(bench.ports.of(lane), &path, REQUESTS_PER_PHASE)?;
                let counted = recording.finish()?;
                phases[at].push(PhaseCode {
                    wasm_us: us_per_request(counted.in_wasm, requests),
                    all_us: us_per_request(counted.all, requests),
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

/// gaqno-lb's target over the floor, in percent of a request (issue 21).
const OWN_WORK_TARGET: f64 = 3.0;

/// The `## The guest's machine code` section.
pub(crate) fn report(costs: Option<&[CaseCode]>) -> String {
    let mut out = String::from("\n## The guest's machine code\n\n");
    let Some(costs) = costs else {
        out.push_str("Not measured: `perf` does not run on this machine.\n");
        return out;
    };
    out.push_str(&format!(
        "Traefik's CPU inside the code wazero compiled (the guest's functions and the trampolines into and out of them), counted by `perf record` on Traefik (a sample every {} µs of its CPU) while one lane carries {REQUESTS_PER_PHASE} requests; {ROUNDS} rounds in one fresh Traefik, each round one lane further along (`tests/src/bin/bench/machine_code.rs`). Go's profile above sees this code as one frame and a few dozen samples; here each lane has a thousand or more, so it is the figure to compare guest builds by. µs are medians over the rounds; a ratio is the median of per-round ratios, its interval 90 % of bootstrap resamples of the rounds.\n\nThe floor makes gaqno-lb's host calls with gaqno-lb's values, so gaqno-lb's own work is its compiled code beyond the floor's. Its last line puts that against the floor's whole Traefik CPU in the same round: the target of `## Traefik CPU per request` (≤ +{OWN_WORK_TARGET} % over the floor), without the rest of Traefik's swings in the numerator.\n",
        SAMPLE_PERIOD_NS / 1000
    ));
    for code in costs {
        let column = |lane: Lane| code.lanes.iter().position(|l| *l == lane);
        out.push_str(&format!(
            "\n{}\n\n| lane | µs per request in compiled code | in all of Traefik | samples in compiled code |\n|---|---|---|---|\n",
            code.case.label()
        ));
        for (at, lane) in code.lanes.iter().enumerate() {
            let median = |of: fn(&PhaseCode) -> f64| {
                median_of(code.phases[at].iter().map(of).collect()).unwrap_or(0.0)
            };
            out.push_str(&format!(
                "| {} | {:.2} | {:.1} | {} |\n",
                lane.title(),
                median(|p| p.wasm_us),
                median(|p| p.all_us),
                code.samples[at]
            ));
        }
        let shown = |ratio: Ratio| {
            format!(
                "{:+.1} % [{:+.1} … {:+.1}]",
                ratio.median, ratio.interval.0, ratio.interval.1
            )
        };
        let compiled = |lane: Lane| -> Vec<Phase> {
            column(lane).map_or_else(Vec::new, |at| {
                code.phases[at]
                    .iter()
                    .map(|p| Phase {
                        cpu_us: p.wasm_us,
                        rps: 0.0,
                    })
                    .collect()
            })
        };
        out.push('\n');
        let ours = compiled(Lane::Plugin);
        for (lane, name) in [
            (Lane::Floor(code.case), "the floor's"),
            (Lane::Baseline, "the baseline build's"),
        ] {
            if let Some(ratio) = Ratio::of(&[&ours], &[&compiled(lane)]) {
                out.push_str(&format!(
                    "- gaqno-lb's compiled code against {name}: {}\n",
                    shown(ratio)
                ));
            }
        }
        if let (Some(ours), Some(floor)) = (column(Lane::Plugin), column(Lane::Floor(code.case))) {
            let (with_ours, floor): (Vec<Phase>, Vec<Phase>) = code.phases[ours]
                .iter()
                .zip(&code.phases[floor])
                .map(|(ours, floor)| own_share_pair(ours, floor))
                .unzip();
            if let Some(ratio) = Ratio::of(&[&with_ours], &[&floor]) {
                let verdict = if ratio.interval.1 <= OWN_WORK_TARGET {
                    "met"
                } else if ratio.interval.0 > OWN_WORK_TARGET {
                    "not met"
                } else {
                    "cannot tell: the interval spans the target"
                };
                out.push_str(&format!(
                    "- gaqno-lb's own work, in % of a request through the floor: {} (≤ +{OWN_WORK_TARGET} %: {verdict})\n",
                    shown(ratio)
                ));
            }
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
        // 1,000 samples of 250 µs over 25,000 requests.
        assert_eq!(us_per_request(1000, 25_000), 10.0);
    }

    #[test]
    fn own_share_is_the_extra_compiled_code_over_the_floors_whole_cpu() {
        let floor = PhaseCode {
            wasm_us: 5.0,
            all_us: 200.0,
        };
        let ours = PhaseCode {
            wasm_us: 9.0,
            all_us: 230.0,
        };
        let (a, b) = own_share_pair(&ours, &floor);
        // 4 µs of gaqno-lb's own code on a 200 µs request: +2 %, whatever else moved.
        assert!(((a.cpu_us / b.cpu_us - 1.0) * 100.0 - 2.0).abs() < 1e-9);
    }
}
