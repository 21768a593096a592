// Lint: socketio-without-sticky
//! A router sends traffic through the affinity plugin to a service without a sticky
//! cookie. The plugin steers requests by setting that cookie; without stickiness Traefik
//! ignores it and Socket.IO sessions break. The fix adds the sticky cookie the plugin names.

use crate::lint::{load_balancer_mut, Context, Diagnostic, Path, Rule, Severity};
use crate::traefik::{Cookie, DynamicConfig, Sticky, Value};

pub(super) const RULE: Rule = Rule {
    id: "socketio-without-sticky",
    severity: Severity::Error,
    summary: "the affinity plugin in front of a service without a sticky cookie",
    check,
    fix: Some(fix),
    reach: None,
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (name, _, config) in cx.affinity_middlewares() {
        let cookie_name = config
            .get("cookieName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        for (router_name, router) in cx.routers_using(name) {
            let Some((service, lb)) = router.service.as_deref().and_then(|s| cx.load_balancer(s))
            else {
                continue;
            };
            if lb.sticky.is_some() {
                continue;
            }
            out.push(Diagnostic {
                rule: RULE.id,
                severity: RULE.severity,
                message: format!("router `{router_name}` sends Socket.IO through the affinity plugin, but service `{service}` has no sticky cookie: the plugin can only steer through it"),
                path: Path::keys(["http", "services", service.as_str(), "loadBalancer"]),
                fix: Some(format!("add sticky cookie `{cookie_name}` (Secure, HttpOnly)")),
            });
        }
    }
}

fn fix(config: &mut DynamicConfig, d: &Diagnostic) -> bool {
    let Some(name) = d
        .fix
        .as_deref()
        .and_then(|f| f.strip_prefix("add sticky cookie `"))
        .and_then(|f| f.split('`').next())
    else {
        return false;
    };
    let Some(lb) = load_balancer_mut(config, d).filter(|lb| lb.sticky.is_none()) else {
        return false;
    };
    let cookie = Cookie {
        name: Some(name.to_owned()).filter(|n| !n.is_empty()),
        secure: Some(true),
        http_only: Some(true),
        ..Default::default()
    };
    lb.sticky = Some(Sticky {
        cookie: Some(cookie),
        ..Default::default()
    });
    true
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::{check, fix};

    const YAML: &str = "http:\n  routers:\n    io: {rule: 'PathPrefix(`/socket.io/`)', service: chat, middlewares: [affinity]}\n  middlewares:\n    affinity: {plugin: {gaqno-lb: {cookieName: chat_sticky}}}\n  services:\n    chat: {loadBalancer: {servers: [{url: 'http://a:1'}]}}\n";

    #[test]
    fn flags_and_fixes_missing_stickiness() {
        let found = check("socketio-without-sticky", YAML);
        assert!(
            found.starts_with(
                "error[socketio-without-sticky] http.services.chat.loadBalancer: router `io`"
            ),
            "{found}"
        );
        let fixed = fix("socketio-without-sticky", YAML);
        assert!(fixed.contains("sticky:\n          cookie:\n            name: chat_sticky\n            secure: true\n            httpOnly: true"), "{fixed}");
    }
}
