//! The fake account's data, in memory.
//!
//! Every record carries `created_at` / `updated_at` as Unix seconds (rendered
//! as ISO-8601 by [`iso`]) so the incremental-export endpoints can select by
//! time the way Zendesk does. Tickets keep a full audit history (who changed
//! what, when): Zendesk's ticket audits and incremental ticket events are both
//! views of it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

/// Unix seconds.
pub type Timestamp = i64;

/// Now, in Unix seconds.
pub fn now() -> Timestamp {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A timestamp as Zendesk writes it (ISO-8601, whole seconds, UTC).
pub fn iso(ts: Timestamp) -> String {
    let time = UNIX_EPOCH + std::time::Duration::from_secs(ts.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}

/// A user identity (Zendesk keeps every email of a user as one).
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub id: u64,
    pub user_id: u64,
    /// `email`, `phone_number`, `external_id`-like identifiers from profiles…
    pub kind: String,
    pub value: String,
    pub primary: bool,
    pub verified: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Identity {
    pub fn to_json(&self, base_url: &str) -> Value {
        json!({
            "id": self.id,
            "url": format!("{base_url}/api/v2/users/{}/identities/{}.json", self.user_id, self.id),
            "user_id": self.user_id,
            "type": self.kind,
            "value": self.value,
            "primary": self.primary,
            "verified": self.verified,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        })
    }
}

/// A Zendesk user.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub external_id: Option<String>,
    pub phone: Option<String>,
    pub time_zone: String,
    pub locale: String,
    /// The default organization (Zendesk shows the first membership here).
    pub organization_id: Option<u64>,
    /// `end-user`, `agent` or `admin`.
    pub role: String,
    pub verified: bool,
    pub active: bool,
    pub suspended: bool,
    pub tags: Vec<String>,
    pub details: Option<String>,
    pub notes: Option<String>,
    pub alias: Option<String>,
    /// Values of defined user fields only (Zendesk drops unknown keys).
    pub user_fields: Map<String, Value>,
    pub identities: Vec<Identity>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl User {
    /// The primary email, which Zendesk shows as `email`.
    pub fn email(&self) -> Option<&str> {
        self.identities
            .iter()
            .find(|i| i.kind == "email" && i.primary)
            .map(|i| i.value.as_str())
    }

    pub fn has_email(&self, email: &str) -> bool {
        self.identities
            .iter()
            .any(|i| i.kind == "email" && i.value.eq_ignore_ascii_case(email))
    }

    /// The user as Zendesk's API renders it; every defined user field is
    /// present (null when unset), as in Zendesk.
    pub fn to_json(&self, base_url: &str, fields: &[CustomField]) -> Value {
        json!({
            "id": self.id,
            "url": format!("{base_url}/api/v2/users/{}.json", self.id),
            "name": self.name,
            "email": self.email(),
            "external_id": self.external_id,
            "phone": self.phone,
            "time_zone": self.time_zone,
            "locale": self.locale,
            "locale_id": 1,
            "organization_id": self.organization_id,
            "role": self.role,
            "verified": self.verified,
            "active": self.active,
            "suspended": self.suspended,
            "tags": self.tags,
            "details": self.details,
            "notes": self.notes,
            "alias": self.alias,
            "user_fields": render_fields(&self.user_fields, fields),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        })
    }
}

/// A Zendesk organization.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: u64,
    /// Unique per account (case-insensitive).
    pub name: String,
    pub external_id: Option<String>,
    pub domain_names: Vec<String>,
    pub tags: Vec<String>,
    pub details: Option<String>,
    pub notes: Option<String>,
    pub group_id: Option<u64>,
    pub shared_tickets: bool,
    pub shared_comments: bool,
    pub organization_fields: Map<String, Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set when deleted (incremental exports still list deleted orgs).
    pub deleted_at: Option<Timestamp>,
}

impl Organization {
    pub fn to_json(&self, base_url: &str, fields: &[CustomField]) -> Value {
        json!({
            "id": self.id,
            "url": format!("{base_url}/api/v2/organizations/{}.json", self.id),
            "name": self.name,
            "external_id": self.external_id,
            "domain_names": self.domain_names,
            "tags": self.tags,
            "details": self.details,
            "notes": self.notes,
            "group_id": self.group_id,
            "shared_tickets": self.shared_tickets,
            "shared_comments": self.shared_comments,
            "organization_fields": render_fields(&self.organization_fields, fields),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "deleted_at": self.deleted_at.map(iso),
        })
    }
}

/// A user's membership of an organization.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub id: u64,
    pub user_id: u64,
    pub organization_id: u64,
    pub default: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Membership {
    pub fn to_json(&self, base_url: &str, organization_name: &str) -> Value {
        json!({
            "id": self.id,
            "url": format!("{base_url}/api/v2/organization_memberships/{}.json", self.id),
            "user_id": self.user_id,
            "organization_id": self.organization_id,
            "organization_name": organization_name,
            "default": self.default,
            "view_tickets": true,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        })
    }
}

/// A custom user or organization field definition.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomField {
    pub id: u64,
    /// Letters, digits and `_`; not digits only; unique; immutable.
    pub key: String,
    /// text, textarea, checkbox, date, integer, decimal, regexp, dropdown,
    /// lookup or multiselect.
    pub kind: String,
    pub title: String,
    pub description: String,
    pub active: bool,
    pub position: u64,
    pub custom_field_options: Vec<Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl CustomField {
    /// `collection` is `user_fields` or `organization_fields`.
    pub fn to_json(&self, base_url: &str, collection: &str) -> Value {
        json!({
            "id": self.id,
            "url": format!("{base_url}/api/v2/{collection}/{}.json", self.id),
            "key": self.key,
            "type": self.kind,
            "title": self.title,
            "raw_title": self.title,
            "description": self.description,
            "raw_description": self.description,
            "active": self.active,
            "system": false,
            "position": self.position,
            "custom_field_options": self.custom_field_options,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        })
    }
}

/// Every defined field, with the stored value or null.
fn render_fields(values: &Map<String, Value>, fields: &[CustomField]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|f| (f.key.clone(), values.get(&f.key).cloned().unwrap_or(Value::Null)))
            .collect(),
    )
}

