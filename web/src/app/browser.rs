//! What the app asks of the browser: timers, localStorage, the clipboard, downloads, focus
//! and scrolling, the colour theme.

use gloo_storage::Storage;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use shared::model::Project;

use crate::{
    read_saved, saved_text, Saved, EARLIER_SAVE_KEY, PREVIEW_LINES_PER_CHUNK, STORAGE_KEY,
};

/// localStorage key of the chosen theme (`light`, `dark`; none follows the system).
pub const THEME_KEY: &str = "gaqno-lb.theme";

/// Runs the last scheduled job once `delay` has passed without a newer one.
#[derive(Clone, Copy)]
pub struct Debounced {
    pending: StoredValue<Option<TimeoutHandle>>,
    delay: std::time::Duration,
}

impl Debounced {
    pub fn new(delay_ms: u64) -> Debounced {
        Debounced {
            pending: StoredValue::new(None),
            delay: std::time::Duration::from_millis(delay_ms),
        }
    }

    pub fn schedule(self, job: impl Fn() + 'static) {
        self.cancel();
        let pending = self.pending;
        let handle = set_timeout_with_handle(
            move || {
                pending.set_value(None);
                job();
            },
            self.delay,
        )
        .ok();
        self.pending.set_value(handle);
    }

    /// Drops the pending job; whether there was one.
    pub fn cancel(self) -> bool {
        match self.pending.get_value() {
            Some(handle) => {
                handle.clear();
                self.pending.set_value(None);
                true
            }
            None => false,
        }
    }
}

/// Sets `window[name]` to now, in ms since navigation start: when the app reached a point
/// `cargo xtask bench` times.
pub fn mark_time(name: &str) {
    if let Some(window) = web_sys::window() {
        let now = window.performance().map(|p| p.now()).unwrap_or_default();
        let _ = js_sys::Reflect::set(
            &window,
            &wasm_bindgen::JsValue::from_str(name),
            &wasm_bindgen::JsValue::from_f64(now),
        );
    }
}

/// What the last visit saved.
pub fn saved() -> Saved {
    read_saved(
        gloo_storage::LocalStorage::raw()
            .get_item(STORAGE_KEY)
            .ok()
            .flatten(),
    )
}

/// Keeps what an earlier version saved under [`EARLIER_SAVE_KEY`] (once): the next save
/// replaces it under the project's key.
pub fn keep_earlier_save(text: &str) {
    let storage = gloo_storage::LocalStorage::raw();
    if storage.get_item(EARLIER_SAVE_KEY).ok().flatten().is_none() {
        let _ = storage.set_item(EARLIER_SAVE_KEY, text);
    }
}

/// Saves `project` for the next visit (the browser may refuse: private mode, quota).
pub fn save_project(project: &Project) {
    if let Some(text) = saved_text(project) {
        let _ = gloo_storage::LocalStorage::raw().set_item(STORAGE_KEY, &text);
    }
}

/// The theme chosen earlier: `light`, `dark`, or empty for the system's.
pub fn saved_theme() -> String {
    gloo_storage::LocalStorage::raw()
        .get_item(THEME_KEY)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Applies and saves `theme` (`light`, `dark`, or empty to follow `prefers-color-scheme`).
pub fn set_theme(theme: &str) {
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-theme", theme);
    }
    let _ = gloo_storage::LocalStorage::raw().set_item(THEME_KEY, theme);
}

/// Whether a key event happened in a text field (where a key such as `/` is text).
pub fn in_text_field(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
}

/// Selects the text of `target` when it is a focusable block of text (a `pre`: the YAML
/// preview, a compose file, the labels): Ctrl+A there means that text, not the whole page.
/// Whether it did.
pub fn select_all_in_text_block(target: Option<web_sys::EventTarget>) -> bool {
    let Some(block) = target
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .filter(|e| e.tag_name() == "PRE")
    else {
        return false;
    };
    let Some(selection) = web_sys::window().and_then(|w| w.get_selection().ok().flatten()) else {
        return false;
    };
    selection.select_all_children(&block).is_ok()
}

/// The attribute on every text box that edits the project (`text_field::live_input`); the
/// other text boxes (the filter, the pasted YAML, compose file and labels) are not in the
/// project's history, and keep the browser's own undo for their text.
pub const PROJECT_FIELD: &str = "data-project-field";

