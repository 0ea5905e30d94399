//! The endpoints a warehouse sync reads, with Zendesk's paging rules:
//! - cursor-based incremental exports: `/api/v2/incremental/{tickets,users}/cursor.json`
//!   (`start_time` or `cursor`, `per_page` ≤ 1000, `after_cursor`, `end_of_stream`;
//!   tickets ordered by `generated_timestamp`, `include=metric_sets`);
//! - time-based incremental exports: `/api/v2/incremental/{organizations,ticket_events}.json`
//!   (`start_time`, `end_time` = next start, `next_page`, `count`, `end_of_stream`;
//!   a page is extended over records sharing its last second, so the next page
//!   repeats them: Zendesk's documented boundary duplicates);
//! - cursor-paginated lists: `/api/v2/{groups,satisfaction_ratings,activities}`
//!   (`page[size]` ≤ 100, `page[after]`, `meta.has_more`, `links.next`).
//!
//! Every export refuses a `start_time` less than a minute old (400
//! `StartTimeTooRecent`) and leaves out changes of the last minute. Rate
//! limits and forced failures are in [`crate::traffic`].

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::routes::{base_url, url_encode};
use crate::store::{iso, now, Store, Ticket, TicketAudit, Timestamp};
use crate::FakeZendesk;

/// Zendesk excludes the last minute from exports and refuses to start there.
const EXPORT_DELAY: Timestamp = 60;
/// Zendesk keeps activities for 30 days.
const ACTIVITY_RETENTION: Timestamp = 30 * 24 * 3600;
const MAX_EXPORT_PAGE: usize = 1000;
const MAX_LIST_PAGE: usize = 100;

pub fn routes() -> Router<FakeZendesk> {
    Router::new()
        .route("/api/v2/incremental/tickets/cursor", get(tickets))
        .route("/api/v2/incremental/users/cursor", get(users))
        .route("/api/v2/incremental/organizations", get(organizations))
        .route("/api/v2/incremental/ticket_events", get(ticket_events))
        .route("/api/v2/satisfaction_ratings", get(satisfaction_ratings))
        .route_layer(axum::middleware::from_fn(crate::auth::admins_only))
        .route("/api/v2/groups", get(groups))
        .route("/api/v2/activities", get(activities))
}

type Params = Query<HashMap<String, String>>;

// ---------------------------------------------------------------- parameters

fn export_error(description: &str) -> ApiError {
    ApiError::Raw(StatusCode::BAD_REQUEST, json!({"error": "InvalidValue", "description": description}))
}

/// `start_time`, refused when less than a minute old as Zendesk does.
fn start_time(q: &HashMap<String, String>) -> Result<Option<Timestamp>, ApiError> {
    let Some(raw) = q.get("start_time") else { return Ok(None) };
    let t: Timestamp = raw.parse().map_err(|_| export_error("start_time must be a Unix epoch time in seconds"))?;
    if t > now() - EXPORT_DELAY {
        return Err(ApiError::Raw(
            StatusCode::BAD_REQUEST,
            json!({"error": "StartTimeTooRecent", "description": "Too recent start_time. Use a start_time older than 1 minute"}),
        ));
    }
    Ok(Some(t.max(0)))
}

fn page_size(q: &HashMap<String, String>, key: &str, max: usize) -> Result<usize, ApiError> {
    match q.get(key) {
        None => Ok(max),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .map(|n| n.min(max))
            .ok_or_else(|| export_error(&format!("{key} must be a positive integer"))),
    }
}

/// A position in an ordering by (time, id), opaque to clients.
fn encode_cursor(position: (Timestamp, u64)) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", position.0, position.1))
}

fn decode_cursor(cursor: &str) -> Result<(Timestamp, u64), ApiError> {
    let bad = || export_error("Invalid cursor");
    let raw = base64::engine::general_purpose::STANDARD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (t, id) = text.split_once(':').ok_or_else(bad)?;
    Ok((t.parse().map_err(|_| bad())?, id.parse().map_err(|_| bad())?))
}

