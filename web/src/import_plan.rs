//! What an import would do to the project, shown before it does it: the editor asks
//! before replacing anything ([`ImportPlan`]).

use shared::model::Project;

/// An import's effect on the current project, either way it can be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportPlan {
    /// The file's services, in its order.
    pub incoming: Vec<String>,
    /// The file's services that have a namesake in the project (merging replaces them).
    pub replaced: Vec<String>,
    /// The file's services new to the project (merging adds them).
    pub added: Vec<String>,
    /// The project's services the file lacks: replacing removes them, merging keeps them.
    pub dropped_on_replace: Vec<String>,
    /// The file's services kept by a sticky cookie alone ([`crate::advice::sticky_only`]).
    pub sticky_only: Vec<String>,
}

impl ImportPlan {
    /// The plan of importing `imported` into `current`.
    pub fn new(current: &Project, imported: &Project) -> ImportPlan {
        let incoming: Vec<String> = imported.services.iter().map(|s| s.name.clone()).collect();
        let (replaced, added) = incoming
            .iter()
            .cloned()
            .partition(|name| current.service(name).is_some());
        let dropped_on_replace = current
            .services
            .iter()
            .filter(|s| imported.service(&s.name).is_none())
            .map(|s| s.name.clone())
            .collect();
        let sticky_only = imported
            .services
            .iter()
            .filter(|s| crate::advice::sticky_only(s))
            .map(|s| s.name.clone())
            .collect();
        ImportPlan {
            incoming,
            replaced,
            added,
            dropped_on_replace,
            sticky_only,
        }
    }

    /// What "Replace the project" does, in a sentence.
    pub fn replace_text(&self) -> String {
        let mut text = format!(
            "Replace the project: it becomes the file's {} (Traefik settings included)",
            count(self.incoming.len(), "service")
        );
        if !self.dropped_on_replace.is_empty() {
            text.push_str(&format!("; removes {}", names(&self.dropped_on_replace)));
        }
        text.push('.');
        text
    }

    /// What "Merge by name" does, in a sentence.
    pub fn merge_text(&self) -> String {
        let mut parts = Vec::new();
        if !self.replaced.is_empty() {
            parts.push(format!("replaces {}", names(&self.replaced)));
        }
        if !self.added.is_empty() {
            parts.push(format!("adds {}", names(&self.added)));
        }
        format!(
            "Merge by name: {}; keeps every other service and the Traefik settings.",
            parts.join(", ")
        )
    }
}

/// `n thing(s)` in words.
fn count(n: usize, thing: &str) -> String {
    match n {
        1 => format!("1 {thing}"),
        n => format!("{n} {thing}s"),
    }
}

/// Names as `a, b and c`.
fn names(all: &[String]) -> String {
    match all {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use shared::model::{Project, Service};

    use super::ImportPlan;

    #[test]
    fn a_plan_names_what_each_choice_replaces_adds_and_removes() {
        let current = Project::gaqno();
        let mut imported = Project::gaqno();
        imported.services.truncate(1);
        imported.services[0].set_socket_io(false);
        let mut billing = Service::new("billing", 3000, 2);
        billing.sticky.enabled = false;
        imported.services.push(billing);
        let plan = ImportPlan::new(&current, &imported);
        assert_eq!(plan.replaced, ["omnichannel-service"]);
        assert_eq!(plan.added, ["billing"]);
        assert_eq!(plan.dropped_on_replace.len(), 4);
        assert_eq!(plan.sticky_only, ["omnichannel-service"]);
        assert_eq!(
            plan.replace_text(),
            "Replace the project: it becomes the file's 2 services (Traefik settings included); removes ai-service, sso-service, crm-service and pdv-service."
        );
        assert_eq!(
            plan.merge_text(),
            "Merge by name: replaces omnichannel-service, adds billing; keeps every other service and the Traefik settings."
        );
    }
}
