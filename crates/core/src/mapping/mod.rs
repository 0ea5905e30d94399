//! Event + settings → per-destination operations or a skip reason.

mod alias;
mod connect;
mod fields;
mod group;
mod identify;
mod person;
mod read;
mod ticket;
mod time;
mod timezone;
mod track;

use serde::Serialize;

use crate::connect::ConnectOp;
use crate::event::{Event, EventType};
use crate::settings::{Settings, ZendeskSettings};
use crate::text::Piece::Text;
use crate::text::sentence;
use crate::value::{Map, Value};
use crate::zendesk::ZendeskOp;

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

impl Skip {
    pub(crate) fn new(code: SkipCode, message: impl Into<String>) -> Skip {
        Skip { code, message: message.into() }
    }
}

/// The kinds of skip, stable for programs to match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SkipCode {
    /// `integrations` turned the destination off for this event.
    TurnedOffByIntegrations,
    /// The destination has no mapping for this call type.
    UnsupportedCall,
    /// Identify without an email.
    MissingEmail,
    /// Identify with a traits.email that is not an email address.
    InvalidEmail,
    /// Identify without a name.
    MissingName,
    /// A call that needs a userId has none.
    MissingUserId,
    /// The track event is not in the `events` allow-list.
    EventNotAllowed,
    /// The userId is longer than Zendesk accepts as an external_id.
    UserIdTooLong,
    /// "Ticket Updated" without a ticket id.
    MissingTicketId,
    /// "Ticket Created" without a description.
    MissingTicketDescription,
    /// "Ticket Created" without a requester.
    MissingRequester,
    /// "Ticket Updated" with nothing to change.
    NothingToUpdate,
    /// Alias without a previousId.
    MissingPreviousId,
}

/// Something left out of an operation that was still sent: the event is
/// delivered, but a developer should know (shown in debug mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub code: WarningCode,
    pub message: String,
}

/// The kinds of warning, stable for programs to match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarningCode {
    /// A time zone neither IANA nor Zendesk knows was left out.
    UnknownTimezone,
    /// A trait key was rewritten into a valid Zendesk field key.
    FieldKeyRenamed,
    /// A trait key that cannot be a Zendesk field key was left out.
    InvalidFieldKey,
    /// A nested object trait was left out: custom fields hold scalars.
    NestedTraitIgnored,
    /// A value of the wrong type or outside Zendesk's choices was left out.
    InvalidValue,
    /// `traits.company.remove` while removeUsersFromOrganizations is off.
    MembershipRemovalOff,
    /// A trait tried to override a setting (such as `verified`).
    SettingNotOverridable,
}

/// Where the mapping's warnings are collected.
pub(crate) type Warnings = Vec<Warning>;

pub(crate) fn warn(warnings: &mut Warnings, code: WarningCode, message: impl Into<String>) {
    warnings.push(Warning { code, message: message.into() });
}

/// The mapping of one event to every destination.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mapping {
    pub zendesk: Outcome<ZendeskOp>,
    pub connect: Outcome<ConnectOp>,
    /// What was left out of the operations above, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

impl Mapping {
    /// True when no destination has anything to do: the SDK does not send
    /// such an event at all.
    pub fn is_empty(&self) -> bool {
        self.zendesk.operations().is_empty() && self.connect.operations().is_empty()
    }
}

/// The name Segment's `integrations` object uses for the Zendesk destination.
pub const ZENDESK: &str = "Zendesk";
/// The name Segment's `integrations` object uses for the Zendesk Connect destination.
pub const ZENDESK_CONNECT: &str = "Zendesk Connect";

/// Maps one event for every destination.
pub fn map_event(event: &Event, settings: &Settings) -> Mapping {
    let mut warnings = Warnings::new();
    let zendesk = destination(event, ZENDESK, settings.zendesk.as_ref(), &mut warnings, |s, w| map_zendesk(event, s, w));
    // Connect needs nothing from its settings but their presence: the keys
    // stay in the proxy.
    let connect = destination(event, ZENDESK_CONNECT, settings.connect.as_ref(), &mut warnings, |_, w| connect::map(event, w));
    Mapping { zendesk, connect, warnings }
}

/// Disabled when unconfigured, skipped when `integrations` turns it off,
/// otherwise whatever the destination's mapping decides.
/// Warnings describe what was left out of operations that are sent, so a
/// skipped destination keeps none.
fn destination<S, Op>(
    event: &Event,
    name: &str,
    settings: Option<&S>,
    warnings: &mut Warnings,
    map: impl FnOnce(&S, &mut Warnings) -> Result<Vec<Op>, Skip>,
) -> Outcome<Op> {
    let Some(settings) = settings else { return Outcome::Disabled };
    if let Some(skip) = turned_off(event, name) {
        return Outcome::Skipped(skip);
    }
    let before = warnings.len();
    match map(settings, warnings) {
        Ok(operations) => Outcome::Operations { operations },
        Err(skip) => {
            warnings.truncate(before);
            Outcome::Skipped(skip)
        }
    }
}

/// Why `integrations` keeps the event from `destination`, if it does. Apart
/// from the generic [`destination`]: one copy in the wasm for both.
fn turned_off(event: &Event, destination: &str) -> Option<Skip> {
    (!integration_enabled(&event.integrations, destination)).then(|| {
        Skip::new(
            SkipCode::TurnedOffByIntegrations,
            sentence("{} not sent to {}: integrations turned {} off for this event", &[Text(event.kind.as_str()), Text(destination), Text(destination)]),
        )
    })
}

/// Segment semantics: a destination's own key wins; otherwise `All` decides;
/// absent both, destinations are on. Only `false` turns a destination off
/// (an object holds destination options and means on).
fn integration_enabled(integrations: &Map, destination: &str) -> bool {
    let flag = |v: &Value| !matches!(v, Value::Bool(false));
    match integrations.get(destination) {
        Some(v) => flag(v),
        None => integrations.get("All").is_none_or(flag),
    }
}

fn map_zendesk(event: &Event, settings: &ZendeskSettings, warnings: &mut Warnings) -> Result<Vec<ZendeskOp>, Skip> {
    match event.kind {
        EventType::Identify => identify::zendesk(event, settings, warnings),
        EventType::Group => group::zendesk(event, settings, warnings),
        EventType::Track => track::zendesk(event, settings, warnings),
        EventType::Alias => alias::zendesk(event),
        EventType::Page | EventType::Screen => Err(unsupported(event.kind, ZENDESK, NO_PAGE_VIEWS)),
    }
}

/// Why page and screen views reach neither destination.
const NO_PAGE_VIEWS: &str = "it has no page-view API — send a track call for views it should receive";

fn unsupported(kind: EventType, destination: &str, why: &str) -> Skip {
    Skip::new(SkipCode::UnsupportedCall, sentence("{} calls are not sent to {}: {}", &[Text(kind.as_str()), Text(destination), Text(why)]))
}
