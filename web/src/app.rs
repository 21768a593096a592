//! The Leptos UI (wasm only). One root signal holds the [`History`]; every edit goes through
//! `History::edit` with a `shared` model operation, so undo/redo covers everything. The
//! preview, the findings and the download all derive from the same export.

use gloo_storage::Storage;
use leptos::prelude::*;
use shared::model::{Project, SameSite, Service, Strategy, TraefikVersion};
use shared::traefik::{sticky_cookie_value, GoDuration};

use shared::lint::Diagnostic;

use crate::{
    apply_fix, findings_by_service, findings_of_export, load_project, preview_chunks, History,
    ServiceFinding, STORAGE_KEY,
};

/// How long typing must pause before the project is written to localStorage.
const AUTOSAVE_DELAY_MS: u64 = 300;
/// How long typing must pause before the preview and the findings follow: writing and
/// linting 100 services' YAML is most of a keystroke's cost, and nobody reads either mid-word.
const SETTLE_DELAY_MS: u64 = 120;

/// Runs the last scheduled job once `delay` has passed without a newer one.
#[derive(Clone, Copy)]
struct Debounced {
    pending: StoredValue<Option<TimeoutHandle>>,
    delay: std::time::Duration,
}

impl Debounced {
    fn new(delay_ms: u64) -> Debounced {
        Debounced {
            pending: StoredValue::new(None),
            delay: std::time::Duration::from_millis(delay_ms),
        }
    }

    fn schedule(self, job: impl Fn() + 'static) {
        self.cancel();
        let pending = self.pending;
        let handle = set_timeout_with_handle(
            move || {
                pending.set_value(None);
                job();
            },
            self.delay,
        )
        .ok();
        self.pending.set_value(handle);
    }

    /// Drops the pending job; whether there was one.
    fn cancel(self) -> bool {
        match self.pending.get_value() {
            Some(handle) => {
                handle.clear();
                self.pending.set_value(None);
                true
            }
            None => false,
        }
    }
}

/// One signal per service editor, set only when that service changed. Views of a service
/// read its slot, not the project: were each service a memo over the whole project, every
/// keystroke would wake all 100 services' field views (~2,500) to re-check their memo.
#[derive(Clone, Copy)]
struct ServiceSlots(StoredValue<Vec<ArcRwSignal<Option<Service>>>>);

impl ServiceSlots {
    fn new() -> ServiceSlots {
        ServiceSlots(StoredValue::new(Vec::new()))
    }

    /// The slot of service `index`, holding the service as it is now.
    fn slot(self, index: usize, history: RwSignal<History>) -> ReadSignal<Option<Service>> {
        let slot = self.0.try_update_value(|slots| {
            while slots.len() <= index {
                slots.push(ArcRwSignal::new(None));
            }
            slots.get(index).cloned()
        });
        let slot = slot.flatten().unwrap_or_else(|| ArcRwSignal::new(None));
        history.with_untracked(|h| sync_slot(&slot, h.current.services.get(index)));
        RwSignal::from(slot).read_only()
    }

    /// Brings every slot up to date with `services`: the changed ones notify.
    fn sync(self, services: &[Service]) {
        self.0.with_value(|slots| {
            for (index, slot) in slots.iter().enumerate() {
                sync_slot(slot, services.get(index));
            }
        });
    }
}

fn sync_slot(slot: &ArcRwSignal<Option<Service>>, now: Option<&Service>) {
    if slot.with_untracked(|held| held.as_ref() != now) {
        slot.set(now.cloned());
    }
}

/// Lint findings of the current project, computed once per edit and shared by every view.
#[derive(Clone, Copy)]
struct Findings {
    all: RwSignal<Vec<Diagnostic>>,
    by_service: Memo<Vec<Vec<ServiceFinding>>>,
}

/// Panic hook, then the app. `window.__gaqnoFirstRender` (ms since navigation start) is
/// what `cargo xtask bench` reports as time to first render.
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
    if let Some(window) = web_sys::window() {
        let now = window.performance().map(|p| p.now()).unwrap_or_default();
        let _ = js_sys::Reflect::set(
            &window,
            &wasm_bindgen::JsValue::from_str("__gaqnoFirstRender"),
            &wasm_bindgen::JsValue::from_f64(now),
        );
    }
}

