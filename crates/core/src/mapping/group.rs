//! group → a Zendesk organization, and the calling user's membership.

use crate::event::Event;
use crate::settings::ZendeskSettings;
use crate::text::Piece::Text;
use crate::text::sentence;
use crate::value::Value;
use crate::zendesk::{Organization, OrganizationRef, UserMatch, ZendeskOp};

use super::read::list;
use super::{fields, read, warn, Skip, SkipCode, WarningCode, Warnings};

/// Traits that map to a standard organization field and so never become
/// custom `organization_fields`.
const STANDARD_ORGANIZATION_TRAITS: &[&str] =
    &["name", "domainNames", "domain_names", "tags", "url", "deleted", "id", "groupId"];

pub(super) fn zendesk(event: &Event, settings: &ZendeskSettings, warnings: &mut Warnings) -> Result<Vec<ZendeskOp>, Skip> {
    // `Event::from_value` refuses a group call without a groupId.
    let Some(external_id) = &event.group_id else {
        return Err(Skip::new(SkipCode::UnsupportedCall, "group not sent to Zendesk: it has no groupId"));
    };
    if event.user_id.is_none() && !settings.send_group_calls_without_user_id {
        return Err(Skip::new(
            SkipCode::MissingUserId,
            "group not sent to Zendesk: it has no userId, and a group call links the organization to that user — call identify first (so the call carries the userId), or turn on sendGroupCallsWithoutUserId to upsert organizations alone",
        ));
    }
    let traits = &event.traits;
    let organization = Organization {
        external_id: external_id.clone(),
        name: read::owned_string(traits, &["name"]),
        domain_names: list(traits, "traits", &["domainNames", "domain_names"], warnings),
        tags: list(traits, "traits", &["tags"], warnings),
        url: read::owned_string(traits, &["url"]),
        deleted: boolean(traits.get("deleted"), "traits.deleted", warnings),
        organization_fields: fields::custom_fields(traits, STANDARD_ORGANIZATION_TRAITS, "organization_fields", warnings),
    };
    let mut ops = vec![ZendeskOp::UpsertOrganization { organization, create_missing_fields: settings.create_missing_custom_fields }];
    if let Some(user_id) = &event.user_id {
        ops.push(ZendeskOp::AddOrganizationMembership {
            user: UserMatch { email: None, external_id: Some(user_id.clone()) },
            organization: OrganizationRef::ExternalId(external_id.clone()),
        });
    }
    Ok(ops)
}

fn boolean(value: Option<&Value>, what: &str, warnings: &mut Warnings) -> Option<bool> {
    match value? {
        Value::Bool(b) => Some(*b),
        Value::Null => None,
        other => {
            warn(warnings, WarningCode::InvalidValue, sentence("{} left out: it must be true or false, got {}", &[Text(what), Text(other.type_name())]));
            None
        }
    }
}
