//! The executor: performs the core's typed operations against Zendesk and
//! Zendesk Connect with the semantics the product documents require:
//! ambiguous email matches are never updated, "already a member" is success,
//! custom fields are checked against a cached field list (created only when
//! the settings say so), tickets carry an Idempotency-Key, tags are added or
//! removed without losing agents' tags, bulk import when Zendesk enabled it.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value as Json};
use thiserror::Error;
use tokio::sync::Mutex;
use zendesk_analytics_core::zendesk::{Organization, OrganizationRef, TagChange, TicketChanges, User, UserEvent, UserMatch, UserRef};
use zendesk_analytics_core::{ConnectOp, Value, ZendeskOp};

use crate::known_ids::KnownIds;
use crate::zendesk::{Answer, ApiClient, ZendeskError};

/// Why an operation did not complete.
#[derive(Debug, Error)]
pub enum OpError {
    #[error(transparent)]
    Zendesk(#[from] ZendeskError),
    /// Not sent, on purpose, and final: the sentence says why and what to do.
    #[error("{0}")]
    Refused(String),
    /// Something the operation needs is not visible in Zendesk yet (its
    /// search index is eventually consistent): retried with backoff.
    #[error("{0}")]
    NotYet(String),
}

impl OpError {
    pub fn is_retryable(&self) -> bool {
        match self {
            OpError::Zendesk(e) => e.is_retryable(),
            OpError::NotYet(_) => true,
            OpError::Refused(_) => false,
        }
    }

    /// Whether the operation may have been carried out despite the error
    /// (see [`ZendeskError::may_have_taken_effect`]); refusals and "not yet"
    /// are decided before anything is sent.
    pub fn may_have_taken_effect(&self) -> bool {
        match self {
            OpError::Zendesk(e) => e.may_have_taken_effect(),
            OpError::NotYet(_) | OpError::Refused(_) => false,
        }
    }
}

/// One operation of an event, for either destination.
#[derive(Debug, Clone)]
pub enum Op {
    Zendesk(ZendeskOp),
    Connect(ConnectOp),
}

impl Op {
    /// Operations whose repetition would be visible (a second user event or
    /// Connect track): their start is recorded, and one left "in doubt" (by
    /// a crash, a timeout or a lost answer) is checked before it is sent again.
    pub fn creates_a_record(&self) -> bool {
        matches!(self, Op::Zendesk(ZendeskOp::CreateUserEvent { .. }) | Op::Connect(ConnectOp::Track { .. }))
    }
}

/// Events for a profile named by an identifier rather than a user id.
const PROFILE_EVENTS: &str = "/api/v2/user_profiles/events.json";

/// How long the custom field lists are trusted (Zendesk asks clients to cache them).
const FIELD_CACHE_TTL: Duration = Duration::from_secs(300);
/// `create_or_update_many` takes at most 100 users per job.
pub const BULK_CHUNK: usize = 100;
/// Zendesk queues at most 30 jobs per account.
pub const MAX_JOBS_IN_FLIGHT: usize = 30;

/// Custom fields of one kind (user or organization), listed once and cached.
struct FieldCache {
    /// `user_field` / `organization_field`.
    singular: &'static str,
    /// `user_fields` / `organization_fields`.
    plural: &'static str,
    keys: Mutex<Option<(Instant, BTreeSet<String>)>>,
}

pub struct Executor {
    zendesk: ApiClient,
    connect: Option<ApiClient>,
    user_fields: FieldCache,
    organization_fields: FieldCache,
    /// Cleared on the first 403 from a bulk endpoint: the account does not
    /// have bulk import, and single calls are used from then on.
    bulk_available: AtomicBool,
    known: KnownIds,
}

/// One record of a bulk job and the external_id it is known by.
struct BulkRecord {
    body: Json,
    external_id: Option<String>,
}

#[derive(Clone, Copy)]
enum BulkKind {
    Users,
    Organizations,
    Memberships,
}

impl BulkKind {
    /// The key the records are sent under.
    fn plural(self) -> &'static str {
        match self {
            BulkKind::Users => "users",
            BulkKind::Organizations => "organizations",
            BulkKind::Memberships => "organization_memberships",
        }
    }

    /// The metrics label of the submit call.
    fn endpoint(self) -> &'static str {
        match self {
            BulkKind::Users => "users/create_or_update_many",
            BulkKind::Organizations => "organizations/create_or_update_many",
            BulkKind::Memberships => "organization_memberships/create_many",
        }
    }

    /// Remembers the id of a record known by external_id (memberships have none).
    fn learn(self, known: &KnownIds, external_id: &str, id: i64) {
        match self {
            BulkKind::Users => known.learn_user(external_id, id),
            BulkKind::Organizations => known.learn_organization(external_id, id),
            BulkKind::Memberships => {}
        }
    }
}

