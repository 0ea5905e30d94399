//! The core's outputs as JSON text, without serde.
//!
//! The browser SDK shows every [`Mapping`] to the page (`debug`, call
//! results) but must not carry serde's generic machinery in its wasm, so the
//! writing is spelled out here, straight to text. Each impl writes what the
//! type's serde derive serializes (field names, tags, skipped empty fields),
//! with the members in key order, as a [`Map`] orders them; the mapping
//! fixtures hold this text to serde's, byte for byte.

use crate::connect::ConnectOp;
use crate::json::{start_member, ToJson};
use crate::mapping::{Mapping, Outcome, Skip, SkipCode, Warning, WarningCode};
use crate::value::Map;
use crate::zendesk::{
    Choice, Comment, CustomFieldValue, NewTicket, Organization, OrganizationRef, Priority, Requester, Status, TagChange,
    TicketChanges, TicketType, User, UserEvent, UserMatch, UserRef, ZendeskOp,
};

/// A JSON object written member by member, with serde's
/// `skip_serializing_if` rules as methods. Members are written in the order
/// they are added, so each impl adds them in key order (checked in debug
/// builds, which every test runs).
struct Object<'a> {
    out: &'a mut String,
    #[cfg(debug_assertions)]
    last_key: &'static str,
}

impl<'a> Object<'a> {
    fn open(out: &'a mut String) -> Object<'a> {
        out.push('{');
        Object {
            out,
            #[cfg(debug_assertions)]
            last_key: "",
        }
    }

    fn field(&mut self, key: &'static str, value: &(impl ToJson + ?Sized)) -> &mut Object<'a> {
        self.member(key, Some(value))
    }

    /// `skip_serializing_if = "Option::is_none"`.
    fn some(&mut self, key: &'static str, value: &Option<impl ToJson>) -> &mut Object<'a> {
        self.member(key, value.as_ref())
    }

    /// `skip_serializing_if = "Vec::is_empty"`.
    fn non_empty<T: ToJson>(&mut self, key: &'static str, items: &[T]) -> &mut Object<'a> {
        self.member(key, (!items.is_empty()).then_some(items))
    }

    /// `skip_serializing_if = "Map::is_empty"`.
    fn non_empty_map(&mut self, key: &'static str, map: &Map) -> &mut Object<'a> {
        self.member(key, (!map.is_empty()).then_some(map))
    }

    /// The member `key`, left out when `value` is `None`. Its place in the
    /// key order is checked either way: an impl's order is wrong even when
    /// the test at hand leaves the member out.
    fn member(&mut self, key: &'static str, value: Option<&(impl ToJson + ?Sized)>) -> &mut Object<'a> {
        #[cfg(debug_assertions)]
        {
            assert!(self.last_key < key, "member {key:?} written after {:?}: out of key order", self.last_key);
            self.last_key = key;
        }
        if let Some(value) = value {
            start_member(self.out, key);
            value.write_json(self.out);
        }
        self
    }

    fn close(&mut self) {
        self.out.push('}');
    }
}

/// A unit enum variant: serde writes its (snake_case) name.
macro_rules! names {
    ($($ty:ty { $($variant:ident => $name:literal),* $(,)? })*) => {$(
        impl ToJson for $ty {
            fn write_json(&self, out: &mut String) {
                match self { $(<$ty>::$variant => $name),* }.write_json(out)
            }
        }
    )*};
}

/// Zendesk's fixed ticket values, by their [`Choice::name`].
macro_rules! choices {
    ($($ty:ty),*) => {$(
        impl ToJson for $ty {
            fn write_json(&self, out: &mut String) {
                self.name().write_json(out)
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

impl ToJson for Mapping {
    fn write_json(&self, out: &mut String) {
        Object::open(out)
            .field("connect", &self.connect)
            .non_empty("warnings", &self.warnings)
            .field("zendesk", &self.zendesk)
            .close();
    }
}

impl<Op: ToJson> ToJson for Outcome<Op> {
    fn write_json(&self, out: &mut String) {
        match self {
            Outcome::Disabled => write_outcome(out, None, None),
            Outcome::Operations { operations } => write_outcome(out, Some(operations), None),
            Outcome::Skipped(skip) => write_outcome(out, None, Some(skip)),
        }
    }
}

/// An [`Outcome`] of either destination, from its operations or its skip
/// (neither: disabled). The operations behind `dyn`: one copy of the writing
/// in the wasm for both kinds of operation. (Plain options: a borrowed
/// `Outcome`-like enum weighs more.)
fn write_outcome(out: &mut String, operations: Option<&dyn ToJson>, skip: Option<&Skip>) {
    let mut object = Object::open(out);
    match (operations, skip) {
        (Some(operations), _) => object.field("operations", operations).field("outcome", "operations"),
        // The skip's members beside the tag, as serde writes an internally tagged newtype.
        (None, Some(Skip { code, message })) => object.field("code", code).field("message", message).field("outcome", "skipped"),
        (None, None) => object.field("outcome", "disabled"),
    }
    .close();
}

impl ToJson for Warning {
    fn write_json(&self, out: &mut String) {
        Object::open(out).field("code", &self.code).field("message", &self.message).close();
    }
}

impl ToJson for ZendeskOp {
    fn write_json(&self, out: &mut String) {
        let mut object = Object::open(out);
        match self {
            ZendeskOp::UpsertUser { user, match_on, organization_id, create_missing_fields } => object
                .field("create_missing_fields", create_missing_fields)
                .field("match_on", match_on)
                .field("op", "upsert_user")
                .some("organization_id", organization_id)
                .field("user", user),
            ZendeskOp::AddOrganizationMembership { user, organization } => {
                object.field("op", "add_organization_membership").field("organization", organization).field("user", user)
            }
            ZendeskOp::RemoveOrganizationMembership { user, organization } => {
                object.field("op", "remove_organization_membership").field("organization", organization).field("user", user)
            }
            ZendeskOp::MakeEmailPrimary { user, email } => object.field("email", email).field("op", "make_email_primary").field("user", user),
            ZendeskOp::UpsertOrganization { organization, create_missing_fields } => object
                .field("create_missing_fields", create_missing_fields)
                .field("op", "upsert_organization")
                .field("organization", organization),
            ZendeskOp::CreateTicket { ticket, idempotency_key } => {
                object.some("idempotency_key", idempotency_key).field("op", "create_ticket").field("ticket", ticket)
            }
            ZendeskOp::UpdateTicket { ticket_id, changes } => {
                object.field("changes", changes).field("op", "update_ticket").field("ticket_id", ticket_id)
            }
            ZendeskOp::CreateUserEvent { user, event } => object.field("event", event).field("op", "create_user_event").field("user", user),
            ZendeskOp::MoveExternalId { from, to } => object.field("from", from).field("op", "move_external_id").field("to", to),
        }
        .close();
    }
}

impl ToJson for UserMatch {
    fn write_json(&self, out: &mut String) {
        Object::open(out).some("email", &self.email).some("external_id", &self.external_id).close();
    }
}

impl ToJson for UserRef {
    fn write_json(&self, out: &mut String) {
        let mut object = Object::open(out);
        match self {
            UserRef::Id(id) => object.field("id", id),
            UserRef::Email(email) => object.field("email", email),
            UserRef::ExternalId(id) => object.field("external_id", id),
        }
        .close();
    }
}

impl ToJson for OrganizationRef {
    fn write_json(&self, out: &mut String) {
        let mut object = Object::open(out);
        match self {
            OrganizationRef::Id(id) => object.field("id", id),
            OrganizationRef::ExternalId(id) => object.field("external_id", id),
        }
        .close();
    }
}

impl ToJson for User {
    fn write_json(&self, out: &mut String) {
        Object::open(out)
            .some("email", &self.email)
            .some("external_id", &self.external_id)
            .some("locale", &self.locale)
            .some("locale_id", &self.locale_id)
            .field("name", &self.name)
            .some("phone", &self.phone)
            .some("skip_verify_email", &self.skip_verify_email)
            .some("time_zone", &self.time_zone)
            .non_empty_map("user_fields", &self.user_fields)
            .some("verified", &self.verified)
            .close();
    }
}

impl ToJson for Organization {
    fn write_json(&self, out: &mut String) {
        Object::open(out)
            .some("deleted", &self.deleted)
            .some("domain_names", &self.domain_names)
            .field("external_id", &self.external_id)
            .some("name", &self.name)
            .non_empty_map("organization_fields", &self.organization_fields)
            .some("tags", &self.tags)
            .some("url", &self.url)
            .close();
    }
}

impl ToJson for NewTicket {
    fn write_json(&self, out: &mut String) {
        Object::open(out)
            .field("comment", &self.comment)
            .non_empty("custom_fields", &self.custom_fields)
            .some("external_id", &self.external_id)
            .some("organization_id", &self.organization_id)
            .some("priority", &self.priority)
            .some("requester", &self.requester)
            .some("requester_id", &self.requester_id)
            .some("status", &self.status)
            .some("subject", &self.subject)
            .non_empty("tags", &self.tags)
            .some("type", &self.ticket_type)
            .close();
    }
}

impl ToJson for Comment {
    fn write_json(&self, out: &mut String) {
        Object::open(out)
            .some("body", &self.body)
            .some("html_body", &self.html_body)
            .field("public", &self.public)
            .close();
    }
}

impl ToJson for Requester {
    fn write_json(&self, out: &mut String) {
        Object::open(out).field("email", &self.email).some("name", &self.name).close();
    }
}

impl ToJson for CustomFieldValue {
    fn write_json(&self, out: &mut String) {
        Object::open(out).field("id", &self.id).field("value", &self.value).close();
    }
}

impl ToJson for TicketChanges {
    fn write_json(&self, out: &mut String) {
        Object::open(out)
            .some("comment", &self.comment)
            .non_empty("custom_fields", &self.custom_fields)
            .some("priority", &self.priority)
            .some("safe_update", &self.safe_update)
            .some("status", &self.status)
            .some("subject", &self.subject)
            .some("tags", &self.tags)
            .some("type", &self.ticket_type)
            .close();
    }
}

impl ToJson for TagChange {
    fn write_json(&self, out: &mut String) {
        let (mode, tags) = match self {
            TagChange::Add(tags) => ("add", tags),
            TagChange::Remove(tags) => ("remove", tags),
            TagChange::Replace(tags) => ("replace", tags),
        };
        Object::open(out).field("mode", mode).field("tags", tags).close();
    }
}

impl ToJson for UserEvent {
    fn write_json(&self, out: &mut String) {
        Object::open(out)
            .some("created_at", &self.created_at)
            .non_empty_map("properties", &self.properties)
            .field("source", &self.source)
            .field("type", &self.event_type)
            .close();
    }
}

impl ToJson for ConnectOp {
    fn write_json(&self, out: &mut String) {
        let mut object = Object::open(out);
        match self {
            // The user's members beside the tag, as serde writes an internally tagged newtype.
            ConnectOp::Identify(user) => object
                .non_empty("apns", &user.apns)
                .non_empty_map("attributes", &user.attributes)
                .some("email", &user.email)
                .non_empty("fcm", &user.fcm)
                .some("first_name", &user.first_name)
                .some("last_name", &user.last_name)
                .field("op", "identify")
                .some("phone_number", &user.phone_number)
                .some("previous_id", &user.previous_id)
                .some("timezone", &user.timezone)
                .field("user_id", &user.user_id),
            ConnectOp::Track { user_id, event, properties, timestamp } => object
                .field("event", event)
                .field("op", "track")
                .non_empty_map("properties", properties)
                .some("timestamp", timestamp)
                .field("user_id", user_id),
        }
        .close();
    }
}
