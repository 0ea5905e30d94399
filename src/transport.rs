//! Sending batches to the proxy with `fetch` (made in src/browser.js).
//!
//! Batches go as `text/plain` JSON with the write key in the body: a CORS
//! "simple request", so the browser sends no preflight. On page exit the
//! same body goes with `keepalive: true` (which survives the page), in
//! chunks under the browsers' 64 KB keepalive budget, or by `sendBeacon`.

use wasm_bindgen::prelude::*;
use zendesk_analytics_core::json::write_string;
use zendesk_analytics_core::text::{sentence, Piece::{Int, Text}};

use crate::backoff::retry_after_ms;
use crate::callbacks::after;
use crate::js::{get, get_string, now, now_iso, Promise};
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

impl SendError {
    /// Why, in words. Not `Display`: a Formatter would keep `core::fmt` in the wasm.
    pub fn reason(&self) -> &str {
        match self {
            SendError::Retryable(reason) | SendError::Refused(reason) => reason,
            SendError::RateLimited(_) => "the proxy answered 429 Too Many Requests",
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

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// A GET of `url`, or a POST of `body`: a Promise of the answer (see
    /// [`Answer`]), or `undefined` when a page-exit request went by
    /// `sendBeacon`. Never throws.
    fn request(url: &str, body: Option<&str>, keepalive: bool) -> JsValue;
}

/// What `request` resolves to: `[status, Retry-After, body text]`.
pub type Answer = JsValue;

/// A GET of `url`.
pub fn get_request(url: &str) -> Promise {
    request(url, None, false).unchecked_into()
}

/// An answer's status code.
pub fn status(answer: &Answer) -> u16 {
    get(answer, "0").as_f64().unwrap_or(0.0) as u16
}

/// An answer's body text.
fn text(answer: &Answer) -> String {
    get_string(answer, "2").unwrap_or_default()
}

/// POSTs one batch body and hands the classified answer to `done`; the
/// Promise settles after `done`.
pub fn post(url: &str, body: &str, done: impl FnOnce(Result<(), SendError>) -> JsValue + 'static) -> JsValue {
    let request: Promise = request(url, Some(body), false).unchecked_into();
    after(&request, move |answer| {
        done(match answer {
            Ok(answer) => classify(&answer),
            Err(e) => Err(SendError::Retryable(["network error: ", &describe(&e)].concat())),
        })
    })
    .into()
}

fn classify(answer: &Answer) -> Result<(), SendError> {
    match status(answer) {
        200..=299 => Ok(()),
        429 => Err(SendError::RateLimited(get_string(answer, "1").and_then(|h| retry_after_ms(&h, now())))),
        status @ (408 | 500..=599) => Err(SendError::Retryable(sentence("the proxy answered {}", &[Int(status.into())]))),
        // The proxy says in the body why it refused the batch.
        status => Err(SendError::Refused(sentence("the proxy answered {}: {}", &[Int(status.into()), Text(&text(answer))]))),
    }
}

/// Sends `body` on page exit: `fetch` with keepalive, or `sendBeacon` where
/// keepalive fetch is refused. Returns the keepalive request's Promise (if
/// any) so a page that stays alive can learn the outcome.
pub fn send_on_exit(url: &str, body: &str) -> Option<Promise> {
    Some(request(url, Some(body), true)).filter(|request| !request.is_undefined()).map(JsCast::unchecked_into)
}

/// Whether an answer was a success.
pub fn accepted(answer: &Answer) -> bool {
    (200..=299).contains(&status(answer))
}

fn describe(error: &JsValue) -> String {
    get_string(error, "message").or_else(|| error.as_string()).unwrap_or_else(|| "unknown".into())
}
