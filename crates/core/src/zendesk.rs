//! Typed Zendesk Support operations: what the proxy's executor performs.
//!
//! Each operation carries everything the executor needs, including the keys it
//! must match on, so that rules such as "if multiple users match the email, no
//! update is submitted" can be enforced where the Zendesk state is visible.

use serde::Serialize;

use crate::value::Map;

/// One call (or small, fixed sequence of calls) against the Zendesk Support API.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ZendeskOp {
    /// `POST /api/v2/users/create_or_update.json`, matched on email or external_id.
    UpsertUser {
        user: User,
        /// The keys the user is matched on; more than one match → no update.
        match_on: UserMatch,
    },
}

/// How a user is found in Zendesk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserMatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

/// The writable Zendesk user fields the mapping produces.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct User {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_verify_email: Option<bool>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub user_fields: Map,
}
