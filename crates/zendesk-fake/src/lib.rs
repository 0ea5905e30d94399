//! A fake Zendesk Support API.
//!
//! Zendesk cannot be reached from the machines this project is built and
//! tested on, so this crate models the documented behaviour of every endpoint
//! the proxy uses, with Zendesk's response and error shapes and its matching
//! rules. Its fidelity decides whether the end-to-end tests mean anything, so
//! every rule here cites the behaviour it models.
//!
//! What it serves (each path also with `.json`, as Zendesk does), module by module:
//!
//! ```text
//! users          POST users, users/create_or_update, GET users, users/search, users/show_many,
//!                GET|PUT users/{id}, GET users/{id}/identities,
//!                PUT users/{id}/identities/{id}/make_primary
//! organizations  POST organizations/create_or_update, GET organizations, organizations/search,
//!                GET organizations/{id}
//! memberships    POST organization_memberships, DELETE users/{id}/organizations/{org},
//!                GET users/{id}/organization_memberships
//! fields         GET|POST user_fields, organization_fields
//! bulk           POST users|organizations/create_or_update_many, organization_memberships/create_many,
//!                GET job_statuses/{id}
//! tickets        POST|GET tickets, GET|PUT tickets/{id}, GET|PUT|POST|DELETE tickets/{id}/tags,
//!                GET users/{id}/tickets/requested
//! user_events    POST user_profiles/events, POST|GET users/{id}/events
//! incremental    GET incremental/{tickets,users}/cursor, incremental/{organizations,ticket_events},
//!                groups, satisfaction_ratings, activities
//! connect        POST /v2/identify, /v2/track (+ /batch), X-Outbound-Key
//! control        POST /__fake/faults, GET /__fake/requests, GET /__fake/connect/{users/{id},events}
//! traffic        rate limits, forced failures, latency, lost answers, the request log
//! ```

mod auth;
mod bulk;
mod connect;
mod control;
mod error;
mod fields;
mod generate;
mod history;
mod incremental;
mod memberships;
mod organizations;
mod routes;
mod store;
mod tickets;
mod traffic;
mod user_events;
mod users;

use std::sync::{Arc, Mutex};

use axum::Router;

pub use auth::Credentials;
pub use generate::{AccountSpec, GeneratedAccount};
pub use traffic::SeenRequest;
pub use store::{now, Store};

/// Shared state behind every handler.
#[derive(Clone)]
pub struct FakeZendesk {
    store: Arc<Mutex<Store>>,
    credentials: Arc<Credentials>,
    traffic: Arc<Mutex<traffic::Traffic>>,
    /// When the fake started: request times are reported relative to it.
    started: std::time::Instant,
}

impl FakeZendesk {
    pub fn new(credentials: Credentials) -> FakeZendesk {
        FakeZendesk {
            store: Arc::new(Mutex::new(Store::default())),
            credentials: Arc::new(credentials),
            traffic: Arc::default(),
            started: std::time::Instant::now(),
        }
    }

    /// The demo account: subdomain `demo`, agent `agent@example.com`, API
    /// token `demo-token`, OAuth token `demo-oauth-token` (an admin's; `demo-agent-oauth-token` is a
    /// non-admin agent's).
    pub fn demo() -> FakeZendesk {
        FakeZendesk::new(Credentials::demo())
    }

    /// The HTTP API.
    pub fn router(&self) -> Router {
        routes::router(self.clone())
    }

    /// Runs `f` with the store locked (a poisoned lock still holds valid data:
    /// every mutation completes before it can panic).
    pub(crate) fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let mut guard = self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }

    /// Runs `f` with the sync endpoints' throttle and request log locked.
    pub(crate) fn with_traffic<T>(&self, f: impl FnOnce(&mut traffic::Traffic) -> T) -> T {
        let mut guard = self.traffic.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}
