//! The Segment HTTP API as clients see it: what is accepted, and a clear 4xx
//! for every kind of bad input — never a 500, never a crash.

mod support;

use serde_json::{json, Value};
use support::{http, identify, stack, Proxy};
use zendesk_proxy::config::Secret;
use zendesk_proxy::identity::user_hash;

fn error_of(body: &Value) -> String {
    let mut text = body["error"].as_str().unwrap_or_default().to_owned();
    for detail in body["details"].as_array().into_iter().flatten() {
        text.push_str(" | ");
        text.push_str(detail.as_str().unwrap_or_default());
    }
    text
}

#[tokio::test]
async fn bad_input_gets_a_4xx_that_says_what_to_fix() {
    let (_fake, proxy, _dir) = stack(&[]).await;
    let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
    let very_deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let big_trait = "x".repeat(40 * 1024);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("malformed JSON", b"{\"batch\": [".to_vec(), 400, "not valid JSON"),
        ("empty body", Vec::new(), 400, "empty"),
        ("not an object", b"[1,2]".to_vec(), 400, "must be a JSON object"),
        ("invalid UTF-8", b"{\"batch\":[{\"type\":\"identify\",\"userId\":\"\xff\xfe\"}]}".to_vec(), 400, "UTF-8"),
        ("deeply nested", format!("{{\"batch\":[{{\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\",\"properties\":{{\"a\":{deep}}}}}]}}").into_bytes(), 400, "nests deeper than 32"),
        ("nested past the parser limit", format!("{{\"batch\":{very_deep}}}").into_bytes(), 400, "nests deeper than 32"),
        ("batch not an array", br#"{"batch":{"type":"identify"}}"#.to_vec(), 400, "\"batch\" must be an array"),
        ("no batch", br#"{"events":[]}"#.to_vec(), 400, "needs a \"batch\" array"),
        ("wrong-typed userId", br#"{"batch":[{"type":"identify","userId":{"id":1}}]}"#.to_vec(), 400, "\"userId\" must be a string or a number"),
        ("wrong-typed traits", br#"{"batch":[{"type":"identify","userId":"u","traits":"vip"}]}"#.to_vec(), 400, "\"traits\" must be an object"),
        ("missing ids", br#"{"batch":[{"type":"track","event":"Signed Up"}]}"#.to_vec(), 400, "neither \"userId\" nor \"anonymousId\""),
        ("unknown type", br#"{"batch":[{"type":"purchase","userId":"u"}]}"#.to_vec(), 400, "use identify, track"),
        ("oversized event", json!({"batch":[{"type":"identify","userId":"u","traits":{"bio": big_trait}}]}).to_string().into_bytes(), 400, "limit is 32768 bytes per event"),
        ("oversized batch", json!({"batch": (0..20).map(|i| json!({"type":"identify","userId": i,"traits":{"bio": "y".repeat(30 * 1024)}})).collect::<Vec<_>>()}).to_string().into_bytes(), 413, "limit of 512000 bytes per batch"),
    ];
    for (name, body, status, needle) in cases {
        let response = http()
            .post(format!("{}/v1/batch", proxy.url))
            .basic_auth("demo-write-key", Some(""))
            .body(body)
            .send()
            .await
            .unwrap();
        let got = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(got, status, "{name}: {body}");
        assert!(error_of(&body).contains(needle), "{name}: {needle:?} not in {body}");
        assert_eq!(body["success"], false, "{name}");
    }
    // One bad event refuses the whole batch and names it by index.
    let (status, body) = proxy
        .batch(vec![identify("m1", "u1", "Ada", "ada@example.com"), json!({"type":"group","userId":"u1"})])
        .await;
    assert_eq!(status, 400);
    assert!(error_of(&body).contains("event 1: a group event needs a \"groupId\""), "{body}");
    assert_eq!(proxy.queue_depth().await, 0, "nothing of a refused batch is kept");
    proxy.stop().await;
}

#[tokio::test]
async fn write_keys_come_from_basic_auth_or_the_body_and_unknown_ones_are_refused() {
    let (_fake, proxy, _dir) = stack(&[]).await;
    let event = identify("m-basic", "u1", "Ada", "ada@example.com").to_string();
    assert_eq!(proxy.post("/v1/identify", &event, Some("demo-write-key")).await.0, 200);
    let (status, body) = proxy.post("/v1/identify", &event, Some("nope")).await;
    assert_eq!((status, error_of(&body).contains("unknown write key")), (401, true), "{body}");
    let (status, body) = proxy.post("/v1/identify", &event, None).await;
    assert_eq!((status, error_of(&body).contains("no write key")), (401, true), "{body}");
    // text/plain with writeKey in the body, on every short form analytics-next uses.
    for (path, event) in [
        ("/v1/i", json!({"userId":"u2","traits":{"name":"B","email":"b@example.com"}})),
        ("/v1/t", json!({"userId":"u2","event":"Clicked"})),
        ("/v1/g", json!({"userId":"u2","groupId":"g1"})),
        ("/v1/a", json!({"userId":"u2","previousId":"anon"})),
        ("/v1/p", json!({"anonymousId":"anon","name":"Home"})),
        ("/v1/s", json!({"anonymousId":"anon","name":"Home"})),
        ("/v1/b", json!({"batch":[{"type":"track","userId":"u2","event":"x"}]})),
        ("/v1/track", json!({"userId":"u2","event":"Clicked"})),
        ("/v1/group", json!({"userId":"u2","groupId":"g1"})),
        ("/v1/alias", json!({"userId":"u2","previousId":"anon"})),
        ("/v1/page", json!({"anonymousId":"anon"})),
    ] {
        let mut body = event;
        body["writeKey"] = json!("demo-write-key");
        let response = http()
            .post(format!("{}{path}", proxy.url))
            .header("content-type", "text/plain")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}: {}", response.text().await.unwrap());
    }
    let (status, body) = proxy.post("/v1/purchase", "{}", Some("demo-write-key")).await;
    assert_eq!((status, error_of(&body).contains("unknown endpoint")), (404, true));
    proxy.stop().await;
}

#[tokio::test]
async fn identity_verification_refuses_events_without_the_servers_hash() {
    let (_fake, proxy, _dir) = stack(&[("write_keys.demo-write-key.identity_secret", "server-only-secret")]).await;
    let hash = user_hash(&Secret::new("server-only-secret"), "u1");
    let mut event = identify("m1", "u1", "Ada", "ada@example.com");
    let (status, body) = proxy.batch(vec![event.clone()]).await;
    assert_eq!(status, 400);
    assert!(error_of(&body).contains("requires identity verification"), "{body}");
    event["context"] = json!({ "userHash": user_hash(&Secret::new("guess"), "u1") });
    assert!(error_of(&proxy.batch(vec![event.clone()]).await.1).contains("does not match"));
    event["context"] = json!({ "userHash": hash });
    assert_eq!(proxy.batch(vec![event]).await.0, 200);
    // Anonymous page views carry no userId and need no hash.
    assert_eq!(proxy.batch(vec![json!({"type":"page","anonymousId":"a1"})]).await.0, 200);
    // The settings the SDK fetches never contain the secret.
    let settings = http().get(format!("{}/v1/projects/demo-write-key/settings", proxy.url)).send().await.unwrap();
    assert_eq!(settings.status().as_u16(), 200);
    let text = settings.text().await.unwrap();
    assert!(text.contains("\"subdomain\":\"demo\"") && !text.contains("server-only-secret") && !text.contains("demo-oauth-token"), "{text}");
    let unknown = http().get(format!("{}/v1/projects/nope/settings", proxy.url)).send().await.unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    proxy.stop().await;
}

#[tokio::test]
async fn cors_answers_preflights_for_allowed_origins_only() {
    let (_fake, proxy, _dir) =
        stack(&[("write_keys.demo-write-key.allowed_origins", "[\"https://shop.example\"]")]).await;
    let preflight = |origin: &'static str| {
        http()
            .request(reqwest::Method::OPTIONS, format!("{}/v1/batch", proxy.url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("https://shop.example").await.unwrap();
    assert_eq!(allowed.headers().get("access-control-allow-origin").unwrap(), "https://shop.example");
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let event = json!({"batch":[identify("m1","u1","Ada","ada@example.com")],"writeKey":"demo-write-key"}).to_string();
    let refused = http().post(format!("{}/v1/batch", proxy.url)).header("origin", "https://evil.example").body(event.clone()).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    assert!(refused.text().await.unwrap().contains("not allowed for this write key"));
    let ok = http().post(format!("{}/v1/batch", proxy.url)).header("origin", "https://shop.example").body(event).send().await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.headers().get("access-control-allow-origin").unwrap(), "https://shop.example");
    proxy.stop().await;
}

#[tokio::test]
async fn a_write_key_over_its_rate_is_told_when_to_retry() {
    let (_fake, proxy, _dir) =
        stack(&[("write_keys.demo-write-key.events_per_second", "1"), ("write_keys.demo-write-key.burst", "5")]).await;
    let events: Vec<Value> = (0..5).map(|i| json!({"type":"track","userId":"u","event":"e","messageId": format!("r{i}")})).collect();
    assert_eq!(proxy.batch(events).await.0, 200);
    let response = http()
        .post(format!("{}/v1/track", proxy.url))
        .basic_auth("demo-write-key", Some(""))
        .body(json!({"userId":"u","event":"e"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert!(response.headers().get("retry-after").is_some());
    assert!(response.text().await.unwrap().contains("limited to 1 events per second"));
    proxy.stop().await;
}

#[tokio::test]
async fn metrics_count_what_happened_without_secrets() {
    let (_fake, proxy, _dir) = stack(&[]).await;
    proxy.batch(vec![identify("m1", "u1", "Ada", "ada@example.com")]).await;
    proxy.post("/v1/batch", "{", Some("demo-write-key")).await;
    proxy.drained(std::time::Duration::from_secs(10)).await;
    let text = http().get(format!("{}/metrics", proxy.url)).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("zendesk_proxy_events_accepted_total 1"), "{text}");
    assert!(text.contains("zendesk_proxy_events_delivered_total 1"), "{text}");
    assert!(text.contains("zendesk_proxy_requests_refused_total{status=\"400\"} 1"), "{text}");
    assert!(text.contains("zendesk_proxy_zendesk_request_duration_seconds_count{endpoint=\"users/create_or_update\",status=\"201\"} 1"), "{text}");
    assert!(!text.contains("demo-oauth-token"));
    proxy.stop().await;
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

async fn post_gzip(proxy: &Proxy, body: &[u8]) -> (u16, Value) {
    post_encoded(proxy, "gzip", gzip(body)).await
}

async fn post_encoded(proxy: &Proxy, encoding: &str, body: Vec<u8>) -> (u16, Value) {
    let response = http()
        .post(format!("{}/v1/batch", proxy.url))
        .basic_auth("demo-write-key", Some(""))
        .header("content-type", "application/json")
        .header("content-encoding", encoding)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn gzipped_batches_are_accepted_and_a_gzip_bomb_is_refused_with_413() {
    let (fake, proxy, _dir) = stack(&[]).await;
    let batch = json!({"batch": [identify("gz-1", "g1", "Ada", "ada@example.com")]}).to_string();
    let (status, body) = post_gzip(&proxy, batch.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    proxy.drained(std::time::Duration::from_secs(10)).await;
    assert_eq!(fake.users_by_external_id("g1").await.len(), 1);
    // 20 MB of spaces inside a valid batch: a few KB on the wire.
    let bomb = format!("{{\"batch\": [{}{}]}}", identify("gz-2", "g2", "Bob", "bob@example.com"), " ".repeat(20 << 20));
    let (status, body) = post_gzip(&proxy, bomb.as_bytes()).await;
    assert_eq!(status, 413, "{body}");
    assert!(error_of(&body).contains("bytes per batch"), "{body}");
}

#[tokio::test]
async fn content_codings_are_read_regardless_of_case_and_an_unsupported_one_is_refused_with_a_reason() {
    use std::io::Write;
    let (fake, proxy, _dir) = stack(&[]).await;
    let batch = |id: &str| json!({"batch": [identify(&format!("ce-{id}"), id, "Ada", &format!("{id}@example.com"))]}).to_string();
    for (encoding, user) in [("GZIP", "upper"), ("x-gzip", "xgzip")] {
        let (status, body) = post_encoded(&proxy, encoding, gzip(batch(user).as_bytes())).await;
        assert_eq!(status, 200, "{encoding}: {body}");
    }
    let mut deflate = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    deflate.write_all(batch("deflated").as_bytes()).unwrap();
    let (status, body) = post_encoded(&proxy, "deflate", deflate.finish().unwrap()).await;
    assert_eq!(status, 200, "deflate: {body}");
    let (status, body) = post_encoded(&proxy, "br", batch("brotli").into_bytes()).await;
    assert_eq!(status, 415);
    assert!(error_of(&body).contains("Content-Encoding \"br\" is not supported"), "{body}");
    proxy.drained(std::time::Duration::from_secs(10)).await;
    for user in ["upper", "xgzip", "deflated"] {
        assert_eq!(fake.users_by_external_id(user).await.len(), 1, "{user}");
    }
}

#[tokio::test]
async fn a_string_cut_inside_an_emoji_does_not_cost_the_rest_of_the_batch() {
    let (fake, proxy, _dir) = stack(&[]).await;
    // What JSON.stringify sends for "Hi 😀".slice(0, 4), a whole emoji, and a
    // backslash followed by text that merely looks like an escape.
    let body = r#"{"batch":[{"type":"identify","userId":"s1","messageId":"ok-1","traits":{"name":"Ada \ud83d","email":"ada@example.com"}},
        {"type":"identify","userId":"s2","messageId":"ok-2","traits":{"name":"Bob \ud83d\ude00 \\ud83d \ude00","email":"bob@example.com"}}]}"#;
    let (status, answer) = proxy.post("/v1/batch", body, Some("demo-write-key")).await;
    assert_eq!(status, 200, "{answer}");
    proxy.drained(std::time::Duration::from_secs(10)).await;
    assert_eq!(fake.users_by_external_id("s1").await[0]["name"], "Ada \u{fffd}");
    assert_eq!(fake.users_by_external_id("s2").await[0]["name"], "Bob 😀 \\ud83d \u{fffd}");
}
