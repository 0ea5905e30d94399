//! Writing the core's `Value` as JSON text without `serde_json` (kept out of
//! the wasm for size): events are serialized once, when the call is made, and
//! that text is what is persisted, measured against the size caps and sent.

use zendesk_analytics_core::text::push_int;
use zendesk_analytics_core::{Map, Number, Value};

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The JSON text of the object `map`.
pub fn object_to_json(map: &Map) -> String {
    let mut out = String::with_capacity(256);
    write_object(&mut out, map);
    out
}

/// An object written member by member as JSON text, for results handed to
/// the page: parsed once by the browser (`JSON.parse`) rather than built key
/// by key across the JS boundary, one string conversion per key.
pub struct ObjectText(String);

impl ObjectText {
    pub fn new() -> ObjectText {
        ObjectText(String::from("{"))
    }

    /// Starts the member `key`; the caller writes its value.
    fn member(&mut self, key: &str) -> &mut String {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        write_string(&mut self.0, key);
        self.0.push(':');
        &mut self.0
    }

    pub fn string(&mut self, key: &str, value: &str) {
        write_string(self.member(key), value);
    }

    pub fn value(&mut self, key: &str, value: &Value) {
        write_value(self.member(key), value);
    }

    /// A member whose value is already JSON text (an event).
    pub fn json(&mut self, key: &str, json: &str) {
        self.member(key).push_str(json);
    }

    pub fn finish(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

/// The JSON text of `value`.
pub fn to_json(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_value(&mut out, value);
    out
}

pub fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(Number::Int(i)) => push_int(out, *i),
        // JSON has no NaN or Infinity; JSON.stringify writes null for them.
        Value::Number(Number::Float(f)) if !f.is_finite() => out.push_str("null"),
        // The browser's own shortest round-trip formatting: Rust's would add
        // ~15 KB of float-printing code to the wasm.
        Value::Number(Number::Float(f)) => out.push_str(&crate::js::number_text(*f)),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

/// A JSON object's members as JSON text.
pub fn write_object(out: &mut String, map: &Map) {
    out.push('{');
    for (i, (key, item)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, key);
        out.push(':');
        write_value(out, item);
    }
    out.push('}');
}

/// A JSON string literal: quotes, backslashes and control characters escaped.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let code = c as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX_DIGITS[code >> 4]));
                out.push(char::from(HEX_DIGITS[code & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
