//! What gaqno-lb exports loads into real Traefik, with the affinity plugin (`dist/plugin`)
//! loaded as the Coolify instructions say, with every router, service and middleware
//! enabled, beside Coolify's own files, and lints without errors.

use shared::lint::{lint, LintOptions, Severity};
use shared::model::{Project, SameSite, Strategy, TraefikVersion};
use shared::traefik::GoDuration;
use tests::{file_objects, Loaded, TRAEFIK_VERSIONS};

use crate::support::{coolify_files, load, setup_for};

/// The preset, and variations that exercise every export path.
fn projects() -> Vec<(&'static str, Project)> {
    let preset = Project::gaqno();
    let mut dokploy = preset.clone();
    dokploy.target.http_entry_point = "web".into();
    dokploy.target.https_entry_point = "websecure".into();
    dokploy.target.cert_resolver = None;

    let mut tuned = preset.clone();
    for (i, service) in tuned.services.iter_mut().enumerate() {
        service.strategy = Some(Strategy::ALL[i % Strategy::ALL.len()]);
        service.priority = Some(100 + i as i64);
        service.sticky.enabled = true;
        service.sticky.same_site = Some([SameSite::None, SameSite::Lax, SameSite::Strict][i % 3]);
        service.sticky.max_age = Some(3600);
        service
            .hosts
            .push(format!("alt-{}.gaqno.com.br", service.name));
        service.path_prefix = (i % 2 == 0).then(|| "/v1".to_owned());
        service.add_replica();
        if let Some(hc) = service.health_check.as_mut() {
            hc.interval = Some(GoDuration::new("1m30s"));
            hc.timeout = None;
        }
    }
    tuned.target.traefik_version = TraefikVersion::V3_7;

    let mut https_only = preset.clone();
    https_only.target.redirect_http = false;
    https_only.services.truncate(2);
    https_only.services[1].health_check = None;
    https_only.services[1].socket_io.enabled = true;
    https_only.services[1].socket_io.path = "/ws/".into();
    https_only.services[1].sticky.enabled = true;

    vec![
        ("preset", preset),
        ("dokploy", dokploy),
        ("tuned", tuned),
        ("https-only", https_only),
    ]
}

#[test]
fn exported_projects_load_with_every_object_enabled() {
    let Some(plugin) = tests::plugin_dir() else {
        return;
    };
    let mut cases = Vec::new();
    for version in TRAEFIK_VERSIONS {
        let Some(binary) = tests::traefik_binary(version) else {
            return;
        };
        for (label, project) in projects() {
            cases.push((binary.clone(), version, label, project));
        }
    }
    let failures: Vec<String> = tests::run_parallel(&cases, 4, |(binary, version, label, project)| {
        let errors: Vec<_> = lint(&shared::export::export(project), &LintOptions { traefik_version: project.target.traefik_version, ..LintOptions::default() })
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{label}: the export lints with errors: {errors:#?}");
        let yaml = shared::export::to_yaml(project).expect("export");
        let mut files = coolify_files();
        files.push((shared::export::COOLIFY_FILE_NAME.to_owned(), yaml.clone()));
        let (loaded, log) = load(binary, version, &setup_for(project, files, &plugin));
        let Loaded::Config(raw) = loaded else { return vec![format!("{label} on {version}: provider failed: {loaded:?}")] };
        let objects = file_objects(&raw);
        let ours = objects.iter().filter(|(_, name, _, _)| name.starts_with("gaqno-")).count();
        let mut problems = Vec::new();
        if ours < project.services.len() * 2 {
            problems.push(format!("{label} on {version}: only {ours} gaqno objects loaded:\n{yaml}"));
        }
        let affinity = objects.iter().filter(|(kind, name, _, _)| kind == "middlewares" && name.ends_with("-affinity")).count();
        let expected_affinity = project.services.iter().filter(|s| s.socket_io.enabled).count();
        if affinity != expected_affinity {
            problems.push(format!("{label} on {version}: {affinity} affinity middlewares loaded, {expected_affinity} expected"));
        }
        for (kind, name, status, errors) in objects {
            if status != "enabled" || !errors.is_empty() {
                problems.push(format!("{label} on {version}: {kind} {name} is {status}: {errors:?}"));
            }
        }
        if !problems.is_empty() {
            problems.push(format!("log:\n{log}"));
        }
        problems
    })
    .into_iter()
    .flatten()
    .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
