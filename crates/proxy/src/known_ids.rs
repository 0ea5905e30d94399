//! What the proxy has already learned from Zendesk's answers: the ids of
//! users and organizations by external_id, the external ids Zendesk has just
//! said it holds no user for, and the organizations it has just written. Each hit saves a search or a repeated write — requests that count
//! against the account's per-minute limit, shared with every other app.
//!
//! Only answers are remembered, never guesses; an operation that fails with
//! a remembered id forgets it, so the retry searches again (the record may
//! have been deleted or merged in Zendesk).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Beyond this many entries per map, it starts over (bounded memory).
const MAX_ENTRIES: usize = 100_000;
/// An organization written with exactly the same fields this recently is
/// not written again (a group call per page view must not cost a request each).
const SAME_ORGANIZATION_FOR: Duration = Duration::from_secs(60);
/// How long "Zendesk has no user with this external_id" is trusted: long
/// enough for the delivery pass that asked, short enough that a user created
/// meanwhile by an agent or another app is soon seen.
const ABSENT_USER_FOR: Duration = Duration::from_secs(60);
/// How long a membership made with a user's creation is trusted: long enough
/// for the group call that named it (same pass), short enough that one an
/// agent removed meanwhile is soon added again by the next group call.
const MEMBERSHIP_FOR: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct KnownIds {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    users: HashMap<String, i64>,
    absent_users: HashMap<String, Instant>,
    organizations: HashMap<String, i64>,
    written_organizations: HashMap<String, Instant>,
    /// (user id, organization id) memberships the proxy made, and when.
    memberships: HashMap<(i64, i64), Instant>,
}

/// Zendesk matches external ids case-insensitively.
fn key(external_id: &str) -> String {
    external_id.to_lowercase()
}

fn insert<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, key: K, value: V) {
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(key, value);
}

impl KnownIds {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn user(&self, external_id: &str) -> Option<i64> {
        self.lock().users.get(&key(external_id)).copied()
    }

    pub fn learn_user(&self, external_id: &str, id: i64) {
        let mut inner = self.lock();
        inner.absent_users.remove(&key(external_id));
        insert(&mut inner.users, key(external_id), id);
    }

    /// Zendesk answered that no user has this external_id.
    pub fn learn_absent_user(&self, external_id: &str) {
        insert(&mut self.lock().absent_users, key(external_id), Instant::now());
    }

    /// Whether Zendesk said moments ago that no user has this external_id.
    pub fn user_absent(&self, external_id: &str) -> bool {
        self.lock().absent_users.get(&key(external_id)).is_some_and(|at| at.elapsed() < ABSENT_USER_FOR)
    }

    pub fn forget_user(&self, external_id: &str) {
        let mut inner = self.lock();
        inner.users.remove(&key(external_id));
        inner.absent_users.remove(&key(external_id));
    }

    pub fn organization(&self, external_id: &str) -> Option<i64> {
        self.lock().organizations.get(&key(external_id)).copied()
    }

    pub fn learn_organization(&self, external_id: &str, id: i64) {
        insert(&mut self.lock().organizations, key(external_id), id);
    }

    pub fn forget_organization(&self, external_id: &str) {
        let mut inner = self.lock();
        inner.organizations.remove(&key(external_id));
        inner.written_organizations.clear();
    }

    /// A membership Zendesk made with the user (`organization_id` on creation).
    pub fn learn_membership(&self, user_id: i64, organization_id: i64) {
        insert(&mut self.lock().memberships, (user_id, organization_id), Instant::now());
    }

    /// Whether a membership was made moments ago (and not removed since).
    pub fn is_member(&self, user_id: i64, organization_id: i64) -> bool {
        self.lock().memberships.get(&(user_id, organization_id)).is_some_and(|at| at.elapsed() < MEMBERSHIP_FOR)
    }

    /// The membership was removed, or Zendesk no longer has it: the next
    /// group call for the organization must add it again.
    pub fn forget_membership(&self, user_id: i64, organization_id: i64) {
        self.lock().memberships.remove(&(user_id, organization_id));
    }

    /// Whether an organization with exactly these fields (as sent, single or
    /// bulk) was written moments ago.
    pub fn organization_just_written(&self, fields: &serde_json::Value) -> bool {
        self.lock().written_organizations.get(&fields.to_string()).is_some_and(|at| at.elapsed() < SAME_ORGANIZATION_FOR)
    }

    pub fn organization_written(&self, fields: &serde_json::Value) {
        insert(&mut self.lock().written_organizations, fields.to_string(), Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_matched_without_regard_to_case_and_forgotten_on_request() {
        let known = KnownIds::default();
        known.learn_user("User-1", 7);
        assert_eq!(known.user("user-1"), Some(7));
        known.forget_user("USER-1");
        assert_eq!(known.user("user-1"), None);
    }

    #[test]
    fn an_absent_user_stops_being_absent_once_learned() {
        let known = KnownIds::default();
        known.learn_absent_user("User-2");
        assert!(known.user_absent("user-2"));
        known.learn_user("USER-2", 9);
        assert!(!known.user_absent("user-2"));
    }

    #[test]
    fn the_same_organization_body_is_written_once_a_minute() {
        let known = KnownIds::default();
        let acme = serde_json::json!({"name": "Acme"});
        assert!(!known.organization_just_written(&acme));
        known.organization_written(&acme);
        assert!(known.organization_just_written(&acme));
        assert!(!known.organization_just_written(&serde_json::json!({"name": "Acme Inc"})));
    }
}
