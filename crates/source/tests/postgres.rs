//! The PostgreSQL warehouse, against a real PostgreSQL server this test
//! starts (initdb + pg_ctl from /usr/lib/postgresql/*/bin, `scripts/bootstrap`
//! installs them) in a temporary directory, on 127.0.0.1 and a free port.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A throwaway PostgreSQL server, stopped on drop.
struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// initdb refuses to run as root: the server then runs as `postgres`.
    as_user: Option<&'static str>,
    _dir: tempfile::TempDir,
}

fn postgres_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: run `bash scripts/bootstrap` (installs the `postgresql` Debian package)")
    })
}

impl Postgres {
    fn start() -> Postgres {
        Postgres::start_with(false)
    }

    /// With `tls_only`, the server has a certificate for 127.0.0.1 signed by a
    /// throwaway CA (`ca.pem` in its directory) and refuses plain connections.
    fn start_with(tls_only: bool) -> Postgres {
        let bin = postgres_bin();
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let as_user = is_root.then_some("postgres");
        if let Some(user) = as_user {
            let status = Command::new("chown").args(["-R", &format!("{user}:{user}")]).arg(dir.path()).status().expect("chown");
            assert!(status.success(), "cannot hand the temp dir to the {user} user");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let pg = Postgres { bin, data, port, as_user, _dir: dir };
        pg.run("initdb", &["-D", &pg.path(&pg.data), "-A", "trust", "-U", "zendesk", "--no-sync", "-E", "UTF8"]);
        if tls_only {
            pg.require_tls();
        }
        let options = format!("-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off", pg.port, pg.path(pg.data.parent().unwrap()));
        let log = pg.path(&pg.data.parent().unwrap().join("server.log"));
        pg.run("pg_ctl", &["-D", &pg.path(&pg.data), "-o", &options, "-l", &log, "-w", "start"]);
        pg
    }

    fn ca(&self) -> PathBuf {
        self.data.parent().unwrap().join("ca.pem")
    }

    fn require_tls(&self) {
        let dir = self.data.parent().unwrap();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl");
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        openssl(&["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test CA", "-keyout", "ca.key", "-out", "ca.pem",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]);
        openssl(&["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "data/server.key", "-out", "server.csr"]);
        std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n").unwrap();
        openssl(&["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-extfile", "san.ext", "-out", "data/server.crt"]);
        let conf = self.data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push_str("\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        std::fs::write(&conf, text).unwrap();
        std::fs::write(self.data.join("pg_hba.conf"), "local all all trust\nhostssl all all 127.0.0.1/32 trust\n").unwrap();
        std::fs::set_permissions(self.data.join("server.key"), std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        if let Some(user) = self.as_user {
            let status = Command::new("chown").args(["-R", &format!("{user}:{user}")]).arg(dir).status().expect("chown");
            assert!(status.success());
        }
    }

    fn path(&self, p: &Path) -> String {
        p.display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let output = match self.as_user {
            Some(user) => Command::new("runuser").args(["-u", user, "--"]).arg(&program).args(args).output(),
            None => Command::new(&program).args(args).output(),
        }
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        assert!(output.status.success(), "{tool} failed: {}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    }

    fn url(&self) -> String {
        format!("postgres://zendesk@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.path(&self.data);
        let program = self.bin.join("pg_ctl");
        let _ = match self.as_user {
            Some(user) => Command::new("runuser").args(["-u", user, "--"]).arg(&program).args(["-D", &data, "-m", "immediate", "stop"]).output(),
            None => Command::new(&program).args(["-D", &data, "-m", "immediate", "stop"]).output(),
        };
    }
}

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
    let socket = format!("host={} port={} user=zendesk dbname=postgres", pg.data.parent().unwrap().display(), pg.port);
    let (client, connection) = tokio_postgres::connect(&socket, tokio_postgres::NoTls).await.expect("socket connect");
    tokio::spawn(connection);
    let tickets: i64 = client.query_one(&format!("SELECT count(*) FROM \"{SCHEMA}\".tickets"), &[]).await.unwrap().get(0);
    assert_eq!(tickets as usize, expected_tables(&fake)["tickets"].len());
}
