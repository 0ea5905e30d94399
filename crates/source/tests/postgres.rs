//! The PostgreSQL warehouse, against a real PostgreSQL server this test
//! starts ([`test_postgres`]) on 127.0.0.1 and a free port.

mod common;

use common::*;
use test_postgres::Postgres;

async fn postgres_tables(url: &str) -> Tables {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    let mut tables = Tables::new();
    for table in TABLES {
        let rows = client
            .query(&format!("SELECT id, raw::text FROM \"{SCHEMA}\".\"{table}\""), &[])
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        let rows = rows.iter().map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1))).collect();
        tables.insert(table.to_string(), to_map(table, rows));
    }
    tables
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_warehouse_holds_the_account_with_typed_columns_and_resumes() {
    let pg = Postgres::start();
    let fake = start_fake(200, 21).await;
    let config = fast_config(&fake, &pg.url());
    assert_all_complete(&sync(&config).await);
    assert_same_tables(&postgres_tables(&pg.url()).await, &expected_tables(&fake));

    // Typed columns: timestamptz, boolean, jsonb arrays.
    let (client, connection) = tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let row = client
        .query_one(
            &format!("SELECT pg_typeof(created_at)::text, pg_typeof(tags)::text, jsonb_typeof(tags), count(*) OVER () FROM \"{SCHEMA}\".tickets LIMIT 1"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "timestamp with time zone");
    assert_eq!(row.get::<_, String>(1), "jsonb");
    assert_eq!(row.get::<_, String>(2), "array");

    // A change is upserted in place on the next sync.
    let ticket = client
        .query_one(&format!("SELECT id FROM \"{SCHEMA}\".tickets WHERE status <> 'deleted' ORDER BY id LIMIT 1"), &[])
        .await
        .unwrap()
        .get::<_, i64>(0) as u64;
    assert!(fake.zendesk.delete_ticket(ticket, zendesk_source::now() - 1800));
    assert_all_complete(&sync(&config).await);
    let status: String = client
        .query_one(&format!("SELECT status FROM \"{SCHEMA}\".tickets WHERE id = $1"), &[&(ticket as i64)])
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "deleted");

    // A warehouse made by an earlier version (no `priority` column) gains it.
    client.batch_execute(&format!("ALTER TABLE \"{SCHEMA}\".tickets DROP COLUMN priority")).await.unwrap();
    assert_all_complete(&sync(&config).await);
    let restored = client
        .query_opt("SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'tickets' AND column_name = 'priority'", &[&SCHEMA])
        .await
        .unwrap();
    assert!(restored.is_some(), "the missing column was added back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warehouse_that_requires_tls_is_reached_over_verified_tls() {
    let pg = Postgres::start_with(true);
    let fake = start_fake(30, 4).await;
    // The test CA stands in for a hosted warehouse's CA installed in the
    // system store (rustls-native-certs reads SSL_CERT_FILE first).
    std::env::set_var("SSL_CERT_FILE", pg.ca());
    let url = format!("{}?sslmode=require", pg.url());
    assert_all_complete(&sync(&fast_config(&fake, &url)).await);

    let plain = tokio_postgres::connect(&format!("{}?sslmode=disable", pg.url()), tokio_postgres::NoTls).await;
    assert!(plain.is_err(), "the server refuses plain connections, so the sync must have used TLS");
    // Read back over the server's Unix socket (trusted without TLS).
    let socket = format!("host={} port={} user=zendesk dbname=postgres", pg.socket_dir().display(), pg.port());
    let (client, connection) = tokio_postgres::connect(&socket, tokio_postgres::NoTls).await.expect("socket connect");
    tokio::spawn(connection);
    let tickets: i64 = client.query_one(&format!("SELECT count(*) FROM \"{SCHEMA}\".tickets"), &[]).await.unwrap().get(0);
    assert_eq!(tickets as usize, expected_tables(&fake)["tickets"].len());
}

/// A U+0000 in Zendesk text (here a status and a comment body) is stored as
/// U+FFFD: PostgreSQL refuses the character itself, and a refused page would
/// stop that collection on every later sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_with_a_nul_character_lands_in_postgres_with_the_rest_of_its_page() {
    let pg = Postgres::start();
    let fake = start_fake(30, 9).await;
    let snapshot = fake.zendesk.export_snapshot(&fake.base);
    let ticket = snapshot["tickets"].values().find(|t| t["status"] != "deleted").expect("a ticket");
    let (ticket_id, author) = (ticket["id"].as_u64().unwrap(), ticket["requester_id"].as_u64().unwrap());
    let at = zendesk_source::now() - 3600;
    assert!(fake.zendesk.change_ticket_status(ticket_id, "pending\u{0}", at));
    let comment = fake.zendesk.add_ticket_comment(ticket_id, author, "pasted \u{0} from a PDF", true, 0, at).expect("comment");
    let config = fast_config(&fake, &pg.url());
    assert_all_complete(&sync(&config).await);

    let tables = postgres_tables(&pg.url()).await;
    let expected = expected_tables(&fake);
    for table in ["tickets", "ticket_events"] {
        assert_eq!(tables[table].len(), expected[table].len(), "every {table} row landed");
    }
    let (client, connection) = tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let status: String = client
        .query_one(&format!("SELECT status FROM \"{SCHEMA}\".tickets WHERE id = $1"), &[&(ticket_id as i64)])
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "pending\u{FFFD}");
    let body = tables["ticket_events"]
        .values()
        .flat_map(|e| e["child_events"].as_array().cloned().unwrap_or_default())
        .find(|c| c["id"].as_u64() == Some(comment))
        .map(|c| c["body"].clone());
    assert_eq!(body, Some(serde_json::json!("pasted \u{FFFD} from a PDF")));
    // The next sync goes on normally.
    assert_all_complete(&sync(&config).await);
}

/// A warehouse that cannot be reached says why, not only that it failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_postgres_warehouse_reports_the_cause() {
    let fake = start_fake(1, 1).await;
    // Nothing listens on port 9 here.
    let config = fast_config(&fake, "postgres://zendesk:s3cret@127.0.0.1:9/analytics");
    let error = zendesk_source::run(&config, &zendesk_source::progress::Progress::plain()).await.unwrap_err().to_string();
    assert!(error.contains("error connecting to server") && error.contains("refused"), "{error}");
    assert!(!error.contains("s3cret"), "{error}");
}
