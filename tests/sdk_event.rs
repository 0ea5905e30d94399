//! Event building in the browser: ids and times fixed at call time, Segment's
//! option placement, the automatic context, the 32 KB cap.

#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;
use zendesk_analytics::context::{campaign, current_page, StaticContext, LIBRARY_NAME};
use zendesk_analytics::event::{build, finish, MAX_EVENT_BYTES};
use zendesk_analytics::identity::{Identity, Party};
use zendesk_analytics_core::{Map, ToJson, Value};

wasm_bindgen_test_configure!(run_in_browser);

fn identity() -> Identity {
    let mut identity = Identity { anonymous_id: "a1".into(), user: Party::default(), group: Party::default() };
    identity.user.id = Some("u1".into());
    identity
}

fn parse(json: &str) -> Map {
    match zendesk_analytics::js::to_value(&js_sys::JSON::parse(json).unwrap()) {
        Value::Object(m) => m,
        other => panic!("not an object: {other:?}"),
    }
}

fn context() -> Map {
    StaticContext::read().with_page(current_page())
}

#[wasm_bindgen_test]
fn ids_times_and_context_are_set_when_the_call_is_made() {
    let mut fields = Map::new();
    fields.insert("event".into(), "Signed Up".into());
    let event = finish(build("track", &identity(), fields, Map::new(), context())).unwrap();
    let e = parse(&event.json);
    assert_eq!(e["type"], Value::from("track"));
    assert_eq!(e["userId"], Value::from("u1"));
    assert_eq!(e["anonymousId"], Value::from("a1"));
    assert_eq!(e["messageId"].as_str().unwrap().len(), 36);
    assert_eq!(event.message_id, e["messageId"].as_str().unwrap());
    let timestamp = e["timestamp"].as_str().unwrap();
    assert!(!js_sys::Date::parse(timestamp).is_nan(), "ISO timestamp: {timestamp}");
    assert!(!e.contains_key("sentAt"), "sentAt is set per batch at send");
    let ctx = e["context"].as_object().unwrap();
    assert_eq!(ctx["library"].as_object().unwrap()["name"], Value::from(LIBRARY_NAME));
    assert!(ctx["userAgent"].as_str().unwrap().contains("Chrome"));
    assert!(ctx["locale"].as_str().is_some());
    assert!(ctx["timezone"].as_str().is_some_and(|tz| tz.contains('/') || tz == "UTC"));
    let page = ctx["page"].as_object().unwrap();
    for key in ["url", "path", "referrer", "title", "search"] {
        assert!(page.contains_key(key), "context.page.{key}");
    }
    let url = web_sys::window().unwrap().location().href().unwrap();
    assert_eq!(page["url"], Value::from(url.as_str()));

    let again = finish(build("track", &identity(), Map::new(), Map::new(), context())).unwrap();
    assert_ne!(again.message_id, event.message_id, "every call gets its own messageId");
}

#[wasm_bindgen_test]
fn options_go_where_segment_puts_them() {
    let options = parse(
        r#"{"userId":"override","anonymousId":"anon-2","messageId":"my-id","timestamp":"2024-01-01T00:00:00.000Z",
            "integrations":{"Zendesk":false},"context":{"ip":"1.2.3.4","page":{"title":"Custom"}},"traits":{"plan":"pro"}}"#,
    );
    let e = parse(&finish(build("identify", &identity(), Map::new(), options, context())).unwrap().json);
    assert_eq!(e["userId"], Value::from("override"));
    assert_eq!(e["anonymousId"], Value::from("anon-2"));
    assert_eq!(e["messageId"], Value::from("my-id"));
    assert_eq!(e["timestamp"], Value::from("2024-01-01T00:00:00.000Z"));
    assert_eq!(e["integrations"].as_object().unwrap()["Zendesk"], Value::Bool(false));
    let ctx = e["context"].as_object().unwrap();
    assert_eq!(ctx["ip"], Value::from("1.2.3.4"));
    assert!(ctx["traits"].as_object().is_some(), "unknown options go into context");
    let page = ctx["page"].as_object().unwrap();
    assert_eq!(page["title"], Value::from("Custom"));
    assert!(page.contains_key("url"), "options.context.page is merged, not replacing the page");
}

