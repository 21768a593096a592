// Lint: go-template
//! `{{` in a value. Traefik renders every file of the file provider as a Go template before
//! parsing it: `{{` starts a template action, which breaks the file or silently changes the
//! value.

use crate::lint::path::walk;
use crate::lint::{Context, Diagnostic, Path, Rule, Severity};
use crate::traefik::Value;

pub(super) const RULE: Rule = Rule {
    id: "go-template",
    severity: Severity::Error,
    summary: "`{{` in a value, which Traefik's Go-template pass interprets",
    check,
    fix: None,
    reach: None,
};

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    walk(cx.as_value(), &mut Path::default(), &mut |path, value| {
        if matches!(value, Value::String(s) if s.contains("{{")) {
            out.push(Diagnostic {
                rule: RULE.id,
                severity: RULE.severity,
                message: "`{{` starts a Go template action: Traefik renders the file as a template before reading it, which breaks or changes this value".into(),
                path: path.clone(),
                fix: None,
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::check;

    #[test]
    fn flags_braces_anywhere() {
        let found = check("go-template", "http:\n  middlewares:\n    h:\n      headers:\n        customRequestHeaders: {X-T: '{{ .Env }}'}\n");
        assert!(
            found.starts_with(
                "error[go-template] http.middlewares.h.headers.customRequestHeaders.X-T:"
            ),
            "{found}"
        );
        assert_eq!(
            check(
                "go-template",
                "http:\n  routers:\n    r: {rule: 'Path(`/{id}`)'}\n"
            ),
            ""
        );
    }
}
