//! Lint findings as the editor shows them: per service, each at the field it concerns.
//!
//! The linter runs in the app's second module (`web-analysis`, loaded after the first
//! render); a [`Finding`] is what it hands over: a [`Diagnostic`] with owned strings, so the
//! first module can read it without carrying the linter.

use serde::{Deserialize, Serialize};
use shared::lint::{self, Diagnostic, LintOptions, Path, Segment, Severity};
use shared::model::Project;
use shared::traefik::DynamicConfig;

use crate::fields::Field;

/// A lint finding as the editor holds it (see [`Diagnostic`], whose rule id is a
/// `&'static str` of the linter's table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule's id (`missing-health-check`).
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    /// Where, as steps (a key may hold a dot).
    #[serde(with = "crate::protocol::path_steps")]
    pub path: Path,
    /// What the fix does, when there is one.
    pub fix: Option<String>,
}

impl From<Diagnostic> for Finding {
    fn from(d: Diagnostic) -> Finding {
        Finding {
            rule: d.rule.to_owned(),
            severity: d.severity,
            message: d.message,
            path: d.path,
            fix: d.fix,
        }
    }
}

impl Finding {
    /// What the editor shows under the plain message, for whoever wants the linter's
    /// terms: `warning · missing-health-check · http.services.….loadBalancer`.
    pub fn reference(&self) -> String {
        format!("{} · {} · {}", self.severity, self.rule, self.path)
    }
}

impl std::fmt::Display for Finding {
    /// As [`Diagnostic`] shows itself (`gaqno-lb lint` prints the same line).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}[{}] {}: {}",
            self.severity, self.rule, self.path, self.message
        )
    }
}

/// Lint findings of the project's export. Second module, like everything that lints.
pub fn findings(project: &Project) -> Vec<Finding> {
    findings_of_export(project, &shared::export::export(project))
}

/// Lint findings of `exported`, the export of `project`.
pub fn findings_of_export(project: &Project, exported: &DynamicConfig) -> Vec<Finding> {
    diagnostics(project, exported)
        .into_iter()
        .map(Finding::from)
        .collect()
}

/// The linter's diagnostics of `exported` for `project`'s Traefik version.
pub(crate) fn diagnostics(project: &Project, exported: &DynamicConfig) -> Vec<Diagnostic> {
    lint::lint(
        exported,
        &LintOptions {
            traefik_version: project.target.traefik_version,
            ..LintOptions::default()
        },
    )
}

/// The service a finding is about, from the exported object names (`gaqno-<service>[-…]`).
pub fn finding_service<'p>(project: &'p Project, finding: &Finding) -> Option<&'p str> {
    let object = finding.path.key_at(2)?;
    let name = object.strip_prefix(shared::export::NAME_PREFIX)?;
    project
        .services
        .iter()
        .map(|s| s.name.as_str())
        .filter(|s| {
            name == *s
                || name
                    .strip_prefix(s)
                    .is_some_and(|rest| rest.starts_with('-'))
        })
        .max_by_key(|s| s.len())
}

/// A service's findings, each with the editor field it concerns when there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceFinding {
    /// The field, or `None` when the finding concerns the service as a whole.
    pub field: Option<Field>,
    /// The finding in plain words (the linter's message).
    pub text: String,
    /// Error, not warning.
    pub error: bool,
    /// The finding itself (its path, for the preview's line).
    pub finding: Finding,
}

/// `findings` grouped by the project's services, in service order.
pub fn findings_by_service(project: &Project, findings: &[Finding]) -> Vec<Vec<ServiceFinding>> {
    let mut grouped = vec![Vec::new(); project.services.len()];
    for d in findings {
        let Some(name) = finding_service(project, d) else {
            continue;
        };
        let Some(at) = project.services.iter().position(|s| s.name == name) else {
            continue;
        };
        if let Some(list) = grouped.get_mut(at) {
            list.push(ServiceFinding {
                field: finding_field(d),
                text: d.message.clone(),
                error: d.severity == lint::Severity::Error,
                finding: d.clone(),
            });
        }
    }
    grouped
}

