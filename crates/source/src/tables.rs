//! The warehouse tables: one per collection, typed top-level columns plus the
//! record's raw JSON. Arrays and objects (tags, custom fields, via…) are JSON
//! columns, so a new custom field never changes the table's shape.

use serde_json::Value;

/// A column's warehouse type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Integer,
    Text,
    Boolean,
    /// ISO-8601 as Zendesk writes it (`TEXT` in SQLite, `timestamptz` in PostgreSQL).
    Timestamp,
    /// Any JSON value (`TEXT` in SQLite, `jsonb` in PostgreSQL).
    Json,
}

/// A typed column, named after the record's top-level key it is read from.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
}

const fn col(name: &'static str, ty: ColumnType) -> Column {
    Column { name, ty }
}

use ColumnType::{Boolean as B, Integer as I, Json as J, Text as T, Timestamp as S};

/// A warehouse table. Its key is the `id` column, which every table has first.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
}

/// The name of the column holding each record as Zendesk sent it.
pub const RAW_COLUMN: &str = "raw";

pub static TICKETS: Table = Table {
    name: "tickets",
    columns: &[
        col("id", I), col("url", T), col("external_id", T), col("type", T), col("subject", T), col("description", T),
        col("priority", T), col("status", T), col("recipient", T), col("requester_id", I), col("submitter_id", I),
        col("assignee_id", I), col("organization_id", I), col("group_id", I), col("brand_id", I), col("ticket_form_id", I),
        col("problem_id", I), col("has_incidents", B), col("is_public", B), col("due_at", S), col("tags", J),
        col("custom_fields", J), col("collaborator_ids", J), col("follower_ids", J), col("via", J),
        col("satisfaction_rating", J), col("created_at", S), col("updated_at", S), col("generated_timestamp", I),
    ],
};

pub static TICKET_METRICS: Table = Table {
    name: "ticket_metrics",
    columns: &[
        col("id", I), col("ticket_id", I), col("url", T), col("group_stations", I), col("assignee_stations", I),
        col("reopens", I), col("replies", I), col("assignee_updated_at", S), col("requester_updated_at", S),
        col("status_updated_at", S), col("initially_assigned_at", S), col("assigned_at", S), col("solved_at", S),
        col("latest_comment_added_at", S), col("reply_time_in_minutes", J), col("first_resolution_time_in_minutes", J),
        col("full_resolution_time_in_minutes", J), col("agent_wait_time_in_minutes", J),
        col("requester_wait_time_in_minutes", J), col("on_hold_time_in_minutes", J), col("created_at", S),
        col("updated_at", S),
    ],
};

pub static USERS: Table = Table {
    name: "users",
    columns: &[
        col("id", I), col("url", T), col("name", T), col("email", T), col("external_id", T), col("phone", T),
        col("role", T), col("organization_id", I), col("default_group_id", I), col("time_zone", T), col("locale", T),
        col("verified", B), col("active", B), col("suspended", B), col("alias", T), col("details", T), col("notes", T),
        col("tags", J), col("user_fields", J), col("last_login_at", S), col("created_at", S), col("updated_at", S),
    ],
};

pub static ORGANIZATIONS: Table = Table {
    name: "organizations",
    columns: &[
        col("id", I), col("url", T), col("name", T), col("external_id", T), col("domain_names", J), col("tags", J),
        col("details", T), col("notes", T), col("group_id", I), col("shared_tickets", B), col("shared_comments", B),
        col("organization_fields", J), col("created_at", S), col("updated_at", S), col("deleted_at", S),
    ],
};

pub static GROUPS: Table = Table {
    name: "groups",
    columns: &[
        col("id", I), col("url", T), col("name", T), col("description", T), col("default", B), col("is_public", B),
        col("deleted", B), col("created_at", S), col("updated_at", S),
    ],
};

pub static TICKET_EVENTS: Table = Table {
    name: "ticket_events",
    columns: &[
        col("id", I), col("ticket_id", I), col("timestamp", I), col("created_at", S), col("updater_id", I),
        col("event_type", T), col("via", J), col("system", J), col("child_events", J), col("merged_ticket_ids", J),
    ],
};

pub static ATTACHMENTS: Table = Table {
    name: "attachments",
    columns: &[
        col("id", I), col("ticket_id", I), col("ticket_event_id", I), col("comment_id", I), col("file_name", T),
        col("content_type", T), col("content_url", T), col("mapped_content_url", T), col("size", I), col("width", I),
        col("height", I), col("inline", B), col("deleted", B), col("malware_scan_result", T), col("created_at", S),
    ],
};

