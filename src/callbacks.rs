//! Callbacks from the browser: Promise continuations, timers and event
//! listeners. Asynchronous steps are callbacks rather than `async fn`s: far
//! less wasm than an executor (wasm-bindgen-futures) and a state machine each.
//! Every callback has the one signature [`Callback`], boxed, so that the glue
//! converting a Rust closure for JS exists once.

use std::cell::Cell;

use wasm_bindgen::prelude::*;

use crate::js::{get, Promise};

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// Calls `next` with `Promise.allSettled`'s record of `promise` once it
    /// has settled; the Promise of what `next` returns. Never throws: every
    /// browser with the wasm features the SDK needs has `Promise.allSettled`.
    fn settle(promise: &Promise, next: &JsValue) -> Promise;
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout_with(handler: &JsValue, delay_ms: i32) -> i32;
    #[wasm_bindgen(js_name = setInterval)]
    pub fn set_interval(handler: &JsValue, delay_ms: i32) -> i32;
}

/// What every callback handed to JS is, the SDK's entry point included
/// (`load` in src/analytics.rs). `Fn`, not `FnMut`: wasm-bindgen refuses to
/// re-enter an `FnMut` closure, and the entry point is re-entered whenever a
/// callback or listener the SDK runs calls the SDK again.
pub type Callback = dyn Fn(JsValue) -> JsValue;

/// What a Promise settled to: its value, or the reason it was rejected.
pub type Settled = Result<JsValue, JsValue>;

/// Calls `next` once `promise` has settled, either way; the returned Promise
/// resolves to what `next` returns (after it, when that is a Promise).
pub fn after(promise: &Promise, next: impl FnOnce(Settled) -> JsValue + 'static) -> Promise {
    after_boxed(promise, Box::new(next))
}

// Boxed: one closure type for every caller, so its glue exists once.
fn after_boxed(promise: &Promise, next: Box<dyn FnOnce(Settled) -> JsValue>) -> Promise {
    let on_settled = once(move |result| {
        next(if get(&result, "status") == "fulfilled" { Ok(get(&result, "value")) } else { Err(get(&result, "reason")) })
    });
    settle(promise, &on_settled)
}

/// Runs `f` once after `delay_ms`; returns the timer id.
pub fn set_timeout(delay_ms: f64, f: impl FnOnce() + 'static) -> i32 {
    set_timeout_boxed(delay_ms, Box::new(f))
}

fn set_timeout_boxed(delay_ms: f64, f: Box<dyn FnOnce()>) -> i32 {
    let callback = once(move |_| {
        f();
        JsValue::UNDEFINED
    });
    set_timeout_with(&callback, delay_ms.max(0.0) as i32)
}

/// A JS function that runs `f` on its first call only. What `f` holds is
/// freed once it has run; the rest of the closure when JS lets go of it.
fn once(f: impl FnOnce(JsValue) -> JsValue + 'static) -> JsValue {
    let f = Cell::new(Some(f));
    Closure::<Callback>::new(move |value| f.take().map_or(JsValue::UNDEFINED, |f| f(value))).into_js_value()
}

/// A JS function that runs `f` on every call, for the page's lifetime
/// (listeners, the heartbeat).
pub fn forever(f: impl Fn() + 'static) -> JsValue {
    forever_boxed(Box::new(f))
}

fn forever_boxed(f: Box<dyn Fn()>) -> JsValue {
    Closure::<Callback>::new(move |_: JsValue| {
        f();
        JsValue::UNDEFINED
    })
    .into_js_value()
}
