//! A ticket's history: audits, comments and their side effects. Zendesk's
//! ticket audits, incremental ticket events and the ticket itself are all
//! views of it, so the generator and the tickets API both write through here.

use serde_json::{json, Value};

use crate::store::{Activity, Attachment, AuditEvent, Comment, Store, TicketAudit, Timestamp};

pub(crate) fn deleted(store: &Store, ticket_id: u64) -> bool {
    store.ticket_lifecycle.get(&ticket_id).is_some_and(|l| l.deleted_at.is_some())
}

pub(crate) fn change(id: u64, field: &str, value: Value, previous: Option<Value>) -> AuditEvent {
    AuditEvent { id, kind: if previous.is_some() { "Change" } else { "Create" }.into(), field_name: Some(field.into()), value, previous_value: previous }
}

/// Records an audit and moves the ticket's `updated_at`.
pub(crate) fn record_audit(store: &mut Store, ticket_id: u64, author_id: u64, at: Timestamp, events: Vec<AuditEvent>) {
    let id = store.next_id();
    store.ticket_audits.push(TicketAudit { id, ticket_id, author_id, created_at: at, via: "api".into(), events });
    if let Some(ticket) = store.tickets.get_mut(&ticket_id) {
        ticket.updated_at = ticket.updated_at.max(at);
    }
}

/// A comment (its audit event shares the comment's id) with attachments, and
/// the assignee's activity when someone else wrote it.
pub(crate) fn add_comment(store: &mut Store, ticket_id: u64, author_id: u64, body: &str, public: bool, attachments: usize, at: Timestamp) -> u64 {
    let comment_id = store.next_id();
    let files: Vec<Attachment> = (0..attachments)
        .map(|n| {
            let id = store.next_id();
            let image = n % 2 == 0;
            Attachment {
                id,
                file_name: if image { format!("screenshot-{n}.png") } else { format!("log-{n}.txt") },
                content_type: if image { "image/png" } else { "text/plain" }.into(),
                size: 1_000 + (id % 50_000),
                inline: false,
            }
        })
        .collect();
    if !files.is_empty() {
        store.attachments.insert(comment_id, files);
    }
    let comment_event = AuditEvent { id: comment_id, kind: "Comment".into(), field_name: None, value: json!(body), previous_value: None };
    record_audit(store, ticket_id, author_id, at, vec![comment_event]);
    let assignee = store.tickets.get_mut(&ticket_id).and_then(|ticket| {
        ticket.comments.push(Comment { id: comment_id, author_id, body: body.into(), html_body: Some(format!("<p>{body}</p>")), public, created_at: at });
        ticket.assignee_id
    });
    if let Some(agent) = assignee.filter(|a| *a != author_id) {
        let id = store.next_id();
        let title = format!("{} commented on ticket #{ticket_id}", store.users.get(&author_id).map_or("Someone", |u| u.name.as_str()));
        store.activities.insert(id, Activity { id, verb: "tickets.comment".into(), title, user_id: agent, actor_id: author_id, ticket_id, created_at: at });
    }
    comment_id
}
