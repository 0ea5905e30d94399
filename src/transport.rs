//! Sending batches to the proxy with `fetch`.
//!
//! Batches go as `text/plain` JSON with the write key in the body: a CORS
//! "simple request", so the browser sends no preflight. On page exit the
//! same body goes with `keepalive: true` (which survives the page), in
//! chunks under the browsers' 64 KB keepalive budget, or by `sendBeacon`.

use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;

use crate::backoff::retry_after_ms;
use crate::callbacks::after;
use crate::js::{call, get, get_string, global, now_iso, set};
use crate::json::write_string;
use crate::queue::Queued;

/// Largest batch in normal sending (the Segment API limit is 500 KB).
pub const MAX_BATCH_BYTES: usize = 450 * 1024;
/// Largest body of a keepalive request on page exit (browsers allow 64 KB
/// for all of a page's pending keepalive requests).
pub const MAX_KEEPALIVE_BYTES: usize = 60 * 1024;

/// Why a batch did not reach the proxy.
#[derive(Debug, Clone, PartialEq)]
pub enum SendError {
    /// Network failure or 5xx/408: retry with backoff.
    Retryable(String),
    /// 429: retry after this long (from `Retry-After`, when given).
    RateLimited(Option<f64>),
    /// Any other 4xx: retrying cannot help; the events are dropped.
    Refused(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Retryable(reason) | SendError::Refused(reason) => f.write_str(reason),
            SendError::RateLimited(_) => f.write_str("the proxy answered 429 Too Many Requests"),
        }
    }
}

/// The batch body: `{"batch":[…],"writeKey":…,"sentAt":…}`.
pub fn body(write_key: &str, events: &[Queued]) -> String {
    let mut out = String::with_capacity(events.iter().map(|e| e.json.len() + 1).sum::<usize>() + 96);
    out.push_str("{\"batch\":[");
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&e.json);
    }
    out.push_str("],\"writeKey\":");
    write_string(&mut out, write_key);
    out.push_str(",\"sentAt\":");
    write_string(&mut out, &now_iso());
    out.push('}');
    out
}

pub fn batch_url(proxy_url: &str) -> String {
    [proxy_url.trim_end_matches('/'), "/v1/batch"].concat()
}

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`; `Err` when it throws at once (a keepalive body
    /// over the browser's budget) rather than rejecting.
    #[wasm_bindgen(catch)]
    pub fn fetch(url: &str, init: &JsValue) -> Result<Promise, JsValue>;
}

/// The `fetch` options of a batch: a POST of `body`.
fn init(body: &str, keepalive: bool) -> JsValue {
    let init = Object::new().into();
    set(&init, "method", &"POST".into());
    set(&init, "body", &body.into());
    if keepalive {
        set(&init, "keepalive", &JsValue::TRUE);
    }
    init
}

/// A `fetch` Response's status code (0 for anything else).
pub fn status(response: &JsValue) -> u16 {
    get(response, "status").as_f64().unwrap_or(0.0) as u16
}

/// `response.text()`: a Promise of the body, which resolves to `undefined`
/// or rejects when the body cannot be read.
pub fn text(response: &JsValue) -> Promise {
    call(response, "text", &[]).map_or_else(|_| Promise::resolve(&JsValue::UNDEFINED), JsCast::unchecked_into)
}

/// POSTs one batch body and hands the classified answer to `done`; the
/// Promise (or `undefined`, when `done` ran at once) settles after `done`.
pub fn post(url: &str, body: &str, done: impl FnOnce(Result<(), SendError>) -> JsValue + 'static) -> JsValue {
    let network_error = |e: &JsValue| SendError::Retryable(["network error: ", &describe(e)].concat());
    let request = match fetch(url, &init(body, false)) {
        Ok(request) => request,
        Err(e) => return done(Err(network_error(&e))),
    };
    after(&request, move |answer| match answer {
        Ok(response) => classify(&response, done),
        Err(e) => done(Err(network_error(&e))),
    })
    .into()
}

fn classify(response: &JsValue, done: impl FnOnce(Result<(), SendError>) -> JsValue + 'static) -> JsValue {
    let outcome = match status(response) {
        200..=299 => Ok(()),
        429 => {
            let header = call(&get(response, "headers"), "get", &[&"Retry-After".into()]).ok().and_then(|h| h.as_string());
            Err(SendError::RateLimited(header.and_then(|h| retry_after_ms(&h, js_sys::Date::now()))))
        }
        status @ (408 | 500..=599) => Err(SendError::Retryable(format!("the proxy answered {status}"))),
        status => {
            // The proxy says in the body why it refused the batch.
            return after(&text(response), move |text| {
                let text = text.ok().and_then(|t| t.as_string()).unwrap_or_default();
                done(Err(SendError::Refused(format!("the proxy answered {status}: {text}"))))
            })
            .into();
        }
    };
    done(outcome)
}

/// Sends `body` on page exit: `fetch` with keepalive, or `sendBeacon` where
/// keepalive fetch is refused. Returns the keepalive request's Promise (if
/// any) so a page that stays alive can learn the outcome.
pub fn send_on_exit(url: &str, body: &str) -> Option<Promise> {
    let attempt = fetch(url, &init(body, true)).ok();
    if attempt.is_none() {
        let _ = call(&global("navigator"), "sendBeacon", &[&url.into(), &body.into()]);
    }
    attempt
}

/// Whether a keepalive response (a `Response`) was accepted.
pub fn accepted(response: &JsValue) -> bool {
    (200..=299).contains(&status(response))
}

fn describe(error: &JsValue) -> String {
    get_string(error, "message").or_else(|| error.as_string()).unwrap_or_else(|| "unknown".into())
}
