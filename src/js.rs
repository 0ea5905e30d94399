//! Small, fallible helpers over browser APIs.
//!
//! Browser objects are reached by name (`global`, `get`) rather than through
//! typed bindings: each typed method is one more import, with a shim in the
//! wasm and a function in the JS glue. Calls into the browser are leaf
//! functions in src/browser.js, each one import that never throws; the few
//! builtins imported directly cannot throw for the values given. No js-sys or
//! web-sys: the handful of types below is all the SDK needs, and js-sys links
//! in code of its own (its JSPI task runner, closure shims for its typed
//! arrays) whatever is used of it.

use std::cell::Cell;

use wasm_bindgen::prelude::*;
use zendesk_analytics_core::{Map, Number, Value};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL_THIS: JsValue;

    /// A JS array: arguments, `Object.entries` pairs, stored queues (an
    /// unknown value becomes one by [`array_copy`], not by a cast).
    pub type Array;
    #[wasm_bindgen(method, getter)]
    pub fn length(this: &Array) -> u32;
    /// `array[index]` (`undefined` past the end).
    #[wasm_bindgen(method, indexing_getter)]
    pub fn get(this: &Array, index: u32) -> JsValue;

    /// A JS function the page handed us (a callback, a listener).
    #[wasm_bindgen(is_type_of = JsValue::is_function)]
    #[derive(Debug, Clone, PartialEq)]
    pub type Function;

    #[derive(Debug, Clone)]
    pub type Promise;
    /// `Promise.resolve(value)`.
    #[wasm_bindgen(static_method_of = Promise)]
    pub fn resolve(value: &JsValue) -> Promise;

    /// `Date.now()`: milliseconds since the epoch.
    #[wasm_bindgen(js_namespace = Date)]
    pub fn now() -> f64;
    #[wasm_bindgen(js_namespace = Math)]
    pub fn random() -> f64;
    #[wasm_bindgen(js_name = parseFloat)]
    pub fn parse_float(text: &str) -> f64;
    /// `Date.parse(text)`: NaN when it is not a date.
    #[wasm_bindgen(js_namespace = Date, js_name = parse)]
    pub fn parse_date(text: &str) -> f64;
    /// `String(x)`: a number as JavaScript writes it. Rust's float formatting
    /// would add ~8 KB to the wasm.
    #[wasm_bindgen(js_name = String)]
    fn number_string(x: f64) -> JsValue;
}

/// A JS string as a Rust one (`""` for anything else). The imports return
/// their strings as JsValues read by this one conversion: a `String` return
/// is a glue function per import.
pub fn string(value: JsValue) -> String {
    value.as_string().unwrap_or_default()
}

/// `String(x)`: a number as JavaScript writes it. Rust's float formatting
/// would add ~8 KB to the wasm.
pub fn number_text(x: f64) -> String {
    string(number_string(x))
}

/// `JSON.stringify(value)`; `None` when it throws: on parsed JSON, nesting
/// deeper than the engine's stringify can recurse (Chromium's cannot be made
/// to throw so, others' recursive ones can).
pub fn json_text(value: &JsValue) -> Option<String> {
    json_string(value).as_string()
}

/// A random UUID v4 (`crypto.randomUUID`, or `Math.random` where crypto
/// is unavailable: insecure contexts).
pub fn uuid_v4() -> String {
    string(uuid())
}

/// The current time as an ISO-8601 string, as Segment timestamps are.
pub fn now_iso() -> String {
    string(now_iso_string())
}

impl Array {
    /// The items, first to last.
    pub fn iter(&self) -> impl Iterator<Item = JsValue> + '_ {
        (0..self.length()).map(|i| self.get(i))
    }
}

/// `globalThis[name]` (`document`, `navigator`, `localStorage`, …), or
/// `undefined` when it is absent or the browser refuses it.
pub fn global(name: &str) -> JsValue {
    GLOBAL_THIS.with(|global| get(global, name))
}

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    fn uuid() -> JsValue;

    #[wasm_bindgen(js_name = nowIso)]
    fn now_iso_string() -> JsValue;

    /// Logs `zendesk-analytics: {message}` as a console warning.
    pub fn warn(message: &str);

    /// `JSON.stringify(value)`, `undefined` when it throws.
    #[wasm_bindgen(js_name = jsonText)]
    fn json_string(value: &JsValue) -> JsValue;

    /// `Object.entries(value)`, `[]` when a getter or Proxy throws.
    fn entries(value: &JsValue) -> Array;

    /// A copy of an array's items (holes as `undefined`), `[]` when a Proxy
    /// trap throws; `undefined` for anything that is not an array.
    #[wasm_bindgen(js_name = arrayItems)]
    fn array_items(value: &JsValue) -> JsValue;

    /// What JSON writes for an object with a `toJSON` method (a Date's ISO
    /// string, a URL's text…); `undefined` for one without.
    #[wasm_bindgen(js_name = jsonReplacement)]
    fn json_replacement(value: &JsValue) -> JsValue;

    /// `obj[key]`, or `undefined` when it cannot be read.
    pub fn get(obj: &JsValue, key: &str) -> JsValue;

    /// `JSON.parse(text)`, or `undefined` when it is not JSON.
    #[wasm_bindgen(js_name = parseJson)]
    pub fn parse_json(text: &str) -> JsValue;

    /// [`parse_json`] of a string that is in JS already (a stored item, a
    /// response body): it need not cross into the wasm and back.
    #[wasm_bindgen(js_name = parseJson)]
    pub fn parse_json_value(text: &JsValue) -> JsValue;

    /// Calls the page's function `f` with `arg` (`this` null; no argument
    /// when `arg` is undefined); false when it threw.
    pub fn invoke(f: &Function, arg: &JsValue) -> bool;
}