/// What became of one record in a bulk job.
#[derive(Debug)]
pub enum BulkResult {
    Done,
    Failed(String),
}

impl Executor {
    pub fn new(zendesk: ApiClient, connect: Option<ApiClient>, bulk_import: bool) -> Executor {
        let cache = |singular, plural| FieldCache { singular, plural, keys: Mutex::new(None) };
        Executor {
            zendesk,
            connect,
            user_fields: cache("user_field", "user_fields"),
            organization_fields: cache("organization_field", "organization_fields"),
            bulk_available: AtomicBool::new(bulk_import),
            known: KnownIds::default(),
        }
    }

    /// The Zendesk id of an organization already learned from an answer.
    pub fn organization_known(&self, external_id: &str) -> Option<i64> {
        self.known.organization(external_id)
    }

    pub fn bulk_enabled(&self) -> bool {
        self.bulk_available.load(Ordering::Relaxed)
    }

    /// Performs one operation. `in_doubt`: a previous attempt may have
    /// reached Zendesk without the proxy learning so; check before repeating.
    pub async fn perform(&self, op: &Op, in_doubt: bool) -> Result<(), OpError> {
        match op {
            Op::Zendesk(op) => self.zendesk(op, in_doubt).await,
            Op::Connect(op) => self.connect(op).await,
        }
    }

