// Lint: missing-field
//! A field that must be there: a router's `rule` and `service` (Traefik disables the router
//! without them), a health check's `path` (Traefik 3.6/3.7 accept the check and never probe,
//! so a dead replica keeps its share of new sessions).

use crate::lint::{Context, Diagnostic, Path, Rule, Severity};

pub(super) const RULE: Rule = Rule {
    id: "missing-field",
    severity: Severity::Error,
    summary: "a router without rule or service, a health check without path",
    check,
    fix: None,
    reach: None,
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let mut missing = |path: Path, message: &str| {
        out.push(Diagnostic {
            rule: RULE.id,
            severity: RULE.severity,
            message: message.to_owned(),
            path,
            fix: None,
        })
    };
    for (name, router) in cx.routers() {
        let path = Path::keys(["http", "routers", name.as_str()]);
        if router.rule.as_deref().is_none_or(|r| r.trim().is_empty()) {
            missing(path.clone(), "a router without a rule: Traefik disables it");
        }
        if router.service.as_deref().is_none_or(str::is_empty) {
            missing(path, "a router without a service: Traefik disables it");
        }
    }
    for (name, lb) in cx.load_balancers() {
        if let Some(hc) = &lb.health_check {
            if hc.path.as_deref().is_none_or(str::is_empty) {
                missing(Path::keys(["http", "services", name.as_str(), "loadBalancer", "healthCheck"]), "a health check without a path: Traefik accepts it and never probes, so a dead replica keeps getting new sessions");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::check;

    #[test]
    fn flags_missing_fields() {
        let found = check("missing-field", "http:\n  routers:\n    r: {entryPoints: [https]}\n  services:\n    s: {loadBalancer: {healthCheck: {interval: 10s}}}\n");
        expect_test::expect![[r#"
            error[missing-field] http.routers.r: a router without a rule: Traefik disables it
            error[missing-field] http.routers.r: a router without a service: Traefik disables it
            error[missing-field] http.services.s.loadBalancer.healthCheck: a health check without a path: Traefik accepts it and never probes, so a dead replica keeps getting new sessions
        "#]]
        .assert_eq(&found);
    }
}
