//! Shared test harness: the real fake Zendesk and the real proxy, both over
//! HTTP on 127.0.0.1:0. Rate limits and the request log are the fake's own,
//! so the proxy meets Zendesk's 429s and headers exactly as modelled there.

#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::oneshot;
use zendesk_fake::FakeZendesk;
use zendesk_proxy::config::{Config, Overrides};

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// The account's limit: at most `per_window` requests per `window`, beyond
/// that 429 with `Retry-After`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub per_window: usize,
    pub window: Duration,
}

pub struct Fake {
    pub url: String,
    pub zendesk: FakeZendesk,
    _stop: oneshot::Sender<()>,
}

impl Fake {
    pub async fn start() -> Fake {
        Fake::start_with(None).await
    }

    pub async fn start_with(limit: Option<Limit>) -> Fake {
        let zendesk = FakeZendesk::demo();
        if let Some(limit) = limit {
            zendesk.limit_core(limit.per_window, limit.window);
        }
        let app = zendesk.router();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Fake { url, zendesk, _stop: stop }
    }

    /// Lifts the request limit (so the test itself can inspect the fake).
    pub fn unlimit(&self) {
        self.zendesk.lift_core_limit();
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.zendesk
            .requests()
            .into_iter()
            .map(|r| Seen {
                at: r.at,
                method: r.method,
                path: r.path_and_query.split('?').next().unwrap_or_default().to_owned(),
                status: r.status,
            })
            .collect()
    }

    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.requests().iter().filter(|s| s.method == method && s.path.starts_with(path_prefix)).count()
    }

    /// GET on the fake's API as the demo agent.
    pub async fn get(&self, path: &str) -> Value {
        http().get(format!("{}{path}", self.url)).bearer_auth("demo-oauth-token").send().await.unwrap().json().await.unwrap()
    }

    /// Users whose external_id is `id`, as the Zendesk API returns them.
    pub async fn users_by_external_id(&self, id: &str) -> Vec<Value> {
        let body = self.get(&format!("/api/v2/users/search.json?external_id={}", id.replace('+', "%2B"))).await;
        body["users"].as_array().cloned().unwrap_or_default()
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

/// Proxy configuration for a test: the demo defaults pointed at `fake_url`,
/// a queue in `dir`, plus `extra` overrides (dotted keys).
pub fn config(fake_url: &str, dir: &Path, extra: &[(&str, &str)]) -> Config {
    let mut overrides: Overrides = vec![
        ("listen".into(), "127.0.0.1:0".into()),
        ("database".into(), dir.join("queue.db").display().to_string()),
        ("zendesk.url".into(), fake_url.into()),
        ("delivery.coalesce_window_ms".into(), "50".into()),
    ];
    overrides.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    Config::load(None, &overrides).unwrap()
}

/// A proxy running in this process.
pub struct Proxy {
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(config: Config) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            zendesk_proxy::serve(config, listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Proxy { url, stop: Some(stop), task }
    }

    /// Graceful shutdown, as on SIGTERM.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// POSTs a Segment batch with the demo write key as Basic auth.
    pub async fn batch(&self, events: Vec<Value>) -> (u16, Value) {
        self.post("/v1/batch", &json!({ "batch": events }).to_string(), Some("demo-write-key")).await
    }

    pub async fn post(&self, path: &str, body: &str, basic_user: Option<&str>) -> (u16, Value) {
        let mut request = http().post(format!("{}{path}", self.url)).body(body.to_owned()).header("content-type", "application/json");
        if let Some(user) = basic_user {
            request = request.basic_auth(user, Some(""));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn queue_depth(&self) -> u64 {
        let health: Value = http().get(format!("{}/healthz", self.url)).send().await.unwrap().json().await.unwrap();
        health["queue_depth"].as_u64().unwrap()
    }

    /// Sends a batch, which must be accepted, and waits until it has left
    /// the queue.
    pub async fn deliver(&self, events: Vec<Value>) {
        let (status, body) = self.batch(events).await;
        assert_eq!(status, 200, "{body}");
        self.drained(Duration::from_secs(10)).await;
    }

    /// Waits (polling) until every accepted event has left the queue.
    pub async fn drained(&self, within: Duration) {
        let deadline = Instant::now() + within;
        while self.queue_depth().await > 0 {
            assert!(Instant::now() < deadline, "the queue did not drain within {within:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The fake Zendesk and a proxy with the demo configuration (plus `extra`)
/// sending to it, its queue in a fresh directory.
pub async fn stack(extra: &[(&str, &str)]) -> (Fake, Proxy, tempfile::TempDir) {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(config(&fake.url, dir.path(), extra)).await;
    (fake, proxy, dir)
}

pub fn identify(message_id: &str, user_id: &str, name: &str, email: &str) -> Value {
    json!({
        "type": "identify",
        "messageId": message_id,
        "userId": user_id,
        "traits": { "name": name, "email": email },
    })
}
