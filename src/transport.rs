//! Sending batches to the proxy.
//!
//! Batches go as `text/plain` JSON with the write key in the body: a CORS
//! "simple request", so the browser sends no preflight.

use gloo_net::http::Request;
use zendesk_analytics_core::{Map, Value};

use crate::js::now_iso;

/// Why a batch did not reach the proxy.
#[derive(Debug)]
pub enum SendError {
    /// Network failure or a status worth retrying (5xx, 408, 429).
    Retryable(String),
    /// The proxy refused the batch (other 4xx); retrying cannot help.
    Refused(String),
}

/// POSTs `events` to `{proxy_url}/v1/batch`.
pub async fn send_batch(proxy_url: &str, write_key: &str, events: &[Value]) -> Result<(), SendError> {
    let mut body = Map::new();
    body.insert("batch".into(), Value::Array(events.to_vec()));
    body.insert("writeKey".into(), write_key.into());
    body.insert("sentAt".into(), now_iso().into());
    let json = js_sys::JSON::stringify(&crate::js::to_js(&Value::Object(body)))
        .map(String::from)
        .map_err(|_| SendError::Refused("the batch could not be encoded as JSON".into()))?;
    let request = Request::post(&format!("{}/v1/batch", proxy_url.trim_end_matches('/')))
        .header("Content-Type", "text/plain")
        .body(json)
        .map_err(|e| SendError::Refused(e.to_string()))?;
    let response = request.send().await.map_err(|e| SendError::Retryable(e.to_string()))?;
    match response.status() {
        200..=299 => Ok(()),
        status @ (408 | 429 | 500..=599) => Err(SendError::Retryable(format!("the proxy answered {status}"))),
        status => {
            let text = response.text().await.unwrap_or_default();
            Err(SendError::Refused(format!("the proxy answered {status}: {text}")))
        }
    }
}
