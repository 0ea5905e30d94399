//! Each kind of operation, delivered by the real proxy to the fake Zendesk
//! and read back through Zendesk's API: what a user of the proxy would see
//! in Zendesk after sending these calls, including when answers are lost,
//! bulk import is missing or Zendesk sheds load at its edge.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{config, identify, stack, Fake, Proxy};

const ALL_EVENTS: (&str, &str) = ("write_keys.demo-write-key.settings.zendesk.events", r#"["*"]"#);
const SUBDOMAIN: (&str, &str) = ("write_keys.demo-write-key.settings.zendesk.subdomain", "demo");

fn track(message_id: &str, user_id: &str, event: &str, properties: Value) -> Value {
    json!({ "type": "track", "messageId": message_id, "userId": user_id, "event": event, "properties": properties })
}

async fn dead_letters(dir: &std::path::Path) -> Vec<Value> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zendesk-proxy"))
        .args(["dead-letters", "list"])
        .env("PROXY_DATABASE", dir.join("queue.db"))
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test]
async fn a_new_user_is_created_inside_their_group_and_a_repeated_group_costs_nothing() {
    let (fake, proxy, dir) = stack(&[]).await;
    let group = |id: &str| json!({"type": "group", "messageId": id, "userId": "u1", "groupId": "acme", "traits": {"name": "Acme Inc"}});
    proxy.deliver(vec![identify("m1", "u1", "Ada", "ada@example.com"), group("g1")]).await;
    proxy.deliver(vec![group("g2")]).await;
    // One lookup says Zendesk has no such user, so it is created inside its
    // organization; ids learned from the answers save every search, and the
    // same organization is not written twice within a minute.
    let paths: Vec<String> = fake.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(
        paths,
        ["GET /api/v2/users/show_many.json", "POST /api/v2/organizations/create_or_update.json", "POST /api/v2/users.json"],
        "{:?}",
        fake.requests()
    );
    let organizations = fake.get("/api/v2/organizations/search.json?external_id=acme").await;
    assert_eq!(organizations["organizations"][0]["name"], "Acme Inc");
    let user = &fake.users_by_external_id("u1").await[0];
    let memberships = fake.get(&format!("/api/v2/users/{}/organization_memberships.json", user["id"])).await;
    assert_eq!(memberships["organization_memberships"].as_array().unwrap().len(), 1);
    assert!(dead_letters(dir.path()).await.is_empty(), "already a member must count as done");
    proxy.stop().await;
}

/// POSTs to the fake's API as the demo agent.
async fn zendesk_post(fake: &Fake, path: &str, body: Value) -> Value {
    support::http().post(format!("{}{path}", fake.url)).bearer_auth("demo-oauth-token").json(&body).send().await.unwrap().json().await.unwrap()
}

/// An organization written through the API; its id.
async fn organization(fake: &Fake, name: &str, external_id: &str) -> Value {
    zendesk_post(fake, "/api/v2/organizations/create_or_update.json", json!({"organization": {"name": name, "external_id": external_id}})).await
        ["organization"]["id"]
        .clone()
}

/// An agent creates `email`'s user by hand inside `organization_id`: no external_id.
async fn user_created_by_an_agent(fake: &Fake, email: &str, organization_id: &Value) {
    zendesk_post(fake, "/api/v2/users.json", json!({"user": {"name": "Ada", "email": email, "organization_id": organization_id}})).await;
}

