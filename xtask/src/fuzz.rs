//! `cargo xtask fuzz`: every plugin fuzz target (cargo-fuzz, nightly), from its committed seeds
//! (`plugin/fuzz/seeds/`) and the corpus so far (`plugin/fuzz/corpus/`, git-ignored).
//!
//! - `fuzz [seconds]` — each target for that long (`cargo xtask test` runs 10 s each);
//! - `fuzz --long` — each target to [`LONG_RUNS`] executions (at most [`LONG_CAP_SECONDS`]),
//!   then its executions, time, corpus size and crashes written into BENCHMARKS.md's
//!   `## Fuzzing` section (`cargo xtask bench` keeps that section when it rewrites the file).
//!
//! A crash stops nothing: every target runs, the figures are written, and the task fails at
//! the end naming the crashing inputs (in `plugin/fuzz/artifacts/<target>/`), each to become
//! a regression test.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::{project_root, tools};

/// Fuzz targets in `plugin/fuzz/fuzz_targets/`: every parser of the plugin.
pub const TARGETS: [&str; 6] = ["codec", "query", "cookie", "handshake", "config", "decide"];

/// Executions per target in a `--long` run.
pub const LONG_RUNS: u64 = 10_000_000;
/// A `--long` run of one target stops here even short of [`LONG_RUNS`].
pub const LONG_CAP_SECONDS: u32 = 1200;

/// How one target's run went, from libFuzzer's final stats.
#[derive(Debug, Default)]
pub struct TargetRun {
    pub target: &'static str,
    pub executions: u64,
    pub seconds: u64,
    pub corpus_files: usize,
    /// Crashing inputs written by this run.
    pub crashes: Vec<String>,
}

/// How long each target runs.
#[derive(Clone, Copy)]
pub enum Length {
    Seconds(u32),
    Long,
}

