//! Traits → Zendesk custom fields (`user_fields`, `organization_fields`).
//!
//! Zendesk field keys may hold only letters, digits and `_`, may not be all
//! digits, and are conventionally snake_case; Segment's docs tell users their
//! camelCase traits arrive snake_cased. Keys are converted the same way here,
//! and anything Zendesk would refuse or silently ignore is reported.

use crate::text::Piece::{Quoted, Text};
use crate::text::sentence;
use crate::value::{Map, Value};

use super::{warn, WarningCode, Warnings};

/// Every trait except `reserved` ones, keyed by its Zendesk field key.
/// `destination` names the target in messages ("user_fields").
pub(super) fn custom_fields(
    traits: &Map,
    reserved: &[&str],
    destination: &str,
    warnings: &mut Warnings,
) -> Map {
    let mut fields = Map::new();
    // Which trait each field key came from, to report collisions.
    let mut sources: Map = Map::new();
    for (name, value) in traits {
        if reserved.contains(&name.as_str()) {
            continue;
        }
        if !is_field_value(value) {
            warn(
                warnings,
                WarningCode::NestedTraitIgnored,
                sentence("traits.{} left out of {}: it is {}, and a Zendesk custom field holds a single value — send its parts as separate traits (e.g. {}_city)", &[Text(name), Text(destination), Text(value.type_name()), Text(&snake_case(name))]),
            );
            continue;
        }
        let (key, renamed) = match field_key(name) {
            FieldKey::Valid(key) => (key, false),
            FieldKey::Renamed(key) => (key, true),
            FieldKey::Invalid => {
                warn(
                    warnings,
                    WarningCode::InvalidFieldKey,
                    sentence("traits.{} left out of {}: no valid Zendesk field key can be made from it — use letters, digits and _", &[Quoted(name), Text(destination)]),
                );
                continue;
            }
        };
        if let Some(Value::String(first)) = sources.get(&key) {
            // The trait already spelled like the key wins over a converted one.
            let (kept, dropped) = if *name == key { (name, first) } else { (first, name) };
            warn(
                warnings,
                WarningCode::InvalidFieldKey,
                sentence("traits.{} left out of {}: traits.{} maps to the same field key {} — send only one of them", &[Text(dropped), Text(destination), Text(kept), Text(&key)]),
            );
            if *name != key {
                continue;
            }
        }
        if renamed {
            warn(
                warnings,
                WarningCode::FieldKeyRenamed,
                sentence("traits.{} sent as {}.{}: Zendesk field keys may only hold letters, digits and _, and not only digits", &[Text(name), Text(destination), Text(&key)]),
            );
        }
        sources.insert(key.clone(), Value::String(name.clone()));
        fields.insert(key, value.clone());
    }
    fields
}

/// Scalars, null (which clears a field) and lists of scalars (multiselect).
fn is_field_value(value: &Value) -> bool {
    match value {
        Value::Object(_) => false,
        Value::Array(items) => items.iter().all(|v| !matches!(v, Value::Object(_) | Value::Array(_))),
        _ => true,
    }
}

/// The outcome of turning a trait name into a Zendesk field key.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum FieldKey {
    /// Plain snake_case conversion.
    Valid(String),
    /// Characters were dropped or a prefix added: worth telling the developer.
    Renamed(String),
    /// Nothing usable is left.
    Invalid,
}

/// camelCase, spaces and dashes → snake_case; other characters dropped;
/// an all-digit key gets a `field_` prefix.
pub(super) fn field_key(name: &str) -> FieldKey {
    let key = snake_case(name);
    let dropped = name.bytes().any(|b| !(b.is_ascii_alphanumeric() || is_separator(b)));
    if key.is_empty() {
        FieldKey::Invalid
    } else if key.bytes().all(|b| b.is_ascii_digit()) {
        FieldKey::Renamed(["field_", &key].concat())
    } else if dropped {
        FieldKey::Renamed(key)
    } else {
        FieldKey::Valid(key)
    }
}

/// `favoriteColor` → `favorite_color`, `Plan Tier` → `plan_tier`,
/// `HTMLColor` → `html_color`; characters outside `[a-z0-9_]` are dropped,
/// runs of `_` collapsed and `_` trimmed at both ends. Read byte by byte: a
/// byte of a non-ASCII character is neither a letter nor a digit, just as the
/// character is not, and is dropped with it.
pub(super) fn snake_case(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = String::with_capacity(name.len() + 4);
    // The last byte, not `ends_with('_')`: a `char` pattern brings its UTF-8
    // encoding into the wasm.
    let ends_in_separator = |out: &String| out.as_bytes().last() == Some(&b'_');
    // Between words only: never first, never twice in a row.
    let separate = |out: &mut String| {
        if !out.is_empty() && !ends_in_separator(out) {
            out.push('_');
        }
    };
    for (i, &b) in bytes.iter().enumerate() {
        if b.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|p| bytes[p]);
            let next = bytes.get(i + 1);
            let boundary = prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(|p| p.is_ascii_uppercase()) && next.is_some_and(u8::is_ascii_lowercase));
            if boundary {
                separate(&mut out);
            }
            out.push(char::from(b.to_ascii_lowercase()));
        } else if b.is_ascii_lowercase() || b.is_ascii_digit() {
            out.push(char::from(b));
        } else if is_separator(b) {
            separate(&mut out);
        }
    }
    if ends_in_separator(&out) {
        out.pop();
    }
    out
}

/// What separates words in a trait name.
fn is_separator(b: u8) -> bool {
    matches!(b, b'_' | b' ' | b'-' | b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_snake_case() {
        for (name, key) in [
            ("favoriteColor", "favorite_color"),
            ("Plan Tier", "plan_tier"),
            ("plan-tier", "plan_tier"),
            ("HTMLColor", "html_color"),
            ("order_completed_last_30days", "order_completed_last_30days"),
            ("__a__b__", "a_b"),
            ("total billed", "total_billed"),
        ] {
            assert_eq!(field_key(name), FieldKey::Valid(key.into()), "{name}");
        }
    }

    #[test]
    fn keys_zendesk_refuses_are_fixed_or_dropped() {
        assert_eq!(field_key("12345"), FieldKey::Renamed("field_12345".into()));
        assert_eq!(field_key("plan (tier)!"), FieldKey::Renamed("plan_tier".into()));
        assert_eq!(field_key("café"), FieldKey::Renamed("caf".into()));
        assert_eq!(field_key("!!!"), FieldKey::Invalid);
        assert_eq!(field_key("日本"), FieldKey::Invalid);
        assert_eq!(field_key(""), FieldKey::Invalid);
    }
}
