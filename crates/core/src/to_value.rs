//! The core's outputs as JSON [`Value`]s without serde.
//!
//! The browser SDK shows every [`Mapping`] to the page (`debug`, call
//! results) but must not carry serde's generic machinery in its wasm, so the
//! conversion is written out here. Each impl builds exactly what the type's
//! serde derive serializes (field names, tags, skipped empty fields); the
//! mapping fixtures hold both forms to the same expected JSON.

use crate::connect::{ConnectOp, ConnectUser};
use crate::mapping::{Mapping, Outcome, Skip, SkipCode, Warning, WarningCode};
use crate::value::{Map, Number, Value};
use crate::zendesk::{
    Choice, Comment, CustomFieldValue, NewTicket, Organization, OrganizationRef, Priority, Requester, Status, TagChange,
    TicketChanges, TicketType, User, UserEvent, UserMatch, UserRef, ZendeskOp,
};

/// Conversion into the JSON form serde gives the same type.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::String(self.clone())
    }
}

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}

impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::Number(Number::Int(*self))
    }
}

impl ToValue for Map {
    fn to_value(&self) -> Value {
        Value::Object(self.clone())
    }
}

impl<T: ToValue> ToValue for [T] {
    fn to_value(&self) -> Value {
        array(self.len(), &|i| self[i].to_value())
    }
}

/// An array of `len` items, the `i`th converted by `item`: one copy of the
/// building for every type of item.
fn array(len: usize, item: &dyn Fn(usize) -> Value) -> Value {
    let mut items = Vec::with_capacity(len);
    for i in 0..len {
        items.push(item(i));
    }
    Value::Array(items)
}

impl<T: ToValue> ToValue for Vec<T> {
    fn to_value(&self) -> Value {
        self.as_slice().to_value()
    }
}

/// A JSON object under construction, with serde's `skip_serializing_if`
/// rules as methods. They borrow it rather than move it from call to call:
/// no copy of the object at each member.
#[derive(Default)]
struct Object(Map);

impl Object {
    fn new() -> Object {
        Object::default()
    }

    /// The serde tag of an enum variant (`"op": "upsert_user"`).
    fn tag(&mut self, tag: &str, name: &str) -> &mut Object {
        self.member(tag, Value::from(name))
    }

    fn field(&mut self, key: &str, value: &(impl ToValue + ?Sized)) -> &mut Object {
        self.member(key, value.to_value())
    }

    /// `skip_serializing_if = "Option::is_none"`.
    fn some(&mut self, key: &str, value: &Option<impl ToValue>) -> &mut Object {
        match value {
            Some(v) => self.member(key, v.to_value()),
            None => self,
        }
    }

    /// What every member is added by: the generic methods above only convert
    /// their value, so each type adds no copy of the insertion to the wasm.
    fn member(&mut self, key: &str, value: Value) -> &mut Object {
        self.0.insert(key.to_owned(), value);
        self
    }

    /// `skip_serializing_if = "Vec::is_empty"` / `"Map::is_empty"`.
    fn non_empty<T: ToValue>(&mut self, key: &str, items: &[T]) -> &mut Object {
        if items.is_empty() { self } else { self.member(key, items.to_value()) }
    }

    fn non_empty_map(&mut self, key: &str, map: &Map) -> &mut Object {
        if map.is_empty() { self } else { self.member(key, map.to_value()) }
    }

    /// The members of an internally tagged newtype variant's content, added
    /// straight to this object rather than built as one of their own first.
    fn members(&mut self, content: &impl Members) -> &mut Object {
        content.add_to(self)
    }

    /// The object built. It is taken from behind the borrow: a chain such as
    /// `Object::new().field(…).done()` holds only a borrow of its temporary.
    fn done(&mut self) -> Value {
        Value::Object(std::mem::take(&mut self.0))
    }
}

/// The content of an internally tagged newtype variant: its members, which
/// serde writes beside the tag.
trait Members {
    fn add_to<'a>(&self, object: &'a mut Object) -> &'a mut Object;
}

/// A unit enum variant: serde writes its (snake_case) name.
macro_rules! names {
    ($($ty:ty { $($variant:ident => $name:literal),* $(,)? })*) => {$(
        impl ToValue for $ty {
            fn to_value(&self) -> Value {
                Value::String(match self { $(<$ty>::$variant => $name),* }.to_owned())
            }
        }
    )*};
}

/// Zendesk's fixed ticket values, by their [`Choice::name`].
macro_rules! choices {
    ($($ty:ty),*) => {$(
        impl ToValue for $ty {
            fn to_value(&self) -> Value {
                Value::from(self.name())
            }
        }
    )*};
}

