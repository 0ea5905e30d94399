//! Argument resolution in the browser: every call shape analytics.js accepts
//! resolves to the same id, traits, properties, options and callback.

#![cfg(target_arch = "wasm32")]

use js_sys::{Function, JSON};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;
use zendesk_analytics::args::{resolve_alias, resolve_id_call, resolve_page, resolve_track};

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

fn keys(map: &zendesk_analytics_core::Map) -> Vec<&str> {
    map.keys().map(String::as_str).collect()
}

#[wasm_bindgen_test]
fn identify_shapes() {
    // (id, traits, options, cb)
    let c = resolve_id_call(&s("u1"), &obj(r#"{"name":"Ada"}"#), &obj(r#"{"context":{}}"#), &cb());
    assert_eq!(c.id.as_deref(), Some("u1"));
    assert_eq!(keys(&c.traits), ["name"]);
    assert_eq!(keys(&c.options), ["context"]);
    assert!(c.callback.is_some());
    // numeric id becomes its string
    assert_eq!(resolve_id_call(&JsValue::from_f64(42.0), &U, &U, &U).id.as_deref(), Some("42"));
    assert_eq!(resolve_id_call(&JsValue::from_f64(1.5), &U, &U, &U).id.as_deref(), Some("1.5"));
    // (traits, options): id omitted
    let c = resolve_id_call(&obj(r#"{"email":"a@b.c"}"#), &obj(r#"{"timestamp":"2020-01-01T00:00:00Z"}"#), &U, &U);
    assert_eq!(c.id, None);
    assert_eq!(keys(&c.traits), ["email"]);
    assert_eq!(keys(&c.options), ["timestamp"]);
    // (id, cb) and (traits, cb): callback in any trailing position
    let c = resolve_id_call(&s("u1"), &cb(), &U, &U);
    assert!(c.callback.is_some() && c.traits.is_empty());
    let c = resolve_id_call(&obj(r#"{"a":1}"#), &cb(), &U, &U);
    assert!(c.callback.is_some() && c.options.is_empty());
    // nulls allowed
    let c = resolve_id_call(&N, &obj(r#"{"a":1}"#), &N, &U);
    assert_eq!(c.id, None);
    assert_eq!(keys(&c.traits), ["a"]);
    // empty string id counts as absent
    assert_eq!(resolve_id_call(&s(""), &U, &U, &U).id, None);
}

#[wasm_bindgen_test]
fn track_shapes() {
    let c = resolve_track(&s("Signed Up"), &obj(r#"{"plan":"pro"}"#), &obj(r#"{"integrations":{}}"#), &cb()).unwrap();
    assert_eq!(c.event, "Signed Up");
    assert_eq!(keys(&c.properties), ["plan"]);
    assert_eq!(keys(&c.options), ["integrations"]);
    assert!(c.callback.is_some());
    let c = resolve_track(&s("Clicked"), &cb(), &U, &U).unwrap();
    assert!(c.callback.is_some() && c.properties.is_empty());
    let c = resolve_track(&obj(r#"{"event":"Viewed","properties":{"x":1}}"#), &obj(r#"{"messageId":"m"}"#), &U, &U).unwrap();
    assert_eq!(c.event, "Viewed");
    assert_eq!(keys(&c.properties), ["x"]);
    assert_eq!(keys(&c.options), ["messageId"]);
    let c = resolve_track(&s("N"), &N, &obj(r#"{"context":{}}"#), &U).unwrap();
    assert!(c.properties.is_empty());
    assert_eq!(keys(&c.options), ["context"]);
    // no name: refused (reported as invalid, never thrown)
    assert!(resolve_track(&U, &U, &U, &U).is_none());
    assert!(resolve_track(&s("  "), &U, &U, &U).is_none());
    assert!(resolve_track(&obj("{}"), &U, &U, &U).is_none());
}

#[wasm_bindgen_test]
fn page_shapes() {
    let c = resolve_page([&s("Docs"), &s("Install"), &obj(r#"{"p":1}"#), &obj(r#"{"o":1}"#), &cb()]);
    assert_eq!((c.category.as_deref(), c.name.as_deref()), (Some("Docs"), Some("Install")));
    assert_eq!(keys(&c.properties), ["p"]);
    assert_eq!(keys(&c.options), ["o"]);
    assert!(c.callback.is_some());
    // one string is the name
    let c = resolve_page([&s("Home"), &U, &U, &U, &U]);
    assert_eq!((c.category, c.name.as_deref()), (None, Some("Home")));
    // one object is properties, two are properties and options
    let c = resolve_page([&obj(r#"{"p":1}"#), &obj(r#"{"o":1}"#), &U, &U, &U]);
    assert_eq!((c.category, c.name), (None, None));
    assert_eq!(keys(&c.properties), ["p"]);
    assert_eq!(keys(&c.options), ["o"]);
    // (null, name) keeps the name
    let c = resolve_page([&N, &s("Pricing"), &obj(r#"{"p":1}"#), &U, &U]);
    assert_eq!((c.category, c.name.as_deref()), (None, Some("Pricing")));
    // (cb) alone
    let c = resolve_page([&cb(), &U, &U, &U, &U]);
    assert!(c.callback.is_some() && c.name.is_none() && c.properties.is_empty());
}

#[wasm_bindgen_test]
fn alias_shapes() {
    let c = resolve_alias(&s("new"), &s("old"), &obj(r#"{"o":1}"#), &cb());
    assert_eq!((c.to.as_deref(), c.from.as_deref()), (Some("new"), Some("old")));
    assert_eq!(keys(&c.options), ["o"]);
    assert!(c.callback.is_some());
    let c = resolve_alias(&JsValue::from_f64(7.0), &U, &U, &U);
    assert_eq!((c.to.as_deref(), c.from), (Some("7"), None));
    let c = resolve_alias(&s("new"), &obj(r#"{"o":1}"#), &U, &U);
    assert_eq!(c.from, None);
    assert_eq!(keys(&c.options), ["o"]);
    let c = resolve_alias(&s("new"), &N, &U, &cb());
    assert!(c.from.is_none() && c.callback.is_some());
}