/// The first `limit` of `keys` after `after` (exclusive) or from `from`
/// (inclusive), in (time, id) order, and whether more remain. Linear time:
/// the page is selected before it is sorted.
fn select_page<K: Copy>(
    keys: impl Iterator<Item = ((Timestamp, u64), K)>,
    lower: Lower,
    until: Timestamp,
    limit: usize,
) -> (Vec<((Timestamp, u64), K)>, bool) {
    let mut matching: Vec<_> = keys
        .filter(|(pos, _)| pos.0 <= until)
        .filter(|(pos, _)| match lower {
            Lower::After(after) => *pos > after,
            Lower::From(from) => pos.0 >= from,
        })
        .collect();
    let more = matching.len() > limit;
    if more {
        matching.select_nth_unstable_by_key(limit, |(pos, _)| *pos);
        matching.truncate(limit);
    }
    matching.sort_unstable_by_key(|(pos, _)| *pos);
    (matching, more)
}

#[derive(Debug, Clone, Copy)]
enum Lower {
    After((Timestamp, u64)),
    From(Timestamp),
}

fn with_query(base: &str, path: &str, params: &[(&str, String)]) -> String {
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect();
    format!("{base}{path}?{}", query.join("&"))
}

// ---------------------------------------------------------------- cursor exports

/// Where a cursor export starts: `cursor`, else `start_time`.
fn export_lower(q: &HashMap<String, String>) -> Result<Lower, ApiError> {
    match (q.get("cursor"), start_time(q)?) {
        (Some(cursor), _) => Ok(Lower::After(decode_cursor(cursor)?)),
        (None, Some(t)) => Ok(Lower::From(t)),
        (None, None) => Err(export_error("start_time or cursor is required")),
    }
}

/// The cursor-export envelope around one page.
fn cursor_envelope(
    key: &str,
    items: Vec<Value>,
    last: Option<(Timestamp, u64)>,
    lower: Lower,
    more: bool,
    next_url: impl Fn(&str) -> String,
) -> Value {
    let after = last.or(match lower {
        Lower::After(p) => Some(p),
        Lower::From(t) => Some((t - 1, u64::MAX)),
    });
    let after_cursor = after.map(encode_cursor);
    json!({
        key: items,
        "after_cursor": after_cursor,
        "after_url": after_cursor.as_deref().map(&next_url),
        "before_cursor": null,
        "before_url": null,
        "end_of_stream": !more,
    })
}

async fn tickets(State(fake): State<FakeZendesk>, headers: HeaderMap, Query(q): Params) -> Result<Json<Value>, ApiError> {
    let lower = export_lower(&q)?;
    let per_page = page_size(&q, "per_page", MAX_EXPORT_PAGE)?;
    let include = q.get("include").cloned().unwrap_or_default();
    let exclude_deleted = q.get("exclude_deleted").is_some_and(|v| v == "true");
    let base = base_url(&headers);
    fake.with_store(|store| {
        let keys = store.tickets.values().filter_map(|t| {
            let deleted = store.ticket_lifecycle.get(&t.id).is_some_and(|l| l.deleted_at.is_some());
            (!(exclude_deleted && deleted)).then(|| ((generated_timestamp(store, t), t.id), t.id))
        });
        let (page, more) = select_page(keys, lower, now() - EXPORT_DELAY, per_page);
        let tickets: Vec<Value> = page.iter().map(|(_, id)| render_ticket(store, &store.tickets[id], &base)).collect();
        let mut body = cursor_envelope("tickets", tickets, page.last().map(|p| p.0), lower, more, |cursor| {
            with_query(&base, "/api/v2/incremental/tickets/cursor.json", &[("cursor", cursor.into()), ("per_page", per_page.to_string()), ("include", include.clone())])
        });
        if include.split(',').any(|i| i.trim() == "metric_sets") {
            let ids: Vec<u64> = page.iter().map(|(_, id)| *id).filter(|id| !is_deleted(store, *id)).collect();
            body["metric_sets"] = Value::Array(metric_sets(store, &ids, &base));
        }
        Ok(Json(body))
    })
}

