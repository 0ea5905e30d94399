//! The delivery worker: takes due events from the queue, maps each one again
//! with the core (the browser is never trusted), coalesces identifies of one
//! user, and performs the operations through the [`Executor`].
//!
//! Guarantees: one user's events reach Zendesk in the order they were sent
//! (a user waiting for a retry holds back only their own later events, in
//! this pass and later ones; an alias is ordered among the events of both
//! its ids, so it never moves an id before the user holding it is written); an
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

use crate::config::{write_key_fingerprint, Config, DeliveryConfig};
use crate::executor::{mark_user_event, BulkResult, Executor, Op, OpError};
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

impl Work {
    fn events(&self) -> &[QueuedEvent] {
        match self {
            Work::Event { event, .. } => std::slice::from_ref(event),
            Work::Identify { events, .. } => events,
        }
    }

    /// The users this work is ordered among (see [`QueuedEvent::ordering_keys`]).
    fn ordering_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.events().iter().flat_map(QueuedEvent::ordering_keys).map(str::to_owned).collect();
        keys.dedup();
        keys
    }
}

/// The users of a pass whose earlier work waits for a retry.
#[derive(Default)]
struct Held {
    users: HashSet<String>,
}

impl Held {
    /// Whether `item` must wait for its users' retried work; if so it is
    /// left queued, and the other users it is ordered among wait too.
    fn keeps(&mut self, item: &Work) -> bool {
        let keys = item.ordering_keys();
        if !keys.iter().any(|k| self.users.contains(k)) {
            return false;
        }
        self.users.extend(keys);
        true
    }
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
        let bulk_enabled = self.executor.bulk_enabled();
        let next_organizations = organizations_named_next(&work);
        // One `show_many` per hundred users instead of a search for each new
        // one (with bulk, only where it decides where a new user is created).
        let to_look_up = work.iter().enumerate().filter_map(|(index, item)| match item {
            Work::Identify { match_on, .. } if !bulk_enabled || next_organizations.contains_key(&index) => {
                match_on.external_id.as_deref()
            }
            _ => None,
        });
        if let Err(e) = self.executor.look_up_users(to_look_up).await {
            tracing::warn!(error = %e, "looking users up 100 at a time failed; they are searched one by one");
        }
        // With bulk import, identifies collect into one bulk upsert; a user's
        // later work waits (in order) until that upsert is done, while other
        // users' work goes ahead. Once a user's work is to be retried, the
        // rest of theirs stays queued for a later pass (the queue holds it
        // behind the retry): sent now, it would reach Zendesk before the
        // retried work and be overwritten by it.
        let mut bulk: Vec<(usize, Work)> = Vec::new();
        let mut deferred: Vec<Work> = Vec::new();
        let mut waiting: HashSet<String> = HashSet::new();
        let mut held = Held::default();
        for (index, item) in work.into_iter().enumerate() {
            if *stop.borrow() {
                break;
            }
            if held.keeps(&item) {
                continue;
            }
            let keys = item.ordering_keys();
            if keys.iter().any(|k| waiting.contains(k)) {
                waiting.extend(keys);
                deferred.push(item);
            } else if matches!(item, Work::Identify { .. }) && bulk_enabled {
                waiting.extend(keys);
                bulk.push((index, item));
            } else {
                let organization = match (&item, next_organizations.get(&index)) {
                    (Work::Identify { match_on, .. }, Some(next)) => self.organization_for_new_user(match_on, next).await,
                    _ => None,
                };
                if self.perform(item, organization).await {
                    held.users.extend(keys);
                }
            }
        }
        held.users.extend(self.flush_bulk(bulk, &next_organizations).await);
        for item in deferred {
            if *stop.borrow() {
                break;
            }
            if held.keeps(&item) {
                continue;
            }
            let keys = item.ordering_keys();
            if self.perform(item, None).await {
                held.users.extend(keys);
            }
        }
        // Whatever this instance still claims was held behind a retry (or
        // left by an earlier pass whose release failed): given back, or the
        // renewed claims would keep it from every instance, this one included.
        if let Err(e) = self.queue.blocking(|q| q.release_claims()).await {
            tracing::error!(error = %e, "giving back events held for a later pass failed; the next pass tries again");
        }
    }

    /// For a user Zendesk holds no record of, whose group call comes next:
    /// their organization's id, written first, so the user is created inside
    /// it (one request instead of a membership each; the group call then
    /// finds both done).
    async fn organization_for_new_user(&self, match_on: &UserMatch, (organization, create_missing_fields): &(Organization, bool)) -> Option<i64> {
        if !self.executor.user_absent(match_on.external_id.as_deref()?) {
            return None;
        }
        let op = Op::Zendesk(ZendeskOp::UpsertOrganization { organization: organization.clone(), create_missing_fields: *create_missing_fields });
        self.executor.perform(&op, false).await.ok()?;
        self.executor.organization_known(&organization.external_id)
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
            let single_identify = match ops.as_slice() {
                [Op::Zendesk(ZendeskOp::UpsertUser { user, match_on, organization_id: None, create_missing_fields })]
                    if event.ops_done == 0 && !event.user_key.is_empty() =>
                {
                    Some((user.clone(), match_on.clone(), *create_missing_fields))
                }
                _ => None,
            };
            match single_identify {
                Some((user, match_on, create_missing)) => {
                    let coalescing = self.delivery.coalesce_window_ms > 0;
                    if let Some(Work::Identify { events, user: merged, match_on: merged_on, create_missing_fields }) =
                        open.get(&event.user_key).filter(|_| coalescing).and_then(|&i| work.get_mut(i))
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
                    // An alias closes the open identify of both its users:
                    // an identify after it must not be merged into one before.
                    for key in event.ordering_keys() {
                        open.remove(key);
                    }
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
            .ok_or_else(|| {
                let key = write_key_fingerprint(&queued.write_key);
                format!("the write key with fingerprint {key} is no longer configured; add it back and replay")
            })?;
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
                mark_user_event(&mut event, &queued.message_id, queued.received_at_ms);
                Op::Zendesk(ZendeskOp::CreateUserEvent { user, event })
            }
            other => Op::Zendesk(other),
        });
        let connect = mapping.connect.operations().iter().cloned().map(Op::Connect);
        Ok(zendesk.chain(connect).collect())
    }

    /// Performs a unit of work; a new user is created inside `organization`.
    /// Returns whether it waits for a retry.
    async fn perform(&self, item: Work, organization: Option<i64>) -> bool {
        match item {
            Work::Event { event, ops } => {
                let outcome = self.perform_event(&event, &ops).await;
                self.record(&[event], outcome).await
            }
            Work::Identify { events, user, match_on, create_missing_fields } => {
                let result = self.executor.upsert_user(&user, &match_on, organization, create_missing_fields).await;
                self.record(&events, into_delivery(result)).await
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
                // A clean refusal (503, 429, …) of the only request sent
                // leaves nothing to check for on the retry. After a check
                // (`in_doubt`) the failure may be the check's, so the doubt stays.
                if op.creates_a_record() && !in_doubt && !e.may_have_taken_effect() {
                    if let Err(e) = self.queue.blocking(move |q| q.progress(seq, index)).await {
                        tracing::warn!(error = %e, "could not record that the operation was not carried out; the retry checks Zendesk first");
                    }
                }
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

    /// Bulk upserts for the pending identify groups; on 403 each is sent
    /// singly. A user new to Zendesk joins the organization their group call
    /// names in the same pass (the organizations go first, in one bulk job;
    /// the memberships after the users, in another, added to any the user
    /// has); users Zendesk already has keep the group call's membership call.
    /// Returns the users whose identify waits for a retry.
    async fn flush_bulk(&self, pending: Vec<(usize, Work)>, next_organizations: &HashMap<usize, (Organization, bool)>) -> HashSet<String> {
        let mut retried = HashSet::new();
        let groups: Vec<(Vec<QueuedEvent>, User, UserMatch, bool, Option<&(Organization, bool)>)> = pending
            .into_iter()
            .filter_map(|(index, w)| match w {
                Work::Identify { events, user, match_on, create_missing_fields } => {
                    let absent = match_on.external_id.as_deref().is_some_and(|e| self.executor.user_absent(e));
                    let organization = next_organizations.get(&index).filter(|_| absent);
                    Some((events, user, match_on, create_missing_fields, organization))
                }
                Work::Event { .. } => None,
            })
            .collect();
        if groups.is_empty() {
            return retried;
        }
        let wanted: HashMap<&str, (Organization, bool)> =
            groups.iter().filter_map(|g| g.4).map(|(o, create)| (o.external_id.as_str(), (o.clone(), *create))).collect();
        let organizations_written = wanted.is_empty()
            || matches!(self.executor.upsert_organizations_bulk(&wanted.into_values().collect::<Vec<_>>()).await, Ok(Some(_)));
        let placement = |next: Option<&(Organization, bool)>| {
            next.filter(|_| organizations_written).and_then(|(o, _)| self.executor.organization_known(&o.external_id))
        };
        let per_call = crate::executor::BULK_CHUNK * crate::executor::MAX_JOBS_IN_FLIGHT;
        let mut rest = groups;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(per_call));
            let chunk = std::mem::replace(&mut rest, tail);
            let users: Vec<(User, bool, Option<i64>)> =
                chunk.iter().map(|(_, u, _, create, organization)| (u.clone(), *create, placement(*organization))).collect();
            match self.executor.upsert_users_bulk(&users).await {
                Ok(Some(results)) => {
                    // One queue transaction for all the users written, not one each.
                    let mut delivered = Vec::new();
                    for ((events, ..), result) in chunk.into_iter().zip(results) {
                        match result {
                            BulkResult::Done => delivered.extend(events),
                            BulkResult::Failed(reason) => {
                                self.record(&events, Delivery::Final(reason)).await;
                            }
                        }
                    }
                    self.record(&delivered, Delivery::Done).await;
                }
                Ok(None) => {
                    for (events, user, match_on, create_missing_fields, next) in chunk {
                        let organization = match next {
                            Some(next) if !organizations_written => self.organization_for_new_user(&match_on, next).await,
                            _ => placement(next),
                        };
                        let work = Work::Identify { events, user, match_on, create_missing_fields };
                        let keys = work.ordering_keys();
                        if self.perform(work, organization).await {
                            retried.extend(keys);
                        }
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
                        if self.record(&events, outcome).await {
                            retried.extend(events.iter().flat_map(QueuedEvent::ordering_keys).map(str::to_owned));
                        }
                    }
                }
            }
        }
        retried
    }

    /// Records what became of the events; returns whether any of them waits
    /// for a retry (one that ran out of attempts is dead-lettered instead).
    async fn record(&self, events: &[QueuedEvent], outcome: Delivery) -> bool {
        let mut waits = false;
        if events.is_empty() {
            return waits;
        }
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
                    waits = true;
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
        waits
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

/// For each identify (by position) whose user's next piece of work is a
/// group call not started yet: the organization that call writes and joins.
fn organizations_named_next(work: &[Work]) -> HashMap<usize, (Organization, bool)> {
    let user_of = |item: &Work| match item {
        Work::Event { event, .. } => event.user_key.clone(),
        Work::Identify { events, .. } => events.first().map(|e| e.user_key.clone()).unwrap_or_default(),
    };
    let mut named = HashMap::new();
    for (index, item) in work.iter().enumerate() {
        if !matches!(item, Work::Identify { .. }) {
            continue;
        }
        let user = user_of(item);
        let next = work[index + 1..].iter().find(|later| user_of(later) == user);
        if let Some(Work::Event { event, ops }) = next {
            if let [Op::Zendesk(ZendeskOp::UpsertOrganization { organization, create_missing_fields }), Op::Zendesk(ZendeskOp::AddOrganizationMembership { organization: OrganizationRef::ExternalId(member_of), .. })] =
                ops.as_slice()
            {
                if event.ops_done == 0 && *member_of == organization.external_id {
                    named.insert(index, (organization.clone(), *create_missing_fields));
                }
            }
        }
    }
    named
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
