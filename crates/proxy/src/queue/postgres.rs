//! The shared queue: PostgreSQL, for several proxy instances behind a load
//! balancer. Every instance ingests into the same tables; delivery claims
//! events for a lease (`claimed_until`) under a transaction-scoped advisory
//! lock, so two instances never deliver the same event, one user's events
//! still go out in order, and the events of an instance that died are
//! picked up by the others when its lease runs out.

use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use postgres::{Client, Transaction};

use super::{now_ms, DeadLetter, QueueError, QueuedEvent, DEDUPE_WINDOW_MS};
use crate::ingest::Prepared;

/// How long a claim lasts without renewal: how soon the events of an
/// instance that died are delivered by the others.
const CLAIM_MS: i64 = 2 * 60 * 1000;
/// A live instance renews its claims this often (a pass at the account's
/// rate limit can take longer than a claim lasts).
const RENEW_EVERY: Duration = Duration::from_secs(30);
/// Serializes claiming across instances (any constant shared by all).
const CLAIM_LOCK: i64 = 0x7a64_7078;

const SCHEMA: &str = "
CREATE SCHEMA IF NOT EXISTS zendesk_proxy;
CREATE TABLE IF NOT EXISTS zendesk_proxy.events (
    seq             BIGSERIAL PRIMARY KEY,
    message_id      TEXT    NOT NULL UNIQUE,
    write_key       TEXT    NOT NULL,
    user_key        TEXT    NOT NULL DEFAULT '',
    body            TEXT    NOT NULL,
    received_at     BIGINT  NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL DEFAULT 0,
    ops_done        INTEGER NOT NULL DEFAULT 0,
    op_in_flight    INTEGER,
    last_error      TEXT,
    claimed_until   BIGINT  NOT NULL DEFAULT 0,
    claimed_by      TEXT
);
CREATE INDEX IF NOT EXISTS events_due ON zendesk_proxy.events (next_attempt_at, seq);
CREATE INDEX IF NOT EXISTS events_user ON zendesk_proxy.events (user_key, seq);
ALTER TABLE zendesk_proxy.events ADD COLUMN IF NOT EXISTS previous_key TEXT;
CREATE INDEX IF NOT EXISTS events_previous ON zendesk_proxy.events (previous_key, seq) WHERE previous_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS zendesk_proxy.seen (
    message_id  TEXT   PRIMARY KEY,
    received_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS zendesk_proxy.dead_letters (
    message_id TEXT    PRIMARY KEY,
    write_key  TEXT    NOT NULL,
    user_key   TEXT    NOT NULL DEFAULT '',
    body       TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    attempts   INTEGER NOT NULL,
    ops_done   INTEGER NOT NULL DEFAULT 0,
    failed_at  BIGINT  NOT NULL
);
-- The operation whose outcome was unknown when the event failed: a replay checks it first.
ALTER TABLE zendesk_proxy.dead_letters ADD COLUMN IF NOT EXISTS op_in_flight INTEGER;
ALTER TABLE zendesk_proxy.dead_letters ADD COLUMN IF NOT EXISTS previous_key TEXT;
";

fn pg(e: postgres::Error) -> QueueError {
    // postgres errors never contain the connection password.
    QueueError::Postgres(match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    })
}

/// The PostgreSQL queue; cheap to clone. Its methods are documented on [`super::Queue`].
#[derive(Clone)]
pub struct PostgresQueue {
    /// Delivery's connection.
    delivery: Connection,
    /// Ingestion's own connection, so acknowledging never waits on delivery.
    ingest: Connection,
    /// Names this process's claims.
    instance: Arc<str>,
    last_renewal: Arc<Mutex<Instant>>,
}

type Job = Box<dyn FnOnce(&mut Client) + Send>;

/// A connection owned by its own thread. The `postgres` client runs a small
/// runtime of its own, which must never be entered (or dropped) on a thread
/// of the proxy's async runtime; callers hand it work and wait for the answer.
#[derive(Clone)]
struct Connection {
    jobs: mpsc::Sender<Job>,
}

