//! Path b, a Raw Compose Deployment: the application's compose file pasted in, the file
//! Coolify deploys as written out (the same code as `gaqno-lb compose`), copied or downloaded.

use leptos::prelude::*;
use shared::model::ReplicasVia;

use super::browser::{copy_text, download};
use super::{analysis, editor};
use crate::protocol::Request;

/// The file name the download gets: Coolify's default *Docker compose location*.
const FILE_NAME: &str = "docker-compose.yaml";

/// The project as `gaqno-lb rehearse --project` reads it (the app's own JSON: the CLI's
/// YAML reader reads JSON too).
pub(super) const PROJECT_FILE: &str = "gaqno-lb.project.json";

/// The exact `gaqno-lb rehearse` for what the panel wrote: `compose_service` from the
/// downloaded file, with `service`'s settings from the downloaded project.
fn rehearse_command(service: &str, compose_service: &str) -> String {
    let project_service = if service == compose_service {
        String::new()
    } else {
        format!(" --project-service {service}")
    };
    format!(
        "gaqno-lb rehearse --path b --service {compose_service}{project_service} --project {PROJECT_FILE} --compose {FILE_NAME}"
    )
}

#[component]
pub fn ComposePanel() -> impl IntoView {
    let history = editor().history;
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
    // The first service run as a Raw Compose Deployment, then the first Socket.IO one.
    let service = move || {
        let picked = chosen.get();
        history.with(|h| {
            let services = &h.current.services;
            services
                .iter()
                .find(|s| s.name == picked)
                .or_else(|| {
                    services.iter().find(|s| {
                        s.docker_replicas
                            .is_some_and(|d| d.via == ReplicasVia::Compose)
                    })
                })
                .or_else(|| services.iter().find(|s| s.socket_io.enabled))
                .or_else(|| services.first())
                .map(|s| s.name.clone())
                .unwrap_or_default()
        })
    };
    // The domain Coolify would be given: the service's first host and path.
    let domain_of = move |name: &str| {
        history.with(|h| {
            h.current
                .services
                .iter()
                .find(|s| s.name == name)
                .map(|s| {
                    format!(
                        "https://{}{}",
                        s.hosts.first().cloned().unwrap_or_default(),
                        s.path_prefix.clone().unwrap_or_default()
                    )
                })
                .unwrap_or_default()
        })
    };
    let pasted = RwSignal::new(String::new());
    let compose_service = RwSignal::new(String::new());
    let domain = RwSignal::new(String::new());
    let result = RwSignal::new(None::<Result<(String, Vec<String>), String>>);
    let rehearse = RwSignal::new(String::new());
    let run = move || {
        let service = service();
        let compose_service = Some(compose_service.get_untracked())
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| service.clone());
        rehearse.set(rehearse_command(&service, compose_service.trim()));
        let domain = Some(domain.get_untracked())
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| domain_of(&service));
        let request = history.with_untracked(|h| Request::Compose {
            project: h.current.clone(),
            service,
            compose: pasted.get_untracked(),
            compose_service,
            domain,
        });
        leptos::task::spawn_local(async move {
            result.set(Some(analysis::ask_when_ready(request).await));
        });
    };
    let copied = RwSignal::new(false);
    view! {
        <details class="compose panel" data-testid="compose-panel">
            <summary>"Raw Compose Deployment: the compose file"</summary>
            <p>
                "One server, a Docker Compose application: paste its compose file. gaqno-lb writes the file Coolify deploys as written: replicas, no container_name or published port, the coolify network, Coolify's Traefik labels for the domain and ours. Commit it at the application's Docker compose location, set Configuration → Advanced → Docker compose → Compose deployment to “Raw (deploy file as-is)”, leave Domains empty, deploy. Every deploy stops all its containers one by one, then starts the new ones: every session breaks, and HTTPS clients get 503 until a new replica is healthy."
            </p>
            <label>
                "Service to replicate "
                <select
                    data-testid="compose-service"
                    on:change=move |ev| chosen.set(event_target_value(&ev))
                >
                    <For
                        each=move || names.get()
                        key=|n| n.clone()
                        children=move |n| {
                            let value = n.clone();
                            view! {
                                <option value=value.clone() selected=move || service() == value>
                                    {n}
                                </option>
                            }
                        }
                    />
                </select>
            </label>
            <label>
                "Compose service "
                <input
                    data-testid="compose-service-name"
                    placeholder=move || service()
                    prop:value=move || compose_service.get()
                    on:input=move |ev| compose_service.set(event_target_value(&ev))
                />
            </label>
            <label>
                "Domain "
                <input
                    data-testid="compose-domain"
                    placeholder=move || domain_of(&service())
                    prop:value=move || domain.get()
                    on:input=move |ev| domain.set(event_target_value(&ev))
                />
            </label>
            <textarea
                data-testid="compose-text"
                rows="8"
                aria-label="The application's compose file"
                prop:value=move || pasted.get()
                on:input=move |ev| pasted.set(event_target_value(&ev))
            ></textarea>
            <button
                data-testid="compose-write"
                on:click=move |_| {
                    copied.set(false);
                    run();
                }
            >
                "Write the compose file"
            </button>
            {move || match result.get() {
                None => ().into_any(),
                Some(Err(message)) => {
                    view! {
                        <p class="error" data-testid="compose-message">
                            {format!("not written: {message}")}
                        </p>
                    }
                        .into_any()
                }
                Some(Ok((text, changes))) => {
                    let for_copy = text.clone();
                    let for_download = text.clone();
                    view! {
                        <ul class="changes" data-testid="compose-changes">
                            {changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}
                        </ul>
                        <pre
                            class="yaml"
                            data-testid="compose-output"
                            tabindex="0"
                            aria-label="The compose file"
                        >
                            {super::breakable(&text)}
                        </pre>
                        <button
                            data-testid="compose-download"
                            on:click=move |_| download(FILE_NAME, &for_download)
                        >
                            {format!("Download {FILE_NAME}")}
                        </button>
                        <button
                            data-testid="compose-copy"
                            on:click=move |_| {
                                copy_text(&for_copy);
                                copied.set(true);
                            }
                        >
                            {move || if copied.get() { "Copied" } else { "Copy the file" }}
                        </button>
                        <section
                            class="next-steps"
                            data-testid="compose-rehearse"
                            aria-label="Before production"
                        >
                            <h3>"Before production"</h3>
                            <p>
                                "Rehearse the deploy on a machine with Docker: Coolify's proxy with the plugin, these replicas, sessions in every transport, a redeploy as Coolify does it and a lost replica; each finding comes with its fix. Download the project beside the file, then in that folder run:"
                            </p>
                            <button
                                data-testid="project-download"
                                aria-label=format!(
                                    "Download {} for the rehearsal of path b",
                                    PROJECT_FILE,
                                )
                                on:click=move |_| {
                                    let text = history
                                        .with_untracked(|h| crate::saved_text(&h.current))
                                        .unwrap_or_default();
                                    download(PROJECT_FILE, &text);
                                }
                            >
                                {format!("Download {PROJECT_FILE}")}
                            </button>
                            <pre class="command" data-testid="rehearse-command">
                                {move || rehearse.get()}
                            </pre>
                        </section>
                    }
                        .into_any()
                }
            }}
        </details>
    }
}
