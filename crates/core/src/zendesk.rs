//! Typed Zendesk Support operations: what the proxy's executor performs.
//!
//! Each operation carries everything the executor needs, including the keys it
//! must match on, so that rules such as "if multiple users match the email, no
//! update is submitted" can be enforced where the Zendesk state is visible.
//! Decisions that need Zendesk state (does this custom field exist? does this
//! user exist yet?) travel on the operation as flags for the executor.

use serde::Serialize;

use crate::value::Map;

/// One call (or small, fixed sequence of calls) against the Zendesk Support API.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ZendeskOp {
    /// `POST /api/v2/users/create_or_update.json`, matched on email or external_id.
    UpsertUser {
        user: User,
        /// The keys the user is matched on; more than one match → no update.
        match_on: UserMatch,
        /// `traits.organizationId` (a Zendesk organization id). Written as
        /// `organization_id` only when the user is created: on an existing
        /// user Zendesk would replace every membership with this one, so the
        /// executor adds a membership instead.
        #[serde(skip_serializing_if = "Option::is_none")]
        organization_id: Option<i64>,
        /// `user_fields` keys Zendesk does not have yet: create them as text
        /// fields first (true) or drop them with a logged reason (false).
        create_missing_fields: bool,
    },
    /// `POST /api/v2/organization_memberships.json`; "already a member" (422)
    /// counts as done.
    AddOrganizationMembership { user: UserMatch, organization: OrganizationRef },
    /// `DELETE /api/v2/users/{user_id}/organizations/{organization_id}.json`;
    /// "not a member" counts as done. Zendesk then unassigns the user's
    /// working tickets from that organization.
    RemoveOrganizationMembership { user: UserMatch, organization: OrganizationRef },
    /// `PUT /api/v2/users/{id}/identities/{identity_id}/make_primary.json`:
    /// Zendesk adds an email written on an existing user as a secondary
    /// identity; this promotes it.
    MakeEmailPrimary { user: UserMatch, email: String },
    /// `POST /api/v2/organizations/create_or_update.json`, matched on external_id.
    UpsertOrganization {
        organization: Organization,
        /// As for users: create unknown `organization_fields` keys first, or drop them.
        create_missing_fields: bool,
    },
    /// `POST /api/v2/tickets.json`.
    CreateTicket {
        ticket: NewTicket,
        /// The event's messageId: a retried delivery must not open a second ticket.
        #[serde(skip_serializing_if = "Option::is_none")]
        idempotency_key: Option<String>,
    },
    /// `PUT /api/v2/tickets/{id}.json` (and `/tags.json` for tag changes).
    UpdateTicket { ticket_id: i64, changes: TicketChanges },
    /// `POST /api/v2/users/{id}/events` when the Zendesk user id is known,
    /// else `POST /api/v2/user_profiles/events` with the email or external_id.
    CreateUserEvent { user: UserRef, event: UserEvent },
    /// Alias: find the user whose external_id is `from` and set it to `to`
    /// (`GET /users/search?external_id=` then `PUT /users/{id}`).
    MoveExternalId { from: String, to: String },
}

/// How a user is found in Zendesk.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UserMatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

/// The one key a user event names its user by, in the order the rules prefer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserRef {
    /// `context.zendesk_user_id`.
    Id(i64),
    /// `properties.email`.
    Email(String),
    /// The event's userId.
    ExternalId(String),
}

/// How an organization is found in Zendesk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationRef {
    /// A Zendesk organization id (`traits.organizationId`).
    Id(i64),
    /// The organization's external_id (a Segment groupId, `traits.company.id`).
    ExternalId(String),
}

/// The writable Zendesk user fields the mapping produces.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct User {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// A Zendesk time zone name ("Pacific Time (US & Canada)").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// A locale tag ("en-US"): Zendesk's writable `locale`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Zendesk's numeric locale id (`traits.locale_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_verify_email: Option<bool>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub user_fields: Map,
}

impl User {
    /// Folds a later identify of the same user into this one: every field the
    /// later one sets wins, custom fields merge key by key. Kept next to the
    /// fields so a new field cannot be forgotten by whoever coalesces.
    pub fn merge(&mut self, later: User) {
        let User { name, email, external_id, phone, time_zone, locale, locale_id, verified, skip_verify_email, user_fields } = later;
        self.name = name;
        macro_rules! later_wins {
            ($($field:ident),*) => { $( if $field.is_some() { self.$field = $field; } )* };
        }
        later_wins!(email, external_id, phone, time_zone, locale, locale_id, verified, skip_verify_email);
        self.user_fields.extend(user_fields);
    }
}

/// The writable Zendesk organization fields the mapping produces.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Organization {
    /// The Segment groupId; organizations are matched on it.
    pub external_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Replaces the organization's whole list in Zendesk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_names: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<bool>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub organization_fields: Map,
}

/// A ticket to create.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewTicket {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The first comment (Zendesk's description).
    pub comment: Comment,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester: Option<Requester>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<TicketType>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<i64>,
}

