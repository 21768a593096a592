// Lint: missing-health-check
//! A load balancer with servers but no health check: Traefik keeps sending new sessions to
//! a replica that is down until someone notices. The fix adds GAQNO's check
//! (`GET /v1/health` every 10 s, 3 s timeout).

use crate::lint::{load_balancer_mut, Context, Diagnostic, Path, Rule, Severity};
use crate::traefik::{DynamicConfig, HealthCheck};

pub(super) const RULE: Rule = Rule {
    id: "missing-health-check",
    severity: Severity::Warning,
    summary: "replicas without a health check",
    check,
    fix: Some(fix),
    reach: None,
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (name, lb) in cx.load_balancers() {
        // In Docker labels every container of the service is a server.
        let has_servers = cx.options.source == crate::lint::Source::DockerLabels
            || lb
                .servers
                .iter()
                .flatten()
                .any(|s| s.url.as_deref().is_some_and(|u| !u.is_empty()));
        if !has_servers || lb.health_check.is_some() {
            continue;
        }
        // Coolify's labels give the HTTP router, which only redirects, a service of its own
        // that no request reaches.
        let labels = cx.options.source == crate::lint::Source::DockerLabels;
        if labels && !serves_requests(cx, name) {
            continue;
        }
        out.push(Diagnostic {
            rule: RULE.id,
            severity: RULE.severity,
            message: "no health check: a replica that is down keeps getting new sessions".into(),
            path: Path::keys(["http", "services", name.as_str(), "loadBalancer"]),
            fix: Some(format!(
                "add a health check on {} every 10s",
                crate::model::GAQNO_HEALTH_PATH
            )),
        });
    }
}

/// Whether a router that does not only redirect to HTTPS uses service `name`.
fn serves_requests(cx: &Context, name: &str) -> bool {
    cx.routers().any(|(_, router)| {
        router.service.as_deref() == Some(name)
            && !crate::lint::redirects_to_https(router, cx.config.http.as_ref())
    })
}

fn fix(config: &mut DynamicConfig, d: &Diagnostic) -> bool {
    let Some(lb) = load_balancer_mut(config, d).filter(|lb| lb.health_check.is_none()) else {
        return false;
    };
    let gaqno = crate::model::HealthCheck::gaqno();
    lb.health_check = Some(HealthCheck {
        path: Some(gaqno.path),
        interval: gaqno.interval,
        timeout: gaqno.timeout,
        ..Default::default()
    });
    true
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::{check, fix};

    #[test]
    fn flags_and_adds_a_health_check() {
        let yaml = "http:\n  services:\n    s: {loadBalancer: {servers: [{url: 'http://a:1'}]}}\n    noop: {loadBalancer: {servers: [{url: ''}]}}\n";
        assert_eq!(check("missing-health-check", yaml).lines().count(), 2); // line + fix line, for `s` only
        assert!(fix("missing-health-check", yaml).contains("        healthCheck:\n          path: /v1/health\n          interval: 10s\n          timeout: 3s\n"));
    }
}
