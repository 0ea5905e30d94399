//! The Zendesk endpoints a sync reads, and how each one pages and resumes.
//!
//! Three pagination styles, chosen per collection as Zendesk recommends:
//! - cursor-based incremental exports (tickets, users): `start_time` once,
//!   then `cursor=after_cursor` until `end_of_stream`, and the last cursor is
//!   where the next sync resumes. Tickets are ordered by
//!   `generated_timestamp`, which also moves on system and SLA updates that
//!   leave `updated_at` alone, so nothing is missed;
//! - time-based incremental exports (organizations, ticket events): each
//!   page's `end_time` is the next `start_time`. Zendesk returns a page's last
//!   second whole and the next page starts inside it again, so records at the
//!   boundary come twice (the upsert keeps one per id) and none is skipped;
//! - cursor-paginated lists (groups, satisfaction ratings, activities):
//!   `page[size]` and `page[after]`, restarted each sync from a time filter.

use serde_json::Value;
use thiserror::Error;

use crate::client::Api;
use crate::tables::{self, Row, Table};
use crate::Timestamp;

/// A Zendesk endpoint read by the sync; it fills one or two tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Tickets, with their metric sets sideloaded at no extra request.
    Tickets,
    Users,
    Organizations,
    /// Ticket events with their comments, the only bulk source of attachments.
    TicketEvents,
    Groups,
    SatisfactionRatings,
    Activities,
}

/// Where a stream stands, saved in the same transaction as the page it follows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamState {
    /// The export's `after_cursor`, or a list's `page[after]` while a pass is under way.
    pub cursor: Option<String>,
    /// High-water mark (Unix seconds): newest `generated_timestamp` /
    /// `updated_at` / `end_time` / `created_at` seen.
    pub hwm: Option<Timestamp>,
    /// The time filter of the list pass under way, so a resumed pass asks the same question.
    pub window_start: Option<Timestamp>,
}

/// One fetched page, ready to be written with the state that follows it.
#[derive(Debug)]
pub struct Page {
    pub rows: Vec<(&'static Table, Vec<Row>)>,
    pub state: StreamState,
    /// Nothing more to read in this sync.
    pub done: bool,
    /// Human-readable position for progress lines.
    pub position: String,
}

impl Page {
    /// Records of the stream's own collection in this page.
    pub fn record_count(&self) -> u64 {
        self.rows.first().map_or(0, |(_, rows)| rows.len() as u64)
    }

    /// Rows written, derived tables included.
    pub fn row_count(&self) -> u64 {
        self.rows.iter().map(|(_, rows)| rows.len() as u64).sum()
    }
}

/// What a 403 from Zendesk means on a stream, given who Zendesk allows to
/// read its endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A feature the account may not have: the stream is skipped and the rest syncs.
    Optional(&'static str),
    /// The token cannot read what every sync needs: the stream fails, with what to fix.
    Required(&'static str),
}

/// An answer the stream cannot make sense of.
#[derive(Debug, Error)]
#[error("unexpected answer from {endpoint}: {problem}")]
pub struct ShapeError {
    pub endpoint: &'static str,
    pub problem: String,
}

/// What a stream needs to know to build its next request.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Unix seconds now, taken again before each request: Zendesk's
    /// one-minute limit moves on during a long run, and a limit fixed at the
    /// run's start would hold an export back behind records it already read.
    pub now: Timestamp,
    /// Where a stream without state starts (now − initial lookback).
    pub initial_start: Timestamp,
    /// How far back satisfaction ratings are re-read each sync.
    pub satisfaction_lookback: i64,
    pub export_page_size: u32,
    pub list_page_size: u32,
}

/// Zendesk refuses a `start_time` in the last minute (400 `StartTimeTooRecent`)
/// and leaves out changes of the last minute anyway.
const EXPORT_DELAY: i64 = 61;

/// Zendesk keeps activities for 30 days.
pub const ACTIVITIES_RETENTION: i64 = 30 * 24 * 3600;

/// How far back a ticket or user export restarts when its cursor is refused.
const CURSOR_LOST_OVERLAP: i64 = 300;

impl Stream {
    pub const ALL: [Stream; 7] = [
        Stream::Tickets,
        Stream::Users,
        Stream::Organizations,
        Stream::TicketEvents,
        Stream::Groups,
        Stream::SatisfactionRatings,
        Stream::Activities,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stream::Tickets => "tickets",
            Stream::Users => "users",
            Stream::Organizations => "organizations",
            Stream::TicketEvents => "ticket_events",
            Stream::Groups => "groups",
            Stream::SatisfactionRatings => "satisfaction_ratings",
            Stream::Activities => "activities",
        }
    }

