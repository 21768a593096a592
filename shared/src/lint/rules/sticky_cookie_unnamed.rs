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
    reach: Some(reach),
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
            fix: Some(fix_text(cx.config, name)),
        });
    }
}

/// "name it `gaqno_x`", saying so when the plugin's `cookieName` is named too.
fn fix_text(config: &DynamicConfig, service: &str) -> String {
    let name = cookie_name_for(service);
    match unnamed_affinity(config, service).is_empty() {
        true => format!("name it `{name}`"),
        false => format!("name it `{name}`, and the affinity plugin's cookieName with it"),
    }
}

/// The plugin middlewares the fix names the cookie in: `http.middlewares.<name>`.
fn reach(config: &DynamicConfig, d: &Diagnostic) -> Vec<Path> {
    d.path
        .key_at(2)
        .map(|service| unnamed_affinity(config, service))
        .unwrap_or_default()
        .into_iter()
        .map(|m| Path::keys(["http", "middlewares", m.as_str()]))
        .collect()
}

/// The middlewares on `service`'s routers with a plugin whose `cookieName` is missing or
/// empty: they name the unnamed cookie.
fn unnamed_affinity(config: &DynamicConfig, service: &str) -> Vec<String> {
    let Some(http) = config.http.as_ref() else {
        return Vec::new();
    };
    let used: Vec<&str> = http
        .routers
        .values()
        .filter(|r| r.service.as_deref().map(local) == Some(service))
        .flat_map(|r| r.middlewares.iter().flatten())
        .map(|m| local(m))
        .collect();
    http.middlewares
        .iter()
        .filter(|(name, _)| used.contains(&name.as_str()))
        .filter(|(_, middleware)| {
            middleware
                .plugin
                .iter()
                .flat_map(|p| p.values())
                .filter_map(|v| v.as_object())
                .any(|o| {
                    o.get("cookieName")
                        .is_none_or(|v| v.as_str().is_some_and(str::is_empty) || v.is_null())
                })
        })
        .map(|(name, _)| name.clone())
        .collect()
}

fn fix(config: &mut DynamicConfig, d: &Diagnostic) -> bool {
    let Some(service) = d.path.key_at(2).map(str::to_owned) else {
        return false;
    };
    let Some(sticky) = load_balancer_mut(config, d).and_then(|lb| lb.sticky.as_mut()) else {
        return false;
    };
    let cookie = sticky.cookie.get_or_insert_with(Cookie::default);
    let name = cookie_name_for(&service);
    cookie.name = Some(name.clone());
    name_unnamed_affinity(config, &service, &name);
    true
}

/// Gives the affinity plugin on `service`'s routers the cookie's new name where it had none
/// (it was the unnamed cookie's): without a `cookieName` the plugin is not valid, and the
/// service would lose its affinity with the fix.
fn name_unnamed_affinity(config: &mut DynamicConfig, service: &str, name: &str) {
    let Some(http) = config.http.as_mut() else {
        return;
    };
    let used: Vec<String> = http
        .routers
        .values()
        .filter(|r| r.service.as_deref().map(local) == Some(service))
        .flat_map(|r| r.middlewares.iter().flatten())
        .map(|m| local(m).to_owned())
        .collect();
    for (middleware_name, middleware) in http.middlewares.iter_mut() {
        if !used.contains(middleware_name) {
            continue;
        }
        for value in middleware.plugin.iter_mut().flat_map(|p| p.values_mut()) {
            let Some(object) = value.as_object_mut() else {
                continue;
            };
            let unnamed = object
                .get("cookieName")
                .is_none_or(|v| v.as_str().is_some_and(str::is_empty) || v.is_null());
            if unnamed {
                object.insert("cookieName".into(), name.into());
            }
        }
    }
}

/// A name without its provider (`gaqno-omni@file` → `gaqno-omni`).
pub(super) fn local(name: &str) -> &str {
    name.split('@').next().unwrap_or(name)
}

/// The name `gaqno-lb export` gives the cookie of Traefik service `service`: from the
/// project's service name, so an exported `gaqno-<s>` is not prefixed twice.
pub(super) fn cookie_name_for(service: &str) -> String {
    let project_name = service
        .strip_prefix(crate::export::NAME_PREFIX)
        .unwrap_or(service);
    crate::model::default_cookie_name(project_name)
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
        let exported = yaml.replace("    api:", "    gaqno-api:");
        assert!(
            fix("sticky-cookie-unnamed", &exported).contains("name: gaqno_api\n"),
            "an exported service's prefix is not doubled"
        );
        let with_plugin = "http:\n  routers:\n    gaqno-api-socketio: {rule: Host(`a`), service: gaqno-api, middlewares: [gaqno-api-affinity@file]}\n  middlewares:\n    gaqno-api-affinity: {plugin: {gaqno-lb: {cookieName: ''}}}\n    other: {plugin: {x: {cookieName: ''}}}\n  services:\n    gaqno-api:\n      loadBalancer: {sticky: {cookie: {name: ''}}}\n";
        let fixed = fix("sticky-cookie-unnamed", with_plugin);
        assert_eq!(
            fixed.matches("cookieName: gaqno_api").count(),
            1,
            "the affinity on the service's router is named too, nothing else: {fixed}"
        );
        assert_eq!(
            check(
                "sticky-cookie-unnamed",
                &yaml.replace("secure: true", "name: x")
            ),
            ""
        );
    }
}
