//! Delivery as a user observes it at the (fake) Zendesk: users appear and
//! update, identifies of one user are coalesced, and final failures land in
//! the dead-letter table, listable and replayable from the CLI.

mod support;

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use support::{config, identify, stack, Fake, Proxy};

#[tokio::test]
async fn an_identify_becomes_a_zendesk_user_and_a_second_one_updates_it() {
    let (fake, proxy, _dir) = stack(&[]).await;
    proxy.deliver(vec![identify("m1", "u1", "Ada Lovelace", "ada@example.com")]).await;
    let users = fake.users_by_external_id("u1").await;
    assert_eq!(users.len(), 1);
    assert_eq!((users[0]["name"].as_str(), users[0]["email"].as_str()), (Some("Ada Lovelace"), Some("ada@example.com")));
    // Re-sent by a client (same messageId): no second effect.
    assert_eq!(proxy.batch(vec![identify("m1", "u1", "Changed", "ada@example.com")]).await.0, 200);
    assert_eq!(proxy.queue_depth().await, 0);
    proxy.deliver(vec![identify("m2", "u1", "Ada King", "ada@example.com")]).await;
    let users = fake.users_by_external_id("u1").await;
    assert_eq!((users.len(), users[0]["name"].as_str()), (1, Some("Ada King")));
    proxy.stop().await;
}

#[tokio::test]
async fn identifies_of_one_user_in_a_short_window_become_one_upsert_with_the_last_values() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(config(&fake.url, dir.path(), &[("delivery.coalesce_window_ms", "300")])).await;
    let events: Vec<Value> = (0..5)
        .map(|i| identify(&format!("c{i}"), "u1", &format!("Name {i}"), "ada@example.com"))
        .chain([json!({"type":"identify","messageId":"c5","userId":"u1","traits":{"name":"Ada Final","email":"ada@example.com","phone":"+15550100"}})])
        .collect();
    proxy.deliver(events).await;
    assert_eq!(fake.count("POST", "/api/v2/users/create_or_update"), 1, "{:?}", fake.requests());
    let users = fake.users_by_external_id("u1").await;
    assert_eq!((users[0]["name"].as_str(), users[0]["phone"].as_str()), (Some("Ada Final"), Some("+15550100")));
    proxy.stop().await;
}

#[tokio::test]
async fn a_later_identify_is_not_overwritten_by_the_retry_of_an_earlier_one() {
    let (fake, proxy, _dir) = stack(&[]).await;
    proxy.deliver(vec![identify("m0", "u1", "Ada Zero", "ada@example.com")]).await;
    // The first upsert of the batch meets a 503 and is retried; the track
    // between the identifies keeps them from being merged into one.
    fake.zendesk.fail_next(1, 503);
    let track = json!({"type": "track", "messageId": "t1", "userId": "u1", "event": "Order Completed", "properties": {"order_id": "o1"}});
    let batch = vec![identify("m1", "u1", "Ada A", "ada@example.com"), track, identify("m2", "u1", "Ada B", "ada@example.com")];
    proxy.deliver(batch).await;
    assert_eq!(fake.requests().iter().filter(|r| r.status == 503).count(), 1);
    let users = fake.users_by_external_id("u1").await;
    assert_eq!(users[0]["name"], "Ada B", "the last identify sent wins");
    proxy.stop().await;
}

#[tokio::test]
async fn an_alias_waits_for_the_retried_identify_of_its_previous_id() {
    let (fake, proxy, _dir) = stack(&[]).await;
    // The lookup and then the identify meet a 503: the identify is retried.
    fake.zendesk.fail_next(2, 503);
    let alias = json!({"type": "alias", "messageId": "a1", "userId": "new-1", "previousId": "old-1"});
    proxy.deliver(vec![identify("m1", "old-1", "Ann", "ann@example.com"), alias]).await;
    let moved = fake.users_by_external_id("new-1").await;
    assert_eq!((moved.len(), moved.first().map(|u| u["email"].clone())), (1, Some(json!("ann@example.com"))), "{:?}", fake.requests());
    assert!(fake.users_by_external_id("old-1").await.is_empty());
    proxy.stop().await;
}

