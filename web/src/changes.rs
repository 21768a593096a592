//! What an undo or redo changed, so that the app can show it: the service to open, the
//! field to scroll to and mark, and the words a screen reader hears ("Undid: Hosts of
//! omnichannel-service"). An undo that changes something off-screen and says nothing lets
//! a file be downloaded without an edit its operator believes is in it.

use shared::model::{Project, Service, Target};

use crate::fields::{Field, Value};

/// Where two versions of the project differ first, in the form's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The service to open (its index in the project after the step), when one changed.
    pub service: Option<usize>,
    /// The element to reveal (`data-testid`), when the form draws one for the change.
    pub testid: Option<String>,
    /// The change in words: "Hosts of omnichannel-service".
    pub what: String,
}

/// What differs between `before` and `after` (the project before and after an undo or
/// redo); `None` when nothing does.
pub fn change_between(before: &Project, after: &Project) -> Option<Change> {
    if before.target != after.target {
        return Some(target_change(&before.target, &after.target));
    }
    let names = |p: &Project| {
        p.services
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
    };
    let (names_before, names_after) = (names(before), names(after));
    if before.services.len() != after.services.len() {
        // A service added or removed: the first position where the lists part.
        let at = (0..before.services.len().max(after.services.len()))
            .find(|&i| names_before.get(i) != names_after.get(i))
            .unwrap_or(0);
        return Some(if after.services.len() > before.services.len() {
            Change {
                service: Some(at),
                testid: Some(format!("service-item-{at}")),
                what: format!("service {} (now in the list)", names_after[at]),
            }
        } else {
            let open = at.min(after.services.len().saturating_sub(1));
            Change {
                service: (!after.services.is_empty()).then_some(open),
                testid: Some("service-list".into()),
                what: format!("service {} (now gone from the list)", names_before[at]),
            }
        });
    }
    let mut sorted = (names_before.clone(), names_after.clone());
    sorted.0.sort();
    sorted.1.sort();
    if names_before != names_after && sorted.0 == sorted.1 {
        let at = (0..names_after.len())
            .find(|&i| names_before[i] != names_after[i])
            .unwrap_or(0);
        return Some(Change {
            service: Some(at),
            testid: Some(format!("service-item-{at}")),
            what: "the order of the services".into(),
        });
    }
    let index = (0..after.services.len()).find(|&i| before.services[i] != after.services[i])?;
    let (old, new) = (&before.services[index], &after.services[index]);
    let field = changed_field(old, new);
    let name = if new.name.is_empty() {
        format!("service {}", index + 1)
    } else {
        new.name.clone()
    };
    Some(Change {
        service: Some(index),
        testid: field.filter(|f| f.applies(new)).map(|f| f.testid(index)),
        what: match field {
            Some(field) => format!("{} of {name}", said(field)),
            None => name,
        },
    })
}

/// A field's name said alone, away from its section's heading ("Path" is the health
/// check's).
fn said(field: Field) -> String {
    match field {
        Field::HealthPath | Field::HealthInterval | Field::HealthTimeout => {
            format!("Health check {}", field.label().to_lowercase())
        }
        Field::Secure | Field::HttpOnly | Field::SameSite => format!("Cookie {}", field.label()),
        Field::MaxAge => "Cookie max age".into(),
        _ => field.label().into(),
    }
}

/// The first field of the form whose value differs between `old` and `new`. The alias
/// fields are read from the replica URLs: one that appears or goes blank because a URL
/// changed is that URL's change, not its own.
fn changed_field(old: &Service, new: &Service) -> Option<Field> {
    let servers = old.servers.len().max(new.servers.len());
    let differs: Vec<Field> = Field::all()
        .chain((0..servers).map(Field::Server))
        .filter(|f| f.read(old) != f.read(new))
        .collect();
    let a_url_changed = differs.iter().any(|f| matches!(f, Field::Server(_)));
    let blank = Value::Text(String::new());
    let follows_the_urls = |f: &Field| {
        matches!(f, Field::AliasPrefix | Field::AliasCount)
            && a_url_changed
            && (f.read(old) == blank || f.read(new) == blank)
    };
    differs.into_iter().find(|f| !follows_the_urls(f))
}

