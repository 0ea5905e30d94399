//! What Zendesk does to traffic before a handler runs: the account's rate
//! limits (incremental exports: 10/minute; Core API: the plan's per-minute
//! limit shared by every app on the account, announced in `X-Rate-Limit` and
//! `ratelimit-*` headers), forced failures for tests (429 with or without
//! `Retry-After` as edge protection sends them, 5xx), added latency, and a
//! log of every request so tests can check how a client paces itself.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::FakeZendesk;

/// One request, as the fake answered it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    pub at: Instant,
    pub path_and_query: String,
    pub status: u16,
}

/// A failure forced on the next request.
#[derive(Debug, Clone, Copy)]
enum Forced {
    /// 429 with `Retry-After` in seconds.
    TooManyRequests(u64),
    /// 429 from Zendesk's edge protection: another body, no `Retry-After`.
    EdgeTooManyRequests,
    /// A 5xx, as during a Zendesk incident.
    ServerError(StatusCode),
    /// The request is carried out but its answer is lost (a 504 from a
    /// proxy or a timeout): the client cannot tell whether it happened.
    LostAnswer,
}

/// Throttling, forced failures and the request log.
#[derive(Debug, Default)]
pub struct Traffic {
    forced: VecDeque<Forced>,
    /// Zendesk's incremental export limit: at most `.0` requests per `.1`.
    export_limit: Option<(usize, Duration)>,
    export_window: Window,
    /// The account's Core API limit: at most `.0` requests per `.1`, shared
    /// with every other app on the account.
    core_limit: Option<(usize, Duration)>,
    core_window: Window,
    log: Vec<SeenRequest>,
    /// (method, path prefix, how many more) whose answers are lost.
    lost_answers: Vec<(String, String, usize)>,
    /// This share of requests (0–1), spread evenly, fails with a 503.
    error_rate: f64,
    /// Requests counted for `error_rate`.
    rated: u64,
    /// Added before every answer, as a slow Zendesk would.
    latency: Duration,
}

/// The requests counted in the current fixed window — Zendesk counts "the
/// current minute" and starts afresh at its end — which begins with the first
/// request after the previous window ended.
#[derive(Debug, Default)]
struct Window {
    started: Option<Instant>,
    count: usize,
}

impl Window {
    /// Starts a new window when the current one is over; returns how long
    /// until the current one ends.
    fn roll(&mut self, length: Duration, at: Instant) -> Duration {
        match self.started {
            Some(started) if at.duration_since(started) < length => length - at.duration_since(started),
            _ => {
                self.started = Some(at);
                self.count = 0;
                length
            }
        }
    }
}

/// Seconds as Zendesk's headers carry them: whole, at least one.
fn whole_seconds(d: Duration) -> u64 {
    d.as_secs_f64().ceil().max(1.0) as u64
}

impl FakeZendesk {
    /// The next `count` requests get 429 from the edge protection layer,
    /// which sends no `Retry-After`.
    pub fn throttle_next_at_edge(&self, count: usize) {
        self.with_traffic(|t| t.forced.extend(std::iter::repeat_n(Forced::EdgeTooManyRequests, count)));
    }

    /// The next `count` requests get 429 with `Retry-After`.
    pub fn throttle_next(&self, count: usize, retry_after: Duration) {
        let forced = Forced::TooManyRequests(retry_after.as_secs().max(1));
        self.with_traffic(|t| t.forced.extend(std::iter::repeat_n(forced, count)));
    }

    /// The next `count` requests fail with `status` (a 5xx).
    pub fn fail_next(&self, count: usize, status: u16) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        self.with_traffic(|t| t.forced.extend(std::iter::repeat_n(Forced::ServerError(status), count)));
    }

    /// The next `count` `method` requests to paths starting with `path` are
    /// carried out but answered 504, so the client is left in doubt, as when
    /// a connection drops after the write.
    pub fn lose_next_answers(&self, method: &str, path: &str, count: usize) {
        self.with_traffic(|t| t.lost_answers.push((method.to_owned(), path.to_owned(), count)));
    }

    /// Enforces Zendesk's incremental export limit (10 per minute in Zendesk):
    /// beyond it, 429 with the seconds until the window ends in `Retry-After`.
    pub fn limit_exports(&self, per_window: usize, window: Duration) {
        self.with_traffic(|t| t.export_limit = Some((per_window.max(1), window)));
    }

    /// Enforces the account's Core API limit on the non-export endpoints:
    /// beyond it 429 with `Retry-After`; every answer carries Zendesk's
    /// `X-Rate-Limit`/`X-Rate-Limit-Remaining` and `ratelimit-*` headers.
    pub fn limit_core(&self, per_window: usize, window: Duration) {
        self.with_traffic(|t| t.core_limit = Some((per_window.max(1), window)));
    }

    /// Removes the incremental export limit.
    pub fn lift_export_limit(&self) {
        self.with_traffic(|t| t.export_limit = None);
    }

    /// Removes the Core API limit.
    pub fn lift_core_limit(&self) {
        self.with_traffic(|t| t.core_limit = None);
    }

    /// Makes `rate` (0–1) of all requests fail with 503, spread evenly so a
    /// test sees the same failures on every run.
    pub fn set_error_rate(&self, rate: f64) {
        self.with_traffic(|t| t.error_rate = if rate.is_finite() { rate.clamp(0.0, 1.0) } else { 0.0 });
    }

    /// Delays every answer by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.with_traffic(|t| t.latency = latency);
    }

    /// Counts `count` Core requests made just now by other apps on the
    /// account (they share its per-minute limit; set by `limit_core` first).
    pub fn spend_core(&self, count: usize) {
        let at = Instant::now();
        self.with_traffic(|t| {
            if let Some((_, length)) = t.core_limit {
                t.core_window.roll(length, at);
                t.core_window.count += count;
            }
        });
    }

    /// Every request the fake answered, oldest first.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.with_traffic(|t| t.log.clone())
    }
}

