//! The mapping fixtures, run inside headless Chromium: the browser build of
//! the core must map every fixture exactly as the native build does
//! (`crates/core/tests/fixtures.rs` runs the same files natively).

#![cfg(target_arch = "wasm32")]

#[path = "../crates/core/tests/support/fixture_runner.rs"]
mod fixture_runner;

use wasm_bindgen_test::*;
// Linked for the float formatting it supplies to the core in wasm (see the
// core's `value::float_text`).
use zendesk_analytics as _;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn every_fixture_maps_identically_in_the_browser() {
    let failures = fixture_runner::failures();
    assert!(failures.is_empty(), "{} fixture(s) failed in the browser:\n{}", failures.len(), failures.join("\n"));
}
