//! The service list: a line per service (replicas, sticky / affinity / Docker badges,
//! findings), a filter, and new services from templates.

use leptos::prelude::*;

use super::editor;
use crate::services::{filtered, Summary, Template};

#[component]
pub fn ServiceList() -> impl IntoView {
    let editor = editor();
    let history = editor.history;
    let filter = RwSignal::new(String::new());
    // Cheap per edit (a few strings per service); each row re-renders only when its own
    // summary changed.
    let summaries = Memo::new(move |_| {
        editor.by_service.with(|by| {
            history.with(|h| {
                h.current
                    .services
                    .iter()
                    .enumerate()
                    .map(|(i, s)| Summary::of(s, by.get(i).map_or(&[], Vec::as_slice)))
                    .collect::<Vec<_>>()
            })
        })
    });
    let shown = Memo::new(move |_| summaries.with(|s| filter.with(|f| filtered(s, f))));
    let add = move |template: Template| {
        let mut added = None;
        editor.edit(|p| added = Some(template.add_to(p)));
        if let Some(index) = added {
            editor.show(index, Some(crate::Field::Name.testid(index)));
        }
    };
    view! {
        <nav class="service-list panel" aria-label="Services">
            <div class="list-head">
                <h2>"Services"</h2>
                <span class="count" data-testid="service-count">
                    {move || summaries.with(Vec::len)}
                </span>
            </div>
            <input
                type="search"
                data-testid="service-filter"
                // Short enough for the narrowest list; what it matches is in its name.
                placeholder="Filter  ( / )"
                aria-label="Filter services by name, host or badge (sticky, Socket.IO, docker)"
                prop:value=move || filter.get()
                on:input=move |ev| filter.set(event_target_value(&ev))
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        filter.set(String::new());
                    }
                }
            />
            <ul data-testid="service-list">
                <For
                    each=move || shown.get()
                    key=|i| *i
                    children=move |i| {
                        let summary = Memo::new(move |_| summaries.with(|s| s.get(i).cloned()));
                        view! { <li>{move || summary.get().map(|s| row(i, s))}</li> }
                    }
                />
            </ul>
            <Show when=move || shown.with(Vec::is_empty)>
                <p class="note" data-testid="service-filter-empty">
                    {move || {
                        if summaries.with(Vec::is_empty) {
                            "No services yet: add one from a template below, or import Traefik YAML."
                        } else {
                            "No service matches the filter."
                        }
                    }}
                </p>
            </Show>
            <div class="add-service">
                <span>"Add"</span>
                {Template::ALL
                    .map(|template| {
                        view! {
                            <button
                                data-testid=format!("add-{}", template.id())
                                on:click=move |_| add(template)
                            >
                                {template.label()}
                            </button>
                        }
                    })
                    .to_vec()}
            </div>
        </nav>
    }
}

/// One service's row: a button that opens its editor.
fn row(index: usize, s: Summary) -> impl IntoView {
    let editor = editor();
    let selected = move || editor.selected.get() == index;
    let replicas = if s.docker {
        format!("{} containers", s.replicas)
    } else {
        format!("{} replica(s)", s.replicas)
    };
    let findings = (s.findings > 0).then(|| {
        let class = if s.errors > 0 {
            "badge error"
        } else {
            "badge warning"
        };
        view! {
            <span class=class data-testid=format!("service-item-{index}-findings")>
                {format!("{} finding(s)", s.findings)}
            </span>
        }
    });
    view! {
        <button
            class="service-item"
            class:selected=selected
            aria-current=move || selected().then_some("true")
            data-testid=format!("service-item-{index}")
            on:click=move |_| editor.show(index, None)
        >
            <span class="name">{s.name.clone()}</span>
            <span class="meta">{replicas}</span>
            <span class="badges">
                {s.sticky.then(|| view! { <span class="badge sticky">"sticky"</span> })}
                {s.affinity.then(|| view! { <span class="badge affinity">"Socket.IO"</span> })}
                {s.docker.then(|| view! { <span class="badge docker">"Docker"</span> })} {findings}
            </span>
        </button>
    }
}
