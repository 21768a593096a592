//! The first thing the editor asks: how the replicas run. Coolify runs replicas three ways
//! ([`PATHS`]), each needing different steps and a different artifact; this lists them
//! with the services that use each, a click away from the service.

use leptos::prelude::*;

use super::editor;
use crate::advice::{services_by_path, PATHS};

#[component]
pub fn PathsPanel() -> impl IntoView {
    let editor = editor();
    let by_path = Memo::new(move |_| editor.history.with(|h| services_by_path(&h.current)));
    let open = move |name: &str| {
        let index = editor
            .history
            .with_untracked(|h| h.current.services.iter().position(|s| s.name == name));
        if let Some(index) = index {
            editor.show(index, Some(crate::Field::Runs.testid(index)));
        }
    };
    view! {
        <section class="paths panel" data-testid="paths" aria-labelledby="paths-title">
            <h2 id="paths-title">"How do the replicas run?"</h2>
            <p class="note">
                "Each service picks one in its Replicas section (“Replicas run as”)."
            </p>
            <ol class="path-list">
                {PATHS
                    .iter()
                    .enumerate()
                    .map(|(i, (value, title, when))| {
                        view! {
                            <li data-testid=format!("path-{value}")>
                                <strong>{*title}</strong>
                                <span class="note">{format!(" — {when}")}</span>
                                <div class="path-services">
                                    {move || {
                                        let names = by_path.with(|p| p[i].clone());
                                        if names.is_empty() {
                                            view! { <span class="note">"no service"</span> }.into_any()
                                        } else {
                                            names
                                                .into_iter()
                                                .map(|name| {
                                                    let to_open = name.clone();
                                                    view! {
                                                        <button
                                                            class="chip"
                                                            aria-label=format!("{name}: open its Replicas section")
                                                            on:click=move |_| open(&to_open)
                                                        >
                                                            {name.clone()}
                                                        </button>
                                                    }
                                                })
                                                .collect_view()
                                                .into_any()
                                        }
                                    }}
                                </div>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
    }
}
