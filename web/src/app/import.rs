//! Import: Traefik YAML pasted, picked or dropped becomes the project; a file that cannot be
//! read says where and why and changes nothing.

use leptos::prelude::*;

use super::{analysis, editor};
use crate::protocol::{ImportSummary, Request};

/// Files larger than this are refused unread: no Traefik dynamic config is that big.
const MAX_IMPORT_BYTES: f64 = 1024.0 * 1024.0;

#[component]
pub fn ImportPanel() -> impl IntoView {
    let editor = editor();
    let history = editor.history;
    let text = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let show = move |result: Result<ImportSummary, String>| match result {
        Ok(imported) => {
            let notes = &imported.unmapped;
            let fixed = if imported.fixed.is_empty() {
                String::new()
            } else {
                format!(
                    "; fixed first (what the file meant): {}",
                    imported.fixed.join("; ")
                )
            };
            let summary = format!(
                "imported {} service(s){fixed}; not mapped: {}",
                imported.project.services.len(),
                if notes.is_empty() {
                    "nothing".to_owned()
                } else {
                    notes.join("; ")
                }
            );
            history.update(|h| h.edit(|p| *p = imported.project));
            editor.selected.set(0);
            message.set(Some((true, summary)));
        }
        // The current project stays as it is.
        Err(e) => message.set(Some((false, format!("not imported: {e}")))),
    };
    // The importer is the second module's: asked once it is there (at once, usually).
    let import = move |yaml: &str| {
        let request = Request::Import {
            yaml: yaml.to_owned(),
        };
        leptos::task::spawn_local(async move {
            show(analysis::ask_when_ready::<ImportSummary>(request).await)
        });
    };
    // A picked or dropped file: shown in the text box, then imported like pasted text.
    let import_file = move |file: Option<web_sys::File>| {
        let Some(file) = file else { return };
        let name = file.name();
        if file.size() > MAX_IMPORT_BYTES {
            message.set(Some((
                false,
                format!("not imported: {name} is larger than 1 MiB"),
            )));
            return;
        }
        let read = wasm_bindgen_futures::JsFuture::from(file.text());
        leptos::task::spawn_local(async move {
            match read.await.ok().and_then(|v| v.as_string()) {
                Some(yaml) => {
                    text.set(yaml.clone());
                    import(&yaml);
                }
                None => message.set(Some((
                    false,
                    format!("not imported: {name} could not be read as text"),
                ))),
            }
        });
    };
    view! {
        <details
            class="import panel"
            data-testid="import-drop"
            on:dragover=move |ev: web_sys::DragEvent| ev.prevent_default()
            on:drop=move |ev: web_sys::DragEvent| {
                ev.prevent_default();
                import_file(ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)));
            }
        >
            <summary>"Import Traefik YAML"</summary>
            <label class="file">
                "Pick or drop a file here "
                <input
                    type="file"
                    accept=".yml,.yaml,text/yaml,text/plain"
                    data-testid="import-file"
                    on:change=move |ev| {
                        use wasm_bindgen::JsCast;
                        let input = ev
                            .target()
                            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
                        import_file(input.as_ref().and_then(|i| i.files()).and_then(|f| f.get(0)));
                        if let Some(input) = input {
                            input.set_value("");
                        }
                    }
                />
            </label>
            <textarea
                data-testid="import-text"
                rows="6"
                aria-label="Traefik YAML to import"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            ></textarea>
            <button data-testid="import" on:click=move |_| import(&text.get())>
                "Import"
            </button>
            <p
                data-testid="import-message"
                class=move || if message.get().is_some_and(|(ok, _)| ok) { "ok" } else { "error" }
            >
                {move || message.get().map(|(_, m)| m).unwrap_or_default()}
            </p>
        </details>
    }
}