async fn users(State(fake): State<FakeZendesk>, headers: HeaderMap, Query(q): Params) -> Result<Json<Value>, ApiError> {
    let lower = export_lower(&q)?;
    let per_page = page_size(&q, "per_page", MAX_EXPORT_PAGE)?;
    let base = base_url(&headers);
    fake.with_store(|store| {
        let keys = store.users.values().map(|u| ((u.updated_at, u.id), u.id));
        let (page, more) = select_page(keys, lower, now() - EXPORT_DELAY, per_page);
        let users = page.iter().map(|(_, id)| store.users[id].to_json(&base, &store.user_fields)).collect();
        Ok(Json(cursor_envelope("users", users, page.last().map(|p| p.0), lower, more, |cursor| {
            with_query(&base, "/api/v2/incremental/users/cursor.json", &[("cursor", cursor.into()), ("per_page", per_page.to_string())])
        })))
    })
}

// ---------------------------------------------------------------- time-based exports

/// A time-based page: the first `per_page` from `start`, extended over every
/// record in the last record's second (so `end_time` always moves forward),
/// and whether records remain after it.
fn time_page<K: Copy>(
    keys: impl Iterator<Item = ((Timestamp, u64), K)> + Clone,
    start: Timestamp,
    per_page: usize,
) -> (Vec<((Timestamp, u64), K)>, bool) {
    let until = now() - EXPORT_DELAY;
    let (mut page, more) = select_page(keys.clone(), Lower::From(start), until, per_page);
    let Some(&(last, _)) = page.last().filter(|_| more) else {
        return (page, false);
    };
    let same_second = keys.clone().filter(|(pos, _)| pos.0 == last.0);
    page.extend(select_page(same_second, Lower::After(last), until, usize::MAX).0);
    let last = page.last().map_or(last, |p| p.0);
    let remaining = keys.into_iter().any(|(pos, _)| pos.0 <= until && pos > last);
    (page, remaining)
}

fn time_envelope(key: &str, items: Vec<Value>, end_time: Timestamp, more: bool, next_url: String) -> Value {
    json!({
        "count": items.len(),
        key: items,
        "end_time": end_time,
        "next_page": next_url,
        "end_of_stream": !more,
    })
}

async fn organizations(State(fake): State<FakeZendesk>, headers: HeaderMap, Query(q): Params) -> Result<Json<Value>, ApiError> {
    let start = start_time(&q)?.ok_or_else(|| export_error("start_time is required"))?;
    let per_page = page_size(&q, "per_page", MAX_EXPORT_PAGE)?;
    let base = base_url(&headers);
    fake.with_store(|store| {
        let keys = store.organizations.values().map(|o| ((o.updated_at, o.id), o.id));
        let (page, more) = time_page(keys, start, per_page);
        let end_time = page.last().map_or(start, |(pos, _)| pos.0);
        let items = page.iter().map(|(_, id)| store.organizations[id].to_json(&base, &store.organization_fields)).collect();
        let next = with_query(&base, "/api/v2/incremental/organizations.json", &[("start_time", end_time.to_string()), ("per_page", per_page.to_string())]);
        Ok(Json(time_envelope("organizations", items, end_time, more, next)))
    })
}

async fn ticket_events(State(fake): State<FakeZendesk>, headers: HeaderMap, Query(q): Params) -> Result<Json<Value>, ApiError> {
    let start = start_time(&q)?.ok_or_else(|| export_error("start_time is required"))?;
    let per_page = page_size(&q, "per_page", MAX_EXPORT_PAGE)?;
    let include = q.get("include").cloned().unwrap_or_default();
    let comments = include.split(',').any(|i| i.trim() == "comment_events");
    let base = base_url(&headers);
    fake.with_store(|store| {
        let keys = store.ticket_audits.iter().enumerate().map(|(index, a)| ((a.created_at, a.id), index));
        let (page, more) = time_page(keys, start, per_page);
        let end_time = page.last().map_or(start, |(pos, _)| pos.0);
        let items = page.iter().map(|(_, index)| render_ticket_event(store, &store.ticket_audits[*index], comments)).collect();
        let mut params = vec![("start_time", end_time.to_string()), ("per_page", per_page.to_string())];
        if !include.is_empty() {
            params.push(("include", include.clone()));
        }
        let next = with_query(&base, "/api/v2/incremental/ticket_events.json", &params);
        Ok(Json(time_envelope("ticket_events", items, end_time, more, next)))
    })
}

