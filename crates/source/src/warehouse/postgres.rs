//! The PostgreSQL warehouse, through tokio-postgres. Values travel as text and
//! are cast to the column type in SQL (`$1::text::bigint`), one rule for every
//! column type including `jsonb` and `timestamptz`.

use std::sync::Arc;

use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

use super::{Names, WarehouseError};
use crate::streams::{Page, StreamState};

pub struct PostgresConnection {
    names: Names,
    client: Client,
}

fn pg_error(e: tokio_postgres::Error) -> WarehouseError {
    // tokio-postgres errors never contain the connection password.
    WarehouseError::Postgres(match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    })
}

impl PostgresConnection {
    pub(super) async fn open(url: &str, names: Names) -> Result<PostgresConnection, WarehouseError> {
        let (client, connection) = tokio_postgres::connect(url, pg_tls::connector().map_err(|e| WarehouseError::Postgres(e.to_string()))?).await.map_err(pg_error)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::error!(error = %e, "PostgreSQL connection closed");
            }
        });
        Ok(PostgresConnection { names, client })
    }

    pub(super) async fn prepare(&self) -> Result<(), WarehouseError> {
        for statement in self.names.create_statements() {
            self.client.batch_execute(&statement).await.map_err(pg_error)?;
        }
        let existing: std::collections::HashSet<(String, String)> = self
            .client
            .query(&self.names.existing_columns_query(), &[&self.names.schema])
            .await
            .map_err(pg_error)?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        for statement in self.names.add_missing_columns(|t, c| existing.contains(&(t.to_owned(), c.to_owned()))) {
            self.client.batch_execute(&statement).await.map_err(pg_error)?;
        }
        Ok(())
    }

    pub async fn load_state(&self, stream: &str) -> Result<StreamState, WarehouseError> {
        let row = self.client.query_opt(&self.names.load_state(), &[&stream]).await.map_err(pg_error)?;
        Ok(match row {
            Some(r) => StreamState { cursor: r.get(0), hwm: r.get(1), window_start: r.get(2) },
            None => StreamState::default(),
        })
    }

    pub async fn commit_page(&mut self, stream: &'static str, page: Arc<Page>) -> Result<(), WarehouseError> {
        let tx = self.client.transaction().await.map_err(pg_error)?;
        for (table, rows) in &page.rows {
            if rows.is_empty() {
                continue;
            }
            let upsert = tx.prepare(&self.names.upsert(table)).await.map_err(pg_error)?;
            for row in rows {
                let texts: Vec<Option<String>> = row.values.iter().map(|v| v.as_text()).collect();
                let params: Vec<&(dyn ToSql + Sync)> = texts.iter().map(|t| t as &(dyn ToSql + Sync)).collect();
                tx.execute(&upsert, &params).await.map_err(pg_error)?;
            }
        }
        let s = &page.state;
        tx.execute(&self.names.save_state(), &[&stream, &s.cursor, &s.hwm, &s.window_start, &crate::iso(crate::now())])
            .await
            .map_err(pg_error)?;
        tx.commit().await.map_err(pg_error)
    }
}
