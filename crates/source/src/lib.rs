//! Zendesk Source: syncs Zendesk Support objects (tickets, users,
//! organizations, groups, ticket events, ticket metrics, satisfaction ratings,
//! activities, attachments) into a warehouse, one table per collection, so the
//! warehouse always shows each record's latest state.
//!
//! A run reads each collection from where the previous one stopped, commits
//! every page together with the position it reached, and stays inside
//! Zendesk's rate limits (see [`config::RateLimits`]).

pub mod client;
pub mod config;
pub mod limiter;
pub mod progress;
pub mod streams;
pub mod sync;
pub mod tables;
pub mod warehouse;

pub use config::{Auth, SyncConfig};
pub use sync::{run, Outcome, Summary};

/// Unix seconds.
pub type Timestamp = i64;

/// The local fake Zendesk the source talks to when given no Zendesk.
pub const DEMO_URL: &str = "http://127.0.0.1:4010";
/// The fake Zendesk's demo OAuth token.
pub const DEMO_TOKEN: &str = "demo-oauth-token";

/// Now, in Unix seconds.
pub fn now() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Unix seconds as ISO-8601 (UTC, whole seconds), the way Zendesk writes times.
pub fn iso(ts: Timestamp) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(ts.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}
