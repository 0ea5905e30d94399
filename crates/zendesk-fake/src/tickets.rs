//! `/api/v2/tickets`: create (with `Idempotency-Key`), show, list, update
//! (with `safe_update`), tags, and a user's requested tickets. Every write goes
//! through [`crate::history`], so the ticket, its audits and the incremental
//! exports the Source reads always agree.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::history::{add_comment, change, deleted, record_audit};
use crate::routes::{base_url, record, text, written, JsonBody, Paging};
use crate::store::{iso, now, IdempotentRequest, Store, Ticket, Timestamp};
use crate::users;
use crate::FakeZendesk;

const PRIORITIES: &[&str] = &["urgent", "high", "normal", "low"];
const TYPES: &[&str] = &["problem", "incident", "question", "task"];
/// `closed` is reached only through Zendesk's own automations.
const SETTABLE_STATUSES: &[&str] = &["new", "open", "pending", "hold", "solved"];
/// Zendesk keeps an idempotency key for two hours.
const IDEMPOTENCY_WINDOW_SECS: Timestamp = 2 * 60 * 60;

pub fn routes() -> Router<FakeZendesk> {
    Router::new()
        .route("/api/v2/tickets", post(create).get(list))
        .route("/api/v2/tickets/{id}", get(show).put(update))
        .route("/api/v2/tickets/{id}/tags", put(add_tags).delete(remove_tags).post(set_tags).get(show_tags))
        .route("/api/v2/users/{id}/tickets/requested", get(requested))
}

/// `POST /api/v2/tickets`. With an `Idempotency-Key`, a retry with the same
/// body within two hours gets the first answer (`x-idempotency-lookup: hit`)
/// and no second ticket; the same key with another body is a 400.
async fn create(State(fake): State<FakeZendesk>, headers: HeaderMap, JsonBody(body): JsonBody) -> Result<Response, ApiError> {
    let base = base_url(&headers);
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let agent_email = fake.credentials.email.clone();
    fake.with_store(|store| {
        let at = now();
        if let Some(key) = &key {
            store.idempotency_keys.retain(|_, seen| at - seen.created_at < IDEMPOTENCY_WINDOW_SECS);
            if let Some(seen) = store.idempotency_keys.get(key) {
                if seen.body != body {
                    return Err(ApiError::Raw(
                        StatusCode::BAD_REQUEST,
                        json!({"error": "IdempotentRequestError", "description": "Request parameters do not match the original request for this Idempotency-Key"}),
                    ));
                }
                let ticket = store.tickets.get(&seen.ticket_id).ok_or(ApiError::NotFound)?;
                return Ok(created(ticket, &base, "hit"));
            }
        }
        let input = record(&body, "ticket")?;
        let ticket_id = open_ticket(store, input, &agent_email, at)?;
        if let Some(key) = key {
            store.idempotency_keys.insert(key, IdempotentRequest { body: body.clone(), ticket_id, created_at: at });
        }
        Ok(created(&store.tickets[&ticket_id], &base, "miss"))
    })
}

fn created(ticket: &Ticket, base: &str, lookup: &'static str) -> Response {
    let location = format!("{base}/api/v2/tickets/{}.json", ticket.id);
    let mut response = written(true, location, json!({ "ticket": ticket.to_json(base) }));
    response.headers_mut().insert("x-idempotency-lookup", HeaderValue::from_static(lookup));
    response
}

