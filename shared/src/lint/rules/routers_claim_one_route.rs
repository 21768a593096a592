// Lint: routers-claim-one-route
//! Two routers that claim the same host and path on the same entry point: a service copied
//! with its hosts, or a file pasted twice under other names. Traefik sends each request to
//! one router only — the one with the higher priority, and on a tie (the default priority
//! is the rule's length, so two copies always tie) whichever it sorted first when it built
//! its routes, which the file does not decide and a later build may change (measured on
//! real Traefik: `b`, then `a` a second later as the file provider loaded again) — and the
//! other router's service gets nothing meanwhile. A claim is a rule of gaqno-lb's shape
//! (hosts, an optional path prefix) sharing a host and the path, or any rule written the
//! same.

use crate::lint::{Context, Diagnostic, Path, Rule, Severity};
use crate::rule::RouteMatch;
use crate::traefik::Router;

pub(super) const RULE: Rule = Rule {
    id: "routers-claim-one-route",
    severity: Severity::Error,
    summary: "two routers claim the same host and path on one entry point",
    check,
    fix: None,
    reach: None,
};

/// What one router claims.
struct Claim<'a> {
    name: &'a str,
    rule: &'a str,
    parsed: Option<RouteMatch>,
    /// `None`: every entry point (Traefik's default when a router names none).
    entry_points: Option<&'a [String]>,
    service: Option<&'a str>,
    priority: i64,
}

impl<'a> Claim<'a> {
    fn of(name: &'a str, router: &'a Router) -> Option<Claim<'a>> {
        let rule = router.rule.as_deref().filter(|r| !r.trim().is_empty())?;
        Some(Claim {
            name,
            rule,
            parsed: crate::rule::parse(rule),
            entry_points: router.entry_points.as_deref().filter(|e| !e.is_empty()),
            service: router.service.as_deref(),
            // Traefik's default priority: the rule's length.
            priority: router.priority.unwrap_or(rule.len() as i64),
        })
    }

    /// Where `self` and `other` claim the same requests, in words.
    fn overlap(&self, other: &Claim) -> Option<String> {
        let entry_point = match (self.entry_points, other.entry_points) {
            (Some(a), Some(b)) => Some(a.iter().find(|e| b.contains(e))?.as_str()),
            (Some(a), None) | (None, Some(a)) => a.first().map(String::as_str),
            (None, None) => None,
        };
        let on = entry_point.map_or("every entry point".to_owned(), |e| {
            format!("entry point `{e}`")
        });
        if self.rule == other.rule {
            return Some(format!("the same rule on {on}"));
        }
        let (a, b) = (self.parsed.as_ref()?, other.parsed.as_ref()?);
        let path = |m: &RouteMatch| m.path_prefix.clone().unwrap_or_else(|| "/".into());
        if path(a) != path(b) {
            return None;
        }
        let host = a.hosts.iter().find(|h| b.hosts.contains(h))?;
        Some(format!("host `{host}`, path `{}`, on {on}", path(a)))
    }
}

fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let claims: Vec<Claim> = cx
        .routers()
        .filter_map(|(name, router)| Claim::of(name, router))
        .collect();
    // Each clash, by the pair of services behind it: a copied service repeats every one of
    // its routers (HTTPS, Socket.IO, WebSocket, the HTTP redirect), said once.
    let mut clashes: Vec<(&Claim, &Claim, String, usize)> = Vec::new();
    for (i, later) in claims.iter().enumerate() {
        let Some((first, overlap)) = claims[..i]
            .iter()
            .find_map(|first| Some((first, first.overlap(later)?)))
        else {
            continue;
        };
        match clashes
            .iter_mut()
            .find(|(f, l, _, _)| (f.service, l.service) == (first.service, later.service))
        {
            Some((_, _, _, more)) => *more += 1,
            None => clashes.push((first, later, overlap, 0)),
        }
    }
    for (first, later, overlap, more) in clashes {
        let who_wins = if first.priority == later.priority {
            format!(
                "at the same priority ({}) Traefik sends those requests to one of them, whichever it sorted first when it last built its routes (the next build may pick the other), and the other's service gets none",
                later.priority
            )
        } else {
            let (winner, loser) = if first.priority > later.priority {
                (first, later)
            } else {
                (later, first)
            };
            format!(
                "Traefik sends those requests to `{}` (priority {} against {}), so `{}` gets none",
                winner.name, winner.priority, loser.priority, loser.name
            )
        };
        let likewise = match more {
            0 => String::new(),
            n => format!(" ({n} more of their routers clash the same way)"),
        };
        out.push(Diagnostic {
            rule: RULE.id,
            severity: RULE.severity,
            message: format!(
                "`{}` claims what `{}` claims ({overlap}): {who_wins}{likewise}; give one of them another host or path, or remove it",
                later.name, first.name
            ),
            path: Path::keys(["http", "routers", later.name, "rule"]),
            fix: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::check;

    const ID: &str = "routers-claim-one-route";

    #[test]
    fn a_copied_router_is_named_with_the_one_it_copies() {
        let yaml = "http:\n  routers:\n    a: {rule: 'Host(`a.com`) && PathPrefix(`/x`)', entryPoints: [https], service: s}\n    b: {rule: 'Host(`a.com`) && PathPrefix(`/x`)', entryPoints: [https], service: t}\n";
        let found = check(ID, yaml);
        assert!(
            found.starts_with("error[routers-claim-one-route] http.routers.b.rule: `b` claims what `a` claims (the same rule on entry point `https`): at the same priority"),
            "{found}"
        );
        assert_eq!(found.lines().count(), 1, "{found}");
    }

    #[test]
    fn a_shared_host_and_path_in_rules_written_otherwise() {
        // One host of two, the path written out: the same claim; the higher priority wins.
        let yaml = "http:\n  routers:\n    a: {rule: '(Host(`a.com`) || Host(`b.com`)) && PathPrefix(`/`)', service: s}\n    b: {rule: 'Host(`b.com`)', entryPoints: [http], service: t, priority: 1}\n";
        let found = check(ID, yaml);
        assert!(
            found.contains("(host `b.com`, path `/`, on entry point `http`): Traefik sends those requests to `a` (priority 51 against 1), so `b` gets none"),
            "{found}"
        );
    }

    #[test]
    fn other_hosts_paths_or_entry_points_are_no_claim() {
        for yaml in [
            "http:\n  routers:\n    a: {rule: 'Host(`a.com`)', service: s}\n    b: {rule: 'Host(`b.com`)', service: t}\n",
            "http:\n  routers:\n    a: {rule: 'Host(`a.com`)', service: s}\n    b: {rule: 'Host(`a.com`) && PathPrefix(`/socket.io`)', service: t}\n",
            "http:\n  routers:\n    a: {rule: 'Host(`a.com`)', entryPoints: [http], service: s}\n    b: {rule: 'Host(`a.com`)', entryPoints: [https], service: t}\n",
        ] {
            assert_eq!(check(ID, yaml), "", "{yaml}");
        }
        // Nor is what gaqno-lb exports for GAQNO: each service's routers on its own paths.
        let config = crate::export::export(&crate::model::Project::gaqno());
        let found = crate::lint::lint(&config, &crate::lint::LintOptions::default());
        assert!(!found.iter().any(|d| d.rule == ID), "{found:?}");
    }

    /// Issue 31: the editor's Duplicate copied a service's hosts and path with no finding.
    /// Every router of the copy clashes; it is said once, with how many more.
    #[test]
    fn a_duplicated_service_is_one_finding() {
        let mut project = crate::model::Project::gaqno();
        let copy = project.duplicate_service(0).unwrap();
        let config = crate::export::export(&project);
        let found: Vec<_> = crate::lint::lint(&config, &crate::lint::LintOptions::default())
            .into_iter()
            .filter(|d| d.rule == ID)
            .collect();
        assert_eq!(found.len(), 1, "{found:#?}");
        let name = &project.services[copy].name;
        assert!(
            found[0]
                .message
                .starts_with(&format!("`gaqno-{name}` claims what")),
            "{found:#?}"
        );
        assert!(
            found[0].message.contains("more of their routers clash"),
            "{found:#?}"
        );
    }
}
