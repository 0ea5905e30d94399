//! Ingestion: the Segment HTTP Tracking API, so existing Segment clients and
//! our SDK can send here unchanged.
//!
//! A batch is accepted whole or refused whole with a 4xx that says what to
//! fix: the client then knows exactly which events it still owns. An accepted
//! batch is on disk before the 200 goes out.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::json;
use zendesk_analytics_core::{Event, EventType, Map, Value};

use crate::config::WriteKey;
use crate::identity;
use crate::AppState;

/// Segment's limit for one event.
pub const MAX_EVENT_BYTES: usize = 32 * 1024;
/// Segment's limit for one batch request.
pub const MAX_BATCH_BYTES: usize = 500 * 1024;
/// Deeper JSON is refused (the browser SDK refuses such events itself).
pub const MAX_DEPTH: usize = zendesk_analytics_core::MAX_BODY_DEPTH;

/// A refused request: status plus a JSON body that says what is wrong.
#[derive(Debug)]
pub struct Refusal {
    status: StatusCode,
    message: String,
    details: Vec<String>,
    retry_after: Option<u64>,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal { status, message: message.into(), details: Vec::new(), retry_after: None }
    }

    fn bad_request(message: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::BAD_REQUEST, message)
    }
}

/// Middleware in front of the decompression layer: content codings are
/// case-insensitive (RFC 9110) and `x-gzip` is gzip, but the layer matches
/// `gzip` and `deflate` byte for byte and refuses anything else with an empty
/// 415, which a Segment library takes as "drop the batch". The header is
/// normalised here, and an unsupported coding is refused with a reason.
pub async fn content_encoding(mut request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if let Some(value) = request.headers().get(header::CONTENT_ENCODING) {
        let coding = value.to_str().unwrap_or("").trim().to_ascii_lowercase();
        let normalised = match coding.as_str() {
            "gzip" | "x-gzip" => "gzip",
            "deflate" => "deflate",
            "" | "identity" => "identity",
            _ => {
                let message = format!("Content-Encoding {coding:?} is not supported: send the batch as plain JSON, or gzip or deflate it");
                return Refusal::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, message).into_response();
            }
        };
        if normalised == "identity" {
            request.headers_mut().remove(header::CONTENT_ENCODING);
        } else {
            request.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(normalised));
        }
    }
    next.run(request).await
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut body = json!({ "success": false, "error": self.message });
        if !self.details.is_empty() {
            body["details"] = json!(self.details);
        }
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// `POST /v1/batch` (and `/v1/b`).
pub async fn batch(State(state): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    let result = async {
        let mut root = parse_body(&read_body(body)?)?;
        let (key_name, key) = authorize(&state, &headers, &root)?;
        let items = match root.remove("batch") {
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(Refusal::bad_request(format!("\"batch\" must be an array of events, got {}", other.type_name())))
            }
            None => return Err(Refusal::bad_request("the body needs a \"batch\" array of events")),
        };
        if items.is_empty() {
            return Err(Refusal::bad_request("\"batch\" is empty; send at least one event"));
        }
        // Segment lets a batch carry `context` and `integrations` for all of
        // its events; an event's own keys win.
        let shared: Vec<(String, Map)> = ["context", "integrations"]
            .into_iter()
            .filter_map(|k| match root.remove(k) {
                Some(Value::Object(m)) => Some((k.to_owned(), m)),
                _ => None,
            })
            .collect();
        let items = items
            .into_iter()
            .map(|item| match item {
                Value::Object(mut event) => {
                    for (field, defaults) in &shared {
                        merge_defaults(&mut event, field, defaults);
                    }
                    Value::Object(event)
                }
                other => other,
            })
            .collect();
        accept(&state, &key_name, key, items, None).await
    }
    .await;
    respond(&state, result)
}

