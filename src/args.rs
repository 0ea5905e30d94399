//! Argument resolution: the call shapes analytics.js accepts, resolved the
//! way analytics.js resolves them: ids may be numbers, traits come first when
//! the id is omitted, nulls are allowed in any slot and the callback may sit
//! in any trailing position.

use wasm_bindgen::{JsCast, JsValue};

use crate::js::{to_map, Function};
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

/// A resolved `page` call.
#[derive(Debug, Default)]
pub struct PageCall {
    pub category: Option<String>,
    pub name: Option<String>,
    pub properties: Map,
    pub options: Map,
    pub callback: Option<Function>,
}

/// A resolved `alias` call.
#[derive(Debug, Default)]
pub struct AliasCall {
    pub to: Option<String>,
    pub from: Option<String>,
    pub options: Map,
    pub callback: Option<Function>,
}

fn is_object(v: &JsValue) -> bool {
    v.is_object() && !v.is_function()
}

fn as_map(v: &JsValue) -> Map {
    to_map(v).unwrap_or_default()
}

fn object_or_empty(v: &JsValue) -> Map {
    if is_object(v) {
        as_map(v)
    } else {
        Map::new()
    }
}

/// A string or finite number as an id (`toString()` semantics); empty
/// strings count as absent.
pub fn as_id(v: &JsValue) -> Option<String> {
    if let Some(s) = v.as_string() {
        return Some(s).filter(|s| !s.is_empty());
    }
    // `String(n)`, as analytics.js does (`toString()`).
    v.as_f64().filter(|f| f.is_finite()).map(crate::js::number_text)
}

/// The first function among `args`.
fn callback(args: &[&JsValue]) -> Option<Function> {
    args.iter().find_map(|a| a.dyn_ref::<Function>().cloned())
}

/// `(id?, traits?, options?, callback?)`; `(traits, options?, callback?)`.
pub fn resolve_id_call(a: &JsValue, b: &JsValue, c: &JsValue, d: &JsValue) -> IdCall {
    let callback = callback(&[a, b, c, d]);
    if is_object(a) {
        return IdCall { id: None, traits: as_map(a), options: object_or_empty(b), callback };
    }
    IdCall { id: as_id(a), traits: object_or_empty(b), options: object_or_empty(c), callback }
}

/// `(event, properties?, options?, callback?)` or `({event, properties}, options?)`;
/// `None` without an event name.
pub fn resolve_track(a: &JsValue, b: &JsValue, c: &JsValue, d: &JsValue) -> Option<TrackCall> {
    let callback = callback(&[b, c, d]);
    let (event, properties, options) = if is_object(a) {
        let obj = as_map(a);
        let name = obj.get("event").and_then(Value::as_str).map(str::to_owned);
        let props = obj.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
        (name, props, object_or_empty(b))
    } else {
        (as_id(a), object_or_empty(b), object_or_empty(c))
    };
    let event = event.filter(|e| !e.trim().is_empty())?;
    Some(TrackCall { event, properties, options, callback })
}

/// `(category?, name?, properties?, options?, callback?)`: one string is the
/// name, two are category and name; one object is properties, two are
/// properties and options.
pub fn resolve_page(args: [&JsValue; 5]) -> PageCall {
    let callback = callback(&args);
    // A string in either of the first two slots alone is the name
    // (`page('Home')`, `page(null, 'Home')`).
    let (category, name) = match (args[0].as_string(), args[1].as_string()) {
        (Some(category), Some(name)) => (Some(category), Some(name)),
        (name, None) | (None, name) => (None, name),
    };
    let mut objects = args.iter().filter(|a| is_object(a)).map(|o| as_map(o));
    PageCall {
        category: category.filter(|s| !s.is_empty()),
        name: name.filter(|s| !s.is_empty()),
        properties: objects.next().unwrap_or_default(),
        options: objects.next().unwrap_or_default(),
        callback,
    }
}

/// `(to, from?, options?, callback?)`; `from` may be omitted when options follow.
pub fn resolve_alias(a: &JsValue, b: &JsValue, c: &JsValue, d: &JsValue) -> AliasCall {
    let callback = callback(&[a, b, c, d]);
    if is_object(b) {
        return AliasCall { to: as_id(a), from: None, options: as_map(b), callback };
    }
    AliasCall { to: as_id(a), from: as_id(b), options: object_or_empty(c), callback }
}