    async fn zendesk(&self, op: &ZendeskOp, in_doubt: bool) -> Result<(), OpError> {
        match op {
            ZendeskOp::UpsertUser { user, match_on, organization_id, create_missing_fields } => {
                self.upsert_user(user, match_on, *organization_id, *create_missing_fields).await
            }
            ZendeskOp::AddOrganizationMembership { user, organization } => {
                let user_id = self.user_id(user).await?;
                let organization_id = self.organization_id(organization).await?;
                let result = self.add_membership(user_id, organization_id).await;
                if let Err(OpError::Zendesk(ZendeskError::Status { status: 404 | 422, message, .. })) = &result {
                    if self.forget(user, organization) {
                        return Err(OpError::NotYet(format!("{message}; searching Zendesk again for the user and organization")));
                    }
                }
                result
            }
            ZendeskOp::RemoveOrganizationMembership { user, organization } => {
                let user_id = self.user_id(user).await?;
                let organization_id = self.organization_id(organization).await?;
                let path = format!("/api/v2/users/{user_id}/organizations/{organization_id}.json");
                let result = self.zendesk.call(Method::DELETE, "users/organizations/delete", &path, None, None).await;
                // Whatever the answer, the membership may be gone: a later
                // group call must not trust that it exists.
                self.known.forget_membership(user_id, organization_id);
                match result {
                    // Not a member (any more): the goal is reached.
                    Ok(_) | Err(ZendeskError::Status { status: 404, .. }) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            }
            ZendeskOp::MakeEmailPrimary { user, email } => {
                let user_id = self.user_id(user).await?;
                self.make_primary(user_id, email).await
            }
            ZendeskOp::UpsertOrganization { organization, create_missing_fields } => {
                let mut body = serde_json::to_value(organization).map_err(bad)?;
                self.keep_known_fields(&self.organization_fields, &mut body, *create_missing_fields).await?;
                if self.known.organization_just_written(&body) {
                    return Ok(());
                }
                let request = json!({ "organization": body });
                let answer = self
                    .zendesk
                    .call(Method::POST, "organizations/create_or_update", "/api/v2/organizations/create_or_update.json", Some(&request), None)
                    .await?;
                if let Some(id) = answer.body.pointer("/organization/id").and_then(Json::as_i64) {
                    self.known.learn_organization(&organization.external_id, id);
                }
                self.known.organization_written(&body);
                Ok(())
            }
            ZendeskOp::CreateTicket { ticket, idempotency_key } => {
                let body = json!({ "ticket": ticket });
                self.zendesk
                    .call(Method::POST, "tickets/create", "/api/v2/tickets.json", Some(&body), idempotency_key.as_deref())
                    .await?;
                Ok(())
            }
            ZendeskOp::UpdateTicket { ticket_id, changes } => self.update_ticket(*ticket_id, changes).await,
            ZendeskOp::CreateUserEvent { user, event } => {
                if in_doubt && self.user_event_exists(user, event).await? {
                    tracing::info!(event = %event.event_type, "user event already reached Zendesk on an earlier attempt; not sent again");
                    return Ok(());
                }
                self.create_user_event(user, event).await
            }
            ZendeskOp::MoveExternalId { from, to } => self.move_external_id(from, to).await,
            // The core may grow operations before this executor performs them;
            // such an event is dead-lettered with the reason, never dropped.
            other => Err(OpError::Zendesk(ZendeskError::Unsupported(format!("{other:?}")))),
        }
    }

    async fn connect(&self, op: &ConnectOp) -> Result<(), OpError> {
        let Some(connect) = &self.connect else {
            return Err(OpError::Refused(
                "Zendesk Connect is on for this write key but the proxy has no connect.api_key (CONNECT_API_KEY); set it, then replay".into(),
            ));
        };
        match op {
            ConnectOp::Identify(user) => {
                let mut body = serde_json::to_value(user).map_err(bad)?;
                // Outbound's wire name for Android (FCM) tokens is still `gcm`.
                if let Some(tokens) = body.as_object_mut().and_then(|b| b.remove("fcm")) {
                    body["gcm"] = tokens;
                }
                connect.call(Method::POST, "connect/identify", "/v2/identify", Some(&body), None).await?;
            }
            ConnectOp::Track { .. } => {
                let body = serde_json::to_value(op).map_err(bad)?;
                let mut body = body;
                if let Some(b) = body.as_object_mut() {
                    b.remove("op");
                }
                connect.call(Method::POST, "connect/track", "/v2/track", Some(&body), None).await?;
            }
            other => return Err(OpError::Zendesk(ZendeskError::Unsupported(format!("{other:?}")))),
        }
        Ok(())
    }

    /// Creates or updates a user, inside `organization_id` when one is given.
    ///
    /// A user known by external_id is matched on it, so other users sharing
    /// the email cannot be picked by mistake. Otherwise the email is searched
    /// first: when more than one user matches it, Zendesk's create_or_update
    /// would pick one arbitrarily, so nothing is sent. When Zendesk said
    /// moments ago that no user has the external_id, the search is skipped:
    /// only the email's one owner (emails are unique) could match.
    ///
    /// `organization_id` is only ever sent on a create-only call: on a user
    /// Zendesk matches it would replace every membership, and "no match" is
    /// never certain (Zendesk's search indexes new users minutes late, and
    /// the email may belong to a user without the external_id). A user that
    /// turns out to exist gets the membership added instead.
    pub async fn upsert_user(
        &self,
        user: &User,
        match_on: &UserMatch,
        organization_id: Option<i64>,
        create_missing_fields: bool,
    ) -> Result<(), OpError> {
        let mut body = serde_json::to_value(user).map_err(bad)?;
        self.keep_known_fields(&self.user_fields, &mut body, create_missing_fields).await?;
        let absent = match_on.external_id.as_deref().is_some_and(|e| self.known.user_absent(e));
        let mut existing = if absent { None } else { self.existing_user(match_on, organization_id.is_some()).await? };
        if let (None, Some(organization)) = (existing, organization_id) {
            if self.create_user_in(&body, match_on, organization).await? {
                return Ok(());
            }
            // Taken after all: match as create_or_update will, refusing an
            // ambiguous email (the search may still not know the user).
            existing = self.existing_user(match_on, true).await?;
        }
        let body = json!({ "user": body });
        let answer = self
            .zendesk
            .call(Method::POST, "users/create_or_update", "/api/v2/users/create_or_update.json", Some(&body), None)
            .await?;
        let written = answer.body.pointer("/user/id").and_then(Json::as_i64);
        if let (Some(id), Some(external_id)) = (written, &match_on.external_id) {
            self.known.learn_user(external_id, id);
        }
        if let Some(organization) = organization_id {
            let user_id = existing.or(written).ok_or_else(|| bad("no user.id in the create_or_update answer"))?;
            self.add_membership(user_id, organization).await?;
        }
        tracing::debug!(created = answer.status == 201, "user upserted");
        Ok(())
    }

    /// The id of the user Zendesk would match, when it has one: by
    /// external_id from memory, else by email (refusing when several users
    /// match), else — when a membership depends on it — by external_id.
    async fn existing_user(&self, match_on: &UserMatch, organization_named: bool) -> Result<Option<i64>, OpError> {
        if let Some(id) = match_on.external_id.as_deref().and_then(|e| self.known.user(e)) {
            return Ok(Some(id));
        }
        if let Some(email) = &match_on.email {
            let found = self.search_users(&format!("query={}", encode(&format!("email:\"{email}\"")))).await?;
            if found.len() > 1 {
                return Err(OpError::Refused(format!(
                    "{} Zendesk users match email {email}; no update was sent so the wrong profile is not changed — merge them in Zendesk, then replay this event",
                    found.len()
                )));
            }
            if let Some(id) = found.first().and_then(|u| u.get("id")).and_then(Json::as_i64) {
                return Ok(Some(id));
            }
        }
        match (&match_on.external_id, organization_named) {
            (Some(external_id), true) => {
                let found = self.search_users(&format!("external_id={}", encode(external_id))).await?;
                Ok(found.first().and_then(|u| u.get("id")).and_then(Json::as_i64))
            }
            _ => Ok(None),
        }
    }

    /// Creates a user Zendesk holds no record of directly inside its
    /// organization (`POST /users`, which never matches an existing user, so
    /// no other user's memberships can be replaced). Returns false when the
    /// email or external_id turns out to be taken: the caller then matches.
    async fn create_user_in(&self, body: &Json, match_on: &UserMatch, organization_id: i64) -> Result<bool, OpError> {
        let mut user = body.clone();
        user["organization_id"] = json!(organization_id);
        let body = json!({ "user": user });
        let answer = match self.zendesk.call(Method::POST, "users/create", "/api/v2/users.json", Some(&body), None).await {
            Ok(answer) => answer,
            Err(ZendeskError::Status { status: 422, message, .. }) if message.contains("already") => {
                if let Some(external_id) = &match_on.external_id {
                    self.known.forget_user(external_id);
                }
                return Ok(false);
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(id) = answer.body.pointer("/user/id").and_then(Json::as_i64) {
            if let Some(external_id) = &match_on.external_id {
                self.known.learn_user(external_id, id);
            }
            self.known.learn_membership(id, organization_id);
        }
        Ok(true)
    }

    async fn search_users(&self, query: &str) -> Result<Vec<Json>, OpError> {
        let path = format!("/api/v2/users/search.json?{query}");
        let found = self.zendesk.call(Method::GET, "users/search", &path, None, None).await?;
        Ok(found.body.get("users").and_then(Json::as_array).cloned().unwrap_or_default())
    }

    /// The Zendesk id of the one user a match names.
    async fn user_id(&self, user: &UserMatch) -> Result<i64, OpError> {
        if let Some(id) = user.external_id.as_deref().and_then(|e| self.known.user(e)) {
            return Ok(id);
        }
        let (query, named) = match (&user.external_id, &user.email) {
            (Some(id), _) => (format!("external_id={}", encode(id)), format!("external_id {id}")),
            (None, Some(email)) => (format!("query={}", encode(&format!("email:\"{email}\""))), format!("email {email}")),
            (None, None) => return Err(OpError::Refused("the operation names no user (no external_id or email)".into())),
        };
        let found = self.search_users(&query).await?;
        match found.as_slice() {
            [one] => {
                let id = one.get("id").and_then(Json::as_i64).ok_or_else(|| bad("a user without an id"))?;
                if let Some(external_id) = &user.external_id {
                    self.known.learn_user(external_id, id);
                }
                Ok(id)
            }
            [] => Err(OpError::NotYet(format!("no Zendesk user with {named} yet"))),
            many => Err(OpError::Refused(format!("{} Zendesk users match {named}; nothing was changed — merge them in Zendesk, then replay", many.len()))),
        }
    }

    /// The Zendesk id of an organization named by id or external_id.
    async fn organization_id(&self, organization: &OrganizationRef) -> Result<i64, OpError> {
        match organization {
            OrganizationRef::Id(id) => Ok(*id),
            OrganizationRef::ExternalId(external_id) => {
                if let Some(id) = self.known.organization(external_id) {
                    return Ok(id);
                }
                let path = format!("/api/v2/organizations/search.json?external_id={}", encode(external_id));
                let found = self.zendesk.call(Method::GET, "organizations/search", &path, None, None).await?;
                let list = found.body.get("organizations").and_then(Json::as_array).cloned().unwrap_or_default();
                let id = list
                    .first()
                    .and_then(|o| o.get("id"))
                    .and_then(Json::as_i64)
                    .ok_or_else(|| OpError::NotYet(format!("no Zendesk organization with external_id {external_id} yet (send a group call for it first)")))?;
                self.known.learn_organization(external_id, id);
                Ok(id)
            }
        }
    }

    /// Forgets the remembered ids an operation used; whether any was remembered.
    fn forget(&self, user: &UserMatch, organization: &OrganizationRef) -> bool {
        let mut forgot = false;
        if let Some(external_id) = &user.external_id {
            forgot |= self.known.user(external_id).is_some();
            self.known.forget_user(external_id);
        }
        if let OrganizationRef::ExternalId(external_id) = organization {
            forgot |= self.known.organization(external_id).is_some();
            self.known.forget_organization(external_id);
        }
        forgot
    }

    /// Adds a membership; "already a member" (422) is success.
    async fn add_membership(&self, user_id: i64, organization_id: i64) -> Result<(), OpError> {
        if self.known.is_member(user_id, organization_id) {
            return Ok(());
        }
        let body = json!({ "organization_membership": { "user_id": user_id, "organization_id": organization_id } });
        match self
            .zendesk
            .call(Method::POST, "organization_memberships/create", "/api/v2/organization_memberships.json", Some(&body), None)
            .await
        {
            Ok(_) => Ok(()),
            Err(ZendeskError::Status { status: 422, message, .. }) if message.to_lowercase().contains("already") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Promotes an email identity of the user to primary.
    async fn make_primary(&self, user_id: i64, email: &str) -> Result<(), OpError> {
        let path = format!("/api/v2/users/{user_id}/identities.json");
        let identities = self.zendesk.call(Method::GET, "users/identities", &path, None, None).await?;
        let identity = identities.body.get("identities").and_then(Json::as_array).and_then(|list| {
            list.iter().find(|i| {
                i.get("type").and_then(Json::as_str) == Some("email")
                    && i.get("value").and_then(Json::as_str).is_some_and(|v| v.eq_ignore_ascii_case(email))
            })
        });
        if identity.and_then(|i| i.get("primary")).and_then(Json::as_bool) == Some(true) {
            return Ok(());
        }
        let id = identity
            .and_then(|i| i.get("id"))
            .and_then(Json::as_i64)
            .ok_or_else(|| OpError::NotYet(format!("user {user_id} has no email identity {email} yet")))?;
        let path = format!("/api/v2/users/{user_id}/identities/{id}/make_primary.json");
        self.zendesk.call(Method::PUT, "users/identities/make_primary", &path, None, None).await?;
        Ok(())
    }

    /// Ticket changes; tags are added or removed with their own calls so
    /// tags set by agents survive, and `safe_update` makes Zendesk answer 409
    /// (retried) instead of overwriting a concurrent change.
    async fn update_ticket(&self, ticket_id: i64, changes: &TicketChanges) -> Result<(), OpError> {
        let mut ticket = serde_json::to_value(changes).map_err(bad)?;
        let fields = ticket.as_object_mut().ok_or_else(|| bad("ticket changes are not an object"))?;
        fields.remove("tags");
        if let Some(stamp) = fields.remove("safe_update") {
            fields.insert("safe_update".into(), Json::Bool(true));
            fields.insert("updated_stamp".into(), stamp);
        }
        if let Some(TagChange::Replace(tags)) = &changes.tags {
            fields.insert("tags".into(), json!(tags));
        }
        let meaningful = fields.keys().any(|k| k != "safe_update" && k != "updated_stamp");
        if meaningful {
            let path = format!("/api/v2/tickets/{ticket_id}.json");
            self.zendesk.call(Method::PUT, "tickets/update", &path, Some(&json!({ "ticket": ticket })), None).await?;
        }
        let path = format!("/api/v2/tickets/{ticket_id}/tags.json");
        match &changes.tags {
            Some(TagChange::Add(tags)) => {
                self.zendesk.call(Method::PUT, "tickets/tags/add", &path, Some(&json!({ "tags": tags })), None).await?;
            }
            Some(TagChange::Remove(tags)) => {
                self.zendesk.call(Method::DELETE, "tickets/tags/remove", &path, Some(&json!({ "tags": tags })), None).await?;
            }
            Some(TagChange::Replace(_)) | None => {}
        }
        Ok(())
    }

    async fn create_user_event(&self, user: &UserRef, event: &UserEvent) -> Result<(), OpError> {
        // Zendesk resolves (or creates) the profile from the identifier.
        let profile = |kind: &str, value: &str| {
            json!({ "source": event.source, "type": "customer", "identifiers": [{ "type": kind, "value": value }] })
        };
        let (path, body) = match user {
            UserRef::Id(id) => (format!("/api/v2/users/{id}/events.json"), json!({ "event": event })),
            UserRef::Email(email) => (PROFILE_EVENTS.to_owned(), json!({ "profile": profile("email", email), "event": event })),
            UserRef::ExternalId(id) => (PROFILE_EVENTS.to_owned(), json!({ "profile": profile("external_id", id), "event": event })),
        };
        self.zendesk.call(Method::POST, "user_events/create", &path, Some(&body), None).await?;
        Ok(())
    }

    /// After a crash, a timeout or a lost answer: whether this user event
    /// reached Zendesk. The user's events of that source and type are read
    /// back, every page, looking for the event's messageId (see
    /// [`mark_user_event`]); time alone cannot tell it from another event of
    /// the same type sent in the same millisecond.
    async fn user_event_exists(&self, user: &UserRef, event: &UserEvent) -> Result<bool, OpError> {
        let Some(marker) = event.properties.get(MESSAGE_ID_PROPERTY).and_then(Value::as_str) else { return Ok(false) };
        let user_id = match user {
            UserRef::Id(id) => *id,
            UserRef::Email(email) => match self.user_id(&UserMatch { email: Some(email.clone()), external_id: None }).await {
                Ok(id) => id,
                Err(OpError::NotYet(_)) => return Ok(false),
                Err(e) => return Err(e),
            },
            UserRef::ExternalId(id) => match self.user_id(&UserMatch { email: None, external_id: Some(id.clone()) }).await {
                Ok(id) => id,
                Err(OpError::NotYet(_)) => return Ok(false),
                Err(e) => return Err(e),
            },
        };
        let mut path = format!(
            "/api/v2/users/{user_id}/events.json?filter[source]={}&filter[type]={}&page[size]=100",
            encode(&event.source),
            encode(&event.event_type)
        );
        loop {
            let page = self.zendesk.call(Method::GET, "user_events/list", &path, None, None).await?;
            let found = page.body.get("data").and_then(Json::as_array).into_iter().flatten().any(|e| {
                e.get("type").and_then(Json::as_str) == Some(event.event_type.as_str())
                    && e.pointer(&format!("/properties/{MESSAGE_ID_PROPERTY}")).and_then(Json::as_str) == Some(marker)
            });
            match next_page(&page) {
                Some(next) if !found => path = next,
                _ => return Ok(found),
            }
        }
    }

    /// Alias: the user known by `from` is known by `to` from now on.
    async fn move_external_id(&self, from: &str, to: &str) -> Result<(), OpError> {
        let found = self.search_users(&format!("external_id={}", encode(from))).await?;
        let id = match found.as_slice() {
            [] => {
                tracing::info!("alias: no Zendesk user has the previous id; nothing to move");
                return Ok(());
            }
            [one] => one.get("id").and_then(Json::as_i64).ok_or_else(|| bad("a user without an id"))?,
            many => {
                return Err(OpError::Refused(format!("{} Zendesk users have external_id {from}; nothing was moved", many.len())))
            }
        };
        let path = format!("/api/v2/users/{id}.json");
        self.zendesk.call(Method::PUT, "users/update", &path, Some(&json!({ "user": { "external_id": to } })), None).await?;
        Ok(())
    }

    /// Drops (or creates, when asked) custom field keys Zendesk does not
    /// have: Zendesk would ignore them silently.
    async fn keep_known_fields(&self, cache: &FieldCache, body: &mut Json, create_missing: bool) -> Result<(), OpError> {
        let Some(Json::Object(fields)) = body.get(cache.plural).cloned() else { return Ok(()) };
        if fields.is_empty() {
            return Ok(());
        }
        let known = self.known_fields(cache).await?;
        let mut kept = serde_json::Map::new();
        for (key, value) in fields {
            if known.contains(&key) || (create_missing && self.create_field(cache, &key).await?) {
                kept.insert(key, value);
            } else {
                tracing::warn!(field = %key, kind = cache.singular, "custom field does not exist in Zendesk; value dropped (turn on createMissingCustomFields to create it)");
            }
        }
        body[cache.plural] = Json::Object(kept);
        Ok(())
    }

    async fn known_fields(&self, cache: &FieldCache) -> Result<BTreeSet<String>, OpError> {
        let mut keys_cache = cache.keys.lock().await;
        if let Some((at, keys)) = keys_cache.as_ref() {
            if at.elapsed() < FIELD_CACHE_TTL {
                return Ok(keys.clone());
            }
        }
        let mut keys = BTreeSet::new();
        let mut path = format!("/api/v2/{}.json?page[size]=100", cache.plural);
        loop {
            let page: Answer = self.zendesk.call(Method::GET, cache.plural, &path, None, None).await?;
            for field in page.body.get(cache.plural).and_then(Json::as_array).into_iter().flatten() {
                if let Some(key) = field.get("key").and_then(Json::as_str) {
                    keys.insert(key.to_owned());
                }
            }
            match next_page(&page) {
                Some(next) => path = next,
                None => break,
            }
        }
        *keys_cache = Some((Instant::now(), keys.clone()));
        Ok(keys)
    }

    /// Creates a text field named after its key. Returns whether it exists now.
    async fn create_field(&self, cache: &FieldCache, key: &str) -> Result<bool, OpError> {
        let body = json!({ cache.singular: { "type": "text", "key": key, "title": key, "active": true } });
        let path = format!("/api/v2/{}.json", cache.plural);
        match self.zendesk.call(Method::POST, "custom_fields/create", &path, Some(&body), None).await {
            Ok(_) => {
                if let Some((_, keys)) = cache.keys.lock().await.as_mut() {
                    keys.insert(key.to_owned());
                }
                Ok(true)
            }
            // Zendesk refuses keys outside its rules; the value is dropped, not the event.
            Err(ZendeskError::Status { status: 422, message, .. }) => {
                tracing::warn!(field = %key, error = %message, "Zendesk refused to create the custom field; value dropped");
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `create_or_update_many` for users, each with the organization to join
    /// (a membership added after the job, in bulk: `organization_id` on the
    /// user would replace the memberships of one Zendesk matches by email).
    /// `Ok(None)`: this account has no bulk import (403); use single calls.
    pub async fn upsert_users_bulk(&self, users: &[(User, bool, Option<i64>)]) -> Result<Option<Vec<BulkResult>>, OpError> {
        let mut records = Vec::with_capacity(users.len());
        for (user, create_missing_fields, _) in users {
            let mut body = serde_json::to_value(user).map_err(bad)?;
            self.keep_known_fields(&self.user_fields, &mut body, *create_missing_fields).await?;
            records.push(BulkRecord { body, external_id: user.external_id.clone() });
        }
        let results = self.upsert_many(BulkKind::Users, &records).await?;
        if let Some(results) = &results {
            let joins: Vec<(i64, i64)> = users
                .iter()
                .zip(results)
                .filter(|(_, result)| matches!(result, BulkResult::Done))
                .filter_map(|((user, _, organization_id), _)| {
                    Some((self.known.user(user.external_id.as_deref()?)?, (*organization_id)?))
                })
                .collect();
            self.join_organizations_bulk(&joins).await;
        }
        Ok(results)
    }

    /// `organization_memberships/create_many` for (user id, organization id)
    /// pairs, each remembered once made (or found already made), so the
    /// group calls that named them need no request. A failure costs only
    /// requests: those group calls then add their memberships one by one.
    async fn join_organizations_bulk(&self, joins: &[(i64, i64)]) {
        if joins.is_empty() {
            return;
        }
        let records: Vec<BulkRecord> = joins
            .iter()
            .map(|(user_id, organization_id)| BulkRecord { body: json!({ "user_id": user_id, "organization_id": organization_id }), external_id: None })
            .collect();
        match self.upsert_many(BulkKind::Memberships, &records).await {
            Ok(Some(results)) => {
                for ((user_id, organization_id), result) in joins.iter().zip(results) {
                    let member = match result {
                        BulkResult::Done => true,
                        BulkResult::Failed(reason) => reason.to_lowercase().contains("already"),
                    };
                    if member {
                        self.known.learn_membership(*user_id, *organization_id);
                    }
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "adding memberships in bulk failed; the group calls add them one by one"),
        }
    }

    /// `create_or_update_many` for organizations; each one written is
    /// remembered as such, so the group calls that named it need no request.
    pub async fn upsert_organizations_bulk(&self, organizations: &[(Organization, bool)]) -> Result<Option<Vec<BulkResult>>, OpError> {
        let mut records = Vec::with_capacity(organizations.len());
        for (organization, create_missing_fields) in organizations {
            let mut body = serde_json::to_value(organization).map_err(bad)?;
            self.keep_known_fields(&self.organization_fields, &mut body, *create_missing_fields).await?;
            records.push(BulkRecord { body, external_id: Some(organization.external_id.clone()) });
        }
        let results = self.upsert_many(BulkKind::Organizations, &records).await?;
        for (record, result) in records.iter().zip(results.iter().flatten()) {
            if matches!(result, BulkResult::Done) {
                self.known.organization_written(&record.body);
            }
        }
        Ok(results)
    }

    /// Asks Zendesk (`show_many`, 100 at a time) about the external ids it
    /// has not been asked about lately, remembering each user found and each
    /// id no user has — one request per hundred users instead of a search each.
    pub async fn look_up_users<'a>(&self, external_ids: impl IntoIterator<Item = &'a str>) -> Result<(), OpError> {
        let unknown: BTreeSet<String> = external_ids
            .into_iter()
            .filter(|e| self.known.user(e).is_none() && !self.known.user_absent(e))
            .map(str::to_lowercase)
            .collect();
        let unknown: Vec<String> = unknown.into_iter().collect();
        for chunk in unknown.chunks(BULK_CHUNK) {
            let ids: Vec<String> = chunk.iter().map(|id| encode(id)).collect();
            let path = format!("/api/v2/users/show_many.json?external_ids={}", ids.join(","));
            let answer = self.zendesk.call(Method::GET, "users/show_many", &path, None, None).await?;
            for user in answer.body.get("users").and_then(Json::as_array).into_iter().flatten() {
                if let (Some(id), Some(external_id)) = (user.get("id").and_then(Json::as_i64), user.get("external_id").and_then(Json::as_str)) {
                    self.known.learn_user(external_id, id);
                }
            }
            for external_id in chunk.iter().filter(|e| self.known.user(e).is_none()) {
                self.known.learn_absent_user(external_id);
            }
        }
        Ok(())
    }

    /// Whether Zendesk said moments ago that no user has this external_id.
    pub fn user_absent(&self, external_id: &str) -> bool {
        self.known.user_absent(external_id)
    }

    /// Submits up to [`MAX_JOBS_IN_FLIGHT`] jobs of [`BULK_CHUNK`] records,
    /// polls them, and returns one result per record, remembering the id of
    /// each record written.
    async fn upsert_many(&self, kind: BulkKind, records: &[BulkRecord]) -> Result<Option<Vec<BulkResult>>, OpError> {
        if !self.bulk_enabled() {
            return Ok(None);
        }
        let plural = kind.plural();
        let path = format!("/api/v2/{}.json", kind.endpoint());
        let mut jobs = Vec::new();
        for chunk in records.chunks(BULK_CHUNK).take(MAX_JOBS_IN_FLIGHT) {
            let bodies: Vec<&Json> = chunk.iter().map(|r| &r.body).collect();
            let body = json!({ plural: bodies });
            let answer = match self.zendesk.call(Method::POST, kind.endpoint(), &path, Some(&body), None).await {
                Ok(answer) => answer,
                Err(ZendeskError::Status { status: 403, message, .. }) if jobs.is_empty() => {
                    tracing::warn!(error = %message, "bulk import is not enabled for this Zendesk account; using single calls");
                    self.bulk_available.store(false, Ordering::Relaxed);
                    return Ok(None);
                }
                Err(e) => return Err(e.into()),
            };
            let id = answer
                .body
                .pointer("/job_status/id")
                .and_then(|v| v.as_str().map(str::to_owned).or_else(|| v.as_i64().map(|i| i.to_string())))
                .ok_or_else(|| bad("no job_status.id in the create_or_update_many answer"))?;
            jobs.push((id, chunk));
        }
        let mut results = Vec::with_capacity(records.len());
        for (id, chunk) in jobs {
            results.extend(self.await_job(&id, kind, chunk).await?);
        }
        Ok(Some(results))
    }

    /// Polls `GET /api/v2/job_statuses/{id}` until the job is done.
    async fn await_job(&self, id: &str, kind: BulkKind, chunk: &[BulkRecord]) -> Result<Vec<BulkResult>, OpError> {
        let size = chunk.len();
        let path = format!("/api/v2/job_statuses/{id}.json");
        let mut delay = Duration::from_millis(200);
        loop {
            let answer = self.zendesk.call(Method::GET, "job_statuses", &path, None, None).await?;
            let job = answer.body.get("job_status").cloned().unwrap_or(Json::Null);
            match job.get("status").and_then(Json::as_str) {
                Some("completed") => {
                    let mut out: Vec<BulkResult> = (0..size).map(|_| BulkResult::Done).collect();
                    for (position, item) in job.get("results").and_then(Json::as_array).into_iter().flatten().enumerate() {
                        let index = item.get("index").and_then(Json::as_u64).map_or(position, |i| i as usize);
                        let written = item.get("id").and_then(Json::as_i64);
                        if let (Some(id), Some(external_id)) = (written, chunk.get(index).and_then(|r| r.external_id.as_deref())) {
                            kind.learn(&self.known, external_id, id);
                        }
                        let failed = item.get("error").or_else(|| item.get("errors")).filter(|e| !e.is_null());
                        if let (Some(error), Some(slot)) = (failed, out.get_mut(index)) {
                            let detail = item.get("details").and_then(Json::as_str).unwrap_or_default();
                            let error = error.as_str().map_or_else(|| error.to_string(), str::to_owned);
                            *slot = BulkResult::Failed(format!("bulk import: {error} {detail}").trim().to_owned());
                        }
                    }
                    return Ok(out);
                }
                Some("failed") | Some("killed") => {
                    let message = job.get("message").and_then(Json::as_str).unwrap_or("the bulk job failed");
                    return Err(ZendeskError::Status { status: 500, message: format!("job {id}: {message}"), retry_after: None }.into());
                }
                _ => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

fn bad(e: impl std::fmt::Display) -> OpError {
    OpError::Zendesk(ZendeskError::BadResponse(e.to_string()))
}

/// The path of the next page of a cursor-paginated list (`meta.has_more`,
/// `links.next`), if there is one.
fn next_page(page: &Answer) -> Option<String> {
    let more = page.body.pointer("/meta/has_more").and_then(Json::as_bool).unwrap_or(false);
    let next = page.body.pointer("/links/next").and_then(Json::as_str)?;
    next.find("/api/v2/").map(|i| next[i..].to_owned()).filter(|_| more)
}

/// The property that carries the event's messageId into Zendesk.
pub const MESSAGE_ID_PROPERTY: &str = "messageId";

/// The user event as sent. It carries its messageId as a property, so an
/// attempt whose outcome is unknown can be recognised among the user's
/// events; `created_at` is filled from the time the proxy accepted the event
/// when the client gave no timestamp, so every attempt sends the same event.
pub fn mark_user_event(event: &mut UserEvent, message_id: &str, received_at_ms: i64) {
    event.properties.insert(MESSAGE_ID_PROPERTY.to_owned(), Value::from(message_id));
    if event.created_at.is_none() {
        let at = std::time::UNIX_EPOCH + Duration::from_millis(received_at_ms.max(0) as u64);
        event.created_at = Some(humantime::format_rfc3339_millis(at).to_string());
    }
}

/// Query-string encoding: a `+` in an email must not become a space (one of
/// the peers' lookup bugs).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_signs_in_emails_survive_the_query_string() {
        assert_eq!(encode("email:\"a+b@x.io\""), "email%3A%22a%2Bb%40x.io%22");
    }
}