impl Connection {
    fn open(url: &str) -> Result<Connection, QueueError> {
        let url = url.to_owned();
        let (jobs, incoming) = mpsc::channel::<Job>();
        let (ready, connected) = mpsc::channel();
        std::thread::Builder::new()
            .name("queue-postgres".into())
            .spawn(move || {
                let connect = || {
                    pg_tls::connector()
                        .map_err(|e| QueueError::Postgres(e.to_string()))
                        .and_then(|tls| Client::connect(&url, tls).map_err(pg))
                };
                match connect() {
                    Ok(mut client) => {
                        let _ = ready.send(Ok(()));
                        // Ends when the last handle is dropped; the client closes here.
                        while let Ok(job) = incoming.recv() {
                            // After a database restart or failover: connect again
                            // (if that fails too, the job reports the closed connection).
                            if client.is_closed() {
                                match connect() {
                                    Ok(fresh) => client = fresh,
                                    Err(e) => tracing::warn!(error = %e, "the queue database is unreachable"),
                                }
                            }
                            job(&mut client);
                        }
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                    }
                }
            })
            .map_err(|e| QueueError::Postgres(e.to_string()))?;
        connected.recv().map_err(|_| QueueError::WorkerGone)??;
        Ok(Connection { jobs })
    }

    fn run<T: Send + 'static>(&self, f: impl FnOnce(&mut Client) -> Result<T, postgres::Error> + Send + 'static) -> Result<T, QueueError> {
        let (done, answer) = mpsc::channel();
        self.jobs
            .send(Box::new(move |client| {
                let _ = done.send(f(client).map_err(pg));
            }))
            .map_err(|_| QueueError::WorkerGone)?;
        answer.recv().map_err(|_| QueueError::WorkerGone)?
    }

    fn in_transaction<T: Send + 'static>(&self, f: impl FnOnce(&mut Transaction<'_>) -> Result<T, postgres::Error> + Send + 'static) -> Result<T, QueueError> {
        self.run(move |client| {
            let mut tx = client.transaction()?;
            let out = f(&mut tx)?;
            tx.commit()?;
            Ok(out)
        })
    }

    fn execute(&self, sql: &'static str, params: Vec<Box<dyn postgres::types::ToSql + Sync + Send>>) -> Result<u64, QueueError> {
        self.run(move |client| {
            let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|p| p.as_ref() as _).collect();
            client.execute(sql, &params)
        })
    }
}