/// A ticket comment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Comment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html_body: Option<String>,
    pub public: bool,
}

/// Who asked: Zendesk creates the user when the email is unknown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Requester {
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `{"id": 27642, "value": ...}` in a ticket's `custom_fields`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomFieldValue {
    pub id: i64,
    pub value: crate::value::Value,
}

/// The changes of a ticket update.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TicketChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<Comment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<TicketType>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<TagChange>,
    /// Sent with `safe_update: true`: Zendesk answers 409 when the ticket
    /// changed since this stamp instead of overwriting someone's change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe_update: Option<String>,
}

impl TicketChanges {
    /// True when only the `safe_update` stamp is set. Every field is named,
    /// so a new one cannot be forgotten; no comparison with a default value,
    /// whose deep equality would weigh on the browser's wasm.
    pub fn changes_nothing(&self) -> bool {
        let TicketChanges { subject, comment, priority, status, ticket_type, custom_fields, tags, safe_update: _ } = self;
        subject.is_none()
            && comment.is_none()
            && priority.is_none()
            && status.is_none()
            && ticket_type.is_none()
            && custom_fields.is_empty()
            && tags.is_none()
    }
}

/// Zendesk's `tags` on a ticket update replaces the whole list, which loses
/// tags other people set; adding and removing are separate calls. The
/// mapping says which one the event asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", content = "tags", rename_all = "snake_case")]
pub enum TagChange {
    /// `PUT /tickets/{id}/tags.json`: keep existing tags, add these.
    Add(Vec<String>),
    /// `DELETE /tickets/{id}/tags.json`: remove these.
    Remove(Vec<String>),
    /// `tags` on the ticket update: exactly these tags.
    Replace(Vec<String>),
}

/// Zendesk ticket priorities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    High,
    Normal,
    Low,
}

/// Zendesk ticket statuses an API client may set (`closed` is set by Zendesk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Open,
    Pending,
    Hold,
    Solved,
}

/// Zendesk ticket types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketType {
    Problem,
    Incident,
    Question,
    Task,
}

/// A ticket field with fixed values: each value and the name Zendesk (and
/// serde) spells it with, in declaration order.
pub trait Choice: Copy + 'static {
    const VALUES: &'static [Self];
    const NAMES: &'static [&'static str];

    /// The name serde writes for this value.
    fn name(self) -> &'static str;
}

macro_rules! choice {
    ($($ty:ident { $($variant:ident => $name:literal),* $(,)? })*) => {$(
        impl Choice for $ty {
            const VALUES: &'static [$ty] = &[$($ty::$variant),*];
            const NAMES: &'static [&'static str] = &[$($name),*];

            fn name(self) -> &'static str {
                // Unit variants numbered from 0 in declaration order: an index into NAMES.
                Self::NAMES[self as usize]
            }
        }
    )*};
}

choice! {
    Priority { Urgent => "urgent", High => "high", Normal => "normal", Low => "low" }
    Status { New => "new", Open => "open", Pending => "pending", Hold => "hold", Solved => "solved" }
    TicketType { Problem => "problem", Incident => "incident", Question => "question", Task => "task" }
}

/// A Zendesk user event (Events API).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserEvent {
    /// The integration's source name (the `event_source` setting; never "zendesk").
    pub source: String,
    /// The Segment event name.
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub properties: Map,
    /// The event's timestamp (ISO 8601), as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn every_choice_names_itself() {
        fn check<T: Choice + PartialEq + std::fmt::Debug + Serialize>() {
            assert_eq!(T::VALUES.len(), T::NAMES.len());
            for (value, name) in T::VALUES.iter().zip(T::NAMES) {
                assert_eq!(value.name(), *name);
                assert_eq!(serde_json::to_value(value).unwrap(), serde_json::json!(name), "{value:?}");
            }
        }
        check::<Priority>();
        check::<Status>();
        check::<TicketType>();
    }

    #[test]
    fn a_later_identify_wins_per_field() {
        let mut first = User { name: "Ada".into(), phone: Some("1".into()), locale: Some("en-GB".into()), ..User::default() };
        first.user_fields.insert("plan".into(), Value::from("free"));
        first.user_fields.insert("age".into(), Value::from(36));
        let mut second = User { name: "Ada King".into(), email: Some("ada@x.io".into()), locale_id: Some(1), ..User::default() };
        second.user_fields.insert("plan".into(), Value::from("pro"));
        first.merge(second);
        assert_eq!((first.name.as_str(), first.phone.as_deref(), first.email.as_deref()), ("Ada King", Some("1"), Some("ada@x.io")));
        assert_eq!((first.locale.as_deref(), first.locale_id), (Some("en-GB"), Some(1)));
        assert_eq!(first.user_fields.get("plan"), Some(&Value::from("pro")));
        assert_eq!(first.user_fields.get("age"), Some(&Value::from(36)));
    }
}
