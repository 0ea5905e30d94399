//! The delivery worker: takes due events from the queue, maps each one again
//! with the core (the browser is never trusted), coalesces identifies of one
//! user, and performs the operations through the [`Executor`].
//!
//! Guarantees: one user's events reach Zendesk in the order they were sent
//! (a user waiting for a retry holds back only their own later events); an
//! operation that completed is never repeated after a retry or a restart
//! (progress is recorded per operation); retryable failures back off
//! exponentially with jitter; final failures go to the dead-letter table.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{watch, Notify};
use zendesk_analytics_core::zendesk::{Organization, OrganizationRef, User, UserMatch};
use zendesk_analytics_core::{map_event, Event, Outcome, Settings, Value, ZendeskOp};

use crate::config::{Config, DeliveryConfig};
use crate::executor::{with_created_at, BulkResult, Executor, Op, OpError};
use crate::metrics::Metrics;
use crate::queue::{now_ms, Queue, QueueError, QueuedEvent};

/// How many events one pass takes from the queue.
const PASS: usize = 1000;

pub struct Deliverer {
    pub queue: Queue,
    pub executor: Executor,
    /// Settings per write key: each event is mapped with its own key's.
    pub settings: HashMap<String, Settings>,
    pub delivery: DeliveryConfig,
    pub metrics: Metrics,
    /// Signalled by ingestion so new events go out without polling delay.
    pub wake: Arc<Notify>,
}

/// One unit of work in a pass: an event's remaining operations, or several
/// identifies of one user merged into one upsert.
enum Work {
    Event { event: QueuedEvent, ops: Vec<Op> },
    Identify { events: Vec<QueuedEvent>, user: User, match_on: UserMatch, create_missing_fields: bool },
}

/// What became of a unit of work.
enum Delivery {
    Done,
    Retry(OpError),
    Final(String),
}

impl Deliverer {
    pub fn new(config: &Config, queue: Queue, executor: Executor, metrics: Metrics, wake: Arc<Notify>) -> Deliverer {
        Deliverer {
            queue,
            executor,
            settings: config.write_keys.iter().map(|(k, v)| (k.clone(), v.settings.clone())).collect(),
            delivery: config.delivery.clone(),
            metrics,
            wake,
        }
    }

