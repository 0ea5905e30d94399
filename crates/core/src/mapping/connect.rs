//! Events → Zendesk Connect (Outbound) identify and track, as Segment's
//! Connect destination sent them.

use crate::connect::{ConnectOp, ConnectUser};
use crate::event::{Event, EventType};
use crate::text::Piece::{Quoted, Text};
use crate::text::sentence;
use crate::value::{Map, Value};

use super::{alias, person, read, time, timezone, unsupported, warn, Skip, WarningCode, Warnings, ZENDESK_CONNECT};

/// Traits that are top-level Connect fields rather than attributes. `name`
/// stays an attribute too, as Segment's mapper keeps it.
const TOP_LEVEL_TRAITS: &[&str] = &[
    "firstName", "first_name", "First Name", "lastName", "last_name", "Last Name", "email", "phone", "timezone", "userId", "id",
];

pub(super) fn map(event: &Event, warnings: &mut Warnings) -> Result<Vec<ConnectOp>, Skip> {
    // Every valid event has a userId or an anonymousId.
    let user_id = event.user_id.clone().or_else(|| event.anonymous_id.clone()).unwrap_or_default();
    let op = match event.kind {
        EventType::Identify => ConnectOp::Identify(identify(event, user_id, warnings)),
        EventType::Track => ConnectOp::Track {
            user_id,
            event: event.name.clone().unwrap_or_default(),
            properties: event.properties.clone(),
            timestamp: timestamp(event, warnings),
        },
        EventType::Alias => {
            let (previous_id, user_id) = alias::ids(event, ZENDESK_CONNECT)?;
            ConnectOp::Identify(ConnectUser { user_id, previous_id: Some(previous_id), ..ConnectUser::default() })
        }
        EventType::Group => return Err(unsupported(event.kind, ZENDESK_CONNECT, "Connect has no organizations — send the company as identify traits")),
        EventType::Page | EventType::Screen => return Err(unsupported(event.kind, ZENDESK_CONNECT, super::NO_PAGE_VIEWS)),
    };
    // Every call maps to one Connect call: one `vec!` for all of them.
    Ok(vec![op])
}

fn identify(event: &Event, user_id: String, warnings: &mut Warnings) -> ConnectUser {
    let traits = &event.traits;
    let (first_name, last_name) = person::split_name(traits);
    let (apns, fcm) = push_tokens(&event.context, warnings);
    ConnectUser {
        user_id,
        previous_id: None,
        first_name,
        last_name,
        email: person::email(event).filter(|e| person::looks_like_email(e)).map(str::to_owned),
        phone_number: phone(traits),
        timezone: iana_timezone(event, warnings),
        attributes: without_top_level(traits),
        apns,
        fcm,
    }
}

/// `traits.phone`, or the first of a list of numbers.
/// The traits Connect keeps as custom attributes. A filtered clone rather
/// than a collect, which would insert (and search) member by member.
fn without_top_level(traits: &Map) -> Map {
    let mut attributes = traits.clone();
    attributes.retain(|k, _| !TOP_LEVEL_TRAITS.contains(&k.as_str()));
    attributes
}

fn phone(traits: &Map) -> Option<String> {
    match traits.get("phone")? {
        Value::Array(items) => items.iter().find_map(Value::as_id),
        other => other.as_id(),
    }
}

/// `traits.timezone`, else the `context.timezone` browsers and mobile SDKs
/// report, as an IANA name: Connect accepts nothing else.
fn iana_timezone(event: &Event, warnings: &mut Warnings) -> Option<String> {
    let (what, input) = match read::string(&event.traits, &["timezone"]) {
        Some(t) => ("traits.timezone", t),
        None => ("context.timezone", read::string(&event.context, &["timezone"])?),
    };
    match timezone::resolve(input) {
        Some(zone) => Some(zone.iana.to_owned()),
        None => {
            warn(warnings, WarningCode::UnknownTimezone, sentence("{} {} left out of the Connect user: Connect takes IANA time zones (America/Los_Angeles) and Zendesk names it can convert", &[Text(what), Quoted(input)]));
            None
        }
    }
}

/// `context.device.token` as an iOS (APNs) or Android (FCM) token, by
/// `context.device.type`, else by the library that sent the event.
fn push_tokens(context: &Map, warnings: &mut Warnings) -> (Vec<String>, Vec<String>) {
    let (mut apns, mut fcm) = (Vec::new(), Vec::new());
    let Some(device) = context.get("device").and_then(Value::as_object) else { return (apns, fcm) };
    let Some(token) = read::owned_string(device, &["token"]) else { return (apns, fcm) };
    let platform = read::string(device, &["type"])
        .or_else(|| context.get("library").and_then(Value::as_object).and_then(|l| read::string(l, &["name"])))
        .unwrap_or_default();
    if mentions(platform, "ios") {
        apns.push(token);
    } else if mentions(platform, "android") {
        fcm.push(token);
    } else {
        warn(warnings, WarningCode::InvalidValue, "context.device.token left out of the Connect user: set context.device.type to ios or android so Connect knows which push service it belongs to");
    }
    (apns, fcm)
}

/// Whether `text` holds `word` in any ASCII case. A byte-window scan:
/// `str::contains` would bring its Two-Way searcher into the wasm.
fn mentions(text: &str, word: &str) -> bool {
    text.as_bytes().windows(word.len()).any(|window| window.eq_ignore_ascii_case(word.as_bytes()))
}

/// The event's timestamp in Unix seconds; absent, Connect uses the time it
/// receives the event.
fn timestamp(event: &Event, warnings: &mut Warnings) -> Option<i64> {
    let raw = event.timestamp.as_deref()?;
    let seconds = time::unix_seconds(raw);
    if seconds.is_none() {
        warn(warnings, WarningCode::InvalidValue, sentence("timestamp {} left out of the Connect track: it must be ISO 8601 with a zone, like 2026-11-25T04:00:00Z", &[Quoted(raw)]));
    }
    seconds
}
