//! Issue 20: a fix changes only what its text says. For every rule with a fix, on exports
//! of GAQNO projects broken in each way the rules catch, applying a finding's fix changes
//! the configuration only under [`super::fix_reach`]: the finding's key path and the paths
//! its text names.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::{apply_fix, fix_reach, lint, LintOptions, Path, Segment, RULES};
use crate::model::Project;
use crate::traefik::{DynamicConfig, GoDuration};

/// Every leaf of `value` (a scalar, or an empty list or map) by its path.
fn leaves(value: &Value, path: &mut Vec<Segment>, out: &mut Vec<(Vec<Segment>, Value)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, v) in map {
                path.push(Segment::Key(key.clone()));
                leaves(v, path, out);
                path.pop();
            }
        }
        Value::Array(list) if !list.is_empty() => {
            for (i, v) in list.iter().enumerate() {
                path.push(Segment::Index(i));
                leaves(v, path, out);
                path.pop();
            }
        }
        leaf => out.push((path.clone(), leaf.clone())),
    }
}

/// The paths of the leaves that differ between `before` and `after` (added, removed or
/// changed).
fn changed(before: &DynamicConfig, after: &DynamicConfig) -> Vec<Vec<Segment>> {
    let flat = |config: &DynamicConfig| {
        let mut out = Vec::new();
        leaves(
            &serde_json::to_value(config).expect("a config is JSON"),
            &mut Vec::new(),
            &mut out,
        );
        out
    };
    let (a, b) = (flat(before), flat(after));
    let mut paths: Vec<Vec<Segment>> = a
        .iter()
        .filter(|leaf| !b.contains(leaf))
        .chain(b.iter().filter(|leaf| !a.contains(leaf)))
        .map(|(path, _)| path.clone())
        .collect();
    paths.sort_by_key(|p| format!("{p:?}"));
    paths.dedup();
    paths
}

/// One way of breaking an exported GAQNO project, each caught by a rule with a fix.
#[derive(Debug, Clone, Copy)]
enum Break {
    UnnamedCookie,
    NoHealthCheck,
    ShortTimeout,
    DuplicateServer,
    AffinityWithoutSticky,
    EmptyMiddlewareList,
    NullPluginConfig,
    PluginCookieMismatch,
    StickyCookieMiddleware,
    MisspelledKeys,
}

const BREAKS: [Break; 10] = [
    Break::UnnamedCookie,
    Break::NoHealthCheck,
    Break::ShortTimeout,
    Break::DuplicateServer,
    Break::AffinityWithoutSticky,
    Break::EmptyMiddlewareList,
    Break::NullPluginConfig,
    Break::PluginCookieMismatch,
    Break::StickyCookieMiddleware,
    Break::MisspelledKeys,
];

/// The preset's first `services` services (the Socket.IO one first), broken by `breaks`
/// on service `at` (modulo the count).
fn broken(services: usize, at: usize, breaks: &[Break]) -> DynamicConfig {
    let mut project = Project::gaqno();
    project.services.truncate(services.max(1));
    let i = at % project.services.len();
    for b in breaks {
        let service = &mut project.services[i];
        match b {
            Break::UnnamedCookie => service.sticky.name.clear(),
            Break::NoHealthCheck => service.health_check = None,
            Break::ShortTimeout => {
                if let Some(h) = service.health_check.as_mut() {
                    h.timeout = Some(GoDuration::new("500ms"));
                }
            }
            Break::DuplicateServer => {
                let first = service.servers[0].clone();
                service.servers.push(first);
            }
            Break::AffinityWithoutSticky => {
                service.socket_io.enabled = true;
                service.sticky.enabled = false;
            }
            _ => {}
        }
    }
    let mut config =
        serde_json::to_value(crate::export::export(&project)).expect("a config is JSON");
    let name = format!("{}{}", crate::export::NAME_PREFIX, project.services[i].name);
    let http = &mut config["http"];
    for b in breaks {
        match b {
            Break::EmptyMiddlewareList => {
                http["routers"][name.as_str()]["middlewares"] = json!([]);
            }
            Break::NullPluginConfig | Break::PluginCookieMismatch => {
                let null = matches!(b, Break::NullPluginConfig);
                if let Some(middlewares) = http["middlewares"].as_object_mut() {
                    for middleware in middlewares.values_mut() {
                        if let Some(plugins) = middleware["plugin"].as_object_mut() {
                            for config in plugins.values_mut() {
                                match null {
                                    true => *config = Value::Null,
                                    false => config["cookieName"] = json!("another_cookie"),
                                }
                            }
                        }
                    }
                }
            }
            Break::StickyCookieMiddleware => {
                http["middlewares"]["runbook-sticky"] =
                    json!({"stickyCookie": {"name": "runbook_affinity", "secure": true}});
                let router = &mut http["routers"][name.as_str()];
                let mut list = router["middlewares"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                list.push(json!("runbook-sticky"));
                router["middlewares"] = Value::Array(list);
                if let Some(lb) = http["services"][name.as_str()]["loadBalancer"].as_object_mut() {
                    lb.remove("sticky");
                }
            }
            Break::MisspelledKeys => {
                let router = &mut http["routers"][name.as_str()];
                if let Some(entry_points) =
                    router.as_object_mut().and_then(|r| r.remove("entryPoints"))
                {
                    router["entrypoints"] = entry_points;
                }
            }
            _ => {}
        }
    }
    serde_json::from_value(config).expect("still a config")
}

/// Whether `path` is within `reach`. A reach that ends at list entry `i` covers the entries
/// after it too: deleting an entry renumbers the ones behind it.
fn within(path: &[Segment], reach: &Path) -> bool {
    if path.starts_with(&reach.0) {
        return true;
    }
    match reach.0.split_last() {
        Some((Segment::Index(i), list)) => {
            path.starts_with(list)
                && matches!(path.get(list.len()), Some(Segment::Index(j)) if j >= i)
        }
        _ => false,
    }
}

/// Checks every fixable finding of `config`: its fix applies and changes only its reach.
/// Returns the rules whose fixes were checked.
fn check_fixes(config: &DynamicConfig) -> Vec<&'static str> {
    let options = LintOptions::default();
    let mut checked = Vec::new();
    for d in lint(config, &options)
        .into_iter()
        .filter(|d| d.fix.is_some())
    {
        let mut fixed = config.clone();
        assert!(apply_fix(&mut fixed, &d), "{d} did not apply");
        let reach = fix_reach(config, &d);
        for path in changed(config, &fixed) {
            assert!(
                reach.iter().any(|r| within(&path, r)),
                "{d}\n  fix: {:?} changed {path:?}, outside {reach:?}",
                d.fix
            );
        }
        checked.push(d.rule);
    }
    checked
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn every_fix_changes_only_its_reach(
        services in 1usize..=5,
        at in 0usize..5,
        chosen in proptest::collection::vec(0usize..BREAKS.len(), 1..4),
    ) {
        let breaks: Vec<Break> = chosen.iter().map(|i| BREAKS[*i]).collect();
        check_fixes(&broken(services, at, &breaks));
    }
}

/// Each break alone triggers its rule, so the property covers every rule with a fix.
#[test]
fn the_breaks_cover_every_rule_with_a_fix() {
    let mut covered: Vec<&str> = Vec::new();
    for b in BREAKS {
        covered.extend(check_fixes(&broken(5, 0, &[b])));
    }
    for rule in RULES.iter().filter(|r| r.fix.is_some()) {
        assert!(
            covered.contains(&rule.id),
            "no break triggers {}, covered: {covered:?}",
            rule.id
        );
    }
}