/// A ticket comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: u64,
    pub author_id: u64,
    pub body: String,
    pub html_body: Option<String>,
    pub public: bool,
    pub created_at: Timestamp,
}

/// A Zendesk ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: u64,
    pub subject: Option<String>,
    /// The first comment's body.
    pub description: String,
    /// new, open, pending, hold, solved or closed.
    pub status: String,
    pub priority: Option<String>,
    pub kind: Option<String>,
    pub requester_id: u64,
    pub submitter_id: u64,
    pub assignee_id: Option<u64>,
    pub organization_id: Option<u64>,
    pub group_id: Option<u64>,
    pub brand_id: Option<u64>,
    pub ticket_form_id: Option<u64>,
    pub external_id: Option<String>,
    pub due_at: Option<String>,
    pub tags: Vec<String>,
    /// `{id, value}` pairs.
    pub custom_fields: Vec<Value>,
    pub collaborator_ids: Vec<u64>,
    pub comments: Vec<Comment>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Ticket {
    pub fn to_json(&self, base_url: &str) -> Value {
        json!({
            "id": self.id,
            "url": format!("{base_url}/api/v2/tickets/{}.json", self.id),
            "subject": self.subject,
            "raw_subject": self.subject,
            "description": self.description,
            "status": self.status,
            "priority": self.priority,
            "type": self.kind,
            "requester_id": self.requester_id,
            "submitter_id": self.submitter_id,
            "assignee_id": self.assignee_id,
            "organization_id": self.organization_id,
            "group_id": self.group_id,
            "brand_id": self.brand_id,
            "ticket_form_id": self.ticket_form_id,
            "external_id": self.external_id,
            "due_at": self.due_at,
            "tags": self.tags,
            "custom_fields": self.custom_fields,
            "collaborator_ids": self.collaborator_ids,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        })
    }
}

/// One change inside an audit: `Create` (initial value), `Change` (with the
/// previous value) or `Comment`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: u64,
    /// `Create`, `Change` or `Comment`.
    pub kind: String,
    /// The ticket field for Create/Change (`status`, `priority`, `tags`…).
    pub field_name: Option<String>,
    pub value: Value,
    pub previous_value: Option<Value>,
}

/// One write to a ticket: who, when, and every field it changed. Zendesk's
/// `/tickets/{id}/audits` and incremental `ticket_events` derive from these.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketAudit {
    pub id: u64,
    pub ticket_id: u64,
    pub author_id: u64,
    pub created_at: Timestamp,
    /// `api` for every write through the REST API.
    pub via: String,
    pub events: Vec<AuditEvent>,
}

