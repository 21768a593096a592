// Lint: service-type
//! A service that is not exactly one of `loadBalancer`, `weighted`, `mirroring`,
//! `failover`, `highestRandomWeight`. Traefik disables such a service and every router
//! that uses it.

use crate::lint::{Context, Diagnostic, Path, Rule, Severity};

pub(super) const RULE: Rule = Rule {
    id: "service-type",
    severity: Severity::Error,
    summary: "a service with no type, or with more than one",
    check,
    fix: None,
    reach: None,
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (name, service) in cx.services() {
        let mut kinds: Vec<&str> = Vec::new();
        if service.load_balancer.is_some() {
            kinds.push("loadBalancer");
        }
        if service.weighted.is_some() {
            kinds.push("weighted");
        }
        kinds.extend(
            ["mirroring", "failover", "highestRandomWeight"]
                .into_iter()
                .filter(|k| service.extra.contains_key(*k)),
        );
        let message = match kinds.as_slice() {
            [_] => continue,
            [] => "a service needs one type (loadBalancer, weighted, mirroring, failover, highestRandomWeight): Traefik disables it and its routers".to_owned(),
            many => format!("a service has exactly one type, this one has {}: Traefik disables it and its routers", many.join(", ")),
        };
        out.push(Diagnostic {
            rule: RULE.id,
            severity: RULE.severity,
            message,
            path: Path::keys(["http", "services", name.as_str()]),
            fix: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::check;

    #[test]
    fn exactly_one_type() {
        let found = check("service-type", "http:\n  services:\n    none: {}\n    two: {loadBalancer: {}, mirroring: {}}\n    ok: {weighted: {}}\n");
        assert_eq!(found.lines().count(), 2, "{found}");
        assert!(found.contains("http.services.two: a service has exactly one type, this one has loadBalancer, mirroring"), "{found}");
    }
}
