//! Building Segment-spec events: messageId and timestamp are fixed when the
//! call is made (never at send), so retries and reloads resend the same event.

use zendesk_analytics_core::{Map, Value};

use crate::js::{now_iso, uuid_v4};

pub const LIBRARY_NAME: &str = "zendesk-analytics";
pub const LIBRARY_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Who the event is about.
pub struct Identity<'a> {
    pub user_id: Option<&'a str>,
    pub anonymous_id: &'a str,
}

/// Builds an event of `kind` with `fields` (traits/properties/event…) and the
/// call's `options` (Segment: `integrations`, `context`, `timestamp`,
/// `messageId`, `anonymousId`, `userId`).
pub fn build(kind: &str, identity: Identity<'_>, mut fields: Map, options: Map) -> Value {
    let mut event = Map::new();
    event.insert("type".into(), kind.into());
    event.insert("messageId".into(), uuid_v4().into());
    event.insert("timestamp".into(), now_iso().into());
    event.insert("anonymousId".into(), identity.anonymous_id.into());
    if let Some(user_id) = identity.user_id {
        event.insert("userId".into(), user_id.into());
    }
    let mut context = Map::new();
    let mut library = Map::new();
    library.insert("name".into(), LIBRARY_NAME.into());
    library.insert("version".into(), LIBRARY_VERSION.into());
    context.insert("library".into(), library.into());
    for (key, value) in options {
        match key.as_str() {
            "context" => {
                if let Value::Object(extra) = value {
                    context.extend(extra);
                }
            }
            "integrations" | "timestamp" | "messageId" | "anonymousId" | "userId" => {
                if !value.is_null() {
                    event.insert(key, value);
                }
            }
            // Segment puts any other option into the context.
            _ => {
                context.insert(key, value);
            }
        }
    }
    event.insert("context".into(), context.into());
    event.append(&mut fields);
    Value::Object(event)
}
