//! The PostgreSQL queue shared by several proxy instances, against a real
//! PostgreSQL server the test starts on 127.0.0.1: events claimed by one
//! instance are never delivered by another, a messageId accepted by one is a
//! duplicate for all, and two instances behind a load balancer deliver every
//! event exactly once.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use support::{config, identify, Fake, Proxy};
use test_postgres::Postgres;
use zendesk_proxy::ingest::Prepared;
use zendesk_proxy::queue::{now_ms, Queue};

fn prepared(message_id: &str, user_key: &str) -> Prepared {
    Prepared { message_id: message_id.into(), user_key: user_key.into(), previous_key: None, body: "{}".into() }
}

async fn open(url: &str) -> Queue {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || Queue::open(Path::new(&url))).await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_claimed_by_one_instance_is_not_due_for_another() {
    let pg = Postgres::start();
    let (first, second) = (open(&pg.url()).await, open(&pg.url()).await);
    let events = vec![prepared("a1", "a"), prepared("b1", "b"), prepared("a2", "a")];
    assert_eq!(first.enqueue("k", events.clone()).await.unwrap(), 3);
    assert_eq!(second.enqueue("k", events).await.unwrap(), 0, "a messageId accepted by one instance is a duplicate for all");
    let (taken, rest) = first
        .blocking(|q| Ok((q.due(2, now_ms())?, q.depth()?)))
        .await
        .unwrap();
    assert_eq!(taken.iter().map(|e| e.message_id.as_str()).collect::<Vec<_>>(), ["a1", "b1"]);
    assert_eq!(rest, 3);
    // a2 waits behind a1, which the first instance holds.
    assert!(second.blocking(|q| q.due(10, now_ms())).await.unwrap().is_empty());
    let (a1, b1) = (taken[0].seq, taken[1].seq);
    first.blocking(move |q| q.complete(&[a1])).await.unwrap();
    let next: Vec<String> = second.blocking(|q| q.due(10, now_ms())).await.unwrap().into_iter().map(|e| e.message_id).collect();
    assert_eq!(next, ["a2"]);
    first.blocking(move |q| q.dead_letter(b1, "422 RecordInvalid")).await.unwrap();
    let letters = second.blocking(|q| q.dead_letters()).await.unwrap();
    assert_eq!((letters[0].message_id.as_str(), letters[0].reason.as_str()), ("b1", "422 RecordInvalid"));
    assert_eq!(second.blocking(|q| q.replay(&[])).await.unwrap(), 1);
    assert_eq!(second.blocking(|q| q.depth()).await.unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behind_a_load_balancer_deliver_every_event_exactly_once() {
    let pg = Postgres::start();
    let fake = Fake::start().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let shared = [("database", pg.url()), ("delivery.requests_per_minute", "6000".to_owned())];
    let shared: Vec<(&str, &str)> = shared.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = Proxy::start(config(&fake.url, dir_a.path(), &shared)).await;
    let b = Proxy::start(config(&fake.url, dir_b.path(), &shared)).await;
    let users = 40;
    for u in 0..users {
        let user = format!("user-{u}");
        let events = vec![
            identify(&format!("i{u}"), &user, &format!("User {u}"), &format!("user{u}@example.com")),
            json!({"type": "track", "messageId": format!("t{u}-1"), "userId": user, "event": "Viewed Pricing"}),
            json!({"type": "track", "messageId": format!("t{u}-2"), "userId": user, "event": "Started Trial"}),
        ];
        // The load balancer spreads one user's calls over both instances, and
        // a client retry lands on the other one.
        let (one, other) = if u % 2 == 0 { (&a, &b) } else { (&b, &a) };
        assert_eq!(one.batch(events[..2].to_vec()).await.0, 200);
        assert_eq!(other.batch(events[1..].to_vec()).await.0, 200);
    }
    a.drained(Duration::from_secs(60)).await;
    b.drained(Duration::from_secs(60)).await;
    for u in 0..users {
        let found = fake.users_by_external_id(&format!("user-{u}")).await;
        assert_eq!(found.len(), 1, "user-{u}");
        let events = fake.get(&format!("/api/v2/users/{}/events", found[0]["id"])).await;
        let mut kinds: Vec<&str> = events["data"].as_array().unwrap().iter().filter_map(|e| e["type"].as_str()).collect();
        kinds.sort();
        assert_eq!(kinds, ["Started Trial", "Viewed Pricing"], "user-{u}: each event once, none lost");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_given_back_on_shutdown_are_taken_by_another_instance_at_once() {
    let pg = Postgres::start();
    let (leaving, staying) = (open(&pg.url()).await, open(&pg.url()).await);
    leaving.enqueue("k", vec![prepared("m1", "a"), prepared("m2", "b")]).await.unwrap();
    assert_eq!(leaving.blocking(|q| q.due(10, now_ms())).await.unwrap().len(), 2);
    assert!(staying.blocking(|q| q.due(10, now_ms())).await.unwrap().is_empty());
    leaving.blocking(|q| q.release_claims()).await.unwrap();
    assert_eq!(staying.blocking(|q| q.due(10, now_ms())).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_reconnects_after_the_database_restarts() {
    let pg = Postgres::start();
    let queue = open(&pg.url()).await;
    queue.enqueue("k", vec![prepared("before", "a")]).await.unwrap();
    pg.restart();
    // Each connection may meet the cut once (the client gets a 5xx and
    // retries, delivery retries a second later); then it has reconnected.
    let depth = match queue.blocking(|q| q.depth()).await {
        Ok(depth) => depth,
        Err(_) => queue.blocking(|q| q.depth()).await.expect("reconnected"),
    };
    assert_eq!(depth, 1, "the event accepted before the restart is still queued");
    let accepted = match queue.enqueue("k", vec![prepared("after", "a")]).await {
        Ok(n) => n,
        Err(_) => queue.enqueue("k", vec![prepared("after", "a")]).await.expect("reconnected"),
    };
    assert_eq!(accepted, 1);
}
