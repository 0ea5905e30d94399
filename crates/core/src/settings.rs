//! Destination settings: the non-secret part the mapping depends on.
//!
//! Credentials are not here: they live in the proxy's configuration and never
//! reach the core's callers in the browser. Every setting that the product
//! documents say "cannot be overridden per request" is only ever read from
//! here, never from the event.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::text::Piece::Text;
use crate::text::sentence;
use crate::value::{Map, Value};

/// Settings of every destination, as the proxy serves them to the SDK.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// The Zendesk Support destination; `None` = off.
    pub zendesk: Option<ZendeskSettings>,
    /// The legacy Zendesk Connect destination; `None` = off.
    pub connect: Option<ConnectSettings>,
}

/// The Zendesk Support destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ZendeskSettings {
    /// `{subdomain}.zendesk.com`.
    pub subdomain: String,
    /// The track allow-list. `None`: every event except "Ticket Created" and
    /// "Ticket Updated" (which open and change tickets, so they are opt-in);
    /// a list: only those names, `"*"` matching every event.
    pub events: Option<Vec<String>>,
    /// Passes `verified: true|false` on every user upsert.
    pub create_users_as_verified: bool,
    /// Passes `skip_verify_email: true` so Zendesk sends no verification email.
    pub skip_verify_email: bool,
    /// Group calls without a userId upsert the organization only (otherwise
    /// they are skipped, because group links the org to the calling user).
    pub send_group_calls_without_user_id: bool,
    /// `traits.company.remove: true` removes the membership (default on).
    pub remove_users_from_organizations: bool,
    /// Unknown custom field keys are created as text fields first (Segment's
    /// behaviour) instead of being dropped with a reason (Customer.io's).
    pub create_missing_custom_fields: bool,
    /// An identify with a known userId and a new email makes that email primary.
    pub update_primary_email: bool,
    /// The Events API `source` of track events.
    pub event_source: EventSource,
}

impl Default for ZendeskSettings {
    fn default() -> ZendeskSettings {
        ZendeskSettings {
            subdomain: String::new(),
            events: None,
            create_users_as_verified: false,
            skip_verify_email: false,
            send_group_calls_without_user_id: false,
            remove_users_from_organizations: true,
            create_missing_custom_fields: false,
            update_primary_email: false,
            event_source: EventSource::default(),
        }
    }
}

/// Why settings read by [`Settings::from_value`] are refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SettingsError {
    /// The setting named, and what it must be.
    WrongType(&'static str, &'static str),
    /// The eventSource setting is refused. Not a `#[from]` source: its
    /// sentence is this error's whole message, not a cause for error-chain
    /// printers (anyhow's `{:#}`) to repeat after it.
    EventSource(EventSourceError),
}

impl From<EventSourceError> for SettingsError {
    fn from(e: EventSourceError) -> Self {
        SettingsError::EventSource(e)
    }
}

impl SettingsError {
    /// The sentence the error displays as, built without a `Formatter`
    /// (see [`EventError::message`](crate::EventError::message)).
    pub fn message(&self) -> String {
        match self {
            SettingsError::WrongType(name, expected) => sentence("the setting {} must be {}", &[Text(name), Text(expected)]),
            SettingsError::EventSource(e) => e.message(),
        }
    }
}

/// Written piece by piece rather than by `#[error("…{0}")]`: keeps core::fmt
/// out of the browser build.
impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl Settings {
    /// Reads settings from JSON as their serde `Deserialize` does (camelCase
    /// names, defaults for what is missing, `null` for an absent destination),
    /// without serde: the browser SDK uses this to keep serde out of its wasm.
    pub fn from_value(value: &Value) -> Result<Settings, SettingsError> {
        let fields = Fields::of(value, "integrations")?;
        let mut settings = Settings::default();
        if let Some(zendesk) = fields.object("zendesk")? {
            settings.zendesk.insert(ZendeskSettings::default()).read(zendesk)?;
        }
        if let Some(connect) = fields.object("connect")? {
            settings.connect = Some(ConnectSettings { public_key: connect.string("publicKey")?.unwrap_or_default().to_owned() });
        }
        Ok(settings)
    }
}

impl ZendeskSettings {
    /// Overwrites the defaults (already in place in the [`Settings`]) member
    /// by member: an error drops the settings whole instead of each partly
    /// read field, and no settings move out through a `Result` (smaller wasm).
    fn read(&mut self, fields: Fields<'_>) -> Result<(), SettingsError> {
        if let Some(subdomain) = fields.string("subdomain")? {
            self.subdomain = subdomain.to_owned();
        }
        self.events = fields.strings("events")?;
        // Borrowed: an array iterated by value brings its own iterator into the wasm.
        for (name, flag) in &FLAGS {
            if let Some(value) = fields.bool(name)? {
                *flag(self) = value;
            }
        }
        if let Some(source) = fields.string("eventSource")? {
            self.event_source = EventSource::parse(source)?;
        }
        Ok(())
    }
}

/// The flag settings and the field each sets: a static table, where pairs of
/// names and borrowed fields would be built on every read.
type Flag = (&'static str, fn(&mut ZendeskSettings) -> &mut bool);
const FLAGS: [Flag; 6] = [
    ("createUsersAsVerified", |s| &mut s.create_users_as_verified),
    ("skipVerifyEmail", |s| &mut s.skip_verify_email),
    ("sendGroupCallsWithoutUserId", |s| &mut s.send_group_calls_without_user_id),
    ("removeUsersFromOrganizations", |s| &mut s.remove_users_from_organizations),
    ("createMissingCustomFields", |s| &mut s.create_missing_custom_fields),
    ("updatePrimaryEmail", |s| &mut s.update_primary_email),
];

/// The members of a settings object, read with serde's rules: a missing
/// member is absent, a `null` one is absent only where the field is optional.
#[derive(Clone, Copy)]
struct Fields<'a>(&'a Map);

