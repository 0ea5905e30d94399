//! The HTTP client for the Zendesk Support API.

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;
use thiserror::Error;

use crate::config::ZendeskAuth;

/// A failed Zendesk call, classified for the delivery policy. Never contains
/// credentials: only the status and Zendesk's own error text.
#[derive(Debug, Error)]
pub enum ZendeskError {
    #[error("Zendesk could not be reached: {0}")]
    Network(String),
    #[error("Zendesk answered {status}: {message}")]
    Status {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("Zendesk answered with a body that is not the expected JSON: {0}")]
    BadResponse(String),
    #[error("this proxy version cannot perform the operation {0}")]
    Unsupported(String),
}

impl ZendeskError {
    /// 5xx, 408, 409, 429 and network errors are worth retrying; other 4xx are final.
    pub fn is_retryable(&self) -> bool {
        match self {
            ZendeskError::Network(_) => true,
            ZendeskError::Status { status, .. } => matches!(status, 408 | 409 | 429 | 500..=599),
            ZendeskError::BadResponse(_) | ZendeskError::Unsupported(_) => false,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ZendeskError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A Zendesk Support API client for one account.
#[derive(Clone)]
pub struct ZendeskClient {
    http: reqwest::Client,
    base_url: String,
    authorization: HeaderValue,
}

impl ZendeskClient {
    pub fn new(base_url: &str, auth: &ZendeskAuth) -> ZendeskClient {
        let mut authorization =
            HeaderValue::from_str(&auth.header_value()).unwrap_or_else(|_| HeaderValue::from_static(""));
        authorization.set_sensitive(true);
        ZendeskClient {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .user_agent(concat!("zendesk-analytics-proxy/", env!("CARGO_PKG_VERSION")))
                .build()
                .unwrap_or_default(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            authorization,
        }
    }

    /// `POST /api/v2/users/create_or_update.json` → the user Zendesk holds.
    pub async fn create_or_update_user(&self, user: &Value) -> Result<Value, ZendeskError> {
        let body = serde_json::json!({ "user": user });
        let response = self.send(self.http.post(self.url("/api/v2/users/create_or_update.json")).json(&body)).await?;
        response
            .get("user")
            .cloned()
            .ok_or_else(|| ZendeskError::BadResponse("no \"user\" in the create_or_update answer".into()))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, ZendeskError> {
        let response = request
            .header(AUTHORIZATION, self.authorization.clone())
            .send()
            .await
            // `without_url`: the URL is ours and harmless, but keep errors short.
            .map_err(|e| ZendeskError::Network(e.without_url().to_string()))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64);
        let text = response.text().await.map_err(|e| ZendeskError::Network(e.to_string()))?;
        if status.is_success() {
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text).map_err(|e| ZendeskError::BadResponse(e.to_string()));
        }
        Err(ZendeskError::Status {
            status: status.as_u16(),
            message: error_message(status, &text),
            retry_after,
        })
    }
}

/// Zendesk's error bodies come in several shapes; this turns each into one
/// readable sentence:
/// - `{"error":"RecordInvalid","description":"…","details":{"email":[{"description":"…"}]}}`
/// - `{"error":"RecordNotFound","description":"Not found"}` / `{"error":"Couldn't authenticate you"}`
/// - `{"errors":[{"code":"…","title":"…"}]}` (the events API)
/// - `{"status":"429","title":"…","detail":"…"}` (edge protection) or plain text.
pub fn error_message(status: StatusCode, body: &str) -> String {
    let Ok(json) = serde_json::from_str::<Value>(body) else {
        let text = body.trim();
        return if text.is_empty() {
            status.canonical_reason().unwrap_or("error").to_owned()
        } else {
            text.chars().take(300).collect()
        };
    };
    let mut parts = Vec::new();
    if let Some(error) = json.get("error").and_then(Value::as_str) {
        parts.push(error.to_owned());
    }
    if let Some(description) = json.get("description").and_then(Value::as_str) {
        parts.push(description.to_owned());
    }
    if let Some(details) = json.get("details").and_then(Value::as_object) {
        for (field, problems) in details {
            for problem in problems.as_array().into_iter().flatten() {
                if let Some(d) = problem.get("description").and_then(Value::as_str) {
                    parts.push(format!("{field}: {d}"));
                }
            }
        }
    }
    for error in json.get("errors").and_then(Value::as_array).into_iter().flatten() {
        let code = error.get("code").and_then(Value::as_str).unwrap_or("");
        let title = error.get("title").and_then(Value::as_str).unwrap_or("");
        parts.push(format!("{code} {title}").trim().to_owned());
    }
    if let Some(detail) = json.get("detail").and_then(Value::as_str) {
        parts.push(detail.to_owned());
    }
    if parts.is_empty() {
        body.chars().take(300).collect()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_shape_becomes_a_sentence() {
        let invalid = r#"{"error":"RecordInvalid","description":"Record validation errors","details":{"email":[{"description":"Email: x is already being used by another user","error":"DuplicateValue"}]}}"#;
        assert_eq!(
            error_message(StatusCode::UNPROCESSABLE_ENTITY, invalid),
            "RecordInvalid; Record validation errors; email: Email: x is already being used by another user"
        );
        let events = r#"{"errors":[{"code":"InvalidEventSource","id":"x","title":"Source zendesk is reserved"}]}"#;
        assert_eq!(error_message(StatusCode::BAD_REQUEST, events), "InvalidEventSource Source zendesk is reserved");
        let edge = r#"{"status":"429","title":"Automated response","detail":"Rate limited by Zendesk edge protection"}"#;
        assert_eq!(error_message(StatusCode::TOO_MANY_REQUESTS, edge), "Rate limited by Zendesk edge protection");
        assert_eq!(error_message(StatusCode::BAD_GATEWAY, ""), "Bad Gateway");
    }
}