fn saved_project() -> Project {
    gloo_storage::LocalStorage::raw()
        .get_item(STORAGE_KEY)
        .ok()
        .flatten()
        .and_then(|text| load_project(&text))
        .unwrap_or_else(Project::gaqno)
}

#[component]
fn App() -> impl IntoView {
    let history = RwSignal::new(History::new(saved_project()));
    // One export per edit feeds the preview, the download and the linter.
    let exported = Memo::new(move |_| history.with(|h| shared::export::export(&h.current)));
    let yaml = Memo::new(move |_| {
        exported.with(|c| shared::export::config_to_yaml(c).unwrap_or_default())
    });
    // Autosave, the only effect syncing outward: a pause in typing (or leaving the page)
    // writes localStorage, not every keystroke.
    let save = move || {
        if let Ok(text) = history.with_untracked(|h| shared::yaml::to_string(&h.current)) {
            let _ = gloo_storage::LocalStorage::raw().set_item(STORAGE_KEY, &text);
        }
    };
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
    // Ctrl/Cmd+Z undoes, Ctrl/Cmd+Shift+Z or Ctrl+Y redoes; inside a text field the
    // browser's own undo of that field's text wins.
    let shortcuts = window_event_listener(leptos::ev::keydown, move |ev| {
        use wasm_bindgen::JsCast;
        let in_text = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if in_text || !(ev.ctrl_key() || ev.meta_key()) {
            return;
        }
        let key = ev.key().to_lowercase();
        let acted = match (key.as_str(), ev.shift_key()) {
            ("z", false) => history.try_update(History::undo),
            ("z", true) | ("y", false) => history.try_update(History::redo),
            _ => None,
        };
        if acted.is_some() {
            ev.prevent_default();
        }
    });
    on_cleanup(move || {
        flush.remove();
        shortcuts.remove();
    });
    let edit = move |f: Box<dyn FnOnce(&mut Project)>| history.update(|h| h.edit(f));
    provide_context(history);
    let slots = ServiceSlots::new();
    provide_context(slots);
    Effect::new(move |_| history.with(|h| slots.sync(&h.current.services)));
    // The preview's YAML and the findings follow edits once typing pauses: writing and linting
    // 100 services' config is most of an edit's cost, and a keystroke must stay under a frame.
    // `behind` is true meanwhile (the preview's `data-current`, what tests wait on).
    let lint_now = move || {
        history.with_untracked(|h| exported.with_untracked(|c| findings_of_export(&h.current, c)))
    };
    let all = RwSignal::new(lint_now());
    let shown_yaml = RwSignal::new(yaml.get_untracked());
    let behind = RwSignal::new(false);
    let settle = Debounced::new(SETTLE_DELAY_MS);
    Effect::new(move |first: Option<()>| {
        history.track();
        if first.is_some() {
            behind.set(true);
            settle.schedule(move || {
                all.set(lint_now());
                shown_yaml.set(yaml.get_untracked());
                behind.set(false);
            });
        }
    });
    // Grouped when the findings change (after a pause), against the project they were
    // found in: a keystroke must not regroup every finding of 100 services.
    let by_service = Memo::new(move |_| {
        all.with(|all| history.with_untracked(|h| findings_by_service(&h.current, all)))
    });
    provide_context(Findings { all, by_service });
    let service_count = Memo::new(move |_| history.with(|h| h.current.services.len()));
    view! {
        <header>
            <h1>"gaqno-lb"</h1>
            <p class="tagline">"Traefik load balancing for GAQNO's services on Coolify"</p>
            <nav class="toolbar">
                <button data-testid="undo" prop:disabled=move || history.with(|h| !h.can_undo()) on:click=move |_| history.update(|h| { h.undo(); })>"Undo"</button>
                <button data-testid="redo" prop:disabled=move || history.with(|h| !h.can_redo()) on:click=move |_| history.update(|h| { h.redo(); })>"Redo"</button>
                <button data-testid="reset" on:click=move |_| edit(Box::new(|p| *p = Project::gaqno()))>"Reset to preset"</button>
            </nav>
        </header>
        <main>
            <section class="editor">
                <TargetPanel/>
                <h2>"Services"</h2>
                <For each=move || 0..service_count.get() key=|i| *i children=move |i| view! { <ServiceEditor index=i/> }/>
                <button data-testid="add-service" on:click=move |_| edit(Box::new(|p| { p.add_service(); }))>"Add service"</button>
                <ImportPanel/>
                <LabelsPanel/>
                <PluginPanel/>
            </section>
            <section class="output">
                <FindingList/>
                <DownloadBar yaml=yaml/>
                <Preview yaml=shown_yaml behind=behind/>
            </section>
        </main>
    }
}