impl PostgresQueue {
    pub fn open(url: &str) -> Result<PostgresQueue, QueueError> {
        let delivery = Connection::open(url)?;
        // Instances starting together must not race on CREATE … IF NOT EXISTS.
        delivery.in_transaction(|tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CLAIM_LOCK])?;
            tx.batch_execute(SCHEMA)
        })?;
        let instance = format!("{}-{}-{}", std::process::id(), now_ms(), rand_suffix());
        Ok(PostgresQueue {
            delivery,
            ingest: Connection::open(url)?,
            instance: instance.into(),
            last_renewal: Arc::new(Mutex::new(Instant::now())),
        })
    }

    pub fn enqueue(&self, write_key: &str, events: &[Prepared]) -> Result<usize, QueueError> {
        let write_key = write_key.to_owned();
        let events: Vec<(String, String, Option<String>, String)> =
            events.iter().map(|e| (e.message_id.clone(), e.user_key.clone(), e.previous_key.clone(), e.body.clone())).collect();
        self.ingest.in_transaction(move |tx| {
            let now = now_ms();
            let seen = tx.prepare("INSERT INTO zendesk_proxy.seen (message_id, received_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")?;
            let insert = tx.prepare(
                "INSERT INTO zendesk_proxy.events (message_id, write_key, user_key, previous_key, body, received_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )?;
            let mut accepted = 0;
            for (message_id, user_key, previous_key, body) in &events {
                if tx.execute(&seen, &[message_id, &now])? == 1 {
                    tx.execute(&insert, &[message_id, &write_key, user_key, previous_key, body, &now])?;
                    accepted += 1;
                }
            }
            Ok(accepted)
        })
    }

    pub fn due(&self, limit: usize, received_before_ms: i64) -> Result<Vec<QueuedEvent>, QueueError> {
        let instance = self.instance.to_string();
        let rows = self.delivery.in_transaction(move |tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CLAIM_LOCK])?;
            let now = now_ms();
            tx.query(
                "WITH picked AS (
                     SELECT seq FROM zendesk_proxy.events e
                     WHERE next_attempt_at <= $1 AND claimed_until <= $1 AND received_at <= $3
                       -- One NOT EXISTS per id column: each is an index range on
                       -- (key, seq) that stops at the first earlier match. Joined
                       -- with OR they became a bitmap scan reading every event of
                       -- a busy user for each candidate (seconds per pass).
                       AND NOT EXISTS (SELECT 1 FROM zendesk_proxy.events p
                                       WHERE p.user_key = e.user_key AND p.seq < e.seq
                                         AND (p.next_attempt_at > $1 OR p.claimed_until > $1 OR p.previous_key IS NOT NULL))
                       AND NOT EXISTS (SELECT 1 FROM zendesk_proxy.events p WHERE p.previous_key = e.user_key AND p.seq < e.seq)
                       AND (e.previous_key IS NULL OR (
                            NOT EXISTS (SELECT 1 FROM zendesk_proxy.events p
                                        WHERE p.user_key = e.previous_key AND p.seq < e.seq
                                          AND (p.next_attempt_at > $1 OR p.claimed_until > $1 OR p.previous_key IS NOT NULL))
                            AND NOT EXISTS (SELECT 1 FROM zendesk_proxy.events p WHERE p.previous_key = e.previous_key AND p.seq < e.seq)))
                     ORDER BY seq LIMIT $2)
                 UPDATE zendesk_proxy.events ev SET claimed_until = $1 + $4, claimed_by = $5 FROM picked WHERE ev.seq = picked.seq
                 RETURNING ev.seq, ev.message_id, ev.write_key, ev.user_key, ev.body, ev.attempts, ev.ops_done, ev.op_in_flight, ev.received_at, ev.previous_key",
                &[&now, &(limit as i64), &received_before_ms, &CLAIM_MS, &instance],
            )
        })?;
        let mut events: Vec<QueuedEvent> = rows
            .iter()
            .map(|r| QueuedEvent {
                seq: r.get(0),
                message_id: r.get(1),
                write_key: r.get(2),
                user_key: r.get(3),
                body: r.get(4),
                attempts: r.get::<_, i32>(5).max(0) as u32,
                ops_done: r.get::<_, i32>(6).max(0) as usize,
                in_doubt: r.get::<_, Option<i32>>(7).map(|i| i.max(0) as usize),
                received_at_ms: r.get(8),
                previous_key: r.get(9),
            })
            .collect();
        events.sort_by_key(|e| e.seq);
        Ok(events)
    }

    pub fn next_due_at(&self) -> Result<Option<i64>, QueueError> {
        self.delivery.run(|client| {
            Ok(client.query_one("SELECT MIN(GREATEST(next_attempt_at, claimed_until)) FROM zendesk_proxy.events", &[])?.get(0))
        })
    }

    pub fn op_started(&self, seq: i64, op: usize) -> Result<(), QueueError> {
        self.delivery.execute("UPDATE zendesk_proxy.events SET op_in_flight = $2 WHERE seq = $1", vec![Box::new(seq), Box::new(op as i32)])?;
        Ok(())
    }

    pub fn progress(&self, seq: i64, ops_done: usize) -> Result<(), QueueError> {
        self.delivery.execute("UPDATE zendesk_proxy.events SET ops_done = $2, op_in_flight = NULL WHERE seq = $1", vec![Box::new(seq), Box::new(ops_done as i32)])?;
        Ok(())
    }

    pub fn complete(&self, seqs: &[i64]) -> Result<(), QueueError> {
        self.delivery.execute("DELETE FROM zendesk_proxy.events WHERE seq = ANY($1)", vec![Box::new(seqs.to_vec())])?;
        Ok(())
    }

    pub fn retry_later(&self, seq: i64, next_attempt_at_ms: i64, error: &str) -> Result<(), QueueError> {
        self.delivery.execute(
            "UPDATE zendesk_proxy.events SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3, claimed_until = 0, claimed_by = NULL WHERE seq = $1",
            vec![Box::new(seq), Box::new(next_attempt_at_ms), Box::new(error.to_owned())],
        )?;
        Ok(())
    }

    pub fn dead_letter(&self, seq: i64, reason: &str) -> Result<(), QueueError> {
        let reason = reason.to_owned();
        self.delivery.in_transaction(move |tx| {
            tx.execute(
                "INSERT INTO zendesk_proxy.dead_letters (message_id, write_key, user_key, previous_key, body, reason, attempts, ops_done, op_in_flight, failed_at)
                 SELECT message_id, write_key, user_key, previous_key, body, $2, attempts + 1, ops_done, op_in_flight, $3 FROM zendesk_proxy.events WHERE seq = $1
                 ON CONFLICT (message_id) DO UPDATE SET reason = EXCLUDED.reason, attempts = EXCLUDED.attempts,
                     ops_done = EXCLUDED.ops_done, op_in_flight = EXCLUDED.op_in_flight, failed_at = EXCLUDED.failed_at, body = EXCLUDED.body",
                &[&seq, &reason, &now_ms()],
            )?;
            tx.execute("DELETE FROM zendesk_proxy.events WHERE seq = $1", &[&seq])?;
            Ok(())
        })
    }

    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>, QueueError> {
        let rows = self.delivery.run(|client| {
            client.query("SELECT message_id, write_key, body, reason, attempts, failed_at FROM zendesk_proxy.dead_letters ORDER BY failed_at", &[])
        })?;
        Ok(rows
            .iter()
            .map(|r| DeadLetter {
                message_id: r.get(0),
                write_key: r.get(1),
                body: r.get(2),
                reason: r.get(3),
                attempts: r.get::<_, i32>(4).max(0) as u32,
                failed_at_ms: r.get(5),
            })
            .collect())
    }

    pub fn replay(&self, message_ids: &[String]) -> Result<usize, QueueError> {
        let now = now_ms();
        let message_ids = message_ids.to_vec();
        self.delivery.in_transaction(move |tx| {
            let moved = tx.execute(
                "INSERT INTO zendesk_proxy.events (message_id, write_key, user_key, previous_key, body, received_at, ops_done, op_in_flight)
                 SELECT message_id, write_key, user_key, previous_key, body, $1, ops_done, op_in_flight FROM zendesk_proxy.dead_letters
                 WHERE cardinality($2::text[]) = 0 OR message_id = ANY($2)",
                &[&now, &message_ids],
            )?;
            tx.execute("DELETE FROM zendesk_proxy.dead_letters WHERE cardinality($1::text[]) = 0 OR message_id = ANY($1)", &[&message_ids])?;
            Ok(moved as usize)
        })
    }

    /// Renews this instance's claims every [`RENEW_EVERY`] (autovacuum
    /// does the rest).
    pub fn housekeeping(&self) -> Result<(), QueueError> {
        {
            let mut last = self.last_renewal.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() < RENEW_EVERY {
                return Ok(());
            }
            *last = Instant::now();
        }
        self.delivery.execute(
            "UPDATE zendesk_proxy.events SET claimed_until = $1 WHERE claimed_by = $2 AND claimed_until > 0",
            vec![Box::new(now_ms() + CLAIM_MS), Box::new(self.instance.to_string())],
        )?;
        Ok(())
    }

    pub fn release_claims(&self) -> Result<(), QueueError> {
        self.delivery.execute(
            "UPDATE zendesk_proxy.events SET claimed_until = 0, claimed_by = NULL WHERE claimed_by = $1",
            vec![Box::new(self.instance.to_string())],
        )?;
        Ok(())
    }

    pub fn depth(&self) -> Result<u64, QueueError> {
        let count: i64 = self.delivery.run(|client| Ok(client.query_one("SELECT COUNT(*) FROM zendesk_proxy.events", &[])?.get(0)))?;
        Ok(count.max(0) as u64)
    }

    pub fn prune_seen(&self) -> Result<usize, QueueError> {
        Ok(self.delivery.execute("DELETE FROM zendesk_proxy.seen WHERE received_at < $1", vec![Box::new(now_ms() - DEDUPE_WINDOW_MS)])? as usize)
    }
}

/// Distinguishes two processes with the same pid and start millisecond
/// (containers on different hosts).
fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    hasher.finish()
}
