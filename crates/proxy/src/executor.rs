//! The executor: performs the core's typed operations against Zendesk with
//! the semantics the product documents require (ambiguous email matches are
//! never updated, custom fields are checked against a cached field list, a new
//! email can be made primary, bulk import when Zendesk enabled it).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value as Json};
use thiserror::Error;
use tokio::sync::Mutex;
use zendesk_analytics_core::zendesk::{User, UserMatch};
use zendesk_analytics_core::ZendeskOp;

use crate::config::DeliveryConfig;
use crate::zendesk::{ApiClient, ZendeskError};

/// Why an operation did not complete.
#[derive(Debug, Error)]
pub enum OpError {
    #[error(transparent)]
    Zendesk(#[from] ZendeskError),
    /// Not sent, on purpose, and final: the sentence says why and what to do.
    #[error("{0}")]
    Refused(String),
}

impl OpError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, OpError::Zendesk(e) if e.is_retryable())
    }
}

/// How long the custom field list is trusted (Zendesk asks clients to cache it).
const FIELD_CACHE_TTL: Duration = Duration::from_secs(300);
/// `create_or_update_many` takes at most 100 users per job.
pub const BULK_CHUNK: usize = 100;
/// Zendesk queues at most 30 jobs per account.
pub const MAX_JOBS_IN_FLIGHT: usize = 30;

pub struct Executor {
    zendesk: ApiClient,
    delivery: DeliveryConfig,
    user_fields: Mutex<Option<(Instant, BTreeSet<String>)>>,
    /// Cleared on the first 403 from a bulk endpoint: the account does not
    /// have bulk import, and single calls are used from then on.
    bulk_available: AtomicBool,
}

/// What became of one user in a bulk job.
#[derive(Debug)]
pub enum BulkResult {
    Done,
    Failed(String),
}

impl Executor {
    pub fn new(zendesk: ApiClient, delivery: DeliveryConfig) -> Executor {
        let bulk = delivery.bulk_import;
        Executor { zendesk, delivery, user_fields: Mutex::new(None), bulk_available: AtomicBool::new(bulk) }
    }

    pub fn bulk_enabled(&self) -> bool {
        self.bulk_available.load(Ordering::Relaxed)
    }

    /// Performs one Zendesk operation.
    pub async fn zendesk(&self, op: &ZendeskOp) -> Result<(), OpError> {
        match op {
            ZendeskOp::UpsertUser { user, match_on, .. } => self.upsert_user(user, match_on).await,
            // The core may grow operations before this executor performs them;
            // such an event is dead-lettered with the reason, never dropped.
            other => Err(OpError::Zendesk(ZendeskError::Unsupported(format!("{other:?}")))),
        }
    }

    /// Search first: when more than one user matches, Zendesk's
    /// create_or_update would pick one arbitrarily, so nothing is sent.
    pub async fn upsert_user(&self, user: &User, match_on: &UserMatch) -> Result<(), OpError> {
        if let Some(email) = &match_on.email {
            let path = format!("/api/v2/users/search.json?query={}", encode(&format!("email:\"{email}\"")));
            let found = self.zendesk.call(Method::GET, "users/search", &path, None, None).await?;
            let users = found.body.get("users").and_then(Json::as_array).map_or(0, Vec::len);
            if users > 1 {
                return Err(OpError::Refused(format!(
                    "{users} Zendesk users match email {email}; no update was sent so the wrong profile is not changed — merge them in Zendesk, then replay this event"
                )));
            }
        }
        let body = json!({ "user": self.writable_user(user).await? });
        let answer = self.zendesk.call(Method::POST, "users/create_or_update", "/api/v2/users/create_or_update.json", Some(&body), None).await?;
        if self.delivery.make_new_email_primary {
            if let (Some(email), Some(stored)) = (&user.email, answer.body.get("user")) {
                self.make_primary(email, stored).await?;
            }
        }
        Ok(())
    }