    pub fn api(self) -> Api {
        match self {
            Stream::Tickets | Stream::Users | Stream::Organizations | Stream::TicketEvents => Api::Export,
            Stream::Groups | Stream::SatisfactionRatings | Stream::Activities => Api::Core,
        }
    }

    /// What a 403 on this stream means. Satisfaction ratings are a feature an
    /// account can leave off, so a 403 there skips them. The incremental
    /// exports are "Allowed for: Admins": a 403 there means a non-admin's token,
    /// and skipping would end a sync that copied nothing with success.
    pub fn refusal(self) -> Refusal {
        match self {
            Stream::SatisfactionRatings => {
                Refusal::Optional("satisfaction ratings are off on this account, or the token's user is not an admin")
            }
            _ if self.api() == Api::Export => Refusal::Required(
                "Zendesk's incremental exports are for admins only: use an admin's OAuth token (with the `read` scope) or an admin's email and API token",
            ),
            _ => Refusal::Required(
                "the token cannot read this collection: use an admin's OAuth token with the `read` scope (or an admin's email and API token)",
            ),
        }
    }

    /// The table of the stream's own records (tickets and ticket events also
    /// fill ticket_metrics and attachments).
    pub fn table(self) -> &'static Table {
        match self {
            Stream::Tickets => &tables::TICKETS,
            Stream::Users => &tables::USERS,
            Stream::Organizations => &tables::ORGANIZATIONS,
            Stream::TicketEvents => &tables::TICKET_EVENTS,
            Stream::Groups => &tables::GROUPS,
            Stream::SatisfactionRatings => &tables::SATISFACTION_RATINGS,
            Stream::Activities => &tables::ACTIVITIES,
        }
    }

    /// The path and query of the next request, or `None` when a time-based
    /// export has caught up with the last minute, which Zendesk refuses as a
    /// `start_time`: the stream is current for this run.
    pub fn next_request(self, state: &StreamState, w: &Window) -> Option<String> {
        Some(match self {
            Stream::Tickets | Stream::Users => {
                let resource = self.name();
                let include = if self == Stream::Tickets { "&include=metric_sets" } else { "" };
                let position = match &state.cursor {
                    Some(cursor) => format!("cursor={}", encode(cursor)),
                    None => {
                        let start = state.hwm.map_or(w.initial_start, |h| h - CURSOR_LOST_OVERLAP);
                        format!("start_time={}", start.min(w.now - EXPORT_DELAY).max(0))
                    }
                };
                format!("/api/v2/incremental/{resource}/cursor.json?per_page={}{include}&{position}", w.export_page_size)
            }
            Stream::Organizations | Stream::TicketEvents => {
                let start = self.time_export_start(state, w)?;
                let include = if self == Stream::TicketEvents { "&include=comment_events" } else { "" };
                format!("/api/v2/incremental/{}.json?start_time={start}&per_page={}{include}", self.name(), w.export_page_size)
            }
            Stream::Groups | Stream::SatisfactionRatings | Stream::Activities => {
                let mut query = format!("page[size]={}", w.list_page_size);
                match self {
                    Stream::SatisfactionRatings => {
                        query.push_str(&format!("&sort=created_at&start_time={}", self.window_start(state, w)))
                    }
                    Stream::Activities => {
                        query.push_str(&format!("&since={}", encode(&crate::iso(self.window_start(state, w)))))
                    }
                    _ => {}
                }
                if let Some(cursor) = &state.cursor {
                    query.push_str(&format!("&page[after]={}", encode(cursor)));
                }
                format!("/api/v2/{}?{query}", self.name())
            }
        })
    }

    /// The `start_time` a time-based export asks for: the high-water mark
    /// itself, never a capped one (a capped start re-reads a page that ends
    /// before the mark). `None` once the mark is within Zendesk's last minute.
    fn time_export_start(self, state: &StreamState, w: &Window) -> Option<Timestamp> {
        let latest_allowed = w.now - EXPORT_DELAY;
        match state.hwm {
            Some(hwm) if hwm > latest_allowed => None,
            Some(hwm) => Some(hwm.max(0)),
            None => Some(w.initial_start.min(latest_allowed).max(0)),
        }
    }

    /// The time filter of a list pass: kept while a pass is under way,
    /// otherwise from the high-water mark.
    fn window_start(self, state: &StreamState, w: &Window) -> Timestamp {
        if let Some(start) = state.window_start {
            return start;
        }
        match self {
            Stream::SatisfactionRatings => state.hwm.map_or(w.initial_start, |h| h - w.satisfaction_lookback),
            Stream::Activities => state.hwm.unwrap_or(w.initial_start).max(w.now - ACTIVITIES_RETENTION),
            _ => 0,
        }
    }

    /// The state to restart from when Zendesk refuses a saved cursor
    /// (expired or malformed): without it. An export then starts from a
    /// `start_time` a little before the high-water mark, a list pass from the
    /// start of its time filter; what is read again is absorbed by the upsert.
    /// `None` when there was no cursor to drop.
    pub fn cursor_lost(self, state: &StreamState) -> Option<StreamState> {
        state.cursor.as_ref().map(|_| StreamState { cursor: None, ..state.clone() })
    }

    /// Turns an answer into rows and the state that follows it.
    pub fn parse(self, body: &Value, state: &StreamState, w: &Window) -> Result<Page, ShapeError> {
        let endpoint = self.name();
        let records = |key: &str| -> Result<&Vec<Value>, ShapeError> {
            body.get(key)
                .and_then(Value::as_array)
                .ok_or_else(|| ShapeError { endpoint, problem: format!("no `{key}` array") })
        };
        let mut next = state.clone();
        let rows: Vec<(&'static Table, Vec<Row>)>;
        let done;
        match self {
            Stream::Tickets | Stream::Users => {
                let items = records(self.name())?;
                let stamp_key = if self == Stream::Tickets { "generated_timestamp" } else { "updated_at" };
                let newest = items.iter().filter_map(|r| record_time(r.get(stamp_key))).max();
                next.hwm = next.hwm.max(newest);
                if let Some(cursor) = body.get("after_cursor").and_then(Value::as_str) {
                    next.cursor = Some(cursor.to_string());
                }
                let end = body.get("end_of_stream").and_then(Value::as_bool);
                // A page that neither ends the stream nor moves the cursor would loop forever.
                done = end.unwrap_or(true) || next.cursor == state.cursor;
                rows = if self == Stream::Tickets {
                    let metrics = body.get("metric_sets").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
                    vec![table_rows(&tables::TICKETS, items), table_rows(&tables::TICKET_METRICS, metrics)]
                } else {
                    vec![table_rows(&tables::USERS, items)]
                };
            }
            Stream::Organizations | Stream::TicketEvents => {
                let items = records(self.name())?;
                // The start this page was asked for (`parse` follows `next_request` with the same window).
                let requested = self.time_export_start(state, w).unwrap_or(w.now - EXPORT_DELAY);
                let end_time = body.get("end_time").and_then(Value::as_i64);
                let end = body.get("end_of_stream").and_then(Value::as_bool).unwrap_or(true);
                next.hwm = Some(match end_time {
                    Some(t) if t > requested => t,
                    // The page did not leave the requested second: Zendesk returns
                    // a page's last second whole, so that second has been read.
                    Some(_) if !end && !items.is_empty() => requested + 1,
                    _ => requested,
                });
                // A page that neither ends the stream nor moves the mark would loop forever.
                done = end || next.hwm == Some(requested);
                rows = if self == Stream::Organizations {
                    vec![table_rows(&tables::ORGANIZATIONS, items)]
                } else {
                    vec![table_rows(&tables::TICKET_EVENTS, items), table_rows(&tables::ATTACHMENTS, &attachments_of(items))]
                };
            }
            Stream::Groups | Stream::SatisfactionRatings | Stream::Activities => {
                let items = records(self.name())?;
                let has_more = body.pointer("/meta/has_more").and_then(Value::as_bool).unwrap_or(false);
                let after = body.pointer("/meta/after_cursor").and_then(Value::as_str).map(str::to_string);
                let newest = items.iter().filter_map(|r| record_time(r.get("created_at"))).max();
                if self != Stream::Groups {
                    next.hwm = next.hwm.max(newest);
                }
                match after.filter(|_| has_more) {
                    Some(cursor) if Some(&cursor) != state.cursor.as_ref() => {
                        next.window_start = Some(self.window_start(state, w));
                        next.cursor = Some(cursor);
                        done = false;
                    }
                    _ => {
                        next.window_start = None;
                        next.cursor = None;
                        done = true;
                    }
                }
                rows = vec![table_rows(self.table(), items)];
            }
        }
        let position = match (&next.hwm, &next.cursor) {
            (Some(hwm), _) => format!("up to {}", crate::iso(*hwm)),
            (None, Some(_)) => "paging".into(),
            (None, None) => "complete".into(),
        };
        Ok(Page { rows, state: next, done, position })
    }
}

