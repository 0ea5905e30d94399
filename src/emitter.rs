//! `on` / `off`: delivery events for the page (`delivered`, `dropped`,
//! `invalid`). The listener lists are JS arrays the facade keeps
//! (src/browser.js): registering, removing and calling listeners are leaf
//! operations with nothing to decide, and a JS function held in the wasm
//! costs a table slot and drop code at every copy.

use wasm_bindgen::prelude::*;

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

/// The names of the `Delivery` events, in their order (the facade's too).
const NAMES: [&str; 3] = ["delivered", "dropped", "invalid"];

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// Calls each listener of `listeners[event]` with `payload`; one that
    /// throws is reported on the console and the others still run.
    pub fn emit(listeners: &JsValue, event: u32, payload: &JsValue);
}
