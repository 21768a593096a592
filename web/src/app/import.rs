//! Import: Traefik YAML pasted, picked or dropped is read, then shown as what it would
//! replace, add or remove ([`ImportPlan`]); nothing changes until the operator replaces the
//! project or merges by service name. A file that cannot be read, or holds no service,
//! says where and why and changes nothing.

use leptos::prelude::*;

use super::{analysis, editor};
use crate::advice::STICKY_ONLY;
use crate::import_plan::ImportPlan;
use crate::protocol::{ImportSummary, Request};

/// Files larger than this are refused unread: no Traefik dynamic config is that big.
const MAX_IMPORT_BYTES: f64 = 1024.0 * 1024.0;

#[component]
pub fn ImportPanel() -> impl IntoView {
    let editor = editor();
    let history = editor.history;
    let text = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    // A file read and not yet applied, with what applying it would do.
    let pending = RwSignal::new(None::<(ImportSummary, ImportPlan)>);
    let show = move |result: Result<ImportSummary, String>| match result {
        Ok(read) => {
            let plan = history.with_untracked(|h| ImportPlan::new(&h.current, &read.project));
            let mut summary = format!(
                "read {} service(s): {}",
                plan.incoming.len(),
                plan.incoming.join(", ")
            );
            if !read.fixed.is_empty() {
                summary.push_str(&format!(
                    "; fixed first (what the file meant): {}",
                    read.fixed.join("; ")
                ));
            }
            if !read.unmapped.is_empty() {
                summary.push_str(&format!("; not mapped: {}", read.unmapped.join("; ")));
            }
            message.set(Some((true, summary)));
            pending.set(Some((read, plan)));
        }
        // The current project stays as it is.
        Err(e) => {
            pending.set(None);
            message.set(Some((false, format!("not imported: {e}"))));
        }
    };
    let replace = move |_| {
        let Some((read, plan)) = pending.get_untracked() else {
            return;
        };
        editor.edit(|p| *p = read.project);
        editor.selected.set(0);
        pending.set(None);
        message.set(Some((
            true,
            format!(
                "imported {} service(s): the project was replaced (Undo brings it back)",
                plan.incoming.len()
            ),
        )));
    };
    let merge = move |_| {
        let Some((read, _)) = pending.get_untracked() else {
            return;
        };
        let mut merged = (Vec::new(), Vec::new());
        editor.edit(|p| merged = p.merge_services(read.project.services));
        pending.set(None);
        let (replaced, added) = merged;
        message.set(Some((
            true,
            format!(
                "merged {} service(s): replaced {}, added {} (Undo brings the project back)",
                replaced.len() + added.len(),
                if replaced.is_empty() {
                    "none".to_owned()
                } else {
                    replaced.join(", ")
                },
                if added.is_empty() {
                    "none".to_owned()
                } else {
                    added.join(", ")
                },
            ),
        )));
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
                role="status"
                class=move || if message.get().is_some_and(|(ok, _)| ok) { "ok" } else { "error" }
            >
                {move || message.get().map(|(_, m)| m).unwrap_or_default()}
            </p>
            {move || {
                pending
                    .with(|p| p.as_ref().map(|(_, plan)| plan.clone()))
                    .map(|plan| {
                        view! {
                            <div class="import-plan" data-testid="import-plan">
                                <p>{plan.replace_text()}</p>
                                <p>{plan.merge_text()}</p>
                                {(!plan.sticky_only.is_empty())
                                    .then(|| {
                                        view! {
                                            <p class="advice" data-testid="import-sticky-only">
                                                {format!("{}: {STICKY_ONLY}", plan.sticky_only.join(", "))}
                                            </p>
                                        }
                                    })}
                                <div class="row">
                                    <button data-testid="import-replace" on:click=replace>
                                        "Replace the project"
                                    </button>
                                    <button data-testid="import-merge" on:click=merge>
                                        "Merge by name"
                                    </button>
                                    <button
                                        data-testid="import-cancel"
                                        on:click=move |_| {
                                            pending.set(None);
                                            message.set(Some((true, "nothing imported".into())));
                                        }
                                    >
                                        "Cancel"
                                    </button>
                                </div>
                            </div>
                        }
                    })
            }}
        </details>
    }
}