fn open_ticket(store: &mut Store, input: &Map<String, Value>, agent_email: &str, at: Timestamp) -> Result<u64, ApiError> {
    let (body, html_body, public) = comment(input.get("comment"))?
        .ok_or_else(|| ApiError::invalid("description", "BlankValue", "Description: cannot be blank"))?;
    let status = choice(input, "status", SETTABLE_STATUSES)?;
    let priority = choice(input, "priority", PRIORITIES)?;
    let kind = choice(input, "type", TYPES)?;
    let agent = agent_id(store, agent_email);
    let requester_id = requester(store, input, agent)?;
    let organization_id = match input.get("organization_id").and_then(Value::as_u64) {
        Some(id) if store.organizations.get(&id).is_some_and(|o| o.deleted_at.is_none()) => Some(id),
        Some(id) => return Err(ApiError::invalid("organization_id", "InvalidValue", format!("Organization: {id} is invalid"))),
        None => store.users.get(&requester_id).and_then(|u| u.organization_id),
    };
    let assignee_id = input.get("assignee_id").and_then(Value::as_u64);
    let id = store.next_id();
    let ticket = Ticket {
        id,
        subject: input.get("subject").and_then(text),
        description: body.clone(),
        status: status.unwrap_or(if assignee_id.is_some() { "open" } else { "new" }).to_owned(),
        priority: priority.map(str::to_owned),
        kind: kind.map(str::to_owned),
        requester_id,
        submitter_id: agent,
        assignee_id,
        organization_id,
        group_id: input.get("group_id").and_then(Value::as_u64),
        brand_id: None,
        ticket_form_id: input.get("ticket_form_id").and_then(Value::as_u64),
        external_id: input.get("external_id").and_then(text),
        due_at: None,
        tags: users::tags(input).unwrap_or_default(),
        custom_fields: input.get("custom_fields").and_then(Value::as_array).cloned().unwrap_or_default(),
        collaborator_ids: Vec::new(),
        comments: Vec::new(),
        created_at: at,
        updated_at: at,
    };
    let initial: Vec<(&str, Value)> = vec![
        ("status", json!(ticket.status)),
        ("priority", json!(ticket.priority)),
        ("type", json!(ticket.kind)),
        ("subject", json!(ticket.subject)),
        ("requester_id", json!(ticket.requester_id)),
        ("tags", json!(ticket.tags)),
    ];
    store.tickets.insert(id, ticket);
    add_comment(store, id, agent, &body, public, 0, at);
    if let (Some(html), Some(ticket)) = (html_body, store.tickets.get_mut(&id)) {
        if let Some(first) = ticket.comments.first_mut() {
            first.html_body = Some(html);
        }
    }
    let events = initial.into_iter().map(|(field, value)| change(store.next_id(), field, value, None)).collect();
    record_audit(store, id, agent, at, events);
    Ok(id)
}

/// `{body | html_body, public}`; a comment with neither body is blank.
fn comment(raw: Option<&Value>) -> Result<Option<(String, Option<String>, bool)>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let Some(fields) = raw.as_object() else {
        return Err(ApiError::BadRequest("comment must be an object with body or html_body".into()));
    };
    let body = fields.get("body").and_then(text);
    let html = fields.get("html_body").and_then(text);
    let public = fields.get("public").and_then(Value::as_bool).unwrap_or(true);
    Ok(match (body, html) {
        (Some(body), html) => Some((body, html, public)),
        (None, Some(html)) => Some((strip_tags(&html), Some(html), public)),
        (None, None) => None,
    })
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_owned()
}

/// A field limited to Zendesk's values; anything else is a 422 as Zendesk answers.
fn choice<'a>(input: &Map<String, Value>, field: &'static str, allowed: &[&'a str]) -> Result<Option<&'a str>, ApiError> {
    match input.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => {
            let wanted = value.as_str().unwrap_or_default();
            allowed.iter().find(|a| **a == wanted).map(|a| Some(*a)).ok_or_else(|| {
                let label = format!("{}{}", field[..1].to_uppercase(), &field[1..]);
                ApiError::invalid(field, "InvalidValue", format!("{label}: {value} is not valid"))
            })
        }
    }
}

/// `requester_id` must name a user; `requester: {email, name}` finds the user
/// by email or creates an end user (named after the email when no name is
/// given); neither means the authenticated agent asked.
fn requester(store: &mut Store, input: &Map<String, Value>, agent: u64) -> Result<u64, ApiError> {
    if let Some(id) = input.get("requester_id").filter(|v| !v.is_null()) {
        return id
            .as_u64()
            .filter(|id| store.users.contains_key(id))
            .ok_or_else(|| ApiError::invalid("requester", "InvalidValue", format!("Requester: {id} is invalid")));
    }
    let Some(requester) = input.get("requester").and_then(Value::as_object) else { return Ok(agent) };
    let email = requester
        .get("email")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|e| e.contains('@'))
        .ok_or_else(|| ApiError::invalid("requester", "InvalidValue", "Requester: email is invalid"))?;
    if let Some(id) = store.users_by_email(email).first() {
        return Ok(*id);
    }
    let name = requester.get("name").and_then(text).unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_owned());
    let new_user = json!({ "name": name, "email": email });
    let fields = new_user.as_object().cloned().unwrap_or_default();
    Ok(users::create_user(store, &fields)?.id)
}

