//! The web app's second wasm module (`analysis.js` + `analysis_bg.wasm`): what the editor
//! needs but its first render does not — the linter and its fixes, YAML import, reading
//! Coolify's labels. Together they are as big as the rest of the app, so the first module
//! draws the editor and this one is fetched after it ([`web::protocol`]).
//!
//! [`answer`] is the whole module: a [`Request`] in JSON, `Result<R, String>` in JSON out,
//! pure and natively tested; the wasm export is a thin wrapper around it.

use serde::Serialize;
use web::protocol::{ImportSummary, Request};

/// The JSON answer to the JSON `request`: `{"Ok": …}` with what the request names, or
/// `{"Err": "why"}` (an unreadable request included: nothing here panics on input).
pub fn answer(request: &str) -> String {
    match serde_json::from_str::<Request>(request) {
        Ok(request) => answer_to(request),
        Err(e) => reply::<()>(Err(format!("unreadable request: {e}"))),
    }
}

fn answer_to(request: Request) -> String {
    match request {
        Request::Findings { project } => reply(Ok(web::findings(&project))),
        Request::ApplyFix { project, finding } => reply(Ok(web::apply_fix(&project, &finding))),
        Request::Import { yaml } => reply(
            shared::import::import_yaml(&yaml)
                .map(|imported| ImportSummary {
                    project: imported.project,
                    fixed: imported.fixed,
                    unmapped: imported.unmapped.iter().map(ToString::to_string).collect(),
                })
                .map_err(|e| e.to_string()),
        ),
        Request::Labels {
            project,
            service,
            pasted,
        } => reply(web::labels_with_affinity(&project, &service, &pasted)),
        Request::Compose {
            project,
            service,
            compose,
            compose_service,
            domain,
        } => reply(web::raw_compose_for(
            &project,
            &service,
            &compose,
            &compose_service,
            &domain,
        )),
        Request::Diagram { project, index } => reply(Ok(web::diagram::of(
            &project,
            &shared::export::export(&project),
            index,
        ))),
        Request::SavedYaml { text } => reply(Ok(web::load_yaml_project(&text))),
    }
}

fn reply<R: Serialize>(result: Result<R, String>) -> String {
    serde_json::to_string(&result).unwrap_or_else(|e| {
        // Our own types always serialize; should one not, say so rather than trap.
        format!(
            r#"{{"Err":"cannot write the answer: {}"}}"#,
            e.to_string().replace('"', "'")
        )
    })
}

/// [`answer`] for the first module (`web::app::analysis`).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn ask(request: &str) -> String {
    answer(request)
}

#[cfg(test)]
mod tests;