/// How the core writes floats in wasm (see its `value::float_text`).
#[no_mangle]
pub fn zendesk_analytics_float_text(x: f64) -> String {
    number_text(x)
}

/// Converts a JS value (traits, properties, options) into the core's JSON
/// value, as `JSON.stringify` would see it: functions, symbols and undefined
/// become null, an object with `toJSON` (a Date, a URL) what that returns,
/// and nesting deeper
/// than JSON parsers accept is cut off rather than overflowing the stack.
/// More values than one event can carry stop the walk, and the call is then
/// refused with [`take_refusal`]'s reason: a circular reference, or an object
/// graph sharing its parts (exponentially large as JSON), would never end.
/// Hand-written rather than serde-wasm-bindgen's generic deserializer: this
/// runs on every call and its size counts against the wasm budget.
pub fn to_value(js: &JsValue) -> Value {
    Walk { depth: 0, values_left: MAX_VALUES }.value(js)
}

/// Deeper nesting is cut off (the event is then refused for its depth).
const MAX_DEPTH: usize = 64;
/// Each value takes at least two bytes of JSON (`0,`): more than this cannot
/// fit the 32 KB an event may have.
const MAX_VALUES: usize = 16 * 1024;

thread_local! {
    static REFUSAL: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// Why a conversion since the last call gave up on a value, if one did.
pub fn take_refusal() -> Option<&'static str> {
    REFUSAL.with(Cell::take)
}

/// One conversion: how deep it is, and what is left of its budget.
struct Walk {
    depth: usize,
    values_left: usize,
}

impl Walk {
    fn value(&mut self, js: &JsValue) -> Value {
        let Some(left) = self.values_left.checked_sub(1) else {
            return refuse("the traits, properties or options hold more values than one event can carry (32 KB of JSON), or a circular reference: send fewer, as plain data");
        };
        self.values_left = left;
        if !js.is_object() || js.is_function() || self.depth >= MAX_DEPTH {
            return scalar(js);
        }
        self.depth += 1;
        let value = self.compound(js);
        self.depth -= 1;
        value
    }

    fn compound(&mut self, js: &JsValue) -> Value {
        if let Some(array) = array_copy(js) {
            let mut items = Vec::new();
            for item in array.iter() {
                items.push(self.value(&item));
            }
            return Value::Array(items);
        }
        let replacement = json_replacement(js);
        if !replacement.is_undefined() {
            return self.value(&replacement);
        }
        let mut map = Map::new();
        for entry in entries(js).iter() {
            let pair: Array = entry.unchecked_into();
            let value = pair.get(1);
            // JSON drops members that are undefined or functions.
            if value.is_undefined() || value.is_function() {
                continue;
            }
            if let Some(key) = pair.get(0).as_string() {
                map.insert(key, self.value(&value));
            }
        }
        Value::Object(map)
    }
}

fn refuse(reason: &'static str) -> Value {
    REFUSAL.with(|refusal| refusal.set(Some(reason)));
    Value::Null
}

/// A string, number or boolean as JSON has it; null for anything else.
fn scalar(js: &JsValue) -> Value {
    if let Some(s) = js.as_string() {
        return Value::String(s);
    }
    if let Some(f) = js.as_f64() {
        return if f.is_finite() { Value::Number(Number::from_f64(f)) } else { Value::Null };
    }
    if let Some(b) = js.as_bool() {
        return Value::Bool(b);
    }
    Value::Null
}

/// A JS object's members (as [`to_value`] sees them), `None` for anything else.
pub fn to_map(js: &JsValue) -> Option<Map> {
    match to_value(js) {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A copy of an array's items (holes as `undefined`; none when a Proxy trap
/// throws), `None` for anything that is not an array.
pub fn array_copy(value: &JsValue) -> Option<Array> {
    Some(array_items(value)).filter(|items| !items.is_undefined()).map(JsCast::unchecked_into)
}

/// `obj[key]` as a string, if it is one.
pub fn get_string(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