choices!(Priority, Status, TicketType);

names! {
    SkipCode {
        TurnedOffByIntegrations => "turned_off_by_integrations",
        UnsupportedCall => "unsupported_call",
        MissingEmail => "missing_email",
        InvalidEmail => "invalid_email",
        MissingName => "missing_name",
        MissingUserId => "missing_user_id",
        EventNotAllowed => "event_not_allowed",
        UserIdTooLong => "user_id_too_long",
        MissingTicketId => "missing_ticket_id",
        MissingTicketDescription => "missing_ticket_description",
        MissingRequester => "missing_requester",
        NothingToUpdate => "nothing_to_update",
        MissingPreviousId => "missing_previous_id",
    }
    WarningCode {
        UnknownTimezone => "unknown_timezone",
        FieldKeyRenamed => "field_key_renamed",
        InvalidFieldKey => "invalid_field_key",
        NestedTraitIgnored => "nested_trait_ignored",
        InvalidValue => "invalid_value",
        MembershipRemovalOff => "membership_removal_off",
        SettingNotOverridable => "setting_not_overridable",
    }
}

impl ToValue for Mapping {
    fn to_value(&self) -> Value {
        Object::new()
            .field("zendesk", &self.zendesk)
            .field("connect", &self.connect)
            .non_empty("warnings", &self.warnings)
            .done()
    }
}

impl<Op: ToValue> ToValue for Outcome<Op> {
    fn to_value(&self) -> Value {
        match self {
            Outcome::Disabled => Object::new().tag("outcome", "disabled").done(),
            Outcome::Operations { operations } => {
                Object::new().tag("outcome", "operations").field("operations", operations).done()
            }
            Outcome::Skipped(skip) => Object::new().tag("outcome", "skipped").members(skip).done(),
        }
    }
}

impl ToValue for Skip {
    fn to_value(&self) -> Value {
        Object::new().members(self).done()
    }
}

impl Members for Skip {
    fn add_to<'a>(&self, object: &'a mut Object) -> &'a mut Object {
        object.field("code", &self.code).field("message", &self.message)
    }
}

impl ToValue for Warning {
    fn to_value(&self) -> Value {
        Object::new().field("code", &self.code).field("message", &self.message).done()
    }
}

impl ToValue for ZendeskOp {
    fn to_value(&self) -> Value {
        let mut object = Object::new();
        match self {
            ZendeskOp::UpsertUser { user, match_on, organization_id, create_missing_fields } => object.tag("op", "upsert_user")
                .field("user", user)
                .field("match_on", match_on)
                .some("organization_id", organization_id)
                .field("create_missing_fields", create_missing_fields),
            ZendeskOp::AddOrganizationMembership { user, organization } => {
                object.tag("op", "add_organization_membership").field("user", user).field("organization", organization)
            }
            ZendeskOp::RemoveOrganizationMembership { user, organization } => {
                object.tag("op", "remove_organization_membership").field("user", user).field("organization", organization)
            }
            ZendeskOp::MakeEmailPrimary { user, email } => object.tag("op", "make_email_primary").field("user", user).field("email", email),
            ZendeskOp::UpsertOrganization { organization, create_missing_fields } => object.tag("op", "upsert_organization")
                .field("organization", organization)
                .field("create_missing_fields", create_missing_fields),
            ZendeskOp::CreateTicket { ticket, idempotency_key } => {
                object.tag("op", "create_ticket").field("ticket", ticket).some("idempotency_key", idempotency_key)
            }
            ZendeskOp::UpdateTicket { ticket_id, changes } => {
                object.tag("op", "update_ticket").field("ticket_id", ticket_id).field("changes", changes)
            }
            ZendeskOp::CreateUserEvent { user, event } => object.tag("op", "create_user_event").field("user", user).field("event", event),
            ZendeskOp::MoveExternalId { from, to } => object.tag("op", "move_external_id").field("from", from).field("to", to),
        };
        object.done()
    }
}

impl ToValue for UserMatch {
    fn to_value(&self) -> Value {
        Object::new().some("email", &self.email).some("external_id", &self.external_id).done()
    }
}

impl ToValue for UserRef {
    fn to_value(&self) -> Value {
        let mut object = Object::new();
        match self {
            UserRef::Id(id) => object.field("id", id),
            UserRef::Email(email) => object.field("email", email),
            UserRef::ExternalId(id) => object.field("external_id", id),
        };
        object.done()
    }
}

