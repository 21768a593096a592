//! The YAML exactly as downloaded, coloured, and the download and copy buttons.

use leptos::prelude::*;

use super::browser::{copy_text, download};
use super::editor;
use crate::preview_chunks;
use crate::yaml_view::highlight;

/// The YAML as of the last pause in typing (`data-current` false until then, and while the
/// checks are loading: the findings beside it are not current either), in blocks of
/// lines: unchanged blocks keep their DOM nodes and off-screen ones are not laid out
/// (`content-visibility`), see [`preview_chunks`]. Each line is one element, so a
/// finding's line can be found as block `line / 40`, child `line % 40`.
#[component]
pub fn Preview() -> impl IntoView {
    let editor = editor();
    let chunks = Memo::new(move |_| editor.shown_yaml.with(|y| preview_chunks(y)));
    view! {
        <pre
            data-testid="yaml-preview"
            class="yaml-preview"
            aria-label="The YAML to download"
            tabindex="0"
            data-current=move || {
                (!editor.behind.get() && editor.checks.with(|c| *c != super::Checks::Loading))
                    .to_string()
            }
        >
            <For
                each=move || chunks.get().into_iter().enumerate()
                key=|chunk| chunk.clone()
                children=|(_, text)| view! { <span class="yaml-chunk">{chunk_view(&text)}</span> }
            />
        </pre>
    }
}

/// One block's lines, each a `span` of coloured tokens followed by its newline.
fn chunk_view(text: &str) -> impl IntoView {
    text.split_inclusive('\n')
        .map(|line| {
            let (body, newline) = match line.strip_suffix('\n') {
                Some(body) => (body, "\n"),
                None => (line, ""),
            };
            let tokens = highlight(body)
                .into_iter()
                .map(|(token, piece)| view! { <span class=token.class()>{piece.to_owned()}</span> })
                .collect_view();
            // A line too long for the box wraps under its own text, not at column 0 where
            // it would read as a key of the outer map: its indentation (and a list item's
            // `- `) plus two more, as a hanging indent.
            let hang = body.len() - body.trim_start_matches([' ', '-']).len() + 2;
            view! {
                <span class="yaml-line" style=format!("--hang: {hang}ch")>
                    {tokens}
                </span>
                {newline}
            }
        })
        .collect_view()
}

/// The exact `gaqno-lb rehearse` of path a for `service`, its settings (and its replicas:
/// one application per server) from the downloaded project.
fn rehearse_command(service: &str) -> String {
    format!(
        "gaqno-lb rehearse --path a --service {service} --project {}",
        super::compose::PROJECT_FILE
    )
}

