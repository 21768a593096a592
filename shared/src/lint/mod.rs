//! The linter: rules over a Traefik dynamic configuration, modelled on rust-analyzer's
//! `ide-diagnostics`: one file per rule under `rules/` holding detection, fix and tests.
//!
//! [`lint`] returns diagnostics and never an error: a config that parsed can always be
//! linted. Rule ids are stable kebab-case strings; [`RULES`] is the one list of them (the
//! order of checks, `gaqno-lb lint --list-rules`, and the docs).

mod path;
mod rules;

use serde::{Deserialize, Serialize};

pub use self::path::{Path, Segment};
pub use self::rules::RULES;
use crate::model::TraefikVersion;
use crate::traefik::{DynamicConfig, HttpConfig, LoadBalancer, Middleware, Router, Value};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Traefik mis-serves or is likely to: worth fixing.
    Warning,
    /// Traefik rejects it, or the setup cannot work.
    Error,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The rule's id (`sticky-cookie-middleware`).
    pub rule: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// What is wrong and what Traefik does about it.
    pub message: String,
    /// Where: the key path in the configuration.
    pub path: Path,
    /// What the fix does, when the rule has one for this finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}[{}] {}: {}",
            self.severity, self.rule, self.path, self.message
        )
    }
}

/// What the linter checks against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintOptions {
    /// The Traefik version the file is for.
    pub traefik_version: TraefikVersion,
    /// Where Traefik reads the configuration from.
    pub source: Source,
}

/// The provider a configuration is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// A file in the file provider's folder (Coolify's *Dynamic Configurations*).
    #[default]
    File,
    /// A container's Docker labels (`crate::labels`): names such as Coolify's
    /// `https-0-<uuid>` are the application's own there, not a clash.
    DockerLabels,
}

impl Source {
    /// What Traefik does with a configuration it cannot decode ("field not found").
    pub fn rejection(self) -> &'static str {
        match self {
            Source::File => "the whole file is rejected and no file route loads",
            Source::DockerLabels => {
                "Traefik's Docker provider drops the container: none of its routers load"
            }
        }
    }
}

impl Default for LintOptions {
    fn default() -> LintOptions {
        LintOptions {
            traefik_version: TraefikVersion::V3_6,
            source: Source::File,
        }
    }
}

/// A lint rule.
pub struct Rule {
    /// Stable id.
    pub id: &'static str,
    /// The severity of its usual finding.
    pub severity: Severity,
    /// One line on what it catches.
    pub summary: &'static str,
    check: fn(&Context, &mut Vec<Diagnostic>),
    fix: Option<fn(&mut DynamicConfig, &Diagnostic) -> bool>,
    /// Where its fix may change the configuration besides the finding's own path, for a
    /// fix whose text names more than that path ([`fix_reach`]).
    reach: Option<fn(&DynamicConfig, &Diagnostic) -> Vec<Path>>,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Every finding in `config`, in [`RULES`] order.
pub fn lint(config: &DynamicConfig, options: &LintOptions) -> Vec<Diagnostic> {
    let cx = Context::new(config, options);
    let mut out = Vec::new();
    for rule in RULES {
        (rule.check)(&cx, &mut out);
    }
    out
}

/// Applies the fix of `diagnostic`; false when it has none or it no longer applies.
pub fn apply_fix(config: &mut DynamicConfig, diagnostic: &Diagnostic) -> bool {
    if diagnostic.fix.is_none() {
        return false;
    }
    let Some(fix) = RULES
        .iter()
        .find(|r| r.id == diagnostic.rule)
        .and_then(|r| r.fix)
    else {
        return false;
    };
    fix(config, diagnostic)
}

/// The key paths `diagnostic`'s fix may change in `config`: the finding's path, and for a
/// fix that says it does more (renames a key, moves a middleware into its service, names
/// the plugin's cookie too), the paths that names. A fix changes nothing outside them: the
/// property `every_fix_changes_only_its_reach` (the lint tests) holds every rule to it.
pub fn fix_reach(config: &DynamicConfig, diagnostic: &Diagnostic) -> Vec<Path> {
    let mut reach = vec![diagnostic.path.clone()];
    if let Some(more) = RULES
        .iter()
        .find(|r| r.id == diagnostic.rule)
        .and_then(|r| r.reach)
    {
        reach.extend(more(config, diagnostic));
    }
    reach
}

/// Applies fixes until none is left (at most one per finding), returning how many applied.
pub fn fix_all(config: &mut DynamicConfig, options: &LintOptions) -> usize {
    let mut applied = 0;
    let mut tried = std::collections::HashSet::new();
    // Each round fixes one finding and lints again: fixes move paths around.
    for _ in 0..256 {
        let next = lint(config, options)
            .into_iter()
            .find(|d| d.fix.is_some() && !tried.contains(&(d.rule, d.path.to_string())));
        let Some(diagnostic) = next else { break };
        tried.insert((diagnostic.rule, diagnostic.path.to_string()));
        if apply_fix(config, &diagnostic) {
            applied += 1;
        }
    }
    applied
}

/// What the rules look at, with the lookups several of them need.
pub(crate) struct Context<'a> {
    pub(crate) config: &'a DynamicConfig,
    pub(crate) options: &'a LintOptions,
    http: Option<&'a HttpConfig>,
    /// [`Context::as_value`], converted once per lint run (the web app lints per keystroke).
    value: std::cell::OnceCell<Value>,
}

