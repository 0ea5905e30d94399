//! The fake's endpoints as a Zendesk client sees them over HTTP: the
//! behaviours the proxy and the Source rely on, each checked here so an
//! end-to-end test passing against the fake means something.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use zendesk_fake::FakeZendesk;

struct Server {
    url: String,
    fake: FakeZendesk,
    http: reqwest::Client,
}

impl Server {
    async fn start() -> Server {
        let fake = FakeZendesk::demo();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = fake.router();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Server { url, fake, http: reqwest::Client::new() }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.url)).bearer_auth("demo-oauth-token");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let text = response.text().await.unwrap();
        (status, headers, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let (status, _, body) = self.send(method, path, body, &[]).await;
        (status, body)
    }

    async fn user(&self, name: &str, email: &str) -> u64 {
        let (status, body) = self.call(Method::POST, "/api/v2/users/create_or_update.json", Some(json!({"user": {"name": name, "email": email}}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["user"]["id"].as_u64().unwrap()
    }

    async fn ticket(&self, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, "/api/v2/tickets.json", Some(json!({ "ticket": body }))).await
    }
}

#[tokio::test]
async fn tickets_are_created_for_known_or_new_requesters_and_validated_like_zendesk() {
    let server = Server::start().await;
    let ada = server.user("Ada", "ada@example.com").await;
    let (status, body) = server.ticket(json!({"subject": "Help", "comment": {"body": "It broke"}, "requester_id": ada, "priority": "high", "tags": ["Billing Issue"]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!((body["ticket"]["status"].as_str(), body["ticket"]["description"].as_str()), (Some("new"), Some("It broke")));
    assert_eq!(body["ticket"]["tags"], json!(["billing_issue"]));
    // An unknown requester email becomes an end user named after the address.
    let (status, body) = server.ticket(json!({"comment": {"html_body": "<p>Hi <b>there</b></p>"}, "requester": {"email": "new@example.com"}})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let requester = body["ticket"]["requester_id"].as_u64().unwrap();
    let (_, user) = server.call(Method::GET, &format!("/api/v2/users/{requester}.json"), None).await;
    assert_eq!((user["user"]["name"].as_str(), user["user"]["email"].as_str()), (Some("new"), Some("new@example.com")));
    assert_eq!(body["ticket"]["description"], "Hi there");
    let (_, requested) = server.call(Method::GET, &format!("/api/v2/users/{ada}/tickets/requested.json"), None).await;
    assert_eq!(requested["count"], 1);

    for (bad, field) in [
        (json!({"subject": "no comment"}), "description"),
        (json!({"comment": {"body": "x"}, "priority": "critical"}), "priority"),
        (json!({"comment": {"body": "x"}, "status": "closed"}), "status"),
        (json!({"comment": {"body": "x"}, "requester_id": 1}), "requester"),
    ] {
        let (status, body) = server.ticket(bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"], "RecordInvalid");
        assert!(body["details"][field].is_array(), "{body}");
    }
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_ticket_and_refuses_another_body() {
    let server = Server::start().await;
    let body = json!({"ticket": {"subject": "Once", "comment": {"body": "only once"}}});
    let create = |body: Value| server.send(Method::POST, "/api/v2/tickets.json", Some(body), &[("Idempotency-Key", "msg-1")]);
    let (first, headers, first_body) = create(body.clone()).await;
    assert_eq!((first, headers["x-idempotency-lookup"].to_str().unwrap()), (StatusCode::CREATED, "miss"));
    let (again, headers, again_body) = create(body.clone()).await;
    assert_eq!((again, headers["x-idempotency-lookup"].to_str().unwrap()), (StatusCode::CREATED, "hit"));
    assert_eq!(again_body["ticket"]["id"], first_body["ticket"]["id"]);
    let (different, _, refused) = create(json!({"ticket": {"subject": "Other", "comment": {"body": "x"}}})).await;
    assert_eq!((different, refused["error"].as_str()), (StatusCode::BAD_REQUEST, Some("IdempotentRequestError")));
    let (_, list) = server.call(Method::GET, "/api/v2/tickets.json", None).await;
    assert_eq!(list["count"], 1);
}

#[tokio::test]
async fn ticket_updates_honour_safe_update_tags_and_closed_tickets() {
    let server = Server::start().await;
    let (_, created) = server.ticket(json!({"comment": {"body": "x"}, "tags": ["a", "b"]})).await;
    let id = created["ticket"]["id"].as_u64().unwrap();
    let stamp = created["ticket"]["updated_at"].as_str().unwrap().to_owned();
    let path = format!("/api/v2/tickets/{id}.json");
    let stale = json!({"ticket": {"status": "open", "safe_update": true, "updated_stamp": "2001-01-01T00:00:00Z"}});
    let (status, body) = server.call(Method::PUT, &path, Some(stale)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("UpdateConflict")));
    let fresh = json!({"ticket": {"status": "pending", "safe_update": true, "updated_stamp": stamp, "comment": {"body": "Any news?", "public": false}}});
    let (status, body) = server.call(Method::PUT, &path, Some(fresh)).await;
    assert_eq!((status, body["ticket"]["status"].as_str()), (StatusCode::OK, Some("pending")), "{body}");

    let tags = format!("/api/v2/tickets/{id}/tags.json");
    let (_, added) = server.call(Method::PUT, &tags, Some(json!({"tags": ["c", "a"]}))).await;
    assert_eq!(added["tags"], json!(["a", "b", "c"]));
    let (_, removed) = server.call(Method::DELETE, &tags, Some(json!({"tags": ["a"]}))).await;
    assert_eq!(removed["tags"], json!(["b", "c"]));

    assert!(server.fake.change_ticket_status(id, "closed", zendesk_fake::now()));
    let (status, body) = server.call(Method::PUT, &path, Some(json!({"ticket": {"priority": "low"}}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["details"]["status"][0]["description"].as_str().unwrap().contains("closed prevents ticket update"));
    let (status, _) = server.call(Method::PUT, &tags, Some(json!({"tags": ["d"]}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn bulk_jobs_report_one_result_per_record_and_honour_zendesks_limits() {
    let server = Server::start().await;
    server.user("Old", "old@example.com").await;
    let users = json!({"users": [
        {"name": "New", "email": "new@example.com", "external_id": "n1"},
        {"name": "Old Renamed", "email": "old@example.com"},
        {"email": "nameless@example.com"},
    ]});
    let (status, body) = server.call(Method::POST, "/api/v2/users/create_or_update_many.json", Some(users)).await;
    assert_eq!((status, body["job_status"]["status"].as_str()), (StatusCode::OK, Some("queued")), "{body}");
    let job = body["job_status"]["id"].as_str().unwrap().to_owned();
    let (_, status_body) = server.call(Method::GET, &format!("/api/v2/job_statuses/{job}.json"), None).await;
    let results = status_body["job_status"]["results"].as_array().unwrap().clone();
    assert_eq!(status_body["job_status"]["status"], "completed");
    assert_eq!((results[0]["action"].as_str(), results[1]["action"].as_str()), (Some("create"), Some("update")));
    assert_eq!((results[2]["index"].as_u64(), results[2]["error"].as_str()), (Some(2), Some("BlankValue")));
    let (_, found) = server.call(Method::GET, "/api/v2/users/search.json?external_id=n1", None).await;
    assert_eq!(found["users"][0]["name"], "New");

    let too_many: Vec<Value> = (0..101).map(|i| json!({"name": format!("U{i}"), "email": format!("u{i}@x.io")})).collect();
    let (status, _) = server.call(Method::POST, "/api/v2/users/create_or_update_many.json", Some(json!({"users": too_many}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for _ in 0..30 {
        let (status, _) = server.call(Method::POST, "/api/v2/organizations/create_or_update_many.json", Some(json!({"organizations": [{"name": "Acme"}]}))).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, body) = server.call(Method::POST, "/api/v2/organizations/create_or_update_many.json", Some(json!({"organizations": [{"name": "Acme"}]}))).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("TooManyJobs")));
    server.fake.set_bulk_import(false);
    let (status, _) = server.call(Method::POST, "/api/v2/users/create_or_update_many.json", Some(json!({"users": [{"name": "A", "email": "a@x.io"}]}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn custom_fields_follow_zendesks_key_rules_and_page_by_cursor() {
    let server = Server::start().await;
    for key in ["plan", "seats", "favorite_color"] {
        let (status, _) = server.call(Method::POST, "/api/v2/user_fields.json", Some(json!({"user_field": {"type": "text", "key": key, "title": key}}))).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    for (key, kind) in [("plan", "text"), ("123", "text"), ("bad-key", "text"), ("ok", "nonsense")] {
        let (status, body) = server.call(Method::POST, "/api/v2/user_fields.json", Some(json!({"user_field": {"type": kind, "key": key, "title": key}}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{key}: {body}");
    }
    let (_, first) = server.call(Method::GET, "/api/v2/user_fields.json?page[size]=2", None).await;
    assert_eq!((first["user_fields"].as_array().unwrap().len(), first["meta"]["has_more"].as_bool()), (2, Some(true)));
    let next = first["links"]["next"].as_str().unwrap();
    let next = &next[next.find("/api/v2/").unwrap()..];
    let (_, second) = server.call(Method::GET, next, None).await;
    assert_eq!((second["user_fields"][0]["key"].as_str(), second["meta"]["has_more"].as_bool()), (Some("favorite_color"), Some(false)));
}

#[tokio::test]
async fn creating_a_user_never_matches_an_existing_one() {
    let server = Server::start().await;
    let (_, org) = server.call(Method::POST, "/api/v2/organizations/create_or_update.json", Some(json!({"organization": {"name": "Acme", "external_id": "acme"}}))).await;
    let org = org["organization"]["id"].as_u64().unwrap();
    let create = |user: Value| server.call(Method::POST, "/api/v2/users.json", Some(json!({ "user": user })));
    let (status, body) = create(json!({"name": "Ada", "email": "ada@example.com", "external_id": "u-1", "organization_id": org})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["user"]["id"].as_u64().unwrap();
    let (_, memberships) = server.call(Method::GET, &format!("/api/v2/users/{id}/organization_memberships.json"), None).await;
    assert_eq!(memberships["organization_memberships"][0]["organization_id"], org, "created inside the organization");

    let (status, body) = create(json!({"name": "Ada again", "email": "ADA@example.com", "external_id": "u-2"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["details"]["email"][0]["error"], "DuplicateValue", "{body}");
    let (status, body) = create(json!({"name": "Ada again", "external_id": "U-1"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["details"]["external_id"][0]["error"], "DuplicateValue", "{body}");
    let (_, user) = server.call(Method::GET, &format!("/api/v2/users/{id}.json"), None).await;
    assert_eq!(user["user"]["name"], "Ada", "the existing user is untouched");
}

#[tokio::test]
async fn a_new_email_can_be_made_primary_and_organization_id_replaces_memberships() {
    let server = Server::start().await;
    let id = server.user("Ada", "ada@example.com").await;
    let mut orgs = Vec::new();
    for name in ["One", "Two"] {
        let (_, body) = server.call(Method::POST, "/api/v2/organizations/create_or_update.json", Some(json!({"organization": {"name": name, "external_id": name}}))).await;
        orgs.push(body["organization"]["id"].as_u64().unwrap());
    }
    for org in &orgs {
        let (status, _) = server.call(Method::POST, "/api/v2/organization_memberships.json", Some(json!({"organization_membership": {"user_id": id, "organization_id": org}}))).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, body) = server.call(Method::POST, "/api/v2/organization_memberships.json", Some(json!({"organization_membership": {"user_id": id, "organization_id": orgs[0]}}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "already a member: {body}");
    server.call(Method::PUT, &format!("/api/v2/users/{id}.json"), Some(json!({"user": {"organization_id": orgs[1], "email": "ada@new.io"}}))).await;
    let (_, memberships) = server.call(Method::GET, &format!("/api/v2/users/{id}/organization_memberships.json"), None).await;
    let kept: Vec<u64> = memberships["organization_memberships"].as_array().unwrap().iter().map(|m| m["organization_id"].as_u64().unwrap()).collect();
    assert_eq!(kept, vec![orgs[1]]);

    let (_, identities) = server.call(Method::GET, &format!("/api/v2/users/{id}/identities.json"), None).await;
    let new = identities["identities"].as_array().unwrap().iter().find(|i| i["value"] == "ada@new.io").expect("the new email is an identity").clone();
    assert_eq!(new["primary"], false);
    let (status, _) = server.call(Method::PUT, &format!("/api/v2/users/{id}/identities/{}/make_primary.json", new["id"]), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, user) = server.call(Method::GET, &format!("/api/v2/users/{id}.json"), None).await;
    assert_eq!(user["user"]["email"], "ada@new.io");
}

#[tokio::test]
async fn connect_needs_its_key_and_merges_identifies() {
    let server = Server::start().await;
    let post = |path: &str, key: &str, body: Value| server.http.post(format!("{}{path}", server.url)).header("X-Outbound-Key", key).json(&body).send();
    assert_eq!(post("/v2/identify", "wrong", json!({"user_id": "u1"})).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(post("/v2/identify", "demo-connect-key", json!({"email": "a@x.io"})).await.unwrap().status(), StatusCode::BAD_REQUEST);
    let first = json!({"user_id": "u1", "first_name": "Ada", "attributes": {"plan": "free", "age": 36}});
    assert_eq!(post("/v2/identify", "demo-connect-key", first).await.unwrap().status(), StatusCode::OK);
    let second = json!({"user_id": "u1", "previous_id": "anon-1", "attributes": {"plan": "pro"}});
    assert_eq!(post("/v2/identify", "demo-connect-key", second).await.unwrap().status(), StatusCode::OK);
    let track = json!({"user_id": "u1", "event": "Signed Up", "properties": {"plan": "pro"}, "timestamp": 1_700_000_000.5});
    assert_eq!(post("/v2/track", "demo-connect-key", track).await.unwrap().status(), StatusCode::OK);
    assert_eq!(post("/v2/track", "demo-connect-key", json!({"user_id": "u1"})).await.unwrap().status(), StatusCode::BAD_REQUEST);

    let user: Value = server.http.get(format!("{}/__fake/connect/users/u1", server.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!((user["first_name"].as_str(), user["previous_ids"].clone()), (Some("Ada"), json!(["anon-1"])));
    assert_eq!(user["attributes"], json!({"plan": "pro", "age": 36}));
    let events: Value = server.http.get(format!("{}/__fake/connect/events?user_id=u1", server.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(events["events"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_account_rate_limit_answers_429_with_retry_after_and_edge_429s_without() {
    let server = Server::start().await;
    server.fake.limit_core(3, Duration::from_secs(60));
    for remaining in [2, 1, 0] {
        let (status, headers, _) = server.send(Method::GET, "/api/v2/users.json", None, &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["x-rate-limit-remaining"].to_str().unwrap(), remaining.to_string());
    }
    let (status, headers, _) = server.send(Method::POST, "/api/v2/tickets.json", Some(json!({})), &[]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));

    let server = Server::start().await;
    server.fake.throttle_next_at_edge(1);
    let (status, headers, body) = server.send(Method::GET, "/api/v2/users.json", None, &[]).await;
    assert_eq!((status, headers.get("retry-after").is_none(), body["status"].as_str()), (StatusCode::TOO_MANY_REQUESTS, true, Some("429")));
    let (status, _, _) = server.send(Method::GET, "/api/v2/users.json", None, &[]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn faults_set_through_the_control_endpoint_shape_every_answer() {
    let server = Server::start().await;
    let faults = |body: Value| server.http.post(format!("{}/__fake/faults", server.url)).json(&body).send();
    assert!(faults(json!({"error_rate": 0.25, "latency_ms": 50, "bulk_import": false})).await.unwrap().status().is_success());
    assert_eq!(faults(json!({"error_rte": 1})).await.unwrap().status().as_u16(), 422, "a misspelt fault is refused");
    let started = std::time::Instant::now();
    let mut failed = 0;
    for _ in 0..8 {
        let (status, _) = server.call(Method::GET, "/api/v2/users.json", None).await;
        failed += usize::from(status == StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(failed, 2, "a quarter of the requests fail");
    assert!(started.elapsed() >= Duration::from_millis(400), "each answer waited 50 ms");
    faults(json!({"error_rate": 0, "latency_ms": 0})).await.unwrap();
    let (status, _) = server.call(Method::POST, "/api/v2/users/create_or_update_many.json", Some(json!({"users": [{"name": "A", "email": "a@x.io"}]}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let log: Value = server.http.get(format!("{}/__fake/requests", server.url)).send().await.unwrap().json().await.unwrap();
    let statuses: Vec<u64> = log["requests"].as_array().unwrap().iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses.len(), 9);
    assert_eq!(statuses.iter().filter(|s| **s == 503).count(), 2);
}

#[tokio::test]
async fn every_path_answers_with_or_without_json_and_unknown_paths_are_logged() {
    let server = Server::start().await;
    let ada = server.user("Ada", "ada@example.com").await;
    let event = json!({"event": {"source": "shop", "type": "Order Completed", "properties": {"n": 1}}});
    for path in [format!("/api/v2/users/{ada}/events"), format!("/api/v2/users/{ada}/events.json")] {
        let (status, body) = server.call(Method::POST, &path, Some(event.clone())).await;
        assert_eq!(status, StatusCode::ACCEPTED, "POST {path}: {body}");
        let (status, body) = server.call(Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    }
    let (status, body) = server.call(Method::GET, &format!("/api/v2/users/{ada}/identities.json"), None).await;
    assert_eq!((status, body["identities"][0]["value"].as_str()), (StatusCode::OK, Some("ada@example.com")));
    let (status, body) = server.call(Method::GET, "/api/v2/no_such_thing.json", None).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("InvalidEndpoint")));
    let log: Vec<(String, u16)> = server.fake.requests().into_iter().map(|r| (r.path_and_query, r.status)).collect();
    assert!(log.contains(&(format!("/api/v2/users/{ada}/events.json"), 200)), "the path is logged as sent: {log:?}");
    assert!(log.contains(&("/api/v2/no_such_thing.json".to_owned(), 404)), "a 404 is in the log: {log:?}");
}

#[tokio::test]
async fn user_events_keep_the_time_they_were_sent_with_and_page_by_cursor() {
    let server = Server::start().await;
    let ada = server.user("Ada", "ada@example.com").await;
    for n in 0..5 {
        let event = json!({"event": {"source": "shop", "type": "Order Completed", "created_at": format!("2026-12-03T10:00:0{n}.250Z"), "properties": {"n": n}}});
        assert_eq!(server.call(Method::POST, &format!("/api/v2/users/{ada}/events"), Some(event)).await.0, StatusCode::ACCEPTED);
    }
    let other = json!({"event": {"source": "shop", "type": "Signed Up", "properties": {}}});
    server.call(Method::POST, &format!("/api/v2/users/{ada}/events"), Some(other)).await;
    let mut path = format!("/api/v2/users/{ada}/events.json?filter[type]=Order%20Completed&page[size]=2");
    let mut seen = Vec::new();
    loop {
        let (status, page) = server.call(Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= 2, "page[size] is honoured: {page}");
        seen.extend(data.iter().map(|e| (e["properties"]["n"].as_i64().unwrap(), e["created_at"].as_str().unwrap().to_owned())));
        if page["meta"]["has_more"] != true {
            assert!(page["links"]["next"].is_null());
            break;
        }
        let next = page["links"]["next"].as_str().unwrap();
        path = next[next.find("/api/v2/").unwrap()..].to_owned();
    }
    let expected: Vec<(i64, String)> = (0..5).rev().map(|n| (n, format!("2026-12-03T10:00:0{n}.250Z"))).collect();
    assert_eq!(seen, expected, "newest first, every event once, sub-second precision kept");
}
