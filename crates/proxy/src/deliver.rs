//! The delivery worker: takes due events from the queue, maps each one again
//! with the core (the browser is never trusted) and performs the operations
//! against Zendesk. Retryable failures are rescheduled with exponential
//! backoff and jitter; final failures go to the dead-letter table.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::Notify;
use zendesk_analytics_core::{map_event, Event, Outcome, Settings, Value, ZendeskOp};

use crate::queue::{now_ms, QueuedEvent, Queue};
use crate::zendesk::{ZendeskClient, ZendeskError};

/// Attempts before a retryable failure becomes final.
const MAX_ATTEMPTS: u32 = 12;
/// How many events one pass takes from the queue.
const BATCH: usize = 100;

pub struct Deliverer {
    pub queue: Queue,
    pub zendesk: ZendeskClient,
    pub settings: Settings,
    /// Signalled by ingestion so new events go out without polling delay.
    pub wake: Arc<Notify>,
}

/// What became of one event.
enum Delivery {
    Done,
    Retry(ZendeskError),
    Final(String),
}

impl Deliverer {
    /// Runs until the task is dropped.
    pub async fn run(self) {
        loop {
            let due = match self.queue.blocking(|q| q.due(BATCH)).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!(error = %e, "reading the queue failed; retrying in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if due.is_empty() {
                self.idle().await;
                continue;
            }
            for event in due {
                let outcome = self.deliver(&event).await;
                if let Err(e) = self.record(&event, outcome).await {
                    tracing::error!(error = %e, message_id = %event.message_id, "recording a delivery result failed");
                }
            }
        }
    }

    /// Sleeps until woken by ingestion or until the next retry is due.
    async fn idle(&self) {
        let next = self.queue.blocking(|q| q.next_due_at()).await.ok().flatten();
        let wait = next.map_or(Duration::from_secs(5), |at| {
            Duration::from_millis((at - now_ms()).clamp(10, 5_000) as u64)
        });
        tokio::select! {
            _ = self.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }

    async fn deliver(&self, queued: &QueuedEvent) -> Delivery {
        let value: Value = match serde_json::from_str(&queued.body) {
            Ok(v) => v,
            Err(e) => return Delivery::Final(format!("stored event is not JSON: {e}")),
        };
        let event = match Event::from_value(&value) {
            Ok(e) => e,
            Err(e) => return Delivery::Final(format!("invalid event: {e}")),
        };
        let mapping = map_event(&event, &self.settings);
        if let Outcome::Skipped(skip) = &mapping.zendesk {
            tracing::info!(message_id = %queued.message_id, reason = %skip.message, "not sent to Zendesk");
        }
        for op in mapping.zendesk.operations() {
            if let Err(e) = self.execute(op).await {
                return if e.is_retryable() {
                    Delivery::Retry(e)
                } else {
                    Delivery::Final(e.to_string())
                };
            }
        }
        Delivery::Done
    }

    async fn execute(&self, op: &ZendeskOp) -> Result<(), ZendeskError> {
        match op {
            ZendeskOp::UpsertUser { user, .. } => {
                let body = serde_json::to_value(user).map_err(|e| ZendeskError::BadResponse(e.to_string()))?;
                let stored = self.zendesk.create_or_update_user(&body).await?;
                tracing::debug!(zendesk_user_id = %stored.get("id").unwrap_or(&serde_json::Value::Null), "user upserted");
                Ok(())
            }
            // The core may grow operations before this executor performs them;
            // such an event is dead-lettered with the reason, never dropped.
            other => Err(ZendeskError::Unsupported(format!("{other:?}"))),
        }
    }

    async fn record(&self, event: &QueuedEvent, outcome: Delivery) -> Result<(), crate::queue::QueueError> {
        let seq = event.seq;
        match outcome {
            Delivery::Done => {
                tracing::info!(message_id = %event.message_id, "delivered");
                self.queue.blocking(move |q| q.complete(seq)).await
            }
            Delivery::Retry(error) if event.attempts + 1 < MAX_ATTEMPTS => {
                let delay = error.retry_after().unwrap_or_else(|| backoff(event.attempts));
                tracing::warn!(message_id = %event.message_id, error = %error, retry_in_ms = delay.as_millis() as u64, "delivery failed; will retry");
                let message = error.to_string();
                let at = now_ms() + delay.as_millis() as i64;
                self.queue.blocking(move |q| q.retry_later(seq, at, &message)).await
            }
            Delivery::Retry(error) => {
                let reason = format!("gave up after {MAX_ATTEMPTS} attempts: {error}");
                self.dead_letter(event, reason).await
            }
            Delivery::Final(reason) => self.dead_letter(event, reason).await,
        }
    }

    async fn dead_letter(&self, event: &QueuedEvent, reason: String) -> Result<(), crate::queue::QueueError> {
        tracing::error!(message_id = %event.message_id, reason = %reason, "dead-lettered");
        let seq = event.seq;
        self.queue.blocking(move |q| q.dead_letter(seq, &reason)).await
    }
}

/// 0.5 s doubling to 5 min, with ±25 % jitter so retries of many events spread out.
fn backoff(attempts: u32) -> Duration {
    let base = 0.5 * 2f64.powi(attempts.min(20) as i32);
    let capped = base.min(300.0);
    let jitter = rand::rng().random_range(0.75..1.25);
    Duration::from_secs_f64(capped * jitter)
}
