//! The project's text fields: each keystroke edits the model, and a run of keystrokes in one
//! field is one step of the app's undo history (the only one: see `super::shortcut`).

use std::sync::Arc;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// A text field that edits the model on every keystroke. While it is being typed in, it
/// shows what was typed (a draft), not the model's rendering of it: `a.com,` must not snap
/// back to `a.com` under the cursor. The draft holds only while the model still has what
/// it made of the draft: an undo, a redo, a fix or an import that changes the value shows
/// the model's value at once, so the next keystroke cannot write a stale draft back.
/// Leaving the field drops the draft too.
pub fn live_input(
    testid: String,
    label: Option<String>,
    read: impl Fn() -> String + Send + Sync + 'static,
    write: impl Fn(String) + 'static,
) -> impl IntoView {
    let read = Arc::new(read);
    let read_after_write = read.clone();
    // What was typed, and what the model made of it.
    let draft = RwSignal::new(None::<(String, String)>);
    view! {
        <input
            data-testid=testid
            data-project-field=""
            aria-label=label
            prop:value=move || {
                let model = read();
                match draft.get() {
                    Some((typed, made)) if made == model => typed,
                    _ => model,
                }
            }
            on:input=move |ev| {
                if is_browser_history(&ev) {
                    draft.set(None);
                    if let Some(input) = ev
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                    {
                        input.set_value(&untrack(|| read_after_write()));
                    }
                    return;
                }
                let typed = event_target_value(&ev);
                write(typed.clone());
                let made = untrack(|| read_after_write());
                draft.set(Some((typed, made)));
            }
            on:change=move |_| draft.set(None)
        />
    }
}

/// Whether an input event is the browser's own undo or redo. Its undo is page-wide: Ctrl+Z
/// in a box that keeps it (the filter) can reach back into a project field's typing, and
/// the project's history is the app's, so such a field shows the model's value again
/// instead of writing the browser's.
fn is_browser_history(ev: &web_sys::Event) -> bool {
    js_sys::Reflect::get(ev, &wasm_bindgen::JsValue::from_str("inputType"))
        .ok()
        .and_then(|v| v.as_string())
        .is_some_and(|kind| kind.starts_with("history"))
}