fn history() -> RwSignal<History> {
    expect_context::<RwSignal<History>>()
}

/// Applies `f` to the service at `index` as one undoable edit.
fn edit_service(index: usize, f: impl FnOnce(&mut Service) + 'static) {
    history().update(|h| {
        h.edit(|p| {
            if let Some(s) = p.services.get_mut(index) {
                f(s)
            }
        })
    });
}

/// A keystroke in the service field `field`: live, one undo step per run of keystrokes.
fn type_into_service(index: usize, field: &str, f: impl FnOnce(&mut Service)) {
    history().update(|h| {
        h.type_into(field, |p| {
            if let Some(s) = p.services.get_mut(index) {
                f(s)
            }
        })
    });
}

/// Reads from one service's slot: a view that reads through it re-runs only when that
/// service changed, not on every edit of the project (100 services x 25 fields).
fn read_service<T: Default>(service: ReadSignal<Option<Service>>, f: impl Fn(&Service) -> T) -> T {
    service.with(|s| s.as_ref().map(f).unwrap_or_default())
}

/// A text field that edits the model on every keystroke. While it is being typed in, it
/// shows what was typed (a draft), not the model's rendering of it: `a.com,` must not
/// snap back to `a.com` under the cursor. Leaving the field drops the draft, so the field
/// then shows what the model made of it.
fn live_input(
    testid: String,
    read: impl Fn() -> String + Send + Sync + 'static,
    write: impl Fn(String) + 'static,
) -> impl IntoView {
    let draft = RwSignal::new(None::<String>);
    view! {
        <input
            data-testid=testid
            prop:value=move || draft.get().unwrap_or_else(&read)
            on:input=move |ev| {
                let v = event_target_value(&ev);
                draft.set(Some(v.clone()));
                write(v);
            }
            on:change=move |_| draft.set(None)
        />
    }
}

