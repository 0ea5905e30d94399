//! The proxy process is SIGKILLed in the middle of delivering 10,000 accepted
//! events, then restarted on the same queue file: the fake Zendesk ends up
//! with exactly the state the events describe — nothing acknowledged is lost,
//! every user's events applied in order, nobody created twice. And a SIGTERM
//! while clients are sending loses nothing that was acknowledged.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{http, identify, Fake};

const USERS: usize = 1000;
const ROUNDS: usize = 10;

struct ProxyProcess {
    child: Child,
    url: String,
}

fn spawn_proxy(fake_url: &str, database: &std::path::Path) -> ProxyProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zendesk-proxy"))
        .env("PROXY_ADDR", "127.0.0.1:0")
        .env("PROXY_DATABASE", database)
        .env("ZENDESK_URL", fake_url)
        .env("ZENDESK_REQUESTS_PER_MINUTE", "600000")
        .env("ZENDESK_PROXY_DELIVERY__COALESCE_WINDOW_MS", "20")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("zendesk-proxy listening on ").unwrap().to_owned();
    ProxyProcess { child, url }
}

async fn depth(url: &str) -> u64 {
    let health: Value = http().get(format!("{url}/healthz")).send().await.unwrap().json().await.unwrap();
    health["queue_depth"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_delivery_loses_nothing_and_duplicates_nothing() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("queue.db");
    let mut proxy = spawn_proxy(&fake.url, &database);

    // 10,000 identifies: every user renamed ROUNDS times, rounds interleaved.
    let events: Vec<Value> = (0..ROUNDS)
        .flat_map(|round| {
            (0..USERS).map(move |u| {
                identify(&format!("m-{round}-{u}"), &format!("user-{u}"), &format!("User {u} v{round}"), &format!("user{u}@example.com"))
            })
        })
        .collect();
    for batch in events.chunks(100) {
        let response = http()
            .post(format!("{}/v1/batch", proxy.url))
            .basic_auth("demo-write-key", Some(""))
            .json(&serde_json::json!({ "batch": batch }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
    // Kill once delivery is well under way but not finished.
    let deadline = Instant::now() + Duration::from_secs(60);
    while fake.count("POST", "/api/v2/users/create_or_update") < 300 {
        assert!(Instant::now() < deadline, "delivery never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    proxy.child.kill().unwrap(); // SIGKILL
    proxy.child.wait().unwrap();
    let upserts_before = fake.count("POST", "/api/v2/users/create_or_update");

    let mut proxy = spawn_proxy(&fake.url, &database);
    let remaining = depth(&proxy.url).await;
    assert!(remaining > 0, "the kill came too late to test anything");
    let deadline = Instant::now() + Duration::from_secs(120);
    while depth(&proxy.url).await > 0 {
        assert!(Instant::now() < deadline, "the restarted proxy did not drain the queue");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("killed after {upserts_before} upserts with {remaining} events still queued");

    for u in 0..USERS {
        let users = fake.users_by_external_id(&format!("user-{u}")).await;
        assert_eq!(users.len(), 1, "user-{u} exists {} times", users.len());
        let expected = format!("User {u} v{}", ROUNDS - 1);
        assert_eq!(users[0]["name"].as_str(), Some(expected.as_str()), "user-{u} holds a stale or reordered name");
    }
    proxy.child.kill().unwrap();
    proxy.child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_clients_send_keeps_every_acknowledged_event() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("queue.db");
    let mut proxy = spawn_proxy(&fake.url, &database);
    let url = format!("{}/v1/batch", proxy.url);
    let sender = tokio::spawn(async move {
        let mut acknowledged = Vec::new();
        for b in 0..200 {
            let batch: Vec<Value> = (0..10)
                .map(|i| {
                    let u = b * 10 + i;
                    identify(&format!("t-{u}"), &format!("term-{u}"), &format!("Term {u}"), &format!("term{u}@example.com"))
                })
                .collect();
            let sent = http().post(&url).basic_auth("demo-write-key", Some("")).json(&serde_json::json!({ "batch": batch })).send().await;
            match sent {
                Ok(response) if response.status().as_u16() == 200 => acknowledged.extend((0..10).map(|i| b * 10 + i)),
                _ => break,
            }
        }
        acknowledged
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = proxy.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = proxy.child.wait().unwrap();
    assert!(status.success(), "the proxy did not exit cleanly on SIGTERM: {status}");
    let acknowledged = sender.await.unwrap();
    assert!(!acknowledged.is_empty() && acknowledged.len() < 2000, "SIGTERM came outside the sending ({} acknowledged)", acknowledged.len());

    let mut proxy = spawn_proxy(&fake.url, &database);
    let deadline = Instant::now() + Duration::from_secs(60);
    while depth(&proxy.url).await > 0 {
        assert!(Instant::now() < deadline, "the restarted proxy did not drain the queue");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for u in acknowledged {
        assert_eq!(fake.users_by_external_id(&format!("term-{u}")).await.len(), 1, "acknowledged term-{u} was lost");
    }
    proxy.child.kill().unwrap();
    proxy.child.wait().unwrap();
}
