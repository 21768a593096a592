//! The project's text fields: each keystroke edits the model, and a run of keystrokes in one
//! field is one step of the app's undo history (the only one: see `super::shortcut`).

use std::sync::Arc;

use leptos::prelude::*;

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
            aria-label=label
            prop:value=move || {
                let model = read();
                match draft.get() {
                    Some((typed, made)) if made == model => typed,
                    _ => model,
                }
            }
            on:input=move |ev| {
                let typed = event_target_value(&ev);
                write(typed.clone());
                let made = untrack(|| read_after_write());
                draft.set(Some((typed, made)));
            }
            on:change=move |_| draft.set(None)
        />
    }
}
