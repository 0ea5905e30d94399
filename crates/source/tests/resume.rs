//! A sync process killed with SIGKILL in the middle of its pages, then run
//! again, ends with exactly the fake's data: no row lost, none duplicated, and
//! the second run continues from the committed position instead of starting over.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

fn sync_command(fake: &Fake, db: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zendesk-source"));
    command
        .args(["sync", "--url", &fake.base, "--oauth-token", "demo-oauth-token", "--warehouse", db, "--schema", SCHEMA])
        .args(["--export-rpm", "10", "--core-rpm", "10", "--rate-window", "1s"])
        .args(["--export-page-size", "20", "--list-page-size", "5"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Pages committed so far per stream, from the warehouse's state table.
fn committed(db: &str) -> Vec<(String, Option<String>, Option<i64>)> {
    let Ok(conn) = rusqlite::Connection::open(db) else { return vec![] };
    let Ok(mut stmt) = conn.prepare(&format!("SELECT stream, cursor, hwm FROM {SCHEMA}__sync_state")) else { return vec![] };
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_mid_run_resumes_without_loss_or_duplicates() {
    let fake = start_fake(400, 11).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warehouse.sqlite").display().to_string();

    let mut first = sync_command(&fake, &db).spawn().expect("start zendesk-source");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // Kill once tickets and ticket events have committed some pages but not all.
        let state = committed(&db);
        let ticket_pages = fake.zendesk.requests().iter().filter(|r| r.path_and_query.contains("/incremental/tickets/")).count();
        if state.iter().any(|s| s.0 == "tickets" && s.1.is_some()) && state.iter().any(|s| s.0 == "ticket_events") && ticket_pages >= 3 {
            break;
        }
        assert!(first.try_wait().unwrap().is_none(), "the sync finished before it could be killed: make it slower");
        assert!(Instant::now() < deadline, "the sync never committed a page");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.start_kill().expect("SIGKILL");
    let status = first.wait().await.unwrap();
    assert!(!status.success(), "the first run was killed, not finished");
    let partial = sqlite_tables(&db);
    let expected = expected_tables(&fake);
    assert!(partial["ticket_events"].len() < expected["ticket_events"].len(), "killed before the end");

    let second = sync_command(&fake, &db).status().await.expect("rerun zendesk-source");
    assert!(second.success());
    assert_same_tables(&sqlite_tables(&db), &expected);

    // The second run resumed from the saved cursor: the ticket export was
    // started from a start_time exactly once over both runs.
    let starts = fake
        .zendesk
        .requests()
        .iter()
        .filter(|r| r.path_and_query.starts_with("/api/v2/incremental/tickets/cursor.json") && r.path_and_query.contains("start_time="))
        .count();
    assert_eq!(starts, 1);
}

/// With `--every`, Ctrl-C stops the schedule even while a later run is under way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_a_scheduled_sync_during_its_second_run() {
    let fake = start_fake(40, 3).await;
    fake.zendesk.set_latency(Duration::from_millis(200));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warehouse.sqlite").display().to_string();
    let mut child =
        sync_command(&fake, &db).args(["--every", "10ms"]).stdout(Stdio::piped()).spawn().expect("start zendesk-source");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    // Run 1 has ended when its summary is printed; run 2 is under way at its first request.
    let deadline = Duration::from_secs(60);
    let summary = async {
        while let Some(line) = stdout.next_line().await.expect("stdout") {
            if line.starts_with("total:") {
                return;
            }
        }
    };
    tokio::time::timeout(deadline, summary).await.expect("run 1 finished");
    let seen = fake.zendesk.requests().len();
    let started = Instant::now();
    while fake.zendesk.requests().len() == seen {
        assert!(started.elapsed() < deadline, "run 2 never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = child.id().expect("running").to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    // Generous: on a loaded machine the exit (runtime shutdown, the page in
    // flight committed) can take seconds; ignoring Ctrl-C never ends.
    let exited = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
    assert!(exited.is_ok(), "the scheduled sync ignored Ctrl-C during its second run");
}
