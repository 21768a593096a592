// Lint: empty-list
//! An empty list (`middlewares: []`). Coolify's Dynamic Configurations screen re-serialises
//! every file and writes an empty list back as `{  }`, a map, which Traefik then rejects,
//! taking the whole file provider down. The fix deletes the key.

use crate::lint::path::walk;
use crate::lint::{edit_as_value, Context, Diagnostic, Path, Rule, Severity};
use crate::traefik::{DynamicConfig, Value};

pub(super) const RULE: Rule = Rule {
    id: "empty-list",
    severity: Severity::Error,
    summary: "an empty list, which Coolify rewrites into a map Traefik rejects",
    check,
    fix: Some(fix),
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    walk(&cx.as_value(), &mut Path::default(), &mut |path, value| {
        if matches!(value, Value::Array(list) if list.is_empty()) {
            out.push(Diagnostic {
                rule: RULE.id,
                severity: RULE.severity,
                message: "an empty list: Coolify saves it as `{  }`, which Traefik rejects along with the whole file".into(),
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
            "error[empty-list] http.routers.r.middlewares: an empty list: Coolify saves it as `{  }`, which Traefik rejects along with the whole file\n  fix: delete the empty list\n"
        );
        assert_eq!(fix("empty-list", YAML), "http:\n  routers:\n    r:\n      rule: Host(`a`)\n      service: s\n");
        assert_eq!(check("empty-list", "http:\n  routers:\n    r: {middlewares: [a]}\n"), "");
    }
}
