//! `on` / `off`: delivery events for the page (`delivered`, `dropped`,
//! `invalid`). A listener that throws is reported and the others still run.

use wasm_bindgen::JsValue;

use crate::js::{invoke, warn, Function};

/// The events the SDK emits.
#[derive(Debug, Clone, Copy)]
pub enum Delivery {
    Delivered,
    Dropped,
    Invalid,
}

impl Delivery {
    /// The event's name, also the key of the reason in its payload
    /// (`{dropped: reason}`).
    pub fn name(self) -> &'static str {
        NAMES[self as usize]
    }
}

/// The names of the `Delivery` events, in their order.
const NAMES: [&str; 3] = ["delivered", "dropped", "invalid"];

#[derive(Debug, Default)]
pub struct Emitter {
    /// The listeners of each `Delivery` event, in its order. Listeners for
    /// any other name would never run, so they are not kept.
    listeners: [Vec<Function>; 3],
}

impl Emitter {
    /// The listeners of the event `name` (compared as a JS value: no string
    /// crosses into the wasm).
    fn named(&mut self, name: &JsValue) -> Option<&mut Vec<Function>> {
        let index = NAMES.iter().position(|event| name == event)?;
        self.listeners.get_mut(index)
    }

    pub fn on(&mut self, name: &JsValue, listener: Function) {
        if let Some(listeners) = self.named(name) {
            listeners.push(listener);
        }
    }

    pub fn off(&mut self, name: &JsValue, listener: Option<&Function>) {
        if let Some(listeners) = self.named(name) {
            listeners.retain(|f| listener.is_some_and(|l| l != f));
        }
    }

    /// The listeners of `event` (cloned, so a listener may call `on`/`off`).
    pub fn listeners(&self, event: Delivery) -> Vec<Function> {
        self.listeners[event as usize].clone()
    }
}

/// Calls each listener with `payload`, never letting one throw into the SDK.
pub fn emit(listeners: Vec<Function>, payload: &JsValue) {
    for listener in listeners {
        if !invoke(&listener, payload) {
            warn("an on() listener threw; the other listeners still ran");
        }
    }
}
