//! The durable queue: every accepted event is on disk before the client
//! hears 2xx, and leaves the queue only when Zendesk has it or when it is
//! moved, with its reason, to the dead-letter table.
//!
//! Two stores with one behaviour: SQLite (WAL) embedded for one proxy, and
//! PostgreSQL shared by several proxies behind a load balancer, where events
//! are claimed for a lease so two instances never deliver the same one.

mod postgres;
mod sqlite;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use thiserror::Error;

use crate::ingest::Prepared;

#[derive(Debug, Error)]
pub enum QueueError {
    #[error("queue database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the queue worker thread stopped unexpectedly")]
    WorkerGone,
    #[error("queue database error: {0}")]
    Commit(String),
    #[error("queue database error (PostgreSQL): {0}")]
    Postgres(String),
}

/// An event waiting for delivery.
#[derive(Debug, Clone)]
pub struct QueuedEvent {
    pub seq: i64,
    pub message_id: String,
    pub write_key: String,
    pub user_key: String,
    /// An alias's previousId (see [`Prepared::previous_key`]).
    pub previous_key: Option<String>,
    pub body: String,
    pub attempts: u32,
    /// Operations of this event already performed: a restarted worker
    /// resumes after them instead of repeating them.
    pub ops_done: usize,
    /// The operation that was sent but whose result was not recorded (the
    /// process died in between): its effect must be checked before a resend.
    pub in_doubt: Option<usize>,
    pub received_at_ms: i64,
}

impl QueuedEvent {
    /// The users whose events this one is ordered among: its own, and for an
    /// alias the previous id's.
    pub fn ordering_keys(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.user_key.as_str()).chain(self.previous_key.as_deref())
    }
}

/// An event that could not be delivered, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeadLetter {
    pub message_id: String,
    pub write_key: String,
    pub body: String,
    pub reason: String,
    pub attempts: u32,
    pub failed_at_ms: i64,
}


/// How long a messageId is remembered for dedupe (Segment: 24 h; clients
/// that retry after a reload do so within minutes).
pub const DEDUPE_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}


/// A handle to the queue; cheap to clone.
#[derive(Clone)]
pub struct Queue(Store);

#[derive(Clone)]
enum Store {
    Sqlite(sqlite::SqliteQueue),
    Postgres(postgres::PostgresQueue),
}

/// Runs the same call on whichever store is open.
macro_rules! on_store {
    ($queue:expr, $store:ident => $call:expr) => {
        match &$queue.0 {
            Store::Sqlite($store) => $call,
            Store::Postgres($store) => $call,
        }
    };
}

/// `postgres://` and `postgresql://` locations name a shared PostgreSQL
/// queue; anything else is a SQLite file.
fn postgres_url(location: &Path) -> Option<&str> {
    location.to_str().filter(|l| l.starts_with("postgres://") || l.starts_with("postgresql://"))
}

/// The location as it may be logged: a PostgreSQL password is masked.
pub fn display_location(location: &Path) -> String {
    match postgres_url(location) {
        Some(url) => match (url.find("://"), url.rfind('@')) {
            (Some(scheme_end), Some(at)) if at > scheme_end => {
                let credentials = &url[scheme_end + 3..at];
                let user = credentials.split(':').next().unwrap_or_default();
                let masked = if credentials.contains(':') { format!("{user}:***") } else { user.to_owned() };
                format!("{}{masked}{}", &url[..scheme_end + 3], &url[at..])
            }
            _ => url.to_owned(),
        },
        None => location.display().to_string(),
    }
}

impl Queue {
    /// Opens (creating if needed) the queue at `location`: a SQLite file
    /// path or a `postgres://` URL.
    pub fn open(location: &Path) -> Result<Queue, QueueError> {
        Ok(Queue(match postgres_url(location) {
            Some(url) => Store::Postgres(postgres::PostgresQueue::open(url)?),
            None => Store::Sqlite(sqlite::SqliteQueue::open(location)?),
        }))
    }

