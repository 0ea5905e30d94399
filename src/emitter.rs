//! `on` / `off`: delivery events for the page (`delivered`, `dropped`,
//! `invalid`). A listener that throws is reported and the others still run.

use js_sys::Function;
use wasm_bindgen::JsValue;

use crate::js::warn;

#[derive(Debug, Default)]
pub struct Emitter {
    listeners: Vec<(String, Function)>,
}

impl Emitter {
    pub fn on(&mut self, name: String, listener: Function) {
        self.listeners.push((name, listener));
    }

    pub fn off(&mut self, name: &str, listener: Option<&Function>) {
        self.listeners
            .retain(|(n, f)| n != name || listener.is_some_and(|l| l != f));
    }

    /// The listeners for `name` (cloned, so a listener may call `on`/`off`).
    pub fn listeners(&self, name: &str) -> Vec<Function> {
        self.listeners.iter().filter(|(n, _)| n == name).map(|(_, f)| f.clone()).collect()
    }
}

/// Calls each listener with `payload`, never letting one throw into the SDK.
pub fn emit(listeners: Vec<Function>, payload: &JsValue) {
    for listener in listeners {
        if listener.call1(&JsValue::NULL, payload).is_err() {
            warn("an on() listener threw; the other listeners still ran");
        }
    }
}
