//! The linter agrees with Traefik: every file in `tests/corpus/` is broken in a way real
//! Traefik shows (the whole file provider fails, or an object is disabled) or accepts but
//! mis-serves (`accepted`), and `shared::lint` reports the rule the file names.
//!
//! Each corpus file says what to expect in its header comments:
//! - `# traefik: provider-fails | accepted | disabled <kind>/<name> ...` (`# traefik 3.6:` for one version)
//! - `# lint: <rule-id> ...` (`# lint 3.6:` for one version): rules that must report (`none`: no error at all)
//! - `# coolify-resave: true`: load the file as Coolify's Dynamic Configurations screen saves it
//! - `# with-coolify: true`: load Coolify's own files beside it
//! - `# one-router-answers: <path> <router>…`: requests for `<path>` on the `http` entry point
//!   reach one of those routers at a time (each answers with a redirect to
//!   `http://router-<name>.test/`): ten in a row reach the same one

use std::path::PathBuf;

use shared::lint::{lint, LintOptions};
use shared::model::TraefikVersion;
use shared::traefik::{DynamicConfig, Value};
use tests::{file_objects, Loaded, Traefik, TraefikSetup, TRAEFIK_VERSIONS};

use crate::support::coolify_files;

struct Case {
    file: PathBuf,
    text: String,
}

impl Case {
    /// The value of header `key`, preferring `key <minor version>` (e.g. `traefik 3.6`).
    fn header(&self, key: &str, version: &str) -> Option<String> {
        let minor = version.rsplit_once('.').map_or(version, |(v, _)| v);
        let headers: Vec<(&str, &str)> = self
            .text
            .lines()
            .filter_map(|l| l.strip_prefix("# ")?.split_once(": "))
            .collect();
        let specific = format!("{key} {minor}");
        headers
            .iter()
            .find(|(k, _)| *k == specific)
            .or_else(|| headers.iter().find(|(k, _)| *k == key))
            .map(|(_, v)| v.trim().to_owned())
    }

    fn flag(&self, key: &str) -> bool {
        self.header(key, "").as_deref() == Some("true")
    }
}

fn corpus() -> Vec<Case> {
    let dir = tests::project_root().join("tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/corpus")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.is_file()) // `labels/`: Docker labels, read by `docker_labels`
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|file| Case {
            text: std::fs::read_to_string(&file).expect("corpus file"),
            file,
        })
        .collect()
}

/// What Coolify's Dynamic Configurations screen stores: the YAML parsed and dumped again,
/// an empty list coming back as an empty map (`{  }`).
fn coolify_resave(text: &str) -> String {
    fn lists_to_maps(value: &mut Value) {
        match value {
            Value::Array(list) if list.is_empty() => *value = Value::Object(Default::default()),
            Value::Array(list) => list.iter_mut().for_each(lists_to_maps),
            Value::Object(map) => map.values_mut().for_each(lists_to_maps),
            _ => {}
        }
    }
    let mut value: Value = shared::yaml::from_str::<Option<Value>>(text)
        .expect("corpus YAML")
        .unwrap_or_default();
    lists_to_maps(&mut value);
    shared::yaml::to_string(&value).expect("YAML")
}

