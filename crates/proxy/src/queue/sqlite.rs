//! The embedded queue: SQLite in WAL mode, fsync'd before the client hears
//! 2xx. Ingestion has its own connection on a writer thread that commits
//! every batch waiting in one transaction (group commit).

use std::path::Path;
use std::sync::{mpsc, Arc, Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::oneshot;

use super::{now_ms, DeadLetter, QueueError, QueuedEvent, DEDUPE_WINDOW_MS};
use crate::ingest::Prepared;

/// The SQLite queue; cheap to clone. Its methods are documented on [`super::Queue`].
#[derive(Clone)]
pub struct SqliteQueue {
    /// Delivery's connection (reads, progress, completion).
    conn: Arc<Mutex<Connection>>,
    /// The ingestion writer thread, which owns its own connection.
    writer: mpsc::Sender<WriteRequest>,
}

/// One accepted batch waiting for the writer.
struct WriteRequest {
    write_key: String,
    events: Vec<Prepared>,
    done: oneshot::Sender<Result<usize, QueueError>>,
}

/// Batches committed together at most (bounds one transaction's size).
const GROUP_COMMIT_MAX: usize = 64;

/// The ingestion writer: takes every batch waiting, commits them in one
/// transaction, answers each. Ends when the last `Queue` handle is dropped.
fn run_writer(mut conn: Connection, requests: mpsc::Receiver<WriteRequest>) {
    while let Ok(first) = requests.recv() {
        let mut group = vec![first];
        while group.len() < GROUP_COMMIT_MAX {
            match requests.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        match insert_group(&mut conn, &group) {
            Ok(counts) => {
                for (request, count) in group.into_iter().zip(counts) {
                    let _ = request.done.send(Ok(count));
                }
            }
            Err(e) => {
                let message = e.to_string();
                for request in group {
                    let _ = request.done.send(Err(QueueError::Commit(message.clone())));
                }
            }
        }
    }
}

fn insert_group(conn: &mut Connection, group: &[WriteRequest]) -> Result<Vec<usize>, QueueError> {
    let tx = conn.transaction()?;
    let now = now_ms();
    let mut counts = Vec::with_capacity(group.len());
    {
        let mut seen = tx.prepare_cached("INSERT OR IGNORE INTO seen (message_id, received_at) VALUES (?1, ?2)")?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO events (message_id, write_key, user_key, previous_key, body, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for request in group {
            let mut accepted = 0;
            for event in &request.events {
                if seen.execute(params![event.message_id, now])? == 1 {
                    insert.execute(params![event.message_id, request.write_key, event.user_key, event.previous_key, event.body, now])?;
                    accepted += 1;
                }
            }
            counts.push(accepted);
        }
    }
    tx.commit()?;
    Ok(counts)
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      TEXT    NOT NULL UNIQUE,
    write_key       TEXT    NOT NULL,
    user_key        TEXT    NOT NULL DEFAULT '',
    previous_key    TEXT,
    body            TEXT    NOT NULL,
    received_at     INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    ops_done        INTEGER NOT NULL DEFAULT 0,
    op_in_flight    INTEGER,
    last_error      TEXT
);
-- Every messageId accepted in the last week, so a client's retry has no second effect.
CREATE TABLE IF NOT EXISTS seen (
    message_id  TEXT    PRIMARY KEY,
    received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead_letters (
    message_id TEXT    PRIMARY KEY,
    write_key  TEXT    NOT NULL,
    user_key   TEXT    NOT NULL DEFAULT '',
    previous_key TEXT,
    body       TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    attempts   INTEGER NOT NULL,
    ops_done   INTEGER NOT NULL DEFAULT 0,
    -- The operation whose outcome was unknown when the event failed: a replay checks it first.
    op_in_flight INTEGER,
    failed_at  INTEGER NOT NULL
);
";

/// Indexes, created after [`MIGRATIONS`] so they may use added columns.
const INDEXES: &str = "
CREATE INDEX IF NOT EXISTS events_due ON events (next_attempt_at, seq);
CREATE INDEX IF NOT EXISTS events_user ON events (user_key, seq);
CREATE INDEX IF NOT EXISTS events_previous ON events (previous_key, seq) WHERE previous_key IS NOT NULL;
";

/// Columns added since the first release: `(table, column, declaration)`.
const MIGRATIONS: &[(&str, &str, &str)] = &[
    ("events", "user_key", "TEXT NOT NULL DEFAULT ''"),
    ("events", "ops_done", "INTEGER NOT NULL DEFAULT 0"),
    ("events", "op_in_flight", "INTEGER"),
    ("dead_letters", "user_key", "TEXT NOT NULL DEFAULT ''"),
    ("dead_letters", "ops_done", "INTEGER NOT NULL DEFAULT 0"),
    ("dead_letters", "op_in_flight", "INTEGER"),
    ("events", "previous_key", "TEXT"),
    ("dead_letters", "previous_key", "TEXT"),
];

/// Brings a queue file written by an older version up to date.
fn migrate(conn: &Connection) -> Result<(), QueueError> {
    for (table, column, declaration) in MIGRATIONS {
        let exists: bool = conn.query_row(
            &format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?1"),
            params![column],
            |r| r.get::<_, i64>(0).map(|n| n > 0),
        )?;
        if !exists {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {declaration}"))?;
        }
    }
    conn.execute_batch(INDEXES)?;
    Ok(())
}

impl SqliteQueue {
    /// Opens (creating if needed) the queue at `path`.
    pub fn open(path: &Path) -> Result<SqliteQueue, QueueError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        migrate(&conn)?;
        let ingest = Connection::open(path)?;
        ingest.busy_timeout(std::time::Duration::from_secs(5))?;
        // Checkpoints copy the WAL into the database file and fsync it: run
        // by [`super::Queue::housekeeping`] on the delivery connection, they never
        // stall an acknowledgement.
        ingest.execute_batch("PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0;")?;
        let (writer, requests) = mpsc::channel();
        std::thread::Builder::new()
            .name("queue-writer".into())
            .spawn(move || run_writer(ingest, requests))
            .map_err(|e| QueueError::Commit(e.to_string()))?;
        Ok(SqliteQueue { conn: Arc::new(Mutex::new(conn)), writer })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (transactions roll back), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a batch durably (committed and fsync'd) and returns how many
    /// events were new (a messageId seen before is ignored). Batches arriving
    /// together share one transaction and one fsync (group commit): that is
    /// what lets concurrent clients get low latency and high throughput from
    /// one disk.
    pub async fn enqueue(&self, write_key: &str, events: Vec<Prepared>) -> Result<usize, QueueError> {
        let (done, result) = oneshot::channel();
        self.writer
            .send(WriteRequest { write_key: write_key.to_owned(), events, done })
            .map_err(|_| QueueError::WorkerGone)?;
        result.await.map_err(|_| QueueError::WorkerGone)?
    }

    pub fn due(&self, limit: usize, received_before_ms: i64) -> Result<Vec<QueuedEvent>, QueueError> {
        let conn = self.conn();
        let now = now_ms();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, message_id, write_key, user_key, body, attempts, ops_done, op_in_flight, received_at, previous_key
             FROM events e
             WHERE next_attempt_at <= ?1 AND received_at <= ?3
               -- Held behind an earlier event sharing one of its ids that waits
               -- for a retry or is an alias; one NOT EXISTS per id column, so
               -- each is an index range on (key, seq), as in the PostgreSQL queue.
               AND NOT EXISTS (SELECT 1 FROM events p
                               WHERE p.user_key = e.user_key AND p.seq < e.seq AND (p.next_attempt_at > ?1 OR p.previous_key IS NOT NULL))
               AND NOT EXISTS (SELECT 1 FROM events p WHERE p.previous_key = e.user_key AND p.seq < e.seq)
               AND (e.previous_key IS NULL OR (
                    NOT EXISTS (SELECT 1 FROM events p
                                WHERE p.user_key = e.previous_key AND p.seq < e.seq AND (p.next_attempt_at > ?1 OR p.previous_key IS NOT NULL))
                    AND NOT EXISTS (SELECT 1 FROM events p WHERE p.previous_key = e.previous_key AND p.seq < e.seq)))
             ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![now, limit as i64, received_before_ms], |r| {
            Ok(QueuedEvent {
                seq: r.get(0)?,
                message_id: r.get(1)?,
                write_key: r.get(2)?,
                user_key: r.get(3)?,
                body: r.get(4)?,
                attempts: r.get(5)?,
                ops_done: r.get::<_, i64>(6)? as usize,
                in_doubt: r.get::<_, Option<i64>>(7)?.map(|i| i as usize),
                received_at_ms: r.get(8)?,
                previous_key: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn next_due_at(&self) -> Result<Option<i64>, QueueError> {
        let conn = self.conn();
        Ok(conn
            .query_row("SELECT MIN(next_attempt_at) FROM events", [], |r| r.get::<_, Option<i64>>(0))
            .optional()?
            .flatten())
    }

    pub fn op_started(&self, seq: i64, op: usize) -> Result<(), QueueError> {
        self.conn()
            .execute("UPDATE events SET op_in_flight = ?2 WHERE seq = ?1", params![seq, op as i64])?;
        Ok(())
    }

    pub fn progress(&self, seq: i64, ops_done: usize) -> Result<(), QueueError> {
        self.conn().execute(
            "UPDATE events SET ops_done = ?2, op_in_flight = NULL WHERE seq = ?1",
            params![seq, ops_done as i64],
        )?;
        Ok(())
    }

    pub fn complete(&self, seqs: &[i64]) -> Result<(), QueueError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut delete = tx.prepare_cached("DELETE FROM events WHERE seq = ?1")?;
            for seq in seqs {
                delete.execute(params![seq])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn retry_later(&self, seq: i64, next_attempt_at_ms: i64, error: &str) -> Result<(), QueueError> {
        self.conn().execute(
            "UPDATE events SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE seq = ?1",
            params![seq, next_attempt_at_ms, error],
        )?;
        Ok(())
    }

    pub fn dead_letter(&self, seq: i64, reason: &str) -> Result<(), QueueError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO dead_letters (message_id, write_key, user_key, previous_key, body, reason, attempts, ops_done, op_in_flight, failed_at)
             SELECT message_id, write_key, user_key, previous_key, body, ?2, attempts + 1, ops_done, op_in_flight, ?3 FROM events WHERE seq = ?1",
            params![seq, reason, now_ms()],
        )?;
        tx.execute("DELETE FROM events WHERE seq = ?1", params![seq])?;
        tx.commit()?;
        Ok(())
    }

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

    pub fn replay(&self, message_ids: &[String]) -> Result<usize, QueueError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let now = now_ms();
        let moved = {
            let select = "INSERT INTO events (message_id, write_key, user_key, previous_key, body, received_at, ops_done, op_in_flight)
                          SELECT message_id, write_key, user_key, previous_key, body, ?1, ops_done, op_in_flight FROM dead_letters";
            if message_ids.is_empty() {
                let n = tx.execute(select, params![now])?;
                tx.execute("DELETE FROM dead_letters", [])?;
                n
            } else {
                let mut n = 0;
                for id in message_ids {
                    n += tx.execute(&format!("{select} WHERE message_id = ?2"), params![now, id])?;
                    tx.execute("DELETE FROM dead_letters WHERE message_id = ?1", params![id])?;
                }
                n
            }
        };
        tx.commit()?;
        Ok(moved)
    }

    /// Moves the WAL into the database file without blocking the ingestion
    /// writer (SQLite's PASSIVE mode), so the WAL stays small.
    pub fn housekeeping(&self) -> Result<(), QueueError> {
        self.conn().query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    pub fn depth(&self) -> Result<u64, QueueError> {
        Ok(self.conn().query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?)
    }

    pub fn prune_seen(&self) -> Result<usize, QueueError> {
        Ok(self
            .conn()
            .execute("DELETE FROM seen WHERE received_at < ?1", params![now_ms() - DEDUPE_WINDOW_MS])?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Queue;
    use super::*;

    fn prepared(message_id: &str, user_key: &str, body: &str) -> Prepared {
        Prepared { message_id: message_id.into(), user_key: user_key.into(), previous_key: None, body: body.into() }
    }

    #[tokio::test]
    async fn a_message_id_is_accepted_once_even_after_delivery() {
        let dir = tempfile::tempdir().unwrap();
        let q = Queue::open(&dir.path().join("q.db")).unwrap();
        let ev = vec![prepared("m1", "u", "{}")];
        assert_eq!(q.enqueue("k", ev.clone()).await.unwrap(), 1);
        assert_eq!(q.enqueue("k", ev.clone()).await.unwrap(), 0);
        let due = q.due(10, now_ms()).unwrap();
        q.complete(&[due[0].seq]).unwrap();
        assert_eq!(q.enqueue("k", ev).await.unwrap(), 0, "redelivered after completion");
        assert_eq!(q.depth().unwrap(), 0);
    }

    #[tokio::test]
    async fn dead_letters_keep_the_event_and_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        let q = Queue::open(&path).unwrap();
        q.enqueue("k", vec![prepared("m1", "u", "{\"a\":1}")]).await.unwrap();
        let seq = q.due(1, now_ms()).unwrap()[0].seq;
        q.dead_letter(seq, "422 RecordInvalid").unwrap();
        drop(q);
        let reopened = Queue::open(&path).unwrap();
        let dead = reopened.dead_letters().unwrap();
        assert_eq!((dead[0].body.as_str(), dead[0].reason.as_str()), ("{\"a\":1}", "422 RecordInvalid"));
        assert_eq!(reopened.depth().unwrap(), 0);
        assert_eq!(reopened.replay(&[]).unwrap(), 1);
        assert!(reopened.dead_letters().unwrap().is_empty());
        assert_eq!(reopened.due(10, now_ms()).unwrap()[0].body, "{\"a\":1}");
    }

    #[tokio::test]
    async fn a_user_waiting_for_a_retry_holds_back_their_later_events_only() {
        let dir = tempfile::tempdir().unwrap();
        let q = Queue::open(&dir.path().join("q.db")).unwrap();
        q.enqueue("k", vec![prepared("a1", "a", "{}"), prepared("b1", "b", "{}"), prepared("a2", "a", "{}")]).await.unwrap();
        let first = q.due(10, now_ms()).unwrap();
        q.retry_later(first[0].seq, now_ms() + 60_000, "503").unwrap();
        let due: Vec<String> = q.due(10, now_ms()).unwrap().into_iter().map(|e| e.message_id).collect();
        assert_eq!(due, ["b1"]);
    }

    #[tokio::test]
    async fn an_alias_is_ordered_among_the_events_of_both_its_ids() {
        let dir = tempfile::tempdir().unwrap();
        let q = Queue::open(&dir.path().join("q.db")).unwrap();
        let alias = Prepared { previous_key: Some("old".into()), ..prepared("alias", "new", "{}") };
        let events = vec![prepared("old1", "old", "{}"), alias, prepared("new2", "new", "{}"), prepared("old2", "old", "{}"), prepared("x1", "x", "{}")];
        q.enqueue("k", events).await.unwrap();
        let first = q.due(10, now_ms()).unwrap();
        let due: Vec<&str> = first.iter().map(|e| e.message_id.as_str()).collect();
        assert_eq!(due, ["old1", "alias", "x1"], "both ids' events after an alias wait for it");
        q.retry_later(first[0].seq, now_ms() + 60_000, "503").unwrap();
        let due: Vec<String> = q.due(10, now_ms()).unwrap().into_iter().map(|e| e.message_id).collect();
        assert_eq!(due, ["x1"], "the alias waits for its previous id's retry, and holds back both ids");
    }
}
