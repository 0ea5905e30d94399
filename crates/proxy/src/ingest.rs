//! Ingestion: the Segment HTTP Tracking API, so existing Segment clients and
//! our SDK can send here unchanged.
//!
//! A batch is accepted whole or refused whole with a 4xx that says what to
//! fix: the client then knows exactly which events it still owns. An accepted
//! batch is on disk before the 200 goes out.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::json;
use zendesk_analytics_core::{Event, EventType, Map, Value};

use crate::AppState;

/// Segment's limit for one event.
pub const MAX_EVENT_BYTES: usize = 32 * 1024;
/// Segment's limit for one batch request.
pub const MAX_BATCH_BYTES: usize = 500 * 1024;

/// A refused request: status plus a JSON body that says what is wrong.
#[derive(Debug)]
pub struct Refusal {
    status: StatusCode,
    message: String,
    details: Vec<String>,
}

impl Refusal {
    fn bad_request(message: impl Into<String>) -> Refusal {
        Refusal { status: StatusCode::BAD_REQUEST, message: message.into(), details: Vec::new() }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut body = json!({ "success": false, "error": self.message });
        if !self.details.is_empty() {
            body["details"] = json!(self.details);
        }
        (self.status, Json(body)).into_response()
    }
}

/// `POST /v1/batch` (and `/v1/b`).
pub async fn batch(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, Refusal> {
    let mut root = parse_body(&body)?;
    let write_key = write_key(&headers, &root)?;
    state.authorize(&write_key)?;
    let Some(Value::Array(items)) = root.remove("batch") else {
        return Err(Refusal::bad_request("the body needs a \"batch\" array of events"));
    };
    accept(&state, &write_key, items, None).await
}

/// `POST /v1/{identify,track,group,alias,page,screen}` and the short forms
/// `/v1/{i,t,g,a,p,s}` that analytics-next uses.
pub async fn single(
    State(state): State<AppState>,
    Path(call): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    let kind = match call.as_str() {
        "identify" | "i" => EventType::Identify,
        "track" | "t" => EventType::Track,
        "group" | "g" => EventType::Group,
        "alias" | "a" => EventType::Alias,
        "page" | "p" => EventType::Page,
        "screen" | "s" => EventType::Screen,
        "batch" | "b" => return batch(State(state), headers, body).await,
        other => {
            return Err(Refusal {
                status: StatusCode::NOT_FOUND,
                message: format!("unknown endpoint /v1/{other}; use /v1/batch, /v1/identify, /v1/track, /v1/group, /v1/alias or /v1/page"),
                details: Vec::new(),
            })
        }
    };
    let root = parse_body(&body)?;
    let write_key = write_key(&headers, &root)?;
    state.authorize(&write_key)?;
    accept(&state, &write_key, vec![Value::Object(root)], Some(kind)).await
}

fn parse_body(body: &[u8]) -> Result<Map, Refusal> {
    if body.len() > MAX_BATCH_BYTES {
        return Err(Refusal {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!("the request is {} bytes; the limit is {MAX_BATCH_BYTES} bytes per batch — send smaller batches", body.len()),
            details: Vec::new(),
        });
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| Refusal::bad_request(format!("the body is not valid UTF-8 (byte {})", e.valid_up_to())))?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(Refusal::bad_request(format!("the body must be a JSON object, got {}", other.type_name()))),
        Err(e) => Err(Refusal::bad_request(format!("the body is not valid JSON: {e}"))),
    }
}

/// The write key from HTTP Basic auth (key as user, as Segment's libraries
/// send it) or the body's `writeKey` (text/plain senders such as our SDK).
fn write_key(headers: &HeaderMap, body: &Map) -> Result<String, Refusal> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .map(|user_pass| user_pass.split(':').next().unwrap_or_default().to_owned())
        .filter(|k| !k.is_empty());
    from_header
        .or_else(|| body.get("writeKey").and_then(Value::as_str).map(str::to_owned))
        .ok_or_else(|| Refusal {
            status: StatusCode::UNAUTHORIZED,
            message: "no write key: send it as the HTTP Basic user or as \"writeKey\" in the body".into(),
            details: Vec::new(),
        })
}

impl AppState {
    fn authorize(&self, write_key: &str) -> Result<(), Refusal> {
        if self.config.accepts_write_key(write_key) {
            Ok(())
        } else {
            Err(Refusal {
                status: StatusCode::UNAUTHORIZED,
                message: "unknown write key; check the writeKey your SDK is loaded with".into(),
                details: Vec::new(),
            })
        }
    }
}

/// Validates every event, then stores them all in one transaction.
async fn accept(
    state: &AppState,
    write_key: &str,
    items: Vec<Value>,
    kind: Option<EventType>,
) -> Result<Response, Refusal> {
    let mut rows = Vec::with_capacity(items.len());
    let mut problems = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match prepare(item, kind) {
            Ok(row) => rows.push(row),
            Err(problem) => problems.push(format!("event {index}: {problem}")),
        }
    }
    if !problems.is_empty() {
        return Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            message: format!("{} event(s) are invalid; nothing in this request was accepted", problems.len()),
            details: problems,
        });
    }
    let key = write_key.to_owned();
    state
        .queue
        .blocking(move |q| q.enqueue(&key, &rows))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "could not store a batch");
            Refusal {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: "the proxy could not store the events; retry later".into(),
                details: Vec::new(),
            }
        })?;
    state.wake.notify_one();
    Ok((StatusCode::OK, Json(json!({ "success": true }))).into_response())
}

/// Validates one event and returns `(messageId, stored JSON)`.
fn prepare(item: Value, kind: Option<EventType>) -> Result<(String, String), String> {
    let Value::Object(mut event) = item else {
        return Err(format!("must be a JSON object, got {}", item.type_name()));
    };
    if let Some(kind) = kind {
        event.insert("type".into(), Value::from(kind.as_str()));
    }
    if !matches!(event.get("messageId"), Some(Value::String(s)) if !s.is_empty()) {
        event.insert("messageId".into(), Value::from(format!("proxy-{}", random_id())));
    }
    let value = Value::Object(event);
    let parsed = Event::from_value(&value).map_err(|e| e.to_string())?;
    let body = serde_json::to_string(&value).map_err(|e| e.to_string())?;
    if body.len() > MAX_EVENT_BYTES {
        return Err(format!("is {} bytes; the limit is {MAX_EVENT_BYTES} bytes per event", body.len()));
    }
    Ok((parsed.message_id.unwrap_or_default(), body))
}

fn random_id() -> String {
    let n: u128 = rand::random();
    format!("{n:032x}")
}
