// Lint: coolify-reserved-name
//! A router, service or middleware named like one of Coolify's own. Coolify's
//! `coolify.yaml` and `default_redirect_503.yaml` sit in the same dynamic folder, and its
//! Docker-label routers are `http-<i>-<uuid>` / `https-<i>-<uuid>`: files load in
//! alphabetical order, the first definition of a name wins, and the other one is dropped.

use crate::lint::{Context, Diagnostic, Path, Rule, Severity};

pub(super) const RULE: Rule = Rule {
    id: "coolify-reserved-name",
    severity: Severity::Error,
    summary: "a name Coolify's own proxy configuration already uses",
    check,
    fix: None,
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

/// `http-0-<uuid>` / `https-0-<uuid>`: the names of Coolify's Docker-label routers and services.
fn is_label_name(name: &str) -> bool {
    let rest = name
        .strip_prefix("https-")
        .or_else(|| name.strip_prefix("http-"));
    rest.and_then(|r| r.split_once('-'))
        .is_some_and(|(i, uuid)| {
            !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()) && !uuid.is_empty()
        })
}

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
            let why = if reserved.contains(&name.as_str()) {
                "Coolify's own configuration already defines it"
            } else if is_label_name(name) {
                "Coolify names its Docker-label routers and services this way"
            } else {
                continue;
            };
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
                "error[coolify-reserved-name] http.routers.https-0-abc123",
                "error[coolify-reserved-name] http.services.noop",
                "error[coolify-reserved-name] http.middlewares.gzip"
            ]
        );
    }
}
