//! Runs the mapping fixtures. Shared, through `#[path]`, by the native test
//! (`crates/core/tests/fixtures.rs`) and the in-browser test
//! (`tests/core_in_browser.rs`), so both builds are held to the same files.
//!
//! A fixture file is a JSON array of cases:
//! `{"name": "...", "settings": {...}, "event": {...}, "expected": <Mapping as JSON>}`.

use zendesk_analytics_core::{map_event, Event, Settings, ToJson, Value};

/// Every fixture file, embedded so the wasm build needs no filesystem.
pub const FIXTURE_FILES: &[(&str, &str)] = &[
    ("identify.json", include_str!("../fixtures/identify.json")),
    ("group.json", include_str!("../fixtures/group.json")),
    ("track.json", include_str!("../fixtures/track.json")),
    ("alias.json", include_str!("../fixtures/alias.json")),
    ("connect.json", include_str!("../fixtures/connect.json")),
];

/// Runs every case and returns one line per failure.
pub fn failures() -> Vec<String> {
    let mut failures = Vec::new();
    for (file, text) in FIXTURE_FILES {
        let cases: Vec<serde_json::Value> =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{file}: {e}"));
        for case in cases {
            let name = case["name"].as_str().unwrap_or("?").to_owned();
            let settings: Settings = serde_json::from_value(case["settings"].clone())
                .unwrap_or_else(|e| panic!("{file} {name}: settings: {e}"));
            // The browser reads settings and writes mappings without serde:
            // both must agree with serde.
            let settings_value: Value = serde_json::from_value(case["settings"].clone()).unwrap();
            if Settings::from_value(&settings_value).as_ref() != Ok(&settings) {
                failures.push(format!("{file} {name}: Settings::from_value differs from serde"));
            }
            let event: Value = serde_json::from_value(case["event"].clone()).unwrap();
            let actual = match Event::from_value(&event) {
                Ok(event) => {
                    let mapping = map_event(&event, &settings);
                    let actual = serde_json::to_value(&mapping).unwrap();
                    // serde_json's objects sort their keys, as the core's do: the
                    // texts agree byte for byte.
                    let (text, serde_text) = (mapping.to_json(), actual.to_string());
                    if text != serde_text {
                        failures.push(format!("{file} {name}: to_json differs from serde:\n  serde   {serde_text}\n  to_json {text}"));
                    }
                    actual
                }
                Err(e) => serde_json::json!({ "error": e.to_string() }),
            };
            if actual != case["expected"] {
                failures.push(format!("{file} {name}:\n  expected {}\n  actual   {}", case["expected"], actual));
            }
        }
    }
    failures
}
