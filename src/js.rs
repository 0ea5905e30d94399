//! Small, fallible helpers over browser APIs.
//!
//! Browser objects are reached by name (`global`, `get`) rather than through
//! web-sys' typed bindings: each typed method is one more import, with a shim
//! in the wasm and a function in the JS glue. Calls into the browser are
//! leaf functions in src/browser.js, each one import that never throws; the
//! few js-sys imports left are ones that cannot throw for the values given.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use zendesk_analytics_core::{Map, Number, Value};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL_THIS: JsValue;
}

/// `globalThis[name]` (`document`, `navigator`, `localStorage`, …), or
/// `undefined` when it is absent or the browser refuses it.
pub fn global(name: &str) -> JsValue {
    GLOBAL_THIS.with(|global| get(global, name))
}

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// A random UUID v4 (`crypto.randomUUID`, or `Math.random` where crypto
    /// is unavailable: insecure contexts).
    #[wasm_bindgen(js_name = uuid)]
    pub fn uuid_v4() -> String;

    /// The current time as an ISO-8601 string, as Segment timestamps are.
    #[wasm_bindgen(js_name = nowIso)]
    pub fn now_iso() -> String;

    /// Logs `zendesk-analytics: {message}` as a console warning.
    pub fn warn(message: &str);

    /// `Object.entries(value)`, `[]` when a getter or Proxy throws (`catch`
    /// although it never throws: see `page_context` in src/context.rs).
    #[wasm_bindgen(catch)]
    fn entries(value: &JsValue) -> Result<js_sys::Array, JsValue>;
}

/// A number as JavaScript's `String(x)` writes it: Rust's float formatting
/// would add ~8 KB to the wasm.
pub fn number_text(x: f64) -> String {
    js_sys::Number::from(x).to_string_with_radix(10).map(String::from).unwrap_or_default()
}

/// How the core writes floats in wasm (see its `value::float_text`).
#[no_mangle]
pub fn zendesk_analytics_float_text(x: f64) -> String {
    number_text(x)
}

/// Converts a JS value (traits, properties, options) into the core's JSON
/// value, as `JSON.stringify` would see it: functions, symbols and undefined
/// become null, Dates their ISO string (via `toJSON`), and nesting deeper
/// than JSON parsers accept is cut off rather than overflowing the stack.
/// Hand-written rather than serde-wasm-bindgen's generic deserializer: this
/// runs on every call and its size counts against the wasm budget.
pub fn to_value(js: &JsValue) -> Value {
    to_value_at(js, 0)
}

const MAX_DEPTH: usize = 64;

fn to_value_at(js: &JsValue, depth: usize) -> Value {
    if let Some(s) = js.as_string() {
        return Value::String(s);
    }
    if let Some(f) = js.as_f64() {
        return if f.is_finite() { Value::Number(Number::from_f64(f)) } else { Value::Null };
    }
    if let Some(b) = js.as_bool() {
        return Value::Bool(b);
    }
    if !js.is_object() || js.is_function() || depth >= MAX_DEPTH {
        return Value::Null;
    }
    if let Some(array) = js.dyn_ref::<js_sys::Array>() {
        let mut items = Vec::new();
        for item in array.iter() {
            items.push(to_value_at(&item, depth + 1));
        }
        return Value::Array(items);
    }
    if let Some(date) = js.dyn_ref::<js_sys::Date>() {
        // An invalid date has no ISO form (toISOString throws); JSON.stringify writes null.
        return if date.get_time().is_nan() { Value::Null } else { Value::String(date.to_iso_string().into()) };
    }
    let mut map = Map::new();
    for entry in entries(js).unwrap_or_default().iter() {
        let pair: js_sys::Array = entry.unchecked_into();
        let value = pair.get(1);
        // JSON drops members that are undefined or functions.
        if value.is_undefined() || value.is_function() {
            continue;
        }
        if let Some(key) = pair.get(0).as_string() {
            map.insert(key, to_value_at(&value, depth + 1));
        }
    }
    Value::Object(map)
}

/// `JSON.parse(text)`, or `undefined` when it is not JSON.
pub fn parse_json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap_or(JsValue::UNDEFINED)
}

/// A JSON object's members, `None` for anything else.
pub fn parse_json_object(text: &str) -> Option<Map> {
    to_map(&parse_json(text))
}

/// A JS object's members (as [`to_value`] sees them), `None` for anything else.
pub fn to_map(js: &JsValue) -> Option<Map> {
    match to_value(js) {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// `obj[key]`, or `undefined` when it cannot be read.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or_default()
}

/// `obj[key]` as a string, if it is one.
pub fn get_string(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