/// `POST /v1/{identify,track,group,alias,page,screen}` and the short forms
/// `/v1/{i,t,g,a,p,s}` that analytics-next uses.
pub async fn single(
    State(state): State<AppState>,
    Path(call): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let kind = match call.as_str() {
        "identify" | "i" => EventType::Identify,
        "track" | "t" => EventType::Track,
        "group" | "g" => EventType::Group,
        "alias" | "a" => EventType::Alias,
        "page" | "p" => EventType::Page,
        "screen" | "s" => EventType::Screen,
        "batch" | "b" => return batch(State(state), headers, body).await,
        other => {
            let refusal = Refusal::new(
                StatusCode::NOT_FOUND,
                format!("unknown endpoint /v1/{other}; use /v1/batch, /v1/identify, /v1/track, /v1/group, /v1/alias, /v1/page or /v1/screen"),
            );
            return respond(&state, Err(refusal));
        }
    };
    let result = async {
        let root = parse_body(&read_body(body)?)?;
        let (key_name, key) = authorize(&state, &headers, &root)?;
        accept(&state, &key_name, key, vec![Value::Object(root)], Some(kind)).await
    }
    .await;
    respond(&state, result)
}

fn respond(state: &AppState, result: Result<Response, Refusal>) -> Response {
    match result {
        Ok(response) => response,
        Err(refusal) => {
            state.metrics.refused(refusal.status.as_u16());
            tracing::debug!(status = refusal.status.as_u16(), error = %refusal.message, "request refused");
            refusal.into_response()
        }
    }
}

/// The body, or a JSON 413 when it is over the limit (axum stops reading at
/// the limit, so an endless body costs nothing).
fn read_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, Refusal> {
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request is over the limit of {MAX_BATCH_BYTES} bytes per batch (uncompressed) — send smaller batches"),
        ),
        status => Refusal::new(status, format!("the body could not be read: {}", rejection.body_text())),
    })
}

fn merge_defaults(event: &mut Map, field: &str, defaults: &Map) {
    match event.get_mut(field) {
        Some(Value::Object(own)) => {
            for (k, v) in defaults {
                own.get_or_insert_with(k.clone(), || v.clone());
            }
        }
        None | Some(Value::Null) => {
            event.insert(field.to_owned(), Value::Object(defaults.clone()));
        }
        // A wrong type is reported by validation with the field's name.
        Some(_) => {}
    }
}

/// Size, UTF-8, JSON, object and depth checks, each with its own sentence.
/// JSON and `text/plain` bodies are read the same way (browsers send
/// text/plain to avoid a CORS preflight).
pub fn parse_body(body: &[u8]) -> Result<Map, Refusal> {
    if body.len() > MAX_BATCH_BYTES {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request is {} bytes, over the limit of {MAX_BATCH_BYTES} bytes per batch — send smaller batches", body.len()),
        ));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Refusal::bad_request("the body is empty; send a JSON object"));
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        Refusal::bad_request(format!("the body is not valid UTF-8 (invalid byte at offset {}); send UTF-8 encoded JSON", e.valid_up_to()))
    })?;
    let value = serde_json::from_str::<Value>(&without_lone_surrogates(text)).map_err(|e| {
        if e.to_string().starts_with("recursion limit exceeded") {
            Refusal::bad_request(format!("the body nests deeper than {MAX_DEPTH} levels; flatten your traits and properties"))
        } else {
            Refusal::bad_request(format!("the body is not valid JSON: {e}"))
        }
    })?;
    if value.depth() > MAX_DEPTH {
        return Err(Refusal::bad_request(format!(
            "the body nests deeper than {MAX_DEPTH} levels; flatten your traits and properties"
        )));
    }
    match value {
        Value::Object(map) => Ok(map),
        other => Err(Refusal::bad_request(format!("the body must be a JSON object, got {}", other.type_name()))),
    }
}