/// The user the API credentials belong to, created as an agent on first use.
fn agent_id(store: &mut Store, email: &str) -> u64 {
    if let Some(id) = store.users_by_email(email).first() {
        return *id;
    }
    let fields = json!({ "name": "API agent", "email": email, "role": "agent", "verified": true });
    let fields = fields.as_object().cloned().unwrap_or_default();
    users::create_user(store, &fields).map(|u| u.id).unwrap_or_default()
}

fn ticket_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}

/// A ticket that exists and is not deleted.
fn live(store: &Store, id: u64) -> Result<&Ticket, ApiError> {
    store.tickets.get(&id).filter(|_| !deleted(store, id)).ok_or(ApiError::NotFound)
}

/// `GET /api/v2/tickets/{id}`; deleted tickets are 404.
async fn show(State(fake): State<FakeZendesk>, headers: HeaderMap, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = ticket_id(&id)?;
    let base = base_url(&headers);
    fake.with_store(|store| Ok(Json(json!({ "ticket": live(store, id)?.to_json(&base) }))))
}

/// `GET /api/v2/tickets`, offset pages of up to 100, oldest first.
async fn list(State(fake): State<FakeZendesk>, headers: HeaderMap, Query(params): Query<HashMap<String, String>>) -> Result<Json<Value>, ApiError> {
    let base = base_url(&headers);
    let paging = Paging::from_query(&params)?;
    fake.with_store(|store| {
        let tickets: Vec<&Ticket> = store.tickets.values().filter(|t| !deleted(store, t.id)).collect();
        Ok(Json(paging.page("tickets", &tickets, |t| t.to_json(&base), &base, "/api/v2/tickets.json")))
    })
}

/// `GET /api/v2/users/{id}/tickets/requested`.
async fn requested(State(fake): State<FakeZendesk>, headers: HeaderMap, Path(id): Path<String>, Query(params): Query<HashMap<String, String>>) -> Result<Json<Value>, ApiError> {
    let user_id = ticket_id(&id)?;
    let base = base_url(&headers);
    let paging = Paging::from_query(&params)?;
    fake.with_store(|store| {
        if !store.users.contains_key(&user_id) {
            return Err(ApiError::NotFound);
        }
        let tickets: Vec<&Ticket> = store.tickets.values().filter(|t| t.requester_id == user_id && !deleted(store, t.id)).collect();
        let path = format!("/api/v2/users/{user_id}/tickets/requested.json");
        Ok(Json(paging.page("tickets", &tickets, |t| t.to_json(&base), &base, &path)))
    })
}

/// Zendesk refuses every change to a closed ticket.
fn ensure_open(ticket: &Ticket) -> Result<(), ApiError> {
    if ticket.status == "closed" {
        return Err(ApiError::invalid("status", "InvalidValue", "Status: closed prevents ticket update"));
    }
    Ok(())
}

/// `PUT /api/v2/tickets/{id}`. With `safe_update: true`, an `updated_stamp`
/// other than the ticket's `updated_at` is a 409 instead of an overwrite.
async fn update(State(fake): State<FakeZendesk>, headers: HeaderMap, Path(id): Path<String>, JsonBody(body): JsonBody) -> Result<Json<Value>, ApiError> {
    let id = ticket_id(&id)?;
    let base = base_url(&headers);
    let agent_email = fake.credentials.email.clone();
    let input = record(&body, "ticket")?.clone();
    fake.with_store(|store| {
        let ticket = live(store, id)?.clone();
        ensure_open(&ticket)?;
        if input.get("safe_update").and_then(Value::as_bool) == Some(true) {
            let stamp = input.get("updated_stamp").and_then(Value::as_str).ok_or_else(|| {
                ApiError::invalid("updated_stamp", "BlankValue", "Updated stamp: is required with safe_update")
            })?;
            if !same_instant(stamp, ticket.updated_at) {
                return Err(ApiError::UpdateConflict);
            }
        }
        let at = now();
        let agent = agent_id(store, &agent_email);
        let mut events = Vec::new();
        let mut next = ticket.clone();
        let set = |field: &str, before: Value, after: Value, events: &mut Vec<_>, store: &mut Store| {
            if before != after {
                events.push(change(store.next_id(), field, after, Some(before)));
            }
        };
        if let Some(status) = choice(&input, "status", SETTABLE_STATUSES)? {
            set("status", json!(next.status), json!(status), &mut events, store);
            next.status = status.to_owned();
        }
        if let Some(priority) = choice(&input, "priority", PRIORITIES)? {
            set("priority", json!(next.priority), json!(priority), &mut events, store);
            next.priority = Some(priority.to_owned());
        }
        if let Some(kind) = choice(&input, "type", TYPES)? {
            set("type", json!(next.kind), json!(kind), &mut events, store);
            next.kind = Some(kind.to_owned());
        }
        if let Some(subject) = input.get("subject").and_then(text) {
            set("subject", json!(next.subject), json!(subject), &mut events, store);
            next.subject = Some(subject);
        }
        if let Some(tags) = users::tags(&input) {
            set("tags", json!(next.tags), json!(tags), &mut events, store);
            next.tags = tags;
        }
        if let Some(fields) = input.get("custom_fields").and_then(Value::as_array) {
            merge_custom_fields(&mut next.custom_fields, fields);
        }
        let comment = comment(input.get("comment"))?;
        next.updated_at = ticket.updated_at;
        store.tickets.insert(id, next);
        if !events.is_empty() {
            record_audit(store, id, agent, at, events);
        }
        if let Some((body, html, public)) = comment {
            let comment_id = add_comment(store, id, agent, &body, public, 0, at);
            if let (Some(html), Some(ticket)) = (html, store.tickets.get_mut(&id)) {
                if let Some(c) = ticket.comments.iter_mut().find(|c| c.id == comment_id) {
                    c.html_body = Some(html);
                }
            }
        }
        if let Some(ticket) = store.tickets.get_mut(&id) {
            ticket.updated_at = at.max(ticket.updated_at);
        }
        Ok(Json(json!({ "ticket": store.tickets[&id].to_json(&base) })))
    })
}

