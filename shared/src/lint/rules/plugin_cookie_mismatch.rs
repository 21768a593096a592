// Lint: plugin-cookie-mismatch
//! The affinity plugin's `cookieName` differs from the sticky cookie name of a service it
//! routes to. The plugin then writes a cookie Traefik's load balancer never reads:
//! cookie-less Socket.IO clients lose their session. The fix sets `cookieName` to the
//! service's cookie name.

use crate::lint::{edit_as_value, Context, Diagnostic, Path, Rule, Severity};
use crate::traefik::{DynamicConfig, Value};

pub(super) const RULE: Rule = Rule {
    id: "plugin-cookie-mismatch",
    severity: Severity::Error,
    summary: "the affinity plugin's cookieName is not the service's sticky cookie name",
    check,
    fix: Some(fix),
    reach: None,
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (name, plugin, config) in cx.affinity_middlewares() {
        let Some(cookie_name) = config.get("cookieName").and_then(Value::as_str) else {
            continue;
        };
        for (router_name, router) in cx.routers_using(name) {
            let Some((service, lb)) = router.service.as_deref().and_then(|s| cx.load_balancer(s))
            else {
                continue;
            };
            let sticky_name = lb
                .sticky
                .as_ref()
                .and_then(|s| s.cookie.as_ref())
                .and_then(|c| c.name.as_deref());
            let Some(sticky_name) = sticky_name.filter(|n| *n != cookie_name) else {
                continue;
            };
            out.push(Diagnostic {
                rule: RULE.id,
                severity: RULE.severity,
                message: format!(
                    "cookieName `{cookie_name}` is not the sticky cookie `{sticky_name}` of service `{service}` (router `{router_name}`): Traefik never reads the cookie the plugin sets, so cookie-less Socket.IO sessions break"
                ),
                path: Path::keys(["http", "middlewares", name.as_str(), "plugin", plugin.as_str(), "cookieName"]),
                fix: Some(format!("set cookieName to `{sticky_name}`")),
            });
        }
    }
}

fn fix(config: &mut DynamicConfig, d: &Diagnostic) -> bool {
    let Some(name) = d
        .fix
        .as_deref()
        .and_then(|f| f.strip_prefix("set cookieName to `"))
        .and_then(|f| f.strip_suffix('`'))
    else {
        return false;
    };
    let name = name.to_owned();
    edit_as_value(config, |root| match d.path.get_mut(root) {
        Some(value) => {
            *value = Value::String(name);
            true
        }
        None => false,
    })
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::{check, fix};

    const YAML: &str = "http:\n  routers:\n    io: {rule: 'PathPrefix(`/socket.io/`)', service: chat, middlewares: [affinity]}\n  middlewares:\n    affinity: {plugin: {gaqno-lb: {cookieName: wrong}}}\n  services:\n    chat: {loadBalancer: {sticky: {cookie: {name: right}}}}\n";

    #[test]
    fn flags_and_fixes_a_mismatch() {
        let found = check("plugin-cookie-mismatch", YAML);
        assert!(found.starts_with("error[plugin-cookie-mismatch] http.middlewares.affinity.plugin.gaqno-lb.cookieName: cookieName `wrong` is not the sticky cookie `right`"), "{found}");
        assert!(fix("plugin-cookie-mismatch", YAML).contains("cookieName: right"));
        assert_eq!(
            check("plugin-cookie-mismatch", &YAML.replace("wrong", "right")),
            ""
        );
    }
}