/// The JSON text with each escaped lone UTF-16 surrogate (`"\ud83d"`, which
/// JSON.stringify writes for half of a split emoji) replaced by `\ufffd`.
/// serde_json refuses them, and a refused batch is dropped whole by Segment
/// libraries, so one cut string would lose every event sent with it. The
/// replacement has the same length; text without one is not copied.
fn without_lone_surrogates(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    // The UTF-16 unit escaped at `at` (`\uXXXX`), if there is one.
    let unit = |at: usize| -> Option<u16> {
        let hex = bytes.get(at..at + 6).filter(|b| b.starts_with(b"\\u"))?;
        u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut fixed: Option<Vec<u8>> = None;
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            at += 1;
            continue;
        }
        match unit(at) {
            // A pair: one character.
            Some(0xD800..=0xDBFF) if unit(at + 6).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low)) => at += 12,
            Some(0xD800..=0xDFFF) => {
                fixed.get_or_insert_with(|| bytes.to_vec())[at..at + 6].copy_from_slice(b"\\ufffd");
                at += 6;
            }
            Some(_) => at += 6,
            // Any other escape, `\\` included, is two bytes.
            None => at += 2,
        }
    }
    match fixed.map(String::from_utf8) {
        Some(Ok(text)) => Cow::Owned(text),
        _ => Cow::Borrowed(text),
    }
}

/// The write key from HTTP Basic auth (key as user, as Segment's libraries
/// send it) or the body's `writeKey` (text/plain senders such as our SDK).
fn write_key_of(headers: &HeaderMap, body: &Map) -> Result<String, Refusal> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .map(|user_pass| user_pass.split(':').next().unwrap_or_default().to_owned())
        .filter(|k| !k.is_empty());
    from_header.or_else(|| body.get("writeKey").and_then(Value::as_str).map(str::to_owned)).ok_or_else(|| {
        Refusal::new(StatusCode::UNAUTHORIZED, "no write key: send it as the HTTP Basic user or as \"writeKey\" in the body")
    })
}

/// A known write key, called from an origin it allows.
fn authorize<'a>(state: &'a AppState, headers: &HeaderMap, body: &Map) -> Result<(String, &'a WriteKey), Refusal> {
    let name = write_key_of(headers, body)?;
    let key = state
        .config
        .write_key(&name)
        .ok_or_else(|| Refusal::new(StatusCode::UNAUTHORIZED, "unknown write key; check the writeKey your SDK is loaded with"))?;
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        if !key.allows_origin(origin) {
            return Err(Refusal::new(
                StatusCode::FORBIDDEN,
                format!("origin {origin} is not allowed for this write key; add it to the key's allowed_origins"),
            ));
        }
    }
    Ok((name, key))
}

/// Rate-limits, validates every event, then stores them all in one transaction.
async fn accept(
    state: &AppState,
    key_name: &str,
    key: &WriteKey,
    items: Vec<Value>,
    kind: Option<EventType>,
) -> Result<Response, Refusal> {
    if let Err(wait) = state.ingestion_limit(key_name).try_take(items.len() as f64) {
        let seconds = wait.as_secs().max(1);
        let mut refusal = Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "this write key is limited to {} events per second; retry after {seconds} s",
                key.events_per_second
            ),
        );
        refusal.retry_after = Some(seconds);
        return Err(refusal);
    }
    let mut rows = Vec::with_capacity(items.len());
    let mut problems = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match prepare(item, kind, key) {
            Ok(row) => rows.push(row),
            Err(problem) => problems.push(format!("event {index}: {problem}")),
        }
    }
    if !problems.is_empty() {
        let mut refusal = Refusal::bad_request(format!(
            "{} event(s) are invalid; nothing in this request was accepted",
            problems.len()
        ));
        refusal.details = problems;
        return Err(refusal);
    }
    let count = rows.len() as u64;
    state.queue.enqueue(key_name, rows).await.map_err(|e| {
        tracing::error!(error = %e, "could not store a batch");
        Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "the proxy could not store the events; retry later")
    })?;
    state.metrics.accepted(count);
    state.wake.notify_one();
    Ok((StatusCode::OK, Json(json!({ "success": true }))).into_response())
}

/// A validated event, ready for the queue.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub message_id: String,
    /// Whose events must be delivered in order (userId, else anonymousId).
    pub user_key: String,
    /// An alias's previousId: the alias is ordered among that user's events
    /// too, so it neither moves an id before the user holding it is written
    /// nor is overtaken by that user's later events.
    pub previous_key: Option<String>,
    pub body: String,
}

