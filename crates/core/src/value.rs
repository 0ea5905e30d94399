//! A JSON value owned by the core.
//!
//! The browser build must not carry `serde_json`, so the core defines its own
//! value type with hand-written serde impls: the proxy (de)serializes it with
//! `serde_json`; the SDK reads it from JavaScript values (src/js.rs) and
//! writes it as JSON text ([`crate::json`]), without serde. Objects are
//! [`Map`]s, kept sorted by key so that every output of the core is
//! deterministic.

use std::fmt;

/// The deepest JSON the proxy takes in a request body: no real event nests
/// this far, and it bounds the work every later step spends on one. A batch
/// holds its events two levels down, so the browser refuses an event deeper
/// than this less two, rather than have the proxy refuse its whole batch.
pub const MAX_BODY_DEPTH: usize = 32;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeSeq, Serializer};

pub use crate::map::Map;
use crate::text;

/// A JSON number. Integers stay integers so that ids such as `6789` are sent
/// to Zendesk as `6789`, not `6789.0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    /// Normalises a float that holds a whole number (every JS number arrives as
    /// a float) into an integer.
    pub fn from_f64(f: f64) -> Number {
        const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
        if f.fract() == 0.0 && f.abs() <= MAX_SAFE {
            Number::Int(f as i64)
        } else {
            Number::Float(f)
        }
    }

    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    pub fn as_i64(self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(i),
            Number::Float(_) => None,
        }
    }

    /// Appends the number in decimal, as ids and warnings write it.
    pub(crate) fn push_to(self, out: &mut String) {
        match self {
            Number::Int(i) => text::push_int(out, i),
            Number::Float(x) => out.push_str(&float_text(x)),
        }
    }
}

/// A float as text (ids, warnings): natively Rust's shortest round-trip form.
#[cfg(not(target_arch = "wasm32"))]
fn float_text(x: f64) -> String {
    x.to_string()
}

/// In wasm, the host writes floats: every wasm32 build of the core is linked
/// into the browser SDK, which defines this function with JavaScript's
/// `String(x)` (what analytics.js does with ids), so that Rust's float
/// formatting, ~8 KB of wasm, stays out. Both forms agree except that
/// JavaScript writes magnitudes from 1e21 and below 1e-6 with an exponent.
#[cfg(target_arch = "wasm32")]
fn float_text(x: f64) -> String {
    extern "Rust" {
        fn zendesk_analytics_float_text(x: f64) -> String;
    }
    // SAFETY: the SDK defines it with exactly this signature; it has no preconditions.
    unsafe { zendesk_analytics_float_text(x) }
}

/// Any JSON value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Map),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as an identifier: strings as they are (trimmed, non-empty),
    /// numbers in their decimal form, as analytics.js does with `toString()`.
    pub fn as_id(&self) -> Option<String> {
        match self {
            Value::String(s) => {
                let s = s.trim();
                (!s.is_empty()).then(|| s.to_owned())
            }
            Value::Number(n) => {
                let mut id = String::new();
                n.push_to(&mut id);
                Some(id)
            }
            _ => None,
        }
    }

    /// The JSON type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    /// The nesting depth of the value (a scalar is 0); see [`MAX_BODY_DEPTH`].
    pub fn depth(&self) -> usize {
        match self {
            Value::Array(items) => 1 + items.iter().map(Value::depth).max().unwrap_or(0),
            Value::Object(map) => 1 + map.values().map(Value::depth).max().unwrap_or(0),
            _ => 0,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Object(m)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(Number::Int(i)) => serializer.serialize_i64(*i),
            Value::Number(Number::Float(f)) => serializer.serialize_f64(*f),
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(map) => map.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Number(Number::Int(i)))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        Ok(Value::Number(match i64::try_from(u) {
            Ok(i) => Number::Int(i),
            Err(_) => Number::Float(u as f64),
        }))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Number(Number::from_f64(f)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some((k, v)) = access.next_entry::<String, Value>()? {
            map.insert(k, v);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_floats_become_integers_and_round_trip_through_json() {
        let v: Value = serde_json::from_str(r#"{"a":6789.0,"b":1.5,"c":[true,null,"x"]}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"a":6789,"b":1.5,"c":[true,null,"x"]}"#
        );
    }

    #[test]
    fn ids_accept_numbers_and_reject_blank_strings() {
        assert_eq!(Value::from(12345).as_id().as_deref(), Some("12345"));
        assert_eq!(Value::from("  ").as_id(), None);
        assert_eq!(Value::Bool(true).as_id(), None);
    }
}
