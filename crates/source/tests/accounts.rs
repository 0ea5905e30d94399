//! One warehouse schema holds one Zendesk account's sync: its tables are keyed
//! by Zendesk id alone and its saved positions by collection, so a second
//! account synced into it would skip that account's older records and mix its
//! rows with the first one's. Such a sync is refused, saying what to do.

mod common;

use common::*;
use zendesk_source::progress::Progress;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_zendesk_account_is_refused_in_a_schema_holding_another_accounts_sync() {
    let first = start_fake(30, 1).await;
    let second = start_fake(30, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warehouse.sqlite").display().to_string();
    assert_all_complete(&sync(&fast_config(&first, &db)).await);
    let before = sqlite_tables(&db);

    let refused = zendesk_source::run(&fast_config(&second, &db), &Progress::plain()).await;
    let error = refused.expect_err("a second account is refused").to_string();
    assert!(error.contains(&first.base) && error.contains(&second.base), "{error}");
    assert!(error.contains("--schema"), "says what to do: {error}");
    assert_eq!(sqlite_tables(&db), before, "nothing of the second account was written");

    // The first account still syncs; the second one does in a schema of its own.
    assert_all_complete(&sync(&fast_config(&first, &db)).await);
    let mut own_schema = fast_config(&second, &db);
    own_schema.schema = "zendesk_second".into();
    assert_all_complete(&sync(&own_schema).await);
}