#[component]
pub fn DownloadBar(yaml: Memo<String>) -> impl IntoView {
    let editor = editor();
    let findings = editor.findings;
    let errors = Memo::new(move |_| {
        findings.with(|all| {
            all.iter()
                .filter(|d| d.severity == shared::lint::Severity::Error)
                .count()
        })
    });
    // What the file does not say: services with example URLs, and Docker-replica
    // services, which Traefik finds by their labels instead.
    let outside = Memo::new(move |_| {
        editor.history.with(|h| {
            let examples: Vec<String> = h
                .current
                .services
                .iter()
                .filter(|s| crate::advice::example_servers(s))
                .map(|s| s.name.clone())
                .collect();
            let by_labels: Vec<String> = h
                .current
                .services
                .iter()
                .filter(|s| s.docker_replicas.is_some())
                .map(|s| s.name.clone())
                .collect();
            (examples, by_labels)
        })
    });
    let hosts = Memo::new(move |_| {
        editor.history.with(|h| {
            h.current
                .services
                .iter()
                .filter(|s| s.socket_io.enabled)
                .filter_map(|s| s.hosts.first().cloned())
                .collect::<Vec<_>>()
        })
    });
    // Path a's services (one server per Coolify application, by its alias): each can be
    // rehearsed before production, as the file balances it.
    let rehearsals = Memo::new(move |_| {
        editor.history.with(|h| {
            h.current
                .services
                .iter()
                .filter(|s| {
                    s.socket_io.enabled && s.docker_replicas.is_none() && s.servers.len() >= 2
                })
                .map(|s| rehearse_command(&s.name))
                .collect::<Vec<_>>()
        })
    });
    let copied = RwSignal::new(false);
    let taken = RwSignal::new(false);
    view! {
        <div class="download">
            <button
                class="primary"
                data-testid="download"
                on:click=move |_| {
                    download(shared::export::COOLIFY_FILE_NAME, &yaml.get());
                    taken.set(true);
                }
            >
                {format!("Download {}", shared::export::COOLIFY_FILE_NAME)}
            </button>
            <button
                data-testid="copy"
                on:click=move |_| {
                    copy_text(&yaml.get());
                    copied.set(true);
                    taken.set(true);
                }
            >
                {move || if copied.get() { "Copied" } else { "Copy the YAML" }}
            </button>
            <Show when=move || { errors.get() > 0 }>
                <span class="warning" data-testid="download-warning">
                    {move || {
                        format!(
                            "{} error(s) left: Traefik will reject or mis-serve this file",
                            errors.get(),
                        )
                    }}
                </span>
            </Show>
        </div>
        <ul class="outside" data-testid="download-notes">
            {move || {
                let (examples, by_labels) = outside.get();
                let mut notes = Vec::new();
                if !examples.is_empty() {
                    notes
                        .push(
                            format!(
                                "Example URLs still in: {} (set Coolify's network aliases to match, or replace them).",
                                examples.join(", "),
                            ),
                        );
                }
                if !by_labels.is_empty() {
                    notes
                        .push(
                            format!(
                                "Not in this file, by design: {} (Docker replicas: Traefik reads their labels; see the labels and compose panels).",
                                by_labels.join(", "),
                            ),
                        );
                }
                notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()
            }}
        </ul>
        <Show when=move || taken.get()>
            <section class="next-steps" data-testid="next-steps" aria-label="What next">
                <h2>"What next"</h2>
                <ol>
                    <Show when=move || !rehearsals.get().is_empty()>
                        <li data-testid="next-rehearse">
                            "Before production, rehearse it on a machine with Docker: Coolify's proxy with the plugin and this file, the applications deployed as Coolify does, sessions in every transport, a rolling update and a lost replica, each finding with its fix. "
                            <button
                                data-testid="next-project-download"
                                on:click=move |_| {
                                    let text = editor
                                        .history
                                        .with_untracked(|h| crate::saved_text(&h.current))
                                        .unwrap_or_default();
                                    download(super::compose::PROJECT_FILE, &text);
                                }
                            >
                                {format!("Download {}", super::compose::PROJECT_FILE)}
                            </button> " then, in that folder (add "
                            <code>"--image <your image>"</code>
                            " to rehearse your application instead of the demo it carries):"
                            {move || {
                                rehearsals
                                    .get()
                                    .into_iter()
                                    .map(|c| {
                                        view! {
                                            <pre class="command" data-testid="next-rehearse-command">
                                                {c}
                                            </pre>
                                        }
                                    })
                                    .collect_view()
                            }}
                        </li>
                    </Show>
                    <li>
                        "In Coolify: Servers → (server) → Proxy → Dynamic Configurations → + Add, a file named "
                        <code>{shared::export::COOLIFY_FILE_NAME}</code>
                        " with this YAML, and save (Traefik reads it at once)."
                    </li>
                    <li>
                        "Load the plugin once per server: the “Load the plugin in Coolify” panel (across the top) gives the proxy flags; restart the proxy."
                    </li>
                    <li>
                        "Check from your machine that sessions stay on one replica: "
                        {move || {
                            let hosts = hosts.get();
                            if hosts.is_empty() {
                                view! { <code>"gaqno-lb check https://<domain>"</code> }.into_any()
                            } else {
                                hosts
                                    .into_iter()
                                    .map(|h| {
                                        view! {
                                            <code>{format!("gaqno-lb check https://{h}")}</code>
                                            " "
                                        }
                                    })
                                    .collect_view()
                                    .into_any()
                            }
                        }} " (it also says whether the plugin answered)."
                    </li>
                </ol>
            </section>
        </Show>
    }
}
