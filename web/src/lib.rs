//! The gaqno-lb web app: an operator edits the GAQNO model in the browser and downloads the
//! Traefik YAML for Coolify. Everything it shows comes from `shared` (export, lint, import,
//! cookie values), so the browser and the CLI can never disagree.
//!
//! The crate's modules but `app` are pure and natively tested: undo history (here) and what
//! a step changed (`changes`), the field table, findings per field, the routing diagram,
//! the service list, the YAML view, the protocol between the app's two wasm modules. `app` (wasm only, feature `ui`) is the
//! Leptos UI over them, a module per panel.
//!
//! The app ships as two wasm modules ([`protocol`]): this crate's `web` binary draws the
//! editor; `web-analysis` (`web/analysis/`), fetched after the first render, runs what
//! here is marked "second module": lint, fixes, import, labels.

use shared::lint;
use shared::model::Project;

pub mod advice;
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub mod app;
pub mod changes;
pub mod diagram;
pub mod fields;
pub mod findings;
pub mod import_plan;
pub mod protocol;
pub mod services;
pub mod yaml_view;

pub use fields::Field;
pub use findings::{
    finding_field, finding_service, findings, findings_by_service, findings_of_export, Finding,
    ServiceFinding,
};
pub use yaml_view::{preview_chunks, PREVIEW_LINES_PER_CHUNK};

/// Undo steps kept.
pub const HISTORY_LIMIT: usize = 100;
/// localStorage key of the autosaved project.
pub const STORAGE_KEY: &str = "gaqno-lb.project";
/// localStorage key where an earlier version's save (YAML) is kept when the app first reads
/// it: the next save replaces it under [`STORAGE_KEY`].
pub const EARLIER_SAVE_KEY: &str = "gaqno-lb.project.yaml";

/// The edited project with undo and redo.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    past: Vec<Project>,
    future: Vec<Project>,
    /// The field the last edit typed into: further keystrokes there extend that undo step.
    typing_in: Option<String>,
    /// The project as it is now.
    pub current: Project,
}

impl History {
    /// History starting at `project`.
    pub fn new(project: Project) -> History {
        History {
            past: Vec::new(),
            future: Vec::new(),
            typing_in: None,
            current: project,
        }
    }

    /// Applies `edit`; an edit that changes nothing leaves no undo step.
    pub fn edit(&mut self, edit: impl FnOnce(&mut Project)) {
        self.typing_in = None;
        self.record(edit);
    }

    /// A keystroke in `field`: the model follows every key, but a run of keystrokes in one
    /// field is one undo step (as in any editor), not one per character.
    pub fn type_into(&mut self, field: &str, edit: impl FnOnce(&mut Project)) {
        if self.typing_in.as_deref() == Some(field) {
            edit(&mut self.current);
            self.future.clear();
        } else {
            let changed = self.record(edit);
            self.typing_in = changed.then(|| field.to_owned());
        }
    }

    /// Applies `edit` as a new undo step; whether it changed anything.
    fn record(&mut self, edit: impl FnOnce(&mut Project)) -> bool {
        let before = self.current.clone();
        edit(&mut self.current);
        let changed = self.current != before;
        if changed {
            self.past.push(before);
            if self.past.len() > HISTORY_LIMIT {
                self.past.remove(0);
            }
            self.future.clear();
        }
        changed
    }

    /// Steps back; false when there is nothing to undo.
    pub fn undo(&mut self) -> bool {
        self.typing_in = None;
        let Some(previous) = self.past.pop() else {
            return false;
        };
        self.future
            .push(std::mem::replace(&mut self.current, previous));
        true
    }

