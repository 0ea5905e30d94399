//! identify → a Zendesk user (and its memberships).

use crate::event::Event;
use crate::settings::ZendeskSettings;
use crate::value::Value;
use crate::zendesk::{User, UserMatch, ZendeskOp};

use super::{Skip, SkipCode, Warnings};

/// Traits that map to a standard Zendesk user field (or are structural) and so
/// never become custom `user_fields`.
const STANDARD_USER_TRAITS: &[&str] = &[
    "email", "name", "firstName", "first_name", "lastName", "last_name", "phone",
    "timezone", "organizationId", "userId", "id", "company",
];

pub(super) fn zendesk(event: &Event, settings: &ZendeskSettings, _warnings: &mut Warnings) -> Result<Vec<ZendeskOp>, Skip> {
    let email = event
        .trait_str(&["email"])
        .map(str::to_owned)
        .or_else(|| event.user_id.clone().filter(|id| looks_like_email(id)))
        .ok_or_else(|| Skip::new(SkipCode::MissingEmail, "identify not sent to Zendesk: traits.email is missing — Zendesk matches users by email"))?;
    let name = full_name(event).ok_or_else(|| Skip::new(SkipCode::MissingName, "identify not sent to Zendesk: Zendesk requires a name — set traits.name, or traits.firstName and traits.lastName"))?;
    let user_fields = event
        .traits
        .iter()
        .filter(|(k, v)| !STANDARD_USER_TRAITS.contains(&k.as_str()) && !matches!(v, Value::Object(_)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(vec![ZendeskOp::UpsertUser {
        match_on: UserMatch { email: Some(email.clone()), external_id: event.user_id.clone() },
        user: User {
            name,
            email: Some(email),
            external_id: event.user_id.clone(),
            phone: event.trait_str(&["phone"]).map(str::to_owned),
            time_zone: None,
            verified: Some(settings.create_users_as_verified),
            skip_verify_email: settings.skip_verify_email.then_some(true),
            user_fields,
        },
        organization_id: None,
        create_missing_fields: settings.create_missing_custom_fields,
    }])
}

/// `traits.name`, else first and last name joined.
fn full_name(event: &Event) -> Option<String> {
    if let Some(name) = event.trait_str(&["name"]) {
        return Some(name.to_owned());
    }
    let first = event.trait_str(&["firstName", "first_name"]);
    let last = event.trait_str(&["lastName", "last_name"]);
    match (first, last) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(one), None) | (None, Some(one)) => Some(one.to_owned()),
        (None, None) => None,
    }
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace),
        None => false,
    }
}
