//! `/api/v2/users`: create, create_or_update, update, list, search, show, and
//! a user's email identities (list, make_primary).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::routes::{base_url, record, text, written, JsonBody, Paging};
use crate::store::{Identity, Store, User};
use crate::FakeZendesk;

/// `POST /api/v2/users/create_or_update`: matches an existing user by
/// external_id (case-insensitive; the stored case is updated) or by any of its
/// emails; updates it (200) or creates one (201 with `Location`).
pub async fn create_or_update(
    State(fake): State<FakeZendesk>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input = record(&body, "user")?;
    let base = base_url(&headers);
    fake.with_store(|store| {
        let (user, created) = upsert(store, input)?;
        let location = format!("{base}/api/v2/users/{}.json", user.id);
        Ok(written(created, location, json!({ "user": user.to_json(&base, &store.user_fields) })))
    })
}

/// `POST /api/v2/users`: creates a user and never matches an existing one —
/// an email or external_id another user holds is a 422.
pub async fn create(State(fake): State<FakeZendesk>, headers: HeaderMap, JsonBody(body): JsonBody) -> Result<Response, ApiError> {
    let input = record(&body, "user")?;
    let base = base_url(&headers);
    fake.with_store(|store| {
        if let Some(external_id) = input.get("external_id").and_then(text) {
            ensure_external_id_free(store, &external_id, None)?;
        }
        let user = create_user(store, input)?;
        let location = format!("{base}/api/v2/users/{}.json", user.id);
        Ok(written(true, location, json!({ "user": user.to_json(&base, &store.user_fields) })))
    })
}

/// Zendesk's create_or_update match: external_id first (case-insensitive),
/// then any of the user's emails. Returns the user and whether it is new.
pub(crate) fn upsert(store: &mut Store, input: &Map<String, Value>) -> Result<(User, bool), ApiError> {
    let external_id = input.get("external_id").and_then(text);
    let email = input.get("email").and_then(Value::as_str).map(str::trim);
    let existing = external_id
        .as_deref()
        .and_then(|e| store.user_by_external_id(e))
        .or_else(|| email.and_then(|e| store.users_by_email(e).first().copied()));
    match existing {
        Some(id) => Ok((update_user(store, id, input)?, false)),
        None => Ok((create_user(store, input)?, true)),
    }
}

pub(crate) fn create_user(store: &mut Store, input: &Map<String, Value>) -> Result<User, ApiError> {
    let name = input.get("name").and_then(Value::as_str).map(str::trim).unwrap_or("");
    if name.is_empty() {
        return Err(ApiError::RecordInvalid {
            field: "name",
            error: "BlankValue",
            description: "Name: cannot be blank".into(),
        });
    }
    let verified = input.get("verified").and_then(Value::as_bool).unwrap_or(false);
    let now = crate::store::now();
    let user_id = store.next_id();
    let mut identities = Vec::new();
    if let Some(email) = input.get("email").and_then(Value::as_str).map(str::trim) {
        ensure_email_free(store, email, None)?;
        identities.push(Identity {
            id: store.next_id(),
            user_id,
            kind: "email".into(),
            value: email.to_owned(),
            primary: true,
            verified,
            created_at: now,
            updated_at: now,
        });
    }
    let user = User {
        id: user_id,
        name: name.to_owned(),
        external_id: input.get("external_id").and_then(text),
        phone: input.get("phone").and_then(text),
        time_zone: input
            .get("time_zone")
            .and_then(Value::as_str)
            .unwrap_or("Eastern Time (US & Canada)")
            .to_owned(),
        organization_id: None,
        role: input.get("role").and_then(Value::as_str).unwrap_or("end-user").to_owned(),
        verified,
        locale: input.get("locale").and_then(text).unwrap_or_else(|| "en-US".into()),
        active: true,
        suspended: false,
        details: input.get("details").and_then(text),
        notes: input.get("notes").and_then(text),
        alias: input.get("alias").and_then(text),
        tags: tags(input).unwrap_or_default(),
        user_fields: input.get("user_fields").and_then(Value::as_object).cloned().unwrap_or_default(),
        identities,
        created_at: now,
        updated_at: now,
    };
    store.users.insert(user.id, user.clone());
    if !store.search_lag.is_zero() {
        let searchable_at = std::time::Instant::now() + store.search_lag;
        store.unindexed_users.insert(user_id, searchable_at);
    }
    if let Some(organization_id) = organization_id(input) {
        replace_memberships(store, user_id, organization_id)?;
    }
    Ok(store.users[&user_id].clone())
}

