//! Identity storage in a real browser: cookie and localStorage mirroring,
//! the cookie winning a disagreement, memory when storage is blocked, a
//! userId change resetting the anonymousId, reset().

#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;
use zendesk_analytics::identity::{Identity, ANONYMOUS_ID_KEY, USER_ID_KEY};
use zendesk_analytics::storage::{cookie_get, cookie_set, local_get, local_set};
use zendesk_analytics_core::{Map, Value};

wasm_bindgen_test_configure!(run_in_browser);

fn clear() {
    web_sys::window().unwrap().local_storage().unwrap().unwrap().clear().unwrap();
    for key in [USER_ID_KEY, ANONYMOUS_ID_KEY, "za_gid"] {
        cookie_set(key, None);
    }
}

fn traits(pairs: &[(&str, &str)]) -> Map {
    pairs.iter().map(|(k, v)| (k.to_string(), Value::from(*v))).collect()
}

#[wasm_bindgen_test]
fn a_new_visitor_gets_a_uuid_stored_in_cookie_and_local_storage() {
    clear();
    let identity = Identity::load();
    assert_eq!(identity.anonymous_id.len(), 36);
    assert_eq!(identity.anonymous_id.as_bytes()[14], b'4', "UUID v4");
    assert_eq!(cookie_get(ANONYMOUS_ID_KEY).as_deref(), Some(identity.anonymous_id.as_str()));
    assert_eq!(local_get(ANONYMOUS_ID_KEY).as_deref(), Some(identity.anonymous_id.as_str()));
    assert_eq!(Identity::load().anonymous_id, identity.anonymous_id, "the next page load keeps it");
}

#[wasm_bindgen_test]
fn the_cookie_wins_when_the_stores_disagree_and_local_storage_is_resynced() {
    clear();
    cookie_set(USER_ID_KEY, Some("from-cookie"));
    local_set(USER_ID_KEY, "from-local");
    let identity = Identity::load();
    assert_eq!(identity.user.id.as_deref(), Some("from-cookie"));
    assert_eq!(local_get(USER_ID_KEY).as_deref(), Some("from-cookie"));
}

#[wasm_bindgen_test]
fn a_value_only_in_local_storage_is_restored_to_the_cookie() {
    clear();
    local_set(USER_ID_KEY, "only-local");
    let identity = Identity::load();
    assert_eq!(identity.user.id.as_deref(), Some("only-local"));
    assert_eq!(cookie_get(USER_ID_KEY).as_deref(), Some("only-local"));
}

#[wasm_bindgen_test]
fn traits_are_kept_in_local_storage_only_and_merged_for_the_same_user() {
    clear();
    let mut identity = Identity::load();
    identity.identify(Some("u1"), &traits(&[("name", "Ada")])).unwrap();
    identity.identify(Some("u1"), &traits(&[("email", "ada@example.com")])).unwrap();
    assert_eq!(identity.user.traits.len(), 2);
    let reloaded = Identity::load();
    assert_eq!(reloaded.user.traits, identity.user.traits);
    assert!(local_get("za_user_traits").is_some_and(|t| t.contains("ada@example.com")));
    let cookies = web_sys::window().unwrap().document().unwrap();
    let cookies = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlDocument>(cookies).unwrap().cookie().unwrap();
    assert!(!cookies.contains("example.com"), "traits never go into cookies: {cookies}");
}

