//! zendesk-analytics browser SDK.
//!
//! The analytics.js API (`identify`, `track`, `page`, `group`, `alias`, …)
//! compiled to WebAssembly. Every call is mapped in the browser by the same
//! core the proxy uses, so events that would do nothing in Zendesk are
//! dropped with a reason before they cost a request, and `debug(true)` shows
//! the exact Zendesk operations each call produces. Events are persisted,
//! batched and sent to the zendesk-analytics proxy, which holds the Zendesk
//! credentials.
//!
//! Nothing here throws into the host page: every browser access is fallible
//! and every failure becomes a reported result (`invalid`, `dropped`) or a
//! console warning.

mod analytics;
pub mod args;
pub mod backoff;
mod callbacks;
pub mod context;
mod emitter;
pub mod event;
pub mod identity;
pub mod js;
pub mod json;
pub mod persist;
pub mod queue;
pub mod storage;
mod transport;

use wasm_bindgen::prelude::*;

/// Talc rather than std's dlmalloc: the same job in a fraction of the wasm.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// `load({writeKey, proxyUrl})`: the entry point of the web and bundler
/// builds. Returns the analytics object the page calls.
#[wasm_bindgen]
pub fn load(options: JsValue) -> Result<JsValue, JsError> {
    analytics::load(&options)
}