// ---------------------------------------------------------------- cursor lists

/// A cursor-paginated list page over records ordered by (time, id).
fn list_page(
    q: &HashMap<String, String>,
    key: &str,
    path: &str,
    base: &str,
    keys: Vec<((Timestamp, u64), u64)>,
    render: impl Fn(u64) -> Value,
) -> Result<Json<Value>, ApiError> {
    let size = page_size(q, "page[size]", MAX_LIST_PAGE)?;
    let lower = match q.get("page[after]") {
        Some(cursor) => Lower::After(decode_cursor(cursor)?),
        None => Lower::From(Timestamp::MIN),
    };
    let (page, more) = select_page(keys.into_iter(), lower, Timestamp::MAX, size);
    let after = page.last().map(|(pos, _)| encode_cursor(*pos));
    let before = page.first().map(|(pos, _)| encode_cursor(*pos));
    let next = after.as_ref().filter(|_| more).map(|cursor| {
        let mut params: Vec<(&str, String)> = q.iter().filter(|(k, _)| k.as_str() != "page[after]").map(|(k, v)| (k.as_str(), v.clone())).collect();
        params.sort();
        params.push(("page[after]", cursor.clone()));
        with_query(base, path, &params)
    });
    Ok(Json(json!({
        key: page.iter().map(|(_, id)| render(*id)).collect::<Vec<_>>(),
        "meta": {"has_more": more, "after_cursor": after, "before_cursor": before},
        "links": {"next": next, "prev": null},
    })))
}

async fn groups(State(fake): State<FakeZendesk>, headers: HeaderMap, Query(q): Params) -> Result<Json<Value>, ApiError> {
    let base = base_url(&headers);
    fake.with_store(|store| {
        let keys = store.groups.values().map(|g| ((0, g.id), g.id)).collect();
        list_page(&q, "groups", "/api/v2/groups", &base, keys, |id| render_group(store, id, &base))
    })
}

async fn satisfaction_ratings(State(fake): State<FakeZendesk>, headers: HeaderMap, Query(q): Params) -> Result<Json<Value>, ApiError> {
    let base = base_url(&headers);
    let epoch = |key: &str| -> Result<Option<Timestamp>, ApiError> {
        q.get(key).map(|v| v.parse().map_err(|_| export_error(&format!("{key} must be a Unix epoch time")))).transpose()
    };
    let (from, until) = (epoch("start_time")?, epoch("end_time")?);
    let score = q.get("score").cloned();
    fake.with_store(|store| {
        if store.satisfaction_ratings_disabled {
            return Err(ApiError::Forbidden("Satisfaction ratings are not enabled for this account".into()));
        }
        // Zendesk filters on the rating's creation time.
        let keys = store
            .satisfaction_ratings
            .values()
            .filter(|r| from.is_none_or(|f| r.created_at >= f) && until.is_none_or(|u| r.created_at < u))
            .filter(|r| score.as_deref().is_none_or(|s| r.score == s))
            .map(|r| ((r.created_at, r.id), r.id))
            .collect();
        list_page(&q, "satisfaction_ratings", "/api/v2/satisfaction_ratings", &base, keys, |id| render_rating(store, id, &base))
    })
}

async fn activities(State(fake): State<FakeZendesk>, headers: HeaderMap, Query(q): Params) -> Result<Json<Value>, ApiError> {
    let base = base_url(&headers);
    let since = match q.get("since") {
        None => None,
        Some(raw) => Some(parse_iso(raw).ok_or_else(|| export_error("since must be an ISO 8601 time"))?),
    };
    let oldest = (now() - ACTIVITY_RETENTION).max(since.unwrap_or(Timestamp::MIN));
    fake.with_store(|store| {
        let keys = store
            .activities
            .values()
            .filter(|a| a.created_at >= oldest)
            .map(|a| ((a.created_at, a.id), a.id))
            .collect();
        list_page(&q, "activities", "/api/v2/activities", &base, keys, |id| render_activity(store, id, &base))
    })
}

