//! track → a Zendesk user event, or a ticket for the ticket events.

use crate::event::Event;
use crate::settings::{ZendeskSettings, TICKET_CREATED, TICKET_UPDATED};
use crate::text::Piece::{Int, Quoted, Text};
use crate::text::sentence;
use crate::zendesk::{UserEvent, UserRef, ZendeskOp};

use super::{read, ticket, Skip, SkipCode, Warnings};

/// Zendesk refuses (400) user events whose external_id is longer.
pub const MAX_EXTERNAL_ID_CHARS: usize = 60;

pub(super) fn zendesk(event: &Event, settings: &ZendeskSettings, warnings: &mut Warnings) -> Result<Vec<ZendeskOp>, Skip> {
    let name = event.name.as_deref().unwrap_or_default();
    if !settings.allows_event(name) {
        let why = if settings.events.is_none() && (name == TICKET_CREATED || name == TICKET_UPDATED) {
            "it opens or changes a Zendesk ticket, so it is sent only when listed in the events setting — add it there"
        } else {
            "it is not in the events setting — add it there (or \"*\" for every event)"
        };
        return Err(Skip::new(SkipCode::EventNotAllowed, sentence("track {} not sent to Zendesk: {}", &[Quoted(name), Text(why)])));
    }
    let op = match name {
        TICKET_CREATED => ticket::create(event, warnings)?,
        TICKET_UPDATED => ticket::update(event, warnings)?,
        _ => user_event(event, name, settings)?,
    };
    Ok(vec![op])
}

/// The user is named by `context.zendesk_user_id`, else `properties.email`,
/// else the userId as external_id.
fn user_event(event: &Event, name: &str, settings: &ZendeskSettings) -> Result<ZendeskOp, Skip> {
    let Some(user_id) = &event.user_id else {
        return Err(Skip::new(
            SkipCode::MissingUserId,
            sentence("track {} not sent to Zendesk: it has no userId — Zendesk ties every event to a known user, so call identify first", &[Quoted(name)]),
        ));
    };
    // Counted once, for the test and the sentence.
    let chars = user_id.chars().count();
    let user = if let Some(id) = event.context.get("zendesk_user_id").and_then(read::zendesk_id) {
        UserRef::Id(id)
    } else if let Some(email) = read::string(&event.properties, &["email"]) {
        UserRef::Email(email.to_owned())
    } else if chars > MAX_EXTERNAL_ID_CHARS {
        return Err(Skip::new(
            SkipCode::UserIdTooLong,
            sentence("track {} not sent to Zendesk: the userId is {} characters and Zendesk accepts external ids of at most {} — use a shorter userId, or send properties.email or context.zendesk_user_id", &[Quoted(name), Int(chars as i64), Int(MAX_EXTERNAL_ID_CHARS as i64)]),
        ));
    } else {
        UserRef::ExternalId(user_id.clone())
    };
    Ok(ZendeskOp::CreateUserEvent {
        user,
        event: UserEvent {
            source: settings.event_source.as_str().to_owned(),
            event_type: name.to_owned(),
            properties: event.properties.clone(),
            created_at: event.timestamp.clone(),
        },
    })
}
