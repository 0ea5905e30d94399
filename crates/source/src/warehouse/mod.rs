//! The warehouse: a SQLite file (default) or a PostgreSQL database.
//!
//! Each stream writes a page of rows and its new [`StreamState`] in one
//! transaction, so a sync killed at any point resumes exactly after the last
//! committed page: no row is lost, and a page read twice is upserted, not
//! duplicated.

mod postgres;
mod sqlite;

use std::sync::Arc;

use thiserror::Error;

use crate::streams::{Page, StreamState};
use crate::tables::{ColumnType, Table, ALL_TABLES, RAW_COLUMN};

/// A warehouse failure.
#[derive(Debug, Error)]
pub enum WarehouseError {
    #[error("SQLite warehouse {path}: {source}")]
    Sqlite { path: String, source: rusqlite::Error },
    #[error("PostgreSQL warehouse: {0}")]
    Postgres(String),
    #[error("the warehouse writer stopped unexpectedly: {0}")]
    Writer(String),
    #[error(
        "{place} holds the sync of {holder}, not {zendesk}: its tables and saved positions are for one account, \
         so syncing another into them would skip that account's older records and mix both accounts' rows. \
         Sync {zendesk} into its own --schema (or warehouse)"
    )]
    OtherAccount { place: String, holder: String, zendesk: String },
}

/// Where rows go, and under which schema name.
#[derive(Debug, Clone)]
pub struct Warehouse {
    target: Target,
    schema: String,
}

#[derive(Clone)]
enum Target {
    /// One connection shared by every stream: SQLite has one writer at a
    /// time, and writers on separate connections would wait on each other
    /// in sleep-and-retry loops rather than in a queue.
    Sqlite { path: String, shared: Arc<tokio::sync::OnceCell<sqlite::SqliteConnection>> },
    Postgres(String),
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Sqlite { path, .. } => write!(f, "Sqlite({path})"),
            Target::Postgres(_) => f.write_str("Postgres(<url>)"),
        }
    }
}

/// An open connection: one per stream in PostgreSQL, so streams write in
/// parallel; a handle on the shared one in SQLite.
pub enum Connection {
    Sqlite(sqlite::SqliteConnection),
    Postgres(postgres::PostgresConnection),
}

impl Warehouse {
    /// `postgres://…`, `postgresql://…` or a libpq `key=value` string
    /// (`host=db user=etl dbname=a`) selects PostgreSQL (schema `schema`);
    /// anything else is a SQLite file whose tables are named
    /// `{schema}_{table}`, SQLite having no schemas inside one file.
    pub fn new(spec: &str, schema: &str) -> Warehouse {
        let target = if spec.starts_with("postgres://") || spec.starts_with("postgresql://") || is_libpq_keywords(spec) {
            Target::Postgres(spec.to_string())
        } else {
            let path = spec.strip_prefix("sqlite://").unwrap_or(spec).to_string();
            Target::Sqlite { path, shared: Arc::default() }
        };
        Warehouse { target, schema: schema.to_string() }
    }

    /// A description without credentials, for logs.
    pub fn describe(&self) -> String {
        match &self.target {
            Target::Sqlite { path, .. } => format!("SQLite {path} (tables {}_*)", self.schema),
            Target::Postgres(spec) => {
                let place = spec.parse::<tokio_postgres::Config>().ok().map(|c| {
                    let host = match c.get_hosts().first() {
                        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
                        #[cfg(unix)]
                        Some(tokio_postgres::config::Host::Unix(dir)) => dir.display().to_string(),
                        None => "?".into(),
                    };
                    format!("{host}:{}/{}", c.get_ports().first().unwrap_or(&5432), c.get_dbname().unwrap_or(""))
                });
                format!("PostgreSQL {} (schema {})", place.unwrap_or_else(|| "?".into()), self.schema)
            }
        }
    }

    /// Creates the schema, the tables and the state table when missing.
    pub async fn prepare(&self) -> Result<(), WarehouseError> {
        match self.connect().await? {
            Connection::Sqlite(c) => c.prepare().await,
            Connection::Postgres(c) => c.prepare().await,
        }
    }

    /// Records `zendesk` (the account's origin) as the account this schema
    /// syncs, or refuses when it already syncs another one: rows are keyed by
    /// Zendesk id alone and positions by collection, so a schema can hold one
    /// account only (as Airbyte and Fivetran give each connection its own schema).
    /// A schema made before accounts were recorded is claimed by its next sync.
    pub async fn claim(&self, zendesk: &str) -> Result<(), WarehouseError> {
        let holder = match self.connect().await? {
            Connection::Sqlite(c) => c.claim(zendesk).await?,
            Connection::Postgres(c) => c.claim(zendesk).await?,
        };
        if holder == zendesk {
            return Ok(());
        }
        Err(WarehouseError::OtherAccount { place: self.describe(), holder, zendesk: zendesk.to_string() })
    }

