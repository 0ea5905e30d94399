//! Writing JSON text without `serde_json`, which the browser build must not
//! carry: the SDK writes its events and results with it, and the core's
//! outputs (`to_json`) are written by the same functions.

use crate::text::push_int;
use crate::value::{Map, Number, Value};

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Writing as JSON text.
pub trait ToJson {
    fn write_json(&self, out: &mut String);

    fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        self.write_json(&mut out);
        out
    }
}

impl ToJson for Value {
    fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => b.write_json(out),
            Value::Number(n) => n.write_json(out),
            Value::String(s) => write_string(out, s),
            Value::Array(items) => items.write_json(out),
            Value::Object(map) => map.write_json(out),
        }
    }
}

impl ToJson for Number {
    fn write_json(&self, out: &mut String) {
        match *self {
            Number::Int(i) => push_int(out, i),
            // JSON has no NaN or Infinity; JSON.stringify writes null for them.
            Number::Float(f) if !f.is_finite() => out.push_str("null"),
            // In wasm the host's shortest round-trip form (see `value::float_text`).
            number => number.push_to(out),
        }
    }
}

impl ToJson for Map {
    fn write_json(&self, out: &mut String) {
        out.push('{');
        for (key, value) in self {
            start_member(out, key);
            value.write_json(out);
        }
        out.push('}');
    }
}

impl ToJson for str {
    fn write_json(&self, out: &mut String) {
        write_string(out, self);
    }
}

impl ToJson for String {
    fn write_json(&self, out: &mut String) {
        write_string(out, self);
    }
}

impl ToJson for bool {
    fn write_json(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

impl ToJson for i64 {
    fn write_json(&self, out: &mut String) {
        push_int(out, *self);
    }
}

impl<T: ToJson> ToJson for [T] {
    fn write_json(&self, out: &mut String) {
        write_array(out, self.len(), &|i, out| self[i].write_json(out));
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn write_json(&self, out: &mut String) {
        self.as_slice().write_json(out);
    }
}

/// An array of `len` items, the `i`th written by `item`: one copy of the
/// brackets and commas for every type of item.
fn write_array(out: &mut String, len: usize, item: &dyn Fn(usize, &mut String)) {
    out.push('[');
    for i in 0..len {
        if i > 0 {
            out.push(',');
        }
        item(i, out);
    }
    out.push(']');
}

/// Starts the member `key` of the object being written at the end of `out`
/// (its `{` already there): the comma unless it is the first, the key and
/// the colon. The caller writes the value.
pub fn start_member(out: &mut String, key: &str) {
    // A member's value never ends in `{`: only an object with no member yet
    // does. The last byte, not `ends_with('{')`: a `char` pattern brings
    // its UTF-8 encoding into the wasm.
    if out.as_bytes().last() != Some(&b'{') {
        out.push(',');
    }
    write_string(out, key);
    out.push(':');
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_quotes_backslashes_and_control_characters() {
        let written = "q\" b\\ n\n r\r t\t \u{1} \u{1f} \u{7f} é 🚀".to_json();
        assert_eq!(written, "\"q\\\" b\\\\ n\\n r\\r t\\t \\u0001 \\u001f \u{7f} é 🚀\"");
    }

    #[test]
    fn values_are_written_compactly_in_key_order() {
        let map: Map = [("b".to_owned(), Value::from(-12)), ("a".to_owned(), Value::Array(vec![Value::Null, Value::Bool(false)]))].into();
        let value = Value::Array(vec![Value::Object(map), Value::Object(Map::new()), Value::Array(Vec::new())]);
        assert_eq!(value.to_json(), r#"[{"a":[null,false],"b":-12},{},[]]"#);
    }

    #[test]
    fn numbers_are_written_as_json_writes_them() {
        let numbers = [Number::Int(i64::MIN), Number::Int(0), Number::Float(1.5), Number::Float(-0.25), Number::Float(f64::NAN), Number::Float(f64::INFINITY)];
        let written: Vec<String> = numbers.iter().map(ToJson::to_json).collect();
        assert_eq!(written, ["-9223372036854775808", "0", "1.5", "-0.25", "null", "null"]);
    }
}