fn table_rows(table: &'static Table, records: &[Value]) -> (&'static Table, Vec<Row>) {
    (table, records.iter().filter_map(|r| table.row(r)).collect())
}

/// Unix seconds from an integer or an ISO-8601 string.
fn record_time(value: Option<&Value>) -> Option<Timestamp> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => humantime::parse_rfc3339_weak(s)
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64),
        _ => None,
    }
}

/// Attachments of the comments in a page of ticket events, each with the
/// ticket, event and comment it belongs to.
fn attachments_of(events: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for event in events {
        let children = event.get("child_events").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
        for child in children.iter().filter(|c| c.get("event_type").and_then(Value::as_str) == Some("Comment")) {
            let attachments = child.get("attachments").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
            for attachment in attachments {
                let mut a = attachment.clone();
                if let Some(obj) = a.as_object_mut() {
                    obj.insert("ticket_id".into(), event.get("ticket_id").cloned().unwrap_or(Value::Null));
                    obj.insert("ticket_event_id".into(), event.get("id").cloned().unwrap_or(Value::Null));
                    obj.insert("comment_id".into(), child.get("id").cloned().unwrap_or(Value::Null));
                    obj.entry("created_at").or_insert_with(|| event.get("created_at").cloned().unwrap_or(Value::Null));
                }
                out.push(a);
            }
        }
    }
    out
}