/// The names of the organizations `email`'s one user belongs to, sorted.
async fn organizations_of(fake: &Fake, email: &str) -> Vec<String> {
    let users = fake.get("/api/v2/users.json").await;
    let user = users["users"].as_array().unwrap().iter().find(|u| u["email"] == email).unwrap().clone();
    let memberships = fake.get(&format!("/api/v2/users/{}/organization_memberships.json", user["id"])).await;
    let mut names: Vec<String> =
        memberships["organization_memberships"].as_array().unwrap().iter().filter_map(|m| m["organization_name"].as_str()).map(str::to_owned).collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_user_zendesk_knows_only_by_email_keeps_their_other_organizations() {
    // With bulk import the user goes through create_or_update_many, which
    // also matches by email.
    for bulk_import in ["false", "true"] {
        let fake = Fake::start().await;
        let old = organization(&fake, "Old Co", "old-co").await;
        user_created_by_an_agent(&fake, "ada@example.com", &old).await;
        let dir = tempfile::tempdir().unwrap();
        let proxy = Proxy::start(config(&fake.url, dir.path(), &[("delivery.bulk_import", bulk_import)])).await;
        let group = json!({"type": "group", "messageId": "g1", "userId": "u1", "groupId": "acme", "traits": {"name": "Acme Inc"}});
        proxy.deliver(vec![identify("m1", "u1", "Ada Lovelace", "ada@example.com"), group]).await;
        let users = fake.get("/api/v2/users.json").await;
        assert_eq!(users["count"], 1, "the email's owner was updated, not duplicated: {users}");
        let user = &fake.users_by_external_id("u1").await[0];
        assert_eq!(user["name"], "Ada Lovelace");
        assert_eq!(organizations_of(&fake, "ada@example.com").await, ["Acme Inc", "Old Co"], "bulk import {bulk_import}: joining Acme must not take Old Co away");
        assert!(dead_letters(dir.path()).await.is_empty());
        proxy.stop().await;
    }
}

#[tokio::test]
async fn an_identify_naming_an_organization_keeps_the_other_organizations_of_a_user_search_does_not_find_yet() {
    let fake = Fake::start().await;
    // Zendesk indexes new users for search minutes late.
    fake.zendesk.set_search_lag(Duration::from_secs(60));
    let old = organization(&fake, "Old Co", "old-co").await;
    let new = organization(&fake, "New Co", "new-co").await;
    user_created_by_an_agent(&fake, "ada@example.com", &old).await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(config(&fake.url, dir.path(), &[])).await;
    let joins = json!({"type": "identify", "messageId": "m1", "userId": "u1", "traits": {"name": "Ada", "email": "ada@example.com", "organizationId": new}});
    proxy.deliver(vec![joins]).await;
    assert_eq!(fake.get("/api/v2/users.json").await["count"], 1);
    assert_eq!(organizations_of(&fake, "ada@example.com").await, ["New Co", "Old Co"], "joining New Co must not take Old Co away");
    assert!(dead_letters(dir.path()).await.is_empty());
    proxy.stop().await;
}

#[tokio::test]
async fn a_user_removed_from_an_organization_rejoins_it_with_the_next_group_call() {
    let (fake, proxy, _dir) = stack(&[]).await;
    let group = |id: &str| json!({"type": "group", "messageId": id, "userId": "u1", "groupId": "acme", "traits": {"name": "Acme Inc"}});
    let leaves = json!({"type": "identify", "messageId": "m2", "userId": "u1", "traits": {"name": "Ada", "email": "ada@example.com", "company": {"id": "acme", "remove": true}}});
    for batch in [vec![identify("m1", "u1", "Ada", "ada@example.com"), group("g1")], vec![leaves], vec![group("g2")]] {
        proxy.deliver(batch).await;
    }
    assert_eq!(organizations_of(&fake, "ada@example.com").await, ["Acme Inc"], "{:?}", fake.requests());
    proxy.stop().await;
}

#[tokio::test]
async fn a_ticket_whose_answer_was_lost_is_opened_once() {
    let fake = Fake::start().await;
    fake.zendesk.lose_next_answers("POST", "/api/v2/tickets", 1);
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(config(&fake.url, dir.path(), &[ALL_EVENTS, SUBDOMAIN])).await;
    let ticket = track("t1", "u1", "Ticket Created", json!({"subject": "Refund", "description": "Please refund order 17", "requester_email": "bob@example.com", "requester_name": "Bob", "priority": "high"}));
    assert_eq!(proxy.batch(vec![ticket]).await.0, 200);
    proxy.drained(Duration::from_secs(20)).await;
    assert_eq!(fake.count("POST", "/api/v2/tickets"), 2, "the lost answer was retried");
    let tickets = fake.get("/api/v2/tickets.json").await;
    assert_eq!(tickets["count"], 1, "the Idempotency-Key kept the retry from opening a second ticket: {tickets}");
    assert_eq!((tickets["tickets"][0]["subject"].as_str(), tickets["tickets"][0]["priority"].as_str()), (Some("Refund"), Some("high")));
    assert!(dead_letters(dir.path()).await.is_empty());
    proxy.stop().await;
}

#[tokio::test]
async fn ticket_updates_add_and_remove_tags_without_losing_the_agents_tags() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(config(&fake.url, dir.path(), &[ALL_EVENTS, SUBDOMAIN])).await;
    let create = track("t1", "u1", "Ticket Created", json!({"description": "Hi", "requester_email": "bob@example.com", "tags": ["web"]}));
    proxy.deliver(vec![create]).await;
    let id = fake.get("/api/v2/tickets.json").await["tickets"][0]["id"].as_u64().unwrap();
    // An agent tags the ticket in Zendesk meanwhile.
    support::http()
        .put(format!("{}/api/v2/tickets/{id}/tags.json", fake.url))
        .bearer_auth("demo-oauth-token")
        .json(&json!({"tags": ["vip"]}))
        .send()
        .await
        .unwrap();
    let update = track("t2", "u1", "Ticket Updated", json!({"ticket_id": id, "status": "pending", "add_tags": ["followed_up"], "remove_tags": ["web"], "comment": {"body": "We are on it", "public": true}}));
    proxy.deliver(vec![update]).await;
    let ticket = &fake.get(&format!("/api/v2/tickets/{id}.json")).await["ticket"];
    assert_eq!(ticket["status"], "pending");
    let mut tags: Vec<&str> = ticket["tags"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    tags.sort();
    assert!(tags.contains(&"vip") && tags.contains(&"followed_up"), "{tags:?}");
    proxy.stop().await;
}

#[tokio::test]
async fn a_user_event_whose_answer_was_lost_is_recorded_once() {
    let (fake, proxy, dir) = stack(&[]).await;
    proxy.deliver(vec![identify("m1", "u1", "Ada", "ada@example.com")]).await;
    fake.zendesk.lose_next_answers("POST", "/api/v2/user", 1);
    let event = at("2026-12-03T10:00:01.500Z", track("e1", "u1", "Order Completed", json!({"order_id": "o-1", "revenue": 42})));
    assert_eq!(proxy.batch(vec![event]).await.0, 200);
    proxy.drained(Duration::from_secs(20)).await;
    let events = user_events(&fake, "u1").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0]["type"].as_str(), events[0]["properties"]["order_id"].as_str()), (Some("Order Completed"), Some("o-1")));
    assert_eq!(events[0]["properties"]["messageId"], "e1", "the event carries its messageId into Zendesk");
    assert!(dead_letters(dir.path()).await.is_empty(), "the check itself must work: {:?}", fake.requests());
    proxy.stop().await;
}

