// Lint: affinity-not-attached
//! The affinity plugin is configured (a middleware with a `cookieName`) but no router lists
//! it. Traefik accepts that without a word, and every cookie-less Socket.IO client keeps
//! losing its session: the middleware has to sit on the router that serves the Socket.IO
//! path. Easy to miss when labels are pasted by hand, or a router was renamed.

use crate::lint::{Context, Diagnostic, Path, Rule, Severity};

pub(super) const RULE: Rule = Rule {
    id: "affinity-not-attached",
    severity: Severity::Warning,
    summary: "the affinity plugin is configured but no router uses it",
    check,
    fix: None,
    reach: None,
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (name, _, _) in cx.affinity_middlewares() {
        if cx.routers_using(name).next().is_some() {
            continue;
        }
        out.push(Diagnostic {
            rule: RULE.id,
            severity: RULE.severity,
            message: format!("middleware `{name}` (the affinity plugin) is on no router: Socket.IO sessions are not pinned; list it in the `middlewares` of the router that serves the Socket.IO path"),
            path: Path::keys(["http", "middlewares", name.as_str()]),
            fix: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::check;

    #[test]
    fn flags_a_plugin_no_router_uses() {
        let yaml = "http:\n  routers:\n    io: {rule: 'PathPrefix(`/socket.io/`)', service: chat}\n  middlewares:\n    affinity: {plugin: {gaqno-lb: {cookieName: c}}}\n  services:\n    chat: {loadBalancer: {sticky: {cookie: {name: c}}}}\n";
        assert!(check("affinity-not-attached", yaml).starts_with(
            "warning[affinity-not-attached] http.middlewares.affinity: middleware `affinity`"
        ));
        let attached = yaml.replace("service: chat}", "service: chat, middlewares: [affinity]}");
        assert_eq!(check("affinity-not-attached", &attached), "");
    }
}
