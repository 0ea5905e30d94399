//! Bulk import: `create_or_update_many` for users and organizations,
//! `organization_memberships/create_many`, and the job statuses that report
//! on them. Memberships created in bulk add to a user's others (unlike
//! `organization_id` on a user, which replaces them); one the user already
//! has is reported as that record's error.
//!
//! Zendesk takes at most 100 records per job, queues at most 30 jobs per
//! account (429 beyond), answers 403 on accounts without bulk import, and
//! reports one result per record — `{id, index, action, status}` or
//! `{index, error, details}` — once the job has run.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::routes::{base_url, JsonBody};
use crate::store::{now, Job, Store};
use crate::{memberships, organizations, users, FakeZendesk};

pub const MAX_RECORDS_PER_JOB: usize = 100;
pub const MAX_QUEUED_JOBS: usize = 30;

#[derive(Clone, Copy)]
enum Kind {
    Users,
    Organizations,
    Memberships,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Users, Kind::Organizations, Kind::Memberships];

    fn plural(self) -> &'static str {
        match self {
            Kind::Users => "users",
            Kind::Organizations => "organizations",
            Kind::Memberships => "organization_memberships",
        }
    }

    /// Zendesk's `job_type` for a job of this kind.
    fn job_type(self) -> &'static str {
        match self {
            Kind::Users => "bulk_create_or_update_users",
            Kind::Organizations => "bulk_create_or_update_organizations",
            Kind::Memberships => "bulk_create_organization_memberships",
        }
    }

    /// Writes one record; `(id, created)` or Zendesk's error and details.
    fn upsert(self, store: &mut Store, input: &Map<String, Value>) -> Result<(u64, bool), ApiError> {
        match self {
            Kind::Users => users::upsert(store, input).map(|(u, created)| (u.id, created)),
            Kind::Organizations => organizations::upsert(store, input).map(|(o, created)| (o.id, created)),
            Kind::Memberships => {
                let id_of = |key: &str| input.get(key).and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()));
                let (Some(user_id), Some(organization_id)) = (id_of("user_id"), id_of("organization_id")) else {
                    return Err(ApiError::invalid("user_id", "BlankValue", "User: cannot be blank; Organization: cannot be blank"));
                };
                memberships::add(store, user_id, organization_id).map(|m| (m.id, true))
            }
        }
    }
}

impl FakeZendesk {
    /// Turns bulk import on or off for the account (Zendesk enables it on
    /// request; off, `create_or_update_many` answers 403).
    pub fn set_bulk_import(&self, enabled: bool) {
        self.with_store(|store| store.bulk_import_disabled = !enabled);
    }
}

pub fn routes() -> Router<FakeZendesk> {
    Router::new()
        .route("/api/v2/users/create_or_update_many", post(users_many))
        .route("/api/v2/organizations/create_or_update_many", post(organizations_many))
        .route("/api/v2/organization_memberships/create_many", post(memberships_many))
        .route("/api/v2/job_statuses/{id}", get(job_status))
}

async fn users_many(fake: State<FakeZendesk>, headers: HeaderMap, body: JsonBody) -> Result<Json<Value>, ApiError> {
    submit(fake, headers, body, Kind::Users).await
}

async fn organizations_many(fake: State<FakeZendesk>, headers: HeaderMap, body: JsonBody) -> Result<Json<Value>, ApiError> {
    submit(fake, headers, body, Kind::Organizations).await
}

async fn memberships_many(fake: State<FakeZendesk>, headers: HeaderMap, body: JsonBody) -> Result<Json<Value>, ApiError> {
    submit(fake, headers, body, Kind::Memberships).await
}

async fn submit(State(fake): State<FakeZendesk>, headers: HeaderMap, JsonBody(body): JsonBody, kind: Kind) -> Result<Json<Value>, ApiError> {
    let records = body
        .get(kind.plural())
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ApiError::BadRequest(format!("Parameter {} is required and must be a non-empty array", kind.plural())))?;
    if records.len() > MAX_RECORDS_PER_JOB {
        return Err(ApiError::BadRequest(format!("Too many {}: at most {MAX_RECORDS_PER_JOB} per request", kind.plural())));
    }
    let base = base_url(&headers);
    fake.with_store(|store| {
        if store.bulk_import_disabled {
            return Err(ApiError::Forbidden("Bulk import is not enabled for this account".into()));
        }
        let queued = store.jobs.values().filter(|j| j.status == "queued").count();
        if queued >= MAX_QUEUED_JOBS {
            return Err(ApiError::Raw(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"error": "TooManyJobs", "description": format!("Number of allowed queued jobs ({MAX_QUEUED_JOBS}) exceeded")}),
            ));
        }
        let id = format!("V3-{:x}", store.next_id());
        let job = Job {
            id: id.clone(),
            job_type: kind.job_type().to_owned(),
            status: "queued".into(),
            total: records.len(),
            pending: records.clone(),
            results: Vec::new(),
            created_at: now(),
        };
        let answer = json!({ "job_status": job.to_json(&base) });
        store.jobs.insert(id, job);
        Ok(Json(answer))
    })
}

/// `GET /api/v2/job_statuses/{id}`: a queued job runs now and reports.
async fn job_status(State(fake): State<FakeZendesk>, headers: HeaderMap, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let base = base_url(&headers);
    fake.with_store(|store| {
        let job = store.jobs.get_mut(&id).ok_or(ApiError::NotFound)?;
        let pending = std::mem::take(&mut job.pending);
        let kind = Kind::ALL.into_iter().find(|k| k.job_type() == job.job_type);
        if let (Some(kind), "queued") = (kind, job.status.as_str()) {
            let results = run(store, kind, &pending);
            if let Some(job) = store.jobs.get_mut(&id) {
                job.results = results;
                job.status = "completed".into();
            }
        }
        Ok(Json(json!({ "job_status": store.jobs[&id].to_json(&base) })))
    })
}

fn run(store: &mut Store, kind: Kind, records: &[Value]) -> Vec<Value> {
    records
        .iter()
        .enumerate()
        .map(|(index, record)| {
            let Some(input) = record.as_object() else {
                return json!({ "index": index, "error": "InvalidValue", "details": "not an object" });
            };
            match kind.upsert(store, input) {
                Ok((id, created)) => json!({
                    "id": id,
                    "index": index,
                    "action": if created { "create" } else { "update" },
                    "status": if created { "Created" } else { "Updated" },
                    "success": true,
                }),
                Err(e) => json!({ "index": index, "error": e.code(), "details": e.description() }),
            }
        })
        .collect()
}
