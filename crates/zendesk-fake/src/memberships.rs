//! Organization memberships: create, delete, list a user's.
//!
//! Zendesk answers 422 when the user already belongs to the organization (the
//! proxy treats that as success), and keeps the user's `organization_id` equal
//! to the default membership: the first one a user gets is the default.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::routes::{base_url, record, JsonBody};
use crate::store::{now, Membership, Store};
use crate::FakeZendesk;

pub fn routes() -> Router<FakeZendesk> {
    Router::new()
        .route("/api/v2/organization_memberships", post(create))
        .route("/api/v2/users/{user_id}/organizations/{organization_id}", delete(remove))
        .route("/api/v2/users/{user_id}/organization_memberships", get(list_for_user))
}

/// `POST /api/v2/organization_memberships` `{organization_membership: {user_id, organization_id}}`.
async fn create(State(fake): State<FakeZendesk>, headers: HeaderMap, JsonBody(body): JsonBody) -> Result<Response, ApiError> {
    let input = record(&body, "organization_membership")?;
    let id_of = |key: &'static str| input.get(key).and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()));
    let (Some(user_id), Some(organization_id)) = (id_of("user_id"), id_of("organization_id")) else {
        return Err(ApiError::invalid("user_id", "BlankValue", "User: cannot be blank; Organization: cannot be blank"));
    };
    let base = base_url(&headers);
    fake.with_store(|store| {
        let membership = add(store, user_id, organization_id)?;
        let name = store.organizations.get(&organization_id).map(|o| o.name.clone()).unwrap_or_default();
        let location = format!("{base}/api/v2/organization_memberships/{}.json", membership.id);
        Ok((
            StatusCode::CREATED,
            [(header::LOCATION, location)],
            Json(json!({ "organization_membership": membership.to_json(&base, &name) })),
        )
            .into_response())
    })
}

/// Adds `user_id` to `organization_id`, with Zendesk's validations.
pub(crate) fn add(store: &mut Store, user_id: u64, organization_id: u64) -> Result<Membership, ApiError> {
    if !store.users.contains_key(&user_id) {
        return Err(ApiError::invalid("user", "InvalidValue", "User: is invalid"));
    }
    if !store.organizations.get(&organization_id).is_some_and(|o| o.deleted_at.is_none()) {
        return Err(ApiError::invalid("organization", "InvalidValue", "Organization: is invalid"));
    }
    let memberships = store.memberships_of(user_id);
    if memberships.iter().any(|m| m.organization_id == organization_id) {
        return Err(ApiError::invalid("user_id", "DuplicateValue", "User is already a member of this organization"));
    }
    let default = memberships.is_empty();
    let now = now();
    let membership = Membership { id: store.next_id(), user_id, organization_id, default, created_at: now, updated_at: now };
    store.memberships.insert(membership.id, membership.clone());
    store.sync_default_organization(user_id);
    Ok(membership)
}

/// `DELETE /api/v2/users/{user_id}/organizations/{organization_id}`: 204, or
/// 404 when the user is not a member.
async fn remove(State(fake): State<FakeZendesk>, Path((user_id, organization_id)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    let user_id: u64 = user_id.parse().map_err(|_| ApiError::NotFound)?;
    let organization_id: u64 = organization_id.parse().map_err(|_| ApiError::NotFound)?;
    fake.with_store(|store| {
        let id = store
            .memberships
            .values()
            .find(|m| m.user_id == user_id && m.organization_id == organization_id)
            .map(|m| m.id)
            .ok_or(ApiError::NotFound)?;
        let removed = store.memberships.remove(&id);
        // The next membership becomes the default, as in Zendesk.
        if removed.is_some_and(|m| m.default) {
            if let Some(next) = store.memberships.values_mut().find(|m| m.user_id == user_id) {
                next.default = true;
            }
        }
        store.sync_default_organization(user_id);
        Ok(StatusCode::NO_CONTENT)
    })
}

/// `GET /api/v2/users/{user_id}/organization_memberships`.
async fn list_for_user(State(fake): State<FakeZendesk>, headers: HeaderMap, Path(user_id): Path<String>) -> Result<Json<Value>, ApiError> {
    let user_id: u64 = user_id.parse().map_err(|_| ApiError::NotFound)?;
    let base = base_url(&headers);
    fake.with_store(|store| {
        if !store.users.contains_key(&user_id) {
            return Err(ApiError::NotFound);
        }
        let list: Vec<Value> = store
            .memberships_of(user_id)
            .into_iter()
            .map(|m| {
                let name = store.organizations.get(&m.organization_id).map(|o| o.name.as_str()).unwrap_or_default();
                m.to_json(&base, name)
            })
            .collect();
        Ok(Json(json!({ "count": list.len(), "organization_memberships": list, "next_page": null, "previous_page": null })))
    })
}
