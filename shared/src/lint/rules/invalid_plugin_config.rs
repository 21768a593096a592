// Lint: invalid-plugin-config
//! An affinity plugin middleware whose config the plugin refuses (missing or invalid
//! `cookieName`, bad `socketIoPath`, unknown key). The plugin fails at load time: Traefik
//! disables the middleware and every router using it.

use crate::lint::{Context, Diagnostic, Path, Rule, Severity};
use crate::plugin_config::PluginConfig;

pub(super) const RULE: Rule = Rule {
    id: "invalid-plugin-config",
    severity: Severity::Error,
    summary: "an affinity plugin config the plugin refuses",
    check,
    fix: None,
    reach: None,
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (name, plugin, config) in cx.affinity_middlewares() {
        if let Err(e) = serde_json::from_value::<PluginConfig>(config.clone()) {
            out.push(Diagnostic {
                rule: RULE.id,
                severity: RULE.severity,
                message: format!("the affinity plugin refuses this config ({e}): Traefik disables the middleware and its routers"),
                path: Path::keys(["http", "middlewares", name.as_str(), "plugin", plugin.as_str()]),
                fix: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::check;

    #[test]
    fn flags_configs_the_plugin_refuses() {
        let found = check("invalid-plugin-config", "http:\n  middlewares:\n    a:\n      plugin: {gaqno-lb: {cookieName: 'a;b'}}\n    b:\n      plugin: {gaqno-lb: {cookieName: ok}}\n");
        assert!(found.starts_with("error[invalid-plugin-config] http.middlewares.a.plugin.gaqno-lb: the affinity plugin refuses this config (cookieName \"a;b\" contains ';'"), "{found}");
        assert_eq!(found.lines().count(), 1);
    }
}
