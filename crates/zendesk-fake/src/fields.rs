//! Custom user and organization fields: `GET`/`POST /api/v2/user_fields` and
//! `/api/v2/organization_fields`.
//!
//! Zendesk's rules: a key holds letters, digits and underscores only, is not
//! all digits, is unique, and a deleted key can never be used again; `type`
//! is required; the list is cursor-paginated (at most 100 per page). Values
//! written to users and organizations are kept only for defined, active keys —
//! Zendesk ignores the others without an error.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::routes::{base_url, JsonBody};
use crate::store::{now, CustomField, Store};
use crate::FakeZendesk;

/// The field types Zendesk offers for user and organization fields.
const TYPES: &[&str] = &["text", "textarea", "checkbox", "date", "integer", "decimal", "regexp", "dropdown", "lookup", "multiselect"];

/// Which of the two field collections a request is about.
#[derive(Clone, Copy)]
enum Collection {
    User,
    Organization,
}

impl Collection {
    fn plural(self) -> &'static str {
        match self {
            Collection::User => "user_fields",
            Collection::Organization => "organization_fields",
        }
    }

    fn singular(self) -> &'static str {
        match self {
            Collection::User => "user_field",
            Collection::Organization => "organization_field",
        }
    }

    fn fields(self, store: &Store) -> &Vec<CustomField> {
        match self {
            Collection::User => &store.user_fields,
            Collection::Organization => &store.organization_fields,
        }
    }

    fn fields_mut(self, store: &mut Store) -> &mut Vec<CustomField> {
        match self {
            Collection::User => &mut store.user_fields,
            Collection::Organization => &mut store.organization_fields,
        }
    }
}

pub fn routes() -> Router<FakeZendesk> {
    let user = |fake, headers, query| list(Collection::User, fake, headers, query);
    let organization = |fake, headers, query| list(Collection::Organization, fake, headers, query);
    let create_user = |fake, headers, body| create(Collection::User, fake, headers, body);
    let create_organization = |fake, headers, body| create(Collection::Organization, fake, headers, body);
    Router::new()
        .route("/api/v2/user_fields", get(user).post(create_user))
        .route("/api/v2/organization_fields", get(organization).post(create_organization))
}

/// Cursor pagination as Zendesk does it: `page[size]` (≤ 100) and
/// `page[after]` (here: the id of the last field of the previous page).
async fn list(
    collection: Collection,
    State(fake): State<FakeZendesk>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let size = match params.get("page[size]") {
        None => 100,
        Some(raw) => raw.parse::<usize>().ok().filter(|n| (1..=100).contains(n)).ok_or_else(|| ApiError::BadRequest("page[size] must be between 1 and 100".into()))?,
    };
    let after: Option<u64> = match params.get("page[after]") {
        None => None,
        Some(raw) => Some(raw.parse().map_err(|_| ApiError::BadRequest("page[after] is not a cursor this endpoint gave".into()))?),
    };
    let base = base_url(&headers);
    fake.with_store(|store| {
        let rest: Vec<&CustomField> = collection.fields(store).iter().filter(|f| after.is_none_or(|a| f.id > a)).collect();
        let page: Vec<Value> = rest.iter().take(size).map(|f| f.to_json(&base, collection.plural())).collect();
        let has_more = rest.len() > size;
        let last = rest.iter().take(size).last().map(|f| f.id);
        let next = last.filter(|_| has_more).map(|id| format!("{base}/api/v2/{}.json?page[size]={size}&page[after]={id}", collection.plural()));
        Ok(Json(json!({
            collection.plural(): page,
            "meta": { "has_more": has_more, "after_cursor": last.map(|id| id.to_string()), "before_cursor": null },
            "links": { "next": next, "prev": null },
        })))
    })
}

/// `POST` `{"user_field": {"type", "key", "title", …}}` → 201 with the field.
async fn create(collection: Collection, State(fake): State<FakeZendesk>, headers: HeaderMap, JsonBody(body): JsonBody) -> Result<Response, ApiError> {
    let input = body
        .get(collection.singular())
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::BadRequest(format!("Parameter {} is required", collection.singular())))?;
    let text = |name: &str| input.get(name).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let kind = text("type").ok_or_else(|| ApiError::invalid("type", "BlankValue", "Type: cannot be blank"))?;
    if !TYPES.contains(&kind) {
        return Err(ApiError::invalid("type", "InvalidValue", format!("Type: {kind} is not a valid field type")));
    }
    let title = text("title").ok_or_else(|| ApiError::invalid("title", "BlankValue", "Title: cannot be blank"))?;
    let key = text("key").ok_or_else(|| ApiError::invalid("key", "BlankValue", "Key: cannot be blank"))?;
    check_key(key)?;
    let base = base_url(&headers);
    fake.with_store(|store| {
        let taken = collection.fields(store).iter().any(|f| f.key == key) || store.retired_field_keys.iter().any(|k| k == key);
        if taken {
            return Err(ApiError::invalid("key", "DuplicateValue", format!("Key: {key} has already been taken")));
        }
        let id = store.next_id();
        let at = now();
        let fields = collection.fields_mut(store);
        let field = CustomField {
            id,
            key: key.to_owned(),
            kind: kind.to_owned(),
            title: title.to_owned(),
            description: text("description").unwrap_or_default().to_owned(),
            active: input.get("active").and_then(Value::as_bool).unwrap_or(true),
            position: fields.len() as u64,
            custom_field_options: input.get("custom_field_options").and_then(Value::as_array).cloned().unwrap_or_default(),
            created_at: at,
            updated_at: at,
        };
        let rendered = field.to_json(&base, collection.plural());
        fields.push(field);
        let location = format!("{base}/api/v2/{}/{id}.json", collection.plural());
        Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(json!({ collection.singular(): rendered }))).into_response())
    })
}

/// Letters, digits and underscores; not digits only.
fn check_key(key: &str) -> Result<(), ApiError> {
    if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(ApiError::invalid("key", "InvalidFormat", format!("Key: {key} is invalid: use only letters, numbers and underscores")));
    }
    if key.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid("key", "InvalidFormat", format!("Key: {key} is invalid: it cannot be only numbers")));
    }
    Ok(())
}
