// Lint: unsupported-in-version
//! A field or value the chosen Traefik version does not have: strategy `p2c` before 3.4,
//! `hrw` and `leasttime` and `passiveHealthCheck` before 3.6, service `middlewares` before
//! 3.7. Traefik rejects an unknown field (`field not found`, whole file down) or an unknown
//! strategy (service disabled). Coolify ships 3.6; older servers may still run 3.1.

use crate::lint::{Context, Diagnostic, Path, Rule, Severity};
use crate::model::{Strategy, TraefikVersion};

pub(super) const RULE: Rule = Rule {
    id: "unsupported-in-version",
    severity: Severity::Error,
    summary: "a field or value the target Traefik version lacks",
    check,
    fix: None,
    reach: None,
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let version = cx.options.traefik_version;
    let mut need = |since: TraefikVersion, what: String, path: Path| {
        if version < since {
            out.push(Diagnostic {
                rule: RULE.id,
                severity: RULE.severity,
                message: format!("{what} needs Traefik {since} or later; the target is {version}"),
                path,
                fix: None,
            });
        }
    };
    for (name, service) in cx.services() {
        let path = Path::keys(["http", "services", name.as_str()]);
        if service.middlewares.is_some() {
            need(
                TraefikVersion::V3_7,
                "service `middlewares`".into(),
                path.key("middlewares"),
            );
        }
        let Some(lb) = &service.load_balancer else {
            continue;
        };
        let lb_path = path.key("loadBalancer");
        if let Some(strategy) = lb.strategy.as_deref().and_then(Strategy::parse) {
            need(
                strategy.since(),
                format!("strategy `{}`", strategy.as_str()),
                lb_path.key("strategy"),
            );
        }
        if lb.passive_health_check.is_some() {
            need(
                TraefikVersion::V3_6,
                "`passiveHealthCheck`".into(),
                lb_path.key("passiveHealthCheck"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::check_with;
    use crate::lint::LintOptions;
    use crate::model::TraefikVersion;

    const YAML: &str = "http:\n  services:\n    s:\n      middlewares: [m]\n      loadBalancer:\n        strategy: hrw\n        passiveHealthCheck: {maxFailedAttempts: 3}\n";

    #[test]
    fn depends_on_the_target_version() {
        let at = |minor| {
            check_with(
                "unsupported-in-version",
                YAML,
                &LintOptions {
                    traefik_version: TraefikVersion::new(minor),
                    ..LintOptions::default()
                },
            )
        };
        assert_eq!(at(7), "");
        assert_eq!(at(6), "error[unsupported-in-version] http.services.s.middlewares: service `middlewares` needs Traefik 3.7 or later; the target is 3.6\n");
        assert_eq!(at(1).lines().count(), 3, "{}", at(1));
    }
}
