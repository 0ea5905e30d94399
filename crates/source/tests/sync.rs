//! A sync against the fake Zendesk: the first one copies the account, the
//! next ones bring changes, and a collection the plan lacks is skipped.

mod common;

use common::*;
use zendesk_source::streams::Stream;
use zendesk_source::Outcome;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_sync_copies_the_generated_account_exactly() {
    let fake = start_fake(400, 42).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warehouse.sqlite").display().to_string();
    let summary = sync(&fast_config(&fake, &db)).await;
    assert_all_complete(&summary);

    let actual = sqlite_tables(&db);
    let expected = expected_tables(&fake);
    assert_same_tables(&actual, &expected);
    for table in TABLES {
        assert!(!expected[table].is_empty(), "the generated account has {table}");
    }
    // The lookback is honoured: tickets last changed more than a year ago stay out.
    let all = fake.zendesk.export_snapshot(&fake.base);
    assert!(all["tickets"].len() > actual["tickets"].len(), "some generated tickets are older than a year");

    // Typed columns agree with the raw record; arrays are JSON.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn.prepare(&format!("SELECT id, status, tags, requester_id, raw FROM {SCHEMA}_tickets")).unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?, r.get::<_, String>(4)?)))
        .unwrap();
    for row in rows {
        let (id, status, tags, requester, raw) = row.unwrap();
        let raw: serde_json::Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(raw["status"], status.as_str(), "ticket {id}");
        assert_eq!(raw["tags"], serde_json::from_str::<serde_json::Value>(&tags).unwrap());
        assert_eq!(raw["requester_id"], requester);
    }

    // Nothing changed: the next sync reads one page per stream and adds nothing.
    let again = sync(&fast_config(&fake, &db)).await;
    assert_all_complete(&again);
    assert_same_tables(&sqlite_tables(&db), &expected);
    for report in &again.streams {
        if report.stream != Stream::Groups {
            assert!(report.counts.pages <= 2, "{} re-read {} pages", report.stream.name(), report.counts.pages);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_changes_new_comments_and_deletions_appear_after_the_next_sync() {
    let fake = start_fake(120, 7).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warehouse.sqlite").display().to_string();
    let config = fast_config(&fake, &db);
    assert_all_complete(&sync(&config).await);

    let before = sqlite_tables(&db);
    let open: Vec<u64> = before["tickets"]
        .iter()
        .filter(|(_, t)| t["status"] == "open" || t["status"] == "pending" || t["status"] == "new")
        .map(|(id, _)| *id)
        .take(3)
        .collect();
    assert_eq!(open.len(), 3, "the account has unsolved tickets");
    let (closed, commented, deleted) = (open[0], open[1], open[2]);
    // Zendesk's exports leave out the last minute, so the changes happen half an hour ago.
    let at = zendesk_source::now() - 1800;
    assert!(fake.zendesk.change_ticket_status(closed, "solved", at));
    let author = before["tickets"][&commented]["requester_id"].as_u64().unwrap();
    let comment = fake.zendesk.add_ticket_comment(commented, author, "Any news?", true, 1, at).unwrap();
    assert!(fake.zendesk.delete_ticket(deleted, at));

    assert_all_complete(&sync(&config).await);
    let after = sqlite_tables(&db);
    assert_eq!(after["tickets"][&closed]["status"], "solved");
    assert_eq!(after["tickets"][&deleted]["status"], "deleted", "soft-deleted tickets are kept, flagged");
    let event = after["ticket_events"]
        .values()
        .find(|e| e["child_events"].as_array().unwrap().iter().any(|c| c["id"] == comment))
        .expect("the new comment's ticket event was synced");
    assert_eq!(event["ticket_id"], commented);
    let attachment = after["attachments"].values().find(|a| a["comment_id"] == comment).expect("its attachment was synced");
    assert_eq!(attachment["ticket_id"], commented);
    let metrics = after["ticket_metrics"].values().find(|m| m["ticket_id"] == closed).unwrap();
    assert!(metrics["solved_at"].is_string());
    // The deleted ticket's last metrics stay (Zendesk stops sending them); all else matches the fake.
    let mut after = after;
    let kept = after["ticket_metrics"].iter().find(|(_, m)| m["ticket_id"] == deleted).map(|(id, _)| *id);
    after.get_mut("ticket_metrics").unwrap().remove(&kept.expect("metrics of the deleted ticket are kept"));
    assert_same_tables(&after, &expected_tables(&fake));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_the_plan_lacks_is_skipped_and_the_rest_syncs() {
    let fake = start_fake(60, 3).await;
    fake.zendesk.disable_satisfaction_ratings();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warehouse.sqlite").display().to_string();
    let summary = sync(&fast_config(&fake, &db)).await;
    assert!(!summary.failed(), "a 403 does not fail the run");
    for report in &summary.streams {
        match report.stream {
            Stream::SatisfactionRatings => assert!(matches!(&report.outcome, Outcome::Skipped(why) if why.contains("403")), "{:?}", report.outcome),
            _ => assert_eq!(report.outcome, Outcome::Complete),
        }
    }
    assert!(summary.render().contains("SKIPPED: 403"));
    assert!(!sqlite_tables(&db)["tickets"].is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warehouse_made_by_an_earlier_version_gains_the_new_columns_without_a_resync() {
    let fake = start_fake(40, 12).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warehouse.sqlite").display().to_string();
    let config = fast_config(&fake, &db);
    assert_all_complete(&sync(&config).await);
    // An earlier version had no `status` column on tickets.
    rusqlite::Connection::open(&db).unwrap().execute_batch(&format!("ALTER TABLE \"{SCHEMA}_tickets\" DROP COLUMN status")).unwrap();

    let ticket = *expected_tables(&fake)["tickets"].keys().next().unwrap();
    assert!(fake.zendesk.change_ticket_status(ticket, "solved", zendesk_source::now() - 1800));
    assert_all_complete(&sync(&config).await);
    let status: Option<String> = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(&format!("SELECT status FROM \"{SCHEMA}_tickets\" WHERE id = ?1"), [ticket as i64], |r| r.get(0))
        .unwrap();
    assert_eq!(status.as_deref(), Some("solved"), "the column is back and the changed ticket fills it");
}

/// Ticket events written a minute ago become exportable one second at a time
/// while the sync runs: the export must follow them (not re-read one page
/// forever) and its saved position must never pass an event it did not read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_events_becoming_exportable_during_the_run_are_read_and_the_run_ends() {
    let fake = start_fake(20, 5).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warehouse.sqlite").display().to_string();
    let snapshot = fake.zendesk.export_snapshot(&fake.base);
    let ticket = snapshot["tickets"].values().find(|t| t["status"] != "deleted").expect("a ticket");
    let (ticket_id, author) = (ticket["id"].as_u64().unwrap(), ticket["requester_id"].as_u64().unwrap());
    let start = zendesk_source::now();
    // One comment a second from 64 s ago to 56 s ago: the newest become
    // exportable a few seconds into the run.
    for age in (56..=64).rev() {
        fake.zendesk.add_ticket_comment(ticket_id, author, "late", true, 0, start - age).expect("comment added");
    }
    fake.zendesk.set_latency(std::time::Duration::from_millis(300));
    let mut config = fast_config(&fake, &db);
    config.initial_lookback = std::time::Duration::from_secs(70);
    config.export_page_size = 1;
    let summary = tokio::time::timeout(std::time::Duration::from_secs(60), sync(&config)).await.expect("the sync ends");
    assert_all_complete(&summary);

    let conn = rusqlite::Connection::open(&db).unwrap();
    let hwm: i64 = conn
        .query_row(&format!("SELECT hwm FROM {SCHEMA}__sync_state WHERE stream = 'ticket_events'"), [], |r| r.get(0))
        .unwrap();
    assert!(hwm <= zendesk_source::now() - 60, "the saved position is not in Zendesk's last minute");
    let synced = sqlite_tables(&db)["ticket_events"].clone();
    let events = fake.zendesk.export_snapshot(&fake.base)["ticket_events"].clone();
    let behind: Vec<&u64> =
        events.iter().filter(|(_, e)| e["timestamp"].as_i64().is_some_and(|t| t >= start - 70 && t < hwm)).map(|(id, _)| id).collect();
    assert!(behind.len() >= 5, "the run read events that became exportable: {behind:?}");
    for id in behind {
        assert!(synced.contains_key(id), "event {id} is behind the saved position but was never synced");
    }
}

/// A saved list cursor Zendesk refuses (expired, or from another version) is
/// dropped and the pass restarts, instead of failing that collection at every sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_list_cursor_restarts_the_pass_instead_of_failing_every_sync() {
    let fake = start_fake(60, 8).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warehouse.sqlite").display().to_string();
    let config = fast_config(&fake, &db);
    assert_all_complete(&sync(&config).await);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        &format!("UPDATE {SCHEMA}__sync_state SET cursor = 'expired' WHERE stream IN ('groups', 'satisfaction_ratings', 'activities')"),
        [],
    )
    .unwrap();
    assert_all_complete(&sync(&config).await);
    assert_same_tables(&sqlite_tables(&db), &expected_tables(&fake));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_is_not_an_admins_fails_the_sync_saying_an_admins_token_is_needed() {
    let fake = start_fake(30, 5).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warehouse.sqlite").display().to_string();
    let mut config = fast_config(&fake, &db);
    config.auth = zendesk_source::Auth::OAuth { access_token: "demo-agent-oauth-token".into() };
    let summary = sync(&config).await;
    assert!(summary.failed(), "copying nothing is not a successful sync");
    for report in summary.streams.iter().filter(|r| r.stream.api() == zendesk_source::client::Api::Export) {
        assert!(
            matches!(&report.outcome, Outcome::Failed(why) if why.contains("403") && why.contains("admin")),
            "{}: {:?}",
            report.stream.name(),
            report.outcome
        );
    }
    assert!(summary.render().contains("admin"), "{}", summary.render());
}