/// The first of the project-wide settings that differs, with the panel's `data-testid`.
fn target_change(old: &Target, new: &Target) -> Change {
    let (testid, what) = if old.traefik_version != new.traefik_version {
        ("traefik-version", "Traefik version")
    } else if old.http_entry_point != new.http_entry_point {
        ("http-entrypoint", "HTTP entrypoint")
    } else if old.https_entry_point != new.https_entry_point {
        ("https-entrypoint", "HTTPS entrypoint")
    } else if old.cert_resolver != new.cert_resolver {
        ("cert-resolver", "Cert resolver")
    } else if old.plugin_name != new.plugin_name {
        ("plugin-name", "Plugin name")
    } else {
        ("target-panel", "the HTTP to HTTPS redirect")
    };
    Change {
        service: None,
        testid: Some(testid.into()),
        what: what.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(edit: impl FnOnce(&mut Project)) -> Option<Change> {
        let before = Project::gaqno();
        let mut after = before.clone();
        edit(&mut after);
        change_between(&before, &after)
    }

    #[test]
    fn a_field_is_named_with_its_service_and_found_by_its_testid() {
        let change = changed(|p| p.services[1].hosts = vec!["x.example.com".into()]).unwrap();
        let name = &Project::gaqno().services[1].name;
        assert_eq!(change.what, format!("Hosts of {name}"));
        assert_eq!(change.service, Some(1));
        assert_eq!(change.testid.as_deref(), Some("service-1-hosts"));
        // The first field in the form's order, when one step changed several.
        let change = change_between(&Project::gaqno(), &{
            let mut p = Project::gaqno();
            p.services[0].sticky.name = "c".into();
            p.services[0].port = 1;
            p
        })
        .unwrap();
        assert_eq!(change.testid.as_deref(), Some("service-0-port"));
        let path = changed(|p| p.services[0].health_check.as_mut().unwrap().path = "/x".into());
        assert!(path.unwrap().what.starts_with("Health check path of "));
    }

    #[test]
    fn a_replica_url_and_a_field_the_form_does_not_draw() {
        let change = changed(|p| p.services[0].servers[1] = "http://x:1".into()).unwrap();
        assert_eq!(change.testid.as_deref(), Some("service-0-server-1"));
        assert!(change.what.starts_with("Replica URL of "), "{change:?}");
        // A prefix typed changes every URL: the prefix is the field.
        let renamed = changed(|p| {
            let (prefix, _) = p.services[0].alias_replicas().unwrap();
            let servers = &mut p.services[0].servers;
            *servers = servers.iter().map(|u| u.replace(&prefix, "chat")).collect();
        })
        .unwrap();
        assert_eq!(renamed.testid.as_deref(), Some("service-0-alias-prefix"));
        // Turned into Docker replicas: the servers go, and "Replicas run as" is the field.
        let change = changed(|p| {
            p.services[0].docker_replicas = Some(shared::model::DockerReplicas::new(
                2,
                shared::model::ReplicasVia::Swarm,
            ))
        })
        .unwrap();
        assert_eq!(change.testid.as_deref(), Some("service-0-runs"));
    }

    #[test]
    fn services_added_removed_and_moved() {
        let preset = Project::gaqno();
        let removed = changed(|p| {
            p.services.remove(2);
        })
        .unwrap();
        assert_eq!(
            removed.what,
            format!(
                "service {} (now gone from the list)",
                preset.services[2].name
            )
        );
        assert_eq!(removed.service, Some(2));
        let mut fewer = preset.clone();
        fewer.services.remove(2);
        let back = change_between(&fewer, &preset).unwrap();
        assert_eq!(
            back.what,
            format!("service {} (now in the list)", preset.services[2].name)
        );
        assert_eq!(back.testid.as_deref(), Some("service-item-2"));
        let moved = changed(|p| p.services.swap(0, 1)).unwrap();
        assert_eq!(moved.what, "the order of the services");
        assert_eq!(moved.service, Some(0));
        let mut empty = preset.clone();
        empty.services.truncate(1);
        let none_left = change_between(
            &empty,
            &Project {
                services: Vec::new(),
                ..preset.clone()
            },
        )
        .unwrap();
        assert_eq!(none_left.service, None);
    }

    #[test]
    fn project_wide_settings_and_no_change() {
        let change = changed(|p| p.target.https_entry_point = "websecure".into()).unwrap();
        assert_eq!(change.what, "HTTPS entrypoint");
        assert_eq!(change.testid.as_deref(), Some("https-entrypoint"));
        assert_eq!(change_between(&Project::gaqno(), &Project::gaqno()), None);
    }
}
