// Lint: unknown-key
//! A key Traefik does not know. Traefik's file provider rejects it with `field not found`,
//! and one rejected file takes every file route down. A key that differs from a known one
//! only in case is read by Traefik (it matches keys case-insensitively) but not by
//! gaqno-lb: a warning, fixed by renaming it.

use crate::lint::{edit_as_value, Context, Diagnostic, Path, Rule, Severity};
use crate::traefik::{DynamicConfig, Extra, Middleware, Modelled, Value};

pub(super) const RULE: Rule = Rule {
    id: "unknown-key",
    severity: Severity::Error,
    summary: "a key Traefik rejects (\"field not found\") or reads under another spelling",
    check,
    fix: Some(fix),
    reach: Some(reach),
};

/// Keys Traefik knows that gaqno-lb keeps verbatim, per kind of object.
const ROOT_KNOWN: &[&str] = &["tcp", "udp", "tls"];
const HTTP_KNOWN: &[&str] = &["serversTransports", "models"];
const SERVICE_KNOWN: &[&str] = &["mirroring", "failover", "highestRandomWeight"];

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let mut report = |path: Path, extra: &Extra, modelled: &[&str], known: &[&str]| {
        for key in extra.keys() {
            if known.contains(&key.as_str()) || super::sticky_cookie_middleware::is_sticky_key(key)
            {
                continue;
            }
            let spelled = modelled
                .iter()
                .chain(known)
                .find(|k| k.eq_ignore_ascii_case(key));
            out.push(match spelled {
                Some(right) => Diagnostic {
                    rule: RULE.id,
                    severity: Severity::Warning,
                    message: format!("Traefik reads `{key}` as `{right}` (keys match case-insensitively), gaqno-lb does not: write `{right}`"),
                    path: path.key(key.as_str()),
                    fix: Some(format!("rename to `{right}`")),
                },
                None => Diagnostic {
                    rule: RULE.id,
                    severity: Severity::Error,
                    message: format!("Traefik does not know `{key}` here (\"field not found\"): {}", cx.options.source.rejection()),
                    path: path.key(key.as_str()),
                    fix: None,
                },
            });
        }
    };
    fn keys<T: Modelled>(_: &T) -> &'static [&'static str] {
        T::KEYS
    }
    let config = cx.config;
    report(Path::default(), &config.extra, keys(config), ROOT_KNOWN);
    let Some(http) = &config.http else { return };
    let root = Path::keys(["http"]);
    report(root.clone(), &http.extra, keys(http), HTTP_KNOWN);
    for (name, router) in &http.routers {
        let path = root.key("routers").key(name.as_str());
        report(path.clone(), &router.extra, keys(router), &[]);
        if let Some(tls) = &router.tls {
            report(path.key("tls"), &tls.extra, keys(tls), &[]);
            for (i, domain) in tls.domains.iter().flatten().enumerate() {
                report(
                    path.key("tls").key("domains").index(i),
                    &domain.extra,
                    keys(domain),
                    &[],
                );
            }
        }
        if let Some(o) = &router.observability {
            report(path.key("observability"), &o.extra, keys(o), &[]);
        }
    }
    for (name, service) in &http.services {
        let path = root.key("services").key(name.as_str());
        report(path.clone(), &service.extra, keys(service), SERVICE_KNOWN);
        if let Some(lb) = &service.load_balancer {
            let lb_path = path.key("loadBalancer");
            report(lb_path.clone(), &lb.extra, keys(lb), &[]);
            for (i, server) in lb.servers.iter().flatten().enumerate() {
                report(
                    lb_path.key("servers").index(i),
                    &server.extra,
                    keys(server),
                    &[],
                );
            }
            if let Some(sticky) = &lb.sticky {
                report(lb_path.key("sticky"), &sticky.extra, keys(sticky), &[]);
                if let Some(cookie) = &sticky.cookie {
                    report(
                        lb_path.key("sticky").key("cookie"),
                        &cookie.extra,
                        keys(cookie),
                        &[],
                    );
                }
            }
            if let Some(hc) = &lb.health_check {
                report(lb_path.key("healthCheck"), &hc.extra, keys(hc), &[]);
            }
            if let Some(p) = &lb.passive_health_check {
                report(lb_path.key("passiveHealthCheck"), &p.extra, keys(p), &[]);
            }
            if let Some(r) = &lb.response_forwarding {
                report(lb_path.key("responseForwarding"), &r.extra, keys(r), &[]);
            }
        }
        if let Some(w) = &service.weighted {
            report(path.key("weighted"), &w.extra, keys(w), &[]);
            for (i, ws) in w.services.iter().flatten().enumerate() {
                report(
                    path.key("weighted").key("services").index(i),
                    &ws.extra,
                    keys(ws),
                    &[],
                );
            }
        }
    }
    for (name, mw) in &http.middlewares {
        let path = root.key("middlewares").key(name.as_str());
        report(
            path.clone(),
            &mw.extra,
            keys(mw),
            Middleware::KNOWN_UNMODELLED,
        );
        if let Some(r) = &mw.redirect_scheme {
            report(path.key("redirectScheme"), &r.extra, keys(r), &[]);
        }
        if let Some(s) = &mw.strip_prefix {
            report(path.key("stripPrefix"), &s.extra, keys(s), &[]);
        }
        if let Some(c) = &mw.compress {
            report(path.key("compress"), &c.extra, keys(c), &[]);
        }
        if let Some(h) = &mw.headers {
            report(path.key("headers"), &h.extra, keys(h), &[]);
        }
    }
}