/// Validates one event (shape, identity verification, size).
fn prepare(item: Value, kind: Option<EventType>, key: &WriteKey) -> Result<Prepared, String> {
    let Value::Object(mut event) = item else {
        return Err(format!("must be a JSON object, got {}", item.type_name()));
    };
    if let Some(kind) = kind {
        event.insert("type".into(), Value::from(kind.as_str()));
    }
    if !matches!(event.get("messageId"), Some(Value::String(s)) if !s.trim().is_empty()) {
        event.insert("messageId".into(), Value::from(format!("proxy-{}", random_id())));
    }
    // The write key is not part of the event: it must not sit in the queue
    // next to the event body.
    event.remove("writeKey");
    let value = Value::Object(event);
    let parsed = Event::from_value(&value).map_err(|e| e.to_string())?;
    if let (Some(secret), Some(user_id)) = (&key.identity_secret, &parsed.user_id) {
        if matches!(parsed.kind, EventType::Identify | EventType::Group | EventType::Track | EventType::Alias) {
            let hash = parsed.context.get("userHash").and_then(Value::as_str);
            identity::verify(secret, user_id, hash).map_err(|e| e.to_string())?;
        }
    }
    let body = serde_json::to_string(&value).map_err(|e| e.to_string())?;
    if body.len() > MAX_EVENT_BYTES {
        return Err(format!("is {} bytes; the limit is {MAX_EVENT_BYTES} bytes per event", body.len()));
    }
    let user_key = parsed.user_id.clone().or(parsed.anonymous_id.clone()).unwrap_or_default();
    let previous_key = parsed.previous_id.filter(|previous| parsed.kind == EventType::Alias && *previous != user_key);
    Ok(Prepared { message_id: parsed.message_id.unwrap_or_default(), user_key, previous_key, body })
}

fn random_id() -> String {
    let n: u128 = rand::random();
    format!("{n:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Random byte edits of a valid batch (a cheap stand-in for fuzzing that
    /// runs on every `cargo test`): parsing, validation and mapping answer
    /// every variant with Ok or a refusal, never a panic.
    #[test]
    fn mutated_batches_are_refused_or_accepted_but_never_crash() {
        let key = WriteKey {
            allowed_origins: vec!["*".into()],
            identity_secret: None,
            events_per_second: 1,
            burst: 1,
            settings: crate::config::Config::default_settings("demo"),
        };
        let seed = br#"{"batch":[{"type":"identify","userId":"u1","traits":{"name":"Ada","email":"a@x.io","plan":"pro","company":{"id":"c1"}},"context":{"userHash":"00"}},{"type":"track","userId":7,"event":"Ticket Created","properties":{"subject":"Hi","tags":["a"]}},{"type":"group","anonymousId":"a","groupId":"g","traits":{"name":"Acme"}}]}"#;
        let alphabet = b"{}[]\":,0123456789.-eE truefalsnul\\u00\xff\xc3";
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        for _ in 0..20_000 {
            let mut body = seed.to_vec();
            for _ in 0..rng.random_range(1..6) {
                let at = rng.random_range(0..body.len());
                match rng.random_range(0..3) {
                    0 => body[at] = alphabet[rng.random_range(0..alphabet.len())],
                    1 => body.insert(at, alphabet[rng.random_range(0..alphabet.len())]),
                    _ => {
                        body.remove(at);
                    }
                }
            }
            let Ok(mut root) = parse_body(&body) else { continue };
            if let Some(Value::Array(items)) = root.remove("batch") {
                for item in items {
                    if let Ok(prepared) = prepare(item, None, &key) {
                        let value: Value = serde_json::from_str(&prepared.body).unwrap();
                        let event = Event::from_value(&value).unwrap();
                        let _ = zendesk_analytics_core::map_event(&event, &key.settings);
                    }
                }
            }
        }
    }
}