#[wasm_bindgen_test]
fn campaign_comes_from_utm_parameters() {
    let c = campaign("?utm_source=news&utm_campaign=spring%20sale&utm_medium=email&utm_term=a+b&x=1");
    assert_eq!(c["source"], Value::from("news"));
    assert_eq!(c["name"], Value::from("spring sale"));
    assert_eq!(c["medium"], Value::from("email"));
    assert_eq!(c["term"], Value::from("a b"));
    assert!(!c.contains_key("x"));
    assert_eq!(campaign("?utm_content=%E0%A4%A")["content"], Value::from("%E0%A4%A"), "malformed escapes kept raw");
}

#[wasm_bindgen_test]
fn an_event_over_32_kb_is_invalid_with_a_reason() {
    let mut fields = Map::new();
    fields.insert("properties".into(), Value::Object([("blob".to_string(), Value::from("x".repeat(MAX_EVENT_BYTES)))].into()));
    let reason = finish(build("track", &identity(), fields, Map::new(), context())).unwrap_err();
    assert!(reason.contains("32768-byte limit"), "{reason}");
}

#[wasm_bindgen_test]
fn json_text_round_trips_through_the_browser_parser() {
    let value = parse(r#"{"s":"quote \" backslash \\ newline \n tab \t ctl \u0001 é 🚀","n":-1.5,"i":42,"b":true,"z":null,"a":[1,{"k":[]}]}"#);
    let text = value.to_json();
    assert_eq!(parse(&text), value);
}

#[wasm_bindgen_test]
fn what_the_page_passes_is_read_without_throwing_into_it() {
    // An invalid Date (its toISOString throws) becomes null, as JSON.stringify
    // writes it; an object whose getter throws, or an array whose Proxy trap
    // throws, is read as empty, not thrown; an array's holes are null.
    let page_values = js_sys::eval(
        "({ at: new Date(NaN), when: new Date(0), bad: { get x() { throw new Error('getter'); } },
            list: new Proxy([1, 2], { get() { throw new Error('trap'); } }), holes: [1, , 3] })",
    )
    .expect("the test's own expression");
    let read = zendesk_analytics::js::to_value(&page_values);
    let expected = parse(r#"{"at":null,"when":"1970-01-01T00:00:00.000Z","bad":{},"list":[],"holes":[1,null,3]}"#);
    assert_eq!(read, Value::Object(expected));
}

#[wasm_bindgen_test]
fn objects_with_to_json_are_read_as_json_writes_them() {
    // A URL, a money type and a plain object with toJSON: what the method
    // returns, as JSON.stringify sends it (not the object's own members).
    let page_values = js_sys::eval(
        "class Money { constructor(c) { this.cents = c; this.currency = 'EUR'; } toJSON() { return `${this.cents / 100} ${this.currency}`; } }
         ({ url: new URL('https://example.com/a?b=1'), price: new Money(1234), own: { toJSON() { return { kept: 1 }; }, hidden: 'x' },
            selfish: { toJSON() { return this; } } })",
    )
    .expect("the test's own expression");
    let read = zendesk_analytics::js::to_value(&page_values);
    let Value::Object(read) = read else { panic!("an object: {read:?}") };
    assert_eq!(read.get("url"), Some(&Value::String("https://example.com/a?b=1".into())));
    assert_eq!(read.get("price"), Some(&Value::String("12.34 EUR".into())));
    assert_eq!(read.get("own"), Some(&Value::Object(parse(r#"{"kept":1}"#))));
    assert!(read.get("selfish").is_some(), "a toJSON returning its own object ends");
}