/// Whether `target` is a text box of the second kind: not a project field.
pub fn is_own_undo_box(target: Option<web_sys::EventTarget>) -> bool {
    target
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|e| {
            let text_box = match e.tag_name().as_str() {
                "TEXTAREA" => true,
                "INPUT" => !matches!(
                    e.get_attribute("type").as_deref(),
                    Some("checkbox" | "radio" | "file" | "button")
                ),
                _ => false,
            };
            text_box && !e.has_attribute(PROJECT_FIELD)
        })
}

fn by_testid(testid: &str) -> Option<web_sys::HtmlElement> {
    document()
        .query_selector(&format!("[data-testid=\"{testid}\"]"))
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
}

/// Focuses the element `testid` once the views pending now have rendered (a field of a
/// service just selected is not there yet).
pub fn focus_later(testid: String) {
    set_timeout(
        move || {
            if let Some(element) = by_testid(&testid) {
                let _ = element.focus();
            }
        },
        std::time::Duration::ZERO,
    );
}

/// How long a field an undo or redo changed stays marked.
const CHANGED_MARK_MS: u64 = 2_000;

/// Scrolls the element `testid` to the middle of its scroller once the views pending now
/// have rendered (opening the panel it is folded in), and marks it for a moment: an undo
/// or redo shows where it changed the project. The focus stays where it is.
pub fn reveal_later(testid: String) {
    set_timeout(
        move || {
            let Some(element) = by_testid(&testid) else {
                return;
            };
            if let Ok(Some(panel)) = element.closest("details") {
                let _ = panel.set_attribute("open", "");
            }
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Center);
            element.scroll_into_view_with_scroll_into_view_options(&options);
            let marked = element.class_list();
            // Restarted when the same field changes twice in a row.
            let _ = marked.remove_1("just-changed");
            let _ = element.offset_width();
            let _ = marked.add_1("just-changed");
            set_timeout(
                move || {
                    let _ = marked.remove_1("just-changed");
                },
                std::time::Duration::from_millis(CHANGED_MARK_MS),
            );
        },
        std::time::Duration::ZERO,
    );
}

/// Moves the focus from `node` to the next (`step` 1) or previous (-1) button among its
/// siblings (the diagram's nodes), wrapping around; the one focused becomes the Tab stop.
pub fn focus_next_button(node: &web_sys::EventTarget, step: i32) {
    let Some(node) = node.dyn_ref::<web_sys::Element>() else {
        return;
    };
    let Some(parent) = node.parent_element() else {
        return;
    };
    let children = parent.children();
    let buttons: Vec<web_sys::Element> = (0..children.length())
        .filter_map(|i| children.item(i))
        .filter(|e| e.get_attribute("role").as_deref() == Some("button"))
        .collect();
    let Some(at) = buttons.iter().position(|b| b == node) else {
        return;
    };
    let count = buttons.len() as i32;
    let next = &buttons[(at as i32 + step).rem_euclid(count) as usize];
    let _ = node.set_attribute("tabindex", "-1");
    let _ = next.set_attribute("tabindex", "0");
    // SVG elements have `focus` too, though not as `HtmlElement`s.
    let focus = js_sys::Reflect::get(next, &wasm_bindgen::JsValue::from_str("focus"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let Some(focus) = focus {
        let _ = focus.call0(next);
    }
}

/// Marks line `line` (0-based) of the YAML preview and scrolls it into view; the mark
/// moves from the line marked before.
pub fn reveal_preview_line(line: usize) {
    let Some(preview) = by_testid("yaml-preview") else {
        return;
    };
    if let Ok(Some(old)) = preview.query_selector(".target") {
        let _ = old.class_list().remove_1("target");
    }
    let chunk = preview
        .children()
        .item((line / PREVIEW_LINES_PER_CHUNK) as u32);
    let Some(row) = chunk.and_then(|c| c.children().item((line % PREVIEW_LINES_PER_CHUNK) as u32))
    else {
        return;
    };
    let _ = row.class_list().add_1("target");
    row.scroll_into_view_with_bool(false);
}

/// Puts `text` on the clipboard (the browser may refuse; nothing else to do then).
pub fn copy_text(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}

/// Saves `text` as the file `name` through the browser's download.
pub fn download(name: &str, text: &str) {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/yaml");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(anchor) = document().create_element("a") {
        if let Ok(anchor) = anchor.dyn_into::<web_sys::HtmlAnchorElement>() {
            anchor.set_href(&url);
            anchor.set_download(name);
            anchor.click();
        }
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}