/// The editor field a finding concerns, from its key path below the Traefik object.
pub fn finding_field(finding: &Finding) -> Option<Field> {
    let kind = finding.path.key_at(1)?;
    let below: Vec<&Segment> = finding.path.0.iter().skip(3).collect();
    let keys: Vec<&str> = below
        .iter()
        .filter_map(|s| match s {
            Segment::Key(k) => Some(k.as_str()),
            Segment::Index(_) => None,
        })
        .collect();
    let field = match (kind, keys.as_slice()) {
        ("services", ["loadBalancer", "servers", ..]) => {
            let index = below.iter().find_map(|s| match s {
                Segment::Index(i) => Some(*i),
                Segment::Key(_) => None,
            })?;
            Field::Server(index)
        }
        ("services", ["loadBalancer", "healthCheck", "path", ..]) => Field::HealthPath,
        ("services", ["loadBalancer", "healthCheck", "interval", ..]) => Field::HealthInterval,
        ("services", ["loadBalancer", "healthCheck", "timeout", ..]) => Field::HealthTimeout,
        ("services", ["loadBalancer", "healthCheck", ..]) => Field::Health,
        ("services", ["loadBalancer"]) if finding.rule == "missing-health-check" => Field::Health,
        ("services", ["loadBalancer", "sticky", "cookie", "name", ..]) => Field::CookieName,
        ("services", ["loadBalancer", "sticky", "cookie", "secure", ..]) => Field::Secure,
        ("services", ["loadBalancer", "sticky", "cookie", "httpOnly", ..]) => Field::HttpOnly,
        ("services", ["loadBalancer", "sticky", "cookie", "sameSite", ..]) => Field::SameSite,
        ("services", ["loadBalancer", "sticky", "cookie", "maxAge", ..]) => Field::MaxAge,
        // An unnamed cookie is fixed in the name field, not by the "on" box.
        ("services", ["loadBalancer", "sticky", ..]) if finding.rule == "sticky-cookie-unnamed" => {
            Field::CookieName
        }
        ("services", ["loadBalancer", "sticky", ..]) => Field::Sticky,
        ("services", ["loadBalancer", "strategy", ..]) => Field::Strategy,
        ("routers", ["priority", ..]) => Field::Priority,
        ("routers", ["rule", ..]) => Field::Hosts,
        ("middlewares", [.., "cookieName"]) => Field::CookieName,
        ("middlewares", [.., "socketIoPath"]) => Field::SocketIoPath,
        _ => return None,
    };
    Some(field)
}

#[cfg(test)]
mod tests {
    use shared::model::Project;

    use super::*;
    use crate::apply_fix;

    #[test]
    fn findings_sit_at_their_field() {
        let mut project = Project::gaqno();
        project.services[1].health_check = None;
        project.services[2].servers[1] = "not a url".into();
        let found = findings(&project);
        let grouped = findings_by_service(&project, &found);
        assert_eq!(grouped.len(), project.services.len());
        let fields =
            |i: usize| -> Vec<Option<Field>> { grouped[i].iter().map(|f| f.field).collect() };
        assert_eq!(fields(1), [Some(Field::Health)], "{:?}", grouped[1]);
        assert!(
            fields(2).contains(&Some(Field::Server(1))),
            "{:?}",
            grouped[2]
        );
        assert!(grouped[0].is_empty());
    }

    #[test]
    fn findings_point_at_their_service_and_fixes_go_through_the_model() {
        let mut project = Project::gaqno();
        project.services[1].health_check = None;
        let found = findings(&project);
        let missing = found
            .iter()
            .find(|d| d.rule == "missing-health-check")
            .expect("finding");
        assert_eq!(finding_service(&project, missing), Some("ai-service"));
        let fixed = apply_fix(&project, missing).expect("fix");
        assert!(fixed.services[1].health_check.is_some());
        assert_eq!(fixed.services.len(), 5);
        assert!(findings(&fixed)
            .iter()
            .all(|d| d.rule != "missing-health-check"));
    }
}
