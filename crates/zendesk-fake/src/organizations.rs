//! `/api/v2/organizations`: create_or_update, search by external_id, show, list.
//!
//! Zendesk matches `create_or_update` on `external_id` only (never on name),
//! and organization names are unique per account (case-insensitive), so a
//! second organization with a taken name is a 422 — the proxy must match on
//! external_id to avoid it.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::routes::{base_url, record, text, written, JsonBody};
use crate::store::{now, Organization, Store};
use crate::FakeZendesk;

pub fn routes() -> Router<FakeZendesk> {
    Router::new()
        .route("/api/v2/organizations/create_or_update", post(create_or_update))
        .route("/api/v2/organizations/search", get(search))
        .route("/api/v2/organizations", get(list))
        .route("/api/v2/organizations/{id}", get(show))
}

/// Matches on external_id only; returns the organization and whether it is new.
pub(crate) fn upsert(store: &mut Store, input: &Map<String, Value>) -> Result<(Organization, bool), ApiError> {
    let existing = input.get("external_id").and_then(text).and_then(|e| store.organization_by_external_id(&e));
    Ok((write(store, existing, input)?, existing.is_none()))
}

/// `POST /api/v2/organizations/create_or_update`: 201 + Location when created,
/// 200 when the external_id matched an organization.
async fn create_or_update(
    State(fake): State<FakeZendesk>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input = record(&body, "organization")?;
    let base = base_url(&headers);
    fake.with_store(|store| {
        let (organization, created) = upsert(store, input)?;
        let location = format!("{base}/api/v2/organizations/{}.json", organization.id);
        Ok(written(created, location, json!({ "organization": organization.to_json(&base, &store.organization_fields) })))
    })
}

/// Creates (`id` None) or updates an organization from Zendesk's writable fields.
pub(crate) fn write(store: &mut Store, id: Option<u64>, input: &Map<String, Value>) -> Result<Organization, ApiError> {
    let name = input.get("name").and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty());
    if id.is_none() && name.is_none() {
        return Err(ApiError::invalid("name", "BlankValue", "Name: cannot be blank"));
    }
    if let Some(name) = name {
        let taken = store
            .organizations
            .values()
            .any(|o| Some(o.id) != id && o.deleted_at.is_none() && o.name.eq_ignore_ascii_case(name));
        if taken {
            return Err(ApiError::invalid("name", "DuplicateValue", format!("Name: {name} has already been taken")));
        }
    }
    let fields: Map<String, Value> = {
        let known = Store::defined_keys(&store.organization_fields);
        input
            .get("organization_fields")
            .and_then(Value::as_object)
            .map(|f| f.iter().filter(|(k, _)| known(k)).map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    let now = now();
    let id = match id {
        Some(id) => id,
        None => {
            let id = store.next_id();
            store.organizations.insert(
                id,
                Organization {
                    id,
                    name: String::new(),
                    external_id: None,
                    domain_names: Vec::new(),
                    tags: Vec::new(),
                    details: None,
                    notes: None,
                    group_id: None,
                    shared_tickets: false,
                    shared_comments: false,
                    organization_fields: Map::new(),
                    created_at: now,
                    updated_at: now,
                    deleted_at: None,
                },
            );
            id
        }
    };
    let organization = store.organizations.get_mut(&id).ok_or(ApiError::NotFound)?;
    if let Some(name) = name {
        organization.name = name.to_owned();
    }
    if let Some(external_id) = input.get("external_id").and_then(text) {
        organization.external_id = Some(external_id);
    }
    if let Some(domains) = input.get("domain_names") {
        organization.domain_names = strings(domains);
    }
    if let Some(tags) = input.get("tags") {
        organization.tags = strings(tags);
    }
    if let Some(details) = input.get("details").and_then(Value::as_str) {
        organization.details = Some(details.to_owned());
    }
    if let Some(notes) = input.get("notes").and_then(Value::as_str) {
        organization.notes = Some(notes.to_owned());
    }
    organization.organization_fields.extend(fields);
    organization.updated_at = now;
    Ok(organization.clone())
}

/// Zendesk takes lists as arrays, or as one space/comma-separated string.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(text).collect(),
        Value::String(s) => s.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// `GET /api/v2/organizations/search?external_id=…` (or `?name=…`), exact and
/// case-insensitive.
async fn search(
    State(fake): State<FakeZendesk>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let base = base_url(&headers);
    let matches = |o: &Organization| match (params.get("external_id"), params.get("name")) {
        (Some(e), _) => o.external_id.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(e)),
        (None, Some(n)) => o.name.eq_ignore_ascii_case(n),
        (None, None) => false,
    };
    if !params.contains_key("external_id") && !params.contains_key("name") {
        return Err(ApiError::BadRequest("Either external_id or name is required".into()));
    }
    fake.with_store(|store| {
        let found: Vec<Value> = store
            .organizations
            .values()
            .filter(|o| o.deleted_at.is_none() && matches(o))
            .map(|o| o.to_json(&base, &store.organization_fields))
            .collect();
        Ok(Json(json!({ "count": found.len(), "organizations": found, "next_page": null, "previous_page": null })))
    })
}

/// `GET /api/v2/organizations`.
async fn list(State(fake): State<FakeZendesk>, headers: HeaderMap) -> Json<Value> {
    let base = base_url(&headers);
    fake.with_store(|store| {
        let all: Vec<Value> = store
            .organizations
            .values()
            .filter(|o| o.deleted_at.is_none())
            .map(|o| o.to_json(&base, &store.organization_fields))
            .collect();
        Json(json!({ "count": all.len(), "organizations": all, "next_page": null, "previous_page": null }))
    })
}

/// `GET /api/v2/organizations/{id}`.
async fn show(State(fake): State<FakeZendesk>, headers: HeaderMap, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id: u64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let base = base_url(&headers);
    fake.with_store(|store| {
        let organization = store.organizations.get(&id).filter(|o| o.deleted_at.is_none()).ok_or(ApiError::NotFound)?;
        Ok(Json(json!({ "organization": organization.to_json(&base, &store.organization_fields) })))
    })
}
