//! One function per subcommand, each returning the process exit code.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use shared::lint::{self, Diagnostic, LintOptions, Severity};
use shared::model::{Project, TraefikVersion};
use shared::traefik::DynamicConfig;

use crate::flags::{
    Command, ComposeFlags, Cookie, Export, Fix, Format, Import, LabelsFlags, Lint, Preset,
};

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Export(flags) => export(flags),
        Command::Lint(flags) => lint(flags),
        Command::Fix(flags) => fix(flags),
        Command::Import(flags) => import(flags),
        Command::Cookie(flags) => cookie(flags),
        Command::Labels(flags) => labels(flags),
        Command::Compose(flags) => compose(flags),
        Command::Serve(flags) => crate::serve::run(&flags.addr),
        Command::Check(flags) => crate::check::run(flags),
        Command::Rehearse(flags) => crate::rehearse::run(flags),
    }
}

fn export(flags: Export) -> anyhow::Result<ExitCode> {
    let project = match (&flags.project, flags.preset) {
        (Some(path), _) => read_project(path)?,
        (None, Some(Preset::Gaqno) | None) => Project::gaqno(),
    };
    write_out(flags.output.as_deref(), &shared::export::to_yaml(&project)?)?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn read_project(path: &Path) -> anyhow::Result<Project> {
    let text = read(path)?;
    shared::yaml::from_str::<Project>(&text)
        .with_context(|| format!("{} is not a gaqno-lb project file", path.display()))
}

/// Exit 0 with the labels on stdout (what changed and any finding on stderr); 1 when the
/// result still has a lint error; 2 when the labels or the project cannot be read.
fn labels(flags: LabelsFlags) -> anyhow::Result<ExitCode> {
    let project = match &flags.project {
        Some(path) => read_project(path)?,
        None => Project::gaqno(),
    };
    let service = project_service(&project, &flags.service)?;
    let (name, text) = read_input(&flags.file)?;
    let pasted = shared::labels::Labels::parse(&text).with_context(|| name.clone())?;
    let added = shared::labels::coolify::add_affinity(&pasted, &project.target, service)
        .with_context(|| name.clone())?;
    // A compose service gets only our lines: Coolify writes its own at every deploy.
    let out = if added.compose {
        &added.ours
    } else {
        &added.labels
    };
    write_out(flags.output.as_deref(), &out.text())?;
    for line in &added.removed {
        eprintln!("- {}", line.trim());
    }
    for line in &added.added {
        eprintln!("+ {}", line.trim());
    }
    if added.compose {
        eprintln!(
            "{} line(s) for the compose service, {} removed",
            added.added.len(),
            added.removed.len()
        );
    } else {
        eprintln!(
            "{} line(s) added, {} removed, every other line unchanged",
            added.added.len(),
            added.removed.len()
        );
    }
    eprintln!("{}", added.instructions());
    let read = added.labels.to_config().with_context(|| name.clone())?;
    let findings = lint::lint(
        &read.config,
        &LintOptions {
            traefik_version: project.target.traefik_version,
            source: lint::Source::DockerLabels,
        },
    );
    for d in &findings {
        match added.labels.line_of(&d.path) {
            Some(line) => eprintln!("line {line}: {d}"),
            None => eprintln!("{d}"),
        }
    }
    Ok(exit_for(&findings))
}

/// Reads `path`, or standard input for `-`; returns a name for messages and the text.
fn read_input(path: &Path) -> anyhow::Result<(String, String)> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("cannot read standard input")?;
        Ok(("standard input".to_owned(), text))
    } else {
        Ok((path.display().to_string(), read(path)?))
    }
}

/// The project's service `name`, or an error listing the ones it has.
pub(crate) fn project_service<'a>(
    project: &'a Project,
    name: &str,
) -> anyhow::Result<&'a shared::model::Service> {
    project
        .services
        .iter()
        .find(|s| s.name == name)
        .with_context(|| {
            let names: Vec<&str> = project.services.iter().map(|s| s.name.as_str()).collect();
            format!(
                "no service `{name}` in the project; it has: {}",
                names.join(", ")
            )
        })
}

