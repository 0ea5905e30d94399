//! Shared by the source's tests: the fake Zendesk served in-process over real
//! HTTP on 127.0.0.1:0, a fast configuration, and readers that compare a
//! warehouse with the fake's own data.
#![allow(dead_code)] // each test binary uses part of this module

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use url::Url;
use zendesk_fake::{AccountSpec, FakeZendesk};
use zendesk_source::config::{RateLimits, RetryPolicy};
use zendesk_source::progress::Progress;
use zendesk_source::{Auth, Outcome, Summary, SyncConfig};

pub const DAY: i64 = 24 * 3600;
pub const SCHEMA: &str = "zendesk_test";

/// A fake Zendesk with a generated account, listening on 127.0.0.1.
pub struct Fake {
    pub zendesk: FakeZendesk,
    pub base: String,
}

pub async fn start_fake(tickets: usize, seed: u64) -> Fake {
    let zendesk = FakeZendesk::demo();
    zendesk.generate_account(AccountSpec { tickets, seed });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let base = format!("http://{}", listener.local_addr().expect("local addr"));
    let router = zendesk.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    Fake { zendesk, base }
}

/// Small pages (so a few hundred tickets take many pages) and budgets
/// counted per second instead of per minute, so tests run in seconds.
pub fn fast_config(fake: &Fake, warehouse: &str) -> SyncConfig {
    let base = Url::parse(&fake.base).expect("fake url");
    let mut config = SyncConfig::new(base, Auth::OAuth { access_token: "demo-oauth-token".into() }, warehouse);
    config.schema = SCHEMA.into();
    config.limits = RateLimits::new(400, 200, Duration::from_secs(1)).expect("limits");
    config.retry = RetryPolicy { base: Duration::from_millis(20), max_attempts: 6, default_retry_after: Duration::from_secs(1) };
    config.export_page_size = 50;
    config.list_page_size = 10;
    config
}

pub async fn sync(config: &SyncConfig) -> Summary {
    let summary = zendesk_source::run(config, &Progress::plain()).await.expect("sync runs");
    println!("{}", summary.render());
    summary
}

pub fn assert_all_complete(summary: &Summary) {
    for report in &summary.streams {
        assert_eq!(report.outcome, Outcome::Complete, "{} did not complete", report.stream.name());
    }
}

pub type Tables = BTreeMap<String, BTreeMap<u64, Value>>;

pub const TABLES: [&str; 9] = [
    "tickets", "users", "organizations", "groups", "ticket_events", "ticket_metrics", "satisfaction_ratings", "activities",
    "attachments",
];

/// Every table of a SQLite warehouse: id → raw JSON, with a check that no id
/// appears twice.
pub fn sqlite_tables(path: &str) -> Tables {
    let conn = rusqlite::Connection::open(path).expect("open warehouse");
    TABLES
        .iter()
        .map(|table| {
            let sql = format!("SELECT id, raw FROM \"{SCHEMA}_{table}\"");
            let mut stmt = conn.prepare(&sql).expect("table exists");
            let rows: Vec<(i64, String)> =
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("query").map(|r| r.expect("row")).collect();
            (table.to_string(), to_map(table, rows))
        })
        .collect()
}

pub fn to_map(table: &str, rows: Vec<(i64, String)>) -> BTreeMap<u64, Value> {
    let count = rows.len();
    let map: BTreeMap<u64, Value> =
        rows.into_iter().map(|(id, raw)| (id as u64, serde_json::from_str(&raw).expect("raw is JSON"))).collect();
    assert_eq!(map.len(), count, "{table} has duplicate ids");
    map
}

/// What a sync with a one-year lookback must hold: the fake's records, minus
/// those last changed before the lookback (and their metrics and attachments).
pub fn expected_tables(fake: &Fake) -> Tables {
    let mut snapshot = fake.zendesk.export_snapshot(&fake.base);
    let since = zendesk_source::now() - 365 * DAY;
    let time = |v: &Value, key: &str| -> i64 {
        match &v[key] {
            Value::Number(n) => n.as_i64().unwrap_or(0),
            Value::String(s) => humantime::parse_rfc3339(s)
                .map(|t| t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs() as i64)
                .unwrap_or(0),
            _ => 0,
        }
    };
    let mut keep = |table: &str, key: &str| {
        if let Some(records) = snapshot.get_mut(table) {
            records.retain(|_, v| time(v, key) >= since);
        }
    };
    keep("tickets", "generated_timestamp");
    keep("users", "updated_at");
    keep("organizations", "updated_at");
    keep("ticket_events", "timestamp");
    keep("satisfaction_ratings", "created_at");
    let tickets: Vec<u64> = snapshot["tickets"].keys().copied().collect();
    if let Some(metrics) = snapshot.get_mut("ticket_metrics") {
        metrics.retain(|_, m| m["ticket_id"].as_u64().is_some_and(|t| tickets.binary_search(&t).is_ok()));
    }
    // Attachments come with their comment's ticket event, plus its ids.
    let mut attachments = BTreeMap::new();
    for event in snapshot["ticket_events"].values() {
        for child in event["child_events"].as_array().into_iter().flatten() {
            for a in child["attachments"].as_array().into_iter().flatten() {
                let mut a = a.clone();
                a["ticket_id"] = event["ticket_id"].clone();
                a["ticket_event_id"] = event["id"].clone();
                a["comment_id"] = child["id"].clone();
                attachments.insert(a["id"].as_u64().expect("attachment id"), a);
            }
        }
    }
    assert_eq!(attachments.len(), snapshot["attachments"].values().filter(|a| time(a, "created_at") >= since).count());
    snapshot.insert("attachments", attachments);
    snapshot.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Compares table by table, naming the first difference.
pub fn assert_same_tables(actual: &Tables, expected: &Tables) {
    for table in TABLES {
        let (a, e) = (&actual[table], &expected[table]);
        let missing: Vec<&u64> = e.keys().filter(|id| !a.contains_key(id)).take(3).collect();
        let extra: Vec<&u64> = a.keys().filter(|id| !e.contains_key(id)).take(3).collect();
        assert!(missing.is_empty() && extra.is_empty(), "{table}: {} rows, expected {}; missing {missing:?}, unexpected {extra:?}", a.len(), e.len());
        for (id, record) in e {
            assert_eq!(&a[id], record, "{table} row {id} differs from the fake");
        }
    }
}
