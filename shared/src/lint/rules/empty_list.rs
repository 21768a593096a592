// Lint: empty-list
//! An empty list (`middlewares: []`). Coolify's Dynamic Configurations screen re-serialises
//! every file and writes an empty list back as `{  }`, a map. Traefik 3.6.15 and 3.7.15
//! read that map as an empty list (checked by the `lint_agrees` end-to-end test), so the
//! file still loads, but what is stored is no longer what was written, and an empty
//! `entryPoints` means "every entrypoint". gaqno-lb never writes one; the fix deletes it.

use crate::lint::path::walk;
use crate::lint::{edit_as_value, Context, Diagnostic, Path, Rule, Severity};
use crate::traefik::{DynamicConfig, Value};

pub(super) const RULE: Rule = Rule {
    id: "empty-list",
    severity: Severity::Warning,
    summary: "an empty list, which Coolify stores as an empty map",
    check,
    fix: Some(fix),
    reach: None,
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    walk(cx.as_value(), &mut Path::default(), &mut |path, value| {
        if matches!(value, Value::Array(list) if list.is_empty()) {
            out.push(Diagnostic {
                rule: RULE.id,
                severity: RULE.severity,
                message: "an empty list: Coolify stores it as `{  }`, an empty map; it means the same as no list (for entryPoints: every entrypoint), so delete it".into(),
                path: path.clone(),
                fix: Some("delete the empty list".into()),
            });
        }
    });
}

fn fix(config: &mut DynamicConfig, d: &Diagnostic) -> bool {
    edit_as_value(config, |root| d.path.remove(root))
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::{check, fix};

    const YAML: &str = "http:\n  routers:\n    r:\n      rule: Host(`a`)\n      service: s\n      middlewares: []\n";

    #[test]
    fn flags_and_fixes_empty_lists() {
        assert_eq!(
            check("empty-list", YAML),
            "warning[empty-list] http.routers.r.middlewares: an empty list: Coolify stores it as `{  }`, an empty map; it means the same as no list (for entryPoints: every entrypoint), so delete it\n  fix: delete the empty list\n"
        );
        assert_eq!(
            fix("empty-list", YAML),
            "http:\n  routers:\n    r:\n      rule: Host(`a`)\n      service: s\n"
        );
        assert_eq!(
            check(
                "empty-list",
                "http:\n  routers:\n    r: {middlewares: [a]}\n"
            ),
            ""
        );
    }
}
