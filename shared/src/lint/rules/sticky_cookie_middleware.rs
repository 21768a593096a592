// Lint: sticky-cookie-middleware
//! A middleware with a `stickyCookie` key. Traefik has no such middleware: stickiness is a
//! property of the service (`loadBalancer.sticky.cookie`). Traefik rejects the key with
//! `field not found` and the whole file provider fails: no file route loads, Coolify's
//! included. The fix moves the cookie to the services of the routers that used the
//! middleware, and deletes the middleware and the references to it.

use crate::lint::{Context, Diagnostic, Path, Rule, Severity};
use crate::traefik::{Cookie, DynamicConfig, Sticky};

pub(super) const RULE: Rule = Rule {
    id: "sticky-cookie-middleware",
    severity: Severity::Error,
    summary: "a `stickyCookie` middleware, which Traefik does not have",
    check,
    fix: Some(fix),
    reach: Some(reach),
};

pub(crate) fn is_sticky_key(key: &str) -> bool {
    key.eq_ignore_ascii_case("stickyCookie")
}

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (name, mw) in cx.middlewares() {
        for key in mw.extra.keys().filter(|k| is_sticky_key(k)) {
            out.push(Diagnostic {
                rule: RULE.id,
                severity: RULE.severity,
                message: format!(
                    "Traefik has no `{key}` middleware (\"field not found\"): {}; stickiness belongs on the service as loadBalancer.sticky.cookie",
                    cx.options.source.rejection()
                ),
                path: Path::keys(["http", "middlewares", name.as_str(), key.as_str()]),
                fix: Some(format!("move the cookie to the services behind `{name}` and delete the middleware")),
            });
        }
    }
}

fn fix(config: &mut DynamicConfig, d: &Diagnostic) -> bool {
    let (Some(name), Some(key)) = (d.path.key_at(2), d.path.key_at(3)) else {
        return false;
    };
    let Some(http) = config.http.as_mut() else {
        return false;
    };
    let Some(mw) = http.middlewares.get(name) else {
        return false;
    };
    let cookie: Cookie = mw
        .extra
        .get(key)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let mut services = Vec::new();
    for router in http.routers.values_mut() {
        let Some(list) = router.middlewares.as_mut() else {
            continue;
        };
        let before = list.len();
        list.retain(|m| crate::lint::local_name(m) != Some(name));
        if list.len() == before {
            // Not this router's middleware: its list stays as written, even an empty one.
            continue;
        }
        services.extend(router.service.clone());
        if list.is_empty() {
            router.middlewares = None;
        }
    }
    for service in services {
        let Some(local) = crate::lint::local_name(&service) else {
            continue;
        };
        if let Some(lb) = http
            .services
            .get_mut(local)
            .and_then(|s| s.load_balancer.as_mut())
        {
            if lb.sticky.is_none() {
                lb.sticky = Some(Sticky {
                    cookie: Some(cookie.clone()),
                    ..Default::default()
                });
            }
        }
    }
    http.middlewares.shift_remove(name);
    true
}

/// The middleware itself, the routers' lists it leaves and their services' sticky cookie.
fn reach(config: &DynamicConfig, d: &Diagnostic) -> Vec<Path> {
    let Some(name) = d.path.key_at(2) else {
        return Vec::new();
    };
    let mut reach = vec![Path::keys(["http", "middlewares", name])];
    let routers = config.http.iter().flat_map(|h| h.routers.iter());
    for (router_name, router) in routers {
        let uses = router
            .middlewares
            .iter()
            .flatten()
            .any(|m| crate::lint::local_name(m) == Some(name));
        if !uses {
            continue;
        }
        reach.push(Path::keys([
            "http",
            "routers",
            router_name.as_str(),
            "middlewares",
        ]));
        if let Some(service) = router.service.as_deref().and_then(crate::lint::local_name) {
            reach.push(Path::keys([
                "http",
                "services",
                service,
                "loadBalancer",
                "sticky",
            ]));
        }
    }
    reach
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::lint::test_support::{check, fix};

    const RUNBOOK: &str = "
http:
  middlewares:
    omni-sticky:
      stickyCookie: {name: omni_sticky, secure: true, httpOnly: true}
  routers:
    omni:
      rule: Host(`omnichannel.gaqno.com.br`)
      middlewares: [omni-sticky]
      service: omni
  services:
    omni:
      loadBalancer:
        servers: [{url: 'http://10.0.0.1:4008'}, {url: 'http://10.0.0.2:4008'}]
";

    #[test]
    fn flags_the_runbook_middleware() {
        expect![[r#"
            error[sticky-cookie-middleware] http.middlewares.omni-sticky.stickyCookie: Traefik has no `stickyCookie` middleware ("field not found"): the whole file is rejected and no file route loads; stickiness belongs on the service as loadBalancer.sticky.cookie
              fix: move the cookie to the services behind `omni-sticky` and delete the middleware
        "#]]
        .assert_eq(&check("sticky-cookie-middleware", RUNBOOK));
    }

    #[test]
    fn fix_moves_the_cookie_to_the_service() {
        expect![[r#"
            http:
              routers:
                omni:
                  rule: Host(`omnichannel.gaqno.com.br`)
                  service: omni
              services:
                omni:
                  loadBalancer:
                    servers:
                    - url: http://10.0.0.1:4008
                    - url: http://10.0.0.2:4008
                    sticky:
                      cookie:
                        name: omni_sticky
                        secure: true
                        httpOnly: true
        "#]]
        .assert_eq(&fix("sticky-cookie-middleware", RUNBOOK));
    }

    #[test]
    fn real_middlewares_pass() {
        assert_eq!(
            check(
                "sticky-cookie-middleware",
                "http:\n  middlewares:\n    gzip:\n      compress: {}\n"
            ),
            ""
        );
    }
}