#[wasm_bindgen_test]
fn an_identify_repeating_the_known_traits_writes_nothing() {
    clear();
    let mut identity = Identity::load();
    identity.identify(Some("u1"), &traits(&[("name", "Ada"), ("plan", "pro")])).unwrap();
    // Marks the stored copy: a write would replace it.
    local_set("za_user_traits", r#"{"marker":"untouched"}"#);
    identity.identify(Some("u1"), &traits(&[("plan", "pro")])).unwrap();
    identity.identify(Some("u1"), &traits(&[("plan", "pro"), ("name", "Ada")])).unwrap();
    assert_eq!(local_get("za_user_traits").as_deref(), Some(r#"{"marker":"untouched"}"#));
    identity.identify(Some("u1"), &traits(&[("plan", "enterprise")])).unwrap();
    let stored = local_get("za_user_traits").unwrap_or_default();
    assert!(stored.contains("enterprise") && stored.contains("Ada"), "a change is stored whole: {stored}");
}

#[wasm_bindgen_test]
fn another_user_on_the_device_gets_a_new_anonymous_id_and_no_traits() {
    clear();
    let mut identity = Identity::load();
    identity.identify(Some("u1"), &traits(&[("name", "Ada")])).unwrap();
    let first_anonymous = identity.anonymous_id.clone();
    identity.identify(Some("u1"), &Map::new()).unwrap();
    assert_eq!(identity.anonymous_id, first_anonymous, "same user: same anonymousId");
    identity.identify(Some("u2"), &Map::new()).unwrap();
    assert_ne!(identity.anonymous_id, first_anonymous);
    assert!(identity.user.traits.is_empty());
    let reloaded = Identity::load();
    assert_eq!(reloaded.anonymous_id, identity.anonymous_id);
    assert!(reloaded.user.traits.is_empty(), "the previous user's traits do not come back on the next page");
}

#[wasm_bindgen_test]
fn another_group_starts_without_the_previous_groups_traits() {
    clear();
    let mut identity = Identity::load();
    identity.group(Some("g1"), &traits(&[("plan", "pro")])).unwrap();
    identity.group(Some("g2"), &Map::new()).unwrap();
    assert!(identity.group.traits.is_empty());
    assert!(Identity::load().group.traits.is_empty(), "not on the next page either");
}

#[wasm_bindgen_test]
fn a_first_identify_keeps_the_anonymous_id() {
    clear();
    let mut identity = Identity::load();
    let anonymous = identity.anonymous_id.clone();
    identity.identify(Some("u1"), &Map::new()).unwrap();
    assert_eq!(identity.anonymous_id, anonymous, "anonymous visitor becoming known is the same person");
}

#[wasm_bindgen_test]
fn reset_clears_everything() {
    clear();
    let mut identity = Identity::load();
    identity.identify(Some("u1"), &traits(&[("name", "Ada")])).unwrap();
    identity.group(Some("g1"), &traits(&[("plan", "pro")])).unwrap();
    let anonymous = identity.anonymous_id.clone();
    identity.reset();
    assert_eq!(identity.user.id, None);
    assert_eq!(identity.group.id, None);
    assert!(identity.user.traits.is_empty() && identity.group.traits.is_empty());
    assert_ne!(identity.anonymous_id, anonymous);
    let reloaded = Identity::load();
    assert_eq!((reloaded.user.id, reloaded.group.id), (None, None));
    assert!(reloaded.user.traits.is_empty());
    assert_eq!(cookie_get(USER_ID_KEY), None);
}

#[wasm_bindgen_test]
fn blocked_storage_falls_back_to_memory() {
    clear();
    // Make every localStorage write throw, as Safari's blocked storage does.
    js_sys::eval("window.__setItem = Storage.prototype.setItem; Storage.prototype.setItem = function () { throw new DOMException('blocked', 'SecurityError'); }").unwrap();
    let mut identity = Identity::load();
    identity.identify(Some("u-mem"), &traits(&[("name", "Ada")])).unwrap();
    let anonymous = identity.anonymous_id.clone();
    js_sys::eval("Storage.prototype.setItem = window.__setItem").unwrap();
    assert_eq!(identity.user.id.as_deref(), Some("u-mem"));
    assert_eq!(identity.user.traits.len(), 1, "traits kept in memory");
    assert_eq!(local_get(USER_ID_KEY), None);
    // The cookie still carried the ids.
    assert_eq!(Identity::load().anonymous_id, anonymous);
}
