//! The command line refuses unusable settings with a sentence that says what to do.

use std::process::Command;

fn sync(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_zendesk-source"))
        .arg("sync")
        .args(args)
        .env_remove("ZENDESK_OAUTH_TOKEN")
        .env_remove("ZENDESK_EMAIL")
        .env_remove("ZENDESK_API_TOKEN")
        .env_remove("ZENDESK_SUBDOMAIN")
        .env_remove("ZENDESK_URL")
        .output()
        .expect("run zendesk-source");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_real_zendesk_without_credentials_is_refused_with_what_to_set() {
    let (ok, stderr) = sync(&["--subdomain", "acme"]);
    assert!(!ok);
    assert!(stderr.contains("set ZENDESK_OAUTH_TOKEN"), "{stderr}");
}

#[test]
fn a_bad_schema_name_or_subdomain_is_refused_before_anything_runs() {
    let (ok, stderr) = sync(&["--schema", "Zendesk Prod"]);
    assert!(!ok);
    assert!(stderr.contains("schema name `Zendesk Prod` is not usable"), "{stderr}");
    let (ok, stderr) = sync(&["--subdomain", "acme.zendesk.com/x", "--oauth-token", "t"]);
    assert!(!ok);
    assert!(stderr.contains("not a Zendesk subdomain"), "{stderr}");
}

#[test]
fn the_token_never_appears_in_errors() {
    // An unreachable Zendesk (nothing listens on port 9 here) with a secret token.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.sqlite");
    let output = Command::new(env!("CARGO_BIN_EXE_zendesk-source"))
        .args(["sync", "--url", "http://127.0.0.1:9", "--oauth-token", "s3cret-token-value", "--retry-base", "1ms", "--export-rpm", "1000"])
        .arg("--warehouse")
        .arg(&db)
        .output()
        .expect("run zendesk-source");
    assert!(!output.status.success());
    let all = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(all.contains("FAILED"), "{all}");
    assert!(!all.contains("s3cret-token-value"));
}

#[test]
fn a_password_in_the_zendesk_url_is_refused_and_never_printed() {
    let (ok, stderr) = sync(&["--url", "https://agent:S3CRET-PW@acme.zendesk.com"]);
    assert!(!ok);
    assert!(stderr.contains("carries credentials"), "{stderr}");
    assert!(!stderr.contains("S3CRET-PW"), "{stderr}");
}

#[test]
fn a_libpq_connection_string_is_a_postgres_warehouse_not_a_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_zendesk-source"))
        .current_dir(dir.path())
        .args(["sync", "--url", "http://127.0.0.1:9", "--oauth-token", "t"])
        .args(["--warehouse", "host=127.0.0.1 port=9 user=etl password=S3CRET-PW dbname=a connect_timeout=2"])
        .output()
        .expect("run zendesk-source");
    let all = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!output.status.success());
    assert!(all.contains("PostgreSQL warehouse"), "{all}");
    assert!(!all.contains("S3CRET-PW"), "{all}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no SQLite file was created");
}
