//! The Zendesk HTTP client: every request waits for its budget and for any
//! 429 pause, transient failures are retried with backoff, and the answers a
//! sync must treat differently (401, 403, other 4xx) come back typed.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;
use thiserror::Error;
use url::Url;

use crate::config::{Auth, RateLimits, RetryPolicy};
use zendesk_pacing::{spacing, Headroom, Pacer};

use crate::limiter::{Budget, Pause};
use crate::progress::StreamProgress;

/// Which Zendesk budget a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// The Support (Core) API, limited per account per minute.
    Core,
    /// `/api/v2/incremental/*`: 10 requests per minute, outside the account limit.
    Export,
}

/// Why a request did not produce a JSON body.
#[derive(Debug, Error)]
pub enum FetchError {
    #[error("Zendesk refused the credentials (401) for {path}: check the OAuth token (or email and API token) and the subdomain")]
    Unauthorized { path: String },
    #[error("Zendesk answered 403 for {path}: {description}")]
    Forbidden { path: String, description: String },
    #[error("Zendesk answered {status} for {path}: {body}")]
    Rejected { status: u16, path: String, body: String },
    #[error("{path} still failed after {attempts} attempts: {last}")]
    Exhausted { path: String, attempts: u32, last: String },
    #[error("Zendesk's answer for {path} is not JSON: {reason}")]
    NotJson { path: String, reason: String },
    #[error("cannot reach Zendesk at {origin}: {reason}. Check --subdomain or --url, and that this machine can reach it")]
    Unreachable { origin: String, reason: String },
    #[error("cannot build an HTTP client: {0}")]
    Setup(String),
}

/// The client shared by every stream of a run.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    authorization: HeaderValue,
    core: Budget,
    export: Budget,
    pause: Pause,
    /// Set from Zendesk's rate-limit headers when the account's minute runs low.
    core_pacer: Pacer,
    /// Core requests sent and not yet answered: an answer's `remaining`
    /// does not count them yet.
    core_in_flight: AtomicUsize,
    window: Duration,
    retry: RetryPolicy,
    /// Whether any request got an answer. Until one has, a failed connection
    /// means a wrong address or no network rather than a blip, and retrying
    /// it with backoff would only delay saying so by minutes.
    reached: AtomicBool,
}

/// Consecutive 429s on one request before the stream gives up: with the
/// default one-minute `Retry-After` this is half an hour of refusals.
const MAX_THROTTLED: u32 = 30;

impl Client {
    pub fn new(base: Url, auth: &Auth, limits: RateLimits, retry: RetryPolicy) -> Result<Client, FetchError> {
        let mut authorization =
            HeaderValue::from_str(&auth.header_value()).map_err(|_| FetchError::Setup("the token has characters a header cannot carry".into()))?;
        authorization.set_sensitive(true);
        let http = reqwest::Client::builder()
            .user_agent(concat!("zendesk-analytics-source/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(120))
            .connect_timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| FetchError::Setup(e.to_string()))?;
        Ok(Client {
            http,
            base,
            authorization,
            core: Budget::new(limits.core_per_window, limits.window),
            export: Budget::new(limits.export_per_window, limits.window),
            pause: Pause::default(),
            core_pacer: Pacer::default(),
            core_in_flight: AtomicUsize::new(0),
            window: limits.window,
            retry,
            reached: AtomicBool::new(false),
        })
    }

    /// `path` (with its query) resolved against the Zendesk base URL.
    pub fn url(&self, path_and_query: &str) -> Url {
        let mut url = self.base.clone();
        match path_and_query.split_once('?') {
            Some((path, query)) => {
                url.set_path(path);
                url.set_query(Some(query));
            }
            None => url.set_path(path_and_query),
        }
        url
    }

    /// GETs `url` as JSON, within the budgets, riding out 429s and transient failures.
    pub async fn get_json(&self, api: Api, url: &Url, progress: &StreamProgress) -> Result<Value, FetchError> {
        let path = url.path().to_string();
        let mut failures = 0u32;
        let mut throttled = 0u32;
        let is_core = api == Api::Core;
        loop {
            progress.waited(self.pause.wait().await);
            let budget = match api {
                Api::Core => &self.core,
                Api::Export => &self.export,
            };
            if is_core {
                progress.waited(self.core_pacer.wait().await);
            }
            progress.waited(budget.acquire().await);
            progress.waited(self.pause.wait().await);
            progress.request_sent();
            let in_flight = is_core.then(|| InFlight::enter(&self.core_in_flight));
            let sent = self
                .http
                .get(url.clone())
                .header(AUTHORIZATION, self.authorization.clone())
                .header(ACCEPT, "application/json")
                .send()
                .await;
            if let (Some(_), Ok(response)) = (&in_flight, &sent) {
                self.pace_by_the_accounts_headroom(response.headers(), &path);
            }
            drop(in_flight);
            let transient = match sent {
                Err(e) if e.is_connect() && !self.reached.load(Ordering::SeqCst) => {
                    return Err(FetchError::Unreachable { origin: url.origin().ascii_serialization(), reason: root_cause(&e) });
                }
                Err(e) => format!("request failed: {e}"),
                Ok(response) => {
                    self.reached.store(true, Ordering::SeqCst);
                    let status = response.status();
                    if status.is_success() {
                        let bytes = match response.bytes().await {
                            Ok(bytes) => bytes,
                            Err(e) => {
                                failures += 1;
                                self.back_off(failures, &path, format!("reading the body failed: {e}"), progress).await?;
                                continue;
                            }
                        };
                        return serde_json::from_slice(&bytes)
                            .map_err(|e| FetchError::NotJson { path, reason: e.to_string() });
                    }
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        throttled += 1;
                        progress.throttled();
                        if throttled > MAX_THROTTLED {
                            return Err(FetchError::Exhausted { path, attempts: throttled, last: "429 Too Many Requests".into() });
                        }
                        let wait = retry_after(response.headers().get(RETRY_AFTER)).unwrap_or(self.retry.default_retry_after);
                        tracing::warn!(path = %path, wait_s = wait.as_secs_f64(), "429 from Zendesk: pausing every request");
                        self.pause.pause_for(wait);
                        continue;
                    }
                    let body = response.text().await.unwrap_or_default();
                    if status.is_server_error() || status == StatusCode::CONFLICT {
                        format!("{status}: {}", truncate(&body))
                    } else if status == StatusCode::UNAUTHORIZED {
                        return Err(FetchError::Unauthorized { path });
                    } else if status == StatusCode::FORBIDDEN {
                        return Err(FetchError::Forbidden { path, description: describe(&body) });
                    } else {
                        return Err(FetchError::Rejected { status: status.as_u16(), path, body: truncate(&body) });
                    }
                }
            };
            failures += 1;
            self.back_off(failures, &path, transient, progress).await?;
        }
    }

