//! One function per subcommand, each returning the process exit code.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use shared::lint::{self, Diagnostic, LintOptions, Severity};
use shared::model::{Project, TraefikVersion};
use shared::traefik::DynamicConfig;

use crate::flags::{Command, Cookie, Export, Fix, Format, Import, Lint, Preset};

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Export(flags) => export(flags),
        Command::Lint(flags) => lint(flags),
        Command::Fix(flags) => fix(flags),
        Command::Import(flags) => import(flags),
        Command::Cookie(flags) => cookie(flags),
        Command::Serve(flags) => crate::serve::run(&flags.addr),
        Command::Check(flags) => crate::check::run(flags),
    }
}

fn export(flags: Export) -> anyhow::Result<ExitCode> {
    let project = match (&flags.project, flags.preset) {
        (Some(path), _) => {
            let text = read(path)?;
            shared::yaml::from_str::<Project>(&text)
                .with_context(|| format!("{} is not a gaqno-lb project file", path.display()))?
        }
        (None, Some(Preset::Gaqno) | None) => Project::gaqno(),
    };
    write_out(flags.output.as_deref(), &shared::export::to_yaml(&project)?)?;
    Ok(ExitCode::SUCCESS)
}

fn lint(flags: Lint) -> anyhow::Result<ExitCode> {
    if flags.list_rules {
        let mut out = std::io::stdout().lock();
        for rule in lint::RULES {
            writeln!(out, "{:<26} {:<8} {}", rule.id, rule.severity, rule.summary)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let options = lint_options(&flags.traefik)?;
    let mut all = Vec::new();
    for path in &flags.files {
        let config = read_config(path)?;
        all.extend(
            lint::lint(&config, &options)
                .into_iter()
                .map(|d| (path.display().to_string(), d)),
        );
    }
    let mut out = std::io::stdout().lock();
    match flags.format {
        Format::Human => {
            for (file, d) in &all {
                writeln!(out, "{file}: {d}")?;
                if let Some(fix) = &d.fix {
                    writeln!(out, "  fix: {fix}")?;
                }
            }
            let errors = all
                .iter()
                .filter(|(_, d)| d.severity == Severity::Error)
                .count();
            let warnings = all.len() - errors;
            writeln!(out, "{errors} error(s), {warnings} warning(s)")?;
        }
        Format::Json => {
            let findings: Vec<serde_json::Value> = all
                .iter()
                .map(|(file, d)| {
                    let mut value = serde_json::to_value(d).unwrap_or_default();
                    if let Some(map) = value.as_object_mut() {
                        map.insert("file".into(), file.clone().into());
                    }
                    value
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&findings)?)?;
        }
    }
    Ok(exit_for(all.iter().map(|(_, d)| d)))
}

fn exit_for<'a>(diagnostics: impl IntoIterator<Item = &'a Diagnostic>) -> ExitCode {
    if diagnostics
        .into_iter()
        .any(|d| d.severity == Severity::Error)
    {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn fix(flags: Fix) -> anyhow::Result<ExitCode> {
    let options = lint_options(&flags.traefik)?;
    let mut config = read_config(&flags.file)?;
    let applied = lint::fix_all(&mut config, &options);
    let remaining = lint::lint(&config, &options);
    write_out(flags.output.as_deref(), &shared::yaml::to_string(&config)?)?;
    eprintln!(
        "{applied} fix(es) applied, {} finding(s) left",
        remaining.len()
    );
    for d in &remaining {
        eprintln!("{}: {d}", flags.file.display());
    }
    Ok(exit_for(&remaining))
}

fn import(flags: Import) -> anyhow::Result<ExitCode> {
    let text = read(&flags.file)?;
    let imported = shared::import::import_yaml(&text)
        .with_context(|| format!("cannot import {}", flags.file.display()))?;
    write_out(
        flags.output.as_deref(),
        &shared::yaml::to_string(&imported.project)?,
    )?;
    for unmapped in &imported.unmapped {
        eprintln!("not mapped: {unmapped}");
    }
    eprintln!(
        "{} service(s) imported, {} part(s) not mapped",
        imported.project.services.len(),
        imported.unmapped.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn cookie(flags: Cookie) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    for url in &flags.urls {
        writeln!(out, "{}  {url}", shared::traefik::sticky_cookie_value(url))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn lint_options(version: &str) -> anyhow::Result<LintOptions> {
    let traefik_version: TraefikVersion = version.parse().map_err(anyhow::Error::msg)?;
    Ok(LintOptions { traefik_version })
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn read_config(path: &Path) -> anyhow::Result<DynamicConfig> {
    let text = read(path)?;
    shared::yaml::from_str(&text)
        .with_context(|| format!("{} is not Traefik dynamic configuration", path.display()))
}

fn write_out(path: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match path {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            Ok(out.flush()?)
        }
    }
}
