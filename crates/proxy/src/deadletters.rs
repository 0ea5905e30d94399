//! `zendesk-proxy dead-letters list|replay`: what could not be delivered,
//! why, and putting it back in the queue once the cause is fixed.

use std::io::Write;

use crate::queue::{Queue, QueueError};

/// Writes one JSON object per dead letter (message id, write key, reason,
/// attempts, failed_at, event). Event bodies never hold credentials: the
/// write key is stripped on ingestion.
pub fn list(queue: &Queue, out: &mut impl Write) -> Result<usize, QueueError> {
    let letters = queue.dead_letters()?;
    for letter in &letters {
        let event: serde_json::Value = serde_json::from_str(&letter.body).unwrap_or(serde_json::Value::Null);
        let line = serde_json::json!({
            "message_id": letter.message_id,
            "write_key": letter.write_key,
            "reason": letter.reason,
            "attempts": letter.attempts,
            "failed_at_ms": letter.failed_at_ms,
            "event": event,
        });
        // A closed stdout (`| head`) is not an error worth reporting.
        let _ = writeln!(out, "{line}");
    }
    Ok(letters.len())
}

/// Moves dead letters (all, or the named message ids) back into the queue.
pub fn replay(queue: &Queue, message_ids: &[String]) -> Result<usize, QueueError> {
    queue.replay(message_ids)
}
