// Lint: invalid-value
//! A value Traefik cannot use: an unknown `strategy`, a `sameSite` other than `none`,
//! `lax`, `strict` (case-sensitive in 3.6.0), a health-check `mode` other than `http` or
//! `grpc`, a duration Go cannot parse.

use crate::lint::{Context, Diagnostic, Path, Rule, Severity};
use crate::model::{SameSite, Strategy};
use crate::traefik::GoDuration;

pub(super) const RULE: Rule = Rule {
    id: "invalid-value",
    severity: Severity::Error,
    summary: "a strategy, sameSite, health-check mode or duration Traefik cannot use",
    check,
    fix: None,
    reach: None,
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let mut bad = |path: Path, message: String| {
        out.push(Diagnostic {
            rule: RULE.id,
            severity: RULE.severity,
            message,
            path,
            fix: None,
        })
    };
    for (name, lb) in cx.load_balancers() {
        let path = Path::keys(["http", "services", name.as_str(), "loadBalancer"]);
        if let Some(strategy) = lb
            .strategy
            .as_deref()
            .filter(|s| Strategy::parse(s).is_none())
        {
            bad(
                path.key("strategy"),
                format!("`{strategy}` is not a strategy: use wrr, p2c, hrw or leasttime"),
            );
        }
        let same_site = lb
            .sticky
            .as_ref()
            .and_then(|s| s.cookie.as_ref())
            .and_then(|c| c.same_site.as_deref());
        if let Some(same_site) = same_site.filter(|s| SameSite::parse(s).is_none()) {
            bad(
                path.key("sticky").key("cookie").key("sameSite"),
                format!(
                    "`{same_site}` is not a sameSite value: use none, lax or strict, in lower case"
                ),
            );
        }
        let mut durations: Vec<(Path, &GoDuration)> = Vec::new();
        if let Some(hc) = &lb.health_check {
            if let Some(mode) = hc
                .mode
                .as_deref()
                .filter(|m| !matches!(*m, "http" | "grpc"))
            {
                bad(
                    path.key("healthCheck").key("mode"),
                    format!("`{mode}` is not a health-check mode: use http or grpc"),
                );
            }
            for (key, d) in [
                ("interval", &hc.interval),
                ("unhealthyInterval", &hc.unhealthy_interval),
                ("timeout", &hc.timeout),
            ] {
                durations.extend(d.as_ref().map(|d| (path.key("healthCheck").key(key), d)));
            }
        }
        if let Some(d) = lb
            .passive_health_check
            .as_ref()
            .and_then(|p| p.failure_window.as_ref())
        {
            durations.push((path.key("passiveHealthCheck").key("failureWindow"), d));
        }
        if let Some(d) = lb
            .response_forwarding
            .as_ref()
            .and_then(|r| r.flush_interval.as_ref())
        {
            durations.push((path.key("responseForwarding").key("flushInterval"), d));
        }
        for (path, duration) in durations {
            if duration.nanos().is_none() {
                bad(
                    path,
                    format!("`{duration}` is not a duration: write it like 10s, 500ms or 1m30s"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::check;

    #[test]
    fn flags_values_traefik_cannot_use() {
        let yaml = "http:\n  services:\n    s:\n      loadBalancer:\n        strategy: random\n        sticky: {cookie: {name: c, sameSite: Lax}}\n        healthCheck: {path: /h, mode: tcp, interval: 10 seconds, timeout: 3s}\n        responseForwarding: {flushInterval: 100}\n";
        expect_test::expect![[r#"
            error[invalid-value] http.services.s.loadBalancer.strategy: `random` is not a strategy: use wrr, p2c, hrw or leasttime
            error[invalid-value] http.services.s.loadBalancer.sticky.cookie.sameSite: `Lax` is not a sameSite value: use none, lax or strict, in lower case
            error[invalid-value] http.services.s.loadBalancer.healthCheck.mode: `tcp` is not a health-check mode: use http or grpc
            error[invalid-value] http.services.s.loadBalancer.healthCheck.interval: `10 seconds` is not a duration: write it like 10s, 500ms or 1m30s
        "#]]
        .assert_eq(&check("invalid-value", yaml));
    }
}