#[test]
fn linter_flags_every_file_traefik_rejects() {
    let corpus = corpus();
    assert!(corpus.len() >= 15, "the corpus shrank to {}", corpus.len());
    let mut runs = Vec::new();
    for version in TRAEFIK_VERSIONS {
        let Some(binary) = tests::traefik_binary(version) else {
            return;
        };
        for case in &corpus {
            runs.push((binary.clone(), version, case));
        }
    }
    let failures: Vec<String> = tests::run_parallel(&runs, 4, |(binary, version, case)| {
        check(binary, version, case)
    })
    .into_iter()
    .flatten()
    .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn check(binary: &std::path::Path, version: &str, case: &Case) -> Option<String> {
    let name = case.file.file_name()?.to_string_lossy().into_owned();
    let expected_traefik = case
        .header("traefik", version)
        .unwrap_or_else(|| panic!("{name}: no `# traefik:` header"));
    let expected_rules = case
        .header("lint", version)
        .unwrap_or_else(|| panic!("{name}: no `# lint:` header"));

    // The linter, on the file as the operator wrote it.
    let config: DynamicConfig =
        shared::yaml::from_str(&case.text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let traefik_version: TraefikVersion = version.parse().expect("version");
    let findings = lint(
        &config,
        &LintOptions {
            traefik_version,
            ..LintOptions::default()
        },
    );
    let mut problems = Vec::new();
    if expected_rules == "none" {
        let errors: Vec<_> = findings
            .iter()
            .filter(|d| d.severity == shared::lint::Severity::Error)
            .collect();
        if !errors.is_empty() {
            problems.push(format!(
                "lint should find no error here, it found: {errors:#?}"
            ));
        }
    }
    for rule in expected_rules.split_whitespace().filter(|r| *r != "none") {
        if !findings.iter().any(|d| d.rule == rule) {
            problems.push(format!(
                "lint did not report `{rule}`; it found: {findings:#?}"
            ));
        }
    }

    // Traefik, on the file as it lands in Coolify's folder.
    let text = if case.flag("coolify-resave") {
        coolify_resave(&case.text)
    } else {
        case.text.clone()
    };
    let mut files = if case.flag("with-coolify") {
        coolify_files()
    } else {
        Vec::new()
    };
    files.push((name.clone(), text));
    let setup = TraefikSetup {
        entry_points: vec!["http".into(), "https".into()],
        cert_resolvers: vec!["letsencrypt".into()],
        files,
        ..TraefikSetup::default()
    };
    let mut traefik = Traefik::start(binary, version, &setup)
        .unwrap_or_else(|e| panic!("Traefik {version}: {e:#}"));
    let loaded = traefik.loaded().unwrap_or_else(|e| panic!("{e:#}"));
    if let Some(claim) = case.header("one-router-answers", version) {
        let port = traefik.port("http").expect("the http entry point");
        if let Err(why) = one_router_answers(port, &claim) {
            problems.push(why);
        }
    }
    let log = traefik.log();
    drop(traefik);
    let actual = match &loaded {
        Loaded::ProviderFailed(_) => "provider-fails".to_owned(),
        Loaded::Config(raw) => {
            let disabled: Vec<String> = file_objects(raw)
                .into_iter()
                .filter(|(_, _, status, _)| status != "enabled")
                .map(|(kind, name, _, _)| format!("{kind}/{name}"))
                .collect();
            if disabled.is_empty() {
                "accepted".to_owned()
            } else {
                format!("disabled {}", disabled.join(" "))
            }
        }
    };
    let matches = if let Some(objects) = expected_traefik.strip_prefix("disabled ") {
        objects
            .split_whitespace()
            .all(|o| actual.split_whitespace().any(|a| a == o))
    } else {
        actual == expected_traefik
    };
    if !matches {
        problems.push(format!(
            "Traefik: expected `{expected_traefik}`, got `{actual}` ({loaded:?})\n{log}"
        ));
    }
    (!problems.is_empty()).then(|| format!("{name} on Traefik {version}:\n{}", problems.join("\n")))
}

/// `claim` is `<path> <router>…`: requests for the path, and which router answered each
/// (its redirect's `Location`): every answer is one of those routers, and ten in a row
/// come from the same one. Traefik picks one when it builds its routes, and may pick the
/// other when it builds them again (measured: `b` three times, then `a`, within one
/// second, as the file provider's second load landed), so the run waits for ten alike,
/// 15 s at most.
fn one_router_answers(port: u16, claim: &str) -> Result<(), String> {
    let mut words = claim.split_whitespace();
    let path = words.next().ok_or("no path in one-router-answers")?;
    let routers: Vec<&str> = words.collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut answered: Vec<String> = Vec::new();
    let mut alike = 0;
    loop {
        let response = tests::http_request(port, "GET", path, &[]).map_err(|e| e.to_string())?;
        let location = response.header("location").unwrap_or("(none)").to_owned();
        if !routers
            .iter()
            .any(|r| location == format!("http://router-{r}.test/"))
        {
            return Err(format!(
                "{path} was answered by {location}, none of {routers:?}"
            ));
        }
        alike = if answered.last() == Some(&location) {
            alike + 1
        } else {
            1
        };
        answered.push(location);
        if alike == 10 {
            eprintln!(
                "one-router-answers: ten requests in a row for {path} went to {}; all of them: {answered:?}",
                answered[answered.len() - 1]
            );
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "{path} never reached one router ten times in a row: {answered:?}"
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