    pub async fn connect(&self) -> Result<Connection, WarehouseError> {
        let names = Names { schema: self.schema.clone(), postgres: matches!(self.target, Target::Postgres(_)) };
        Ok(match &self.target {
            Target::Sqlite { path, shared } => {
                Connection::Sqlite(shared.get_or_try_init(|| sqlite::SqliteConnection::open(path, names)).await?.clone())
            }
            Target::Postgres(url) => Connection::Postgres(postgres::PostgresConnection::open(url, names).await?),
        })
    }
}

/// Whether `spec` is a libpq keyword/value connection string: its first word
/// is `keyword=` for a keyword libpq knows. Taken for a file name, it would
/// create a SQLite file named after the password and print it in the logs.
fn is_libpq_keywords(spec: &str) -> bool {
    const KEYWORDS: [&str; 14] = [
        "host", "hostaddr", "port", "user", "password", "dbname", "options", "application_name", "sslmode",
        "sslrootcert", "connect_timeout", "keepalives", "target_session_attrs", "channel_binding",
    ];
    spec.trim_start().split_once('=').is_some_and(|(key, _)| KEYWORDS.contains(&key.trim()))
}

impl Connection {
    /// The saved state of `stream` (default when never synced).
    pub async fn load_state(&mut self, stream: &str) -> Result<StreamState, WarehouseError> {
        match self {
            Connection::Sqlite(c) => c.load_state(stream).await,
            Connection::Postgres(c) => c.load_state(stream).await,
        }
    }

    /// Upserts the page's rows and saves its state, atomically.
    pub async fn commit_page(&mut self, stream: &'static str, page: Arc<Page>) -> Result<(), WarehouseError> {
        match self {
            Connection::Sqlite(c) => c.commit_page(stream, page).await,
            Connection::Postgres(c) => c.commit_page(stream, page).await,
        }
    }
}

/// How tables are named and typed in one warehouse.
#[derive(Debug, Clone)]
struct Names {
    schema: String,
    postgres: bool,
}

/// The table holding each stream's [`StreamState`].
const STATE_TABLE: &str = "_sync_state";
/// The one-row table naming the Zendesk account the schema syncs.
const ACCOUNT_TABLE: &str = "_sync_account";

impl Names {
    /// The qualified, quoted name of a table. Names are validated identifiers
    /// (the schema) or constants (tables), so quoting cannot be escaped.
    fn table(&self, name: &str) -> String {
        if self.postgres {
            format!("\"{}\".\"{name}\"", self.schema)
        } else {
            format!("\"{}_{name}\"", self.schema)
        }
    }

