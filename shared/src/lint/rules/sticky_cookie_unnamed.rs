// Lint: sticky-cookie-unnamed
//! A sticky cookie without a `name`. Traefik then makes one up from a hash of the service
//! name and provider (`_fb0b0`), which changes with the service's name and which the
//! affinity plugin cannot be told in advance. The fix names it `gaqno_<service>`.

use crate::lint::{load_balancer_mut, Context, Diagnostic, Path, Rule, Severity};
use crate::traefik::{Cookie, DynamicConfig};

pub(super) const RULE: Rule = Rule {
    id: "sticky-cookie-unnamed",
    severity: Severity::Warning,
    summary: "a sticky cookie whose name Traefik generates",
    check,
    fix: Some(fix),
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (name, lb) in cx.load_balancers() {
        let Some(sticky) = &lb.sticky else { continue };
        if sticky
            .cookie
            .as_ref()
            .and_then(|c| c.name.as_deref())
            .is_some_and(|n| !n.is_empty())
        {
            continue;
        }
        out.push(Diagnostic {
            rule: RULE.id,
            severity: RULE.severity,
            message: "a sticky cookie without a name: Traefik derives one from the service name, which changes when the service is renamed; name it".into(),
            path: Path::keys(["http", "services", name.as_str(), "loadBalancer", "sticky"]),
            fix: Some(format!("name it `{}`", crate::model::default_cookie_name(name))),
        });
    }
}

fn fix(config: &mut DynamicConfig, d: &Diagnostic) -> bool {
    let Some(service) = d.path.key_at(2).map(str::to_owned) else {
        return false;
    };
    let Some(sticky) = load_balancer_mut(config, d).and_then(|lb| lb.sticky.as_mut()) else {
        return false;
    };
    let cookie = sticky.cookie.get_or_insert_with(Cookie::default);
    cookie.name = Some(crate::model::default_cookie_name(&service));
    true
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::{check, fix};

    #[test]
    fn names_generated_cookies() {
        let yaml = "http:\n  services:\n    api:\n      loadBalancer: {sticky: {cookie: {secure: true}}}\n";
        assert!(check("sticky-cookie-unnamed", yaml)
            .starts_with("warning[sticky-cookie-unnamed] http.services.api.loadBalancer.sticky:"));
        assert!(fix("sticky-cookie-unnamed", yaml).contains("name: gaqno_api\n"));
        assert_eq!(
            check(
                "sticky-cookie-unnamed",
                &yaml.replace("secure: true", "name: x")
            ),
            ""
        );
    }
}
