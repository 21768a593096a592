//! Swarm replicas (or a compose service): the application's labels with ours added, as a diff.

use leptos::prelude::*;

use super::browser::{copy_text, download};
use super::{analysis, editor};
use crate::protocol::{LabelsDiff, Request};

/// The exact `gaqno-lb rehearse` of path c for `service`, with the downloaded project.
fn rehearse_command(service: &str) -> String {
    format!(
        "gaqno-lb rehearse --path c --swarm-init --service {service} --project {}",
        super::compose::PROJECT_FILE
    )
}

/// Swarm replicas: the application's labels (Label management "Managed manually") pasted in, ours
/// added (the same code as `gaqno-lb labels`), shown as a diff, copied back.
#[component]
pub fn LabelsPanel() -> impl IntoView {
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
    let result = RwSignal::new(None::<Result<LabelsDiff, String>>);
    // Label reading is the second module's: asked once it is there (at once, usually).
    let run = move || {
        let service = service();
        let request = history.with_untracked(|h| Request::Labels {
            project: h.current.clone(),
            service,
            pasted: pasted.get_untracked(),
        });
        leptos::task::spawn_local(async move {
            result.set(Some(analysis::ask_when_ready(request).await));
        });
    };
    let copied = RwSignal::new(false);
    view! {
        <details class="labels panel" data-testid="labels-panel">
            <summary>"Swarm replicas: Coolify labels"</summary>
            <p>
                "On a Swarm server: set Configuration → General → Container labels → Label management to “Managed manually (edit labels yourself)”, then paste the Active labels here. gaqno-lb adds the service's sticky cookie, health check and Socket.IO affinity at the end and changes no other line; paste the result back, set Advanced → Container naming to “Consistent name” (else every deploy adds a second service), set Swarm → Replicas and deploy. Under “Managed manually” Coolify locks Ports exposes and hides Add on Domains, Gzip and Path prefixes: to change one, switch back to “Managed by Coolify”, change it, switch to manual again and paste anew."
            </p>
            <label>
                "Service to label "
                <select
                    data-testid="labels-service"
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
            <textarea
                data-testid="labels-text"
                rows="8"
                aria-label="Coolify's labels"
                prop:value=move || pasted.get()
                on:input=move |ev| pasted.set(event_target_value(&ev))
            ></textarea>
            <button
                data-testid="labels-add"
                on:click=move |_| {
                    copied.set(false);
                    run();
                }
            >
                "Add gaqno-lb labels"
            </button>
            {move || match result.get() {
                None => ().into_any(),
                Some(Err(message)) => {
                    view! {
                        <p class="error" data-testid="labels-message">
                            {format!("not changed: {message}")}
                        </p>
                    }
                        .into_any()
                }
                Some(Ok((lines, text))) => {
                    let added = lines.iter().filter(|(m, _)| *m == '+').count();
                    let removed = lines.iter().filter(|(m, _)| *m == '-').count();
                    view! {
                        <p class="ok" data-testid="labels-message">
                            {format!(
                                "{added} line(s) added, {removed} removed, every other line unchanged",
                            )}
                        </p>
                        <pre
                            class="diff"
                            data-testid="labels-diff"
                            tabindex="0"
                            aria-label="The labels with ours added"
                        >
                            {lines
                                .into_iter()
                                .map(|(mark, line)| {
                                    let class = match mark {
                                        '+' => "added",
                                        '-' => "removed",
                                        _ => "same",
                                    };
                                    view! {
                                        <span class=class>
                                            {super::breakable(&format!("{mark} {line}\n"))}
                                        </span>
                                    }
                                })
                                .collect_view()}
                        </pre>
                        <button
                            data-testid="labels-copy"
                            on:click=move |_| {
                                copy_text(&text);
                                copied.set(true);
                            }
                        >
                            {move || if copied.get() { "Copied" } else { "Copy the labels" }}
                        </button>
                        <section
                            class="next-steps"
                            data-testid="labels-rehearse"
                            aria-label="Before production"
                        >
                            <h3>"Before production"</h3>
                            <p>
                                "Rehearse path c on a machine with Docker: Coolify's Swarm proxy with the plugin, the stack as Coolify deploys it with these labels, sessions in every transport, a start-first redeploy and a lost task; each finding comes with its fix. On a Swarm manager it uses that Swarm; elsewhere --swarm-init makes a one-node Swarm and leaves it afterwards. Download the project, then in that folder run (add --image with your image to rehearse your application instead of the demo it carries):"
                            </p>
                            <button
                                data-testid="labels-project-download"
                                aria-label=format!(
                                    "Download {} for the rehearsal of path c",
                                    super::compose::PROJECT_FILE,
                                )
                                on:click=move |_| {
                                    let text = history
                                        .with_untracked(|h| crate::saved_text(&h.current))
                                        .unwrap_or_default();
                                    download(super::compose::PROJECT_FILE, &text);
                                }
                            >
                                {format!("Download {}", super::compose::PROJECT_FILE)}
                            </button>
                            <pre class="command" data-testid="labels-rehearse-command">
                                {move || rehearse_command(&service())}
                            </pre>
                        </section>
                    }
                        .into_any()
                }
            }}
        </details>
    }
}
