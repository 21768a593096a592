// Lint: coolify-reserved-name
//! A router, service or middleware named like one of Coolify's own files'. Coolify's
//! `coolify.yaml` and `default_redirect_503.yaml` sit in the same dynamic folder: files load
//! in alphabetical order, the first definition of a name wins, and the other one is dropped.
//! Names from Docker labels (`http-<i>-<uuid>`, `https-<i>-<uuid>`) do not clash: Traefik
//! keeps each provider's objects apart (`…@docker`, `…@swarm`, `…@file`).

use crate::lint::{Context, Diagnostic, Path, Rule, Severity};

pub(super) const RULE: Rule = Rule {
    id: "coolify-reserved-name",
    severity: Severity::Error,
    summary: "a name Coolify's own proxy configuration already uses",
    check,
    fix: None,
    reach: None,
};

/// Routers Coolify defines in its file provider folder.
pub(crate) const COOLIFY_ROUTERS: &[&str] = &[
    "catchall",
    "coolify-http",
    "coolify-https",
    "coolify-realtime-ws",
    "coolify-realtime-wss",
    "coolify-terminal-ws",
    "coolify-terminal-wss",
];
/// Services Coolify defines.
pub(crate) const COOLIFY_SERVICES: &[&str] =
    &["noop", "coolify", "coolify-realtime", "coolify-terminal"];
/// Middlewares Coolify defines.
pub(crate) const COOLIFY_MIDDLEWARES: &[&str] = &["redirect-regexp", "redirect-to-https", "gzip"];

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    if cx.options.source != crate::lint::Source::File {
        return; // in labels these names are the application's own
    }
    let kinds: [(&str, Vec<&String>, &[&str]); 3] = [
        (
            "routers",
            cx.routers().map(|(n, _)| n).collect(),
            COOLIFY_ROUTERS,
        ),
        (
            "services",
            cx.services().map(|(n, _)| n).collect(),
            COOLIFY_SERVICES,
        ),
        (
            "middlewares",
            cx.middlewares().map(|(n, _)| n).collect(),
            COOLIFY_MIDDLEWARES,
        ),
    ];
    for (kind, names, reserved) in kinds {
        for name in names {
            if !reserved.contains(&name.as_str()) {
                continue;
            }
            let why = "Coolify's own configuration already defines it";
            out.push(Diagnostic {
                rule: RULE.id,
                severity: RULE.severity,
                message: format!("`{name}`: {why}; only the first definition loads (Coolify's file sorts first): give this one its own name, e.g. `gaqno-{name}`"),
                path: Path::keys(["http", kind, name.as_str()]),
                fix: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::check;

    /// A label router's name lives under `@docker`: a file may use it.
    #[test]
    fn flags_coolify_names() {
        let found = check(
            "coolify-reserved-name",
            "http:\n  services:\n    noop: {}\n    gaqno-api: {}\n  routers:\n    https-0-abc123: {}\n    http-x: {}\n  middlewares:\n    gzip: {compress: {}}\n",
        );
        let paths: Vec<&str> = found
            .lines()
            .map(|l| l.split(':').next().unwrap_or_default())
            .collect();
        assert_eq!(
            paths,
            [
                "error[coolify-reserved-name] http.services.noop",
                "error[coolify-reserved-name] http.middlewares.gzip"
            ]
        );
    }
}