impl ToValue for OrganizationRef {
    fn to_value(&self) -> Value {
        let mut object = Object::new();
        match self {
            OrganizationRef::Id(id) => object.field("id", id),
            OrganizationRef::ExternalId(id) => object.field("external_id", id),
        };
        object.done()
    }
}

impl ToValue for User {
    fn to_value(&self) -> Value {
        Object::new()
            .field("name", &self.name)
            .some("email", &self.email)
            .some("external_id", &self.external_id)
            .some("phone", &self.phone)
            .some("time_zone", &self.time_zone)
            .some("locale", &self.locale)
            .some("locale_id", &self.locale_id)
            .some("verified", &self.verified)
            .some("skip_verify_email", &self.skip_verify_email)
            .non_empty_map("user_fields", &self.user_fields)
            .done()
    }
}

impl ToValue for Organization {
    fn to_value(&self) -> Value {
        Object::new()
            .field("external_id", &self.external_id)
            .some("name", &self.name)
            .some("domain_names", &self.domain_names)
            .some("tags", &self.tags)
            .some("url", &self.url)
            .some("deleted", &self.deleted)
            .non_empty_map("organization_fields", &self.organization_fields)
            .done()
    }
}

impl ToValue for NewTicket {
    fn to_value(&self) -> Value {
        Object::new()
            .some("subject", &self.subject)
            .field("comment", &self.comment)
            .some("requester", &self.requester)
            .some("requester_id", &self.requester_id)
            .some("priority", &self.priority)
            .some("status", &self.status)
            .some("type", &self.ticket_type)
            .non_empty("tags", &self.tags)
            .non_empty("custom_fields", &self.custom_fields)
            .some("external_id", &self.external_id)
            .some("organization_id", &self.organization_id)
            .done()
    }
}

impl ToValue for Comment {
    fn to_value(&self) -> Value {
        Object::new()
            .some("body", &self.body)
            .some("html_body", &self.html_body)
            .field("public", &self.public)
            .done()
    }
}

impl ToValue for Requester {
    fn to_value(&self) -> Value {
        Object::new().field("email", &self.email).some("name", &self.name).done()
    }
}

impl ToValue for CustomFieldValue {
    fn to_value(&self) -> Value {
        Object::new().field("id", &self.id).field("value", &self.value).done()
    }
}

impl ToValue for TicketChanges {
    fn to_value(&self) -> Value {
        Object::new()
            .some("subject", &self.subject)
            .some("comment", &self.comment)
            .some("priority", &self.priority)
            .some("status", &self.status)
            .some("type", &self.ticket_type)
            .non_empty("custom_fields", &self.custom_fields)
            .some("tags", &self.tags)
            .some("safe_update", &self.safe_update)
            .done()
    }
}

impl ToValue for TagChange {
    fn to_value(&self) -> Value {
        let (mode, tags) = match self {
            TagChange::Add(tags) => ("add", tags),
            TagChange::Remove(tags) => ("remove", tags),
            TagChange::Replace(tags) => ("replace", tags),
        };
        Object::new().tag("mode", mode).field("tags", tags).done()
    }
}

impl ToValue for UserEvent {
    fn to_value(&self) -> Value {
        Object::new()
            .field("source", &self.source)
            .field("type", &self.event_type)
            .non_empty_map("properties", &self.properties)
            .some("created_at", &self.created_at)
            .done()
    }
}

impl ToValue for ConnectOp {
    fn to_value(&self) -> Value {
        let mut object = Object::new();
        match self {
            ConnectOp::Identify(user) => object.tag("op", "identify").members(user),
            ConnectOp::Track { user_id, event, properties, timestamp } => object.tag("op", "track")
                .field("user_id", user_id)
                .field("event", event)
                .non_empty_map("properties", properties)
                .some("timestamp", timestamp),
        };
        object.done()
    }
}

impl ToValue for ConnectUser {
    fn to_value(&self) -> Value {
        Object::new().members(self).done()
    }
}

impl Members for ConnectUser {
    fn add_to<'a>(&self, object: &'a mut Object) -> &'a mut Object {
        object
            .field("user_id", &self.user_id)
            .some("previous_id", &self.previous_id)
            .some("first_name", &self.first_name)
            .some("last_name", &self.last_name)
            .some("email", &self.email)
            .some("phone_number", &self.phone_number)
            .some("timezone", &self.timezone)
            .non_empty_map("attributes", &self.attributes)
            .non_empty("apns", &self.apns)
            .non_empty("fcm", &self.fcm)
    }
}