pub async fn throttle(State(fake): State<FakeZendesk>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    // As the client sent it: routing has dropped any `.json` suffix.
    let sent = request.extensions().get::<OriginalUri>().map_or(request.uri(), |original| &original.0);
    let path_and_query = sent.path_and_query().map_or_else(String::new, |p| p.to_string());
    let is_export = request.uri().path().starts_with("/api/v2/incremental/");
    let (refusal, headroom) = fake.with_traffic(|t| {
        let path = request.uri().path();
        let lost = t.lost_answers.iter_mut().find(|(m, prefix, left)| *left > 0 && *m == method && path.starts_with(prefix.as_str()));
        if let Some((_, _, left)) = lost {
            *left -= 1;
            return (Some(Forced::LostAnswer), None);
        }
        if let Some(forced) = t.forced.pop_front() {
            return (Some(forced), None);
        }
        if t.error_rate > 0.0 {
            let n = t.rated as f64;
            t.rated += 1;
            if ((n + 1.0) * t.error_rate).floor() > (n * t.error_rate).floor() {
                return (Some(Forced::ServerError(StatusCode::SERVICE_UNAVAILABLE)), None);
            }
        }
        let at = Instant::now();
        let (limit, length, window) = match (is_export, t.export_limit, t.core_limit) {
            (true, Some((limit, length)), _) => (limit, length, &mut t.export_window),
            (false, _, Some((limit, length))) => (limit, length, &mut t.core_window),
            _ => return (None, None),
        };
        let reset = window.roll(length, at);
        if window.count >= limit {
            return (Some(Forced::TooManyRequests(whole_seconds(reset))), None);
        }
        window.count += 1;
        (None, (!is_export).then(|| Headroom { limit, remaining: limit - window.count, reset }))
    });
    let latency = fake.with_traffic(|t| t.latency);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut response = match refusal {
        Some(Forced::TooManyRequests(seconds)) => {
            let body = json!({"error": "APIRateLimitExceeded", "description": "Number of allowed API requests per minute exceeded"});
            let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
            response.headers_mut().insert("retry-after", HeaderValue::from(seconds));
            response
        }
        Some(Forced::EdgeTooManyRequests) => {
            let body = json!({"status": "429", "title": "Too Many Requests", "detail": "Request rate exceeded; slow down"});
            (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response()
        }
        Some(Forced::ServerError(status)) => (status, Json(json!({"error": "ServiceUnavailable"}))).into_response(),
        Some(Forced::LostAnswer) => {
            let _carried_out = next.run(request).await;
            (StatusCode::GATEWAY_TIMEOUT, "upstream request timeout").into_response()
        }
        None => next.run(request).await,
    };
    if let Some(headroom) = headroom {
        headroom.write(response.headers_mut());
    }
    let status = response.status().as_u16();
    fake.with_traffic(|t| t.log.push(SeenRequest { method, at: Instant::now(), path_and_query, status }));
    response
}

/// What is left of the account's Core API minute after a request.
struct Headroom {
    limit: usize,
    remaining: usize,
    reset: Duration,
}

impl Headroom {
    /// Both header families Zendesk sends on Support API answers.
    fn write(&self, headers: &mut HeaderMap) {
        let reset = whole_seconds(self.reset);
        headers.insert("x-rate-limit", HeaderValue::from(self.limit));
        headers.insert("x-rate-limit-remaining", HeaderValue::from(self.remaining));
        headers.insert("ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("ratelimit-reset", HeaderValue::from(reset));
    }
}