impl TicketAudit {
    pub fn to_json(&self) -> Value {
        let events: Vec<Value> = self
            .events
            .iter()
            .map(|e| {
                let mut v = json!({ "id": e.id, "type": e.kind });
                match e.kind.as_str() {
                    "Comment" => {
                        v["body"] = e.value.clone();
                        v["author_id"] = json!(self.author_id);
                    }
                    _ => {
                        v["field_name"] = json!(e.field_name);
                        v["value"] = e.value.clone();
                        if let Some(previous) = &e.previous_value {
                            v["previous_value"] = previous.clone();
                        }
                    }
                }
                v
            })
            .collect();
        json!({
            "id": self.id,
            "ticket_id": self.ticket_id,
            "author_id": self.author_id,
            "created_at": iso(self.created_at),
            "via": { "channel": self.via },
            "events": events,
        })
    }
}

/// An event recorded through the User Events API.
#[derive(Debug, Clone, PartialEq)]
pub struct UserEvent {
    pub id: String,
    pub user_id: u64,
    pub profile_id: String,
    pub source: String,
    pub kind: String,
    pub description: Option<String>,
    pub properties: Value,
    /// The event's own time (`event.created_at`, else when received), as
    /// sent: Zendesk documents no rounding, so sub-second precision is kept.
    pub created_at: String,
    /// `created_at` as an instant, for ordering.
    pub occurred: SystemTime,
    pub received_at: Timestamp,
}

impl UserEvent {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "user_id": self.user_id,
            "profile_id": self.profile_id,
            "source": self.source,
            "type": self.kind,
            "description": self.description,
            "properties": self.properties,
            "created_at": self.created_at,
            "received_at": iso(self.received_at),
        })
    }
}

/// A background job (bulk import).
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    /// `bulk_create_or_update_users`, `bulk_create_or_update_organizations` or `bulk_create_organization_memberships`.
    pub job_type: String,
    /// `queued` → `completed`: Zendesk runs a job later, so the records it
    /// names change only when it runs, which the fake does at the first
    /// status poll.
    pub status: String,
    pub total: usize,
    /// The records still to write, in the order sent.
    pub pending: Vec<Value>,
    /// One result per record once the job has run.
    pub results: Vec<Value>,
    pub created_at: Timestamp,
}

impl Job {
    pub fn to_json(&self, base_url: &str) -> Value {
        let done = self.status == "completed";
        json!({
            "id": self.id,
            "url": format!("{base_url}/api/v2/job_statuses/{}.json", self.id),
            "job_type": self.job_type,
            "status": self.status,
            "total": self.total,
            "progress": if done { self.total } else { 0 },
            "message": if done { Some(format!("Completed at {}", iso(self.created_at))) } else { None },
            "results": if done { Value::Array(self.results.clone()) } else { Value::Null },
        })
    }
}

/// A Zendesk Connect (Outbound) user: the merged result of `/v2/identify`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectUser {
    pub user_id: String,
    /// Every top-level field last written (email, first_name, timezone,
    /// apns, gcm, group_id…), attributes merged key by key.
    pub fields: Map<String, Value>,
    /// `previous_id`s aliased to this user.
    pub previous_ids: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A Zendesk Connect event from `/v2/track`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectEvent {
    pub user_id: String,
    pub event: String,
    pub properties: Value,
    /// Unix seconds as sent.
    pub timestamp: Option<f64>,
    pub received_at: Timestamp,
}

/// A remembered `Idempotency-Key` on ticket creation: the same key with the
/// same body replays the first answer; with a different body it is refused.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotentRequest {
    pub body: Value,
    pub ticket_id: u64,
    pub created_at: Timestamp,
}

