//! Zendesk's error bodies. Zendesk answers in several shapes and the proxy
//! must parse each, so the fake reproduces them exactly:
//! - Support API: `{"error":"RecordInvalid","description":"…","details":{field:[{description,error}]}}`,
//!   `{"error":"RecordNotFound","description":"Not found"}`, `{"error":"Couldn't authenticate you"}`;
//! - User Events API: `{"errors":[{"code","id","title"}]}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// An error answered the way Zendesk answers it.
#[derive(Debug)]
pub enum ApiError {
    /// 401 `{"error":"Couldn't authenticate you"}`.
    Unauthorized,
    /// 403: the role, plan or scope does not allow it (or bulk import is off).
    Forbidden(String),
    /// 404 `{"error":"RecordNotFound","description":"Not found"}`.
    NotFound,
    /// 422 `RecordInvalid` with `details` keyed by field.
    RecordInvalid { field: &'static str, error: &'static str, description: String },
    /// 400 for a body Zendesk cannot parse.
    BadRequest(String),
    /// 409 from `safe_update` when the ticket changed since `updated_stamp`.
    UpdateConflict,
    /// The events API's `{"errors":[…]}` shape.
    Events { status: StatusCode, code: &'static str, title: String },
    /// Any other status with a body given verbatim.
    Raw(StatusCode, Value),
}

impl ApiError {
    pub fn invalid(field: &'static str, error: &'static str, description: impl Into<String>) -> ApiError {
        ApiError::RecordInvalid { field, error, description: description.into() }
    }

    /// Zendesk's error code, as bulk job results carry it.
    pub fn code(&self) -> String {
        match self {
            ApiError::RecordInvalid { error, .. } => (*error).to_owned(),
            ApiError::NotFound => "RecordNotFound".into(),
            ApiError::Forbidden(_) => "Forbidden".into(),
            ApiError::Unauthorized => "Unauthorized".into(),
            ApiError::BadRequest(_) => "InvalidValue".into(),
            ApiError::UpdateConflict => "UpdateConflict".into(),
            ApiError::Events { code, .. } => (*code).to_owned(),
            ApiError::Raw(status, _) => status.as_u16().to_string(),
        }
    }

    /// The human part of the error.
    pub fn description(&self) -> String {
        match self {
            ApiError::RecordInvalid { description, .. } | ApiError::Forbidden(description) | ApiError::BadRequest(description) => {
                description.clone()
            }
            ApiError::Events { title, .. } => title.clone(),
            other => other.code(),
        }
    }
}

impl From<ApiError> for Response {
    fn from(e: ApiError) -> Response {
        e.into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body): (StatusCode, Value) = match self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, json!({"error": "Couldn't authenticate you"})),
            ApiError::Forbidden(description) => {
                (StatusCode::FORBIDDEN, json!({"error": "Forbidden", "description": description}))
            }
            ApiError::NotFound => (StatusCode::NOT_FOUND, json!({"error": "RecordNotFound", "description": "Not found"})),
            ApiError::RecordInvalid { field, error, description } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({
                    "error": "RecordInvalid",
                    "description": "Record validation errors",
                    "details": { field: [{ "description": description, "error": error }] }
                }),
            ),
            ApiError::BadRequest(description) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "InvalidValue", "description": description}),
            ),
            ApiError::UpdateConflict => (
                StatusCode::CONFLICT,
                json!({
                    "error": "UpdateConflict",
                    "description": "Safe Update prevented the update due to outdated ticket data. Please fetch the latest ticket data and try again."
                }),
            ),
            ApiError::Events { status, code, title } => {
                (status, json!({"errors": [{"code": code, "id": code, "title": title}]}))
            }
            ApiError::Raw(status, body) => (status, body),
        };
        (status, Json(body)).into_response()
    }
}
