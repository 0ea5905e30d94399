//! The HTTP client for the Zendesk Support and Connect APIs: throttling,
//! 429 pauses and Zendesk's error shapes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use thiserror::Error;
use zendesk_pacing::{spacing, Headroom, Pacer};

use crate::config::{Secret, ZendeskAuth};
use crate::metrics::Metrics;
use crate::ratelimit::TokenBucket;

/// A failed Zendesk call, classified for the delivery policy. Never contains
/// credentials: only the status and Zendesk's own error text.
#[derive(Debug, Error)]
pub enum ZendeskError {
    /// No connection was made: the request never left.
    #[error("Zendesk could not be reached: {0}")]
    Unreachable(String),
    /// The connection failed or timed out once the request was under way:
    /// Zendesk may have carried it out.
    #[error("the connection to Zendesk failed: {0}")]
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
    /// 5xx, 408, 409, 429 and network errors are worth retrying; other 4xx
    /// are final (the request itself is wrong; repeating it cannot help).
    pub fn is_retryable(&self) -> bool {
        match self {
            ZendeskError::Unreachable(_) | ZendeskError::Network(_) => true,
            ZendeskError::Status { status, .. } => matches!(status, 408 | 409 | 429 | 500..=599),
            ZendeskError::BadResponse(_) | ZendeskError::Unsupported(_) => false,
        }
    }

