//! identify → a Zendesk user, its email and its organization memberships.

use crate::event::Event;
use crate::settings::ZendeskSettings;
use crate::text::Piece::{Quoted, Text};
use crate::text::sentence;
use crate::zendesk::{OrganizationRef, User, UserMatch, ZendeskOp};

use super::{fields, person, read, timezone, warn, Skip, SkipCode, WarningCode, Warnings};

/// Traits that map to a standard Zendesk user field (or are structural) and so
/// never become custom `user_fields`.
const STANDARD_USER_TRAITS: &[&str] = &[
    "email", "name", "firstName", "first_name", "First Name", "lastName", "last_name", "Last Name",
    "phone", "timezone", "locale", "locale_id", "organizationId", "organization_id", "userId", "user_id",
    "id", "company", "verified", "skip_verify_email", "skipVerifyEmail",
];

/// Traits that would override a setting the documents say cannot be
/// overridden per request.
const SETTING_TRAITS: &[(&str, &str)] = &[
    ("verified", "createUsersAsVerified"),
    ("skip_verify_email", "skipVerifyEmail"),
    ("skipVerifyEmail", "skipVerifyEmail"),
];

pub(super) fn zendesk(event: &Event, settings: &ZendeskSettings, warnings: &mut Warnings) -> Result<Vec<ZendeskOp>, Skip> {
    let email = person::email(event).ok_or_else(|| {
        Skip::new(SkipCode::MissingEmail, "identify not sent to Zendesk: traits.email is missing — Zendesk matches users by email")
    })?;
    if !person::looks_like_email(email) {
        return Err(Skip::new(
            SkipCode::InvalidEmail,
            sentence("identify not sent to Zendesk: traits.email {} is not an email address — Zendesk refuses it", &[Quoted(email)]),
        ));
    }
    let name = person::full_name(&event.traits).ok_or_else(|| {
        Skip::new(SkipCode::MissingName, "identify not sent to Zendesk: Zendesk requires a name — set traits.name, or traits.firstName and traits.lastName")
    })?;
    let email = email.to_owned();
    for (name, setting) in SETTING_TRAITS {
        if event.traits.contains_key(*name) {
            warn(warnings, WarningCode::SettingNotOverridable, sentence("traits.{} ignored: the {} setting decides it for every user and cannot be overridden per event", &[Text(name), Text(setting)]));
        }
    }
    let user_match = UserMatch { email: Some(email.clone()), external_id: event.user_id.clone() };
    let user = User {
        name,
        email: Some(email.clone()),
        external_id: event.user_id.clone(),
        phone: read::owned_string(&event.traits, &["phone"]),
        time_zone: time_zone(event, warnings),
        locale: read::owned_string(&event.traits, &["locale"]),
        locale_id: event.traits.get("locale_id").and_then(|v| read::checked_id(v, "traits", "locale_id", warnings)),
        verified: Some(settings.create_users_as_verified),
        skip_verify_email: settings.skip_verify_email.then_some(true),
        user_fields: fields::custom_fields(&event.traits, STANDARD_USER_TRAITS, "user_fields", warnings),
    };
    let organization_id = ["organizationId", "organization_id"]
        .iter()
        .find_map(|k| event.traits.get(k).filter(|v| !v.is_null()).map(|v| (k, v)))
        .and_then(|(k, v)| read::checked_id(v, "traits", k, warnings));
    let mut ops = vec![ZendeskOp::UpsertUser {
        user,
        match_on: user_match.clone(),
        organization_id,
        create_missing_fields: settings.create_missing_custom_fields,
    }];
    if settings.update_primary_email {
        if let Some(external_id) = &event.user_id {
            ops.push(ZendeskOp::MakeEmailPrimary {
                user: UserMatch { email: None, external_id: Some(external_id.clone()) },
                email,
            });
        }
    }
    if let Some(op) = membership(event, settings, user_match, warnings) {
        ops.push(op);
    }
    Ok(ops)
}

/// `traits.timezone` as Zendesk's name; an unknown zone is left out.
fn time_zone(event: &Event, warnings: &mut Warnings) -> Option<String> {
    let input = read::string(&event.traits, &["timezone"])?;
    match timezone::resolve(input) {
        Some(zone) => Some(zone.zendesk.to_owned()),
        None => {
            warn(
                warnings,
                WarningCode::UnknownTimezone,
                sentence("traits.timezone {} left out of the Zendesk user: it is neither an IANA time zone (America/Los_Angeles) nor a Zendesk one (Pacific Time (US & Canada))", &[Quoted(input)]),
            );
            None
        }
    }
}

/// `traits.company.id` adds the user to that organization (by external_id);
/// with `traits.company.remove: true` the membership is removed instead.
fn membership(event: &Event, settings: &ZendeskSettings, user: UserMatch, warnings: &mut Warnings) -> Option<ZendeskOp> {
    let company = event.traits.get("company")?.as_object()?;
    let organization = OrganizationRef::ExternalId(read::id(company, &["id"])?);
    if !read::is_true(company.get("remove")) {
        return Some(ZendeskOp::AddOrganizationMembership { user, organization });
    }
    if settings.remove_users_from_organizations {
        return Some(ZendeskOp::RemoveOrganizationMembership { user, organization });
    }
    warn(
        warnings,
        WarningCode::MembershipRemovalOff,
        "traits.company.remove ignored: the removeUsersFromOrganizations setting is off — turn it on to let identify calls remove memberships",
    );
    None
}