/// Percent-encodes a query value (cursors are opaque base64-ish strings).
fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn window() -> Window {
        Window { now: 1_000_000, initial_start: 500_000, satisfaction_lookback: 1000, export_page_size: 1000, list_page_size: 100 }
    }

    #[test]
    fn ticket_export_starts_from_the_lookback_then_follows_the_cursor_to_end_of_stream() {
        let w = window();
        let first = Stream::Tickets.next_request(&StreamState::default(), &w).unwrap();
        assert_eq!(first, "/api/v2/incremental/tickets/cursor.json?per_page=1000&include=metric_sets&start_time=500000");
        let body = json!({"tickets": [{"id": 1, "generated_timestamp": 600_000}, {"id": 2, "generated_timestamp": 700_000}],
            "metric_sets": [{"id": 11, "ticket_id": 1}], "after_cursor": "abc=", "end_of_stream": false});
        let page = Stream::Tickets.parse(&body, &StreamState::default(), &w).unwrap();
        assert!(!page.done);
        assert_eq!(page.state, StreamState { cursor: Some("abc=".into()), hwm: Some(700_000), window_start: None });
        assert_eq!(page.row_count(), 3);
        assert!(Stream::Tickets.next_request(&page.state, &w).unwrap().ends_with("&cursor=abc%3D"));
    }

    #[test]
    fn time_based_exports_resume_at_the_mark_and_stop_within_the_last_minute() {
        let w = window();
        let recent = StreamState { hwm: Some(w.now - 10), ..Default::default() };
        assert_eq!(Stream::Organizations.next_request(&recent, &w), None, "Zendesk refuses a start in the last minute");
        let state = StreamState { hwm: Some(600_000), ..Default::default() };
        let request = Stream::TicketEvents.next_request(&state, &w).unwrap();
        assert!(request.contains("start_time=600000&"), "{request}");
        // A page that stays in the requested second holds all of it: go on from the next second.
        let one_second = json!({"organizations": [{"id": 1}], "end_time": 600_000, "end_of_stream": false});
        let page = Stream::Organizations.parse(&one_second, &state, &w).unwrap();
        assert_eq!(page.state.hwm, Some(600_001));
        assert!(!page.done);
    }

    #[test]
    fn comment_attachments_become_rows_linked_to_their_ticket() {
        let events = vec![json!({"id": 5, "ticket_id": 9, "created_at": "2025-01-01T00:00:00Z", "child_events": [
            {"id": 6, "event_type": "Comment", "attachments": [{"id": 7, "file_name": "a.png"}]},
            {"id": 8, "event_type": "Change", "field_name": "status"}]})];
        let attachments = attachments_of(&events);
        assert_eq!(attachments, vec![json!({"id": 7, "file_name": "a.png", "ticket_id": 9, "ticket_event_id": 5,
            "comment_id": 6, "created_at": "2025-01-01T00:00:00Z"})]);
    }

    #[test]
    fn list_pass_keeps_its_filter_while_paging_and_resets_when_done() {
        let w = window();
        let state = StreamState { hwm: Some(900_000), ..Default::default() };
        let first = Stream::SatisfactionRatings.next_request(&state, &w).unwrap();
        assert!(first.contains("start_time=899000"), "{first}");
        let body = json!({"satisfaction_ratings": [{"id": 1, "created_at": "1970-01-12T00:00:00Z"}],
            "meta": {"has_more": true, "after_cursor": "c1"}});
        let page = Stream::SatisfactionRatings.parse(&body, &state, &w).unwrap();
        assert_eq!(page.state.window_start, Some(899_000));
        assert!(Stream::SatisfactionRatings.next_request(&page.state, &w).unwrap().contains("start_time=899000&page[after]=c1"));
        let last = json!({"satisfaction_ratings": [], "meta": {"has_more": false, "after_cursor": null}});
        let page = Stream::SatisfactionRatings.parse(&last, &page.state, &w).unwrap();
        assert!(page.done);
        assert_eq!(page.state.window_start, None);
        assert_eq!(page.state.cursor, None);
    }
}
