//! alias → move the external_id from the old id to the new one.
//!
//! The Support API has no alias; the user that carries `previousId` as its
//! external_id gets `userId` instead, so later identifies and events by the
//! new id land on the same Zendesk user.

use crate::event::Event;
use crate::text::Piece::Text;
use crate::text::sentence;
use crate::zendesk::ZendeskOp;

use super::{Skip, SkipCode};

/// Both ids of an alias, or why it cannot be performed.
pub(super) fn ids(event: &Event, destination: &str) -> Result<(String, String), Skip> {
    // `Event::from_value` refuses an alias without a userId.
    let user_id = event.user_id.as_deref().unwrap_or_default();
    let Some(previous_id) = event.previous_id.as_deref() else {
        return Err(Skip::new(
            SkipCode::MissingPreviousId,
            sentence("alias not sent to {}: previousId is missing — it names the id the user had before", &[Text(destination)]),
        ));
    };
    if previous_id == user_id {
        return Err(Skip::new(SkipCode::NothingToUpdate, sentence("alias not sent to {}: previousId and userId are the same, so there is nothing to move", &[Text(destination)])));
    }
    Ok((previous_id.to_owned(), user_id.to_owned()))
}

pub(super) fn zendesk(event: &Event) -> Result<Vec<ZendeskOp>, Skip> {
    let (from, to) = ids(event, super::ZENDESK)?;
    Ok(vec![ZendeskOp::MoveExternalId { from, to }])
}
