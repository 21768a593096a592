// Lint: short-health-check-timeout
//! A sticky service whose health check gives a replica less than 2 s to answer. A replica
//! busy under load (a Node event loop working through a burst of handshakes) answers late,
//! Traefik marks it DOWN, and its balancer then ignores the sticky cookie that names it:
//! every later request of the sessions pinned there goes to another replica, which answers
//! "Session ID unknown" — with or without the affinity plugin. Measured with three
//! Socket.IO replicas and 1,000 concurrent polling sessions (BENCHMARKS.md, the soak): a
//! 500 ms timeout marked live replicas DOWN and broke hundreds of their sessions; 3 s did
//! not. A dead replica is seen just as fast with a long timeout (its port refuses at once),
//! so the fix raises the timeout to GAQNO's 3 s.

use crate::lint::{load_balancer_mut, Context, Diagnostic, Path, Rule, Severity};
use crate::traefik::DynamicConfig;

pub(super) const RULE: Rule = Rule {
    id: "short-health-check-timeout",
    severity: Severity::Warning,
    summary: "a health-check timeout so short that busy replicas lose their sessions",
    check,
    fix: Some(fix),
    reach: None,
};

/// Below this, a loaded replica's late answer reads as DOWN.
const SHORTEST_NANOS: i128 = 2_000_000_000;

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (name, lb) in cx.load_balancers() {
        if lb.sticky.is_none() {
            continue;
        }
        let Some(timeout) = lb.health_check.as_ref().and_then(|h| h.timeout.as_ref()) else {
            continue; // Traefik's default is 5 s
        };
        // Zero or negative: Traefik uses its default, and `invalid-value` has its say.
        if !timeout.nanos().is_some_and(|n| n > 0 && n < SHORTEST_NANOS) {
            continue;
        }
        out.push(Diagnostic {
            rule: RULE.id,
            severity: RULE.severity,
            message: format!(
                "a health-check timeout of {timeout} marks a busy replica DOWN, and Traefik then sends the sessions pinned to it to other replicas (\"Session ID unknown\")"
            ),
            path: Path::keys([
                "http",
                "services",
                name.as_str(),
                "loadBalancer",
                "healthCheck",
                "timeout",
            ]),
            fix: Some("set the timeout to 3s (a dead replica is still seen at the next interval: its port refuses at once)".into()),
        });
    }
}

fn fix(config: &mut DynamicConfig, d: &Diagnostic) -> bool {
    let Some(health_check) = load_balancer_mut(config, d).and_then(|lb| lb.health_check.as_mut())
    else {
        return false;
    };
    health_check.timeout = crate::model::HealthCheck::gaqno().timeout;
    true
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::{check, fix};

    #[test]
    fn flags_sub_two_second_timeouts_on_sticky_services() {
        let yaml = "http:\n  services:\n    s: {loadBalancer: {sticky: {cookie: {name: c}}, healthCheck: {path: /v1/health, interval: 1s, timeout: 500ms}, servers: [{url: 'http://a:1'}, {url: 'http://b:1'}]}}\n";
        assert!(check("short-health-check-timeout", yaml).starts_with(
            "warning[short-health-check-timeout] http.services.s.loadBalancer.healthCheck.timeout: a health-check timeout of 500ms"
        ));
        assert!(fix("short-health-check-timeout", yaml).contains("timeout: 3s"));
        for fine in ["timeout: 2s", "timeout: 3", "timeout: 0s"] {
            let yaml = yaml.replace("timeout: 500ms", fine);
            assert_eq!(check("short-health-check-timeout", &yaml), "", "{fine}");
        }
        let not_sticky = yaml.replace("sticky: {cookie: {name: c}}, ", "");
        assert_eq!(check("short-health-check-timeout", &not_sticky), "");
    }
}