fn organization_id(input: &Map<String, Value>) -> Option<u64> {
    input.get("organization_id").and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
}

impl FakeZendesk {
    /// Makes users created from now on invisible to search for `lag`, as
    /// Zendesk's search index is (zero: found at once).
    pub fn set_search_lag(&self, lag: std::time::Duration) {
        self.with_store(|store| store.search_lag = lag);
    }
}

pub(crate) fn tags(input: &Map<String, Value>) -> Option<Vec<String>> {
    let tags = input.get("tags")?.as_array()?;
    Some(tags.iter().filter_map(Value::as_str).map(|t| t.trim().to_lowercase().replace(' ', "_")).filter(|t| !t.is_empty()).collect())
}

/// Writing `organization_id` on a user makes that organization its only
/// membership: Zendesk removes every other one (why the proxy uses the
/// memberships API for existing users).
fn replace_memberships(store: &mut Store, user_id: u64, organization_id: u64) -> Result<(), ApiError> {
    if !store.organizations.get(&organization_id).is_some_and(|o| o.deleted_at.is_none()) {
        return Err(ApiError::invalid("organization_id", "InvalidValue", format!("Organization: {organization_id} is invalid")));
    }
    store.memberships.retain(|_, m| m.user_id != user_id || m.organization_id == organization_id);
    if store.memberships_of(user_id).is_empty() {
        crate::memberships::add(store, user_id, organization_id)?;
    }
    store.sync_default_organization(user_id);
    Ok(())
}

/// Updates follow Zendesk's documented rules: `email` is writable on create
/// only, so on update a new email is added as a secondary identity (and
/// `verified` applies to it); `verified` alone applies to the primary email.
fn update_user(store: &mut Store, id: u64, input: &Map<String, Value>) -> Result<User, ApiError> {
    let new_email = input
        .get("email")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|e| !store.users.get(&id).is_some_and(|u| u.has_email(e)));
    if let Some(email) = new_email {
        ensure_email_free(store, email, Some(id))?;
    }
    let identity_id = new_email.map(|_| store.next_id());
    let now = crate::store::now();
    let user = store.users.get_mut(&id).ok_or(ApiError::NotFound)?;
    let verified = input.get("verified").and_then(Value::as_bool);
    match (new_email, identity_id) {
        (Some(email), Some(identity_id)) => user.identities.push(Identity {
            id: identity_id,
            user_id: id,
            kind: "email".into(),
            value: email.to_owned(),
            primary: !user.identities.iter().any(|i| i.kind == "email"),
            verified: verified.unwrap_or(false),
            created_at: now,
            updated_at: now,
        }),
        _ => {
            if let Some(verified) = verified {
                if let Some(primary) = user.identities.iter_mut().find(|i| i.kind == "email" && i.primary) {
                    primary.verified = verified;
                }
                user.verified = verified;
            }
        }
    }
    if let Some(name) = input.get("name").and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty()) {
        user.name = name.to_owned();
    }
    if let Some(external_id) = input.get("external_id").and_then(text) {
        user.external_id = Some(external_id);
    }
    if let Some(phone) = input.get("phone").and_then(text) {
        user.phone = Some(phone);
    }
    if let Some(time_zone) = input.get("time_zone").and_then(Value::as_str) {
        user.time_zone = time_zone.to_owned();
    }
    if let Some(locale) = input.get("locale").and_then(text) {
        user.locale = locale;
    }
    if let Some(tags) = tags(input) {
        user.tags = tags;
    }
    for (key, slot) in [("details", &mut user.details), ("notes", &mut user.notes), ("alias", &mut user.alias)] {
        if let Some(value) = input.get(key).and_then(text) {
            *slot = Some(value);
        }
    }
    if let Some(fields) = input.get("user_fields").and_then(Value::as_object) {
        for (k, v) in fields {
            user.user_fields.insert(k.clone(), v.clone());
        }
    }
    user.updated_at = now;
    if let Some(organization_id) = organization_id(input) {
        replace_memberships(store, id, organization_id)?;
    }
    Ok(store.users[&id].clone())
}

