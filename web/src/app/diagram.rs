//! The open service's routing diagram ([`crate::diagram`]) as SVG. A node with a form
//! field is a button: clicking it (or Enter) focuses that field. The diagram is one Tab
//! stop: the arrow keys move between its buttons (a roving tab index), so the form's
//! fields are not nine Tabs away.

use leptos::prelude::*;
use shared::lint::Severity;

use super::browser::focus_later;
use super::{analysis, editor, Checks};
use crate::diagram::{Diagram, Kind, Lane, Node};
use crate::protocol::Request;

/// Every lane, for its arrowhead.
const LANES: [Lane; 5] = [
    Lane::Rest,
    Lane::SocketIo,
    Lane::WebSocket,
    Lane::Redirect,
    Lane::Balance,
];

#[component]
pub fn DiagramView(index: usize) -> impl IntoView {
    let editor = editor();
    // Follows the findings, so edits show once typing pauses (with the preview), and never
    // draws anything but the export the preview shows. The checks module lays it out (from
    // the export, or for Docker replicas from their labels, which it reads): the layout and
    // the label reader stay out of the editor's first download, and the diagram comes with
    // the findings.
    let drawn = Memo::new(move |_| {
        let ready = editor.checks.with(|c| *c == Checks::Ready);
        editor.findings.with(|all| {
            editor.history.with_untracked(|h| {
                h.current.services.get(index)?;
                if !ready {
                    return None;
                }
                let mut d = analysis::answer::<Option<Diagram>>(&Request::Diagram {
                    project: h.current.clone(),
                    index,
                })
                .flatten()?;
                d.mark(all);
                Some(d)
            })
        })
    });
    let detail = RwSignal::new(String::new());
    move || {
        drawn.get().map(|d| {
            view! {
                <figure class="diagram" data-testid="diagram">
                    <div class="diagram-scroll">
                        // Shown only while the box is narrower than the drawing (a
                        // container query): half of it is off to the right otherwise.
                        <p class="scroll-cue" data-testid="diagram-scroll-cue">
                            "Scroll sideways for the whole drawing →"
                        </p>
                        {svg(index, &d, detail)}
                    </div>
                    <figcaption>
                        <span class="legend lane-rest">"REST"</span>
                        <span class="legend lane-socketio">"Socket.IO (affinity)"</span>
                        <span class="legend lane-websocket">"WebSocket without sid"</span>
                        <span class="legend lane-redirect">"HTTP → HTTPS"</span>
                        <span class="detail" data-testid="diagram-detail">
                            {move || detail.get()}
                        </span>
                    </figcaption>
                    {(!d.labels.is_empty())
                        .then(|| {
                            view! {
                                <details class="diagram-labels">
                                    <summary>"The labels that carry its settings"</summary>
                                    <pre
                                        data-testid="diagram-labels"
                                        tabindex="0"
                                        aria-label="The labels"
                                    >
                                        {d.labels.join("\n")}
                                    </pre>
                                </details>
                            }
                        })}
                </figure>
            }
        })
    }
}

fn svg(index: usize, d: &Diagram, detail: RwSignal<String>) -> impl IntoView {
    let edges = d
        .edges
        .iter()
        .filter_map(|e| {
            let path = d.edge_path(e)?;
            let lane = e.lane.class();
            Some(
                view! { <path class=format!("edge {lane}") d=path marker-end=format!("url(#arrow-{lane})") /> },
            )
        })
        .collect_view();
    // The first button is the diagram's Tab stop.
    let first = d.nodes.iter().position(|n| n.field.is_some());
    let nodes = d
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| node_view(index, n.clone(), detail, Some(i) == first))
        .collect_view();
    view! {
        <svg
            class="routing"
            viewBox=format!("-4 -4 {} {}", d.width + 8, d.height + 8)
            // Never scaled down: its smallest text stays at its 11 px (a narrow screen
            // scrolls the drawing sideways instead).
            style=format!("width: {}px", d.width + 8)
            role="group"
            aria-label="Where requests go"
        >
            // An arrowhead per lane, in the lane's colour: which line ends where reads from
            // the head as from the line.
            <defs>
                {LANES
                    .iter()
                    .map(|lane| {
                        let lane = lane.class();
                        view! {
                            <marker
                                id=format!("arrow-{lane}")
                                viewBox="0 0 8 8"
                                refX="8"
                                refY="4"
                                markerWidth="7"
                                markerHeight="7"
                                orient="auto"
                            >
                                <path d="M0 0 L8 4 L0 8 z" class=format!("arrow-head {lane}") />
                            </marker>
                        }
                    })
                    .collect_view()}
            </defs>
            {edges}
            {nodes}
        </svg>
    }
}

fn node_view(index: usize, n: Node, detail: RwSignal<String>, tab_stop: bool) -> impl IntoView {
    let mut class = format!("node {}", n.kind.class());
    if let Kind::Router(lane) = n.kind {
        class.push(' ');
        class.push_str(lane.class());
    }
    let mark = n.mark.map(|s| match s {
        Severity::Error => "error",
        _ => "warning",
    });
    if let Some(mark) = mark {
        class.push_str(&format!(" marked-{mark}"));
    }
    let target = n.field.map(|f| f.testid(index));
    let clickable = target.is_some();
    let activate = {
        let target = target.clone();
        move || {
            if let Some(t) = target.clone() {
                focus_later(t);
            }
        }
    };
    let activate_key = activate.clone();
    let about = n.detail.clone();
    let about_focus = n.detail.clone();
    // What it shows, then what activating it does: the visible text leads the name.
    let mut label = std::iter::once(n.title.as_str())
        .chain(n.lines.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(field) = n.field {
        label.push_str(&format!(" (edit {})", field.label()));
    }
    let lines = n
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            // The space between the lines (not drawn in SVG) keeps them words apart in the
            // text read out, which must contain what the name says.
            view! {
                " "
                <text x="10" y=38 + 15 * i as u32 class="node-line">
                    {line.clone()}
                </text>
            }
        })
        .collect_view();
    view! {
        <g
            class=class
            transform=format!("translate({} {})", n.x, n.y)
            data-testid=format!("diagram-{}", n.id)
            data-mark=mark
            data-field=target
            tabindex=clickable.then_some(if tab_stop { "0" } else { "-1" })
            role=clickable.then_some("button")
            aria-label=label
            on:click=move |_| activate()
            on:keydown=move |ev| {
                let step = match ev.key().as_str() {
                    "Enter" | " " => {
                        ev.prevent_default();
                        activate_key();
                        return;
                    }
                    "ArrowRight" | "ArrowDown" => 1,
                    "ArrowLeft" | "ArrowUp" => -1,
                    _ => return,
                };
                ev.prevent_default();
                if let Some(node) = ev.current_target() {
                    super::browser::focus_next_button(&node, step);
                }
            }
            on:mouseenter=move |_| detail.set(about.clone())
            on:focus=move |_| detail.set(about_focus.clone())
        >
            <rect width=n.width height=n.height rx="6" />
            <text x="10" y="18" class="node-title">
                {n.title.clone()}
            </text>
            {lines}
            {mark
                .map(|m| {
                    view! { <circle cx=n.width - 12 cy="12" r="5" class=format!("mark {m}") /> }
                })}
        </g>
    }
}
