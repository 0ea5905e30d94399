//! Typed Zendesk Connect (Outbound) operations.
//!
//! Zendesk retired Connect in 2021; it stays a complete legacy destination,
//! off unless configured. The wire format is Outbound's `/v2/identify` and
//! `/v2/track` (snake_case JSON, `X-Outbound-Key`); the private key lives in
//! the proxy only.

use serde::Serialize;

use crate::value::Map;

/// One call against the Connect API.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConnectOp {
    /// `POST /v2/identify` (also used by alias, with `previous_id`).
    Identify(ConnectUser),
    /// `POST /v2/track`.
    Track {
        user_id: String,
        event: String,
        #[serde(skip_serializing_if = "Map::is_empty")]
        properties: Map,
        /// Unix seconds, as Connect expects.
        #[serde(skip_serializing_if = "Option::is_none")]
        timestamp: Option<i64>,
    },
}

/// The body of a Connect identify.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConnectUser {
    pub user_id: String,
    /// Alias: the id this user was known by before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// An IANA (Olson) name: Connect accepts nothing else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub attributes: Map,
    /// iOS push tokens (`context.device.type` = ios).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub apns: Vec<String>,
    /// Android push tokens (`context.device.type` = android); sent as Outbound's `gcm`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fcm: Vec<String>,
}
