//! Argument resolution in the browser: every call shape analytics.js accepts
//! resolves to the same id, traits, properties, options and callback.

#![cfg(target_arch = "wasm32")]

use js_sys::{Function, JSON};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;
use zendesk_analytics::args::{resolve, Args, Kind};

wasm_bindgen_test_configure!(run_in_browser);

fn obj(json: &str) -> JsValue {
    JSON::parse(json).unwrap()
}
fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}
fn cb() -> JsValue {
    Function::new_no_args("").into()
}
const U: JsValue = JsValue::UNDEFINED;
const N: JsValue = JsValue::NULL;

/// Resolves a `kind` call of `args` (the rest `undefined`).
fn call(kind: Kind, args: &[JsValue]) -> Args {
    let arg = |i: usize| args.get(i).cloned().unwrap_or(U);
    resolve(kind, &[arg(0), arg(1), arg(2), arg(3), arg(4)])
}

fn keys(map: &zendesk_analytics_core::Map) -> Vec<&str> {
    map.keys().map(String::as_str).collect()
}

#[wasm_bindgen_test]
fn identify_shapes() {
    // (id, traits, options, cb)
    let c = call(Kind::Identify, &[s("u1"), obj(r#"{"name":"Ada"}"#), obj(r#"{"context":{}}"#), cb()]);
    assert_eq!(c.ids[0].as_deref(), Some("u1"));
    assert_eq!(keys(&c.objects[0]), ["name"]);
    assert_eq!(keys(&c.objects[1]), ["context"]);
    assert!(c.callback.is_some());
    // numeric id becomes its string
    assert_eq!(call(Kind::Identify, &[JsValue::from_f64(42.0)]).ids[0].as_deref(), Some("42"));
    assert_eq!(call(Kind::Identify, &[JsValue::from_f64(1.5)]).ids[0].as_deref(), Some("1.5"));
    // (traits, options): id omitted
    let c = call(Kind::Identify, &[obj(r#"{"email":"a@b.c"}"#), obj(r#"{"timestamp":"2020-01-01T00:00:00Z"}"#)]);
    assert_eq!(c.ids[0], None);
    assert_eq!(keys(&c.objects[0]), ["email"]);
    assert_eq!(keys(&c.objects[1]), ["timestamp"]);
    // (id, cb) and (traits, cb): callback in any trailing position
    let c = call(Kind::Identify, &[s("u1"), cb()]);
    assert!(c.callback.is_some() && c.objects[0].is_empty());
    let c = call(Kind::Identify, &[obj(r#"{"a":1}"#), cb()]);
    assert!(c.callback.is_some() && c.objects[1].is_empty());
    // nulls allowed, in their place
    let c = call(Kind::Identify, &[N, obj(r#"{"a":1}"#), N]);
    assert_eq!(c.ids[0], None);
    assert_eq!(keys(&c.objects[0]), ["a"]);
    let c = call(Kind::Group, &[s("g1"), N, obj(r#"{"o":1}"#)]);
    assert!(c.objects[0].is_empty());
    assert_eq!(keys(&c.objects[1]), ["o"]);
    // empty string id counts as absent
    assert_eq!(call(Kind::Identify, &[s("")]).ids[0], None);
    // a callback past the fourth argument is not one
    assert!(call(Kind::Identify, &[s("u1"), U, U, U, cb()]).callback.is_none());
}

#[wasm_bindgen_test]
fn track_shapes() {
    let c = call(Kind::Track, &[s("Signed Up"), obj(r#"{"plan":"pro"}"#), obj(r#"{"integrations":{}}"#), cb()]);
    assert_eq!(c.ids[0].as_deref(), Some("Signed Up"));
    assert_eq!(keys(&c.objects[0]), ["plan"]);
    assert_eq!(keys(&c.objects[1]), ["integrations"]);
    assert!(c.callback.is_some());
    let c = call(Kind::Track, &[s("Clicked"), cb()]);
    assert!(c.callback.is_some() && c.objects[0].is_empty());
    let c = call(Kind::Track, &[obj(r#"{"event":"Viewed","properties":{"x":1}}"#), obj(r#"{"messageId":"m"}"#)]);
    assert_eq!(c.ids[0].as_deref(), Some("Viewed"));
    assert_eq!(keys(&c.objects[0]), ["x"]);
    assert_eq!(keys(&c.objects[1]), ["messageId"]);
    let c = call(Kind::Track, &[s("N"), N, obj(r#"{"context":{}}"#)]);
    assert!(c.objects[0].is_empty());
    assert_eq!(keys(&c.objects[1]), ["context"]);
    // no name (the call refuses it: reported as invalid, never thrown)
    assert_eq!(call(Kind::Track, &[]).ids[0], None);
    assert_eq!(call(Kind::Track, &[s("  ")]).ids[0], None);
    assert_eq!(call(Kind::Track, &[obj("{}")]).ids[0], None);
    assert_eq!(call(Kind::Track, &[obj(r#"{"event":7}"#)]).ids[0], None, "the object form takes a string name only");
    assert_eq!(call(Kind::Track, &[N, obj(r#"{"event":"E"}"#)]).ids[0], None, "an object after a null is the properties");
}

#[wasm_bindgen_test]
fn page_shapes() {
    let c = call(Kind::Page, &[s("Docs"), s("Install"), obj(r#"{"p":1}"#), obj(r#"{"o":1}"#), cb()]);
    assert_eq!(c.ids.each_ref().map(Option::as_deref), [Some("Docs"), Some("Install")]);
    assert_eq!(keys(&c.objects[0]), ["p"]);
    assert_eq!(keys(&c.objects[1]), ["o"]);
    assert!(c.callback.is_some());
    // one string is the name
    let c = call(Kind::Page, &[s("Home")]);
    assert_eq!(c.ids.each_ref().map(Option::as_deref), [None, Some("Home")]);
    // one object is properties, two are properties and options
    let c = call(Kind::Page, &[obj(r#"{"p":1}"#), obj(r#"{"o":1}"#)]);
    assert_eq!(c.ids, [None, None]);
    assert_eq!(keys(&c.objects[0]), ["p"]);
    assert_eq!(keys(&c.objects[1]), ["o"]);
    // wherever they are
    let c = call(Kind::Page, &[s("Home"), obj(r#"{"p":1}"#), N, obj(r#"{"o":1}"#)]);
    assert_eq!(keys(&c.objects[1]), ["o"]);
    // (null, name) keeps the name
    let c = call(Kind::Page, &[N, s("Pricing"), obj(r#"{"p":1}"#)]);
    assert_eq!(c.ids.each_ref().map(Option::as_deref), [None, Some("Pricing")]);
    // (cb) alone
    let c = call(Kind::Page, &[cb()]);
    assert!(c.callback.is_some() && c.ids[1].is_none() && c.objects[0].is_empty());
}

#[wasm_bindgen_test]
fn alias_shapes() {
    let c = call(Kind::Alias, &[s("new"), s("old"), obj(r#"{"o":1}"#), cb()]);
    assert_eq!(c.ids.each_ref().map(Option::as_deref), [Some("new"), Some("old")]);
    assert_eq!(keys(&c.objects[1]), ["o"]);
    assert!(c.callback.is_some());
    let c = call(Kind::Alias, &[JsValue::from_f64(7.0)]);
    assert_eq!(c.ids.each_ref().map(Option::as_deref), [Some("7"), None]);
    let c = call(Kind::Alias, &[s("new"), obj(r#"{"o":1}"#)]);
    assert_eq!(c.ids[1], None);
    assert_eq!(keys(&c.objects[1]), ["o"]);
    let c = call(Kind::Alias, &[s("new"), N, U, cb()]);
    assert!(c.ids[1].is_none() && c.callback.is_some());
}