/// Exit 0 with the compose file on stdout (what changed and any finding on stderr); 1 when
/// the result still has a lint error; 2 when the input cannot be read or used.
fn compose(flags: ComposeFlags) -> anyhow::Result<ExitCode> {
    let project = match &flags.project {
        Some(path) => read_project(path)?,
        None => Project::gaqno(),
    };
    let settings = project_service(
        &project,
        flags.project_service.as_deref().unwrap_or(&flags.service),
    )?;
    let (name, text) = read_input(&flags.file)?;
    let document: serde_json::Value =
        shared::yaml::from_str(&text).with_context(|| format!("{name} is not YAML"))?;
    let domain_port = shared::coolify::Domain::parse(&flags.domain).and_then(|d| d.port);
    let port = flags
        .port
        .or(domain_port)
        .or_else(|| shared::compose::raw::service_port(&document, &flags.service))
        .with_context(|| {
            format!(
                "{name}: service `{}` exposes no port; pass --port (the port it listens on)",
                flags.service
            )
        })?;
    let options = shared::compose::raw::RawOptions {
        service: flags.service.clone(),
        replicas: flags.replicas,
        domain: flags.domain.clone(),
        port,
        name_stem: flags.name_stem.clone(),
    };
    let raw = shared::compose::raw::raw_compose(&document, &options, &project.target, settings)
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    write_out(
        flags.output.as_deref(),
        &shared::yaml::to_string(&raw.document)?,
    )?;
    for change in &raw.changes {
        eprintln!("{change}");
    }
    eprintln!("{}", shared::compose::raw::INSTRUCTIONS);
    let findings = shared::compose::lint_compose(
        &raw.document,
        &LintOptions {
            traefik_version: project.target.traefik_version,
            source: lint::Source::DockerLabels,
        },
    );
    for finding in &findings {
        eprintln!("{finding}");
    }
    let errors = findings.iter().any(|f| f.severity == Severity::Error);
    Ok(if errors {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn lint(flags: Lint) -> anyhow::Result<ExitCode> {
    if flags.list_rules {
        let mut out = std::io::stdout().lock();
        for rule in lint::RULES {
            writeln!(out, "{:<36} {:<8} {}", rule.id, rule.severity, rule.summary)?;
        }
        for (id, severity, summary) in shared::compose::RULES {
            writeln!(out, "{id:<36} {severity:<8} {summary} (compose files)")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let options = lint_options(&flags.traefik)?;
    let mut all = Vec::new();
    for path in &flags.files {
        let file = path.display().to_string();
        match read_lintable(path)? {
            Lintable::Dynamic(config) => {
                all.extend(lint::lint(&config, &options).into_iter().map(|d| Found {
                    file: file.clone(),
                    line: None,
                    path: d.path.to_string(),
                    rule: d.rule,
                    severity: d.severity,
                    message: d.message,
                    fix: d.fix,
                }))
            }
            Lintable::Labels(labels) => {
                let read = labels.to_config().with_context(|| file.clone())?;
                let options = LintOptions {
                    source: lint::Source::DockerLabels,
                    ..options.clone()
                };
                all.extend(
                    lint::lint(&read.config, &options)
                        .into_iter()
                        .map(|d| Found {
                            file: file.clone(),
                            line: labels.line_of(&d.path),
                            path: d.path.to_string(),
                            rule: d.rule,
                            severity: d.severity,
                            message: d.message,
                            fix: d.fix,
                        }),
                )
            }
            Lintable::Compose(document) => all.extend(
                shared::compose::lint_compose(&document, &options)
                    .into_iter()
                    .map(|f| Found {
                        file: file.clone(),
                        line: None,
                        path: f.path,
                        rule: f.rule,
                        severity: f.severity,
                        message: f.message,
                        fix: f.fix,
                    }),
            ),
        }
    }
    let mut out = std::io::stdout().lock();
    match flags.format {
        Format::Human => {
            for f in &all {
                match f.line {
                    Some(line) => write!(out, "{}:{line}: ", f.file)?,
                    None => write!(out, "{}: ", f.file)?,
                }
                writeln!(out, "{}[{}] {}: {}", f.severity, f.rule, f.path, f.message)?;
                if let Some(fix) = &f.fix {
                    writeln!(out, "  fix: {fix}")?;
                }
            }
            let errors = all.iter().filter(|f| f.severity == Severity::Error).count();
            let warnings = all.len() - errors;
            writeln!(out, "{errors} error(s), {warnings} warning(s)")?;
        }
        Format::Json => {
            writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
        }
    }
    Ok(if all.iter().any(|f| f.severity == Severity::Error) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One finding of `lint`, whatever kind of file it came from.
#[derive(serde::Serialize)]
struct Found {
    rule: &'static str,
    severity: Severity,
    message: String,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
    file: String,
    /// The line, for a labels file.
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
}

/// What `lint` can read, told apart by content.
enum Lintable {
    /// Traefik dynamic configuration (the file provider); boxed, being much the largest.
    Dynamic(Box<DynamicConfig>),
    /// Docker labels, `key=value` per line.
    Labels(shared::labels::Labels),
    /// A Docker Compose file.
    Compose(serde_json::Value),
}

fn read_lintable(path: &Path) -> anyhow::Result<Lintable> {
    let text = read(path)?;
    let document = shared::yaml::from_str::<serde_json::Value>(&text);
    if let Ok(document) = &document {
        if shared::compose::is_compose(document) {
            return Ok(Lintable::Compose(document.clone()));
        }
    }
    // `key=value` lines read as one YAML string (or fail to parse): labels, if any is Traefik's.
    if !matches!(&document, Ok(serde_json::Value::Object(_))) {
        if let Ok(labels) = shared::labels::Labels::parse(&text) {
            if labels
                .labels()
                .any(|l| l.key.to_ascii_lowercase().starts_with("traefik."))
            {
                return Ok(Lintable::Labels(labels));
            }
        }
    }
    Ok(Lintable::Dynamic(Box::new(read_config(path)?)))
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
    for fixed in &imported.fixed {
        eprintln!("fixed first (what the file meant): {fixed}");
    }
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
    Ok(LintOptions {
        traefik_version,
        ..LintOptions::default()
    })
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
