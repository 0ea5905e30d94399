//! Segment-spec events, parsed from JSON with errors that say what to fix.

use std::fmt;

use thiserror::Error;

use crate::text::Piece::{Quoted, Text};
use crate::text::sentence;
use crate::value::{Map, Value};

/// The Segment call types the core understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Identify,
    Track,
    Group,
    Alias,
    Page,
    Screen,
}

impl EventType {
    /// Every type, in declaration order…
    const ALL: [EventType; 6] =
        [EventType::Identify, EventType::Track, EventType::Group, EventType::Alias, EventType::Page, EventType::Screen];
    /// …and its name, at the same index: tables rather than two `match`es on
    /// strings, which weigh more on the wasm.
    const NAMES: [&'static str; 6] = ["identify", "track", "group", "alias", "page", "screen"];

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::NAMES.iter().position(|name| *name == s).map(|i| EventType::ALL[i])
    }

    pub fn as_str(self) -> &'static str {
        EventType::NAMES[self as usize]
    }
}

/// Why a JSON value is not a valid Segment event.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EventError {
    /// The value is not an object; holds the type it is.
    NotAnObject(&'static str),
    MissingType,
    UnknownType(String),
    WrongType {
        field: &'static str,
        expected: &'static str,
        got: &'static str,
    },
    MissingIdentity,
    MissingEventName,
    MissingGroupId,
    MissingAliasUserId,
}

impl EventError {
    /// The sentence the error displays as, built without a `Formatter`:
    /// callers that want it as a `String` (the browser SDK) call this rather
    /// than `to_string`, which keeps core::fmt out of their build.
    pub fn message(&self) -> String {
        match self {
            EventError::NotAnObject(got) => sentence("an event must be a JSON object, got {}", &[Text(got)]),
            EventError::MissingType => {
                "the event has no \"type\"; set it to identify, track, group, alias, page or screen".to_owned()
            }
            EventError::UnknownType(name) => {
                sentence("\"type\" is {}; use identify, track, group, alias, page or screen", &[Quoted(name)])
            }
            EventError::WrongType { field, expected, got } => {
                sentence("\"{}\" must be {}, got {}", &[Text(field), Text(expected), Text(got)])
            }
            EventError::MissingIdentity => {
                "the event has neither \"userId\" nor \"anonymousId\"; every event needs one of them".to_owned()
            }
            EventError::MissingEventName => "a track event needs a non-empty \"event\" name".to_owned(),
            EventError::MissingGroupId => "a group event needs a \"groupId\"".to_owned(),
            EventError::MissingAliasUserId => "an alias event needs \"userId\" (the new id)".to_owned(),
        }
    }
}

/// Written piece by piece (see [`EventError::message`]) rather than by
/// `#[error("…{0}")]`: keeps core::fmt out of the browser build.
impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// A validated Segment event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventType,
    pub message_id: Option<String>,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// Identify and group traits (for identify, `context.traits` fills gaps).
    pub traits: Map,
    pub properties: Map,
    pub context: Map,
    pub integrations: Map,
    /// Track: the event name. Page/screen: the page name.
    pub name: Option<String>,
    pub category: Option<String>,
    pub group_id: Option<String>,
    pub previous_id: Option<String>,
    pub timestamp: Option<String>,
}