/// Runs every target; with [`Length::Long`], writes the figures into BENCHMARKS.md.
pub fn fuzz(length: Length) -> Result<(), String> {
    let tools = tools::install_all()?;
    let cargo_fuzz = tools::cargo_fuzz(&tools)?;
    let plugin = project_root().join("plugin");
    crate::run(
        Command::new(&cargo_fuzz)
            .args(["fuzz", "build"])
            .current_dir(&plugin)
            .env("RUSTUP_TOOLCHAIN", "nightly"),
    )?;
    let mut runs = Vec::new();
    for target in TARGETS {
        runs.push(run_target(&cargo_fuzz, &plugin, target, length)?);
    }
    if let Length::Long = length {
        write_report(&runs)?;
    }
    let crashes: Vec<&String> = runs.iter().flat_map(|r| &r.crashes).collect();
    if crashes.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzzing found crashing inputs (make each a regression test): {crashes:?}"
        ))
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path().display().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn run_target(
    cargo_fuzz: &Path,
    plugin: &Path,
    target: &'static str,
    length: Length,
) -> Result<TargetRun, String> {
    let corpus = plugin.join("fuzz/corpus").join(target);
    let artifacts = plugin.join("fuzz/artifacts").join(target);
    for dir in [&corpus, &artifacts] {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let before = files_in(&artifacts);
    let limits = match length {
        Length::Seconds(seconds) => vec![format!("-max_total_time={seconds}")],
        Length::Long => vec![
            format!("-runs={LONG_RUNS}"),
            format!("-max_total_time={LONG_CAP_SECONDS}"),
        ],
    };
    let mut command = Command::new(cargo_fuzz);
    command
        .args(["fuzz", "run", target])
        .arg(&corpus)
        .arg(plugin.join("fuzz/seeds").join(target))
        .arg("--")
        .args(&limits)
        .args(["-rss_limit_mb=2048", "-print_final_stats=1"])
        .current_dir(plugin)
        .env("RUSTUP_TOOLCHAIN", "nightly")
        .stderr(Stdio::piped());
    eprintln!("xtask: running {command:?}");
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    let mut run = TargetRun {
        target,
        ..TargetRun::default()
    };
    // libFuzzer reports on stderr: passed through, its final stats kept.
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            let stat = |name: &str| {
                line.strip_prefix(name)
                    .and_then(|v| v.trim().parse::<u64>().ok())
            };
            if let Some(n) = stat("stat::number_of_executed_units:") {
                run.executions = n;
            }
            // "Done 10000000 runs in 57 second(s)"
            if let Some(rest) = line.strip_prefix("Done ") {
                if let Some(s) = rest
                    .split(" in ")
                    .nth(1)
                    .and_then(|s| s.split_whitespace().next())
                    .and_then(|s| s.parse().ok())
                {
                    run.seconds = s;
                }
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo fuzz: {e}"))?;
    run.corpus_files = files_in(&corpus).len();
    run.crashes = files_in(&artifacts)
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    if !status.success() && run.crashes.is_empty() {
        return Err(format!("cargo fuzz run {target} failed: {status}"));
    }
    Ok(run)
}

/// Replaces BENCHMARKS.md's `## Fuzzing` section (or adds it at the end).
fn write_report(runs: &[TargetRun]) -> Result<(), String> {
    let mut section = format!(
        "## Fuzzing\n\nWritten by `cargo xtask fuzz --long`: every plugin fuzz target (`plugin/fuzz/fuzz_targets/`, cargo-fuzz's default build: optimised, debug assertions on) to {LONG_RUNS} executions or {LONG_CAP_SECONDS} s, from the committed seeds and the corpus of earlier runs, on this machine (one core each).\n\n| target | executions | seconds | corpus files after | crashes |\n|---|---|---|---|---|\n"
    );
    for run in runs {
        section.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            run.target,
            run.executions,
            run.seconds,
            run.corpus_files,
            if run.crashes.is_empty() {
                "none".to_owned()
            } else {
                run.crashes.join(", ")
            }
        ));
    }
    let path = project_root().join("BENCHMARKS.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let updated = replace_section(&text, "## Fuzzing", &section);
    std::fs::write(&path, updated).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    print!("{section}");
    eprintln!("xtask: written to {}", path.display());
    Ok(())
}

/// `text` with the section starting at the line `heading` (up to the next `## ` heading)
/// replaced by `section`; appended when there is none.
pub fn replace_section(text: &str, heading: &str, section: &str) -> String {
    let start = text
        .match_indices(heading)
        .map(|(at, _)| at)
        .find(|at| *at == 0 || text[..*at].ends_with('\n'));
    match start {
        Some(start) => {
            let body = start + heading.len();
            let end = text[body..]
                .find("\n## ")
                .map_or(text.len(), |at| body + at + 1);
            format!("{}{section}{}", &text[..start], &text[end..])
        }
        None if text.is_empty() => section.to_owned(),
        None => format!(
            "{}\n{section}",
            text.trim_end_matches('\n').to_owned() + "\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::replace_section;

    #[test]
    fn a_section_is_replaced_or_added() {
        let text = "# B\n\n## A\n\none\n\n## Fuzzing\n\nold\n\n## C\n\nthree\n";
        assert_eq!(
            replace_section(text, "## Fuzzing", "## Fuzzing\n\nnew\n"),
            "# B\n\n## A\n\none\n\n## Fuzzing\n\nnew\n## C\n\nthree\n"
        );
        assert_eq!(
            replace_section("# B\n\n## A\n", "## Fuzzing", "## Fuzzing\n\nnew\n"),
            "# B\n\n## A\n\n## Fuzzing\n\nnew\n"
        );
        let last = "# B\n\n## Fuzzing\n\nold\n";
        assert_eq!(
            replace_section(last, "## Fuzzing", "## Fuzzing\n\nnew\n"),
            "# B\n\n## Fuzzing\n\nnew\n"
        );
    }
}
