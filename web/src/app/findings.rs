//! Every finding of the project, each with its fix and a way to its field and its line.

use leptos::prelude::*;
use shared::model::Project;

use super::browser::reveal_preview_line;
use super::{analysis, editor, Checks};
use crate::protocol::Request;
use crate::{finding_field, finding_service, Finding};

/// Applies `finding`'s fix (the checks module works it out) as one undoable edit.
pub fn apply_fix(history: RwSignal<crate::History>, finding: &Finding) {
    let request = history.with_untracked(|h| Request::ApplyFix {
        project: h.current.clone(),
        finding: finding.clone(),
    });
    if let Some(Some(fixed)) = analysis::answer::<Option<Project>>(&request) {
        history.update(|h| h.edit(|p| *p = fixed));
    }
}

#[component]
pub fn FindingList() -> impl IntoView {
    let editor = editor();
    let history = editor.history;
    let all = editor.findings;
    // Opens the finding's service with its field focused, and marks its line in the YAML.
    let show = move |d: &Finding| {
        let index = history.with_untracked(|h| {
            finding_service(&h.current, d)
                .and_then(|name| h.current.services.iter().position(|s| s.name == name))
        });
        if let Some(index) = index {
            editor.show(index, finding_field(d).map(|f| f.testid(index)));
        }
        let line = editor
            .shown_yaml
            .with_untracked(|y| crate::yaml_view::line_of(y, &d.path));
        if let Some(line) = line {
            reveal_preview_line(line);
        }
    };
    view! {
        <section class="all-findings" aria-label="Findings">
            <h2>"Findings"</h2>
            <p data-testid="finding-count">
                {move || match editor.checks.get() {
                    Checks::Ready => format!("{} finding(s)", all.with(Vec::len)),
                    Checks::Loading => "Checking…".to_owned(),
                    Checks::Failed(why) => format!("The checks could not load: {why}"),
                }}
            </p>
            <ul data-testid="findings">
                {move || {
                    all.get()
                        .into_iter()
                        .enumerate()
                        .map(|(i, d)| {
                            let fix = d.fix.clone();
                            let to_fix = d.clone();
                            let to_show = d.clone();
                            view! {
                                <li class=d.severity.to_string() data-testid=format!("finding-{i}")>
                                    <button
                                        class="link"
                                        data-testid=format!("show-finding-{i}")
                                        title="Show its field and its line in the YAML"
                                        on:click=move |_| show(&to_show)
                                    >
                                        {d.message.clone()}
                                    </button>
                                    <small class="finding-ref">{d.reference()}</small>
                                    {fix
                                        .map(|title| {
                                            view! {
                                                <button
                                                    data-testid=format!("fix-{i}")
                                                    on:click=move |_| apply_fix(history, &to_fix)
                                                >
                                                    {format!("Fix: {title}")}
                                                </button>
                                            }
                                        })}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}
