//! The app's second wasm module ([`crate::protocol`]): fetched once the editor is drawn,
//! then asked in JSON. index.html's `gaqnoLoadAnalysis()` imports it (one import however
//! often it is called, retried after a failure).

use std::cell::RefCell;

use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::protocol::Request;

/// Where the second module stands, for the panels that wait on it.
#[derive(Debug, Clone, PartialEq)]
pub enum Checks {
    /// Being fetched: findings, import and labels follow.
    Loading,
    Ready,
    /// It could not be loaded: why. The editor and the YAML work without it.
    Failed(String),
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = gaqnoLoadAnalysis)]
    fn load_module() -> Result<js_sys::Promise, JsValue>;
}

thread_local! {
    /// The module's `ask` export, once loaded.
    static ASK: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

/// Loads the second module unless it is loaded; Err says why it could not be.
pub async fn ready() -> Result<(), String> {
    if ASK.with(|a| a.borrow().is_some()) {
        return Ok(());
    }
    let module = JsFuture::from(load_module().map_err(describe)?)
        .await
        .map_err(describe)?;
    let ask = js_sys::Reflect::get(&module, &JsValue::from_str("ask"))
        .map_err(describe)?
        .dyn_into::<js_sys::Function>()
        .map_err(|_| "the checks module has no `ask`".to_owned())?;
    ASK.with(|a| *a.borrow_mut() = Some(ask));
    Ok(())
}

/// Whether [`ask`] can answer now.
pub fn is_ready() -> bool {
    ASK.with(|a| a.borrow().is_some())
}

/// The second module's answer to `request` (see [`Request`] for each `R`); Err when it is
/// not loaded yet or the request failed (the message says why).
pub fn ask<R: DeserializeOwned>(request: &Request) -> Result<R, String> {
    let ask = ASK
        .with(|a| a.borrow().clone())
        .ok_or_else(|| "the checks are still loading".to_owned())?;
    let json = serde_json::to_string(request).map_err(|e| e.to_string())?;
    let answer = ask
        .call1(&JsValue::NULL, &JsValue::from_str(&json))
        .map_err(describe)?
        .as_string()
        .ok_or_else(|| "the checks module answered nothing".to_owned())?;
    serde_json::from_str::<Result<R, String>>(&answer)
        .map_err(|e| format!("unreadable answer from the checks module: {e}"))?
}

/// [`ask`] once the module is loaded: `None` before (the caller keeps what it shows), and
/// on an error, which goes to the console (a broken answer is a bug: the browser tests fail
/// on console errors).
pub fn answer<R: DeserializeOwned>(request: &Request) -> Option<R> {
    if !is_ready() {
        return None;
    }
    ask(request)
        .inspect_err(|why| leptos::logging::error!("gaqno-lb checks: {why}"))
        .ok()
}

/// [`ready`], then [`ask`].
pub async fn ask_when_ready<R: DeserializeOwned>(request: Request) -> Result<R, String> {
    ready()
        .await
        .map_err(|why| format!("the checks module could not load ({why})"))?;
    ask(&request)
}

fn describe(error: JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}
