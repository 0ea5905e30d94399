//! The User Events API: `POST /api/v2/user_profiles/events` (the user named
//! by profile identifiers; an unmatched profile becomes a new anonymous end
//! user, as in Zendesk), `POST /api/v2/users/{id}/events`, and
//! `GET /api/v2/users/{id}/events` to read a user's events back.
//!
//! Accepted events answer 202 `{"profile_id","status":"received","user_id"}`;
//! errors use this API's own shape, `{"errors":[{"code","id","title"}]}`.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::routes::{base_url, url_encode, JsonBody};
use crate::store::{iso, now, Identity, Store, User, UserEvent};
use crate::FakeZendesk;

pub fn routes() -> Router<FakeZendesk> {
    Router::new()
        .route("/api/v2/user_profiles/events", post(track_by_profile))
        .route("/api/v2/users/{id}/events", post(track_by_user).get(list))
}

/// Events per page at most, and by default.
const MAX_PAGE: usize = 100;

fn invalid(title: impl Into<String>) -> ApiError {
    ApiError::Events { status: StatusCode::BAD_REQUEST, code: "InvalidParameter", title: title.into() }
}

/// `POST /api/v2/user_profiles/events` `{profile: {source, type, identifiers}, event}`.
async fn track_by_profile(State(fake): State<FakeZendesk>, JsonBody(body): JsonBody) -> Result<(StatusCode, Json<Value>), ApiError> {
    let profile = body.get("profile").and_then(Value::as_object).ok_or_else(|| invalid("profile is required"))?;
    let identifiers: Vec<(String, String)> = profile
        .get("identifiers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| Some((i.get("type")?.as_str()?.to_owned(), i.get("value")?.as_str()?.to_owned())))
        .collect();
    if identifiers.is_empty() {
        return Err(invalid("profile.identifiers must name at least one identifier"));
    }
    let event = parse_event(&body)?;
    fake.with_store(|store| {
        let user_id = match find_user(store, &identifiers) {
            Some(id) => id,
            None => create_anonymous_user(store, &identifiers, profile.get("name").and_then(Value::as_str)),
        };
        Ok(record(store, user_id, event))
    })
}

/// `POST /api/v2/users/{id}/events` `{event}`.
async fn track_by_user(State(fake): State<FakeZendesk>, Path(id): Path<String>, JsonBody(body): JsonBody) -> Result<(StatusCode, Json<Value>), ApiError> {
    let user_id: u64 = id.parse().map_err(|_| not_found())?;
    let event = parse_event(&body)?;
    fake.with_store(|store| {
        if !store.users.contains_key(&user_id) {
            return Err(not_found());
        }
        Ok(record(store, user_id, event))
    })
}

fn not_found() -> ApiError {
    ApiError::Events { status: StatusCode::NOT_FOUND, code: "RecordNotFound", title: "User not found".into() }
}

/// The event as sent, validated the way Zendesk does.
struct NewEvent {
    source: String,
    kind: String,
    description: Option<String>,
    properties: Value,
    /// As sent, and as an instant.
    created_at: Option<(String, SystemTime)>,
}

fn parse_event(body: &Value) -> Result<NewEvent, ApiError> {
    let event = body.get("event").and_then(Value::as_object).ok_or_else(|| invalid("event is required"))?;
    let text = |key: &str| event.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let source = text("source").ok_or_else(|| invalid("event.source is required"))?;
    if source.eq_ignore_ascii_case("zendesk") {
        return Err(invalid("event.source: zendesk is a reserved source"));
    }
    let kind = text("type").ok_or_else(|| invalid("event.type is required"))?;
    let created_at = match text("created_at") {
        Some(t) => {
            let at = humantime::parse_rfc3339_weak(&t).map_err(|_| invalid(format!("event.created_at is not an ISO-8601 date-time: {t}")))?;
            Some((t, at))
        }
        None => None,
    };
    Ok(NewEvent {
        source,
        kind,
        description: text("description"),
        properties: event.get("properties").cloned().unwrap_or_else(|| Value::Object(Map::new())),
        created_at,
    })
}

/// The user an identifier names: `email` matches any email identity,
/// `external_id` the user's external id.
fn find_user(store: &Store, identifiers: &[(String, String)]) -> Option<u64> {
    identifiers.iter().find_map(|(kind, value)| match kind.as_str() {
        "email" => store.users_by_email(value).first().copied(),
        "external_id" => store.user_by_external_id(value),
        _ => None,
    })
}

fn create_anonymous_user(store: &mut Store, identifiers: &[(String, String)], name: Option<&str>) -> u64 {
    let now = now();
    let id = store.next_id();
    let email = identifiers.iter().find(|(k, _)| k == "email").map(|(_, v)| v.clone());
    let external_id = identifiers.iter().find(|(k, _)| k == "external_id").map(|(_, v)| v.clone());
    let mut identities = Vec::new();
    if let Some(email) = &email {
        identities.push(Identity {
            id: store.next_id(),
            user_id: id,
            kind: "email".into(),
            value: email.clone(),
            primary: true,
            verified: false,
            created_at: now,
            updated_at: now,
        });
    }
    let name = name.map(str::to_owned).or_else(|| email.clone()).unwrap_or_else(|| format!("Visitor {id}"));
    store.users.insert(
        id,
        User {
            id,
            name,
            external_id,
            phone: None,
            time_zone: "Eastern Time (US & Canada)".into(),
            locale: "en-US".into(),
            organization_id: None,
            role: "end-user".into(),
            verified: false,
            active: true,
            suspended: false,
            tags: Vec::new(),
            details: None,
            notes: None,
            alias: None,
            user_fields: Map::new(),
            identities,
            created_at: now,
            updated_at: now,
        },
    );
    id
}

fn record(store: &mut Store, user_id: u64, event: NewEvent) -> (StatusCode, Json<Value>) {
    let received_at = now();
    let profile_id = format!("01P{user_id:020}");
    let id = format!("01E{:020}", store.next_id());
    let (created_at, occurred) =
        event.created_at.unwrap_or_else(|| (iso(received_at), UNIX_EPOCH + Duration::from_secs(received_at.max(0) as u64)));
    store.user_events.push(UserEvent {
        id,
        user_id,
        profile_id: profile_id.clone(),
        source: event.source,
        kind: event.kind,
        description: event.description,
        properties: event.properties,
        created_at,
        occurred,
        received_at,
    });
    (StatusCode::ACCEPTED, Json(json!({ "profile_id": profile_id, "status": "received", "user_id": user_id.to_string() })))
}

/// `GET /api/v2/users/{id}/events[?filter[source]=…&filter[type]=…]`,
/// newest first, in the Sunshine list shape (`data`, `links`, `meta`) with
/// Zendesk's cursor pagination: `page[size]` (≤ 100, the default) and
/// `page[after]` (here: the id of the last event of the previous page).
async fn list(
    State(fake): State<FakeZendesk>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let user_id: u64 = id.parse().map_err(|_| not_found())?;
    let source = params.get("filter[source]");
    let kind = params.get("filter[type]");
    let size = match params.get("page[size]") {
        None => MAX_PAGE,
        Some(raw) => raw.parse::<usize>().ok().filter(|n| (1..=MAX_PAGE).contains(n)).ok_or_else(|| invalid(format!("page[size] must be between 1 and {MAX_PAGE}")))?,
    };
    let after = params.get("page[after]");
    fake.with_store(|store| {
        if !store.users.contains_key(&user_id) {
            return Err(not_found());
        }
        let mut events: Vec<&UserEvent> = store
            .user_events
            .iter()
            .filter(|e| e.user_id == user_id)
            .filter(|e| source.is_none_or(|s| &e.source == s) && kind.is_none_or(|k| &e.kind == k))
            .collect();
        // Ids grow with arrival: ties in time list the later arrival first.
        events.sort_by(|a, b| (b.occurred, &b.id).cmp(&(a.occurred, &a.id)));
        let start = match after {
            None => 0,
            Some(cursor) => events.iter().position(|e| &e.id == cursor).map(|i| i + 1).ok_or_else(|| invalid("page[after] is not a cursor this list gave"))?,
        };
        let page = &events[start..(start + size).min(events.len())];
        let has_more = start + page.len() < events.len();
        let after_cursor = page.last().map(|e| e.id.clone());
        let next = after_cursor.as_ref().filter(|_| has_more).map(|cursor| {
            let mut query = vec![format!("page[size]={size}"), format!("page[after]={cursor}")];
            query.extend(source.map(|s| format!("filter[source]={}", url_encode(s))));
            query.extend(kind.map(|k| format!("filter[type]={}", url_encode(k))));
            format!("{}/api/v2/users/{user_id}/events?{}", base_url(&headers), query.join("&"))
        });
        let data: Vec<Value> = page.iter().map(|e| e.to_json()).collect();
        Ok(Json(json!({
            "data": data,
            "links": { "next": next, "prev": null },
            "meta": { "has_more": has_more, "after_cursor": after_cursor, "before_cursor": null },
        })))
    })
}
