//! Asynchronous steps as Promise callbacks and timers: far less wasm than an
//! async executor (wasm-bindgen-futures) plus a state machine per `async fn`.

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;

use crate::js::get;

#[wasm_bindgen]
extern "C" {
    /// The Promise of `Promise.allSettled`, whose `then` takes any callback.
    type AllSettled;
    #[wasm_bindgen(js_namespace = Promise, js_name = allSettled)]
    fn all_settled(promises: &Array) -> AllSettled;
    #[wasm_bindgen(method)]
    fn then(this: &AllSettled, on_fulfilled: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout_with(handler: &JsValue, delay_ms: i32) -> i32;
    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(id: i32);
}

/// What a Promise settled to: its value, or the reason it was rejected.
pub type Settled = Result<JsValue, JsValue>;

/// Calls `next` once `promise` has settled, either way; the returned Promise
/// resolves to what `next` returns (after it, when that is a Promise).
pub fn after(promise: &Promise, next: impl FnOnce(Settled) -> JsValue + 'static) -> Promise {
    after_boxed(promise, Box::new(next))
}

// Boxed: one closure type for every caller, so its glue exists once.
fn after_boxed(promise: &Promise, next: Box<dyn FnOnce(Settled) -> JsValue>) -> Promise {
    let on_settled = Closure::once_into_js(move |results: JsValue| {
        let result = get(&results, "0");
        next(if get(&result, "status") == "fulfilled" { Ok(get(&result, "value")) } else { Err(get(&result, "reason")) })
    });
    all_settled(&Array::of1(promise)).then(&on_settled)
}

/// Runs `f` once after `delay_ms`; returns the timer id.
pub fn set_timeout(delay_ms: f64, f: impl FnOnce() + 'static) -> i32 {
    set_timeout_boxed(delay_ms, Box::new(f))
}

fn set_timeout_boxed(delay_ms: f64, f: Box<dyn FnOnce()>) -> i32 {
    set_timeout_with(&Closure::once_into_js(f), delay_ms.max(0.0) as i32)
}
