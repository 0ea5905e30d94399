//! Building Segment-spec events. messageId and timestamp are fixed when the
//! call is made (never at send), so retries and reloads resend the very same
//! event and the proxy can drop duplicates; sentAt is added per batch at send.

use zendesk_analytics_core::text::{sentence, Piece::Int};
use zendesk_analytics_core::{Map, ToJson, Value, MAX_BODY_DEPTH};

use crate::identity::Identity;
use crate::js::{now_iso, uuid_v4};

/// The largest event accepted, as JSON (RudderStack's and Segment's cap).
pub const MAX_EVENT_BYTES: usize = 32 * 1024;

/// An event ready to queue: its id and its JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub message_id: String,
    pub value: Value,
    pub json: String,
}

/// Sets `map[key]`: the insert code once rather than at each of the SDK's
/// fixed keys.
pub fn put(map: &mut Map, key: &str, value: Value) {
    map.insert(key.to_owned(), value);
}

/// Builds an event of `kind` with `fields` (traits, properties, event, …), the
/// automatic `context` and the call's `options` as Segment defines them:
/// `userId`, `anonymousId`, `timestamp`, `messageId` and `integrations` go to
/// the top level, `options.context` and every other key into `context`.
pub fn build(kind: &str, identity: &Identity, fields: Map, options: Map, mut context: Map) -> Value {
    let mut event = Map::new();
    put(&mut event, "type", kind.into());
    put(&mut event, "messageId", uuid_v4().into());
    put(&mut event, "timestamp", now_iso().into());
    put(&mut event, "anonymousId", identity.anonymous_id.as_str().into());
    if let Some(user_id) = &identity.user.id {
        put(&mut event, "userId", user_id.as_str().into());
    }
    for (key, value) in options {
        match key.as_str() {
            "context" => {
                if let Value::Object(extra) = value {
                    merge(&mut context, extra);
                }
            }
            // The page's own messageId when it can be one (a number as its
            // text); anything else keeps the generated one: an empty or
            // shared id would make the queue take the event for another's.
            "messageId" => match &value {
                Value::String(id) if !id.is_empty() => {
                    event.insert(key, value);
                }
                Value::Number(_) => put(&mut event, "messageId", value.to_json().into()),
                _ => {}
            },
            "integrations" | "timestamp" | "anonymousId" | "userId" => {
                if !value.is_null() {
                    event.insert(key, value);
                }
            }
            _ => {
                context.insert(key, value);
            }
        }
    }
    put(&mut event, "context", context.into());
    event.extend(fields);
    Value::Object(event)
}

/// Deep-merges `extra` into `base` (so `options.context.page.title` overrides
/// only the title).
fn merge(base: &mut Map, extra: Map) {
    for (key, value) in extra {
        match (base.get_mut(&key), value) {
            (Some(Value::Object(inner)), Value::Object(more)) => merge(inner, more),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Serializes a built event, refusing it when it is over the size cap.
pub fn finish(value: Value) -> Result<Built, String> {
    let json = value.to_json();
    if json.len() > MAX_EVENT_BYTES {
        return Err(sentence(
            "the event is {} bytes of JSON, over the {}-byte limit per event: send fewer or smaller properties/traits",
            &[Int(json.len() as i64), Int(MAX_EVENT_BYTES as i64)],
        ));
    }
    // In a batch body the event sits two levels down.
    let depth = value.depth() + 2;
    if depth > MAX_BODY_DEPTH {
        return Err(sentence(
            "the event nests {} levels deep in its batch, over the proxy's {}: flatten your traits and properties (or remove a circular reference)",
            &[Int(depth as i64), Int(MAX_BODY_DEPTH as i64)],
        ));
    }
    let message_id = value
        .as_object()
        .and_then(|o| o.get("messageId"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_default();
    Ok(Built { message_id, value, json })
}