/// `event` with the client's `timestamp`.
fn at(timestamp: &str, mut event: Value) -> Value {
    event["timestamp"] = json!(timestamp);
    event
}

/// The events of the user whose external_id is `external_id`, every page.
async fn user_events(fake: &Fake, external_id: &str) -> Vec<Value> {
    let user = &fake.users_by_external_id(external_id).await[0];
    let mut path = format!("/api/v2/users/{}/events.json?page[size]=100", user["id"]);
    let mut events = Vec::new();
    loop {
        let page = fake.get(&path).await;
        events.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["links"]["next"].as_str() {
            Some(next) if page["meta"]["has_more"] == true => path = next[next.find("/api/v2/").unwrap()..].to_owned(),
            _ => return events,
        }
    }
}

#[tokio::test]
async fn a_failed_user_event_is_delivered_even_when_another_of_its_type_has_the_same_time() {
    // 503: Zendesk refused cleanly, nothing to check. 500, or a CDN's 524
    // (origin timed out after taking the request): it may have been
    // recorded, so Zendesk is asked — and the other event must not count.
    for (status, checked) in [(503, false), (500, true), (524, true)] {
        let (fake, proxy, dir) = stack(&[]).await;
        assert_eq!(proxy.batch(vec![identify("m1", "u1", "Ada", "ada@example.com")]).await.0, 200);
        let first = at("2026-12-03T20:00:00Z", track("e1", "u1", "Order Completed", json!({"order_id": "o-1"})));
        proxy.deliver(vec![first]).await;
        fake.zendesk.fail_next(1, status);
        let second = at("2026-12-03T20:00:00Z", track("e2", "u1", "Order Completed", json!({"order_id": "o-2"})));
        assert_eq!(proxy.batch(vec![second]).await.0, 200);
        proxy.drained(Duration::from_secs(20)).await;
        let requests = fake.requests();
        let mut orders: Vec<String> = user_events(&fake, "u1").await.iter().map(|e| e["properties"]["order_id"].as_str().unwrap().to_owned()).collect();
        orders.sort();
        assert_eq!(orders, ["o-1", "o-2"], "after a {status}");
        let checks = requests.iter().filter(|r| r.method == "GET" && r.path.contains("/events")).count();
        assert_eq!(checks > 0, checked, "after a {status}: {requests:?}");
        assert!(dead_letters(dir.path()).await.is_empty());
        proxy.stop().await;
    }
}