    /// Steps forward again; false when there is nothing to redo.
    pub fn redo(&mut self) -> bool {
        self.typing_in = None;
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

/// The project with `finding`'s fix applied, through the Traefik config and back; `None`
/// when the project no longer has that finding or it has no fix. Second module.
pub fn apply_fix(project: &Project, finding: &Finding) -> Option<Project> {
    let mut config = shared::export::export(project);
    // The finding as the linter has it now: its rule's fix needs the linter's own record.
    let diagnostic = findings::diagnostics(project, &config)
        .into_iter()
        .find(|d| d.rule == finding.rule && d.path == finding.path)?;
    if !lint::apply_fix(&mut config, &diagnostic) {
        return None;
    }
    // What the exported YAML cannot carry stays as it was.
    Some(shared::import::import_onto(&config, project))
}

/// What the app finds in localStorage under [`STORAGE_KEY`].
#[derive(Debug, Clone, PartialEq)]
pub enum Saved {
    /// Nothing saved (or nothing readable): the app starts from the preset.
    Nothing,
    /// A project, as the app saves it now (JSON).
    Project(Project),
    /// Text in an earlier version's format (YAML): the second module reads it, so the
    /// first need not carry a YAML reader ([`load_yaml_project`]).
    Yaml(String),
}

/// Reads what [`saved_text`] wrote, or an earlier version's YAML.
pub fn read_saved(text: Option<String>) -> Saved {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Saved::Nothing;
    };
    match serde_json::from_str::<Project>(&text) {
        Ok(project) => Saved::Project(project),
        Err(_) if text.trim_start().starts_with('{') => Saved::Nothing,
        Err(_) => Saved::Yaml(text),
    }
}

/// The project as the app saves it in localStorage: JSON, which the first module reads
/// with what it already carries for talking to the second.
pub fn saved_text(project: &Project) -> Option<String> {
    serde_json::to_string(project).ok()
}

/// Reads a project saved as YAML by an earlier version of the app (or written by
/// `gaqno-lb import`). Second module.
pub fn load_yaml_project(text: &str) -> Option<Project> {
    shared::yaml::from_str::<Project>(text)
        .ok()
        .filter(|p| p != &Project::default() || text.contains("target"))
}

/// One line of the labels panel's result: `'+'` added by gaqno-lb, `'-'` taken out (ours
/// from an earlier run, or a sticky/health-check label ours replace), `' '` unchanged.
pub type DiffLine = (char, String);

/// The labels Coolify generated for `service_name`'s application (pasted text) with its
/// settings added, as the lines to show: removed ones first, then the result with our lines
/// marked; plus the result's text to copy. An error names the pasted line. Second module.
pub fn labels_with_affinity(
    project: &Project,
    service_name: &str,
    pasted: &str,
) -> Result<(Vec<DiffLine>, String), String> {
    let service = project
        .services
        .iter()
        .find(|s| s.name == service_name)
        .ok_or_else(|| format!("no service `{service_name}`"))?;
    let labels = shared::labels::Labels::parse(pasted).map_err(|e| e.to_string())?;
    let added = shared::labels::coolify::add_affinity(&labels, &project.target, service)
        .map_err(|e| e.to_string())?;
    let mut lines: Vec<DiffLine> = added.removed.iter().map(|l| ('-', l.clone())).collect();
    let mut fresh = added.added.clone();
    for line in &added.labels.lines {
        let mark = match fresh.iter().position(|a| *a == line.text) {
            Some(i) => {
                fresh.remove(i);
                '+'
            }
            None => ' ',
        };
        lines.push((mark, line.text.clone()));
    }
    Ok((lines, added.labels.text()))
}

/// The compose panel's answer: `compose` (an application's compose file) made into a Raw
/// Compose Deployment replicating `compose_service` as the project's `service_name` says
/// (its replica count, port, sticky cookie, health check, Socket.IO path) for `domain`:
/// the file and what changed (the same code as `gaqno-lb compose`).
pub fn raw_compose_for(
    project: &Project,
    service_name: &str,
    compose: &str,
    compose_service: &str,
    domain: &str,
) -> Result<(String, Vec<String>), String> {
    let service = project
        .services
        .iter()
        .find(|s| s.name == service_name)
        .ok_or_else(|| format!("no service `{service_name}`"))?;
    let document: serde_json::Value =
        shared::yaml::from_str(compose).map_err(|e| format!("the compose file: {e}"))?;
    let options = shared::compose::raw::RawOptions {
        service: compose_service.trim().to_owned(),
        replicas: service.docker_replicas.map_or(2, |d| d.count),
        domain: domain.trim().to_owned(),
        port: service.port,
        name_stem: shared::compose::raw::DEFAULT_NAME_STEM.to_owned(),
    };
    let raw = shared::compose::raw::raw_compose(&document, &options, &project.target, service)?;
    let text = shared::yaml::to_string(&raw.document).map_err(|e| e.to_string())?;
    Ok((text, raw.changes))
}

#[cfg(test)]
mod tests {
    use shared::model::Project;

