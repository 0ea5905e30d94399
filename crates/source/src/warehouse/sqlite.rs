//! The SQLite warehouse: one file, WAL mode so streams write side by side.
//! rusqlite is blocking, so each call runs on tokio's blocking pool.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, Value as SqliteValue};
use rusqlite::{params, params_from_iter, OptionalExtension, ToSql};

use super::{Names, WarehouseError};
use crate::streams::{Page, StreamState};
use crate::tables::SqlValue;

#[derive(Clone)]
pub struct SqliteConnection {
    path: String,
    names: Names,
    conn: Arc<Mutex<rusqlite::Connection>>,
}

impl ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            SqlValue::Null => ToSqlOutput::Owned(SqliteValue::Null),
            SqlValue::Integer(i) => ToSqlOutput::Owned(SqliteValue::Integer(*i)),
            SqlValue::Boolean(b) => ToSqlOutput::Owned(SqliteValue::Integer(i64::from(*b))),
            SqlValue::Text(s) => ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(s.as_bytes())),
        })
    }
}

impl SqliteConnection {
    pub(super) async fn open(path: &str, names: Names) -> Result<SqliteConnection, WarehouseError> {
        let owned = path.to_string();
        let conn = blocking(path, move || {
            let conn = rusqlite::Connection::open(&owned)?;
            conn.busy_timeout(Duration::from_secs(60))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            // Durable at each commit point without an fsync per page.
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            // Export pages arrive in change order, not id order, so each page
            // touches leaf pages all over its table: a large cache and reads
            // through mmap keep those pages in memory.
            conn.pragma_update(None, "cache_size", -128 * 1024)?;
            conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
            Ok(conn)
        })
        .await?;
        Ok(SqliteConnection { path: path.to_string(), names, conn: Arc::new(Mutex::new(conn)) })
    }

    pub(super) async fn prepare(&self) -> Result<(), WarehouseError> {
        let statements = self.names.create_statements();
        let names = self.names.clone();
        self.run(move |conn| {
            for statement in &statements {
                conn.execute(statement, [])?;
            }
            let mut query = conn.prepare(&names.existing_columns_query())?;
            let existing = query
                .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?
                .collect::<Result<std::collections::HashSet<_>, _>>()?;
            for statement in names.add_missing_columns(|t, c| existing.contains(&(t.to_owned(), c.to_owned()))) {
                conn.execute(&statement, [])?;
            }
            Ok(())
        })
        .await
    }

    pub(super) async fn claim(&self, zendesk: &str) -> Result<String, WarehouseError> {
        let (claim, holder) = (self.names.claim_account(), self.names.account_holder());
        let zendesk = zendesk.to_string();
        self.run(move |conn| {
            conn.execute(&claim, params![zendesk, crate::iso(crate::now())])?;
            conn.query_row(&holder, [], |r| r.get(0))
        })
        .await
    }

    pub async fn load_state(&self, stream: &str) -> Result<StreamState, WarehouseError> {
        let sql = self.names.load_state();
        let stream = stream.to_string();
        self.run(move |conn| {
            let state = conn
                .query_row(&sql, [&stream], |r| {
                    Ok(StreamState { cursor: r.get(0)?, hwm: r.get(1)?, window_start: r.get(2)? })
                })
                .optional()?;
            Ok(state.unwrap_or_default())
        })
        .await
    }

    pub async fn commit_page(&self, stream: &'static str, page: Arc<Page>) -> Result<(), WarehouseError> {
        let names = self.names.clone();
        self.run(move |conn| {
            let tx = conn.transaction()?;
            for (table, rows) in &page.rows {
                let mut upsert = tx.prepare_cached(&names.upsert(table))?;
                for row in rows {
                    upsert.execute(params_from_iter(row.values.iter()))?;
                }
            }
            let s = &page.state;
            tx.execute(&names.save_state(), params![stream, s.cursor, s.hwm, s.window_start, crate::iso(crate::now())])?;
            tx.commit()
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, WarehouseError> {
        let conn = self.conn.clone();
        blocking(&self.path, move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
    }
}

async fn blocking<T: Send + 'static>(
    path: &str,
    f: impl FnOnce() -> rusqlite::Result<T> + Send + 'static,
) -> Result<T, WarehouseError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WarehouseError::Writer(e.to_string()))?
        .map_err(|source| WarehouseError::Sqlite { path: path.to_string(), source })
}
