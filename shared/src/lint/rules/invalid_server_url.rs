// Lint: invalid-server-url
//! A server `url` Traefik cannot forward to: not a URL, not http/https/h2c, or without a
//! host (an error); empty (a warning: such a server never answers, which is what Coolify's
//! own redirect-only `noop` service wants, but rarely what a replica should be). A
//! `<PLACEHOLDER>` copied from a runbook is named as one, not as a bad host name.

use crate::lint::{Context, Diagnostic, Path, Rule, Severity};

pub(super) const RULE: Rule = Rule {
    id: "invalid-server-url",
    severity: Severity::Error,
    summary: "a server url that is not an http(s) URL with a host",
    check,
    fix: None,
    reach: None,
};

/// A `<PLACEHOLDER>` in a URL (the runbook writes `http://<CONTAINER_OU_IP_1>:4008`), if any.
pub(crate) fn placeholder(text: &str) -> Option<&str> {
    let start = text.find('<')?;
    let end = start + text[start..].find('>')?;
    Some(&text[start..=end])
}

/// Why `text` is not a server URL Traefik can use, if it is not.
pub(crate) fn problem(text: &str) -> Option<String> {
    if let Some(placeholder) = placeholder(text) {
        return Some(format!(
            "`{text}`: `{placeholder}` is a placeholder to replace with the replica's address"
        ));
    }
    match url::Url::parse(text) {
        // The url crate is built without IDNA tables (idna_adapter 1.0, see shared/Cargo.toml):
        // they were a tenth of the web app. Replica hosts are container names and IPs.
        Err(_) if !text.is_ascii() => Some(format!(
            "`{text}` has non-ASCII characters: write an international host name in punycode (`xn--...`)"
        )),
        Err(e) => Some(format!("`{text}` is not a URL ({e})")),
        Ok(u) if !matches!(u.scheme(), "http" | "https" | "h2c") => Some(format!(
            "`{text}`: scheme `{}` is not http, https or h2c",
            u.scheme()
        )),
        Ok(u) if u.host_str().is_none_or(str::is_empty) => Some(format!("`{text}` has no host")),
        Ok(_) => None,
    }
}

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (name, lb) in cx.load_balancers() {
        for (i, server) in lb.servers.iter().flatten().enumerate() {
            let path = Path::keys(["http", "services", name.as_str(), "loadBalancer", "servers"])
                .index(i)
                .key("url");
            let url = server.url.as_deref().unwrap_or_default();
            let (severity, message) = if url.is_empty() {
                (Severity::Warning, "a server without a url never answers: fine for a redirect-only service, wrong for a replica".to_owned())
            } else if let Some(problem) = problem(url) {
                (
                    Severity::Error,
                    format!("{problem}: Traefik cannot forward to it"),
                )
            } else {
                continue;
            };
            out.push(Diagnostic {
                rule: RULE.id,
                severity,
                message,
                path,
                fix: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::check;

    #[test]
    fn flags_unusable_urls() {
        let yaml = "http:\n  services:\n    s:\n      loadBalancer:\n        servers: [{url: 'http://ok:1'}, {url: '10.0.0.1:4008'}, {url: 'ftp://x'}, {url: ''}, {url: 'http:///p'}, {url: 'http://bücher.example:80'}, {url: 'http://xn--bcher-kva.example:80/ü'}]\n";
        expect_test::expect![[r#"
            error[invalid-server-url] http.services.s.loadBalancer.servers[1].url: `10.0.0.1:4008` is not a URL (relative URL without a base): Traefik cannot forward to it
            error[invalid-server-url] http.services.s.loadBalancer.servers[2].url: `ftp://x`: scheme `ftp` is not http, https or h2c: Traefik cannot forward to it
            warning[invalid-server-url] http.services.s.loadBalancer.servers[3].url: a server without a url never answers: fine for a redirect-only service, wrong for a replica
            error[invalid-server-url] http.services.s.loadBalancer.servers[5].url: `http://bücher.example:80` has non-ASCII characters: write an international host name in punycode (`xn--...`): Traefik cannot forward to it
        "#]]
        .assert_eq(&check("invalid-server-url", yaml));
    }

    #[test]
    fn names_a_runbook_placeholder_as_one() {
        let yaml = "http:\n  services:\n    s:\n      loadBalancer:\n        servers: [{url: 'http://<CONTAINER_OU_IP_1>:4008'}]\n";
        assert_eq!(
            check("invalid-server-url", yaml),
            "error[invalid-server-url] http.services.s.loadBalancer.servers[0].url: `http://<CONTAINER_OU_IP_1>:4008`: `<CONTAINER_OU_IP_1>` is a placeholder to replace with the replica's address: Traefik cannot forward to it\n"
        );
    }
}
