//! The route table and the small pieces every handler shares.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::{get, post, put};
use axum::{middleware, Router};
use serde_json::Value;
use tower::ServiceExt;

use crate::error::ApiError;
use crate::{auth, bulk, connect, control, fields, incremental, memberships, organizations, tickets, traffic, user_events, users, FakeZendesk};

/// Every route is declared once, without `.json`: Zendesk serves each path
/// with and without the suffix, so it is dropped before routing (the request
/// log keeps the path as sent). A path no route serves gets Zendesk's 404 and
/// is logged like any other request, so a client calling a wrong endpoint
/// shows up in `/__fake/requests`.
pub fn router(fake: FakeZendesk) -> Router {
    let api = Router::new()
        .route("/api/v2/users/create_or_update", post(users::create_or_update))
        .route("/api/v2/users/search", get(users::search))
        .route("/api/v2/users/show_many", get(users::show_many))
        .route("/api/v2/users", get(users::list).post(users::create))
        .route("/api/v2/users/{id}", get(users::show).put(users::update))
        .route("/api/v2/users/{id}/identities", get(users::identities))
        .route("/api/v2/users/{id}/identities/{identity_id}/make_primary", put(users::make_primary))
        .merge(fields::routes())
        .merge(organizations::routes())
        .merge(memberships::routes())
        .merge(user_events::routes())
        .merge(tickets::routes())
        .merge(incremental::routes())
        .merge(bulk::routes())
        .route_layer(middleware::from_fn_with_state(fake.clone(), auth::require_auth))
        .fallback(unknown_endpoint)
        // Outermost: Zendesk rate-limits before it authenticates.
        .layer(middleware::from_fn_with_state(fake.clone(), traffic::throttle));
    let app = api.merge(connect::routes(fake.clone())).merge(control::routes()).with_state(fake);
    // Routing happens inside a Router, so the suffix must go before the one that routes.
    Router::new().fallback_service(app.map_request(without_json_suffix))
}

/// Zendesk's answer to a path it does not serve.
async fn unknown_endpoint() -> ApiError {
    ApiError::Raw(StatusCode::NOT_FOUND, serde_json::json!({"error": "InvalidEndpoint", "description": "Not found"}))
}

/// `/api/v2/users/7.json?x=1` → `/api/v2/users/7?x=1`.
fn without_json_suffix(mut request: Request) -> Request {
    let uri = request.uri();
    if let Some(path) = uri.path().strip_suffix(".json") {
        let rewritten = match uri.query() {
            Some(query) => format!("{path}?{query}"),
            None => path.to_owned(),
        };
        if let Ok(path_and_query) = rewritten.parse::<PathAndQuery>() {
            let mut parts = uri.clone().into_parts();
            parts.path_and_query = Some(path_and_query);
            if let Ok(uri) = Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
    }
    request
}

/// `http://{Host}`, for the `url` and `Location` values Zendesk returns.
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// Percent-encoding for the query strings of the links the fake returns.
pub fn url_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A JSON body, whatever the content type, with Zendesk's 400 on bad JSON.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::BadRequest(format!("Invalid JSON: {e}")))
    }
}

/// The record a write names (`{"user": {…}}`), with Zendesk's 400 when it is missing.
pub fn record<'a>(body: &'a Value, key: &str) -> Result<&'a serde_json::Map<String, Value>, ApiError> {
    body.get(key)
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::BadRequest(format!("Parameter {key} is required and must be an object")))
}

/// 201 with `Location` for a new record, 200 for an updated one.
pub fn written(created: bool, location: String, body: Value) -> axum::response::Response {
    use axum::response::IntoResponse;
    if created {
        (axum::http::StatusCode::CREATED, [(axum::http::header::LOCATION, location)], axum::Json(body)).into_response()
    } else {
        axum::Json(body).into_response()
    }
}

/// Zendesk's offset pagination (`page`, `per_page` ≤ 100) for list endpoints.
pub struct Paging {
    page: usize,
    per_page: usize,
}

impl Paging {
    pub fn from_query(params: &std::collections::HashMap<String, String>) -> Result<Paging, ApiError> {
        let number = |key: &str, default: usize| match params.get(key) {
            None => Ok(default),
            Some(raw) => raw.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| ApiError::BadRequest(format!("{key} must be a positive number"))),
        };
        Ok(Paging { page: number("page", 1)?, per_page: number("per_page", 100)?.min(100) })
    }

    /// This page of `records` under `key`, with `count` and the links to the
    /// pages either side.
    pub fn page<T>(&self, key: &str, records: &[T], render: impl Fn(&T) -> Value, base: &str, path: &str) -> Value {
        let Paging { page, per_page } = *self;
        let shown: Vec<Value> = records.iter().skip((page - 1) * per_page).take(per_page).map(render).collect();
        let link = |n: usize| format!("{base}{path}?page={n}&per_page={per_page}");
        serde_json::json!({
            key: shown,
            "count": records.len(),
            "next_page": (page * per_page < records.len()).then(|| link(page + 1)),
            "previous_page": (page > 1).then(|| link(page - 1)),
        })
    }
}

/// Zendesk accepts ids and external ids as strings or numbers.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