    /// The sync's own budget cannot see other apps on the account; Zendesk's
    /// headers can. `ratelimit-*` carries the reset, `X-Rate-Limit-*` (older,
    /// on every endpoint) does not: then the window is assumed.
    fn pace_by_the_accounts_headroom(&self, headers: &HeaderMap, path: &str) {
        let Some(Headroom { limit, remaining, reset }) = Headroom::from_headers(headers, self.window) else { return };
        let others_in_flight = self.core_in_flight.load(Ordering::SeqCst).saturating_sub(1) as u64;
        let remaining = remaining.saturating_sub(others_in_flight);
        let reset = self.core_pacer.time_to_reset(remaining, reset);
        let hold = spacing(limit, remaining, reset);
        if let Some(hold) = hold {
            tracing::debug!(path, remaining, hold_ms = hold.as_millis() as u64, "the account's rate limit is running low: spacing requests");
        }
        self.core_pacer.set_spacing(hold, reset);
    }

    /// Sleeps before retry number `failures`, or gives up after the last one.
    async fn back_off(&self, failures: u32, path: &str, reason: String, progress: &StreamProgress) -> Result<(), FetchError> {
        if failures >= self.retry.max_attempts {
            return Err(FetchError::Exhausted { path: path.to_string(), attempts: failures, last: reason });
        }
        let delay = self.retry.base.saturating_mul(1 << (failures - 1).min(16)).min(Duration::from_secs(60));
        tracing::warn!(path, attempt = failures, delay_ms = delay.as_millis() as u64, %reason, "transient failure, retrying");
        progress.retried();
        tokio::time::sleep(delay).await;
        progress.waited(delay);
        Ok(())
    }
}

/// Counts one request in flight for as long as it lives (a cancelled request
/// stops counting too).
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(counter: &'a AtomicUsize) -> InFlight<'a> {
        counter.fetch_add(1, Ordering::SeqCst);
        InFlight(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `Retry-After` as seconds (Zendesk sends an integer; some proxies send a
/// fraction). Missing, negative or unparsable values yield `None`.
fn retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    let seconds: f64 = value?.to_str().ok()?.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(3600.0)))
}

/// Zendesk's `description` (or `error`) from an error body, else the body.
fn describe(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    parsed
        .as_ref()
        .and_then(|v| v.get("description").or_else(|| v.get("error")))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| truncate(body))
}

/// The innermost cause ("Connection refused (os error 111)", "failed to
/// lookup address information: …"): reqwest's own line repeats the URL only.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn truncate(body: &str) -> String {
    body.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_integers_and_fractions_and_rejects_garbage() {
        let v = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(retry_after(Some(&v("7"))), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(Some(&v(" 1.5 "))), Some(Duration::from_millis(1500)));
        assert_eq!(retry_after(Some(&v("-3"))), None);
        assert_eq!(retry_after(Some(&v("soon"))), None);
        assert_eq!(retry_after(None), None);
    }
}