pub static SATISFACTION_RATINGS: Table = Table {
    name: "satisfaction_ratings",
    columns: &[
        col("id", I), col("url", T), col("ticket_id", I), col("requester_id", I), col("assignee_id", I),
        col("group_id", I), col("score", T), col("comment", T), col("reason", T), col("reason_id", I),
        col("created_at", S), col("updated_at", S),
    ],
};

pub static ACTIVITIES: Table = Table {
    name: "activities",
    columns: &[
        col("id", I), col("url", T), col("verb", T), col("title", T), col("user_id", I), col("actor_id", I),
        col("object", J), col("target", J), col("created_at", S), col("updated_at", S),
    ],
};

/// Every table, in the order the summary lists them.
pub static ALL_TABLES: [&Table; 9] = [
    &TICKETS, &USERS, &ORGANIZATIONS, &GROUPS, &TICKET_EVENTS, &TICKET_METRICS, &SATISFACTION_RATINGS, &ACTIVITIES,
    &ATTACHMENTS,
];

/// One value bound into a warehouse statement.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Text(String),
    Boolean(bool),
}

impl SqlValue {
    /// The value as text, for PostgreSQL's text-cast parameters.
    pub fn as_text(&self) -> Option<String> {
        match self {
            SqlValue::Null => None,
            SqlValue::Integer(i) => Some(i.to_string()),
            SqlValue::Text(s) => Some(s.clone()),
            SqlValue::Boolean(b) => Some(b.to_string()),
        }
    }
}

/// A record ready for the warehouse: the typed columns in table order, then raw JSON.
#[derive(Debug, Clone)]
pub struct Row {
    pub values: Vec<SqlValue>,
}

impl Table {
    /// The record as a row, or `None` when it has no integer `id` (nothing to
    /// upsert on). A value of the wrong type becomes NULL in its typed column;
    /// the raw JSON still holds it.
    pub fn row(&self, record: &Value) -> Option<Row> {
        record.get("id").and_then(as_integer)?;
        let mut values: Vec<SqlValue> = self.columns.iter().map(|c| typed(c.ty, record.get(c.name))).collect();
        values.push(SqlValue::Text(record.to_string()));
        Some(Row { values })
    }
}

fn as_integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn typed(ty: ColumnType, value: Option<&Value>) -> SqlValue {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return SqlValue::Null;
    };
    match ty {
        ColumnType::Integer => as_integer(value).map_or(SqlValue::Null, SqlValue::Integer),
        ColumnType::Boolean => value.as_bool().map_or(SqlValue::Null, SqlValue::Boolean),
        ColumnType::Text => match value {
            Value::String(s) => SqlValue::Text(s.clone()),
            Value::Number(_) | Value::Bool(_) => SqlValue::Text(value.to_string()),
            _ => SqlValue::Null,
        },
        ColumnType::Timestamp => value
            .as_str()
            .filter(|s| humantime::parse_rfc3339_weak(s).is_ok())
            .map_or(SqlValue::Null, |s| SqlValue::Text(s.to_string())),
        ColumnType::Json => SqlValue::Text(value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_keep_typed_columns_arrays_as_json_and_the_raw_record() {
        let record = json!({"id": 7, "status": "open", "tags": ["a", "b"], "is_public": true,
            "created_at": "2025-01-02T03:04:05Z", "requester_id": "12", "due_at": "not a date", "extra": 1});
        let row = TICKETS.row(&record).unwrap();
        let at = |name: &str| &row.values[TICKETS.columns.iter().position(|c| c.name == name).unwrap()];
        assert_eq!(at("id"), &SqlValue::Integer(7));
        assert_eq!(at("status"), &SqlValue::Text("open".into()));
        assert_eq!(at("tags"), &SqlValue::Text(r#"["a","b"]"#.into()));
        assert_eq!(at("is_public"), &SqlValue::Boolean(true));
        assert_eq!(at("requester_id"), &SqlValue::Integer(12));
        assert_eq!(at("due_at"), &SqlValue::Null);
        assert_eq!(at("subject"), &SqlValue::Null);
        let raw: Value = match row.values.last() {
            Some(SqlValue::Text(s)) => serde_json::from_str(s).unwrap(),
            other => panic!("raw column missing: {other:?}"),
        };
        assert_eq!(raw, record);
        assert!(TICKETS.row(&json!({"status": "open"})).is_none());
    }
}