    /// On an existing user, Zendesk adds a new email as a secondary identity;
    /// with `make_new_email_primary` it is promoted.
    async fn make_primary(&self, email: &str, stored: &Json) -> Result<(), OpError> {
        let primary = stored.get("email").and_then(Json::as_str).unwrap_or_default();
        let Some(user_id) = stored.get("id").and_then(Json::as_i64) else { return Ok(()) };
        if primary.eq_ignore_ascii_case(email) {
            return Ok(());
        }
        let path = format!("/api/v2/users/{user_id}/identities.json");
        let identities = self.zendesk.call(Method::GET, "users/identities", &path, None, None).await?;
        let identity = identities.body.get("identities").and_then(Json::as_array).and_then(|list| {
            list.iter().find(|i| {
                i.get("type").and_then(Json::as_str) == Some("email")
                    && i.get("value").and_then(Json::as_str).is_some_and(|v| v.eq_ignore_ascii_case(email))
            })
        });
        if let Some(id) = identity.and_then(|i| i.get("id")).and_then(Json::as_i64) {
            let path = format!("/api/v2/users/{user_id}/identities/{id}/make_primary.json");
            self.zendesk.call(Method::PUT, "users/identities/make_primary", &path, None, None).await?;
        }
        Ok(())
    }

    /// The user as sent: custom fields Zendesk does not have are created
    /// (when configured) or dropped with a logged reason — Zendesk would
    /// ignore them silently.
    async fn writable_user(&self, user: &User) -> Result<Json, OpError> {
        let mut body = serde_json::to_value(user).map_err(|e| ZendeskError::BadResponse(e.to_string()))?;
        if user.user_fields.is_empty() {
            return Ok(body);
        }
        let known = self.known_user_fields().await?;
        let mut kept = serde_json::Map::new();
        for (key, value) in &user.user_fields {
            if known.contains(key) {
                kept.insert(key.clone(), serde_json::to_value(value).unwrap_or(Json::Null));
            } else if self.delivery.create_missing_fields && self.create_user_field(key).await? {
                kept.insert(key.clone(), serde_json::to_value(value).unwrap_or(Json::Null));
            } else {
                tracing::warn!(field = %key, "custom user field does not exist in Zendesk; value dropped (set delivery.create_missing_fields = true to create it)");
            }
        }
        body["user_fields"] = Json::Object(kept);
        Ok(body)
    }

    async fn known_user_fields(&self) -> Result<BTreeSet<String>, OpError> {
        let mut cache = self.user_fields.lock().await;
        if let Some((at, keys)) = cache.as_ref() {
            if at.elapsed() < FIELD_CACHE_TTL {
                return Ok(keys.clone());
            }
        }
        let mut keys = BTreeSet::new();
        let mut path = "/api/v2/user_fields.json?page[size]=100".to_owned();
        loop {
            let page = self.zendesk.call(Method::GET, "user_fields", &path, None, None).await?;
            for field in page.body.get("user_fields").and_then(Json::as_array).into_iter().flatten() {
                if let Some(key) = field.get("key").and_then(Json::as_str) {
                    keys.insert(key.to_owned());
                }
            }
            let more = page.body.pointer("/meta/has_more").and_then(Json::as_bool).unwrap_or(false);
            let next = page.body.pointer("/links/next").and_then(Json::as_str).and_then(|u| u.find("/api/v2/").map(|i| u[i..].to_owned()));
            match next {
                Some(next) if more => path = next,
                _ => break,
            }
        }
        *cache = Some((Instant::now(), keys.clone()));
        Ok(keys)
    }