    fn sql_type(&self, ty: ColumnType) -> &'static str {
        match (ty, self.postgres) {
            (ColumnType::Integer, false) => "INTEGER",
            (ColumnType::Integer, true) => "bigint",
            (ColumnType::Boolean, false) => "INTEGER",
            (ColumnType::Boolean, true) => "boolean",
            (ColumnType::Timestamp, true) => "timestamptz",
            (ColumnType::Json, true) => "jsonb",
            (_, false) | (ColumnType::Text, true) => "TEXT",
        }
    }

    fn create_statements(&self) -> Vec<String> {
        let mut statements = Vec::new();
        if self.postgres {
            statements.push(format!("CREATE SCHEMA IF NOT EXISTS \"{}\"", self.schema));
        }
        for table in ALL_TABLES {
            let columns: Vec<String> = table
                .columns
                .iter()
                .map(|c| {
                    let key = if c.name == "id" { " PRIMARY KEY" } else { "" };
                    format!("\"{}\" {}{key}", c.name, self.sql_type(c.ty))
                })
                .chain([format!("\"{RAW_COLUMN}\" {} NOT NULL", self.sql_type(ColumnType::Json))])
                .collect();
            statements.push(format!("CREATE TABLE IF NOT EXISTS {} ({})", self.table(table.name), columns.join(", ")));
        }
        statements.push(format!(
            "CREATE TABLE IF NOT EXISTS {} (stream TEXT PRIMARY KEY, cursor TEXT, hwm {int}, window_start {int}, updated_at TEXT NOT NULL)",
            self.table(STATE_TABLE),
            int = self.sql_type(ColumnType::Integer)
        ));
        statements.push(format!(
            "CREATE TABLE IF NOT EXISTS {} (id INTEGER PRIMARY KEY CHECK (id = 1), zendesk TEXT NOT NULL, claimed_at TEXT NOT NULL)",
            self.table(ACCOUNT_TABLE)
        ));
        statements
    }

    /// `ALTER TABLE … ADD COLUMN` for each column of this version that a
    /// table made by an earlier version lacks (`existing(table, column)`):
    /// upgrading never needs a manual migration or a full resync. Rows
    /// already there get the new column's value when they next change; their
    /// `raw` JSON holds it meanwhile.
    fn add_missing_columns(&self, existing: impl Fn(&str, &str) -> bool) -> Vec<String> {
        ALL_TABLES
            .iter()
            .flat_map(|table| table.columns.iter().map(move |c| (table, c)))
            .filter(|(table, c)| !existing(table.name, c.name))
            .map(|(table, c)| format!("ALTER TABLE {} ADD COLUMN \"{}\" {}", self.table(table.name), c.name, self.sql_type(c.ty)))
            .collect()
    }

    /// `(table, column)` pairs of the warehouse as it is: the query, and how
    /// a table name in its answer maps back to ours.
    fn existing_columns_query(&self) -> String {
        if self.postgres {
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1".to_owned()
        } else {
            // pragma_table_info per table of ours, named as `table()` names them.
            ALL_TABLES
                .iter()
                .map(|t| format!("SELECT '{name}', name FROM pragma_table_info('{}_{name}')", self.schema, name = t.name))
                .collect::<Vec<_>>()
                .join(" UNION ALL ")
        }
    }

    /// `INSERT … ON CONFLICT (id) DO UPDATE` for every column; PostgreSQL
    /// parameters arrive as text and are cast to the column type.
    fn upsert(&self, table: &Table) -> String {
        let names: Vec<String> = table
            .columns
            .iter()
            .map(|c| c.name)
            .chain([RAW_COLUMN])
            .map(|n| format!("\"{n}\""))
            .collect();
        let types = table.columns.iter().map(|c| c.ty).chain([ColumnType::Json]);
        let params: Vec<String> = types
            .enumerate()
            .map(|(i, ty)| if self.postgres { format!("${}::text::{}", i + 1, self.sql_type(ty)) } else { format!("?{}", i + 1) })
            .collect();
        let updates: Vec<String> = names.iter().skip(1).map(|n| format!("{n} = excluded.{n}")).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (\"id\") DO UPDATE SET {}",
            self.table(table.name),
            names.join(", "),
            params.join(", "),
            updates.join(", ")
        )
    }

    /// Records the account unless one is recorded already; then
    /// [`Names::account_holder`] reads which one is.
    fn claim_account(&self) -> String {
        let p = |i: usize| if self.postgres { format!("${i}") } else { format!("?{i}") };
        format!(
            "INSERT INTO {} (id, zendesk, claimed_at) VALUES (1, {}, {}) ON CONFLICT (id) DO NOTHING",
            self.table(ACCOUNT_TABLE),
            p(1),
            p(2)
        )
    }

    fn account_holder(&self) -> String {
        format!("SELECT zendesk FROM {} WHERE id = 1", self.table(ACCOUNT_TABLE))
    }

    fn load_state(&self) -> String {
        let p = if self.postgres { "$1" } else { "?1" };
        format!("SELECT cursor, hwm, window_start FROM {} WHERE stream = {p}", self.table(STATE_TABLE))
    }

    fn save_state(&self) -> String {
        let p = |i: usize| if self.postgres { format!("${i}") } else { format!("?{i}") };
        format!(
            "INSERT INTO {} (stream, cursor, hwm, window_start, updated_at) VALUES ({}, {}, {}, {}, {}) \
             ON CONFLICT (stream) DO UPDATE SET cursor = excluded.cursor, hwm = excluded.hwm, \
             window_start = excluded.window_start, updated_at = excluded.updated_at",
            self.table(STATE_TABLE),
            p(1),
            p(2),
            p(3),
            p(4),
            p(5)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::GROUPS;

    #[test]
    fn sqlite_prefixes_tables_with_the_schema_and_postgres_qualifies_them() {
        let sqlite = Names { schema: "zendesk_prod".into(), postgres: false };
        let pg = Names { schema: "zendesk_prod".into(), postgres: true };
        assert!(sqlite.upsert(&GROUPS).starts_with("INSERT INTO \"zendesk_prod_groups\" (\"id\", \"url\""));
        assert!(pg.upsert(&GROUPS).contains("$1::text::bigint"));
        assert!(pg.upsert(&GROUPS).starts_with("INSERT INTO \"zendesk_prod\".\"groups\""));
        assert_eq!(pg.create_statements()[0], "CREATE SCHEMA IF NOT EXISTS \"zendesk_prod\"");
    }

    #[test]
    fn postgres_descriptions_leave_out_the_password() {
        let w = Warehouse::new("postgres://me:hunter2@db.example:5433/analytics", "zendesk");
        assert_eq!(w.describe(), "PostgreSQL db.example:5433/analytics (schema zendesk)");
        let w = Warehouse::new("host=db.example user=etl password=hunter2 dbname=analytics", "zendesk");
        assert_eq!(w.describe(), "PostgreSQL db.example:5432/analytics (schema zendesk)");
        assert!(matches!(Warehouse::new("./a=b.sqlite", "zendesk").target, Target::Sqlite { .. }));
    }
}