fn parse_iso(raw: &str) -> Option<Timestamp> {
    let time = humantime::parse_rfc3339_weak(raw).ok()?;
    Some(time.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as Timestamp)
}

// ---------------------------------------------------------------- rendering

fn is_deleted(store: &Store, ticket_id: u64) -> bool {
    store.ticket_lifecycle.get(&ticket_id).is_some_and(|l| l.deleted_at.is_some())
}

/// The later of `updated_at`, a system update and a deletion.
pub fn generated_timestamp(store: &Store, ticket: &Ticket) -> Timestamp {
    let lifecycle = store.ticket_lifecycle.get(&ticket.id);
    let system = lifecycle.and_then(|l| l.system_updated_at).unwrap_or(Timestamp::MIN);
    let deleted = lifecycle.and_then(|l| l.deleted_at).unwrap_or(Timestamp::MIN);
    ticket.updated_at.max(system).max(deleted)
}

/// A ticket as the incremental export shows it.
pub fn render_ticket(store: &Store, ticket: &Ticket, base: &str) -> Value {
    let mut value = ticket.to_json(base);
    value["generated_timestamp"] = json!(generated_timestamp(store, ticket));
    if is_deleted(store, ticket.id) {
        value["status"] = json!("deleted");
    }
    value
}

/// The metric sets of `ticket_ids`, derived from each ticket's audit history.
pub fn metric_sets(store: &Store, ticket_ids: &[u64], base: &str) -> Vec<Value> {
    let mut audits: BTreeMap<u64, Vec<&TicketAudit>> = ticket_ids.iter().map(|id| (*id, Vec::new())).collect();
    for audit in &store.ticket_audits {
        if let Some(list) = audits.get_mut(&audit.ticket_id) {
            list.push(audit);
        }
    }
    ticket_ids
        .iter()
        .filter_map(|id| store.tickets.get(id).map(|t| metric_set(store, t, &audits[id], base)))
        .collect()
}

/// A metric set's id: one per ticket, stable.
pub fn metric_set_id(ticket_id: u64) -> u64 {
    ticket_id + 10_000_000_000
}

fn metric_set(store: &Store, ticket: &Ticket, audits: &[&TicketAudit], base: &str) -> Value {
    let mut audits = audits.to_vec();
    audits.sort_by_key(|a| (a.created_at, a.id));
    let is_agent = |user: u64| store.users.get(&user).is_some_and(|u| u.role != "end-user");
    let changes = |field: &'static str| {
        audits.iter().flat_map(move |a| {
            a.events
                .iter()
                .filter(move |e| e.field_name.as_deref() == Some(field))
                .map(move |e| (a.created_at, e.value.clone(), e.previous_value.clone()))
        })
    };
    let status_changes: Vec<_> = changes("status").collect();
    let solved: Vec<Timestamp> = status_changes.iter().filter(|c| c.1 == "solved").map(|c| c.0).collect();
    let reopens = status_changes
        .iter()
        .filter(|c| c.2.as_ref().is_some_and(|p| p == "solved") && c.1 != "closed")
        .count();
    let assignments: Vec<Timestamp> = changes("assignee_id").filter(|c| !c.1.is_null()).map(|c| c.0).collect();
    let agent_replies: Vec<Timestamp> = audits
        .iter()
        .skip(1)
        .filter(|a| is_agent(a.author_id) && a.events.iter().any(|e| e.kind == "Comment"))
        .map(|a| a.created_at)
        .collect();
    let minutes = |from: Timestamp, to: Option<Timestamp>| {
        to.map_or(json!({"calendar": null, "business": null}), |to| {
            let m = (to - from).max(0) / 60;
            json!({"calendar": m, "business": m})
        })
    };
    let last_by = |agent: bool| {
        audits.iter().filter(|a| is_agent(a.author_id) == agent).map(|a| a.created_at).max().map(iso)
    };
    json!({
        "id": metric_set_id(ticket.id),
        "url": format!("{base}/api/v2/ticket_metrics/{}.json", metric_set_id(ticket.id)),
        "ticket_id": ticket.id,
        "group_stations": changes("group_id").filter(|c| !c.1.is_null()).count().max(usize::from(ticket.group_id.is_some())),
        "assignee_stations": assignments.len().max(usize::from(ticket.assignee_id.is_some())),
        "reopens": reopens,
        "replies": agent_replies.len(),
        "assignee_updated_at": last_by(true),
        "requester_updated_at": last_by(false),
        "status_updated_at": status_changes.last().map(|c| iso(c.0)),
        "initially_assigned_at": assignments.first().map(|t| iso(*t)),
        "assigned_at": assignments.last().map(|t| iso(*t)),
        "solved_at": solved.last().map(|t| iso(*t)),
        "latest_comment_added_at": ticket.comments.iter().map(|c| c.created_at).max().map(iso),
        "reply_time_in_minutes": minutes(ticket.created_at, agent_replies.first().copied()),
        "first_resolution_time_in_minutes": minutes(ticket.created_at, solved.first().copied()),
        "full_resolution_time_in_minutes": minutes(ticket.created_at, solved.last().copied()),
        "agent_wait_time_in_minutes": minutes(ticket.created_at, agent_replies.first().copied()),
        "requester_wait_time_in_minutes": minutes(ticket.created_at, solved.first().copied()),
        "on_hold_time_in_minutes": {"calendar": 0, "business": 0},
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
    })
}

