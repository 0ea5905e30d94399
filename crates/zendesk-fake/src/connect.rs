//! The legacy Zendesk Connect (Outbound) API, `https://api.outbound.io` in
//! production, served here beside the Support API:
//! - `POST /v2/identify` (`user_id` required; fields merged into the user,
//!   `attributes` and `group_attributes` key by key; `previous_id` aliases),
//! - `POST /v2/track` (`user_id` and `event` required, `timestamp` in Unix
//!   seconds), and the `/batch` forms of both taking an array,
//!
//! authenticated by `X-Outbound-Key` (401 otherwise). What Connect holds has
//! no read API, so tests read it from `/__fake/connect/…`.

use std::collections::HashMap;

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::routes::{text, JsonBody};
use crate::store::{iso, now, ConnectEvent, ConnectUser, Store};
use crate::FakeZendesk;

/// Fields merged key by key rather than replaced.
const MERGED_OBJECTS: &[&str] = &["attributes", "group_attributes"];

pub fn routes(fake: FakeZendesk) -> Router<FakeZendesk> {
    let api = Router::new()
        .route("/v2/identify", post(identify))
        .route("/v2/identify/batch", post(identify_batch))
        .route("/v2/track", post(track))
        .route("/v2/track/batch", post(track_batch))
        .route_layer(middleware::from_fn_with_state(fake, require_key));
    api.route("/__fake/connect/users/{user_id}", get(show_user)).route("/__fake/connect/events", get(list_events))
}

async fn require_key(State(fake): State<FakeZendesk>, request: Request, next: Next) -> Response {
    let key = request.headers().get("x-outbound-key").and_then(|v| v.to_str().ok());
    if key == Some(fake.credentials.connect_key.as_str()) {
        next.run(request).await
    } else {
        refuse(StatusCode::UNAUTHORIZED, "invalid or missing X-Outbound-Key")
    }
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn required<'a>(record: &'a Map<String, Value>, field: &str) -> Result<String, Response> {
    record.get(field).and_then(text).ok_or_else(|| refuse(StatusCode::BAD_REQUEST, format!("{field} is required")))
}

fn apply_identify(store: &mut Store, record: &Value) -> Result<(), Response> {
    let record = record.as_object().ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "the body must be a JSON object"))?;
    let user_id = required(record, "user_id")?;
    let at = now();
    let user = store.connect_users.entry(user_id.clone()).or_insert_with(|| ConnectUser {
        user_id,
        fields: Map::new(),
        previous_ids: Vec::new(),
        created_at: at,
        updated_at: at,
    });
    for (key, value) in record {
        match key.as_str() {
            "user_id" => {}
            "previous_id" => {
                if let Some(previous) = text(value).filter(|p| !user.previous_ids.contains(p)) {
                    user.previous_ids.push(previous);
                }
            }
            merged if MERGED_OBJECTS.contains(&merged) => {
                let Some(incoming) = value.as_object() else {
                    return Err(refuse(StatusCode::BAD_REQUEST, format!("{merged} must be an object")));
                };
                let slot = user.fields.entry(merged.to_owned()).or_insert_with(|| json!({}));
                if let Some(existing) = slot.as_object_mut() {
                    existing.extend(incoming.clone());
                }
            }
            _ => {
                user.fields.insert(key.clone(), value.clone());
            }
        }
    }
    user.updated_at = at;
    Ok(())
}

fn apply_track(store: &mut Store, record: &Value) -> Result<(), Response> {
    let record = record.as_object().ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "the body must be a JSON object"))?;
    let user_id = required(record, "user_id")?;
    let event = required(record, "event")?;
    let properties = match record.get("properties") {
        None | Some(Value::Null) => json!({}),
        Some(p @ Value::Object(_)) => p.clone(),
        Some(_) => return Err(refuse(StatusCode::BAD_REQUEST, "properties must be an object")),
    };
    let timestamp = match record.get("timestamp") {
        None | Some(Value::Null) => None,
        Some(t) => Some(t.as_f64().ok_or_else(|| refuse(StatusCode::BAD_REQUEST, "timestamp must be Unix seconds"))?),
    };
    store.connect_events.push(ConnectEvent { user_id, event, properties, timestamp, received_at: now() });
    Ok(())
}

type Apply = fn(&mut Store, &Value) -> Result<(), Response>;

/// One record, or (`batch`) an array applied in order; a bad record refuses
/// the whole request before anything is written.
fn receive(fake: &FakeZendesk, body: &Value, batch: bool, apply: Apply) -> Response {
    let records: Vec<&Value> = match (batch, body) {
        (true, Value::Array(items)) => items.iter().collect(),
        (true, _) => return refuse(StatusCode::BAD_REQUEST, "a batch body must be a JSON array"),
        (false, one) => vec![one],
    };
    fake.with_store(|store| {
        let mut scratch = Store::default();
        for record in &records {
            if let Err(refused) = apply(&mut scratch, record) {
                return refused;
            }
        }
        for record in &records {
            if let Err(refused) = apply(store, record) {
                return refused;
            }
        }
        StatusCode::OK.into_response()
    })
}

async fn identify(State(fake): State<FakeZendesk>, JsonBody(body): JsonBody) -> Response {
    receive(&fake, &body, false, apply_identify)
}

async fn identify_batch(State(fake): State<FakeZendesk>, JsonBody(body): JsonBody) -> Response {
    receive(&fake, &body, true, apply_identify)
}

async fn track(State(fake): State<FakeZendesk>, JsonBody(body): JsonBody) -> Response {
    receive(&fake, &body, false, apply_track)
}

async fn track_batch(State(fake): State<FakeZendesk>, JsonBody(body): JsonBody) -> Response {
    receive(&fake, &body, true, apply_track)
}

/// `GET /__fake/connect/users/{user_id}`: the merged user.
async fn show_user(State(fake): State<FakeZendesk>, Path(user_id): Path<String>) -> Result<Json<Value>, ApiError> {
    fake.with_store(|store| {
        let user = store.connect_users.get(&user_id).ok_or(ApiError::NotFound)?;
        let mut body = user.fields.clone();
        body.insert("user_id".into(), json!(user.user_id));
        body.insert("previous_ids".into(), json!(user.previous_ids));
        body.insert("created_at".into(), json!(iso(user.created_at)));
        body.insert("updated_at".into(), json!(iso(user.updated_at)));
        Ok(Json(Value::Object(body)))
    })
}

/// `GET /__fake/connect/events?user_id=`: tracked events, oldest first.
async fn list_events(State(fake): State<FakeZendesk>, Query(params): Query<HashMap<String, String>>) -> Json<Value> {
    fake.with_store(|store| {
        let events: Vec<Value> = store
            .connect_events
            .iter()
            .filter(|e| params.get("user_id").is_none_or(|u| *u == e.user_id))
            .map(|e| json!({ "user_id": e.user_id, "event": e.event, "properties": e.properties, "timestamp": e.timestamp, "received_at": iso(e.received_at) }))
            .collect();
        Json(json!({ "events": events }))
    })
}