#[tokio::test]
async fn the_check_for_a_lost_user_event_reads_every_page_of_the_users_events() {
    let (fake, proxy, dir) = stack(&[]).await;
    proxy.deliver(vec![identify("m1", "u1", "Ada", "ada@example.com")]).await;
    // Another app recorded 150 newer events of the same type meanwhile.
    let user_id = fake.users_by_external_id("u1").await[0]["id"].clone();
    for n in 0..150 {
        let event = json!({"event": {"source": "zendesk-analytics", "type": "Order Completed", "created_at": "2026-12-04T00:00:00Z", "properties": {"order_id": format!("other-{n}")}}});
        let response = support::http().post(format!("{}/api/v2/users/{user_id}/events.json", fake.url)).bearer_auth("demo-oauth-token").json(&event).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 202);
    }
    fake.zendesk.lose_next_answers("POST", "/api/v2/user", 1);
    let old = at("2026-12-01T08:00:00.250Z", track("e1", "u1", "Order Completed", json!({"order_id": "o-1"})));
    assert_eq!(proxy.batch(vec![old]).await.0, 200);
    proxy.drained(Duration::from_secs(20)).await;
    let events = user_events(&fake, "u1").await;
    assert_eq!(events.len(), 151);
    assert_eq!(events.iter().filter(|e| e["properties"]["order_id"] == "o-1").count(), 1, "recorded once, though on the second page");
    assert!(dead_letters(dir.path()).await.is_empty());
    proxy.stop().await;
}

#[tokio::test]
async fn a_replayed_user_event_whose_answer_was_lost_is_not_recorded_twice() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(config(&fake.url, dir.path(), &[("delivery.max_attempts", "1")])).await;
    proxy.deliver(vec![identify("m1", "u1", "Ada", "ada@example.com")]).await;
    fake.zendesk.lose_next_answers("POST", "/api/v2/user", 1);
    proxy.deliver(vec![track("e1", "u1", "Order Completed", json!({"order_id": "o-1"}))]).await;
    proxy.stop().await;
    assert_eq!(dead_letters(dir.path()).await.len(), 1, "one attempt allowed: the lost answer is final");
    let replay = std::process::Command::new(env!("CARGO_BIN_EXE_zendesk-proxy"))
        .args(["dead-letters", "replay"])
        .env("PROXY_DATABASE", dir.path().join("queue.db"))
        .output()
        .unwrap();
    assert!(replay.status.success(), "{}", String::from_utf8_lossy(&replay.stderr));
    let proxy = Proxy::start(config(&fake.url, dir.path(), &[])).await;
    proxy.drained(Duration::from_secs(10)).await;
    let events = user_events(&fake, "u1").await;
    assert_eq!(events.len(), 1, "the replay found the event in Zendesk: {events:?}");
    assert!(dead_letters(dir.path()).await.is_empty());
    proxy.stop().await;
}

