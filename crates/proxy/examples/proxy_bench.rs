//! The proxy benchmark (`bash bench/proxy.sh`, run in the `native` profile):
//!
//! 1. Ingestion: events per second accepted durably (on disk, fsync'd, before
//!    the 200), in batches of 100 from concurrent clients, with p50/p99
//!    request latency.
//! 2. Zendesk requests per 1,000 identify+group events over 500 users, counted
//!    at the fake Zendesk: a per-event destination as the peers work (search +
//!    upsert per identify; organization upsert + user search + membership per
//!    group), then the proxy with no coalescing, coalesced, and with bulk import.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{config, http, Fake, Proxy};

const BATCH: usize = 100;
const CLIENTS: usize = 8;
const INGEST_FOR: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() {
    ingestion().await;
    let baseline = per_event_destination().await;
    println!("zendesk requests per 1,000 identify+group events over 500 users, per-event destination (peers' path): {baseline}");
    for (label, extra) in [
        ("proxy, no coalescing, no bulk", vec![("delivery.coalesce_window_ms", "0")]),
        ("proxy, coalesced single calls", vec![("delivery.coalesce_window_ms", "500")]),
        ("proxy, bulk import (create_or_update_many)", vec![("delivery.coalesce_window_ms", "500"), ("delivery.bulk_import", "true")]),
    ] {
        let used = requests_per_thousand(label, &extra).await;
        println!("  ratio to the per-event destination: {:.3}", used as f64 / baseline as f64);
    }
}

async fn ingestion() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(config(&fake.url, dir.path(), &[("write_keys.demo-write-key.events_per_second", "10000000")])).await;
    let url = format!("{}/v1/batch", proxy.url);
    let started = Instant::now();
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let url = url.clone();
        clients.push(tokio::spawn(async move {
            let http = http();
            let mut latencies = Vec::new();
            let mut n = 0usize;
            while started.elapsed() < INGEST_FOR {
                let batch: Vec<Value> = (0..BATCH)
                    .map(|i| {
                        json!({"type":"track","userId": format!("u{}", i % 500),"event":"Viewed Pricing",
                               "messageId": format!("b{client}-{n}-{i}"),"properties":{"plan":"pro","seats":5}})
                    })
                    .collect();
                let body = json!({ "batch": batch }).to_string();
                let sent = Instant::now();
                let response = http.post(&url).basic_auth("demo-write-key", Some("")).body(body).send().await.unwrap();
                assert_eq!(response.status().as_u16(), 200);
                latencies.push(sent.elapsed());
                n += 1;
            }
            latencies
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    for client in clients {
        latencies.extend(client.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "ingestion: {:.0} events/s accepted durably ({} batches of {BATCH}, {CLIENTS} clients, {elapsed:.1} s); latency p50 {:.1} ms, p99 {:.1} ms",
        (latencies.len() * BATCH) as f64 / elapsed,
        latencies.len(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
    );
    proxy.stop().await;
}

/// 500 identifies and 500 groups over 500 users: every user signs in once
/// and belongs to one of 50 companies.
fn identify_and_group_events() -> Vec<Value> {
    let identify = |u: usize| {
        json!({"type":"identify","userId": format!("user-{u}"),"traits":{"name": format!("User {u}"),"email": format!("user{u}@example.com"),"phone": "+15550100"}})
    };
    let group = |u: usize| {
        json!({"type":"group","userId": format!("user-{u}"),"groupId": format!("org-{}", u % 50),"traits":{"name": format!("Org {}", u % 50)}})
    };
    let events: Vec<Value> = (0..500).flat_map(|u| [identify(u), group(u)]).collect();
    assert_eq!(events.len(), 1000);
    events
}

/// What a per-event destination sends for the same events, straight to the
/// fake: identify = search by email + create_or_update; group = organization
/// create_or_update + search for the user + membership.
async fn per_event_destination() -> usize {
    let fake = Fake::start().await;
    let client = http();
    let call = |method: reqwest::Method, path: String, body: Option<Value>| {
        let mut request = client.request(method, format!("{}{path}", fake.url)).bearer_auth("demo-oauth-token");
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move { request.send().await.unwrap().json::<Value>().await.unwrap_or(Value::Null) }
    };
    for event in identify_and_group_events() {
        let user_id = event["userId"].as_str().unwrap_or_default().to_owned();
        if event["type"] == "identify" {
            let email = event["traits"]["email"].as_str().unwrap_or_default().to_owned();
            call(reqwest::Method::GET, format!("/api/v2/users/search.json?query=email%3A{email}"), None).await;
            let user = json!({"user": {"name": event["traits"]["name"], "email": email, "external_id": user_id}});
            call(reqwest::Method::POST, "/api/v2/users/create_or_update.json".into(), Some(user)).await;
        } else {
            let organization = json!({"organization": {"name": event["traits"]["name"], "external_id": event["groupId"]}});
            let answer = call(reqwest::Method::POST, "/api/v2/organizations/create_or_update.json".into(), Some(organization)).await;
            let found = call(reqwest::Method::GET, format!("/api/v2/users/search.json?external_id={user_id}"), None).await;
            let membership = json!({"organization_membership": {"user_id": found["users"][0]["id"], "organization_id": answer["organization"]["id"]}});
            call(reqwest::Method::POST, "/api/v2/organization_memberships.json".into(), Some(membership)).await;
        }
    }
    fake.requests().len()
}

async fn requests_per_thousand(label: &str, extra: &[(&str, &str)]) -> usize {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut overrides = vec![("delivery.requests_per_minute", "1000000")];
    overrides.extend_from_slice(extra);
    let proxy = Proxy::start(config(&fake.url, dir.path(), &overrides)).await;
    for batch in identify_and_group_events().chunks(BATCH) {
        assert_eq!(proxy.batch(batch.to_vec()).await.0, 200);
    }
    proxy.drained(Duration::from_secs(300)).await;
    let requests = fake.requests();
    let failed = requests.iter().filter(|r| r.status >= 400).count();
    println!("zendesk requests per 1,000 identify+group events over 500 users, {label}: {} ({failed} answered >= 400)", requests.len());
    proxy.stop().await;
    requests.len()
}