impl<'a> Fields<'a> {
    fn of(value: &'a Value, name: &'static str) -> Result<Fields<'a>, SettingsError> {
        value.as_object().map(Fields).ok_or(SettingsError::WrongType(name, "an object"))
    }

    fn object(self, name: &'static str) -> Result<Option<Fields<'a>>, SettingsError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => Fields::of(value, name).map(Some),
        }
    }

    fn string(self, name: &'static str) -> Result<Option<&'a str>, SettingsError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(SettingsError::WrongType(name, "a string")),
        }
    }

    fn bool(self, name: &'static str) -> Result<Option<bool>, SettingsError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(SettingsError::WrongType(name, "true or false")),
        }
    }

    fn strings(self, name: &'static str) -> Result<Option<Vec<String>>, SettingsError> {
        let wrong = || SettingsError::WrongType(name, "a list of strings");
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => {
                let mut strings = Vec::new();
                for item in items {
                    strings.push(item.as_str().ok_or_else(wrong)?.to_owned());
                }
                Ok(Some(strings))
            }
            Some(_) => Err(wrong()),
        }
    }
}

/// The events that open or change tickets instead of becoming user events.
pub const TICKET_CREATED: &str = "Ticket Created";
/// See [`TICKET_CREATED`].
pub const TICKET_UPDATED: &str = "Ticket Updated";

impl ZendeskSettings {
    /// Whether a track event of this name passes the `events` allow-list.
    pub fn allows_event(&self, name: &str) -> bool {
        match &self.events {
            None => name != TICKET_CREATED && name != TICKET_UPDATED,
            Some(list) => list.iter().any(|e| e == "*" || e == name),
        }
    }
}

/// The legacy Zendesk Connect destination. Only the public key is here: the
/// private key (`X-Outbound-Key`) stays in the proxy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConnectSettings {
    pub public_key: String,
}

/// An Events API source name, checked when the settings are read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventSource(String);

/// Why an `eventSource` setting is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EventSourceError {
    Empty,
    /// Holds the name as it was set.
    Reserved(String),
}

impl EventSourceError {
    /// The sentence the error displays as, built without a `Formatter`
    /// (see [`EventError::message`](crate::EventError::message)).
    pub fn message(&self) -> String {
        match self {
            EventSourceError::Empty => "eventSource must not be empty; leave it out to use \"zendesk-analytics\"".to_owned(),
            EventSourceError::Reserved(name) => sentence(
                "eventSource \"{}\" is reserved by Zendesk for its own events; choose another name, such as \"zendesk-analytics\"",
                &[Text(name)],
            ),
        }
    }
}

/// Written piece by piece, as [`SettingsError`] is.
impl fmt::Display for EventSourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl EventSource {
    pub const DEFAULT: &'static str = "zendesk-analytics";

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks a name as set: trimmed, neither empty nor Zendesk's own.
    pub fn parse(s: &str) -> Result<EventSource, EventSourceError> {
        let trimmed = s.trim();
        if trimmed.is_empty() {
            Err(EventSourceError::Empty)
        } else if trimmed.eq_ignore_ascii_case("zendesk") {
            Err(EventSourceError::Reserved(s.to_owned()))
        } else {
            Ok(EventSource(trimmed.to_owned()))
        }
    }
}

impl Default for EventSource {
    fn default() -> EventSource {
        EventSource(EventSource::DEFAULT.to_owned())
    }
}

impl TryFrom<String> for EventSource {
    type Error = EventSourceError;

    fn try_from(s: String) -> Result<EventSource, EventSourceError> {
        EventSource::parse(&s)
    }
}

impl From<EventSource> for String {
    fn from(source: EventSource) -> String {
        source.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zendesk(json: &str) -> Result<ZendeskSettings, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn defaults_follow_the_documents() {
        let s = zendesk("{}").unwrap();
        assert!(s.remove_users_from_organizations);
        assert!(!s.create_missing_custom_fields && !s.send_group_calls_without_user_id && !s.update_primary_email);
        assert_eq!(s.event_source.as_str(), "zendesk-analytics");
        assert!(s.allows_event("Article Read"));
        assert!(!s.allows_event(TICKET_CREATED) && !s.allows_event(TICKET_UPDATED));
    }

    #[test]
    fn the_events_list_is_an_allow_list_with_a_wildcard() {
        let listed = zendesk(r#"{"events": ["Ticket Created"]}"#).unwrap();
        assert!(listed.allows_event(TICKET_CREATED) && !listed.allows_event("Article Read"));
        let all = zendesk(r#"{"events": ["*"]}"#).unwrap();
        assert!(all.allows_event(TICKET_UPDATED) && all.allows_event("Article Read"));
    }

    #[test]
    fn the_reserved_event_source_is_refused_with_what_to_do() {
        let err = zendesk(r#"{"eventSource": "Zendesk"}"#).unwrap_err().to_string();
        assert!(err.contains("reserved by Zendesk") && err.contains("choose another name"), "{err}");
        assert!(zendesk(r#"{"eventSource": "  "}"#).unwrap_err().to_string().contains("must not be empty"));
        assert_eq!(zendesk(r#"{"eventSource": " acme "}"#).unwrap().event_source.as_str(), "acme");
    }

    #[test]
    fn settings_round_trip_as_the_proxy_serves_them() {
        let s: Settings = serde_json::from_str(r#"{"zendesk": {"subdomain": "demo", "eventSource": "acme"}, "connect": {"publicKey": "pk"}}"#).unwrap();
        let again: Settings = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(s, again);
    }
}
