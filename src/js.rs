//! Small, fallible helpers over browser APIs.

use js_sys::{Date, Reflect};
use wasm_bindgen::JsValue;
use zendesk_analytics_core::{Map, Value};

/// The current time as an ISO-8601 string, as Segment timestamps are.
pub fn now_iso() -> String {
    Date::new_0().to_iso_string().into()
}

/// A random UUID v4 (`crypto.randomUUID`), falling back to `Math.random`
/// where crypto is unavailable (insecure contexts).
pub fn uuid_v4() -> String {
    let crypto = web_sys::window().and_then(|w| w.crypto().ok());
    if let Some(id) = crypto.map(|c| c.random_uuid()) {
        return id;
    }
    let hex = |n: usize| -> String {
        (0..n)
            .map(|_| char::from_digit((js_sys::Math::random() * 16.0) as u32 & 0xf, 16).unwrap_or('0'))
            .collect()
    };
    format!("{}-{}-4{}-a{}-{}", hex(8), hex(4), hex(3), hex(3), hex(12))
}

/// Converts a JS value (traits, properties, options) into the core's JSON
/// value. Functions, symbols and undefined become null, as JSON would drop them.
pub fn to_value(js: &JsValue) -> Value {
    if js.is_undefined() || js.is_null() || js.is_function() {
        return Value::Null;
    }
    serde_wasm_bindgen::from_value(js.clone()).unwrap_or(Value::Null)
}

/// Converts a core value into a plain JS value (objects, not `Map`s).
pub fn to_js(value: &impl serde::Serialize) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

/// `JSON.parse(text)`, or `undefined` when it is not JSON.
pub fn parse_json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap_or(JsValue::UNDEFINED)
}

/// A JSON object's members, `None` for anything else.
pub fn parse_json_object(text: &str) -> Option<Map> {
    match to_value(&parse_json(text)) {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// `obj[key]` as a string, if it is one.
pub fn get_string(obj: &JsValue, key: &str) -> Option<String> {
    Reflect::get(obj, &JsValue::from_str(key)).ok()?.as_string()
}

/// Sets `obj[key] = value`, ignoring failure (frozen objects).
pub fn set(obj: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// Logs `zendesk-analytics: {message}` as a console warning.
pub fn warn(message: &str) {
    web_sys::console::warn_1(&JsValue::from_str(&format!("zendesk-analytics: {message}")));
}
