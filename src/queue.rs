//! The outgoing queue of events waiting to be sent to the proxy.

use zendesk_analytics_core::Value;

/// Flush as soon as this many events are waiting.
pub const FLUSH_AT: usize = 20;

/// Events in call order.
#[derive(Default)]
pub struct Queue {
    events: Vec<Value>,
}

impl Queue {
    pub fn push(&mut self, event: Value) {
        self.events.push(event);
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Takes every waiting event, leaving the queue empty.
    pub fn take(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.events)
    }

    /// Puts events that could not be sent back at the front, in order.
    pub fn restore(&mut self, mut events: Vec<Value>) {
        events.append(&mut self.events);
        self.events = events;
    }
}
