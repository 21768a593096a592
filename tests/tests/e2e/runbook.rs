//! The GAQNO runbook's own examples, end to end: imported and linted (the errors found),
//! fixed, exported again, and loaded into real Traefik with every object enabled.

use shared::lint::{fix_all, lint, LintOptions, Severity};
use shared::traefik::DynamicConfig;
use tests::{file_objects, Loaded, TraefikSetup, TRAEFIK_VERSIONS};

use crate::support::{coolify_files, load};

fn read(name: &str) -> String {
    let path = tests::project_root().join("tests/corpus").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The runbook's multi-server `lb-https` example, in Coolify's load-balancing style.
const LB_HTTPS: &str = "
http:
  routers:
    lb-http:
      middlewares: [redirect-to-https]
      entryPoints: [http]
      service: lb-https
      rule: Host(`omnichannel.gaqno.com.br`)
    lb-https:
      middlewares: [gzip]
      entryPoints: [https]
      service: lb-https
      rule: Host(`omnichannel.gaqno.com.br`)
      tls:
        certResolver: letsencrypt
  services:
    lb-https:
      loadBalancer:
        servers:
          - url: http://127.0.0.1:4008
          - url: http://127.0.0.2:4008
";

#[test]
fn runbook_examples_are_fixed_into_files_traefik_loads() {
    let options = LintOptions::default();
    let examples = [
        ("runbook-sticky", read("runbook-sticky-cookie.yml")),
        ("runbook-lb-https", LB_HTTPS.to_owned()),
    ];
    let mut fixed_files = Vec::new();
    for (label, text) in &examples {
        let mut config: DynamicConfig = shared::yaml::from_str(text).expect("runbook YAML");
        let before = lint(&config, &options);
        let applied = fix_all(&mut config, &options);
        let after = lint(&config, &options);
        let errors: Vec<_> = after
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        assert!(
            errors.is_empty(),
            "{label}: errors left after {applied} fixes: {errors:#?}\nbefore: {before:#?}"
        );
        assert!(applied > 0, "{label}: nothing to fix in {before:#?}");
        // Through the GAQNO model and back: import, export.
        let imported = shared::import::import(&config);
        let exported = shared::export::to_yaml(&imported.project).expect("export");
        let relinted = lint(
            &shared::yaml::from_str(&exported).expect("exported YAML"),
            &options,
        );
        assert!(
            relinted.iter().all(|d| d.severity != Severity::Error),
            "{label}: export lints with errors: {relinted:#?}"
        );
        fixed_files.push((
            label,
            shared::yaml::to_string(&config).expect("YAML"),
            exported,
        ));
    }
    let sticky = &fixed_files[0].1;
    assert!(
        sticky.contains("sticky:\n          cookie:\n            name: omnichannel_sticky"),
        "{sticky}"
    );
    assert!(!sticky.contains("stickyCookie"), "{sticky}");

    for version in TRAEFIK_VERSIONS {
        let Some(binary) = tests::traefik_binary(version) else {
            return;
        };
        for (label, fixed, exported) in &fixed_files {
            for (what, yaml) in [("fixed", fixed), ("exported", exported)] {
                let mut files = coolify_files();
                files.push((format!("{label}.yaml"), yaml.clone()));
                let setup = TraefikSetup {
                    entry_points: vec!["http".into(), "https".into()],
                    cert_resolvers: vec!["letsencrypt".into()],
                    files,
                    ..TraefikSetup::default()
                };
                let (loaded, log) = load(&binary, version, &setup);
                let Loaded::Config(raw) = loaded else {
                    panic!("{label} ({what}) on {version}: {loaded:?}\n{yaml}\n{log}")
                };
                let broken: Vec<_> = file_objects(&raw)
                    .into_iter()
                    .filter(|(_, _, status, _)| status != "enabled")
                    .collect();
                assert!(
                    broken.is_empty(),
                    "{label} ({what}) on {version}: {broken:?}\n{yaml}\n{log}"
                );
            }
        }
    }
}