#[tokio::test]
async fn final_failures_are_dead_lettered_with_zendesks_reason_and_replayed_from_the_cli() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = config(&fake.url, dir.path(), &[("zendesk.oauth_token", "revoked-token")]);
    let proxy = Proxy::start(wrong).await;
    proxy.deliver(vec![identify("d1", "u1", "Ada", "ada@example.com")]).await;
    proxy.stop().await;
    assert!(fake.users_by_external_id("u1").await.is_empty());

    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_zendesk-proxy"))
            .args(args)
            .env("PROXY_DATABASE", dir.path().join("queue.db"))
            .env("ZENDESK_URL", &fake.url)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let listed = cli(&["dead-letters", "list"]);
    let letter: Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    assert_eq!(letter["message_id"], "d1");
    let reason = letter["reason"].as_str().unwrap();
    assert!(reason.contains("401") && reason.contains("Couldn't authenticate you"), "{reason}");
    assert!(!listed.contains("revoked-token"), "a credential leaked into the dead letters: {listed}");
    assert_eq!(letter["event"]["traits"]["name"], "Ada");

    assert!(cli(&["dead-letters", "replay"]).contains("1 event(s) moved back"));
    let proxy = Proxy::start(config(&fake.url, dir.path(), &[])).await;
    proxy.drained(Duration::from_secs(10)).await;
    assert_eq!(fake.users_by_external_id("u1").await.len(), 1);
    assert_eq!(cli(&["dead-letters", "list"]), "");
    proxy.stop().await;
}

#[tokio::test]
async fn each_write_key_maps_with_its_own_settings() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    // "marketing-site" has Zendesk off: its events are accepted and go nowhere.
    let proxy = Proxy::start(config(
        &fake.url,
        dir.path(),
        &[("write_keys.marketing-site.settings", ""), ("write_keys.demo-write-key.settings.zendesk.subdomain", "demo")],
    ))
    .await;
    let off = json!({ "batch": [identify("k1", "off-user", "Off", "off@example.com")] }).to_string();
    assert_eq!(proxy.post("/v1/batch", &off, Some("marketing-site")).await.0, 200);
    proxy.deliver(vec![identify("k2", "on-user", "On", "on@example.com")]).await;
    assert_eq!(fake.users_by_external_id("on-user").await.len(), 1);
    assert!(fake.users_by_external_id("off-user").await.is_empty());
    proxy.stop().await;
}

#[tokio::test]
async fn when_other_apps_have_spent_most_of_the_accounts_minute_the_proxy_spaces_its_requests_instead_of_meeting_429s() {
    let fake = Fake::start().await;
    fake.zendesk.limit_core(30, Duration::from_secs(6));
    // Other apps on the account have just used 24 of its 30 requests.
    fake.zendesk.spend_core(24);
    let dir = tempfile::tempdir().unwrap();
    // The proxy's own budget would allow far more: only Zendesk's headers tell.
    let proxy = Proxy::start(config(&fake.url, dir.path(), &[("delivery.requests_per_minute", "6000")])).await;
    let events: Vec<Value> = (0..8).map(|i| identify(&format!("p{i}"), &format!("paced-{i}"), &format!("User {i}"), &format!("paced{i}@example.com"))).collect();
    assert_eq!(proxy.batch(events).await.0, 200);
    proxy.drained(Duration::from_secs(40)).await;
    let requests = fake.requests();
    assert_eq!(requests.iter().filter(|r| r.status == 429).count(), 0, "{requests:?}");
    fake.unlimit();
    for i in 0..8 {
        assert_eq!(fake.users_by_external_id(&format!("paced-{i}")).await.len(), 1);
    }
    proxy.stop().await;
}

#[tokio::test]
async fn events_of_a_write_key_taken_out_of_the_config_are_dead_lettered_without_the_key() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    // Accepted under a server-side key that a key rotation then removed.
    let secret = "srv-SECRET-key-123";
    let queue = zendesk_proxy::queue::Queue::open(&dir.path().join("queue.db")).unwrap();
    let event = json!({"type": "track", "messageId": "k-1", "userId": "k1", "event": "Order Completed"}).to_string();
    let prepared = zendesk_proxy::ingest::Prepared { message_id: "k-1".into(), user_key: "k1".into(), previous_key: None, body: event };
    assert_eq!(queue.enqueue(secret, vec![prepared]).await.unwrap(), 1);
    drop(queue);
    let proxy = Proxy::start(config(&fake.url, dir.path(), &[])).await;
    proxy.drained(Duration::from_secs(10)).await;
    proxy.stop().await;
    let out = Command::new(env!("CARGO_BIN_EXE_zendesk-proxy"))
        .args(["dead-letters", "list"])
        .env("PROXY_DATABASE", dir.path().join("queue.db"))
        .output()
        .unwrap();
    let letter: Value = serde_json::from_slice(&out.stdout).unwrap();
    let reason = letter["reason"].as_str().unwrap();
    assert!(!reason.contains("SECRET"), "the write key is in the reason: {reason}");
    // What an operator runs to tell which key it was: `printf %s KEY | sha256sum`.
    assert!(reason.contains("sha256:fe9ffa689f41") && reason.contains("no longer configured"), "{reason}");
}