    /// Runs blocking queue work off the async runtime.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Queue) -> Result<T, QueueError> + Send + 'static,
    ) -> Result<T, QueueError> {
        let queue = self.clone();
        tokio::task::spawn_blocking(move || f(&queue))
            .await
            .map_err(|_| QueueError::WorkerGone)?
    }

    /// Stores a batch durably and returns how many events were new (a
    /// messageId seen before is ignored).
    pub async fn enqueue(&self, write_key: &str, events: Vec<Prepared>) -> Result<usize, QueueError> {
        match &self.0 {
            Store::Sqlite(q) => q.enqueue(write_key, events).await,
            Store::Postgres(q) => {
                let (q, write_key) = (q.clone(), write_key.to_owned());
                tokio::task::spawn_blocking(move || q.enqueue(&write_key, &events))
                    .await
                    .map_err(|_| QueueError::WorkerGone)?
            }
        }
    }

    /// Up to `limit` events due for a delivery attempt, oldest first, that
    /// arrived before `received_before_ms`. An event whose user has an older
    /// event still waiting (for a retry, or with another proxy instance) is
    /// held back: one user's events reach Zendesk in the order they were sent.
    /// An alias belongs to both its users (see [`QueuedEvent::ordering_keys`])
    /// and holds back their later events until it is delivered, even while
    /// it is held itself: so an event never overtakes it through the other id.
    pub fn due(&self, limit: usize, received_before_ms: i64) -> Result<Vec<QueuedEvent>, QueueError> {
        on_store!(self, q => q.due(limit, received_before_ms))
    }

    /// When the next event becomes due (ms since the epoch), if any is queued.
    pub fn next_due_at(&self) -> Result<Option<i64>, QueueError> {
        on_store!(self, q => q.next_due_at())
    }

    /// Operation `op` of the event is about to be sent (its effect cannot be
    /// undone or safely repeated without a check).
    pub fn op_started(&self, seq: i64, op: usize) -> Result<(), QueueError> {
        on_store!(self, q => q.op_started(seq, op))
    }

    /// The first `ops_done` operations of the event reached Zendesk.
    pub fn progress(&self, seq: i64, ops_done: usize) -> Result<(), QueueError> {
        on_store!(self, q => q.progress(seq, ops_done))
    }

    /// The events reached Zendesk: they leave the queue.
    pub fn complete(&self, seqs: &[i64]) -> Result<(), QueueError> {
        on_store!(self, q => q.complete(seqs))
    }

    /// A retryable failure: try again at `next_attempt_at_ms`. An operation
    /// marked as started stays marked: a timeout may have reached Zendesk, so
    /// the retry checks before sending again.
    pub fn retry_later(&self, seq: i64, next_attempt_at_ms: i64, error: &str) -> Result<(), QueueError> {
        on_store!(self, q => q.retry_later(seq, next_attempt_at_ms, error))
    }

    /// A final failure: the event moves to the dead-letter table with its reason.
    pub fn dead_letter(&self, seq: i64, reason: &str) -> Result<(), QueueError> {
        on_store!(self, q => q.dead_letter(seq, reason))
    }

    /// Every dead letter, oldest first.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>, QueueError> {
        on_store!(self, q => q.dead_letters())
    }

    /// Moves dead letters back into the queue (all, or those named), resuming
    /// after the operations they had completed. Returns how many moved.
    pub fn replay(&self, message_ids: &[String]) -> Result<usize, QueueError> {
        on_store!(self, q => q.replay(message_ids))
    }

    /// Periodic upkeep, run every second: SQLite moves the WAL into the
    /// database file without blocking ingestion; PostgreSQL extends the
    /// claims this instance holds, so a long pass keeps its events.
    pub fn housekeeping(&self) -> Result<(), QueueError> {
        on_store!(self, q => q.housekeeping())
    }

    /// Gives back the events this instance claimed but did not deliver (at
    /// the end of each pass, and on shutdown), so the next pass or another
    /// instance takes them rather than waiting for the claim to run out.
    pub fn release_claims(&self) -> Result<(), QueueError> {
        match &self.0 {
            Store::Sqlite(_) => Ok(()),
            Store::Postgres(q) => q.release_claims(),
        }
    }

    /// Events waiting for delivery.
    pub fn depth(&self) -> Result<u64, QueueError> {
        on_store!(self, q => q.depth())
    }

    /// Forgets messageIds older than the dedupe window.
    pub fn prune_seen(&self) -> Result<usize, QueueError> {
        on_store!(self, q => q.prune_seen())
    }
}

#[cfg(test)]
mod tests {
    use super::display_location;
    use std::path::Path;

    #[test]
    fn a_postgres_password_never_reaches_a_log_line() {
        let shown = display_location(Path::new("postgres://proxy:s3cret@db.internal:5432/queue"));
        assert_eq!(shown, "postgres://proxy:***@db.internal:5432/queue");
        assert_eq!(display_location(Path::new("/var/lib/zendesk-proxy/queue.db")), "/var/lib/zendesk-proxy/queue.db");
    }
}