#[tokio::test]
async fn a_new_email_for_a_known_user_becomes_primary_when_configured() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    let setting = ("write_keys.demo-write-key.settings.zendesk.updatePrimaryEmail", "true");
    let proxy = Proxy::start(config(&fake.url, dir.path(), &[setting, SUBDOMAIN])).await;
    proxy.deliver(vec![identify("m1", "u1", "Ada", "ada@old.example")]).await;
    proxy.deliver(vec![identify("m2", "u1", "Ada", "ada@new.example")]).await;
    let users = fake.users_by_external_id("u1").await;
    assert_eq!((users.len(), users[0]["email"].as_str()), (1, Some("ada@new.example")));
    proxy.stop().await;
}

#[tokio::test]
async fn bulk_import_sends_a_hundred_users_per_job_and_falls_back_to_single_calls_without_it() {
    for bulk_enabled_at_zendesk in [true, false] {
        let fake = Fake::start().await;
        fake.zendesk.set_bulk_import(bulk_enabled_at_zendesk);
        // One user already in Zendesk, in another organization: a bulk
        // creation must not take that membership away.
        let existing_org = support::http()
            .post(format!("{}/api/v2/organizations/create_or_update.json", fake.url))
            .bearer_auth("demo-oauth-token")
            .json(&json!({"organization": {"name": "Old Co", "external_id": "old-co"}}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["organization"]["id"]
            .clone();
        support::http()
            .post(format!("{}/api/v2/users/create_or_update.json", fake.url))
            .bearer_auth("demo-oauth-token")
            .json(&json!({"user": {"name": "User 0", "email": "bulk0@example.com", "external_id": "bulk-0", "organization_id": existing_org}}))
            .send()
            .await
            .unwrap();
        let before = fake.requests().len();
        let dir = tempfile::tempdir().unwrap();
        let proxy = Proxy::start(config(&fake.url, dir.path(), &[("delivery.bulk_import", "true"), ("delivery.coalesce_window_ms", "300"), ("delivery.requests_per_minute", "6000")])).await;
        let events: Vec<Value> = (0..250)
            .flat_map(|i| {
                let user = format!("bulk-{i}");
                [
                    identify(&format!("b{i}"), &user, &format!("User {i}"), &format!("bulk{i}@example.com")),
                    json!({"type": "group", "messageId": format!("g{i}"), "userId": user, "groupId": format!("co-{}", i % 5), "traits": {"name": format!("Company {}", i % 5)}}),
                ]
            })
            .collect();
        assert_eq!(proxy.batch(events).await.0, 200);
        proxy.drained(Duration::from_secs(60)).await;
        let used = fake.requests().len() - before;
        let jobs = fake.count("POST", "/api/v2/users/create_or_update_many") + fake.count("POST", "/api/v2/organizations/create_or_update_many");
        let singles = fake.count("POST", "/api/v2/users/create_or_update.json") - 1;
        eprintln!("bulk enabled {bulk_enabled_at_zendesk}: {used} requests for 250 users in 5 companies");
        if bulk_enabled_at_zendesk {
            assert!((4..=6).contains(&jobs) && singles == 0, "{jobs} jobs (users and companies), {singles} single calls");
            assert!(used <= 20, "{used} requests: new users are created inside their company");
        } else {
            let created = fake.count("POST", "/api/v2/users.json");
            assert_eq!((jobs, singles, created), (1, 1, 249), "one refused job, then single calls: new users created inside their company");
        }
        let listed = fake.get("/api/v2/users.json?per_page=100&page=3").await;
        assert_eq!(listed["count"], 250, "bulk enabled at Zendesk: {bulk_enabled_at_zendesk}");
        for i in [0, 1, 249] {
            let user = &fake.users_by_external_id(&format!("bulk-{i}")).await[0];
            let memberships = fake.get(&format!("/api/v2/users/{}/organization_memberships.json", user["id"])).await;
            let mut names: Vec<String> = memberships["organization_memberships"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["organization_name"].as_str().unwrap_or_default().to_owned())
                .collect();
            names.sort();
            let mut expected = vec![format!("Company {}", i % 5)];
            if i == 0 {
                expected.push("Old Co".to_owned());
            }
            assert_eq!(names, expected, "bulk-{i}");
        }
        proxy.stop().await;
    }
}

#[tokio::test]
async fn connect_receives_identify_and_track_with_its_key() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(config(
        &fake.url,
        dir.path(),
        &[
            ("connect.url", &fake.url),
            ("connect.api_key", "demo-connect-key"),
            ("write_keys.demo-write-key.settings.connect.publicKey", "pk-demo"),
            SUBDOMAIN,
        ],
    ))
    .await;
    let identify = json!({"type": "identify", "messageId": "c1", "userId": "u1", "traits": {"name": "Ada Lovelace", "email": "ada@example.com", "plan": "pro"}});
    proxy.deliver(vec![identify, track("c2", "u1", "Signed Up", json!({"plan": "pro"}))]).await;
    let user: Value = support::http().get(format!("{}/__fake/connect/users/u1", fake.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!((user["first_name"].as_str(), user["last_name"].as_str(), user["email"].as_str()), (Some("Ada"), Some("Lovelace"), Some("ada@example.com")));
    assert_eq!(user["attributes"]["plan"], "pro");
    let events: Value = support::http().get(format!("{}/__fake/connect/events?user_id=u1", fake.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(events["events"][0]["event"], "Signed Up");
    proxy.stop().await;
}

#[tokio::test]
async fn server_errors_are_retried_and_an_edge_429_pauses_for_the_configured_default() {
    let fake = Fake::start().await;
    fake.zendesk.fail_next(2, 503);
    fake.zendesk.throttle_next_at_edge(1);
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(config(&fake.url, dir.path(), &[("delivery.default_retry_after_secs", "2")])).await;
    assert_eq!(proxy.batch(vec![identify("m1", "u1", "Ada", "ada@example.com")]).await.0, 200);
    proxy.drained(Duration::from_secs(30)).await;
    assert_eq!(fake.users_by_external_id("u1").await.len(), 1);
    let requests = fake.requests();
    let edge = requests.iter().position(|r| r.status == 429).expect("the edge 429 was met");
    let resumed = &requests[edge + 1];
    assert!(resumed.at.duration_since(requests[edge].at) >= Duration::from_millis(1900), "no Retry-After: the pause is the configured default");
    assert_eq!(requests.iter().filter(|r| r.status == 503).count(), 2);
    proxy.stop().await;
}

#[tokio::test]
async fn custom_traits_need_their_field_in_zendesk_or_the_setting_that_creates_it() {
    for create_missing in [false, true] {
        let fake = Fake::start().await;
        let dir = tempfile::tempdir().unwrap();
        let setting = ("write_keys.demo-write-key.settings.zendesk.createMissingCustomFields", if create_missing { "true" } else { "false" });
        let proxy = Proxy::start(config(&fake.url, dir.path(), &[setting, SUBDOMAIN])).await;
        let event = json!({"type": "identify", "messageId": "f1", "userId": "u1", "traits": {"name": "Ada", "email": "ada@example.com", "favoriteColor": "teal"}});
        proxy.deliver(vec![event]).await;
        let user = &fake.users_by_external_id("u1").await[0];
        let fields = fake.get("/api/v2/user_fields.json").await;
        let defined = fields["user_fields"].as_array().unwrap().iter().any(|f| f["key"] == "favorite_color");
        assert_eq!(defined, create_missing, "the field exists only when the setting creates it");
        let value = user["user_fields"].get("favorite_color").cloned().unwrap_or(Value::Null);
        assert_eq!(value, if create_missing { json!("teal") } else { Value::Null }, "the user is still written, without the unknown field");
        proxy.stop().await;
    }
}