fn fix(config: &mut DynamicConfig, d: &Diagnostic) -> bool {
    let Some(right) = d
        .fix
        .as_deref()
        .and_then(|f| f.strip_prefix("rename to `"))
        .and_then(|f| f.strip_suffix('`'))
    else {
        return false;
    };
    let right = right.to_owned();
    edit_as_value(config, |root| {
        let Some((parent, crate::lint::Segment::Key(key))) = d.path.split_last() else {
            return false;
        };
        let Some(Value::Object(map)) = parent.get_mut(root) else {
            return false;
        };
        let Some(value) = map.shift_remove(key.as_str()) else {
            return false;
        };
        map.insert(right, value);
        true
    })
}

/// The renamed key: "rename to `right`" names it beside the wrong one.
fn reach(_: &DynamicConfig, d: &Diagnostic) -> Vec<Path> {
    let right = d
        .fix
        .as_deref()
        .and_then(|f| f.strip_prefix("rename to `"))
        .and_then(|f| f.split('`').next());
    match (d.path.split_last(), right) {
        (Some((parent, _)), Some(right)) => vec![parent.key(right)],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::lint::test_support::{check, fix};

    #[test]
    fn flags_unknown_keys_at_every_level() {
        let yaml = "
tcp: {}
htp: {}
http:
  serversTransports: {}
  routerz: {}
  routers:
    r: {rule: 'Host(`a`)', service: s, entrypoint: [https], tls: {certresolver: le, cert: x}}
  services:
    s:
      LoadBalancer: {servers: [{url: 'http://a:1'}]}
      loadBalancer:
        servers: [{url: 'http://a:1', weigth: 2}]
        sticky: {cookie: {name: c, samesite: lax}}
        healthCheck: {path: /h, intervall: 10s}
    m:
      mirroring: {service: s}
  middlewares:
    h:
      headers: {customRequestHeaders: {X-A: b}, frameDenny: true}
    b:
      basicAuth: {users: ['a:b']}
    x:
      rewriteBody: {}
";
        expect![[r#"
            error[unknown-key] htp: Traefik does not know `htp` here ("field not found"): the whole file is rejected and no file route loads
            error[unknown-key] http.routerz: Traefik does not know `routerz` here ("field not found"): the whole file is rejected and no file route loads
            error[unknown-key] http.routers.r.entrypoint: Traefik does not know `entrypoint` here ("field not found"): the whole file is rejected and no file route loads
            warning[unknown-key] http.routers.r.tls.certresolver: Traefik reads `certresolver` as `certResolver` (keys match case-insensitively), gaqno-lb does not: write `certResolver`
              fix: rename to `certResolver`
            error[unknown-key] http.routers.r.tls.cert: Traefik does not know `cert` here ("field not found"): the whole file is rejected and no file route loads
            warning[unknown-key] http.services.s.LoadBalancer: Traefik reads `LoadBalancer` as `loadBalancer` (keys match case-insensitively), gaqno-lb does not: write `loadBalancer`
              fix: rename to `loadBalancer`
            error[unknown-key] http.services.s.loadBalancer.servers[0].weigth: Traefik does not know `weigth` here ("field not found"): the whole file is rejected and no file route loads
            warning[unknown-key] http.services.s.loadBalancer.sticky.cookie.samesite: Traefik reads `samesite` as `sameSite` (keys match case-insensitively), gaqno-lb does not: write `sameSite`
              fix: rename to `sameSite`
            error[unknown-key] http.services.s.loadBalancer.healthCheck.intervall: Traefik does not know `intervall` here ("field not found"): the whole file is rejected and no file route loads
            error[unknown-key] http.middlewares.h.headers.frameDenny: Traefik does not know `frameDenny` here ("field not found"): the whole file is rejected and no file route loads
            error[unknown-key] http.middlewares.x.rewriteBody: Traefik does not know `rewriteBody` here ("field not found"): the whole file is rejected and no file route loads
        "#]]
        .assert_eq(&check("unknown-key", yaml));
    }

    #[test]
    fn fix_renames_case_variants() {
        let fixed = fix(
            "unknown-key",
            "http:\n  routers:\n    r:\n      Rule: Host(`a`)\n      service: s\n",
        );
        assert_eq!(
            fixed,
            "http:\n  routers:\n    r:\n      rule: Host(`a`)\n      service: s\n"
        );
    }
}