/// An audit as an incremental ticket event; with `comments`, comment child
/// events carry body and attachments (`include=comment_events`).
pub fn render_ticket_event(store: &Store, audit: &TicketAudit, comments: bool) -> Value {
    let ticket = store.tickets.get(&audit.ticket_id);
    let mut children = Vec::new();
    let mut comment_flags = (false, false);
    for event in &audit.events {
        if event.kind == "Comment" {
            let comment = ticket.and_then(|t| t.comments.iter().find(|c| c.id == event.id));
            let public = comment.is_none_or(|c| c.public);
            comment_flags = (true, comment_flags.1 || public);
            if comments {
                let attachments: Vec<Value> = store
                    .attachments
                    .get(&event.id)
                    .map(|list| list.iter().map(|a| render_attachment(a, audit)).collect())
                    .unwrap_or_default();
                children.push(json!({
                    "id": event.id,
                    "event_type": "Comment",
                    "author_id": audit.author_id,
                    "body": event.value,
                    "html_body": comment.and_then(|c| c.html_body.clone()),
                    "public": public,
                    "attachments": attachments,
                    "audit_id": audit.id,
                    "created_at": iso(audit.created_at),
                }));
            }
        } else {
            let mut child = json!({
                "id": event.id,
                "event_type": event.kind,
                "field_name": event.field_name,
                "via": audit.via,
            });
            if let Some(field) = &event.field_name {
                child[field.as_str()] = event.value.clone();
            }
            if let Some(previous) = &event.previous_value {
                child["previous_value"] = previous.clone();
            }
            children.push(child);
        }
    }
    let mut value = json!({
        "id": audit.id,
        "ticket_id": audit.ticket_id,
        "timestamp": audit.created_at,
        "created_at": iso(audit.created_at),
        "updater_id": audit.author_id,
        "via": audit.via,
        "system": {"client": "zendesk-fake", "location": null},
        "event_type": "Audit",
        "child_events": children,
        "merged_ticket_ids": [],
    });
    if !comments {
        value["comment_present"] = json!(comment_flags.0);
        value["comment_public"] = json!(comment_flags.1);
    }
    value
}

fn render_attachment(a: &crate::store::Attachment, audit: &TicketAudit) -> Value {
    let content_url = format!("https://demo.zendesk.com/attachments/token/{}/?name={}", a.id, a.file_name);
    let image = a.content_type.starts_with("image/");
    json!({
        "id": a.id,
        "file_name": a.file_name,
        "content_url": content_url,
        "mapped_content_url": content_url,
        "content_type": a.content_type,
        "size": a.size,
        "width": image.then_some(640),
        "height": image.then_some(480),
        "inline": a.inline,
        "deleted": false,
        "malware_access_override": false,
        "malware_scan_result": "malware_not_found",
        "thumbnails": [],
        "created_at": iso(audit.created_at),
    })
}

