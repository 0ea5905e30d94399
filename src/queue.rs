//! The outgoing queue, persisted in localStorage so events survive reloads
//! and crashes. Bounded by count and bytes (a queue that grows without limit
//! breaks the host page's own storage), deduplicated by messageId.

use zendesk_analytics_core::text::push_int;

use crate::js::{array_copy, get, get_string, json_text};

/// Flush as soon as this many events are waiting.
pub const FLUSH_AT: usize = 20;
/// Most events kept; the oldest are dropped beyond it.
pub const MAX_EVENTS: usize = 1_000;
/// Most bytes of JSON kept.
pub const MAX_BYTES: usize = 2 * 1024 * 1024;

/// How many of `events`, oldest first, fit in a batch of at most
/// `max_bytes` of JSON (each event's text and its comma); at least one.
pub fn fitting(events: &[Queued], max_bytes: usize) -> usize {
    let mut size = 0;
    let over = events.iter().position(|e| {
        size += e.json.len() + 1;
        size > max_bytes
    });
    over.map_or(events.len(), |i| i.max(1))
}

/// The messageIds of `events`.
pub fn message_ids(events: &[Queued]) -> Vec<String> {
    events.iter().map(|e| e.message_id.clone()).collect()
}

/// One event waiting for the proxy.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub message_id: String,
    pub json: String,
    /// Failed sending attempts so far.
    pub attempts: u32,
    /// False while the settings to map it with are still loading: it is
    /// stored (and sent on page exit, where the proxy maps it) but not
    /// batched until the browser has mapped it.
    pub mapped: bool,
}

/// Events in call order.
#[derive(Debug, Default)]
pub struct Queue {
    events: Vec<Queued>,
    bytes: usize,
}

impl Queue {
    /// Adds `event` unless an event with the same messageId is queued (that
    /// one is then marked mapped if `event` is); returns the events pushed
    /// out by the bounds (oldest first).
    pub fn push(&mut self, event: Queued) -> Vec<Queued> {
        if let Some(queued) = self.events.iter_mut().find(|e| e.message_id == event.message_id) {
            queued.mapped |= event.mapped;
            return Vec::new();
        }
        self.bytes += event.json.len();
        self.events.push(event);
        let mut evicted = Vec::new();
        while self.events.len() > MAX_EVENTS || (self.bytes > MAX_BYTES && self.events.len() > 1) {
            let old = self.events.remove(0);
            self.bytes -= old.json.len();
            evicted.push(old);
        }
        evicted
    }

    pub fn contains(&self, message_id: &str) -> bool {
        self.events.iter().any(|e| e.message_id == message_id)
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn events(&self) -> &[Queued] {
        &self.events
    }

    /// The oldest mapped events that fit in one batch of at most `max_bytes`
    /// of JSON (at least one, if the oldest is mapped), left in the queue
    /// until `remove`. A batch stops at an event still awaiting its mapping:
    /// events go in call order.
    pub fn batch(&self, max_bytes: usize) -> &[Queued] {
        let mapped = self.events.iter().position(|e| !e.mapped).unwrap_or(self.events.len());
        &self.events[..fitting(&self.events[..mapped], max_bytes)]
    }

    /// Removes the events with these messageIds (delivered); returns the
    /// ids of those that were still queued.
    pub fn remove(&mut self, ids: &[String]) -> Vec<String> {
        let mut removed = Vec::new();
        let mut i = 0;
        while let Some(event) = self.events.get(i) {
            if ids.contains(&event.message_id) {
                let event = self.events.remove(i);
                self.bytes -= event.json.len();
                removed.push(event.message_id);
            } else {
                i += 1;
            }
        }
        removed
    }

    /// Counts a failed attempt for these events; returns the ones that have
    /// now used up `max_attempts`, taken out of the queue.
    pub fn fail(&mut self, ids: &[String], max_attempts: u32) -> Vec<Queued> {
        let mut exhausted = Vec::new();
        let mut i = 0;
        while let Some(event) = self.events.get_mut(i) {
            if ids.contains(&event.message_id) {
                event.attempts += 1;
                if event.attempts >= max_attempts {
                    let event = self.events.remove(i);
                    self.bytes -= event.json.len();
                    exhausted.push(event);
                    continue;
                }
            }
            i += 1;
        }
        exhausted
    }

    /// The queue as stored: a JSON array of `{"a":attempts,"e":event}`.
    pub fn to_storage(&self) -> String {
        let mut out = String::with_capacity(self.bytes + self.events.len() * 12 + 2);
        out.push('[');
        for (i, e) in self.events.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"a\":");
            push_int(&mut out, e.attempts.into());
            out.push_str(",\"e\":");
            out.push_str(&e.json);
            out.push('}');
        }
        out.push(']');
        out
    }

    /// Adds the events of a stored queue (a parsed `to_storage` array), as
    /// `push` does, counting in `evicted` the events that pushes out;
    /// anything unreadable is skipped.
    pub fn adopt(&mut self, items: &wasm_bindgen::JsValue, evicted: &mut usize) {
        let Some(items) = array_copy(items) else { return };
        for item in items.iter() {
            let event = get(&item, "e");
            let Some(message_id) = get_string(&event, "messageId") else { continue };
            let Some(json) = json_text(&event) else { continue };
            let attempts = get(&item, "a").as_f64().unwrap_or(0.0) as u32;
            // Mapped by the page that queued it, or left for the proxy to map.
            *evicted += self.push(Queued { message_id, json, attempts, mapped: true }).len();
        }
    }
}
