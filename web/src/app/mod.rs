//! The Leptos UI (wasm only), a module per panel. One root signal holds the [`History`];
//! every edit goes through `History::edit` with a `shared` model operation, so undo/redo
//! covers everything. The preview, the findings, the diagram and the download all derive
//! from the same export.
//!
//! Layout: the project-wide panels (Traefik and Coolify, import, Raw Compose, Swarm labels,
//! the plugin) as a row of folded headings across the top, each opening at full width;
//! below, the service list on the left, the selected service's diagram and form in the
//! middle, findings and the YAML on the right. One service's editor is open at a time, so
//! a project of 100 services costs one form.

mod analysis;
mod browser;
mod compose;
mod diagram;
mod findings;
mod import;
mod labels;
mod paths;
mod plugin;
mod preview;
mod service_editor;
mod service_list;
mod target;
mod text_field;

use leptos::prelude::*;
use shared::model::Project;
use shared::traefik::DynamicConfig;

use crate::protocol::Request;
use crate::{findings_by_service, Finding, History, Saved, ServiceFinding};
pub use analysis::Checks;
use browser::Debounced;

/// How long typing must pause before the project is written to localStorage.
const AUTOSAVE_DELAY_MS: u64 = 300;
/// How long typing must pause before the preview, the findings and the diagram follow:
/// writing and linting 100 services' YAML is most of a keystroke's cost, and nobody reads
/// either mid-word.
pub const SETTLE_DELAY_MS: u64 = 120;

/// What every panel works on, provided once by [`App`].
#[derive(Clone, Copy)]
pub struct Editor {
    /// The project, with undo and redo.
    pub history: RwSignal<History>,
    /// The project's export, once per edit.
    pub exported: Memo<DynamicConfig>,
    /// The service whose editor is open.
    pub selected: RwSignal<usize>,
    /// Lint findings, as of the last pause in typing (none until the checks have loaded).
    pub findings: RwSignal<Vec<Finding>>,
    /// The same, per service (in service order), each at its field.
    pub by_service: Memo<Vec<Vec<ServiceFinding>>>,
    /// The YAML the preview shows, as of the last pause in typing.
    pub shown_yaml: RwSignal<String>,
    /// Whether an edit is waiting for the pause (the preview's `data-current` is false).
    pub behind: RwSignal<bool>,
    /// The second wasm module (lint, import, labels), loaded after the first render.
    pub checks: RwSignal<Checks>,
    /// What the last undo or redo changed, in words (the toolbar's live region).
    pub last_step: RwSignal<String>,
}

impl Editor {
    /// Applies `f` to the project as one undoable edit.
    pub fn edit(self, f: impl FnOnce(&mut Project)) {
        self.history.update(|h| h.edit(f));
    }

    /// Selects service `index` and focuses `testid` in its editor once it is drawn.
    pub fn show(self, index: usize, testid: Option<String>) {
        self.selected.set(index);
        if let Some(testid) = testid {
            browser::focus_later(testid);
        }
    }
}

/// `text` with a line-break opportunity after each dot, equals sign, comma and slash
/// ([`crate::yaml_view::breakable_parts`]): a label line wraps between its keys on a phone.
pub fn breakable(text: &str) -> impl IntoView {
    crate::yaml_view::breakable_parts(text)
        .into_iter()
        .map(|part| {
            view! {
                {part.to_owned()}
                <wbr />
            }
        })
        .collect_view()
}

/// The [`Editor`] provided by [`App`].
pub fn editor() -> Editor {
    expect_context::<Editor>()
}

/// Panic hook, then the app with the project saved by the last visit (or the preset).
/// `window.__gaqnoFirstRender` and `window.__gaqnoChecksReady` (ms since navigation start)
/// are what `cargo xtask bench` reports as time to first render and to the findings.
pub fn start() {
    console_error_panic_hook::set_once();
    match browser::saved() {
        Saved::Project(project) => mount(project),
        Saved::Nothing => mount(Project::gaqno()),
        // An earlier version's save (YAML) is read by the second module before anything
        // is drawn, so no edit can overwrite it unread; kept aside too, should the module
        // not load. Once per browser.
        Saved::Yaml(text) => wasm_bindgen_futures::spawn_local(async move {
            browser::keep_earlier_save(&text);
            let read = analysis::ask_when_ready::<Option<Project>>(Request::SavedYaml { text });
            mount(read.await.ok().flatten().unwrap_or_else(Project::gaqno));
        }),
    }
}

fn mount(project: Project) {
    leptos::mount::mount_to_body(move || view! { <App project /> });
    browser::mark_time("__gaqnoFirstRender");
}

