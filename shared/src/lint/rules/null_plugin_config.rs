// Lint: null-plugin-config
//! A plugin middleware whose config is `null` (`plugin: {gaqno-lb: }`). Traefik's file
//! provider refuses it ("plugin cannot be a standalone element") and the whole file
//! provider fails with it: no file route loads. The fix writes an empty config, which the
//! plugin then reports on by itself.

use crate::lint::{edit_as_value, Context, Diagnostic, Path, Rule, Severity};
use crate::traefik::{DynamicConfig, Value};

pub(super) const RULE: Rule = Rule {
    id: "null-plugin-config",
    severity: Severity::Error,
    summary: "a plugin middleware with a null config, which fails the whole file",
    check,
    fix: Some(fix),
    reach: None,
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    for (name, mw) in cx.middlewares() {
        for (plugin, config) in mw.plugin.iter().flatten() {
            if config.is_null() {
                out.push(Diagnostic {
                    rule: RULE.id,
                    severity: RULE.severity,
                    message: format!("plugin `{plugin}` has no config (null): Traefik rejects the whole file (\"plugin cannot be a standalone element\") and no file route loads"),
                    path: Path::keys(["http", "middlewares", name.as_str(), "plugin", plugin.as_str()]),
                    fix: Some("write an empty config `{}`".into()),
                });
            }
        }
    }
}

fn fix(config: &mut DynamicConfig, d: &Diagnostic) -> bool {
    edit_as_value(config, |root| match d.path.get_mut(root) {
        Some(value) if value.is_null() => {
            *value = Value::Object(Default::default());
            true
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::{check, fix};

    #[test]
    fn flags_and_fixes_null_configs() {
        let yaml = "http:\n  middlewares:\n    m:\n      plugin:\n        gaqno-lb:\n";
        assert!(check("null-plugin-config", yaml).starts_with("error[null-plugin-config] http.middlewares.m.plugin.gaqno-lb: plugin `gaqno-lb` has no config (null)"));
        assert!(fix("null-plugin-config", yaml).contains("gaqno-lb: {}"));
        assert_eq!(
            check(
                "null-plugin-config",
                "http:\n  middlewares:\n    m:\n      plugin:\n        gaqno-lb: {}\n"
            ),
            ""
        );
    }
}
