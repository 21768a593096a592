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
            view! {
                <span class="yaml-line">{tokens}</span>
                {newline}
            }
        })
        .collect_view()
}

#[component]
pub fn DownloadBar(yaml: Memo<String>) -> impl IntoView {
    let findings = editor().findings;
    let errors = Memo::new(move |_| {
        findings.with(|all| {
            all.iter()
                .filter(|d| d.severity == shared::lint::Severity::Error)
                .count()
        })
    });
    let copied = RwSignal::new(false);
    view! {
        <div class="download">
            <button
                class="primary"
                data-testid="download"
                on:click=move |_| download(shared::export::COOLIFY_FILE_NAME, &yaml.get())
            >
                {format!("Download {}", shared::export::COOLIFY_FILE_NAME)}
            </button>
            <button
                data-testid="copy"
                on:click=move |_| {
                    copy_text(&yaml.get());
                    copied.set(true);
                }
            >
                {move || if copied.get() { "Copied" } else { "Copy" }}
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
    }
}
