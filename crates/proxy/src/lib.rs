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
//! - [`config`]: configuration and credentials.

pub mod config;
pub mod deliver;
pub mod ingest;
pub mod queue;
pub mod zendesk;

use std::future::Future;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::Config;
use crate::deliver::Deliverer;
use crate::queue::{Queue, QueueError};
use crate::zendesk::ZendeskClient;

/// State shared by the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub queue: Queue,
    pub wake: Arc<Notify>,
}

#[derive(Debug, Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("cannot open the queue database: {0}")]
    Queue(#[from] QueueError),
    #[error("the HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The HTTP routes.
pub fn router(state: AppState) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([axum::http::header::CONTENT_TYPE, axum::http::header::AUTHORIZATION])
        .max_age(std::time::Duration::from_secs(86_400));
    Router::new()
        .route("/v1/batch", post(ingest::batch))
        .route("/v1/{call}", post(ingest::single))
        .route("/v1/projects/{write_key}/settings", get(project_settings))
        .route("/healthz", get(|| async { "ok" }))
        // Over-limit bodies are refused with a reason by the handlers; this
        // only stops a client from streaming an unbounded body.
        .layer(DefaultBodyLimit::max(ingest::MAX_BATCH_BYTES + 1))
        .layer(cors)
        .with_state(state)
}

/// `GET /v1/projects/{writeKey}/settings`: the non-secret settings the SDK
/// maps with. Never credentials.
async fn project_settings(State(state): State<AppState>, Path(write_key): Path<String>) -> Response {
    if !state.config.accepts_write_key(&write_key) {
        return (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": "unknown write key; check the writeKey your SDK is loaded with"})),
        )
            .into_response();
    }
    Json(serde_json::json!({ "integrations": &state.config.settings })).into_response()
}

/// Serves the proxy on `listener` and runs delivery until `shutdown` resolves.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    config.validate()?;
    let queue = Queue::open(&config.database)?;
    let wake = Arc::new(Notify::new());
    let deliverer = Deliverer {
        queue: queue.clone(),
        zendesk: ZendeskClient::new(&config.zendesk_url, &config.zendesk_auth),
        settings: config.settings.clone(),
        wake: wake.clone(),
    };
    let delivery = tokio::spawn(deliverer.run());
    let state = AppState { config: Arc::new(config), queue, wake };
    let result = axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await;
    // Every acknowledged event is already on disk: stopping delivery mid-way
    // loses nothing, the next start resumes it.
    delivery.abort();
    Ok(result?)
}
