//! The table-driven mapping suite: every case in `fixtures/*.json`.

#[path = "support/fixture_runner.rs"]
mod fixture_runner;

#[test]
fn every_fixture_maps_to_its_expected_operations() {
    let failures = fixture_runner::failures();
    assert!(failures.is_empty(), "{} fixture(s) failed:\n{}", failures.len(), failures.join("\n"));
}