    /// The project the compose panel downloads for `gaqno-lb rehearse --project` is the app's
    /// saved JSON: the CLI's project reader (YAML) reads it back whole.
    #[test]
    fn a_saved_project_is_a_project_file_the_cli_reads() {
        let project = Project::gaqno();
        let text = super::saved_text(&project).expect("JSON");
        assert_eq!(
            shared::yaml::from_str::<Project>(&text).expect("read"),
            project
        );
    }

    use super::*;

    /// Issue 20, B1: naming a cleared cookie names it after the service, once prefixed, and
    /// keeps Socket.IO affinity on.
    #[test]
    fn the_cookie_name_fix_keeps_affinity() {
        let mut project = Project::gaqno();
        let index = project
            .services
            .iter()
            .position(|s| s.socket_io.enabled)
            .unwrap();
        project.services[index].sticky.name.clear();
        let finding = findings(&project)
            .into_iter()
            .find(|f| f.rule == "sticky-cookie-unnamed")
            .expect("the unnamed cookie is found");
        let fixed = apply_fix(&project, &finding).expect("a fix");
        let service = &fixed.services[index];
        assert_eq!(
            service.sticky.name,
            shared::model::default_cookie_name(&service.name)
        );
        assert!(service.socket_io.enabled, "affinity stays on");
        assert!(findings(&fixed).is_empty(), "{:?}", findings(&fixed));
    }

    /// Issue 31, item 6: the cleared cookie's error sits at Cookie name, like its warning,
    /// and its fix does what the warning's does.
    #[test]
    fn the_cookie_names_error_is_at_its_field_with_a_fix() {
        let mut project = Project::gaqno();
        project.services[0].sticky.name.clear();
        let found = findings(&project);
        let error = found
            .iter()
            .find(|f| f.rule == "invalid-plugin-config")
            .expect("the plugin refuses an empty cookieName");
        assert_eq!(finding_field(error), Some(Field::CookieName));
        let fixed = apply_fix(&project, error).expect("a fix");
        assert_eq!(
            fixed.services[0].sticky.name,
            shared::model::default_cookie_name(&project.services[0].name)
        );
        assert!(fixed.services[0].socket_io.enabled, "affinity stays on");
        assert!(findings(&fixed).is_empty(), "{:?}", findings(&fixed));
    }

    #[test]
    fn the_compose_panel_writes_what_gaqno_lb_compose_writes() {
        let mut project = Project::gaqno();
        let index = project
            .services
            .iter()
            .position(|s| s.name == "omnichannel-service")
            .unwrap();
        project.services[index].docker_replicas = Some(shared::model::DockerReplicas::new(
            3,
            shared::model::ReplicasVia::Compose,
        ));
        let compose = "services:\n  api:\n    build: .\n    container_name: api\n";
        let (text, changes) = raw_compose_for(
            &project,
            "omnichannel-service",
            compose,
            "api",
            "https://omni.example.com",
        )
        .unwrap();
        assert!(text.contains("replicas: 3"), "{text}");
        assert!(text.contains("traefik.docker.network=coolify"), "{text}");
        assert!(!text.contains("container_name"), "{text}");
        assert!(changes.iter().any(|c| c.contains("container_name")));
        let err = raw_compose_for(&project, "omnichannel-service", compose, "web", "https://x")
            .unwrap_err();
        assert!(err.contains("no service `web`"), "{err}");
        let err = raw_compose_for(
            &project,
            "omnichannel-service",
            "services: [",
            "api",
            "https://x",
        )
        .unwrap_err();
        assert!(err.starts_with("the compose file:"), "{err}");
    }

