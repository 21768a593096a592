// Lint: invalid-plugin-config
//! An affinity plugin middleware whose config the plugin refuses (missing or invalid
//! `cookieName`, bad `socketIoPath`, unknown key). The plugin fails at load time: Traefik
//! disables the middleware and every router using it. The finding points at the key the
//! plugin names. A `cookieName` left empty or missing is fixed: it gets the name of the
//! sticky cookie of the service behind the middleware's routers, or, when that cookie is
//! unnamed too, both get `gaqno_<service>` (as `sticky-cookie-unnamed`'s fix names them).

use crate::lint::{Context, Diagnostic, Path, Rule, Severity};
use crate::plugin_config::PluginConfig;
use crate::traefik::{Cookie, DynamicConfig};

use super::sticky_cookie_unnamed::{cookie_name_for, local};

pub(super) const RULE: Rule = Rule {
    id: "invalid-plugin-config",
    severity: Severity::Error,
    summary: "an affinity plugin config the plugin refuses",
    check,
    fix: Some(fix),
    reach: Some(reach),
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (name, plugin, config) in cx.affinity_middlewares() {
        let Err(e) = serde_json::from_value::<PluginConfig>(config.clone()) else {
            continue;
        };
        let e = e.to_string();
        let mut path = Path::keys([
            "http",
            "middlewares",
            name.as_str(),
            "plugin",
            plugin.as_str(),
        ]);
        if let Some(key) = ["cookieName", "socketIoPath"]
            .into_iter()
            .find(|k| e.starts_with(k) || e.contains(&format!(" {k} ")))
        {
            path = path.key(key);
        }
        let unnamed = config
            .get("cookieName")
            .is_none_or(|v| v.is_null() || v.as_str().is_some_and(str::is_empty));
        let fix = unnamed
            .then(|| behind(cx.config, name))
            .flatten()
            .map(|(service, cookie)| match cookie {
                Some(cookie) => format!("name it `{cookie}`, as the sticky cookie of `{service}`"),
                None => format!(
                    "name it `{}`, and the sticky cookie of `{service}` with it",
                    cookie_name_for(&service)
                ),
            });
        out.push(Diagnostic {
            rule: RULE.id,
            severity: RULE.severity,
            message: format!("the affinity plugin refuses this config ({e}): Traefik disables the middleware and its routers"),
            path,
            fix,
        });
    }
}

/// The service behind the routers that use middleware `middleware`, with its sticky
/// cookie's name (`None`: unnamed). `None` when no router with a sticky service uses it.
fn behind(config: &DynamicConfig, middleware: &str) -> Option<(String, Option<String>)> {
    let http = config.http.as_ref()?;
    let service = http
        .routers
        .values()
        .filter(|r| {
            r.middlewares
                .iter()
                .flatten()
                .any(|m| local(m) == middleware)
        })
        .find_map(|r| r.service.as_deref().map(local))?;
    let sticky = http
        .services
        .get(service)?
        .load_balancer
        .as_ref()?
        .sticky
        .as_ref()?;
    let name = sticky
        .cookie
        .as_ref()
        .and_then(|c| c.name.clone())
        .filter(|n| !n.is_empty());
    Some((service.to_owned(), name))
}

/// The sticky cookie the fix names too, when it was unnamed.
fn reach(config: &DynamicConfig, d: &Diagnostic) -> Vec<Path> {
    d.path
        .key_at(2)
        .and_then(|middleware| behind(config, middleware))
        .map(|(service, _)| {
            vec![Path::keys([
                "http",
                "services",
                service.as_str(),
                "loadBalancer",
                "sticky",
            ])]
        })
        .unwrap_or_default()
}

fn fix(config: &mut DynamicConfig, d: &Diagnostic) -> bool {
    let Some(middleware) = d.path.key_at(2).map(str::to_owned) else {
        return false;
    };
    let Some((service, cookie)) = behind(config, &middleware) else {
        return false;
    };
    let name = match cookie {
        Some(name) => name,
        None => {
            let name = cookie_name_for(&service);
            let sticky = config
                .http
                .as_mut()
                .and_then(|h| h.services.get_mut(&service))
                .and_then(|s| s.load_balancer.as_mut())
                .and_then(|lb| lb.sticky.as_mut());
            let Some(sticky) = sticky else {
                return false;
            };
            sticky.cookie.get_or_insert_with(Cookie::default).name = Some(name.clone());
            name
        }
    };
    let plugin = config
        .http
        .as_mut()
        .and_then(|h| h.middlewares.get_mut(&middleware))
        .and_then(|m| m.plugin.as_mut())
        .and_then(|p| p.values_mut().next())
        .and_then(|v| v.as_object_mut());
    match plugin {
        Some(object) => {
            object.insert("cookieName".into(), name.into());
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::{check, fix};

    #[test]
    fn flags_configs_the_plugin_refuses() {
        let found = check("invalid-plugin-config", "http:\n  middlewares:\n    a:\n      plugin: {gaqno-lb: {cookieName: 'a;b'}}\n    b:\n      plugin: {gaqno-lb: {cookieName: ok}}\n");
        assert!(found.starts_with("error[invalid-plugin-config] http.middlewares.a.plugin.gaqno-lb.cookieName: the affinity plugin refuses this config (cookieName \"a;b\" contains ';'"), "{found}");
        assert_eq!(
            found.lines().count(),
            1,
            "no fix for a name it cannot guess: {found}"
        );
    }

    /// Issue 31: the cookie name cleared gives an error at the plugin's cookieName, with
    /// the same fix the sticky cookie's warning offers.
    #[test]
    fn an_empty_cookie_name_is_named_after_the_sticky_cookie() {
        let yaml = "http:\n  routers:\n    r: {rule: Host(`a`), service: gaqno-api@file, middlewares: [aff@file]}\n  middlewares:\n    aff: {plugin: {gaqno-lb: {cookieName: ''}}}\n  services:\n    gaqno-api:\n      loadBalancer: {sticky: {cookie: {name: api_c}}, servers: [{url: 'http://a:1'}, {url: 'http://b:1'}]}\n";
        let found = check("invalid-plugin-config", yaml);
        assert!(
            found.starts_with(
                "error[invalid-plugin-config] http.middlewares.aff.plugin.gaqno-lb.cookieName:"
            ),
            "{found}"
        );
        assert!(
            found.contains("fix: name it `api_c`, as the sticky cookie of `gaqno-api`"),
            "{found}"
        );
        assert!(fix("invalid-plugin-config", yaml).contains("cookieName: api_c"));
        // Both unnamed: both get the service's name.
        let unnamed = yaml.replace("name: api_c", "name: ''");
        let fixed = fix("invalid-plugin-config", &unnamed);
        assert!(fixed.contains("cookieName: gaqno_api"), "{fixed}");
        assert!(fixed.contains("name: gaqno_api"), "{fixed}");
    }
}