/// `{id, value}` pairs replace the value of the same field id.
fn merge_custom_fields(current: &mut Vec<Value>, changes: &[Value]) {
    for change in changes {
        let Some(id) = change.get("id").cloned() else { continue };
        match current.iter_mut().find(|f| f.get("id") == Some(&id)) {
            Some(existing) => *existing = change.clone(),
            None => current.push(change.clone()),
        }
    }
}

fn same_instant(stamp: &str, at: Timestamp) -> bool {
    humantime::parse_rfc3339_weak(stamp).ok() == humantime::parse_rfc3339_weak(&iso(at)).ok()
}

#[derive(Clone, Copy)]
enum TagEdit {
    Add,
    Remove,
    Set,
}

async fn add_tags(fake: State<FakeZendesk>, id: Path<String>, body: JsonBody) -> Result<Json<Value>, ApiError> {
    edit_tags(fake, id, body, TagEdit::Add).await
}

async fn remove_tags(fake: State<FakeZendesk>, id: Path<String>, body: JsonBody) -> Result<Json<Value>, ApiError> {
    edit_tags(fake, id, body, TagEdit::Remove).await
}

async fn set_tags(fake: State<FakeZendesk>, id: Path<String>, body: JsonBody) -> Result<Json<Value>, ApiError> {
    edit_tags(fake, id, body, TagEdit::Set).await
}

async fn show_tags(State(fake): State<FakeZendesk>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = ticket_id(&id)?;
    fake.with_store(|store| Ok(Json(json!({ "tags": live(store, id)?.tags }))))
}

/// `PUT` adds, `DELETE` removes, `POST` replaces; the answer is the tag list.
async fn edit_tags(State(fake): State<FakeZendesk>, Path(id): Path<String>, JsonBody(body): JsonBody, edit: TagEdit) -> Result<Json<Value>, ApiError> {
    let id = ticket_id(&id)?;
    let agent_email = fake.credentials.email.clone();
    let given = body
        .as_object()
        .and_then(users::tags)
        .ok_or_else(|| ApiError::BadRequest("Parameter tags is required and must be an array".into()))?;
    fake.with_store(|store| {
        let ticket = live(store, id)?;
        ensure_open(ticket)?;
        let before = ticket.tags.clone();
        let mut after = before.clone();
        match edit {
            TagEdit::Add => after.extend(given.into_iter().filter(|t| !before.contains(t))),
            TagEdit::Remove => after.retain(|t| !given.contains(t)),
            TagEdit::Set => after = given,
        }
        if after != before {
            let agent = agent_id(store, &agent_email);
            let event = change(store.next_id(), "tags", json!(after), Some(json!(before)));
            if let Some(ticket) = store.tickets.get_mut(&id) {
                ticket.tags = after.clone();
            }
            record_audit(store, id, agent, now(), vec![event]);
        }
        Ok(Json(json!({ "tags": after })))
    })
}