    #[test]
    fn a_fix_keeps_what_the_yaml_cannot_carry() {
        let mut project = Project::gaqno();
        project.services[1].docker_replicas = Some(shared::model::DockerReplicas::new(
            4,
            shared::model::ReplicasVia::Swarm,
        ));
        project.services[0].port = 4321;
        if let Some(h) = project.services[0].health_check.as_mut() {
            h.timeout = Some(shared::traefik::GoDuration::new("500ms"));
        }
        let finding = findings(&project)
            .into_iter()
            .find(|d| d.rule == "short-health-check-timeout")
            .expect("the short timeout is found");
        let fixed = apply_fix(&project, &finding).expect("fixed");
        let timeout = fixed.services[0]
            .health_check
            .as_ref()
            .and_then(|h| h.timeout.clone());
        assert_eq!(timeout.map(|t| t.to_string()).as_deref(), Some("3s"));
        assert_eq!(fixed.services[0].port, 4321);
        assert_eq!(
            fixed.services[1], project.services[1],
            "the Docker-replica service stays"
        );
        assert_eq!(fixed.services.len(), project.services.len());
    }

    #[test]
    fn labels_panel_marks_our_lines_and_names_a_bad_line() {
        let project = Project::gaqno();
        let service = project
            .services
            .iter()
            .find(|s| s.socket_io.enabled)
            .unwrap();
        let pasted = "traefik.enable=true\ntraefik.http.routers.https-0-u1.entryPoints=https\ntraefik.http.routers.https-0-u1.rule=Host(`chat.example.com`) && PathPrefix(`/`)\ntraefik.http.routers.https-0-u1.service=https-0-u1\ntraefik.http.routers.https-0-u1.tls=true\ntraefik.http.services.https-0-u1.loadbalancer.server.port=4008\n";
        let (lines, text) = labels_with_affinity(&project, &service.name, pasted).unwrap();
        assert!(text.starts_with(pasted));
        let unchanged: Vec<&str> = lines
            .iter()
            .filter(|(m, _)| *m == ' ')
            .map(|(_, l)| l.as_str())
            .collect();
        assert_eq!(unchanged, pasted.lines().collect::<Vec<_>>());
        assert!(lines
            .iter()
            .any(|(m, l)| *m == '+' && l.contains("-affinity.plugin.gaqno-lb.cookieName=")));
        assert!(lines.iter().all(|(m, _)| *m != '-'));
        let err = labels_with_affinity(
            &project,
            &service.name,
            "traefik.enable=true\nnot a label\n",
        )
        .unwrap_err();
        assert!(err.starts_with("line 2: "), "{err}");
    }

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
    fn typing_in_one_field_is_one_undo_step() {
        let mut history = History::new(Project::gaqno());
        for name in ["c", "ch", "cha", "chat"] {
            history.type_into("service-0-name", |p| p.services[0].name = name.into());
        }
        history.type_into("service-1-name", |p| p.services[1].name = "x".into());
        history.type_into("service-0-name", |p| p.services[0].name = "chat2".into());
        assert_eq!(history.current.services[0].name, "chat2");
        assert!(
            history.undo(),
            "back to before the second run in service-0-name"
        );
        assert_eq!(history.current.services[0].name, "chat");
        assert!(history.undo());
        assert_eq!(history.current.services[1].name, "ai-service");
        assert!(history.undo());
        assert_eq!(
            history.current,
            Project::gaqno(),
            "four keystrokes, one step"
        );
        assert!(!history.undo());
        // After an undo, typing again in the same field starts a new step.
        history.redo();
        history.type_into("service-0-name", |p| p.services[0].name = "chatty".into());
        assert!(history.undo());
        assert_eq!(history.current.services[0].name, "chat");
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
    fn the_preset_lints_clean_and_saved_projects_load() {
        let preset = Project::gaqno();
        assert_eq!(findings(&preset), []);
        let mut edited = preset.clone();
        edited.services[0].port = 4321;
        let saved = saved_text(&edited).unwrap();
        assert_eq!(read_saved(Some(saved)), Saved::Project(edited));
        assert_eq!(read_saved(None), Saved::Nothing);
        assert_eq!(read_saved(Some("  ".into())), Saved::Nothing);
        assert_eq!(read_saved(Some("{\"broken\": ".into())), Saved::Nothing);
        // What earlier versions saved goes to the second module as it is.
        let yaml = shared::yaml::to_string(&preset).unwrap();
        assert_eq!(read_saved(Some(yaml.clone())), Saved::Yaml(yaml.clone()));
        assert_eq!(load_yaml_project(&yaml), Some(preset));
        assert_eq!(load_yaml_project("not: [a project"), None);
    }
}