/// The findings at one field of service `index`, shown beside it.
fn field_note(index: usize, field: String) -> impl IntoView {
    let by_service = expect_context::<Findings>().by_service;
    let testid = format!("service-{index}-{field}-finding");
    let notes = Memo::new(move |_| {
        by_service.with(|all| {
            all.get(index)
                .map(|list| {
                    list.iter()
                        .filter(|f| f.field.as_deref() == Some(field.as_str()))
                        .map(|f| (f.error, f.text.clone()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    move || {
        let notes = notes.get();
        (!notes.is_empty()).then(|| {
            let error = notes.iter().any(|(error, _)| *error);
            let text = notes.into_iter().map(|(_, t)| t).collect::<Vec<_>>().join("\n");
            view! { <small class=if error { "field-finding error" } else { "field-finding warning" } role="alert" data-testid=testid.clone()>{text}</small> }
        })
    }
}

#[component]
fn TargetPanel() -> impl IntoView {
    let history = history();
    let target = move |f: Box<dyn FnOnce(&mut shared::model::Target)>| {
        history.update(|h| h.edit(|p| f(&mut p.target)))
    };
    let read =
        move |f: fn(&shared::model::Target) -> String| history.with(|h| f(&h.current.target));
    view! {
        <fieldset class="target">
            <legend>"Traefik"</legend>
            <label>"Version "
                <select data-testid="traefik-version" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    if let Ok(version) = v.parse::<TraefikVersion>() { target(Box::new(move |t| t.traefik_version = version)) }
                } prop:value=move || read(|t| t.traefik_version.to_string())>
                    <option value="3.6">"3.6 (Coolify)"</option>
                    <option value="3.7">"3.7"</option>
                </select>
            </label>
            <label>"Entrypoints "
                <button data-testid="entrypoints-coolify" on:click=move |_| target(Box::new(|t| { t.http_entry_point = "http".into(); t.https_entry_point = "https".into(); }))>"Coolify http/https"</button>
                <button data-testid="entrypoints-dokploy" on:click=move |_| target(Box::new(|t| { t.http_entry_point = "web".into(); t.https_entry_point = "websecure".into(); }))>"Dokploy web/websecure"</button>
            </label>
            <label>"HTTP " <input data-testid="http-entrypoint" prop:value=move || read(|t| t.http_entry_point.clone()) on:change=move |ev| { let v = event_target_value(&ev); target(Box::new(move |t| t.http_entry_point = v)) }/></label>
            <label>"HTTPS " <input data-testid="https-entrypoint" prop:value=move || read(|t| t.https_entry_point.clone()) on:change=move |ev| { let v = event_target_value(&ev); target(Box::new(move |t| t.https_entry_point = v)) }/></label>
            <label>"Cert resolver " <input data-testid="cert-resolver" prop:value=move || read(|t| t.cert_resolver.clone().unwrap_or_default()) on:change=move |ev| { let v = event_target_value(&ev); target(Box::new(move |t| t.cert_resolver = Some(v).filter(|v| !v.is_empty()))) }/></label>
            <label>"Plugin name " <input data-testid="plugin-name" prop:value=move || read(|t| t.plugin_name.clone()) on:change=move |ev| { let v = event_target_value(&ev); target(Box::new(move |t| t.plugin_name = v)) }/></label>
        </fieldset>
    }
}

#[component]
fn ServiceEditor(index: usize) -> impl IntoView {
    let history = history();
    let service = expect_context::<ServiceSlots>().slot(index, history);
    let name = move || read_service(service, |s| s.name.clone());
    let server_count = Memo::new(move |_| read_service(service, |s| s.servers.len()));
    let by_service = expect_context::<Findings>().by_service;
    let issues = Memo::new(move |_| {
        by_service.with(|all| {
            all.get(index)
                .map(|list| list.iter().map(|f| f.text.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    // Text fields follow every keystroke (the preview is live); `set` must accept any
    // intermediate text, keeping the last valid value where the text does not parse.
    let text = move |testid: &'static str,
                     get: fn(&Service) -> String,
                     set: fn(&mut Service, String)| {
        let id = format!("service-{index}-{testid}");
        let field = id.clone();
        view! {
            {live_input(id, move || read_service(service, get), move |v| type_into_service(index, &field, move |s| set(s, v)))}
            {field_note(index, testid.to_owned())}
        }
    };
    let check = move |testid: &'static str,
                      get: fn(&Service) -> bool,
                      set: fn(&mut Service, bool)| {
        view! {
            <input type="checkbox" data-testid=format!("service-{index}-{testid}") prop:checked=move || read_service(service, get) on:change=move |ev| { let v = event_target_checked(&ev); edit_service(index, move |s| set(s, v)) }/>
        }
    };
    view! {
        <fieldset class="service" data-testid=format!("service-{index}")>
            <legend>{name}</legend>
            <div class="row">
                <button data-testid=format!("service-{index}-up") on:click=move |_| history.update(|h| h.edit(|p| { if index > 0 { p.move_service(index, index - 1); } }))>"↑"</button>
                <button data-testid=format!("service-{index}-down") on:click=move |_| history.update(|h| h.edit(|p| { p.move_service(index, index + 1); }))>"↓"</button>
                <button data-testid=format!("service-{index}-duplicate") on:click=move |_| history.update(|h| h.edit(|p| { p.duplicate_service(index); }))>"Duplicate"</button>
                <button data-testid=format!("service-{index}-remove") on:click=move |_| history.update(|h| h.edit(|p| { p.remove_service(index); }))>"Remove"</button>
            </div>
            <label>"Name " {text("name", |s| s.name.clone(), |s, v| s.rename(&v))}</label>
            <label>"Hosts " {text("hosts", |s| s.hosts.join(", "), |s, v| s.hosts = v.split(',').map(str::trim).filter(|h| !h.is_empty()).map(String::from).collect())}</label>
            <label>"Path prefix " {text("path-prefix", |s| s.path_prefix.clone().unwrap_or_default(), |s, v| s.path_prefix = Some(v).filter(|v| !v.is_empty()))}</label>
            <label>"Port " {text("port", |s| s.port.to_string(), |s, v| { if let Ok(p) = v.trim().parse() { s.port = p } })}</label>
            <label>"Priority " {text("priority", |s| s.priority.map(|p| p.to_string()).unwrap_or_default(), |s, v| s.priority = v.trim().parse().ok())}</label>
            <label>"Strategy "
                <select data-testid=format!("service-{index}-strategy") prop:value=move || read_service(service, |s| s.strategy.map(|s| s.as_str().to_owned()).unwrap_or_default()) on:change=move |ev| { let v = event_target_value(&ev); edit_service(index, move |s| s.strategy = Strategy::parse(&v)) }>
                    <option value="">"default (wrr)"</option>
                    {Strategy::ALL.map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).to_vec()}
                </select>
                {field_note(index, "strategy".to_owned())}
            </label>
            <h3>"Replicas"</h3>
            <label>{check("docker", |s| s.docker_replicas.is_some(), |s, on| s.docker_replicas = on.then_some(shared::model::DockerReplicas { count: 2 }))} " Docker replicas on this server (Coolify's Replicas)"</label>
            <Show when=move || read_service(service, |s| s.docker_replicas.is_some())>
                <label>"Containers " {text("docker-count", |s| s.docker_replicas.map(|d| d.count.to_string()).unwrap_or_default(), |s, v| { if let (Some(d), Ok(n)) = (s.docker_replicas.as_mut(), v.trim().parse()) { d.count = n } })}</label>
                <p class="note" data-testid=format!("service-{index}-docker-note")>"Traefik finds the containers itself; this service's settings go into the application's labels (below: Replicas on one server), not into the YAML."</p>
            </Show>
            <ul class="servers" class:hidden=move || read_service(service, |s| s.docker_replicas.is_some())>
                <For each=move || 0..server_count.get() key=|j| *j children=move |j| {
                    let url = move || read_service(service, move |s| s.servers.get(j).cloned().unwrap_or_default());
                    view! {
                        <li>
                            {live_input(format!("service-{index}-server-{j}"), url, move |v| type_into_service(index, &format!("service-{index}-server-{j}"), move |s| { if let Some(u) = s.servers.get_mut(j) { *u = v } }))}
                            <code class="cookie" title="Traefik's sticky cookie value for this replica" data-testid=format!("service-{index}-cookie-{j}")>{move || sticky_cookie_value(&url())}</code>
                            <button data-testid=format!("service-{index}-remove-server-{j}") aria-label="Remove this replica" on:click=move |_| edit_service(index, move |s| { s.remove_replica(j); })>"×"</button>
                            {field_note(index, format!("server-{j}"))}
                        </li>
                    }
                }/>
            </ul>
            <button data-testid=format!("service-{index}-add-server") class:hidden=move || read_service(service, |s| s.docker_replicas.is_some()) on:click=move |_| edit_service(index, |s| { s.add_replica(); })>"Add replica"</button>
            <h3>"Health check"</h3>
            <label>{check("health", |s| s.health_check.is_some(), |s, on| s.health_check = on.then(shared::model::HealthCheck::gaqno))} " on"</label>{field_note(index, "health".to_owned())}
            <label>"Path " {text("health-path", |s| s.health_check.as_ref().map(|h| h.path.clone()).unwrap_or_default(), |s, v| { if let Some(h) = s.health_check.as_mut() { h.path = v } })}</label>
            <label>"Interval " {text("health-interval", |s| s.health_check.as_ref().and_then(|h| h.interval.as_ref()).map(|d| d.to_string()).unwrap_or_default(), |s, v| { if let Some(h) = s.health_check.as_mut() { h.interval = Some(v).filter(|v| !v.is_empty()).map(GoDuration::new) } })}</label>
            <label>"Timeout " {text("health-timeout", |s| s.health_check.as_ref().and_then(|h| h.timeout.as_ref()).map(|d| d.to_string()).unwrap_or_default(), |s, v| { if let Some(h) = s.health_check.as_mut() { h.timeout = Some(v).filter(|v| !v.is_empty()).map(GoDuration::new) } })}</label>
            <h3>"Sticky cookie"</h3>
            <label>{check("sticky", |s| s.sticky.enabled, |s, on| s.sticky.enabled = on)} " on"</label>{field_note(index, "sticky".to_owned())}
            <label>"Name " {text("cookie-name", |s| s.sticky.name.clone(), |s, v| s.sticky.name = v)}</label>
            <label>{check("secure", |s| s.sticky.secure, |s, on| s.sticky.secure = on)} " Secure"</label>{field_note(index, "secure".to_owned())}
            <label>{check("http-only", |s| s.sticky.http_only, |s, on| s.sticky.http_only = on)} " HttpOnly"</label>{field_note(index, "http-only".to_owned())}
            <label>"SameSite "
                <select data-testid=format!("service-{index}-same-site") prop:value=move || read_service(service, |s| s.sticky.same_site.map(|v| v.as_str().to_owned()).unwrap_or_default()) on:change=move |ev| { let v = event_target_value(&ev); edit_service(index, move |s| s.sticky.same_site = SameSite::parse(&v)) }>
                    <option value="">"not set"</option>
                    <option value="lax">"lax"</option>
                    <option value="strict">"strict"</option>
                    <option value="none">"none"</option>
                </select>
                {field_note(index, "same-site".to_owned())}
            </label>
            <label>"Max age (s) " {text("max-age", |s| s.sticky.max_age.map(|a| a.to_string()).unwrap_or_default(), |s, v| s.sticky.max_age = v.trim().parse().ok())}</label>
            <h3>"Socket.IO affinity"</h3>
            <label>{check("socketio", |s| s.socket_io.enabled, |s, on| s.set_socket_io(on))} " through the gaqno-lb plugin"</label>{field_note(index, "socketio".to_owned())}
            <label>"Path " {text("socketio-path", |s| s.socket_io.path.clone(), |s, v| s.socket_io.path = v)}</label>
            <ul class="findings" data-testid=format!("service-{index}-findings")>
                {move || issues.get().into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}
            </ul>
        </fieldset>
    }
}

#[component]
fn FindingList() -> impl IntoView {
    let history = history();
    let all = expect_context::<Findings>().all;
    view! {
        <section class="all-findings">
            <h2>"Findings"</h2>
            <p data-testid="finding-count">{move || format!("{} finding(s)", all.with(Vec::len))}</p>
            <ul data-testid="findings">
                {move || all.get().into_iter().enumerate().map(|(i, d)| {
                    let fix = d.fix.clone();
                    let diagnostic = d.clone();
                    view! {
                        <li class=d.severity.to_string() data-testid=format!("finding-{i}")>
                            {d.to_string()}
                            {fix.map(|title| view! {
                                <button data-testid=format!("fix-{i}") on:click=move |_| {
                                    let d = diagnostic.clone();
                                    history.update(|h| { if let Some(fixed) = apply_fix(&h.current, &d) { h.edit(|p| *p = fixed) } })
                                }>{format!("Fix: {title}")}</button>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// The YAML exactly as downloaded (once typing pauses; `behind` until then), in blocks of
/// lines: unchanged blocks keep their DOM nodes and off-screen ones are not laid out
/// (`content-visibility`), see [`preview_chunks`].
#[component]
fn Preview(yaml: RwSignal<String>, behind: RwSignal<bool>) -> impl IntoView {
    let chunks = Memo::new(move |_| yaml.with(|y| preview_chunks(y)));
    view! {
        <pre data-testid="yaml-preview" class="yaml-preview" data-current=move || (!behind.get()).to_string()>
            <For each=move || chunks.get().into_iter().enumerate() key=|chunk| chunk.clone() children=|(_, text)| view! { <span class="yaml-chunk">{text}</span> }/>
        </pre>
    }
}

#[component]
fn DownloadBar(yaml: Memo<String>) -> impl IntoView {
    let all = expect_context::<Findings>().all;
    let errors = Memo::new(move |_| {
        all.with(|all| {
            all.iter()
                .filter(|d| d.severity == shared::lint::Severity::Error)
                .count()
        })
    });
    let copied = RwSignal::new(false);
    view! {
        <div class="download">
            <button data-testid="download" on:click=move |_| download(shared::export::COOLIFY_FILE_NAME, &yaml.get())>{format!("Download {}", shared::export::COOLIFY_FILE_NAME)}</button>
            <button data-testid="copy" on:click=move |_| {
                copy_text(&yaml.get());
                copied.set(true);
            }>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
            <Show when=move || { errors.get() > 0 }>
                <span class="warning" data-testid="download-warning">{move || format!("{} error(s) left: Traefik will reject or mis-serve this file", errors.get())}</span>
            </Show>
        </div>
    }
}

/// Puts `text` on the clipboard (the browser may refuse; nothing else to do then).
fn copy_text(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}

fn download(name: &str, text: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/yaml");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(anchor) = document.create_element("a") {
        use wasm_bindgen::JsCast;
        if let Ok(anchor) = anchor.dyn_into::<web_sys::HtmlAnchorElement>() {
            anchor.set_href(&url);
            anchor.set_download(name);
            anchor.click();
        }
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Files larger than this are refused unread: no Traefik dynamic config is that big.
const MAX_IMPORT_BYTES: f64 = 1024.0 * 1024.0;

#[component]
fn ImportPanel() -> impl IntoView {
    let history = history();
    let text = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let import = move |yaml: &str| match shared::import::import_yaml(yaml) {
        Ok(imported) => {
            let notes: Vec<String> = imported.unmapped.iter().map(ToString::to_string).collect();
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
            message.set(Some((true, summary)));
        }
        // The current project stays as it is.
        Err(e) => message.set(Some((false, format!("not imported: {e}")))),
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
        <fieldset class="import" data-testid="import-drop"
            on:dragover=move |ev: web_sys::DragEvent| ev.prevent_default()
            on:drop=move |ev: web_sys::DragEvent| {
                ev.prevent_default();
                import_file(ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)));
            }>
            <legend>"Import Traefik YAML"</legend>
            <label class="file">"Pick or drop a file here "
                <input type="file" accept=".yml,.yaml,text/yaml,text/plain" data-testid="import-file" on:change=move |ev| {
                    use wasm_bindgen::JsCast;
                    let input = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
                    import_file(input.as_ref().and_then(|i| i.files()).and_then(|f| f.get(0)));
                    // Picking the same file again must import it again.
                    if let Some(input) = input { input.set_value(""); }
                }/>
            </label>
            <textarea data-testid="import-text" rows="6" aria-label="Traefik YAML to import" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            <button data-testid="import" on:click=move |_| import(&text.get())>"Import"</button>
            <p data-testid="import-message" class=move || if message.get().is_some_and(|(ok, _)| ok) { "ok" } else { "error" }>{move || message.get().map(|(_, m)| m).unwrap_or_default()}</p>
        </fieldset>
    }
}

/// Coolify "Replicas" on one server: the application's generated labels pasted in, ours
/// added (the same code as `gaqno-lb labels`), shown as a diff, copied back.
#[component]
fn LabelsPanel() -> impl IntoView {
    let history = history();
    let names = Memo::new(move |_| {
        history.with(|h| {
            h.current
                .services
                .iter()
                .map(|s| s.name.clone())
                .collect::<Vec<_>>()
        })
    });
    let chosen = RwSignal::new(String::new());
    // The first Socket.IO service until one is picked.
    let service = move || {
        let picked = chosen.get();
        history.with(|h| {
            h.current
                .services
                .iter()
                .find(|s| s.name == picked)
                .or_else(|| h.current.services.iter().find(|s| s.socket_io.enabled))
                .or_else(|| h.current.services.first())
                .map(|s| s.name.clone())
                .unwrap_or_default()
        })
    };
    let pasted = RwSignal::new(String::new());
    let result = RwSignal::new(None::<Result<(Vec<crate::DiffLine>, String), String>>);
    let run = move || {
        let name = service();
        let text = pasted.get_untracked();
        result.set(Some(history.with_untracked(|h| {
            crate::labels_with_affinity(&h.current, &name, &text)
        })));
    };
    let copied = RwSignal::new(false);
    view! {
        <details class="labels" data-testid="labels-panel">
            <summary>"Replicas on one server: Coolify labels"</summary>
            <p>"Paste the labels Coolify shows for the application (Configuration → General → Container Labels). gaqno-lb adds the service's sticky cookie, health check and Socket.IO affinity at the end and changes no other line; paste the result back and raise Replicas."</p>
            <label>"Service "
                <select data-testid="labels-service" on:change=move |ev| chosen.set(event_target_value(&ev))>
                    <For each=move || names.get() key=|n| n.clone() children=move |n| {
                        let value = n.clone();
                        view! { <option value=value.clone() selected=move || service() == value>{n}</option> }
                    }/>
                </select>
            </label>
            <textarea data-testid="labels-text" rows="8" aria-label="Coolify's labels" prop:value=move || pasted.get() on:input=move |ev| pasted.set(event_target_value(&ev))></textarea>
            <button data-testid="labels-add" on:click=move |_| { copied.set(false); run(); }>"Add gaqno-lb labels"</button>
            {move || match result.get() {
                None => ().into_any(),
                Some(Err(message)) => view! { <p class="error" data-testid="labels-message">{format!("not changed: {message}")}</p> }.into_any(),
                Some(Ok((lines, text))) => {
                    let added = lines.iter().filter(|(m, _)| *m == '+').count();
                    let removed = lines.iter().filter(|(m, _)| *m == '-').count();
                    view! {
                        <p class="ok" data-testid="labels-message">{format!("{added} line(s) added, {removed} removed, every other line unchanged")}</p>
                        <pre class="diff" data-testid="labels-diff">{lines.into_iter().map(|(mark, line)| {
                            let class = match mark { '+' => "added", '-' => "removed", _ => "same" };
                            view! { <span class=class>{format!("{mark} {line}\n")}</span> }
                        }).collect_view()}</pre>
                        <button data-testid="labels-copy" on:click=move |_| { copy_text(&text); copied.set(true); }>{move || if copied.get() { "Copied" } else { "Copy the labels" }}</button>
                    }.into_any()
                }
            }}
        </details>
    }
}

/// The release this app was built from: the plugin version its Coolify flags install.
const RELEASE: &str = env!("CARGO_PKG_VERSION");

#[component]
fn PluginPanel() -> impl IntoView {
    use shared::install;
    let history = history();
    let name = move || history.with(|h| h.current.target.plugin_name.clone());
    // As lines of the proxy compose's `command:` list, ready to paste.
    let catalog_lines = move || {
        install::catalog_flags(&name(), RELEASE)
            .iter()
            .map(|flag| format!("      - '{flag}'"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    view! {
        <details class="plugin" data-testid="plugin-panel">
            <summary>{format!("Load the plugin in Coolify (gaqno-lb v{RELEASE})")}</summary>
            <p>"From Traefik's plugin catalog: the proxy downloads it when it starts."</p>
            <ol>
                <li>"Servers → (server) → Proxy → Configuration: add to the proxy's " <code>"command:"</code> " list"
                    <pre data-testid="plugin-catalog-flags">{catalog_lines}</pre>
                    <button data-testid="copy-catalog-flags" on:click=move |_| copy_text(&catalog_lines())>"Copy"</button>
                </li>
                <li>"Save, Restart Proxy, and look for " <code>"Plugins loaded."</code> " in Proxy → Logs."</li>
            </ol>
            <p>"Offline, as a local plugin:"</p>
            <ol>
                <li>"Download " <a href=install::plugin_zip_url(RELEASE) data-testid="plugin-zip">{format!("gaqno-lb-plugin-v{RELEASE}.zip")}</a> " and unzip it into " <code>{install::LOCAL_PLUGIN_DIR}</code> " on every server."</li>
                <li>"Servers → Proxy → Configuration: add to the command " <code data-testid="plugin-flag">{move || install::local_plugin_flag(&name())}</code> " and the volume " <code>{install::LOCAL_PLUGIN_VOLUME}</code> "."</li>
                <li>"Save, Restart Proxy, and look for " <code>"Plugins loaded."</code> " in Proxy → Logs."</li>
            </ol>
        </details>
    }
}