#[component]
fn App(project: Project) -> impl IntoView {
    let history = RwSignal::new(History::new(project));
    let exported = Memo::new(move |_| history.with(|h| shared::export::export(&h.current)));
    let yaml = Memo::new(move |_| {
        exported.with(|c| shared::export::config_to_yaml(c).unwrap_or_default())
    });
    // Autosave, the only effect syncing outward: a pause in typing (or leaving the page)
    // writes localStorage, not every keystroke.
    let save = move || history.with_untracked(|h| browser::save_project(&h.current));
    let autosave = Debounced::new(AUTOSAVE_DELAY_MS);
    Effect::new(move |first: Option<()>| {
        history.track();
        if first.is_some() {
            autosave.schedule(save);
        }
    });
    let flush = window_event_listener(leptos::ev::pagehide, move |_| {
        if autosave.cancel() {
            save();
        }
    });
    // The checks (lint, import, labels) are the second wasm module, fetched now that the
    // editor is drawn: together they are as big as the rest, and a first render on a slow
    // link would wait for them otherwise.
    let checks = RwSignal::new(if analysis::is_ready() {
        Checks::Ready
    } else {
        Checks::Loading
    });
    leptos::task::spawn_local(async move {
        match analysis::ready().await {
            Ok(()) => {
                checks.set(Checks::Ready);
                browser::mark_time("__gaqnoChecksReady");
            }
            Err(why) => checks.set(Checks::Failed(why)),
        }
    });
    let findings = RwSignal::new(Vec::new());
    let lint_now = move || {
        let request = history.with_untracked(|h| Request::Findings {
            project: h.current.clone(),
        });
        if let Some(found) = analysis::answer::<Vec<Finding>>(&request) {
            findings.set(found);
        }
    };
    Effect::new(move |_| {
        if checks.with(|c| *c == Checks::Ready) {
            lint_now();
        }
    });
    // The preview's YAML, the findings and the diagram follow edits once typing pauses:
    // writing and linting 100 services' config is most of an edit's cost, and a keystroke
    // must stay under a frame. `behind` is true meanwhile (what tests wait on).
    let shown_yaml = RwSignal::new(yaml.get_untracked());
    let behind = RwSignal::new(false);
    let settle = Debounced::new(SETTLE_DELAY_MS);
    Effect::new(move |first: Option<()>| {
        history.track();
        if first.is_some() {
            behind.set(true);
            settle.schedule(move || {
                lint_now();
                shown_yaml.set(yaml.get_untracked());
                behind.set(false);
            });
        }
    });
    // Grouped when the findings change (after a pause), against the project they were
    // found in: a keystroke must not regroup every finding of 100 services.
    let by_service = Memo::new(move |_| {
        findings.with(|all| history.with_untracked(|h| findings_by_service(&h.current, all)))
    });
    let editor = Editor {
        history,
        exported,
        selected: RwSignal::new(0),
        findings,
        by_service,
        shown_yaml,
        behind,
        checks,
        last_step: RwSignal::new(String::new()),
    };
    provide_context(editor);
    let shortcuts = window_event_listener(leptos::ev::keydown, move |ev| shortcut(editor, &ev));
    let menu_undo =
        window_event_listener_untyped("beforeinput", move |ev| history_input(editor, &ev));
    on_cleanup(move || {
        flush.remove();
        shortcuts.remove();
        menu_undo.remove();
    });
    let service_count = Memo::new(move |_| history.with(|h| h.current.services.len()));
    // The open editor: the selected service, or the last one when fewer are left.
    let open = Memo::new(move |_| {
        let count = service_count.get();
        (count > 0).then(|| editor.selected.get().min(count - 1))
    });
    view! {
        <Header />
        <main class="workspace">
            // The project-wide panels, folded to a row of headings above the columns; one
            // opened takes the whole width, so a compose file, labels and flags are read
            // line by line, not broken down a sidebar.
            <section class="tools" aria-label="Project tools">
                <target::TargetPanel />
                <import::ImportPanel />
                <compose::ComposePanel />
                <labels::LabelsPanel />
                <plugin::PluginPanel />
            </section>
            <aside class="sidebar">
                <service_list::ServiceList />
            </aside>
            <section class="editor" aria-label="Service">
                <paths::PathsPanel />
                {move || match open.get() {
                    Some(index) => {
                        view! { <service_editor::ServiceEditor index=index /> }.into_any()
                    }
                    None => {
                        view! {
                            <p class="empty" data-testid="no-service">
                                "No service yet: add one from the list."
                            </p>
                        }
                            .into_any()
                    }
                }}
            </section>
            <section class="output" aria-label="Output">
                <findings::FindingList />
                <preview::DownloadBar yaml=yaml />
                <preview::Preview />
            </section>
        </main>
    }
}

/// The app's keys. Ctrl/Cmd+Z undoes and Ctrl/Cmd+Shift+Z or Ctrl+Y redoes the project's
/// history everywhere but in the text boxes that are not project fields (the filter, the
/// pasted YAML, compose file and labels), which keep the browser's undo for their own text.
/// In a project field the browser's undo never runs: it is page-wide in Chromium (Ctrl+Z in
/// one field can undo typing in another, whose input event would then write the model).
/// `/` goes to the service filter from outside text fields. Ctrl/Cmd+A in a focused block
/// of text (the YAML preview, a compose file, the labels) selects that block, not the page.
fn shortcut(editor: Editor, ev: &web_sys::KeyboardEvent) {
    let key = ev.key().to_lowercase();
    let acted = if ev.ctrl_key() || ev.meta_key() {
        match (key.as_str(), ev.shift_key()) {
            _ if browser::is_own_undo_box(ev.target()) => None,
            ("a", false) => browser::select_all_in_text_block(ev.target()).then_some(true),
            ("z", false) => Some(undo_or_redo(editor, Step::Undo)),
            ("z", true) | ("y", false) => Some(undo_or_redo(editor, Step::Redo)),
            _ => None,
        }
    } else if key == "/" && !browser::in_text_field(ev) {
        browser::focus_later("service-filter".into());
        Some(true)
    } else {
        None
    };
    if acted.is_some() {
        ev.prevent_default();
    }
}

