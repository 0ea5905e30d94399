//! One sync run: every stream in parallel, each reading pages and committing
//! them with their state, all sharing one client (so one request budget and
//! one 429 pause).

use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::client::{Client, FetchError};
use crate::config::SyncConfig;
use crate::progress::{Counts, Progress, StreamProgress};
use crate::streams::{Refusal, ShapeError, Stream, StreamState, Window, ACTIVITIES_RETENTION};
use crate::warehouse::{Warehouse, WarehouseError};

/// A failure that stops the whole run before any stream starts.
#[derive(Debug, Error)]
pub enum SyncError {
    #[error(transparent)]
    Client(#[from] FetchError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
}

/// How one stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Read to the end; the warehouse is current.
    Complete,
    /// Zendesk refused an optional collection with 403 (a feature the account
    /// has off): skipped, the rest went on.
    Skipped(String),
    /// Stopped by an error; the pages committed before it stay, and the next sync resumes there.
    Failed(String),
}

/// What one stream did.
#[derive(Debug, Clone)]
pub struct StreamReport {
    pub stream: Stream,
    pub outcome: Outcome,
    pub counts: Counts,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Summary {
    pub streams: Vec<StreamReport>,
    pub elapsed: Duration,
}

impl Summary {
    pub fn failed(&self) -> bool {
        self.streams.iter().any(|s| matches!(s.outcome, Outcome::Failed(_)))
    }

    pub fn total(&self) -> Counts {
        self.streams.iter().fold(Counts::default(), |mut t, s| {
            t.pages += s.counts.pages;
            t.records += s.counts.records;
            t.rows += s.counts.rows;
            t.requests += s.counts.requests;
            t.throttled += s.counts.throttled;
            t.retries += s.counts.retries;
            t.waited = t.waited.max(s.counts.waited);
            t
        })
    }

    /// The end-of-run table.
    pub fn render(&self) -> String {
        let mut out = format!(
            "{:<21} {:>7} {:>10} {:>10} {:>9} {:>5} {:>8} {:>9}  result\n",
            "stream", "pages", "records", "rows", "requests", "429s", "retries", "waited"
        );
        for s in &self.streams {
            let c = s.counts;
            let outcome = match &s.outcome {
                Outcome::Complete => "complete".to_string(),
                Outcome::Skipped(why) => format!("SKIPPED: {why}"),
                Outcome::Failed(why) => format!("FAILED (resumes next sync): {why}"),
            };
            out.push_str(&format!(
                "{:<21} {:>7} {:>10} {:>10} {:>9} {:>5} {:>8} {:>8}s  {outcome}\n",
                s.stream.name(),
                c.pages,
                c.records,
                c.rows,
                c.requests,
                c.throttled,
                c.retries,
                c.waited.as_secs()
            ));
        }
        let t = self.total();
        out.push_str(&format!(
            "total: {} rows, {} requests, {} pages in {:.1}s\n",
            t.rows,
            t.requests,
            t.pages,
            self.elapsed.as_secs_f64()
        ));
        out.push_str(
            "note: Zendesk keeps activities for 30 days and only those affecting the agent whose token is used;\n      older activities cannot be synced.\n",
        );
        out
    }
}

/// Runs every stream once, from its saved state to the present.
pub async fn run(config: &SyncConfig, progress: &Progress) -> Result<Summary, SyncError> {
    let started = Instant::now();
    let client = Arc::new(Client::new(config.base_url.clone(), &config.auth, config.limits, config.retry)?);
    let warehouse = Warehouse::new(&config.warehouse, &config.schema);
    warehouse.prepare().await?;
    warehouse.claim(&config.base_url.origin().ascii_serialization()).await?;
    let now = crate::now();
    let window = Window {
        now,
        initial_start: now - config.initial_lookback.as_secs() as i64,
        satisfaction_lookback: config.satisfaction_lookback.as_secs() as i64,
        export_page_size: config.export_page_size,
        list_page_size: config.list_page_size,
    };
    tracing::info!(zendesk = %crate::config::redact_userinfo(config.base_url.as_str()), warehouse = %warehouse.describe(), "sync started");
    if window.initial_start < now - ACTIVITIES_RETENTION {
        tracing::info!("activities: Zendesk keeps only the last 30 days; older activities are not available");
    }
    let mut tasks = tokio::task::JoinSet::new();
    for stream in Stream::ALL {
        let (client, warehouse) = (client.clone(), warehouse.clone());
        let stream_progress = Arc::new(progress.stream(stream.name()));
        tasks.spawn(async move {
            let outcome = match run_stream(stream, &client, &warehouse, &window, &stream_progress).await {
                Ok(()) => Outcome::Complete,
                Err(StreamError::Fetch(FetchError::Forbidden { path, description })) => match stream.refusal() {
                    Refusal::Optional(means) => {
                        tracing::warn!(stream = stream.name(), %description, "Zendesk answered 403: skipping this collection ({means})");
                        Outcome::Skipped(format!("403 from Zendesk ({description}): {means}"))
                    }
                    Refusal::Required(fix) => {
                        tracing::error!(stream = stream.name(), %path, %description, "Zendesk answered 403: {fix}");
                        Outcome::Failed(format!("403 from Zendesk for {path} ({description}): {fix}"))
                    }
                },
                Err(e) => {
                    tracing::error!(stream = stream.name(), error = %e, "stream stopped");
                    Outcome::Failed(e.to_string())
                }
            };
            stream_progress.finish(match &outcome {
                Outcome::Complete => "complete",
                Outcome::Skipped(_) => "skipped (403)",
                Outcome::Failed(_) => "failed",
            });
            StreamReport { stream, outcome, counts: stream_progress.counts() }
        });
    }
    let mut streams = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(report) => streams.push(report),
            Err(e) => return Err(SyncError::Warehouse(WarehouseError::Writer(e.to_string()))),
        }
    }
    streams.sort_by_key(|r| Stream::ALL.iter().position(|s| *s == r.stream));
    Ok(Summary { streams, elapsed: started.elapsed() })
}

#[derive(Debug, Error)]
enum StreamError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error(transparent)]
    Shape(#[from] ShapeError),
}

async fn run_stream(
    stream: Stream,
    client: &Client,
    warehouse: &Warehouse,
    window: &Window,
    progress: &StreamProgress,
) -> Result<(), StreamError> {
    let mut connection = warehouse.connect().await?;
    let mut state = connection.load_state(stream.name()).await?;
    let mut cursor_reset = false;
    loop {
        let window = Window { now: crate::now(), ..*window };
        let Some(request) = stream.next_request(&state, &window) else { return Ok(()) };
        let url = client.url(&request);
        let body = match client.get_json(stream.api(), &url, progress).await {
            Ok(body) => body,
            // A saved cursor Zendesk no longer accepts: restart without it, once
            // (otherwise the stream would fail on this cursor at every sync).
            Err(e @ FetchError::Rejected { status: 400 | 422, .. }) if !cursor_reset => match stream.cursor_lost(&state) {
                Some(restart) => {
                    tracing::warn!(stream = stream.name(), error = %e, "Zendesk refused the saved cursor; restarting this pass without it");
                    state = restart;
                    cursor_reset = true;
                    continue;
                }
                None => return Err(e.into()),
            },
            Err(e) => return Err(e.into()),
        };
        let page = Arc::new(stream.parse(&body, &state, &window)?);
        connection.commit_page(stream.name(), page.clone()).await?;
        progress.page_committed(page.record_count(), page.row_count(), &page.position);
        state = StreamState::clone(&page.state);
        if page.done {
            return Ok(());
        }
    }
}