/// Everything the fake account holds.
#[derive(Debug, Default)]
pub struct Store {
    next_id: u64,
    pub users: BTreeMap<u64, User>,
    pub organizations: BTreeMap<u64, Organization>,
    pub memberships: BTreeMap<u64, Membership>,
    pub user_fields: Vec<CustomField>,
    pub organization_fields: Vec<CustomField>,
    /// Keys of deleted fields: Zendesk never lets them be reused.
    pub retired_field_keys: Vec<String>,
    pub tickets: BTreeMap<u64, Ticket>,
    /// Every ticket write, in order.
    pub ticket_audits: Vec<TicketAudit>,
    pub user_events: Vec<UserEvent>,
    pub jobs: BTreeMap<String, Job>,
    /// Zendesk enables bulk import per account on request; off → 403.
    pub bulk_import_disabled: bool,
    pub idempotency_keys: BTreeMap<String, IdempotentRequest>,
    pub connect_users: BTreeMap<String, ConnectUser>,
    pub connect_events: Vec<ConnectEvent>,
    // Read by the incremental exports and lists the Zendesk Source syncs.
    pub groups: BTreeMap<u64, Group>,
    pub satisfaction_ratings: BTreeMap<u64, SatisfactionRating>,
    /// Satisfaction ratings turned off for the account: Zendesk answers 403.
    pub satisfaction_ratings_disabled: bool,
    pub activities: BTreeMap<u64, Activity>,
    /// Comment attachments, by comment id.
    pub attachments: BTreeMap<u64, Vec<Attachment>>,
    /// Ticket facts only the incremental export shows, by ticket id.
    pub ticket_lifecycle: BTreeMap<u64, TicketLifecycle>,
    /// How long a new user stays out of search results (Zendesk: "it can
    /// take up to a few minutes for new … users … to be indexed for
    /// search"). Zero unless a test or `--search-lag-ms` asks for it.
    pub search_lag: Duration,
    /// Users created while a lag was set, and when search first finds them.
    pub unindexed_users: BTreeMap<u64, Instant>,
}

impl Store {
    /// A fresh id; Zendesk ids are large positive integers.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        360_000_000_000 + self.next_id
    }

    /// Whether search (`users/search?query=`) finds the user yet.
    pub fn indexed_for_search(&self, user_id: u64) -> bool {
        self.unindexed_users.get(&user_id).is_none_or(|at| Instant::now() >= *at)
    }

    pub fn user_by_external_id(&self, external_id: &str) -> Option<u64> {
        self.users
            .values()
            .find(|u| u.external_id.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(external_id)))
            .map(|u| u.id)
    }

    pub fn users_by_email(&self, email: &str) -> Vec<u64> {
        self.users.values().filter(|u| u.has_email(email)).map(|u| u.id).collect()
    }

    pub fn organization_by_external_id(&self, external_id: &str) -> Option<u64> {
        self.organizations
            .values()
            .find(|o| o.deleted_at.is_none() && o.external_id.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(external_id)))
            .map(|o| o.id)
    }

    /// A user's memberships, oldest first.
    pub fn memberships_of(&self, user_id: u64) -> Vec<&Membership> {
        self.memberships.values().filter(|m| m.user_id == user_id).collect()
    }

    /// Keeps `organization_id` on the user equal to its default membership.
    pub fn sync_default_organization(&mut self, user_id: u64) {
        let default = self
            .memberships
            .values()
            .filter(|m| m.user_id == user_id)
            .find(|m| m.default)
            .or_else(|| self.memberships.values().find(|m| m.user_id == user_id))
            .map(|m| m.organization_id);
        if let Some(user) = self.users.get_mut(&user_id) {
            user.organization_id = default;
        }
    }

    /// The keys a write to `user_fields` / `organization_fields` may set.
    pub fn defined_keys(fields: &[CustomField]) -> impl Fn(&str) -> bool + '_ {
        move |key| fields.iter().any(|f| f.active && f.key == key)
    }
}

/// A Zendesk group of agents. Deleted groups stay, flagged `deleted`.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub default: bool,
    pub is_public: bool,
    pub deleted: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A customer satisfaction rating of a solved ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct SatisfactionRating {
    pub id: u64,
    pub ticket_id: u64,
    pub requester_id: u64,
    pub assignee_id: Option<u64>,
    pub group_id: Option<u64>,
    /// `offered`, `good` or `bad`.
    pub score: String,
    pub comment: Option<String>,
    pub reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An activity-stream entry for an agent (Zendesk keeps 30 days of them).
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: u64,
    /// `tickets.assignment` or `tickets.comment`.
    pub verb: String,
    pub title: String,
    /// The agent the activity is for.
    pub user_id: u64,
    /// Who did it.
    pub actor_id: u64,
    pub ticket_id: u64,
    pub created_at: Timestamp,
}

/// A file attached to a comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub id: u64,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub inline: bool,
}

/// What the incremental ticket export knows beyond the ticket itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketLifecycle {
    /// Last system update (SLA, automation) that moved `generated_timestamp`
    /// but not `updated_at`.
    pub system_updated_at: Option<Timestamp>,
    /// Soft deletion: the export shows the ticket with status `deleted`.
    pub deleted_at: Option<Timestamp>,
}
