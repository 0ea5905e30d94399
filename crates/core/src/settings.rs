//! Destination settings: the non-secret part the mapping depends on.
//!
//! Credentials are not here: they live in the proxy's configuration and never
//! reach the core's callers in the browser. Every setting that the product
//! documents say "cannot be overridden per request" is only ever read from
//! here, never from the event.

use serde::{Deserialize, Serialize};

/// Settings of every destination, as the proxy serves them to the SDK.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// The Zendesk Support destination; `None` = off.
    pub zendesk: Option<ZendeskSettings>,
}

/// The Zendesk Support destination.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ZendeskSettings {
    /// `{subdomain}.zendesk.com`.
    pub subdomain: String,
    /// Passes `verified: true|false` on every user upsert.
    pub create_users_as_verified: bool,
    /// Passes `skip_verify_email: true` so Zendesk sends no verification email.
    pub skip_verify_email: bool,
}
