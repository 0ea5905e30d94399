//! The durable queue: every accepted event is in SQLite (WAL) before the
//! client hears 2xx, and leaves the queue only when Zendesk has it or when it
//! is moved, with its reason, to the dead-letter table.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum QueueError {
    #[error("queue database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the queue worker thread stopped unexpectedly")]
    WorkerGone,
}

/// An event waiting for delivery.
#[derive(Debug, Clone)]
pub struct QueuedEvent {
    pub seq: i64,
    pub message_id: String,
    pub write_key: String,
    pub body: String,
    pub attempts: u32,
}

/// An event that could not be delivered, and why.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub message_id: String,
    pub write_key: String,
    pub body: String,
    pub reason: String,
    pub attempts: u32,
    pub failed_at_ms: i64,
}

/// A handle to the queue; cheap to clone.
#[derive(Clone)]
pub struct Queue {
    conn: Arc<Mutex<Connection>>,
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      TEXT    NOT NULL UNIQUE,
    write_key       TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    received_at     INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT
);
CREATE INDEX IF NOT EXISTS events_due ON events (next_attempt_at, seq);
-- Every messageId ever accepted, so a client's retry has no second effect.
CREATE TABLE IF NOT EXISTS seen (
    message_id  TEXT    PRIMARY KEY,
    received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead_letters (
    message_id TEXT    PRIMARY KEY,
    write_key  TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    attempts   INTEGER NOT NULL,
    failed_at  INTEGER NOT NULL
);
";

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Queue {
    /// Opens (creating if needed) the queue at `path`.
    pub fn open(path: &Path) -> Result<Queue, QueueError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Queue { conn: Arc::new(Mutex::new(conn)) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (transactions roll back), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
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

    /// Stores events `(message_id, body)` in one transaction; returns how many
    /// were new (a messageId seen before is ignored).
    pub fn enqueue(&self, write_key: &str, events: &[(String, String)]) -> Result<usize, QueueError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let now = now_ms();
        let mut accepted = 0;
        {
            let mut seen = tx.prepare_cached("INSERT OR IGNORE INTO seen (message_id, received_at) VALUES (?1, ?2)")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (message_id, write_key, body, received_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (message_id, body) in events {
                if seen.execute(params![message_id, now])? == 1 {
                    insert.execute(params![message_id, write_key, body, now])?;
                    accepted += 1;
                }
            }
        }
        tx.commit()?;
        Ok(accepted)
    }

    /// Up to `limit` events due for a delivery attempt, oldest first.
    pub fn due(&self, limit: usize) -> Result<Vec<QueuedEvent>, QueueError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, message_id, write_key, body, attempts FROM events
             WHERE next_attempt_at <= ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![now_ms(), limit as i64], |r| {
            Ok(QueuedEvent {
                seq: r.get(0)?,
                message_id: r.get(1)?,
                write_key: r.get(2)?,
                body: r.get(3)?,
                attempts: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When the next event becomes due (ms since the epoch), if any is queued.
    pub fn next_due_at(&self) -> Result<Option<i64>, QueueError> {
        let conn = self.conn();
        Ok(conn
            .query_row("SELECT MIN(next_attempt_at) FROM events", [], |r| r.get::<_, Option<i64>>(0))
            .optional()?
            .flatten())
    }

    /// The event reached Zendesk: it leaves the queue.
    pub fn complete(&self, seq: i64) -> Result<(), QueueError> {
        self.conn().execute("DELETE FROM events WHERE seq = ?1", params![seq])?;
        Ok(())
    }

    /// A retryable failure: try again at `next_attempt_at_ms`.
    pub fn retry_later(&self, seq: i64, next_attempt_at_ms: i64, error: &str) -> Result<(), QueueError> {
        self.conn().execute(
            "UPDATE events SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE seq = ?1",
            params![seq, next_attempt_at_ms, error],
        )?;
        Ok(())
    }

    /// A final failure: the event moves to the dead-letter table with its reason.
    pub fn dead_letter(&self, seq: i64, reason: &str) -> Result<(), QueueError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO dead_letters (message_id, write_key, body, reason, attempts, failed_at)
             SELECT message_id, write_key, body, ?2, attempts + 1, ?3 FROM events WHERE seq = ?1",
            params![seq, reason, now_ms()],
        )?;
        tx.execute("DELETE FROM events WHERE seq = ?1", params![seq])?;
        tx.commit()?;
        Ok(())
    }

    /// Every dead letter, oldest first.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>, QueueError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT message_id, write_key, body, reason, attempts, failed_at FROM dead_letters ORDER BY failed_at",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DeadLetter {
                message_id: r.get(0)?,
                write_key: r.get(1)?,
                body: r.get(2)?,
                reason: r.get(3)?,
                attempts: r.get(4)?,
                failed_at_ms: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Events waiting for delivery.
    pub fn depth(&self) -> Result<u64, QueueError> {
        Ok(self.conn().query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_id_is_accepted_once_even_after_delivery() {
        let dir = tempfile::tempdir().unwrap();
        let q = Queue::open(&dir.path().join("q.db")).unwrap();
        let ev = vec![("m1".to_string(), "{}".to_string())];
        assert_eq!(q.enqueue("k", &ev).unwrap(), 1);
        assert_eq!(q.enqueue("k", &ev).unwrap(), 0);
        let due = q.due(10).unwrap();
        q.complete(due[0].seq).unwrap();
        assert_eq!(q.enqueue("k", &ev).unwrap(), 0, "redelivered after completion");
        assert_eq!(q.depth().unwrap(), 0);
    }

    #[test]
    fn dead_letters_keep_the_event_and_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        let q = Queue::open(&path).unwrap();
        q.enqueue("k", &[("m1".into(), "{\"a\":1}".into())]).unwrap();
        let seq = q.due(1).unwrap()[0].seq;
        q.dead_letter(seq, "422 RecordInvalid").unwrap();
        drop(q);
        let reopened = Queue::open(&path).unwrap();
        let dead = reopened.dead_letters().unwrap();
        assert_eq!((dead[0].body.as_str(), dead[0].reason.as_str()), ("{\"a\":1}", "422 RecordInvalid"));
        assert_eq!(reopened.depth().unwrap(), 0);
    }
}