pub fn render_group(store: &Store, id: u64, base: &str) -> Value {
    let g = &store.groups[&id];
    json!({
        "id": g.id,
        "url": format!("{base}/api/v2/groups/{}.json", g.id),
        "name": g.name,
        "description": g.description,
        "default": g.default,
        "is_public": g.is_public,
        "deleted": g.deleted,
        "created_at": iso(g.created_at),
        "updated_at": iso(g.updated_at),
    })
}

pub fn render_rating(store: &Store, id: u64, base: &str) -> Value {
    let r = &store.satisfaction_ratings[&id];
    json!({
        "id": r.id,
        "url": format!("{base}/api/v2/satisfaction_ratings/{}.json", r.id),
        "assignee_id": r.assignee_id,
        "group_id": r.group_id,
        "requester_id": r.requester_id,
        "ticket_id": r.ticket_id,
        "score": r.score,
        "comment": r.comment,
        "reason": r.reason,
        "reason_id": r.reason.as_ref().map(|_| 1000),
        "created_at": iso(r.created_at),
        "updated_at": iso(r.updated_at),
    })
}

pub fn render_activity(store: &Store, id: u64, base: &str) -> Value {
    let a = &store.activities[&id];
    let ticket = json!({"id": a.ticket_id, "subject": store.tickets.get(&a.ticket_id).and_then(|t| t.subject.clone())});
    let object = if a.verb == "tickets.comment" { json!({"comment": {"ticket_id": a.ticket_id}}) } else { json!({"ticket": ticket}) };
    json!({
        "id": a.id,
        "url": format!("{base}/api/v2/activities/{}.json", a.id),
        "verb": a.verb,
        "title": a.title,
        "user_id": a.user_id,
        "actor_id": a.actor_id,
        "object": object,
        "target": {"ticket": ticket},
        "created_at": iso(a.created_at),
        "updated_at": iso(a.created_at),
    })
}

/// Every record the sync endpoints serve, keyed by collection then id, as
/// they render them (activities limited to Zendesk's 30 days). Tests compare
/// a warehouse against this.
impl FakeZendesk {
    pub fn export_snapshot(&self, base: &str) -> BTreeMap<&'static str, BTreeMap<u64, Value>> {
        self.with_store(|store| {
            let store: &Store = store;
            let mut out: BTreeMap<&'static str, BTreeMap<u64, Value>> = BTreeMap::new();
            let tickets = store.tickets.values().map(|t| (t.id, render_ticket(store, t, base))).collect();
            out.insert("tickets", tickets);
            let live: Vec<u64> = store.tickets.keys().copied().filter(|id| !is_deleted(store, *id)).collect();
            let metrics = metric_sets(store, &live, base).into_iter().map(|m| (m["id"].as_u64().unwrap_or(0), m)).collect();
            out.insert("ticket_metrics", metrics);
            out.insert("users", store.users.values().map(|u| (u.id, u.to_json(base, &store.user_fields))).collect());
            out.insert(
                "organizations",
                store.organizations.values().map(|o| (o.id, o.to_json(base, &store.organization_fields))).collect(),
            );
            out.insert("groups", store.groups.keys().map(|id| (*id, render_group(store, *id, base))).collect());
            out.insert("ticket_events", store.ticket_audits.iter().map(|a| (a.id, render_ticket_event(store, a, true))).collect());
            let attachments = store
                .ticket_audits
                .iter()
                .flat_map(|audit| {
                    audit.events.iter().flat_map(move |e| {
                        store.attachments.get(&e.id).into_iter().flatten().map(move |a| (a.id, render_attachment(a, audit)))
                    })
                })
                .collect();
            out.insert("attachments", attachments);
            out.insert(
                "satisfaction_ratings",
                store.satisfaction_ratings.keys().map(|id| (*id, render_rating(store, *id, base))).collect(),
            );
            let oldest = now() - ACTIVITY_RETENTION;
            let activities = store
                .activities
                .values()
                .filter(|a| a.created_at >= oldest)
                .map(|a| (a.id, render_activity(store, a.id, base)))
                .collect();
            out.insert("activities", activities);
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::AccountSpec;

    async fn serve(fake: &FakeZendesk) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = fake.router();
        tokio::spawn(async move { axum::serve(listener, router).await });
        base
    }

    async fn get(base: &str, path: &str) -> (u16, Value) {
        let response = reqwest::Client::new()
            .get(format!("{base}{path}"))
            .bearer_auth("demo-oauth-token")
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    #[tokio::test]
    async fn exports_refuse_a_start_time_in_the_last_minute() {
        let fake = FakeZendesk::demo();
        let base = serve(&fake).await;
        let recent = now() - 30;
        let (status, body) = get(&base, &format!("/api/v2/incremental/tickets/cursor.json?start_time={recent}")).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("StartTimeTooRecent")));
        let (status, _) = get(&base, &format!("/api/v2/incremental/organizations.json?start_time={recent}")).await;
        assert_eq!(status, 400);
        let (status, _) = get(&base, "/api/v2/incremental/tickets/cursor.json").await;
        assert_eq!(status, 400, "start_time or cursor is required");
    }

