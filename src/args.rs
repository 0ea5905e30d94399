//! Argument resolution: the call shapes analytics.js accepts, resolved the
//! way analytics.js resolves them (ids may be numbers; traits come first when
//! the id is omitted; the callback may sit in any trailing position).

use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue};

use crate::js::to_value;
use zendesk_analytics_core::{Map, Value};

/// A resolved `identify` or `group` call.
#[derive(Debug, Default)]
pub struct IdCall {
    pub id: Option<String>,
    pub traits: Map,
    pub options: Map,
    pub callback: Option<Function>,
}

/// A resolved `track` call.
#[derive(Debug, Default)]
pub struct TrackCall {
    pub event: String,
    pub properties: Map,
    pub options: Map,
    pub callback: Option<Function>,
}

fn is_object(v: &JsValue) -> bool {
    v.is_object() && !v.is_function()
}

fn as_map(v: &JsValue) -> Map {
    match to_value(v) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn as_id(v: &JsValue) -> Option<String> {
    if let Some(s) = v.as_string() {
        return Some(s).filter(|s| !s.is_empty());
    }
    v.as_f64().filter(|f| f.is_finite()).map(|f| zendesk_analytics_core::Number::from_f64(f).to_string())
}

/// The first function among `args`: analytics.js takes the callback from any
/// trailing position.
fn callback(args: &[&JsValue]) -> Option<Function> {
    args.iter().find_map(|a| a.dyn_ref::<Function>().cloned())
}

/// `(id?, traits?, options?, callback?)`.
pub fn resolve_id_call(a: &JsValue, b: &JsValue, c: &JsValue, d: &JsValue) -> IdCall {
    let callback = callback(&[a, b, c, d]);
    if is_object(a) {
        // `identify(traits, options?)`: the id is omitted.
        return IdCall { id: None, traits: as_map(a), options: as_map(b), callback };
    }
    IdCall {
        id: as_id(a),
        traits: if is_object(b) { as_map(b) } else { Map::new() },
        options: if is_object(c) { as_map(c) } else { Map::new() },
        callback,
    }
}

/// `(event, properties?, options?, callback?)`; `None` without an event name.
pub fn resolve_track(a: &JsValue, b: &JsValue, c: &JsValue, d: &JsValue) -> Option<TrackCall> {
    let callback = callback(&[b, c, d]);
    let (event, properties) = if is_object(a) {
        // `track({event, properties})`.
        let obj = as_map(a);
        let name = obj.get("event").and_then(Value::as_str).map(str::to_owned);
        let props = obj.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
        (name, props)
    } else {
        (a.as_string(), if is_object(b) { as_map(b) } else { Map::new() })
    };
    let event = event.filter(|e| !e.trim().is_empty())?;
    Some(TrackCall { event, properties, options: if is_object(c) { as_map(c) } else { Map::new() }, callback })
}
