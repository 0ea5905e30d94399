//! "Ticket Created" / "Ticket Updated" → Zendesk tickets.
//!
//! Property names follow Zendesk's ticket fields, so a developer who knows
//! the Tickets API knows what to send: `subject`, `description` (or
//! `comment`), `requester` / `requester_email` / `requester_id`, `priority`,
//! `status`, `type`, `tags`, `custom_fields`, `external_id`, `organization_id`;
//! updates add `ticket_id`, `add_tags` / `remove_tags` and `updated_stamp`.

use crate::event::Event;
use crate::text::Piece::{Described, Int, Text};
use crate::text::sentence;
use crate::value::{Map, Value};
use crate::zendesk::{Choice, Comment, CustomFieldValue, NewTicket, Requester, TagChange, TicketChanges, ZendeskOp};

use super::read::list;
use super::{person, read, warn, Skip, SkipCode, WarningCode, Warnings};

pub(super) fn create(event: &Event, warnings: &mut Warnings) -> Result<ZendeskOp, Skip> {
    let p = &event.properties;
    let comment = comment(p, warnings).ok_or_else(|| {
        Skip::new(SkipCode::MissingTicketDescription, "track \"Ticket Created\" not sent to Zendesk: properties.description is missing — Zendesk opens a ticket with its first comment")
    })?;
    let requester_id = id_property(p, "requester_id", warnings);
    let requester = if requester_id.is_some() { None } else { requester(event) };
    if requester_id.is_none() && requester.is_none() {
        return Err(Skip::new(
            SkipCode::MissingRequester,
            "track \"Ticket Created\" not sent to Zendesk: no requester — set properties.requester_email (and requester_name) or properties.requester_id; otherwise Zendesk would file the ticket under the API user",
        ));
    }
    let ticket = NewTicket {
        subject: read::owned_string(p, &["subject"]),
        comment,
        requester,
        requester_id,
        priority: choice(p, "priority", warnings),
        status: choice(p, "status", warnings),
        ticket_type: choice(p, "type", warnings),
        tags: list(p, "properties", &["tags"], warnings).unwrap_or_default(),
        custom_fields: custom_fields(p, warnings),
        external_id: read::id(p, &["external_id"]),
        organization_id: id_property(p, "organization_id", warnings),
    };
    Ok(ZendeskOp::CreateTicket { ticket, idempotency_key: event.message_id.clone() })
}

pub(super) fn update(event: &Event, warnings: &mut Warnings) -> Result<ZendeskOp, Skip> {
    let p = &event.properties;
    let ticket_id = ["ticket_id", "id"].iter().find_map(|k| p.get(*k)).and_then(read::zendesk_id).ok_or_else(|| {
        Skip::new(SkipCode::MissingTicketId, "track \"Ticket Updated\" not sent to Zendesk: properties.ticket_id is missing — it names the ticket to update")
    })?;
    let changes = TicketChanges {
        subject: read::owned_string(p, &["subject"]),
        comment: comment(p, warnings),
        priority: choice(p, "priority", warnings),
        status: choice(p, "status", warnings),
        ticket_type: choice(p, "type", warnings),
        custom_fields: custom_fields(p, warnings),
        tags: tag_change(p, warnings),
        safe_update: read::owned_string(p, &["updated_stamp"]),
    };
    if changes.changes_nothing() {
        return Err(Skip::new(
            SkipCode::NothingToUpdate,
            "track \"Ticket Updated\" not sent to Zendesk: it changes nothing — send a comment, status, priority, type, subject, tags or custom_fields",
        ));
    }
    Ok(ZendeskOp::UpdateTicket { ticket_id, changes })
}

/// `description` or `comment` (a string, or `{body | html_body, public}`);
/// public unless `public: false`.
fn comment(p: &Map, warnings: &mut Warnings) -> Option<Comment> {
    let public = !matches!(p.get("public"), Some(Value::Bool(false)));
    // Borrowed until it is known to be sent: one place copies the texts.
    let (body, html_body, public) = if let Some(body) = read::string(p, &["description", "comment"]) {
        (Some(body), None, public)
    } else if let Some(html) = read::string(p, &["html_body"]) {
        (None, Some(html), public)
    } else {
        let object = ["comment", "description"].iter().find_map(|k| p.get(*k).and_then(Value::as_object))?;
        let public = !matches!(object.get("public"), Some(Value::Bool(false))) && public;
        (read::string(object, &["body"]), read::string(object, &["html_body"]), public)
    };
    if body.is_none() && html_body.is_none() {
        warn(warnings, WarningCode::InvalidValue, "properties.comment left out: it needs a body or an html_body");
        return None;
    }
    Some(Comment { body: body.map(str::to_owned), html_body: html_body.map(str::to_owned), public })
}

