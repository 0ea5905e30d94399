//! Reading typed values out of loosely typed event maps.
//!
//! Analytics libraries send the same thing in several shapes (ids as numbers
//! or strings, lists as arrays or comma-separated strings); these helpers
//! accept every shape a user would reasonably send and nothing else.

use crate::text::Piece::{Described, Text};
use crate::text::sentence;
use crate::value::{Map, Number, Value};

use super::{warn, WarningCode, Warnings};

/// The first of `keys` holding a non-blank string, trimmed.
pub(super) fn string<'a>(map: &'a Map, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| map.get(*k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()))
}

/// [`string`], copied: one non-generic copy of the copying in the wasm for
/// every field read this way.
pub(super) fn owned_string(map: &Map, keys: &[&str]) -> Option<String> {
    string(map, keys).map(str::to_owned)
}

/// The first of `keys` holding an id (string or number), as a string.
pub(super) fn id(map: &Map, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| map.get(*k).and_then(Value::as_id))
}

/// A Zendesk record id: a positive integer, as a number or a decimal string.
pub(super) fn zendesk_id(value: &Value) -> Option<i64> {
    match value {
        Value::Number(Number::Int(i)) => Some(*i).filter(|i| *i > 0),
        Value::String(s) => zendesk_id_text(s),
        _ => None,
    }
}

/// A Zendesk id, or a warning that `{what}.{key}` was left out.
pub(super) fn checked_id(value: &Value, what: &str, key: &str, warnings: &mut Warnings) -> Option<i64> {
    let id = zendesk_id(value);
    if id.is_none() {
        warn(warnings, WarningCode::InvalidValue, sentence("{}.{} left out: it must be a Zendesk id (a positive whole number), got {}", &[Text(what), Text(key), Described(value)]));
    }
    id
}

/// A Zendesk record id written as a decimal string. A sign could only make
/// it zero or less, so only `+` is read.
pub(super) fn zendesk_id_text(text: &str) -> Option<i64> {
    let text = text.trim();
    whole_number(text.strip_prefix('+').unwrap_or(text).as_bytes()).filter(|i| *i > 0)
}

/// A run of ASCII digits as a number; `None` when empty or too large. Only
/// what the mapping needs of `str::parse::<i64>`, whose sign handling and
/// error type weigh on the browser's wasm.
pub(super) fn whole_number(digits: &[u8]) -> Option<i64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0i64, |n, &b| {
        let digit = if b.is_ascii_digit() { i64::from(b - b'0') } else { return None };
        n.checked_mul(10)?.checked_add(digit)
    })
}

/// A list of strings from an array of strings/numbers or a string separated
/// by commas or whitespace (domain names and tags hold neither). Empty items
/// are dropped; `None` when the value has another shape.
pub(super) fn string_list(value: &Value) -> Option<Vec<String>> {
    let items: Vec<String> = match value {
        Value::String(s) => {
            // Character by character rather than by `split` and
            // `split_whitespace`: their searchers weigh on the wasm.
            let mut items = Vec::new();
            let mut item = String::new();
            for c in s.chars() {
                if c == ',' || c.is_whitespace() {
                    if !item.is_empty() {
                        items.push(std::mem::take(&mut item));
                    }
                } else {
                    item.push(c);
                }
            }
            if !item.is_empty() {
                items.push(item);
            }
            items
        }
        Value::Array(values) => {
            let mut items = Vec::new();
            for v in values {
                if !matches!(v, Value::String(_) | Value::Number(_)) {
                    return None;
                }
                if let Some(id) = v.as_id() {
                    items.push(id);
                }
            }
            items
        }
        _ => return None,
    };
    Some(items)
}

/// `true` only for a JSON `true` (or the string "true", as form posts send it).
pub(super) fn is_true(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A list (array, or a comma/space-separated string); another shape is
/// left out with a warning.
pub(super) fn list(map: &Map, what: &str, keys: &[&str], warnings: &mut Warnings) -> Option<Vec<String>> {
    let (key, value) = keys.iter().find_map(|k| map.get(*k).filter(|v| !v.is_null()).map(|v| (*k, v)))?;
    let items = string_list(value);
    if items.is_none() {
        warn(warnings, WarningCode::InvalidValue, sentence("{}.{} left out: it must be a string or an array of strings, got {}", &[Text(what), Text(key), Text(value.type_name())]));
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_list_splits_at_commas_and_any_whitespace() {
        for s in ["", "a", " a, b ,,c\td\ne", "vip,\u{a0}beta\u{2003}gamma", "日本, ß  x,", ",,, \u{3000}"] {
            // What splitting at commas, then at whitespace, gives.
            let expected: Vec<String> = s.split(',').flat_map(str::split_whitespace).map(str::to_owned).collect();
            assert_eq!(string_list(&Value::from(s)), Some(expected), "{s:?}");
        }
    }
}