    /// Creates a text field named after its key. Returns whether it exists now.
    async fn create_user_field(&self, key: &str) -> Result<bool, OpError> {
        let body = json!({ "user_field": { "type": "text", "key": key, "title": key, "active": true } });
        match self.zendesk.call(Method::POST, "user_fields/create", "/api/v2/user_fields.json", Some(&body), None).await {
            Ok(_) => {
                if let Some((_, keys)) = self.user_fields.lock().await.as_mut() {
                    keys.insert(key.to_owned());
                }
                Ok(true)
            }
            // Zendesk refuses keys outside its rules; the value is dropped, not the event.
            Err(ZendeskError::Status { status: 422, message, .. }) => {
                tracing::warn!(field = %key, error = %message, "Zendesk refused to create the custom field; value dropped");
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `create_or_update_many` for up to [`MAX_JOBS_IN_FLIGHT`] × [`BULK_CHUNK`]
    /// users: submits the jobs, polls their status, returns one result per
    /// user. `Ok(None)`: this account has no bulk import (403); use single calls.
    pub async fn upsert_users_bulk(&self, users: &[User]) -> Result<Option<Vec<BulkResult>>, OpError> {
        let mut jobs = Vec::new();
        for chunk in users.chunks(BULK_CHUNK).take(MAX_JOBS_IN_FLIGHT) {
            let mut bodies = Vec::with_capacity(chunk.len());
            for user in chunk {
                bodies.push(self.writable_user(user).await?);
            }
            let body = json!({ "users": bodies });
            let answer = match self
                .zendesk
                .call(Method::POST, "users/create_or_update_many", "/api/v2/users/create_or_update_many.json", Some(&body), None)
                .await
            {
                Ok(answer) => answer,
                Err(ZendeskError::Status { status: 403, message, .. }) if jobs.is_empty() => {
                    tracing::warn!(error = %message, "bulk import is not enabled for this Zendesk account; using single calls");
                    self.bulk_available.store(false, Ordering::Relaxed);
                    return Ok(None);
                }
                Err(e) => return Err(e.into()),
            };
            let id = answer
                .body
                .pointer("/job_status/id")
                .and_then(|v| v.as_str().map(str::to_owned).or_else(|| v.as_i64().map(|i| i.to_string())))
                .ok_or_else(|| ZendeskError::BadResponse("no job_status.id in the create_or_update_many answer".into()))?;
            jobs.push((id, chunk.len()));
        }
        let mut results = Vec::with_capacity(users.len());
        for (id, size) in jobs {
            results.extend(self.await_job(&id, size).await?);
        }
        Ok(Some(results))
    }

    /// Polls `GET /api/v2/job_statuses/{id}` until the job is done.
    async fn await_job(&self, id: &str, size: usize) -> Result<Vec<BulkResult>, OpError> {
        let path = format!("/api/v2/job_statuses/{id}.json");
        let mut delay = Duration::from_millis(200);
        loop {
            let answer = self.zendesk.call(Method::GET, "job_statuses", &path, None, None).await?;
            let job = answer.body.get("job_status").cloned().unwrap_or(Json::Null);
            match job.get("status").and_then(Json::as_str) {
                Some("completed") => {
                    let mut out: Vec<BulkResult> = (0..size).map(|_| BulkResult::Done).collect();
                    for (position, item) in job.get("results").and_then(Json::as_array).into_iter().flatten().enumerate() {
                        let index = item.get("index").and_then(Json::as_u64).map_or(position, |i| i as usize);
                        let failed = item.get("error").or_else(|| item.get("errors")).filter(|e| !e.is_null());
                        if let (Some(error), Some(slot)) = (failed, out.get_mut(index)) {
                            let detail = item.get("details").and_then(Json::as_str).unwrap_or_default();
                            *slot = BulkResult::Failed(format!("bulk import: {} {detail}", error.as_str().map_or_else(|| error.to_string(), str::to_owned)).trim().to_owned());
                        }
                    }
                    return Ok(out);
                }
                Some("failed") | Some("killed") => {
                    let message = job.get("message").and_then(Json::as_str).unwrap_or("the bulk job failed");
                    return Err(ZendeskError::Status { status: 500, message: format!("job {id}: {message}"), retry_after: None }.into());
                }
                _ => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

/// Query-string encoding: a `+` in an email must not become a space (one of
/// the peers' lookup bugs).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Merges a later identify into an earlier one for the same user: every field
/// the later one sets wins, fields it leaves out keep the earlier value.
pub fn merge_user(into: &mut User, later: User) {
    into.name = later.name;
    macro_rules! later_wins {
        ($($field:ident),*) => { $( if later.$field.is_some() { into.$field = later.$field; } )* };
    }
    later_wins!(email, external_id, phone, time_zone, verified, skip_verify_email);
    into.user_fields.extend(later.user_fields);
}

#[cfg(test)]
mod tests {
    use super::*;
    use zendesk_analytics_core::Value;

    #[test]
    fn plus_signs_in_emails_survive_the_query_string() {
        assert_eq!(encode("email:\"a+b@x.io\""), "email%3A%22a%2Bb%40x.io%22");
    }

    #[test]
    fn the_later_identify_wins_per_field() {
        let mut first = User { name: "Ada".into(), phone: Some("1".into()), ..User::default() };
        first.user_fields.insert("plan".into(), Value::from("free"));
        first.user_fields.insert("age".into(), Value::from(36));
        let mut second = User { name: "Ada King".into(), email: Some("ada@x.io".into()), ..User::default() };
        second.user_fields.insert("plan".into(), Value::from("pro"));
        merge_user(&mut first, second);
        assert_eq!((first.name.as_str(), first.phone.as_deref(), first.email.as_deref()), ("Ada King", Some("1"), Some("ada@x.io")));
        assert_eq!(first.user_fields.get("plan"), Some(&Value::from("pro")));
        assert_eq!(first.user_fields.get("age"), Some(&Value::from(36)));
    }
}
