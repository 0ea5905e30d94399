//! Zendesk's error bodies.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// An error answered the way Zendesk answers it.
#[derive(Debug)]
pub enum ApiError {
    /// 401 `{"error":"Couldn't authenticate you"}`.
    Unauthorized,
    /// 404 `{"error":"RecordNotFound","description":"Not found"}`.
    NotFound,
    /// 422 `RecordInvalid` with `details` keyed by field.
    RecordInvalid { field: &'static str, error: &'static str, description: String },
    /// 400 for a body Zendesk cannot parse.
    BadRequest(String),
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
        };
        (status, Json(body)).into_response()
    }
}