/// The browser's Undo and Redo from its menus (`beforeinput` of type `historyUndo` or
/// `historyRedo`) do what the keys do: the app's history, never the page's (but in a box
/// that keeps its own).
fn history_input(editor: Editor, ev: &web_sys::Event) {
    let kind = js_sys::Reflect::get(ev, &wasm_bindgen::JsValue::from_str("inputType"))
        .ok()
        .and_then(|v| v.as_string());
    let step = match kind.as_deref() {
        Some("historyUndo") => Step::Undo,
        Some("historyRedo") => Step::Redo,
        _ => return,
    };
    if browser::is_own_undo_box(ev.target()) {
        return;
    }
    ev.prevent_default();
    undo_or_redo(editor, step);
}

/// A step through the project's history.
#[derive(Clone, Copy)]
enum Step {
    Undo,
    Redo,
}

/// One step back or forward, shown: the service it changed opens, the field scrolls into
/// view and is marked, and the toolbar says what changed. Whether there was a step.
fn undo_or_redo(editor: Editor, step: Step) -> bool {
    let mut change = None;
    let stepped = editor
        .history
        .try_update(|h| {
            let before = h.current.clone();
            let stepped = match step {
                Step::Undo => h.undo(),
                Step::Redo => h.redo(),
            };
            if stepped {
                change = crate::changes::change_between(&before, &h.current);
            }
            stepped
        })
        .unwrap_or(false);
    if let Some(change) = change {
        if let Some(index) = change.service {
            editor.selected.set(index);
        }
        if let Some(testid) = change.testid {
            browser::reveal_later(testid);
        }
        let verb = match step {
            Step::Undo => "Undid",
            Step::Redo => "Redid",
        };
        editor.last_step.set(format!("{verb}: {}", change.what));
    }
    stepped
}

#[component]
fn Header() -> impl IntoView {
    let editor = editor();
    let history = editor.history;
    let theme = RwSignal::new(browser::saved_theme());
    let confirming_reset = RwSignal::new(false);
    view! {
        <header>
            <h1>"gaqno-lb"</h1>
            <p class="tagline">"Traefik load balancing for GAQNO's services on Coolify"</p>
            <nav class="toolbar" aria-label="Project">
                <button
                    data-testid="undo"
                    title="Undo (Ctrl+Z)"
                    prop:disabled=move || history.with(|h| !h.can_undo())
                    on:click=move |_| {
                        undo_or_redo(editor, Step::Undo);
                    }
                >
                    "Undo"
                </button>
                <button
                    data-testid="redo"
                    title="Redo (Ctrl+Shift+Z)"
                    prop:disabled=move || history.with(|h| !h.can_redo())
                    on:click=move |_| {
                        undo_or_redo(editor, Step::Redo);
                    }
                >
                    "Redo"
                </button>
                // Said, and shown: an undo may change a field that is off-screen.
                <span class="last-step" role="status" data-testid="history-announcement">
                    {move || editor.last_step.get()}
                </span>
                <button
                    data-testid="reset"
                    aria-expanded=move || confirming_reset.get().to_string()
                    on:click=move |_| confirming_reset.update(|c| *c = !*c)
                >
                    "Reset to preset…"
                </button>
                // The whole project goes at once: asked first, with what Undo can and cannot
                // bring back (the history lives in this page only).
                <Show when=move || confirming_reset.get()>
                    <span class="confirm" role="group" aria-label="Reset to preset">
                        <span data-testid="reset-question">
                            "Replace every service with the GAQNO preset? Undo brings them back until you reload the page."
                        </span>
                        <button
                            data-testid="reset-confirm"
                            on:click=move |_| {
                                editor.edit(|p| *p = Project::gaqno());
                                confirming_reset.set(false);
                            }
                        >
                            "Reset"
                        </button>
                        <button
                            data-testid="reset-cancel"
                            on:click=move |_| confirming_reset.set(false)
                        >
                            "Cancel"
                        </button>
                    </span>
                </Show>
                <label class="theme">
                    "Theme "
                    <select
                        data-testid="theme"
                        prop:value=move || theme.get()
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            browser::set_theme(&v);
                            theme.set(v);
                        }
                    >
                        <option value="">"System"</option>
                        <option value="light">"Light"</option>
                        <option value="dark">"Dark"</option>
                    </select>
                </label>
            </nav>
        </header>
    }
}