    /// Runs until `stop` turns true. The unit of work in progress is
    /// finished first (its requests complete and their results are recorded),
    /// so a graceful shutdown never leaves an operation in doubt.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut passes: u64 = 0;
        while !*stop.borrow() {
            passes += 1;
            if passes % 1000 == 1 {
                let _ = self.queue.blocking(|q| q.prune_seen()).await;
            }
            let window = self.delivery.coalesce_window_ms as i64;
            let due = match self.queue.blocking(move |q| q.due(PASS, now_ms() - window)).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!(error = %e, "reading the queue failed; retrying in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Ok(depth) = self.queue.blocking(|q| q.depth()).await {
                self.metrics.set_queue_depth(depth);
            }
            if due.is_empty() {
                tokio::select! {
                    _ = self.idle() => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            self.pass(due, &stop).await;
        }
    }

    /// Sleeps until woken by ingestion (plus the coalescing window) or until
    /// the next retry is due.
    async fn idle(&self) {
        let next = self.queue.blocking(|q| q.next_due_at()).await.ok().flatten();
        let wait = next.map_or(Duration::from_secs(5), |at| {
            Duration::from_millis((at - now_ms()).clamp(10, 5_000) as u64)
        });
        tokio::select! {
            _ = self.wake.notified() => {
                tokio::time::sleep(Duration::from_millis(self.delivery.coalesce_window_ms)).await;
            }
            _ = tokio::time::sleep(wait) => {}
        }
    }

    /// Performs one pass; on shutdown it stops between units of work (the
    /// rest stays queued for the next start).
    async fn pass(&self, due: Vec<QueuedEvent>, stop: &watch::Receiver<bool>) {
        let work = self.plan(due).await;
        // With bulk import, identifies collect into one bulk upsert; a user's
        // later work waits (in order) until that upsert is done, while other
        // users' work goes ahead.
        let mut bulk: Vec<Work> = Vec::new();
        let mut deferred: Vec<Work> = Vec::new();
        let mut waiting: HashSet<String> = HashSet::new();
        for item in work {
            if *stop.borrow() {
                break;
            }
            let user = match &item {
                Work::Event { event, .. } => event.user_key.clone(),
                Work::Identify { events, .. } => events.first().map(|e| e.user_key.clone()).unwrap_or_default(),
            };
            if waiting.contains(&user) {
                deferred.push(item);
            } else if matches!(item, Work::Identify { .. }) && self.executor.bulk_enabled() {
                waiting.insert(user);
                bulk.push(item);
            } else {
                self.perform(item).await;
            }
        }
        self.flush_bulk(&mut bulk, &deferred).await;
        for item in deferred {
            if *stop.borrow() {
                break;
            }
            self.perform(item).await;
        }
    }

    /// Maps every event, dead-letters those that can no longer be mapped,
    /// and merges runs of identifies per user (last write wins per field).
    async fn plan(&self, due: Vec<QueuedEvent>) -> Vec<Work> {
        let mut work: Vec<Work> = Vec::new();
        // For each user, the index of their open identify group, if the last
        // thing planned for them was one.
        let mut open: HashMap<String, usize> = HashMap::new();
        for event in due {
            let ops = match self.map(&event) {
                Ok(ops) => ops,
                Err(reason) => {
                    self.dead_letter(&event, reason).await;
                    continue;
                }
            };
            let coalescing = self.delivery.coalesce_window_ms > 0;
            let single_identify = match ops.as_slice() {
                [Op::Zendesk(ZendeskOp::UpsertUser { user, match_on, organization_id: None, create_missing_fields })]
                    if coalescing && event.ops_done == 0 && !event.user_key.is_empty() =>
                {
                    Some((user.clone(), match_on.clone(), *create_missing_fields))
                }
                _ => None,
            };
            match single_identify {
                Some((user, match_on, create_missing)) => {
                    if let Some(Work::Identify { events, user: merged, match_on: merged_on, create_missing_fields }) =
                        open.get(&event.user_key).and_then(|&i| work.get_mut(i))
                    {
                        merged.merge(user);
                        if match_on.email.is_some() {
                            merged_on.email = match_on.email;
                        }
                        if match_on.external_id.is_some() {
                            merged_on.external_id = match_on.external_id;
                        }
                        *create_missing_fields = create_missing;
                        events.push(event);
                    } else {
                        open.insert(event.user_key.clone(), work.len());
                        work.push(Work::Identify { events: vec![event], user, match_on, create_missing_fields: create_missing });
                    }
                }
                None => {
                    open.remove(&event.user_key);
                    work.push(Work::Event { event, ops });
                }
            }
        }
        work
    }

    /// The event's operations (Zendesk, then Connect), mapped with its write
    /// key's settings.
    fn map(&self, queued: &QueuedEvent) -> Result<Vec<Op>, String> {
        let value: Value = serde_json::from_str(&queued.body).map_err(|e| format!("stored event is not JSON: {e}"))?;
        let event = Event::from_value(&value).map_err(|e| format!("invalid event: {e}"))?;
        let settings = self
            .settings
            .get(&queued.write_key)
            .ok_or_else(|| format!("write key {} is no longer configured; add it back and replay", queued.write_key))?;
        let mapping = map_event(&event, settings);
        for (destination, skip) in [("Zendesk", skipped(&mapping.zendesk)), ("Zendesk Connect", skipped(&mapping.connect))] {
            if let Some(reason) = skip {
                tracing::info!(message_id = %queued.message_id, destination, reason, "not sent");
            }
        }
        for warning in &mapping.warnings {
            tracing::warn!(message_id = %queued.message_id, warning = %warning.message, "left out of the operations");
        }
        let zendesk = mapping.zendesk.operations().iter().cloned().map(|op| match op {
            ZendeskOp::CreateUserEvent { user, mut event } => {
                with_created_at(&mut event, queued.received_at_ms);
                Op::Zendesk(ZendeskOp::CreateUserEvent { user, event })
            }
            other => Op::Zendesk(other),
        });
        let connect = mapping.connect.operations().iter().cloned().map(Op::Connect);
        Ok(zendesk.chain(connect).collect())
    }

    async fn perform(&self, item: Work) {
        match item {
            Work::Event { event, ops } => {
                let outcome = self.perform_event(&event, &ops).await;
                self.record(&[event], outcome).await;
            }
            Work::Identify { events, user, match_on, create_missing_fields } => {
                let result = self.executor.upsert_user(&user, &match_on, None, create_missing_fields).await;
                self.record(&events, into_delivery(result)).await;
            }
        }
    }

    /// Performs the event's operations from the first not yet done,
    /// recording progress after each so none is repeated. An operation that
    /// creates a record is marked as started first: if the process dies
    /// before its result is recorded, the next attempt checks Zendesk before
    /// sending it again.
    async fn perform_event(&self, event: &QueuedEvent, ops: &[Op]) -> Delivery {
        let seq = event.seq;
        for (index, op) in ops.iter().enumerate().skip(event.ops_done) {
            let in_doubt = event.in_doubt == Some(index);
            if op.creates_a_record() && !in_doubt {
                if let Err(e) = self.queue.blocking(move |q| q.op_started(seq, index)).await {
                    return Delivery::Retry(OpError::NotYet(format!("could not record progress: {e}")));
                }
            }
            if let Err(e) = self.executor.perform(op, in_doubt).await {
                return into_delivery(Err(e));
            }
            if index + 1 < ops.len() {
                if let Err(e) = self.queue.blocking(move |q| q.progress(seq, index + 1)).await {
                    return Delivery::Retry(OpError::NotYet(format!("could not record progress: {e}")));
                }
            }
        }
        Delivery::Done
    }

    /// Bulk upserts for the pending identify groups; on 403 each is sent singly.
    /// The organizations the bulk users' own group calls name (the group call
    /// must be the user's next piece of work and not started yet): written in
    /// one bulk job, so each new user can be created inside theirs.
    async fn organizations_for_new_users(&self, users: &[&str], deferred: &[Work]) -> HashMap<String, i64> {
        let mut wanted: HashMap<String, (Organization, bool)> = HashMap::new();
        let mut of_user: HashMap<String, String> = HashMap::new();
        for user in users {
            let next = deferred.iter().find(|w| matches!(w, Work::Event { event, .. } if event.user_key == *user));
            if let Some(Work::Event { event, ops }) = next {
                if let [Op::Zendesk(ZendeskOp::UpsertOrganization { organization, create_missing_fields }), Op::Zendesk(ZendeskOp::AddOrganizationMembership { organization: OrganizationRef::ExternalId(member_of), .. })] =
                    ops.as_slice()
                {
                    if event.ops_done == 0 && *member_of == organization.external_id {
                        of_user.insert((*user).to_owned(), organization.external_id.clone());
                        wanted.insert(organization.external_id.clone(), (organization.clone(), *create_missing_fields));
                    }
                }
            }
        }
        if wanted.is_empty() {
            return HashMap::new();
        }
        let organizations: Vec<(Organization, bool)> = wanted.into_values().collect();
        if !matches!(self.executor.upsert_organizations_bulk(&organizations).await, Ok(Some(_))) {
            return HashMap::new();
        }
        of_user
            .into_iter()
            .filter_map(|(user, external_id)| Some((user, self.executor.organization_known(&external_id)?)))
            .collect()
    }

    async fn flush_bulk(&self, pending: &mut Vec<Work>, deferred: &[Work]) {
        if pending.is_empty() {
            return;
        }
        let items = std::mem::take(pending);
        let groups: Vec<(Vec<QueuedEvent>, User, UserMatch, bool)> = items
            .into_iter()
            .filter_map(|w| match w {
                Work::Identify { events, user, match_on, create_missing_fields } => {
                    Some((events, user, match_on, create_missing_fields))
                }
                Work::Event { .. } => None,
            })
            .collect();
        // A new user is created inside the organization their group call
        // names (one request instead of a membership each); users Zendesk
        // already has keep the membership call, which adds rather than replaces.
        let user_keys: Vec<&str> = groups.iter().filter_map(|(events, ..)| events.first().map(|e| e.user_key.as_str())).collect();
        let organization_of = self.organizations_for_new_users(&user_keys, deferred).await;
        let external_ids: Vec<String> = groups.iter().filter_map(|(_, _, m, _)| m.external_id.clone()).collect();
        let existing = if organization_of.is_empty() { Ok(Default::default()) } else { self.executor.existing_users(&external_ids).await };
        let placement = |events: &[QueuedEvent], match_on: &UserMatch| -> Option<i64> {
            let existing = existing.as_ref().ok()?;
            let external_id = match_on.external_id.as_deref()?;
            if existing.contains(&external_id.to_lowercase()) {
                return None;
            }
            organization_of.get(&events.first()?.user_key).copied()
        };
        let per_call = crate::executor::BULK_CHUNK * crate::executor::MAX_JOBS_IN_FLIGHT;
        let mut rest = groups;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(per_call));
            let chunk = std::mem::replace(&mut rest, tail);
            let users: Vec<(User, bool, Option<i64>)> =
                chunk.iter().map(|(events, u, match_on, create)| (u.clone(), *create, placement(events, match_on))).collect();
            match self.executor.upsert_users_bulk(&users).await {
                Ok(Some(results)) => {
                    for ((events, ..), result) in chunk.into_iter().zip(results) {
                        let outcome = match result {
                            BulkResult::Done => Delivery::Done,
                            BulkResult::Failed(reason) => Delivery::Final(reason),
                        };
                        self.record(&events, outcome).await;
                    }
                }
                Ok(None) => {
                    for (events, user, match_on, create_missing_fields) in chunk {
                        self.perform(Work::Identify { events, user, match_on, create_missing_fields }).await;
                    }
                }
                Err(e) => {
                    let retryable = e.is_retryable();
                    let message = e.to_string();
                    for (events, ..) in chunk {
                        let outcome = if retryable {
                            Delivery::Retry(OpError::NotYet(message.clone()))
                        } else {
                            Delivery::Final(message.clone())
                        };
                        self.record(&events, outcome).await;
                    }
                }
            }
        }
    }

    async fn record(&self, events: &[QueuedEvent], outcome: Delivery) {
        let result: Result<(), QueueError> = match outcome {
            Delivery::Done => {
                for event in events {
                    tracing::info!(message_id = %event.message_id, "delivered");
                    self.metrics.delivered();
                }
                let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
                self.queue.blocking(move |q| q.complete(&seqs)).await
            }
            Delivery::Retry(error) => {
                for event in events {
                    if event.attempts + 1 >= self.delivery.max_attempts {
                        let reason = format!("gave up after {} attempts: {error}", self.delivery.max_attempts);
                        self.dead_letter(event, reason).await;
                        continue;
                    }
                    let delay = backoff(event.attempts);
                    tracing::warn!(message_id = %event.message_id, error = %error, retry_in_ms = delay.as_millis() as u64, "delivery failed; will retry");
                    self.metrics.retried();
                    let (seq, message, at) = (event.seq, error.to_string(), now_ms() + delay.as_millis() as i64);
                    if let Err(e) = self.queue.blocking(move |q| q.retry_later(seq, at, &message)).await {
                        tracing::error!(error = %e, "recording a retry failed");
                    }
                }
                Ok(())
            }
            Delivery::Final(reason) => {
                for event in events {
                    self.dead_letter(event, reason.clone()).await;
                }
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "recording a delivery result failed");
        }
    }

    async fn dead_letter(&self, event: &QueuedEvent, reason: String) {
        tracing::error!(message_id = %event.message_id, reason = %reason, "dead-lettered");
        self.metrics.dead_lettered();
        let seq = event.seq;
        if let Err(e) = self.queue.blocking(move |q| q.dead_letter(seq, &reason)).await {
            tracing::error!(error = %e, "recording a dead letter failed");
        }
    }
}

fn skipped<Op>(outcome: &Outcome<Op>) -> Option<&str> {
    match outcome {
        Outcome::Skipped(skip) => Some(&skip.message),
        _ => None,
    }
}

fn into_delivery(result: Result<(), OpError>) -> Delivery {
    match result {
        Ok(()) => Delivery::Done,
        Err(e) if e.is_retryable() => Delivery::Retry(e),
        Err(e) => Delivery::Final(e.to_string()),
    }
}

/// 0.5 s doubling to 5 min, with ±25 % jitter so retries of many events spread out.
fn backoff(attempts: u32) -> Duration {
    let base = 0.5 * 2f64.powi(attempts.min(20) as i32);
    let capped = base.min(300.0);
    let jitter = rand::rng().random_range(0.75..1.25);
    Duration::from_secs_f64(capped * jitter)
}
