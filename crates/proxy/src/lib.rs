//! The zendesk-analytics proxy.
//!
//! Clients (our browser SDK, or any Segment library) send Segment-spec events
//! here. The proxy keeps the Zendesk credentials, stores each accepted event
//! durably, maps it again with the shared core and delivers it to Zendesk.
//!
//! - [`ingest`]: the Segment HTTP Tracking API.
//! - [`queue`]: the durable SQLite queue and dead letters.
//! - [`deliver`]: the worker that maps and performs operations.
//! - [`zendesk`]: the Zendesk API client.
//! - [`executor`]: the Zendesk semantics of each operation.
//! - [`config`]: configuration and credentials.
//! - [`metrics`], [`ratelimit`], [`identity`], [`deadletters`]: operations.

pub mod config;
pub mod deadletters;
pub mod deliver;
pub mod executor;
pub mod identity;
pub mod ingest;
pub mod known_ids;
pub mod metrics;
pub mod queue;
pub mod ratelimit;
pub mod zendesk;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::decompression::RequestDecompressionLayer;

use crate::config::Config;
use crate::deliver::Deliverer;
use crate::executor::Executor;
use crate::metrics::Metrics;
use crate::queue::{Queue, QueueError};
use crate::ratelimit::TokenBucket;
use crate::zendesk::{ApiClient, Throttle};

/// State shared by the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub queue: Queue,
    pub wake: Arc<Notify>,
    pub metrics: Metrics,
    /// One ingestion bucket per write key.
    limits: Arc<HashMap<String, TokenBucket>>,
}

impl AppState {
    pub fn new(config: Arc<Config>, queue: Queue, metrics: Metrics) -> AppState {
        let limits = config
            .write_keys
            .iter()
            .map(|(name, key)| (name.clone(), TokenBucket::new(f64::from(key.events_per_second), f64::from(key.burst))))
            .collect();
        AppState { config, queue, wake: Arc::new(Notify::new()), metrics, limits: Arc::new(limits) }
    }

    /// The ingestion bucket of a configured write key.
    fn ingestion_limit(&self, write_key: &str) -> &TokenBucket {
        // Every configured key has a bucket; the fallback is never used but
        // keeps this path free of panics.
        static UNLIMITED: std::sync::OnceLock<TokenBucket> = std::sync::OnceLock::new();
        self.limits
            .get(write_key)
            .unwrap_or_else(|| UNLIMITED.get_or_init(|| TokenBucket::new(f64::MAX, f64::MAX)))
    }
}

#[derive(Debug, Error)]
pub enum ServeError {
    #[error("cannot open the queue database: {0}")]
    Queue(#[from] QueueError),
    #[error("the HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The HTTP routes.
pub fn router(state: AppState) -> Router {
    // Preflights are answered for any origin some write key allows; the
    // request itself is then checked against its own key's list.
    let config = state.config.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin.to_str().is_ok_and(|o| config.write_keys.values().any(|k| k.allows_origin(o)))
        }))
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .max_age(Duration::from_secs(86_400));
    Router::new()
        .route("/v1/batch", post(ingest::batch))
        .route("/v1/{call}", post(ingest::single))
        .route("/v1/projects/{write_key}/settings", get(project_settings))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        // Over-limit bodies are refused with a reason by the handlers; this
        // only stops a client from streaming an unbounded body. It counts the
        // bytes after decompression, so a small gzip bomb stops there too.
        .layer(DefaultBodyLimit::max(ingest::MAX_BATCH_BYTES + 1))
        // Segment libraries may gzip their batches (analytics-python's `gzip=True`).
        .layer(RequestDecompressionLayer::new())
        .layer(axum::middleware::from_fn(ingest::content_encoding))
        .layer(cors)
        .with_state(state)
}

/// `GET /v1/projects/{writeKey}/settings`: the non-secret settings the SDK
/// maps with. Never credentials, never the identity secret.
async fn project_settings(State(state): State<AppState>, Path(write_key): Path<String>) -> Response {
    match state.config.write_key(&write_key) {
        Some(key) => Json(serde_json::json!({ "integrations": &key.settings })).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"success": false, "error": "unknown write key; check the writeKey your SDK is loaded with"})),
        )
            .into_response(),
    }
}

/// Healthy when the queue database answers.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.queue.blocking(|q| q.depth()).await {
        Ok(depth) => Json(serde_json::json!({ "status": "ok", "queue_depth": depth })).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "error", "error": e.to_string() })))
            .into_response(),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    if let Ok(depth) = state.queue.blocking(|q| q.depth()).await {
        state.metrics.set_queue_depth(depth);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

/// Queue upkeep whatever delivery is doing: a long 429 pause must neither
/// let the SQLite WAL grow with every accepted batch nor let this instance's
/// PostgreSQL claims run out.
async fn housekeeping_every_second(queue: Queue) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(e) = queue.blocking(|q| q.housekeeping()).await {
            tracing::warn!(error = %e, "queue housekeeping failed; retrying in 1 s");
        }
    }
}

/// How long a graceful shutdown waits for the delivery pass in progress.
const DELIVERY_DRAIN: Duration = Duration::from_secs(10);

/// Serves the proxy on `listener` and runs delivery until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let queue = Queue::open(&config.database)?;
    let metrics = Metrics::default();
    let throttle = Arc::new(Throttle::new(
        config.delivery.requests_per_minute,
        Duration::from_secs(config.delivery.default_retry_after_secs),
        metrics.clone(),
    ));
    let zendesk = ApiClient::zendesk(&config.zendesk_url, &config.zendesk_auth, throttle, metrics.clone());
    // Connect has its own account and limits: its own throttle.
    let connect = config.connect.as_ref().map(|c| {
        let throttle = Arc::new(Throttle::new(
            config.delivery.requests_per_minute,
            Duration::from_secs(config.delivery.default_retry_after_secs),
            metrics.clone(),
        ));
        ApiClient::connect(&c.url, &c.api_key, throttle, metrics.clone())
    });
    let executor = Executor::new(zendesk, connect, config.delivery.bulk_import);
    let config = Arc::new(config);
    let state = AppState::new(config.clone(), queue.clone(), metrics.clone());
    let deliverer = Deliverer::new(&config, queue.clone(), executor, metrics, state.wake.clone());
    let (stop, stopped) = watch::channel(false);
    let housekeeping = tokio::spawn(housekeeping_every_second(queue.clone()));
    let mut delivery = tokio::spawn(deliverer.run(stopped));
    let result = axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await;
    // In-flight requests have finished (their events are on disk). Let the
    // delivery pass in progress record its results, then stop.
    let _ = stop.send(true);
    if tokio::time::timeout(DELIVERY_DRAIN, &mut delivery).await.is_err() {
        tracing::warn!("delivery did not finish within {DELIVERY_DRAIN:?}; the queue resumes it on the next start");
        delivery.abort();
    }
    housekeeping.abort();
    if let Err(e) = queue.blocking(|q| q.release_claims()).await {
        tracing::warn!(error = %e, "could not give back claimed events; other instances take them when the claims run out");
    }
    Ok(result?)
}