    #[tokio::test]
    async fn cursor_export_pages_every_ticket_once_and_resumes_after_end_of_stream() {
        let fake = FakeZendesk::demo();
        fake.generate_account(AccountSpec { tickets: 60, seed: 1 });
        let base = serve(&fake).await;
        let mut seen = BTreeSet::new();
        let mut last_stamp = 0;
        let mut path = "/api/v2/incremental/tickets/cursor.json?per_page=7&start_time=0".to_string();
        let cursor = loop {
            let (status, body) = get(&base, &path).await;
            assert_eq!(status, 200);
            for ticket in body["tickets"].as_array().unwrap() {
                assert!(seen.insert(ticket["id"].as_u64().unwrap()), "a ticket appeared twice");
                let stamp = ticket["generated_timestamp"].as_i64().unwrap();
                assert!(stamp >= last_stamp, "ordered by generated_timestamp");
                last_stamp = stamp;
            }
            let cursor = body["after_cursor"].as_str().unwrap().to_string();
            if body["end_of_stream"] == true {
                break cursor;
            }
            path = format!("/api/v2/incremental/tickets/cursor.json?per_page=7&cursor={}", url_encode(&cursor));
        };
        assert_eq!(seen.len(), 60);
        let ticket = *seen.first().unwrap();
        assert!(fake.change_ticket_status(ticket, "solved", now() - 120));
        let (_, body) = get(&base, &format!("/api/v2/incremental/tickets/cursor.json?cursor={}", url_encode(&cursor))).await;
        let ids: Vec<u64> = body["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_u64().unwrap()).collect();
        assert_eq!(ids, vec![ticket], "the saved cursor yields exactly the change");
    }

    #[tokio::test]
    async fn time_based_export_moves_end_time_forward_and_covers_everything() {
        let fake = FakeZendesk::demo();
        fake.generate_account(AccountSpec { tickets: 300, seed: 2 });
        let base = serve(&fake).await;
        let total = fake.with_store(|s| s.organizations.len());
        let mut seen = BTreeSet::new();
        let mut start = 0;
        loop {
            let (_, body) = get(&base, &format!("/api/v2/incremental/organizations.json?per_page=2&start_time={start}")).await;
            seen.extend(body["organizations"].as_array().unwrap().iter().map(|o| o["id"].as_u64().unwrap()));
            let end_time = body["end_time"].as_i64().unwrap();
            if body["end_of_stream"] == true {
                break;
            }
            assert!(end_time > start, "end_time moves forward");
            assert!(body["next_page"].as_str().unwrap().contains(&format!("start_time={end_time}")));
            start = end_time;
        }
        assert_eq!(seen.len(), total);
    }
}
