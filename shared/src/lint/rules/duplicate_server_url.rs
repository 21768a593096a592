// Lint: duplicate-server-url
//! The same server `url` twice in one load balancer. Both entries get the same sticky
//! cookie value, so the second can never be chosen by cookie, and it doubles that
//! replica's share of new sessions. The fix deletes the later entry.

use crate::lint::{load_balancer_mut, Context, Diagnostic, Path, Rule, Severity};
use crate::traefik::DynamicConfig;

pub(super) const RULE: Rule = Rule {
    id: "duplicate-server-url",
    severity: Severity::Error,
    summary: "the same server url twice in a load balancer",
    check,
    fix: Some(fix),
    reach: None,
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (name, lb) in cx.load_balancers() {
        let servers = lb.servers.as_deref().unwrap_or_default();
        for (i, server) in servers.iter().enumerate() {
            let Some(url) = server.url.as_deref().filter(|u| !u.is_empty()) else {
                continue;
            };
            let Some(first) = servers
                .iter()
                .position(|s| s.url.as_deref() == Some(url))
                .filter(|&f| f < i)
            else {
                continue;
            };
            out.push(Diagnostic {
                rule: RULE.id,
                severity: RULE.severity,
                message: format!("`{url}` is already servers[{first}]: both get the same sticky cookie value and that replica gets twice the new sessions"),
                path: Path::keys(["http", "services", name.as_str(), "loadBalancer", "servers"]).index(i),
                fix: Some("delete this entry".into()),
            });
        }
    }
}

fn fix(config: &mut DynamicConfig, d: &Diagnostic) -> bool {
    let Some(&crate::lint::Segment::Index(i)) = d.path.0.get(5) else {
        return false;
    };
    match load_balancer_mut(config, d).and_then(|lb| lb.servers.as_mut()) {
        Some(servers) if i < servers.len() => {
            servers.remove(i);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::{check, fix};

    #[test]
    fn flags_and_removes_duplicates() {
        let yaml = "http:\n  services:\n    s:\n      loadBalancer:\n        servers: [{url: 'http://a:1'}, {url: 'http://b:1'}, {url: 'http://a:1'}]\n";
        assert!(check("duplicate-server-url", yaml).starts_with("error[duplicate-server-url] http.services.s.loadBalancer.servers[2]: `http://a:1` is already servers[0]"));
        assert_eq!(fix("duplicate-server-url", yaml).matches("url:").count(), 2);
    }
}
