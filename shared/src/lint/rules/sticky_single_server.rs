// Lint: sticky-single-server
//! A sticky cookie over fewer than two servers does nothing. Often the one `url` is itself
//! a load balancer (a Swarm service name, a Kubernetes Service): then Traefik's cookie
//! picks that single URL and the replicas behind it still get requests at random. Each
//! replica must be its own `servers` entry.

use crate::lint::{Context, Diagnostic, Path, Rule, Severity};

pub(super) const RULE: Rule = Rule {
    id: "sticky-single-server",
    severity: Severity::Warning,
    summary: "a sticky cookie over one server, which pins nothing",
    check,
    fix: None,
    reach: None,
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    if cx.options.source == crate::lint::Source::DockerLabels {
        return; // the servers are the containers Traefik discovers, not listed
    }
    for (name, lb) in cx.load_balancers() {
        let count = lb.servers.as_ref().map_or(0, Vec::len);
        if lb.sticky.is_none() || count >= 2 {
            continue;
        }
        out.push(Diagnostic {
            rule: RULE.id,
            severity: RULE.severity,
            message: format!("a sticky cookie over {count} server(s) pins nothing: list every replica as its own server (a URL that is itself a load balancer hides the replicas from Traefik)"),
            path: Path::keys(["http", "services", name.as_str(), "loadBalancer", "sticky"]),
            fix: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::check;

    #[test]
    fn needs_two_servers() {
        let one = "http:\n  services:\n    s: {loadBalancer: {sticky: {cookie: {name: c}}, servers: [{url: 'http://swarm-svc:80'}]}}\n";
        assert!(check("sticky-single-server", one).starts_with("warning[sticky-single-server] http.services.s.loadBalancer.sticky: a sticky cookie over 1 server(s)"));
        let two = one.replace(
            "[{url: 'http://swarm-svc:80'}]",
            "[{url: 'http://a:80'}, {url: 'http://b:80'}]",
        );
        assert_eq!(check("sticky-single-server", &two), "");
    }
}
