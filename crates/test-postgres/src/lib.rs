//! A throwaway PostgreSQL server for tests: initdb + pg_ctl from
//! /usr/lib/postgresql/*/bin (`scripts/bootstrap` installs the `postgresql`
//! Debian package) in a temporary directory, listening on 127.0.0.1 and a
//! free port, stopped on drop.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A throwaway PostgreSQL server, stopped on drop.
pub struct Postgres {
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
    pub fn start() -> Postgres {
        Postgres::start_with(false)
    }

    /// With `tls_only`, the server has a certificate for 127.0.0.1 signed by a
    /// throwaway CA (`ca.pem` in its directory) and refuses plain connections.
    pub fn start_with(tls_only: bool) -> Postgres {
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
        pg.pg_ctl("start");
        pg
    }

    /// Stops the server (fast: connections are cut) and starts it again, as
    /// in a database restart or failover.
    pub fn restart(&self) {
        self.pg_ctl("restart");
    }

    fn pg_ctl(&self, action: &str) {
        let options = format!("-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off", self.port, self.path(self.socket_dir()));
        let log = self.path(&self.socket_dir().join("server.log"));
        self.run("pg_ctl", &["-D", &self.path(&self.data), "-o", &options, "-l", &log, "-m", "fast", "-w", action]);
    }

    /// The CA that signed the server certificate (with `tls_only`).
    pub fn ca(&self) -> PathBuf {
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

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding the server's Unix socket (trusted without TLS).
    pub fn socket_dir(&self) -> &Path {
        self.data.parent().unwrap_or(&self.data)
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

    /// A URL for the `zendesk` superuser (trusted, no password).
    pub fn url(&self) -> String {
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

