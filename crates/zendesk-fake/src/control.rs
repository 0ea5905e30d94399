//! `/__fake/…`: the fake's control panel, for tests in other languages and
//! for trying the proxy against a misbehaving Zendesk by hand. Not part of
//! Zendesk; served without authentication (the fake listens on 127.0.0.1).
//!
//! `POST /__fake/faults` with any of:
//! `{"core_rpm": 200, "export_rpm": 10, "error_rate": 0.1, "latency_ms": 250,
//!   "bulk_import": false, "throttle_next": 3, "retry_after_secs": 5,
//!   "edge_throttle_next": 1, "fail_next": 2, "search_lag_ms": 2000}` (`core_rpm`/`export_rpm` 0
//!   lifts the limit; `search_lag_ms`: how long new users stay out of search results);
//! `GET /__fake/requests`: every request answered, oldest first.

use std::time::Duration;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::FakeZendesk;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Faults {
    core_rpm: Option<usize>,
    export_rpm: Option<usize>,
    error_rate: Option<f64>,
    latency_ms: Option<u64>,
    bulk_import: Option<bool>,
    throttle_next: Option<usize>,
    retry_after_secs: Option<u64>,
    edge_throttle_next: Option<usize>,
    fail_next: Option<usize>,
    search_lag_ms: Option<u64>,
}

pub fn routes() -> Router<FakeZendesk> {
    Router::new().route("/__fake/faults", post(set_faults)).route("/__fake/requests", get(requests))
}

async fn set_faults(State(fake): State<FakeZendesk>, Json(faults): Json<Faults>) -> Json<Value> {
    let minute = Duration::from_secs(60);
    match faults.core_rpm {
        Some(0) => fake.lift_core_limit(),
        Some(rpm) => fake.limit_core(rpm, minute),
        None => {}
    }
    match faults.export_rpm {
        Some(0) => fake.lift_export_limit(),
        Some(rpm) => fake.limit_exports(rpm, minute),
        None => {}
    }
    if let Some(rate) = faults.error_rate {
        fake.set_error_rate(rate);
    }
    if let Some(ms) = faults.latency_ms {
        fake.set_latency(Duration::from_millis(ms));
    }
    if let Some(enabled) = faults.bulk_import {
        fake.set_bulk_import(enabled);
    }
    if let Some(count) = faults.throttle_next {
        fake.throttle_next(count, Duration::from_secs(faults.retry_after_secs.unwrap_or(1)));
    }
    if let Some(count) = faults.edge_throttle_next {
        fake.throttle_next_at_edge(count);
    }
    if let Some(count) = faults.fail_next {
        fake.fail_next(count, 503);
    }
    if let Some(ms) = faults.search_lag_ms {
        fake.set_search_lag(Duration::from_millis(ms));
    }
    Json(json!({ "ok": true }))
}

async fn requests(State(fake): State<FakeZendesk>) -> Json<Value> {
    let started = fake.started;
    let list: Vec<Value> = fake
        .requests()
        .into_iter()
        .map(|r| json!({ "method": r.method, "path": r.path_and_query, "status": r.status, "ms": r.at.duration_since(started).as_millis() as u64 }))
        .collect();
    Json(json!({ "requests": list }))
}
