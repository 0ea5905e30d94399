//! Argument resolution: the call shapes analytics.js accepts, resolved the
//! way analytics.js resolves them: ids may be numbers, traits come first when
//! the id is omitted, nulls are allowed in any slot and the callback may sit
//! in any trailing position.

use wasm_bindgen::{JsCast, JsValue};

use crate::js::{to_map, Function};
use zendesk_analytics_core::{Map, Value};

/// The five calls that become events.
#[derive(Clone, Copy)]
pub enum Kind {
    Identify,
    Track,
    Page,
    Group,
    Alias,
}

/// The event `type` each [`Kind`] makes, indexed by `kind as usize`: in the
/// order of its variants (a `match` measured 40 B more wasm).
pub const EVENT_TYPES: [&str; 5] = ["identify", "track", "page", "group", "alias"];

/// A call's arguments by their role. One shape for the five calls, so a
/// single resolver serves them all.
#[derive(Debug, Default)]
pub struct Args {
    /// `identify`'s userId, `group`'s groupId, `track`'s event; `page`'s
    /// category and name, `alias`'s new and previous id.
    pub ids: [Option<String>; 2],
    /// The traits or properties, then the options (`alias` has options only).
    pub objects: [Map; 2],
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

/// Resolves the arguments of a `kind` call (missing ones `undefined`).
///
/// `page(category?, name?, properties?, options?, callback?)`: one string is
/// the name, two are category and name; one object is properties, two are
/// properties and options, wherever they are.
///
/// The others take their ids (one; `alias` two), then their objects, each in
/// its place: `identify(id?, traits?, options?, callback?)`, `group` alike,
/// `track(event, properties?, options?, callback?)`, `alias(to, from?,
/// options?, callback?)`. An object where an id belongs means the ids are
/// omitted from there on: `identify(traits, options?)`, `alias(to, options)`,
/// and `track({event, properties}, options?)`.
pub fn resolve(kind: Kind, args: &[JsValue; 5]) -> Args {
    let arity = if let Kind::Page = kind { 5 } else { 4 };
    let callback = args[..arity].iter().find_map(|a| a.dyn_ref::<Function>().cloned());
    if let Kind::Page = kind {
        // A string in either of the first two slots alone is the name
        // (`page('Home')`, `page(null, 'Home')`).
        let (category, name) = match (args[0].as_string(), args[1].as_string()) {
            (Some(category), Some(name)) => (Some(category), Some(name)),
            (name, None) | (None, name) => (None, name),
        };
        let mut objects = args.iter().filter(|a| is_object(a)).map(as_map);
        let mut next_object = || objects.next().unwrap_or_default();
        let non_empty = |id: Option<String>| id.filter(|s| !s.is_empty());
        let objects = [next_object(), next_object()];
        return Args { ids: [non_empty(category), non_empty(name)], objects, callback };
    }
    let slots = if let Kind::Alias = kind { 2 } else { 1 };
    let given = args[..slots].iter().position(is_object).unwrap_or(slots);
    // Written out rather than `[0, 1].map(…)`: an array map is a loop of its own.
    let id = |i: usize| if i < given { as_id(&args[i]) } else { None };
    let mut ids = [id(0), id(1)];
    let mut objects = [object_or_empty(&args[given]), object_or_empty(&args[given + 1])];
    match kind {
        // Its one object is the options.
        Kind::Alias => objects = [Map::new(), std::mem::take(&mut objects[0])],
        Kind::Track => {
            if given == 0 {
                let call = std::mem::take(&mut objects[0]);
                ids[0] = call.get("event").and_then(Value::as_str).map(str::to_owned);
                objects[0] = call.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
            }
            // A blank name is none.
            ids[0] = ids[0].take().filter(|event| !event.trim().is_empty());
        }
        _ => {}
    }
    Args { ids, objects, callback }
}