impl<'a> Context<'a> {
    fn new(config: &'a DynamicConfig, options: &'a LintOptions) -> Context<'a> {
        Context {
            config,
            options,
            http: config.http.as_ref(),
            value: std::cell::OnceCell::new(),
        }
    }

    pub(crate) fn routers(&self) -> impl Iterator<Item = (&'a String, &'a Router)> {
        self.http.into_iter().flat_map(|h| h.routers.iter())
    }

    pub(crate) fn services(
        &self,
    ) -> impl Iterator<Item = (&'a String, &'a crate::traefik::Service)> {
        self.http.into_iter().flat_map(|h| h.services.iter())
    }

    pub(crate) fn middlewares(&self) -> impl Iterator<Item = (&'a String, &'a Middleware)> {
        self.http.into_iter().flat_map(|h| h.middlewares.iter())
    }

    pub(crate) fn load_balancers(&self) -> impl Iterator<Item = (&'a String, &'a LoadBalancer)> {
        self.services()
            .filter_map(|(name, s)| s.load_balancer.as_ref().map(|lb| (name, lb)))
    }

    /// The load balancer of a service defined in this file, by a router's reference.
    pub(crate) fn load_balancer(&self, reference: &str) -> Option<(&'a String, &'a LoadBalancer)> {
        let name = local_name(reference)?;
        self.load_balancers().find(|(n, _)| *n == name)
    }

    /// Routers that list middleware `name`.
    pub(crate) fn routers_using(
        &self,
        name: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Router)> + 'a {
        self.routers().filter(move |(_, r)| {
            r.middlewares
                .iter()
                .flatten()
                .any(|m| local_name(m) == Some(name))
        })
    }

    /// Affinity plugin middlewares: `(middleware name, plugin name, plugin config)`.
    pub(crate) fn affinity_middlewares(
        &self,
    ) -> impl Iterator<Item = (&'a String, &'a String, &'a Value)> {
        self.middlewares().filter_map(|(name, mw)| {
            let (plugin, config) = mw.plugin.as_ref()?.iter().next()?;
            config
                .get("cookieName")
                .is_some()
                .then_some((name, plugin, config))
        })
    }

    /// The whole config as a generic value, for rules that look at every value.
    pub(crate) fn as_value(&self) -> &Value {
        self.value
            .get_or_init(|| serde_json::to_value(self.config).unwrap_or_default())
    }
}

/// Whether `router` only redirects to HTTPS: Coolify's HTTP router with its
/// `redirect-to-https` middleware, or any `redirectScheme` middleware `http` defines. A
/// www/non-www redirect (`redirectRegex`) redirects one host only: such a router serves.
pub fn redirects_to_https(router: &Router, http: Option<&HttpConfig>) -> bool {
    router.middlewares.iter().flatten().any(|m| {
        let name = m.split('@').next().unwrap_or_default();
        name.eq_ignore_ascii_case("redirect-to-https")
            || http
                .and_then(|h| h.middlewares.get(name))
                .is_some_and(|mw| mw.redirect_scheme.is_some())
    })
}

/// The name of a same-provider reference (`api` or `api@file`); `None` for other providers.
pub(crate) fn local_name(reference: &str) -> Option<&str> {
    match reference.split_once('@') {
        None => Some(reference),
        Some((name, "file")) => Some(name),
        Some(_) => None,
    }
}

/// The load balancer of the service a finding's path names (`http.services.<name>...`).
pub(crate) fn load_balancer_mut<'c>(
    config: &'c mut DynamicConfig,
    d: &Diagnostic,
) -> Option<&'c mut LoadBalancer> {
    let service = d.path.key_at(2)?;
    config
        .http
        .as_mut()?
        .services
        .get_mut(service)?
        .load_balancer
        .as_mut()
}

/// Edits `config` as a generic value at `path`; the edit returns whether it changed anything.
pub(crate) fn edit_as_value(
    config: &mut DynamicConfig,
    edit: impl FnOnce(&mut Value) -> bool,
) -> bool {
    let Ok(mut value) = serde_json::to_value(&*config) else {
        return false;
    };
    if !edit(&mut value) {
        return false;
    }
    // Back through YAML, not `serde_json::from_value`: the typed deserializer is then the one
    // import already uses, instead of a second copy of it (~60 KB of the web app's wasm).
    // Fixes are rare, so the extra text round trip costs nothing that matters.
    match crate::yaml::to_string(&value).and_then(|text| crate::yaml::from_str(&text)) {
        Ok(edited) => {
            *config = edited;
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// Lints `yaml` and lists what rule `rule` finds, one line each.
    pub(crate) fn check(rule: &str, yaml: &str) -> String {
        check_with(rule, yaml, &LintOptions::default())
    }

    pub(crate) fn check_with(rule: &str, yaml: &str, options: &LintOptions) -> String {
        let config: DynamicConfig = crate::yaml::from_str(yaml).unwrap();
        let mut out = String::new();
        for d in lint(&config, options)
            .into_iter()
            .filter(|d| d.rule == rule)
        {
            out.push_str(&d.to_string());
            if let Some(fix) = &d.fix {
                out.push_str(&format!("\n  fix: {fix}"));
            }
            out.push('\n');
        }
        out
    }

    /// Applies every fix of rule `rule` and returns the resulting YAML.
    pub(crate) fn fix(rule: &str, yaml: &str) -> String {
        let mut config: DynamicConfig = crate::yaml::from_str(yaml).unwrap();
        let options = LintOptions::default();
        for _ in 0..16 {
            let Some(d) = lint(&config, &options)
                .into_iter()
                .find(|d| d.rule == rule && d.fix.is_some())
            else {
                break;
            };
            assert!(apply_fix(&mut config, &d), "fix for {d} did not apply");
        }
        crate::yaml::to_string(&config).unwrap()
    }
}

#[cfg(test)]
mod reach_tests;
