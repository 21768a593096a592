// Lint: undefined-reference
//! A router naming a service or middleware this file does not define. Another file of the
//! same folder may define it (Coolify's `redirect-to-https` and `gzip` are known and
//! skipped), so this is a warning; if nothing does, Traefik disables the router.

use crate::lint::{local_name, Context, Diagnostic, Path, Rule, Severity};

use super::coolify_reserved_name::{COOLIFY_MIDDLEWARES, COOLIFY_SERVICES};

pub(super) const RULE: Rule = Rule {
    id: "undefined-reference",
    severity: Severity::Warning,
    summary: "a router naming a service or middleware no file defines",
    check,
    fix: None,
    reach: None,
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let services: Vec<&String> = cx.services().map(|(n, _)| n).collect();
    let middlewares: Vec<&String> = cx.middlewares().map(|(n, _)| n).collect();
    let mut undefined = |path: Path, kind: &str, name: &str| {
        out.push(Diagnostic {
            rule: RULE.id,
            severity: RULE.severity,
            message: format!("{kind} `{name}` is not defined in this file: unless another file defines it, Traefik disables the router"),
            path,
            fix: None,
        })
    };
    for (router_name, router) in cx.routers() {
        let path = Path::keys(["http", "routers", router_name.as_str()]);
        if let Some(service) = router.service.as_deref() {
            if let Some(name) = local_name(service)
                .filter(|n| !services.iter().any(|s| s == n) && !COOLIFY_SERVICES.contains(n))
            {
                undefined(path.key("service"), "service", name);
            }
        }
        for (i, mw) in router.middlewares.iter().flatten().enumerate() {
            if let Some(name) = local_name(mw)
                .filter(|n| !middlewares.iter().any(|m| m == n) && !COOLIFY_MIDDLEWARES.contains(n))
            {
                undefined(path.key("middlewares").index(i), "middleware", name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::check;

    #[test]
    fn flags_what_no_file_defines() {
        let found = check(
            "undefined-reference",
            "http:\n  routers:\n    r: {rule: 'Host(`a`)', service: api, middlewares: [gzip, auth, x@docker]}\n    s: {rule: 'Host(`b`)', service: web@docker}\n",
        );
        expect_test::expect![[r#"
            warning[undefined-reference] http.routers.r.service: service `api` is not defined in this file: unless another file defines it, Traefik disables the router
            warning[undefined-reference] http.routers.r.middlewares[1]: middleware `auth` is not defined in this file: unless another file defines it, Traefik disables the router
        "#]]
        .assert_eq(&found);
    }
}