/// `requester` {email, name}, else `requester_email`/`requester_name`, else
/// `email`/`name`, else the caller's identify traits in `context.traits`.
fn requester(event: &Event) -> Option<Requester> {
    let p = &event.properties;
    let nested = p.get("requester").and_then(Value::as_object);
    let context_traits = event.context.get("traits").and_then(Value::as_object);
    let sources: [(Option<&Map>, &[&str], &[&str]); 3] = [
        (nested, &["email"], &["name"]),
        (Some(p), &["requester_email", "email"], &["requester_name", "name"]),
        (context_traits, &["email"], &["name"]),
    ];
    sources.iter().find_map(|(map, email_keys, name_keys)| {
        let map = (*map)?;
        let email = read::string(map, email_keys).filter(|e| person::looks_like_email(e))?;
        let name = read::owned_string(map, name_keys).or_else(|| person::full_name(map));
        Some(Requester { email: email.to_owned(), name })
    })
}

fn id_property(p: &Map, key: &str, warnings: &mut Warnings) -> Option<i64> {
    let value = p.get(key).filter(|v| !v.is_null())?;
    read::checked_id(value, "properties", key, warnings)
}

/// One of Zendesk's fixed values (any case); anything else is left out.
fn choice<T: Choice>(p: &Map, key: &str, warnings: &mut Warnings) -> Option<T> {
    choice_index(p, key, T::NAMES, warnings).map(|i| T::VALUES[i])
}

/// Where `properties[key]` is among `names`. One non-generic copy for every
/// kind of choice: keeps the wasm small.
fn choice_index(p: &Map, key: &str, names: &[&str], warnings: &mut Warnings) -> Option<usize> {
    let value = p.get(key).filter(|v| !v.is_null())?;
    let found = value.as_str().and_then(|s| names.iter().position(|name| name.eq_ignore_ascii_case(s.trim())));
    if found.is_none() {
        // A loop, not `join(", ")`: a separator would bring a second copy of
        // the joining code into the wasm, beside the one `concat` uses.
        let mut accepted = String::new();
        for name in names {
            if !accepted.is_empty() {
                accepted.push_str(", ");
            }
            accepted.push_str(name);
        }
        warn(warnings, WarningCode::InvalidValue, sentence("properties.{} left out: Zendesk accepts {}, got {}", &[Text(key), Text(&accepted), Described(value)]));
    }
    found
}

/// `custom_fields` as Zendesk's `[{"id": 27642, "value": "x"}]` or as
/// `{"27642": "x"}`; entries without a numeric field id are left out.
fn custom_fields(p: &Map, warnings: &mut Warnings) -> Vec<CustomFieldValue> {
    let mut fields = Vec::new();
    let mut invalid: i64 = 0;
    match p.get("custom_fields") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let entry = item.as_object().and_then(|o| Some((o.get("id").and_then(read::zendesk_id)?, o.get("value").cloned().unwrap_or_default())));
                match entry {
                    Some((id, value)) => fields.push(CustomFieldValue { id, value }),
                    None => invalid += 1,
                }
            }
        }
        Some(Value::Object(map)) => {
            for (key, value) in map {
                match read::zendesk_id_text(key) {
                    Some(id) => fields.push(CustomFieldValue { id, value: value.clone() }),
                    None => invalid += 1,
                }
            }
        }
        Some(other) => {
            warn(warnings, WarningCode::InvalidValue, sentence("properties.custom_fields left out: it must be [{\"id\": 123, \"value\": ...}] or {\"123\": ...}, got {}", &[Text(other.type_name())]));
        }
    }
    if invalid > 0 {
        warn(warnings, WarningCode::InvalidValue, sentence("{} properties.custom_fields entr{} left out: each needs a numeric Zendesk field id", &[Int(invalid), Text(if invalid == 1 { "y" } else { "ies" })]));
    }
    fields
}

/// `tags` replaces the ticket's tags (Zendesk's own meaning), `add_tags`
/// keeps the others, `remove_tags` removes some. One per event.
fn tag_change(p: &Map, warnings: &mut Warnings) -> Option<TagChange> {
    const CHANGES: [(&str, fn(Vec<String>) -> TagChange); 3] =
        [("tags", TagChange::Replace), ("add_tags", TagChange::Add), ("remove_tags", TagChange::Remove)];
    // Every list is read (and its shape warned about) before any is ignored.
    // Plain loops over borrowed arrays: `map` and `into_iter` on arrays
    // bring their own iterators into the wasm.
    let mut lists: [Option<Vec<String>>; 3] = Default::default();
    for ((key, _), tags) in CHANGES.iter().zip(&mut lists) {
        *tags = list(p, "properties", &[key], warnings);
    }
    let mut kept: Option<(&str, TagChange)> = None;
    for ((key, change), tags) in CHANGES.iter().zip(&mut lists) {
        let Some(tags) = tags.take() else { continue };
        match &kept {
            None => kept = Some((key, change(tags))),
            Some((first, _)) => warn(
                warnings,
                WarningCode::InvalidValue,
                sentence("properties.{} left out: properties.{} already changes the tags, and one event makes one tag change — send two events", &[Text(key), Text(first)]),
            ),
        }
    }
    kept.map(|(_, change)| change)
}
