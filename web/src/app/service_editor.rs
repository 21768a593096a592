//! The open service's editor: its diagram, then its form, drawn from the field table
//! ([`crate::fields`]).

use leptos::prelude::*;
use shared::model::Service;
use shared::traefik::sticky_cookie_value;

use super::diagram::DiagramView;
use super::editor;
use super::text_field::live_input;
use crate::fields::{Field, Input, Value, SECTIONS};

/// A keystroke in `field` of service `index`: live, one undo step per run of keystrokes.
fn type_into(index: usize, field: Field, text: String) {
    editor().history.update(|h| {
        h.type_into(&field.testid(index), |p| {
            if let Some(s) = p.services.get_mut(index) {
                field.write(s, Value::Text(text))
            }
        })
    });
}

/// `field` of service `index` set to `value` as one undoable edit.
fn set(index: usize, field: Field, value: Value) {
    editor().edit(|p| {
        if let Some(s) = p.services.get_mut(index) {
            field.write(s, value)
        }
    });
}

#[component]
pub fn ServiceEditor(index: usize) -> impl IntoView {
    let editor = editor();
    let history = editor.history;
    // Only this service: a view of it re-runs when it changed, not on every edit.
    let service = Memo::new(move |_| history.with(|h| h.current.services.get(index).cloned()));
    let name = move || service.with(|s| s.as_ref().map(|s| s.name.clone()).unwrap_or_default());
    // Findings of the service as a whole; a finding at a field is shown beside it only.
    let issues = Memo::new(move |_| {
        editor.by_service.with(|all| {
            all.get(index)
                .map(|list| {
                    list.iter()
                        .filter(|f| f.field.is_none())
                        .map(|f| (f.text.clone(), f.finding.reference()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let move_to = move |to: usize| {
        let mut moved = false;
        editor.edit(|p| moved = p.move_service(index, to));
        if moved {
            editor.selected.set(to);
        }
    };
    view! {
        <article class="service" data-testid=format!("service-{index}") aria-label=name>
            <div class="service-head">
                <h2>{name}</h2>
                <div class="row">
                    <button
                        data-testid=format!("service-{index}-up")
                        aria-label="Move up"
                        on:click=move |_| move_to(index.saturating_sub(1))
                    >
                        "↑"
                    </button>
                    <button
                        data-testid=format!("service-{index}-down")
                        aria-label="Move down"
                        on:click=move |_| move_to(index + 1)
                    >
                        "↓"
                    </button>
                    <button
                        data-testid=format!("service-{index}-duplicate")
                        on:click=move |_| {
                            let mut copy = None;
                            editor.edit(|p| copy = p.duplicate_service(index));
                            if let Some(copy) = copy {
                                editor.selected.set(copy);
                            }
                        }
                    >
                        "Duplicate"
                    </button>
                    <button
                        data-testid=format!("service-{index}-remove")
                        on:click=move |_| {
                            editor
                                .edit(|p| {
                                    p.remove_service(index);
                                })
                        }
                    >
                        "Remove"
                    </button>
                </div>
            </div>
            <DiagramView index=index />
            <div class="sections">
                {SECTIONS
                    .iter()
                    .map(|(title, fields)| {
                        let replicas = *title == "Replicas";
                        let affinity = *title == "Socket.IO affinity";
                        view! {
                            <fieldset class="section">
                                <legend>{*title}</legend>
                                {fields
                                    .iter()
                                    .map(|f| field_view(index, *f, service))
                                    .collect_view()}
                                {replicas.then(|| servers_view(index, service))}
                                {affinity.then(|| sticky_only_view(index, service))}
                                {replicas
                                    .then(|| {
                                        view! {
                                            <p
                                                class="note"
                                                data-testid=format!("service-{index}-steps")
                                            >
                                                {move || {
                                                    service.with(|s| s.as_ref().map(steps).unwrap_or_default())
                                                }}
                                            </p>
                                        }
                                    })}
                            </fieldset>
                        }
                    })
                    .collect_view()}
            </div>
            <ul class="findings" data-testid=format!("service-{index}-findings")>
                {move || {
                    issues
                        .get()
                        .into_iter()
                        .map(|(text, reference)| {
                            view! { <li>{text} <small class="finding-ref">{reference}</small></li> }
                        })
                        .collect_view()
                }}
            </ul>
        </article>
    }
}

/// What to do in Coolify for the service's replicas, by where they run.
fn steps(service: &Service) -> String {
    use shared::model::ReplicasVia;
    match service.docker_replicas.map(|d| d.via) {
        None => match service.alias_replicas() {
            Some((prefix, count)) => format!(
                "One server, {count} Coolify applications of the same repository: give each Configuration → General → Network aliases {prefix}-1 … {prefix}-{count} and no domain, and turn on Configuration → Healthcheck (path /v1/health): without it, a redeploy stops the old container before the new one listens. Then paste the downloaded YAML (gaqno-lb.yaml) into Servers → Proxy → Dynamic Configurations. A redeploy updates one application at a time: its sessions reconnect."
            ),
            None => "Each replica below is its own server URL Traefik reaches; paste the downloaded YAML (gaqno-lb.yaml) into Servers → Proxy → Dynamic Configurations.".to_owned(),
        },
        Some(ReplicasVia::Compose) => "One server, a Raw Compose Deployment: Traefik finds the replicas through their labels, so this service leaves the YAML. The Raw Compose panel (across the top) writes the file to commit; then Configuration → Advanced → Docker compose → Compose deployment: Raw (deploy file as-is). Every deploy stops all its containers one by one before starting new ones: every session breaks, and HTTPS clients get 503 until a new replica is healthy.".to_owned(),
        Some(ReplicasVia::Swarm) => "Swarm servers: Traefik finds the tasks through their labels, so this service leaves the YAML. Set Configuration → General → Container labels → Label management to “Managed manually (edit labels yourself)”, add ours with the Swarm labels panel (across the top), set Configuration → Advanced → Container naming to “Consistent name” (otherwise every deploy adds a second Swarm service and the old one keeps running), set Swarm → Replicas, deploy.".to_owned(),
    }
}

/// A sticky cookie without affinity: what it means for cookie-less clients, and affinity
/// offered in one click.
fn sticky_only_view(index: usize, service: Memo<Option<Service>>) -> impl IntoView {
    let shown = move || service.with(|s| s.as_ref().is_some_and(crate::advice::sticky_only));
    view! {
        <Show when=shown>
            <div class="advice" role="note" data-testid=format!("service-{index}-sticky-only")>
                <p>{crate::advice::STICKY_ONLY}</p>
                <button
                    data-testid=format!("service-{index}-offer-affinity")
                    on:click=move |_| {
                        editor()
                            .edit(|p| {
                                if let Some(s) = p.services.get_mut(index) {
                                    s.set_socket_io(true);
                                }
                            })
                    }
                >
                    "Turn on Socket.IO affinity"
                </button>
            </div>
        </Show>
    }
}

/// The text of `field` as the model has it.
fn text_of(service: Memo<Option<Service>>, field: Field) -> String {
    service.with(|s| match s.as_ref().map(|s| field.read(s)) {
        Some(Value::Text(text)) => text,
        _ => String::new(),
    })
}

/// One field: its label, its input and the findings at it. A field that does not apply to
/// the service as it is (the Docker count without Docker replicas) is hidden.
fn field_view(index: usize, field: Field, service: Memo<Option<Service>>) -> impl IntoView {
    let testid = field.testid(index);
    let hidden = move || !service.with(|s| s.as_ref().is_some_and(|s| field.applies(s)));
    let input = match field.input() {
        Input::Text => view! {
            <label class="field">
                <span>{field.label()}</span>
                {live_input(
                    testid,
                    None,
                    move || text_of(service, field),
                    move |v| type_into(index, field, v),
                )}
            </label>
        }
        .into_any(),
        Input::Check => view! {
            <label class="check">
                <input
                    type="checkbox"
                    data-testid=testid
                    prop:checked=move || {
                        service
                            .with(|s| {
                                s.as_ref().map(|s| field.read(s)) == Some(Value::Checked(true))
                            })
                    }
                    on:change=move |ev| set(index, field, Value::Checked(event_target_checked(&ev)))
                />
                <span>{field.label()}</span>
            </label>
        }
        .into_any(),
        Input::Select(options) => view! {
            <label class="field">
                <span>{field.label()}</span>
                <select
                    data-testid=testid
                    prop:value=move || text_of(service, field)
                    on:change=move |ev| set(index, field, Value::Text(event_target_value(&ev)))
                >
                    {options
                        .iter()
                        .map(|(value, label)| view! { <option value=*value>{*label}</option> })
                        .collect_view()}
                </select>
            </label>
        }
        .into_any(),
    };
    view! {
        <div class="field-row" class:hidden=hidden>
            {input}
            {field_note(index, field)}
        </div>
    }
}

/// The replicas' URLs, each with its sticky cookie value and a remove button.
fn servers_view(index: usize, service: Memo<Option<Service>>) -> impl IntoView {
    let count = Memo::new(move |_| service.with(|s| s.as_ref().map_or(0, |s| s.servers.len())));
    let docker = move || service.with(|s| s.as_ref().is_some_and(|s| s.docker_replicas.is_some()));
    let examples = move || service.with(|s| s.as_ref().is_some_and(crate::advice::example_servers));
    view! {
        <Show when=examples>
            <p class="note example" data-testid=format!("service-{index}-examples")>
                "Example URLs, from the preset: they name real replicas only once Coolify's applications have these network aliases (path a). Otherwise replace them with your replicas' addresses."
            </p>
        </Show>
        <ul class="servers" class:hidden=docker>
            <For
                each=move || 0..count.get()
                key=|j| *j
                children=move |j| {
                    let field = Field::Server(j);
                    let url = move || text_of(service, field);
                    view! {
                        <li>
                            {live_input(
                                field.testid(index),
                                Some(format!("Replica {} URL", j + 1)),
                                url,
                                move |v| type_into(index, field, v),
                            )}
                            <span class="cookie">
                                "sticky cookie value "
                                <code
                                    title="Traefik's sticky cookie value for this replica"
                                    data-testid=format!("service-{index}-cookie-{j}")
                                >
                                    {move || sticky_cookie_value(&url())}
                                </code>
                            </span>
                            <button
                                data-testid=format!("service-{index}-remove-server-{j}")
                                aria-label=format!("Remove replica {}", j + 1)
                                on:click=move |_| {
                                    editor()
                                        .edit(|p| {
                                            if let Some(s) = p.services.get_mut(index) {
                                                s.remove_replica(j);
                                            }
                                        })
                                }
                            >
                                "×"
                            </button> {field_note(index, field)}
                        </li>
                    }
                }
            />
        </ul>
        <button
            data-testid=format!("service-{index}-add-server")
            class:hidden=docker
            on:click=move |_| {
                editor()
                    .edit(|p| {
                        if let Some(s) = p.services.get_mut(index) {
                            s.add_replica();
                        }
                    })
            }
        >
            "Add replica"
        </button>
    }
}

/// The findings at `field` of service `index`, shown beside it.
fn field_note(index: usize, field: Field) -> impl IntoView {
    let history = editor().history;
    let by_service = editor().by_service;
    let testid = format!("{}-finding", field.testid(index));
    let notes = Memo::new(move |_| {
        by_service.with(|all| {
            all.get(index)
                .map(|list| {
                    list.iter()
                        .filter(|f| f.field == Some(field))
                        .map(|f| (f.error, f.text.clone(), f.finding.clone()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    move || {
        let notes = notes.get();
        (!notes.is_empty()).then(|| {
            let error = notes.iter().any(|(error, _, _)| *error);
            // Each with its fix, here as in the findings list: an error is placed and
            // offered no worse than a warning.
            let lines = notes
                .into_iter()
                .enumerate()
                .map(|(k, (_, text, finding))| {
                    let fix = finding.fix.clone().map(|title| {
                        let finding = finding.clone();
                        view! {
                            <button
                                class="field-fix"
                                data-testid=format!("{}-fix-{k}", field.testid(index))
                                on:click=move |_| super::findings::apply_fix(history, &finding)
                            >
                                {format!("Fix it: {title}")}
                            </button>
                        }
                    });
                    view! {
                        <span class="finding-text">{text}</span>
                        <span class="finding-ref">{finding.reference()}</span>
                        {fix}
                    }
                })
                .collect_view();
            let class = if error {
                "field-finding error"
            } else {
                "field-finding warning"
            };
            view! {
                <small class=class role="alert" data-testid=testid.clone()>
                    {lines}
                </small>
            }
        })
    }
}
