//! Event + settings → per-destination operations or a skip reason.

use serde::Serialize;

use crate::event::{Event, EventType};
use crate::settings::{Settings, ZendeskSettings};
use crate::value::{Map, Value};
use crate::zendesk::{User, UserMatch, ZendeskOp};

/// What the core decided for one destination.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome<Op> {
    /// The destination is not configured.
    Disabled,
    /// Perform these operations, in order.
    Operations { operations: Vec<Op> },
    /// Nothing to send, and why.
    Skipped(Skip),
}

impl<Op> Outcome<Op> {
    pub fn operations(&self) -> &[Op] {
        match self {
            Outcome::Operations { operations } => operations,
            _ => &[],
        }
    }
}

/// A typed reason for not sending an event to a destination, with a sentence
/// a developer understands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skip {
    pub code: SkipCode,
    pub message: String,
}

/// The kinds of skip, stable for programs to match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipCode {
    /// `integrations` turned the destination off for this event.
    TurnedOffByIntegrations,
    /// The destination has no mapping for this call type.
    UnsupportedCall,
    /// Identify without an email.
    MissingEmail,
    /// Identify without a name.
    MissingName,
}

/// The mapping of one event to every destination.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mapping {
    pub zendesk: Outcome<ZendeskOp>,
}

impl Mapping {
    /// True when no destination has anything to do: the SDK does not send
    /// such an event at all.
    pub fn is_empty(&self) -> bool {
        self.zendesk.operations().is_empty()
    }
}

/// The name Segment's `integrations` object uses for the Zendesk destination.
pub const ZENDESK: &str = "Zendesk";

/// Maps one event for every destination.
pub fn map_event(event: &Event, settings: &Settings) -> Mapping {
    let zendesk = match &settings.zendesk {
        None => Outcome::Disabled,
        Some(_) if !integration_enabled(&event.integrations, ZENDESK) => Outcome::Skipped(Skip {
            code: SkipCode::TurnedOffByIntegrations,
            message: format!(
                "{} not sent to Zendesk: integrations turned Zendesk off for this event",
                event.kind.as_str()
            ),
        }),
        Some(zendesk) => into_outcome(map_zendesk(event, zendesk)),
    };
    Mapping { zendesk }
}

fn into_outcome<Op>(result: Result<Vec<Op>, Skip>) -> Outcome<Op> {
    match result {
        Ok(operations) => Outcome::Operations { operations },
        Err(skip) => Outcome::Skipped(skip),
    }
}

/// Segment semantics: a destination's own key wins; otherwise `All` decides;
/// absent both, destinations are on.
fn integration_enabled(integrations: &Map, destination: &str) -> bool {
    let flag = |v: &Value| !matches!(v, Value::Bool(false));
    match integrations.get(destination) {
        Some(v) => flag(v),
        None => integrations.get("All").is_none_or(flag),
    }
}

fn map_zendesk(event: &Event, settings: &ZendeskSettings) -> Result<Vec<ZendeskOp>, Skip> {
    match event.kind {
        EventType::Identify => identify_user(event, settings).map(|op| vec![op]),
        other => Err(Skip {
            code: SkipCode::UnsupportedCall,
            message: format!("{} calls are not sent to Zendesk", other.as_str()),
        }),
    }
}

/// Traits that map to a standard Zendesk user field (or are structural) and so
/// never become custom `user_fields`.
const STANDARD_USER_TRAITS: &[&str] = &[
    "email", "name", "firstName", "first_name", "lastName", "last_name", "phone",
    "timezone", "organizationId", "userId", "id", "company",
];

fn identify_user(event: &Event, settings: &ZendeskSettings) -> Result<ZendeskOp, Skip> {
    let email = event
        .trait_str(&["email"])
        .map(str::to_owned)
        .or_else(|| event.user_id.clone().filter(|id| looks_like_email(id)))
        .ok_or_else(|| Skip {
            code: SkipCode::MissingEmail,
            message: "identify not sent to Zendesk: traits.email is missing — Zendesk matches users by email".into(),
        })?;
    let name = full_name(event).ok_or_else(|| Skip {
        code: SkipCode::MissingName,
        message: "identify not sent to Zendesk: Zendesk requires a name — set traits.name, or traits.firstName and traits.lastName".into(),
    })?;
    let user_fields = event
        .traits
        .iter()
        .filter(|(k, v)| !STANDARD_USER_TRAITS.contains(&k.as_str()) && !matches!(v, Value::Object(_)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(ZendeskOp::UpsertUser {
        match_on: UserMatch {
            email: Some(email.clone()),
            external_id: event.user_id.clone(),
        },
        user: User {
            name,
            email: Some(email),
            external_id: event.user_id.clone(),
            phone: event.trait_str(&["phone"]).map(str::to_owned),
            time_zone: None,
            verified: Some(settings.create_users_as_verified),
            skip_verify_email: settings.skip_verify_email.then_some(true),
            user_fields,
        },
    })
}

/// `traits.name`, else first and last name joined.
fn full_name(event: &Event) -> Option<String> {
    if let Some(name) = event.trait_str(&["name"]) {
        return Some(name.to_owned());
    }
    let first = event.trait_str(&["firstName", "first_name"]);
    let last = event.trait_str(&["lastName", "last_name"]);
    match (first, last) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(one), None) | (None, Some(one)) => Some(one.to_owned()),
        (None, None) => None,
    }
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace),
        None => false,
    }
}
