//! The gaqno-lb web app: an operator edits the GAQNO model in the browser and downloads the
//! Traefik YAML for Coolify. Everything it shows comes from `shared` (export, lint, import,
//! cookie values), so the browser and the CLI can never disagree.
//!
//! This file holds the pure, natively tested parts: undo history, lint findings per service,
//! fixes applied through the model. `app.rs` (wasm only) is the Leptos UI over them.

use shared::lint::{self, Diagnostic, LintOptions};
use shared::model::Project;

#[cfg(target_arch = "wasm32")]
pub mod app;

/// Undo steps kept.
pub const HISTORY_LIMIT: usize = 100;
/// localStorage key of the autosaved project.
pub const STORAGE_KEY: &str = "gaqno-lb.project";

/// The edited project with undo and redo.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    past: Vec<Project>,
    future: Vec<Project>,
    /// The project as it is now.
    pub current: Project,
}

impl History {
    /// History starting at `project`.
    pub fn new(project: Project) -> History {
        History {
            past: Vec::new(),
            future: Vec::new(),
            current: project,
        }
    }

    /// Applies `edit`; an edit that changes nothing leaves no undo step.
    pub fn edit(&mut self, edit: impl FnOnce(&mut Project)) {
        let before = self.current.clone();
        edit(&mut self.current);
        if self.current != before {
            self.past.push(before);
            if self.past.len() > HISTORY_LIMIT {
                self.past.remove(0);
            }
            self.future.clear();
        }
    }

    /// Steps back; false when there is nothing to undo.
    pub fn undo(&mut self) -> bool {
        let Some(previous) = self.past.pop() else {
            return false;
        };
        self.future
            .push(std::mem::replace(&mut self.current, previous));
        true
    }

    /// Steps forward again; false when there is nothing to redo.
    pub fn redo(&mut self) -> bool {
        let Some(next) = self.future.pop() else {
            return false;
        };
        self.past.push(std::mem::replace(&mut self.current, next));
        true
    }

    /// Whether [`History::undo`] would do something.
    pub fn can_undo(&self) -> bool {
        !self.past.is_empty()
    }

    /// Whether [`History::redo`] would do something.
    pub fn can_redo(&self) -> bool {
        !self.future.is_empty()
    }
}

/// Lint findings of the project's export.
pub fn findings(project: &Project) -> Vec<Diagnostic> {
    lint::lint(
        &shared::export::export(project),
        &LintOptions {
            traefik_version: project.target.traefik_version,
        },
    )
}

/// The service a finding is about, from the exported object names (`gaqno-<service>[-…]`).
pub fn finding_service<'p>(project: &'p Project, diagnostic: &Diagnostic) -> Option<&'p str> {
    let object = diagnostic.path.key_at(2)?;
    let name = object.strip_prefix(shared::export::NAME_PREFIX)?;
    project
        .services
        .iter()
        .map(|s| s.name.as_str())
        .filter(|s| {
            name == *s
                || name
                    .strip_prefix(s)
                    .is_some_and(|rest| rest.starts_with('-'))
        })
        .max_by_key(|s| s.len())
}

/// The project with `diagnostic`'s fix applied, through the Traefik config and back.
pub fn apply_fix(project: &Project, diagnostic: &Diagnostic) -> Option<Project> {
    let mut config = shared::export::export(project);
    if !lint::apply_fix(&mut config, diagnostic) {
        return None;
    }
    let mut fixed = shared::import::import(&config).project;
    // What the exported YAML cannot carry stays as it was.
    fixed.target.traefik_version = project.target.traefik_version;
    fixed.target.http_entry_point = project.target.http_entry_point.clone();
    for (new, old) in fixed.services.iter_mut().zip(&project.services) {
        new.port = old.port;
    }
    Some(fixed)
}

/// Reads a project saved by the app (or written by `gaqno-lb import`).
pub fn load_project(text: &str) -> Option<Project> {
    shared::yaml::from_str::<Project>(text)
        .ok()
        .filter(|p| p != &Project::default() || text.contains("target"))
}

#[cfg(test)]
mod tests {
    use shared::model::Project;

    use super::*;

    #[test]
    fn undo_redo_round_trip() {
        let mut history = History::new(Project::gaqno());
        assert!(!history.can_undo());
        history.edit(|p| p.services[0].name = "chat".into());
        history.edit(|p| p.services.truncate(1));
        history.edit(|_| {});
        assert_eq!(history.current.services.len(), 1);
        assert!(history.undo());
        assert_eq!(history.current.services.len(), 5);
        assert!(history.undo());
        assert_eq!(history.current, Project::gaqno());
        assert!(!history.undo());
        assert!(history.redo() && history.redo() && !history.redo());
        assert_eq!(history.current.services[0].name, "chat");
        history.undo();
        history.edit(|p| p.services[1].port = 1);
        assert!(!history.can_redo(), "a new edit drops the redo branch");
    }

    #[test]
    fn history_is_bounded() {
        let mut history = History::new(Project::gaqno());
        for port in 0..(HISTORY_LIMIT as u16 + 20) {
            history.edit(|p| p.services[0].port = port);
        }
        let mut steps = 0;
        while history.undo() {
            steps += 1;
        }
        assert_eq!(steps, HISTORY_LIMIT);
    }

    #[test]
    fn findings_point_at_their_service_and_fixes_go_through_the_model() {
        let mut project = Project::gaqno();
        project.services[1].health_check = None;
        let found = findings(&project);
        let missing = found
            .iter()
            .find(|d| d.rule == "missing-health-check")
            .expect("finding");
        assert_eq!(finding_service(&project, missing), Some("ai-service"));
        let fixed = apply_fix(&project, missing).expect("fix");
        assert!(fixed.services[1].health_check.is_some());
        assert_eq!(fixed.services.len(), 5);
        assert!(findings(&fixed)
            .iter()
            .all(|d| d.rule != "missing-health-check"));
    }

    #[test]
    fn the_preset_lints_clean_and_saved_projects_load() {
        let preset = Project::gaqno();
        assert_eq!(findings(&preset), []);
        let saved = shared::yaml::to_string(&preset).unwrap();
        assert_eq!(load_project(&saved), Some(preset));
        assert_eq!(load_project("not: [a project"), None);
    }
}