impl Event {
    /// Parses and validates a Segment event.
    pub fn from_value(value: &Value) -> Result<Event, EventError> {
        let obj = value
            .as_object()
            .ok_or_else(|| EventError::NotAnObject(value.type_name()))?;
        let kind = match obj.get("type") {
            None | Some(Value::Null) => return Err(EventError::MissingType),
            Some(Value::String(s)) => {
                EventType::parse(s).ok_or_else(|| EventError::UnknownType(s.clone()))?
            }
            Some(other) => {
                return Err(EventError::WrongType {
                    field: "type",
                    expected: "a string",
                    got: other.type_name(),
                })
            }
        };
        // Every member is checked, in the order errors are reported, before
        // any is read: one error path for all of them in the wasm, and
        // nothing copied yet to drop.
        let name_field = if kind == EventType::Track { "event" } else { "name" };
        for &(field, shape) in MEMBERS {
            check(obj, if field == NAME { name_field } else { field }, shape)?;
        }
        let id = |field| obj.get(field).and_then(Value::as_id);
        let string = |field| obj.get(field).and_then(Value::as_str).map(str::to_owned);
        let object = |field| obj.get(field).and_then(Value::as_object).cloned().unwrap_or_default();

        let mut traits = object("traits");
        let context = object("context");
        if kind == EventType::Identify {
            if let Some(Value::Object(ctx_traits)) = context.get("traits") {
                for (k, v) in ctx_traits {
                    if !traits.contains_key(k) {
                        traits.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        let event = Event {
            kind,
            message_id: id("messageId"),
            user_id: id("userId"),
            anonymous_id: id("anonymousId"),
            traits,
            properties: object("properties"),
            context,
            integrations: object("integrations"),
            name: string(name_field),
            category: string("category"),
            group_id: id("groupId"),
            previous_id: id("previousId"),
            timestamp: string("timestamp"),
        };
        event.validate()?;
        Ok(event)
    }

    fn validate(&self) -> Result<(), EventError> {
        if self.user_id.is_none() && self.anonymous_id.is_none() {
            return Err(EventError::MissingIdentity);
        }
        match self.kind {
            EventType::Track if self.name.as_deref().is_none_or(|n| n.trim().is_empty()) => {
                Err(EventError::MissingEventName)
            }
            EventType::Group if self.group_id.is_none() => Err(EventError::MissingGroupId),
            EventType::Alias if self.user_id.is_none() => Err(EventError::MissingAliasUserId),
            _ => Ok(()),
        }
    }

    /// A trait by its Segment name, accepting the spellings analytics
    /// libraries use for the same thing (`firstName`, `first_name`).
    pub fn trait_str(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| {
            self.traits
                .get(*n)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        })
    }
}

/// What a member of the event may hold.
#[derive(Clone, Copy)]
enum Shape {
    /// A string or a number, read with [`Value::as_id`].
    Id,
    String,
    Object,
}

/// Where [`MEMBERS`] names the event's name: `event` for track, else `name`.
const NAME: &str = "name";

/// The members, in the order their errors are reported. One table rather
/// than chained slices: the chains' iterators weigh on the wasm.
const MEMBERS: &[(&str, Shape)] = &[
    ("userId", Shape::Id),
    ("anonymousId", Shape::Id),
    ("traits", Shape::Object),
    ("context", Shape::Object),
    ("messageId", Shape::Id),
    ("properties", Shape::Object),
    ("integrations", Shape::Object),
    (NAME, Shape::String),
    ("category", Shape::String),
    ("groupId", Shape::Id),
    ("previousId", Shape::Id),
    ("timestamp", Shape::String),
];

/// Whether the member `field`, when present and not null, has the `shape`.
fn check(obj: &Map, field: &'static str, shape: Shape) -> Result<(), EventError> {
    let Some(value) = obj.get(field).filter(|v| !v.is_null()) else { return Ok(()) };
    let (fits, expected) = match shape {
        Shape::Id => (matches!(value, Value::String(_) | Value::Number(_)), "a string or a number"),
        Shape::String => (matches!(value, Value::String(_)), "a string"),
        Shape::Object => (matches!(value, Value::Object(_)), "an object"),
    };
    if fits {
        Ok(())
    } else {
        Err(EventError::WrongType { field, expected, got: value.type_name() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Event, EventError> {
        Event::from_value(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn every_type_parses_from_its_name() {
        for kind in EventType::ALL {
            assert_eq!(kind.as_str(), format!("{kind:?}").to_lowercase());
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventType::parse("Identify"), None);
    }

    #[test]
    fn numeric_ids_become_strings() {
        let e = parse(r#"{"type":"identify","userId":12345}"#).unwrap();
        assert_eq!(e.user_id.as_deref(), Some("12345"));
    }

    #[test]
    fn errors_say_what_to_fix() {
        assert_eq!(
            parse(r#"{"type":"track","userId":"u"}"#).unwrap_err(),
            EventError::MissingEventName
        );
        assert_eq!(
            parse(r#"{"type":"identify"}"#).unwrap_err().to_string(),
            "the event has neither \"userId\" nor \"anonymousId\"; every event needs one of them"
        );
        assert_eq!(
            parse(r#"{"type":"identify","userId":"u","traits":[1]}"#)
                .unwrap_err()
                .to_string(),
            "\"traits\" must be an object, got an array"
        );
    }
}
