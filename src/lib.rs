//! zendesk-analytics browser SDK.
//!
//! The analytics.js API (`identify`, `track`, `flush`, …) compiled to
//! WebAssembly. Every call is mapped in the browser by the same core the proxy
//! uses, so events that would do nothing in Zendesk are dropped with a reason
//! before they cost a request, and `debug(true)` shows the exact Zendesk
//! operations each call produces. Events are batched and sent to the
//! zendesk-analytics proxy, which holds the Zendesk credentials.
//!
//! Nothing here throws into the host page: every browser access is fallible
//! and every failure becomes a rejected-with-reason result or a log line.

mod analytics;
mod args;
mod event;
mod js;
mod queue;
mod transport;

pub use analytics::Analytics;

use wasm_bindgen::prelude::*;

/// `load({writeKey, proxyUrl})`: the entry point of the web and bundler
/// builds. Returns the analytics object the page calls.
#[wasm_bindgen]
pub fn load(options: JsValue) -> Result<Analytics, JsError> {
    Analytics::load(options)
}
