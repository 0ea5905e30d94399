//! Queue persistence in the browser: bounded, deduplicated by messageId,
//! surviving a reload, and adopted by exactly one tab.

#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;
use zendesk_analytics::persist::Persisted;
use zendesk_analytics::queue::{Queue, Queued, MAX_EVENTS};
use zendesk_analytics::storage::{local_get, local_set};

wasm_bindgen_test_configure!(run_in_browser);

fn event(id: &str) -> Queued {
    Queued { message_id: id.into(), json: format!(r#"{{"type":"track","event":"E","messageId":"{id}"}}"#), attempts: 0, mapped: true }
}

fn clear_storage() {
    web_sys::window().unwrap().local_storage().unwrap().unwrap().clear().unwrap();
}

fn ids(queue: &Queue) -> Vec<&str> {
    queue.events().iter().map(|e| e.message_id.as_str()).collect()
}

#[wasm_bindgen_test]
fn duplicates_by_message_id_are_kept_once() {
    let mut queue = Queue::default();
    queue.push(event("m1"));
    queue.push(event("m2"));
    queue.push(event("m1"));
    assert_eq!(ids(&queue), ["m1", "m2"]);
}

#[wasm_bindgen_test]
fn the_queue_is_bounded_and_drops_the_oldest() {
    let mut queue = Queue::default();
    let mut evicted = Vec::new();
    for i in 0..MAX_EVENTS + 5 {
        evicted.extend(queue.push(event(&format!("m{i}"))));
    }
    assert_eq!(queue.len(), MAX_EVENTS);
    assert_eq!(evicted.iter().map(|e| e.message_id.as_str()).collect::<Vec<_>>(), ["m0", "m1", "m2", "m3", "m4"]);
}

#[wasm_bindgen_test]
fn batches_respect_the_byte_limit_and_failures_count_attempts() {
    let mut queue = Queue::default();
    for i in 0..10 {
        queue.push(event(&format!("m{i}")));
    }
    let one = event("m0").json.len() + 1;
    assert_eq!(queue.batch(one * 3).len(), 3);
    assert_eq!(queue.batch(1).len(), 1, "an event larger than the limit still goes alone");
    let first: Vec<String> = queue.batch(one * 2).iter().map(|e| e.message_id.clone()).collect();
    for _ in 0..9 {
        assert!(queue.fail(&first, 10).is_empty());
    }
    let exhausted = queue.fail(&first, 10);
    assert_eq!(exhausted.len(), 2, "the 10th failed attempt gives up");
    assert_eq!(queue.len(), 8);
    queue.remove(&["m5".to_string()]);
    assert!(!ids(&queue).contains(&"m5"));
}

#[wasm_bindgen_test]
fn an_event_awaiting_its_mapping_holds_back_later_ones_until_mapped() {
    let mut queue = Queue::default();
    queue.push(event("before"));
    queue.push(Queued { mapped: false, ..event("early") });
    queue.push(event("after"));
    let batch: Vec<&str> = queue.batch(usize::MAX).iter().map(|e| e.message_id.as_str()).collect();
    assert_eq!(batch, ["before"], "batches keep call order");
    queue.push(event("early"));
    assert_eq!(queue.batch(usize::MAX).len(), 3, "queued again once mapped, it is let into batches");
    assert_eq!(ids(&queue), ["before", "early", "after"], "in its place, once");
}

#[wasm_bindgen_test]
fn a_saved_queue_survives_a_reload_with_its_attempts() {
    clear_storage();
    let mut queue = Queue::default();
    queue.push(event("r1"));
    queue.push(event("r2"));
    queue.fail(&["r1".to_string()], 10);
    let tab = Persisted::new("wk-reload");
    assert!(tab.save(&queue, true));
    // The next page: a new tab id adopts the closed entry.
    let mut next = Queue::default();
    assert!(Persisted::new("wk-reload").adopt_orphans(&mut next).is_some());
    assert_eq!(ids(&next), ["r1", "r2"]);
    assert_eq!(next.events()[0].attempts, 1);
    assert_eq!(next.events()[1].json, event("r2").json);
    let mut again = Queue::default();
    Persisted::new("wk-reload").adopt_orphans(&mut again);
    assert!(again.is_empty(), "adopted entries are removed: no second tab sends them");
}

#[wasm_bindgen_test]
fn a_live_tab_keeps_its_events_and_another_write_key_is_untouched() {
    clear_storage();
    let mut queue = Queue::default();
    queue.push(event("live"));
    Persisted::new("wk-live").save(&queue, false);
    Persisted::new("wk-other").save(&queue, true);
    let mut adopted = Queue::default();
    Persisted::new("wk-live").adopt_orphans(&mut adopted);
    assert!(adopted.is_empty(), "a tab with a fresh heartbeat keeps its own queue");
    let mut other = Queue::default();
    Persisted::new("wk-other").adopt_orphans(&mut other);
    assert_eq!(ids(&other), ["live"]);
}

#[wasm_bindgen_test]
fn a_held_lock_stops_a_second_tab_from_adopting() {
    clear_storage();
    let mut queue = Queue::default();
    queue.push(event("locked"));
    Persisted::new("wk-lock").save(&queue, true);
    let until = js_sys::Date::now() + 60_000.0;
    local_set("za_lock:wk-lock", &format!("another-tab|{until}"));
    let mut adopted = Queue::default();
    assert!(Persisted::new("wk-lock").adopt_orphans(&mut adopted).is_none());
    assert!(adopted.is_empty());
    assert!(local_get("za_lock:wk-lock").is_some_and(|l| l.starts_with("another-tab")));
}

#[wasm_bindgen_test]
fn an_unreadable_stored_queue_is_skipped() {
    clear_storage();
    local_set("za_q:wk-bad:dead-tab", "{not json");
    local_set("za_q:wk-bad:other", r#"{"t":0,"c":true,"q":[{"a":0,"e":{"no":"id"}},{"a":2,"e":{"messageId":"ok"}}]}"#);
    let mut adopted = Queue::default();
    Persisted::new("wk-bad").adopt_orphans(&mut adopted);
    assert_eq!(ids(&adopted), ["ok"]);
    assert_eq!(adopted.events()[0].attempts, 2);
}

#[wasm_bindgen_test]
fn events_a_full_queue_pushes_out_while_adopting_are_counted() {
    clear_storage();
    let stored: Vec<String> = (0..MAX_EVENTS + 2)
        .map(|i| format!(r#"{{"a":0,"e":{{"messageId":"m{i}"}}}}"#))
        .collect();
    local_set("za_q:wk-full:dead-tab", &format!(r#"{{"t":0,"c":true,"q":[{}]}}"#, stored.join(",")));
    let mut adopted = Queue::default();
    let evicted = Persisted::new("wk-full").adopt_orphans(&mut adopted);
    assert_eq!(evicted, Some(2), "the caller hears of the events pushed out");
    assert_eq!(adopted.len(), MAX_EVENTS);
    assert_eq!(ids(&adopted)[0], "m2", "the oldest went");
}