/// `PUT /api/v2/users/{id}` `{"user": {…}}`: the update rules of
/// create_or_update, on a user named by id; an external_id another user has
/// is refused.
pub async fn update(
    State(fake): State<FakeZendesk>,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let id: u64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let input = record(&body, "user")?;
    let base = base_url(&headers);
    fake.with_store(|store| {
        if !store.users.contains_key(&id) {
            return Err(ApiError::NotFound);
        }
        if let Some(external_id) = input.get("external_id").and_then(text) {
            ensure_external_id_free(store, &external_id, Some(id))?;
        }
        let user = update_user(store, id, input)?;
        Ok(Json(json!({ "user": user.to_json(&base, &store.user_fields) })))
    })
}

/// `GET /api/v2/users/{id}/identities`.
pub async fn identities(State(fake): State<FakeZendesk>, headers: HeaderMap, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id: u64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let base = base_url(&headers);
    fake.with_store(|store| {
        let user = store.users.get(&id).ok_or(ApiError::NotFound)?;
        let identities: Vec<Value> = user.identities.iter().map(|i| i.to_json(&base)).collect();
        Ok(Json(json!({ "identities": identities, "next_page": null, "previous_page": null, "count": identities.len() })))
    })
}

/// `PUT /api/v2/users/{id}/identities/{identity_id}/make_primary`: that email
/// becomes the one Zendesk shows as the user's `email`; answers the list.
pub async fn make_primary(
    State(fake): State<FakeZendesk>,
    headers: HeaderMap,
    Path((id, identity_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id: u64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let identity_id: u64 = identity_id.parse().map_err(|_| ApiError::NotFound)?;
    let base = base_url(&headers);
    fake.with_store(|store| {
        let user = store.users.get_mut(&id).ok_or(ApiError::NotFound)?;
        let kind = user.identities.iter().find(|i| i.id == identity_id).map(|i| i.kind.clone()).ok_or(ApiError::NotFound)?;
        let at = crate::store::now();
        for identity in user.identities.iter_mut().filter(|i| i.kind == kind) {
            identity.primary = identity.id == identity_id;
            identity.updated_at = at;
        }
        user.updated_at = at;
        let identities: Vec<Value> = user.identities.iter().map(|i| i.to_json(&base)).collect();
        Ok(Json(json!({ "identities": identities })))
    })
}

/// External ids are unique per account (compared without regard to case).
fn ensure_external_id_free(store: &Store, external_id: &str, owner: Option<u64>) -> Result<(), ApiError> {
    if store.user_by_external_id(external_id).is_some_and(|holder| Some(holder) != owner) {
        return Err(ApiError::invalid("external_id", "DuplicateValue", format!("External: {external_id} has already been taken")));
    }
    Ok(())
}

/// Emails are unique per account.
fn ensure_email_free(store: &Store, email: &str, owner: Option<u64>) -> Result<(), ApiError> {
    if store.users_by_email(email).iter().any(|id| Some(*id) != owner) {
        return Err(ApiError::RecordInvalid {
            field: "email",
            error: "DuplicateValue",
            description: format!("Email: {email} is already being used by another user"),
        });
    }
    Ok(())
}

/// `GET /api/v2/users/search?query=…` (`email:x`, `external_id:x` or free
/// text) or `?external_id=…` (exact, case-insensitive). A `query` goes
/// through the search index, which finds a new user only after the
/// account's search lag; `external_id` is an exact lookup and finds it at once.
pub async fn search(
    State(fake): State<FakeZendesk>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let base = base_url(&headers);
    fake.with_store(|store| {
        let matches: Vec<&User> = if let Some(external_id) = params.get("external_id") {
            store.users.values().filter(|u| eq_ci(&u.external_id, external_id)).collect()
        } else if let Some(query) = params.get("query") {
            let query = query.trim();
            let indexed = store.users.values().filter(|u| store.indexed_for_search(u.id));
            if let Some(email) = query.strip_prefix("email:") {
                let email = email.trim_matches('"');
                indexed.filter(|u| u.has_email(email)).collect()
            } else if let Some(external_id) = query.strip_prefix("external_id:") {
                let external_id = external_id.trim_matches('"');
                indexed.filter(|u| eq_ci(&u.external_id, external_id)).collect()
            } else {
                let needle = query.to_lowercase();
                indexed.filter(|u| u.name.to_lowercase().contains(&needle) || u.has_email(query)).collect()
            }
        } else {
            return Err(ApiError::BadRequest("Either query or external_id is required".into()));
        };
        let users: Vec<Value> = matches.iter().map(|u| u.to_json(&base, &store.user_fields)).collect();
        Ok(Json(json!({
            "users": users,
            "next_page": null,
            "previous_page": null,
            "count": users.len(),
        })))
    })
}

/// `GET /api/v2/users?page=N&per_page=M` (offset pagination, at most 100 per
/// page, oldest first; `role` filters as in Zendesk).
pub async fn list(
    State(fake): State<FakeZendesk>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let paging = Paging::from_query(&params)?;
    let base = base_url(&headers);
    fake.with_store(|store| {
        let matching: Vec<&User> = store.users.values().filter(|u| params.get("role").is_none_or(|r| &u.role == r)).collect();
        Ok(Json(paging.page("users", &matching, |u| u.to_json(&base, &store.user_fields), &base, "/api/v2/users.json")))
    })
}

/// `GET /api/v2/users/show_many?ids=…` or `?external_ids=…` (comma
/// separated, at most 100): the users that exist, in no promised order.
pub async fn show_many(
    State(fake): State<FakeZendesk>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let (by_external_id, list) = match (params.get("external_ids"), params.get("ids")) {
        (Some(list), _) => (true, list),
        (None, Some(list)) => (false, list),
        (None, None) => return Err(ApiError::BadRequest("Either ids or external_ids is required".into())),
    };
    let wanted: Vec<&str> = list.split(',').map(str::trim).filter(|v| !v.is_empty()).collect();
    if wanted.len() > 100 {
        return Err(ApiError::BadRequest("Too many ids: at most 100 per request".into()));
    }
    let base = base_url(&headers);
    fake.with_store(|store| {
        let users: Vec<Value> = store
            .users
            .values()
            .filter(|u| {
                if by_external_id {
                    wanted.iter().any(|w| eq_ci(&u.external_id, w))
                } else {
                    wanted.iter().any(|w| *w == u.id.to_string())
                }
            })
            .map(|u| u.to_json(&base, &store.user_fields))
            .collect();
        Ok(Json(json!({ "users": users })))
    })
}

/// `GET /api/v2/users/{id}`.
pub async fn show(
    State(fake): State<FakeZendesk>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id: u64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let base = base_url(&headers);
    fake.with_store(|store| {
        let user = store.users.get(&id).ok_or(ApiError::NotFound)?;
        Ok(Json(json!({ "user": user.to_json(&base, &store.user_fields) })))
    })
}

fn eq_ci(stored: &Option<String>, wanted: &str) -> bool {
    stored.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(wanted))
}
