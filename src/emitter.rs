//! `on` / `off`: delivery events for the page (`delivered`, `dropped`,
//! `invalid`). A listener that throws is reported and the others still run.

use js_sys::Function;
use wasm_bindgen::JsValue;

use crate::js::warn;

/// The events the SDK emits; listeners for any other name would never run,
/// so they are not kept.
const EVENTS: [&str; 3] = ["delivered", "dropped", "invalid"];

#[derive(Debug, Default)]
pub struct Emitter {
    /// The listeners of each of `EVENTS`, in the same order.
    listeners: [Vec<Function>; 3],
}

impl Emitter {
    fn of(&mut self, name: &str) -> Option<&mut Vec<Function>> {
        let index = EVENTS.iter().position(|event| *event == name)?;
        self.listeners.get_mut(index)
    }

    pub fn on(&mut self, name: &str, listener: Function) {
        if let Some(listeners) = self.of(name) {
            listeners.push(listener);
        }
    }

    pub fn off(&mut self, name: &str, listener: Option<&Function>) {
        if let Some(listeners) = self.of(name) {
            listeners.retain(|f| listener.is_some_and(|l| l != f));
        }
    }

    /// The listeners for `name` (cloned, so a listener may call `on`/`off`;
    /// `&mut`: one lookup shared with `on`/`off`).
    pub fn listeners(&mut self, name: &str) -> Vec<Function> {
        self.of(name).map(|listeners| listeners.clone()).unwrap_or_default()
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
