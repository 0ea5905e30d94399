//! The PostgreSQL warehouse, through tokio-postgres. Values travel as text and
//! are cast to the column type in SQL (`$1::text::bigint`), one rule for every
//! column type including `jsonb` and `timestamptz`.

use std::sync::Arc;

use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

use super::{Names, WarehouseError};
use crate::streams::{Page, StreamState};
use crate::tables::{ColumnType, SqlValue};

pub struct PostgresConnection {
    names: Names,
    client: Client,
}

fn pg_error(e: tokio_postgres::Error) -> WarehouseError {
    // tokio-postgres errors never contain the connection password. Their own
    // line is only the kind ("error connecting to server"): the causes below
    // it (connection refused, no such host, password rejected) say what to fix.
    WarehouseError::Postgres(match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => {
            let mut message = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                message.push_str(&format!(": {c}"));
                cause = c.source();
            }
            message
        }
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

    pub(super) async fn claim(&self, zendesk: &str) -> Result<String, WarehouseError> {
        self.client.execute(&self.names.claim_account(), &[&zendesk, &crate::iso(crate::now())]).await.map_err(pg_error)?;
        let row = self.client.query_one(&self.names.account_holder(), &[]).await.map_err(pg_error)?;
        Ok(row.get(0))
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
            let types = table.columns.iter().map(|c| c.ty).chain([ColumnType::Json]);
            for row in rows {
                let texts: Vec<Option<String>> = row.values.iter().zip(types.clone()).map(|(v, ty)| storable(v, ty)).collect();
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

/// The value as PostgreSQL can store it. Zendesk text may hold U+0000 (pasted
/// from PDFs, mail clients), which PostgreSQL refuses in `text` (22021) and,
/// as the JSON escape `\u0000`, in `jsonb` (22P05); refused, the page and
/// every record after it would never land. It becomes U+FFFD, the character
/// for "unrepresentable".
fn storable(value: &SqlValue, ty: ColumnType) -> Option<String> {
    let text = value.as_text()?;
    Some(match ty {
        ColumnType::Json => json_without_nul(text),
        _ if text.contains('\0') => text.replace('\0', "\u{FFFD}"),
        _ => text,
    })
}

/// Rewrites each `\u0000` escape of serialized JSON as `\ufffd`, escape by
/// escape, so an escaped backslash followed by `u0000` (the text `\u0000`) is
/// left alone.
fn json_without_nul(json: String) -> String {
    if !json.contains("\\u0000") {
        return json;
    }
    let mut out = String::with_capacity(json.len());
    let mut rest = json.as_str();
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let escape = &rest[at..];
        let len = if escape.starts_with("\\u0000") {
            out.push_str("\\ufffd");
            6
        } else {
            let len = 1 + escape[1..].chars().next().map_or(0, char::len_utf8);
            out.push_str(&escape[..len]);
            len
        };
        rest = &escape[len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_escapes_are_replaced_but_an_escaped_backslash_before_u0000_is_text() {
        let json = serde_json::json!({"a": "x\u{0}y", "b": "\\u0000"}).to_string();
        let stored: serde_json::Value = serde_json::from_str(&json_without_nul(json)).unwrap();
        assert_eq!(stored, serde_json::json!({"a": "x\u{FFFD}y", "b": "\\u0000"}));
    }
}
