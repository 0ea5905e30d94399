//! Rate limits: the sync keeps inside Zendesk's export limit on its own, and a
//! storm of 429s pauses every stream for Retry-After and is ridden out.

mod common;

use std::time::Duration;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_pauses_every_stream_and_the_sync_still_completes_within_budget() {
    let fake = start_fake(150, 5).await;
    // Zendesk's export limit, scaled from a minute to a second (with a little
    // slack for network jitter), and the sync's budget set to the same 8.
    fake.zendesk.limit_exports(8, Duration::from_millis(800));
    fake.zendesk.throttle_next(4, Duration::from_secs(2));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warehouse.sqlite").display().to_string();
    let mut config = fast_config(&fake, &db);
    config.limits = zendesk_source::config::RateLimits::new(20, 8, Duration::from_secs(1)).unwrap();

    let summary = sync(&config).await;
    assert_all_complete(&summary);
    assert_same_tables(&sqlite_tables(&db), &expected_tables(&fake));

    let log = fake.zendesk.requests();
    let throttled: Vec<_> = log.iter().filter(|r| r.status == 429).collect();
    assert_eq!(throttled.len(), 4, "only the storm's 429s: the budget kept the sync under the export limit");
    assert_eq!(summary.total().throttled, 4);
    // After the last 429 (Retry-After: 2), no stream sent anything until the
    // pause ended (the margins absorb requests already in flight).
    let last = throttled.last().unwrap().at;
    let during_pause = log
        .iter()
        .filter(|r| r.at > last + Duration::from_millis(300) && r.at < last + Duration::from_millis(1700))
        .count();
    assert_eq!(during_pause, 0, "requests were sent during the Retry-After pause");
    // The export budget held: never more than 8 export requests in any 0.8 s.
    let exports: Vec<_> = log.iter().filter(|r| r.path_and_query.starts_with("/api/v2/incremental/")).map(|r| r.at).collect();
    for (i, start) in exports.iter().enumerate() {
        let in_window = exports[i..].iter().take_while(|t| **t < *start + Duration::from_millis(800)).count();
        assert!(in_window <= 8, "{in_window} export requests within 0.8s");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_with_backoff_and_lose_nothing() {
    let fake = start_fake(60, 9).await;
    fake.zendesk.fail_next(3, 503);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warehouse.sqlite").display().to_string();
    let summary = sync(&fast_config(&fake, &db)).await;
    assert_all_complete(&summary);
    assert_eq!(summary.total().retries, 3);
    assert_same_tables(&sqlite_tables(&db), &expected_tables(&fake));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_zendesk_is_reported_at_once_with_a_clear_error() {
    let fake = start_fake(10, 9).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warehouse.sqlite").display().to_string();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut config = fast_config(&fake, &db);
    config.base_url = url::Url::parse(&format!("http://{closed}")).unwrap();
    // Production backoff: retrying a Zendesk that was never reached took minutes.
    config.retry = zendesk_source::config::RetryPolicy::default();
    let summary = tokio::time::timeout(Duration::from_secs(10), sync(&config)).await.expect("reported within seconds");
    assert!(summary.failed());
    for report in &summary.streams {
        assert_eq!(report.counts.retries, 0, "{}: a Zendesk never reached is not retried", report.stream.name());
        assert!(
            matches!(&report.outcome, zendesk_source::Outcome::Failed(why) if why.contains(&format!("cannot reach Zendesk at http://{closed}")) && why.contains("refused")),
            "{:?}",
            report.outcome
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_other_apps_spend_the_accounts_minute_the_sync_spaces_its_requests_instead_of_meeting_429s() {
    let fake = start_fake(150, 5).await;
    // The account allows 30 Core requests per 2 s (a minute, scaled down), and
    // other apps on it have just spent 27: the sync's own budget (100) cannot
    // know that, Zendesk's rate-limit headers can.
    fake.zendesk.limit_core(30, Duration::from_secs(2));
    fake.zendesk.spend_core(27);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warehouse.sqlite").display().to_string();
    let mut config = fast_config(&fake, &db);
    config.limits = zendesk_source::config::RateLimits::new(100, 10, Duration::from_secs(2)).unwrap();

    let summary = sync(&config).await;
    assert_all_complete(&summary);
    assert_same_tables(&sqlite_tables(&db), &expected_tables(&fake));

    let log = fake.zendesk.requests();
    let core = log.iter().filter(|r| !r.path_and_query.starts_with("/api/v2/incremental/")).count();
    assert!(core > 3, "the sync needed more Core requests ({core}) than the 3 left, so it had to wait for the next window");
    let throttled: Vec<_> = log.iter().filter(|r| r.status == 429).map(|r| &r.path_and_query).collect();
    assert!(throttled.is_empty(), "the sync met 429s instead of slowing down: {throttled:?}");
}