    /// Whether the failed request may still have been carried out. Only
    /// Zendesk's clean refusals (any 4xx, 429, 503) are known to change
    /// nothing; any other status (500, a proxy's 502/504, a CDN's 520/524…)
    /// or a connection broken after sending may follow a request that was
    /// carried out, so the retry checks first.
    pub fn may_have_taken_effect(&self) -> bool {
        match self {
            ZendeskError::Network(_) | ZendeskError::BadResponse(_) => true,
            ZendeskError::Status { status, .. } => !matches!(status, 400..=499 | 503),
            ZendeskError::Unreachable(_) | ZendeskError::Unsupported(_) => false,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ZendeskError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Spacing and pausing shared by every request to one API: the token bucket
/// keeps the proxy under the plan limit, and after a 429 nobody sends until
/// the `Retry-After` has passed (Zendesk counts requests made during the
/// pause against the account).
pub struct Throttle {
    bucket: TokenBucket,
    /// Spaces requests when Zendesk's headers say the account (shared with
    /// other apps and other proxy instances) is running low.
    pacer: Pacer,
    paused_until: Mutex<Option<Instant>>,
    default_pause: Duration,
    metrics: Metrics,
}

impl Throttle {
    pub fn new(requests_per_minute: u32, default_pause: Duration, metrics: Metrics) -> Throttle {
        Throttle {
            bucket: TokenBucket::per_minute(requests_per_minute),
            pacer: Pacer::default(),
            paused_until: Mutex::new(None),
            default_pause,
            metrics,
        }
    }

    fn paused_until(&self) -> Option<Instant> {
        let until = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        until.filter(|u| *u > Instant::now())
    }

    /// Waits until a request may go out.
    async fn ready(&self) {
        loop {
            if let Some(until) = self.paused_until() {
                tokio::time::sleep_until(until.into()).await;
                continue;
            }
            let bucket_waited = self.bucket.acquire().await;
            let paced = !self.pacer.wait().await.is_zero();
            if bucket_waited || paced {
                self.metrics.rate_limit_wait();
            }
            // A 429 may have arrived while this request waited for its token.
            if self.paused_until().is_none() {
                return;
            }
        }
    }

    /// Applies what an answer says is left of the account's minute.
    fn observe(&self, headers: &reqwest::header::HeaderMap) {
        if let Some(Headroom { limit, remaining, reset }) = Headroom::from_headers(headers, ACCOUNT_WINDOW) {
            let reset = self.pacer.time_to_reset(remaining, reset);
            self.pacer.set_spacing(spacing(limit, remaining, reset), reset);
        }
    }

    /// Stops every request for `retry_after` (or the default pause).
    fn pause(&self, retry_after: Option<Duration>) -> Duration {
        let pause = retry_after.unwrap_or(self.default_pause);
        let until = Instant::now() + pause;
        let mut guard = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none_or(|current| current < until) {
            *guard = Some(until);
        }
        self.metrics.pause();
        pause
    }
}

/// A successful answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

/// An HTTP JSON API behind one credential: the Zendesk Support API (OAuth or
/// token) or the Connect API (`X-Outbound-Key`).
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base_url: String,
    auth: (HeaderName, HeaderValue),
    throttle: Arc<Throttle>,
    metrics: Metrics,
}

/// 429s in a row on one request before it is handed back as a retryable
/// failure (the event is then rescheduled).
const MAX_429_IN_A_ROW: u32 = 20;
/// Zendesk's rate-limit window, assumed when an answer carries no reset.
const ACCOUNT_WINDOW: Duration = Duration::from_secs(60);

impl ApiClient {
    /// The Zendesk Support API.
    pub fn zendesk(base_url: &str, auth: &ZendeskAuth, throttle: Arc<Throttle>, metrics: Metrics) -> ApiClient {
        ApiClient::new(base_url, AUTHORIZATION, &auth.header_value(), throttle, metrics)
    }

    /// The Zendesk Connect (Outbound) API.
    pub fn connect(base_url: &str, api_key: &Secret, throttle: Arc<Throttle>, metrics: Metrics) -> ApiClient {
        ApiClient::new(base_url, HeaderName::from_static("x-outbound-key"), api_key.expose(), throttle, metrics)
    }

    fn new(base_url: &str, name: HeaderName, value: &str, throttle: Arc<Throttle>, metrics: Metrics) -> ApiClient {
        let mut value = HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""));
        value.set_sensitive(true);
        ApiClient {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .user_agent(concat!("zendesk-analytics-proxy/", env!("CARGO_PKG_VERSION")))
                .build()
                .unwrap_or_default(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            auth: (name, value),
            throttle,
            metrics,
        }
    }

    /// Sends one request, waiting for the throttle and riding out 429s.
    /// `endpoint` names the call for metrics and errors (never ids or values).
    pub async fn call(
        &self,
        method: Method,
        endpoint: &'static str,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Answer, ZendeskError> {
        let mut throttled = 0;
        loop {
            self.throttle.ready().await;
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base_url))
                .header(self.auth.0.clone(), self.auth.1.clone());
            if let Some(body) = body {
                request = request.json(body);
            }
            if let Some(key) = idempotency_key {
                request = request.header("Idempotency-Key", key);
            }
            let started = Instant::now();
            let result = self.send(request).await;
            let status = match &result {
                Ok(answer) => answer.status,
                Err(ZendeskError::Status { status, .. }) => *status,
                Err(_) => 0,
            };
            self.metrics.zendesk_request(endpoint, status, started.elapsed().as_secs_f64());
            match result {
                Err(ZendeskError::Status { status: 429, retry_after, .. }) if throttled < MAX_429_IN_A_ROW => {
                    throttled += 1;
                    let pause = self.throttle.pause(retry_after);
                    tracing::warn!(endpoint, pause_s = pause.as_secs_f64(), "Zendesk answered 429; every request pauses");
                }
                other => {
                    return other.map_err(|e| match e {
                        ZendeskError::Status { status, message, retry_after } => ZendeskError::Status {
                            status,
                            message: format!("{endpoint}: {message}"),
                            retry_after,
                        },
                        other => other,
                    })
                }
            }
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, ZendeskError> {
        let response = request.send().await.map_err(|e| {
            // `without_url`: keep errors short; the URL never holds a secret.
            let connected = !e.is_connect();
            let message = e.without_url().to_string();
            if connected {
                ZendeskError::Network(message)
            } else {
                ZendeskError::Unreachable(message)
            }
        })?;
        self.throttle.observe(response.headers());
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64);
        let text = response.text().await.map_err(|e| ZendeskError::Network(e.without_url().to_string()))?;
        if status.is_success() {
            let body = if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).map_err(|e| ZendeskError::BadResponse(e.to_string()))?
            };
            return Ok(Answer { status: status.as_u16(), body });
        }
        Err(ZendeskError::Status { status: status.as_u16(), message: error_message(status, &text), retry_after })
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
