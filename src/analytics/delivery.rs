//! Delivery: the queue, its flush timer and backoff, sending batches to the
//! proxy, page exit, and taking over the queues other tabs left.

use wasm_bindgen::prelude::*;
use zendesk_analytics_core::text::{sentence, Piece::{Int, Text}};

use super::{Inner, FLUSH_INTERVAL_MS};
use crate::backoff::{delay_ms, MAX_ATTEMPTS};
use crate::callbacks::{after, forever, set_interval, set_timeout};
use crate::emitter::Delivery;
use crate::js::{get, global, now, parse_json, random, warn, Promise};
use crate::json::ObjectText;
use crate::persist::HEARTBEAT_MS;
use crate::queue::{fitting, message_ids, Queued, FLUSH_AT};
use crate::transport::{accepted, body, post, send_on_exit, SendError, MAX_BATCH_BYTES, MAX_KEEPALIVE_BYTES};

/// Why an event pushed out of a full queue was dropped; also said once on the
/// console (per page: a full queue drops an event per call, and a line each
/// would flood the console and slow every call).
const QUEUE_FULL: &str = "the event queue is full (the proxy has been unreachable for long): the oldest events are dropped, each reported through on('dropped')";

impl Inner {
    /// Queues an event the mapping kept; its send is due at 20 events or in 5 s.
    pub(super) fn enqueue(&'static self, event: Queued) {
        let (evicted, len) = {
            let mut queue = self.queue.borrow_mut();
            let evicted = queue.push(event);
            (evicted, queue.len())
        };
        for old in evicted {
            if !self.queue_full_warned.replace(true) {
                warn(QUEUE_FULL);
            }
            self.emit_dropped(&old, QUEUE_FULL);
        }
        self.save_soon();
        if len >= FLUSH_AT {
            self.schedule(0.0);
        } else {
            self.schedule(FLUSH_INTERVAL_MS);
        }
    }

    /// Takes back an event queued before its mapping, now refused by it.
    pub(super) fn unqueue(&'static self, message_id: &str) {
        if !self.queue.borrow_mut().remove(&[message_id.to_owned()]).is_empty() {
            self.save_soon();
        }
    }

    fn report_dropped(&self, event: &Queued, reason: &str) {
        warn(&["event ", &event.message_id, " dropped: ", reason].concat());
        self.emit_dropped(event, reason);
    }

    fn emit_dropped(&self, event: &Queued, reason: &str) {
        let mut payload = ObjectText::new();
        payload.value("messageId", &event.message_id);
        payload.value("dropped", reason);
        payload.json("event", &event.json);
        self.emit(Delivery::Dropped, &parse_json(&payload.finish()));
    }

    /// Persists the queue once the current task is done: a burst of calls
    /// costs one storage write, not one each.
    fn save_soon(&'static self) {
        if self.save_scheduled.replace(true) {
            return;
        }
        set_timeout(0.0, move || {
            self.save_scheduled.set(false);
            self.save();
        });
    }

    pub(super) fn save(&self) {
        self.persisted.save(&self.queue.borrow(), self.closing.get());
    }

    /// Makes sure a send happens within `delay_ms` (not before the backoff allows).
    fn schedule(&'static self, delay_ms: f64) {
        let now = now();
        let due = (now + delay_ms).max(self.retry_at.get());
        if self.timer_due.get().is_some_and(|pending| pending <= due) {
            return;
        }
        let generation = self.timer_generation.get().wrapping_add(1);
        self.timer_generation.set(generation);
        self.timer_due.set(Some(due));
        set_timeout(due - now, move || {
            if self.timer_generation.get() == generation {
                self.timer_due.set(None);
                self.drain(false);
            }
        });
    }

    /// `flush()` waits out a send in progress (its batch may not hold the
    /// latest events), then drains.
    pub(super) fn flush_when_idle(&'static self) -> JsValue {
        let sending = self.sending.borrow().clone();
        if let Some(sending) = sending {
            return after(&sending, move |_| self.flush_when_idle()).into();
        }
        self.drain(true)
    }

    /// Sends queued events batch by batch until the queue is empty or the
    /// proxy asks us to wait. `forced` (an explicit `flush()`) ignores the
    /// backoff timer, never the offline state. Returns the Promise of the
    /// sending, if it started.
    pub(super) fn drain(&'static self, forced: bool) -> JsValue {
        if self.sending.borrow().is_some() || !self.ready.get() {
            return JsValue::UNDEFINED;
        }
        if !online() {
            return JsValue::UNDEFINED; // the `online` listener resumes
        }
        if !forced && now() < self.retry_at.get() {
            self.schedule(0.0);
            return JsValue::UNDEFINED;
        }
        // Marked before the first request: its answer may come back at once.
        *self.sending.borrow_mut() = Some(Promise::resolve(&JsValue::UNDEFINED));
        let sending = self.send_next();
        if let Some(current) = self.sending.borrow_mut().as_mut() {
            *current = sending.clone().unchecked_into();
        }
        sending
    }

    /// Sends the oldest batch, then (from `sent`) the next one.
    fn send_next(&'static self) -> JsValue {
        let (ids, body) = {
            let queue = self.queue.borrow();
            let batch = queue.batch(MAX_BATCH_BYTES);
            if batch.is_empty() {
                self.sending.take();
                return JsValue::UNDEFINED;
            }
            (message_ids(batch), body(&self.write_key, batch))
        };
        post(&self.url, &body, move |outcome| self.sent(ids, outcome))
    }

    fn sent(&'static self, ids: Vec<String>, outcome: Result<(), SendError>) -> JsValue {
        let Err(failure) = outcome else {
            self.retry_at.set(0.0);
            self.delivered(&ids);
            return self.send_next();
        };
        // A refused batch is given up on at once (retrying cannot help), any
        // other failure once its events have used up their attempts.
        let refused = matches!(failure, SendError::Refused(_));
        let exhausted = self.queue.borrow_mut().fail(&ids, if refused { 0 } else { MAX_ATTEMPTS });
        self.save();
        let attempts_used;
        let reason = if refused {
            failure.reason()
        } else {
            attempts_used = sentence("not delivered after {} attempts ({})", &[Int(MAX_ATTEMPTS.into()), Text(failure.reason())]);
            &attempts_used
        };
        for event in &exhausted {
            self.report_dropped(event, reason);
        }
        if refused {
            return self.send_next();
        }
        let attempts = self.queue.borrow().events().first().map_or(1, |e| e.attempts.max(1));
        let wait = match failure {
            SendError::RateLimited(Some(ms)) => ms,
            _ => delay_ms(attempts, random()),
        };
        warn(&sentence("sending failed ({}); retrying in {} ms", &[Text(failure.reason()), Int(wait as i64)]));
        self.retry_at.set(now() + wait);
        self.sending.take();
        self.schedule(wait);
        JsValue::UNDEFINED
    }

    /// Takes over what closed and crashed tabs left queued (see persist.rs).
    pub(super) fn adopt_orphans(&self) {
        if let Some(evicted @ 1..) = self.persisted.adopt_orphans(&mut self.queue.borrow_mut()) {
            // Other pages' events, never seen by this page's on() listeners: the console says it.
            warn(&sentence("{} events left by closed tabs dropped: the event queue is full", &[Int(evicted as i64)]));
        }
    }

    /// Takes delivered events out of the queue and tells the `delivered`
    /// listeners, once per event: a batch and a page-exit request may both
    /// have carried it.
    fn delivered(&self, ids: &[String]) {
        let removed = self.queue.borrow_mut().remove(ids);
        self.save();
        if !removed.is_empty() {
            let mut payload = ObjectText::new();
            payload.value("messageIds", &removed);
            self.emit(Delivery::Delivered, &parse_json(&payload.finish()));
        }
    }

    /// Page exit: persist, then hand every queued event to keepalive requests.
    fn on_exit(&'static self) {
        self.save();
        let mut pending = Vec::new();
        for event in self.queue.borrow().events() {
            if !self.exit_sent.borrow().contains(&event.message_id) {
                pending.push(event.clone());
            }
        }
        // Keepalive requests in chunks, with room for the batch envelope.
        let mut rest = pending.as_slice();
        while !rest.is_empty() {
            let (chunk, next) = rest.split_at(fitting(rest, MAX_KEEPALIVE_BYTES - 256));
            rest = next;
            let ids = message_ids(chunk);
            self.exit_sent.borrow_mut().extend(ids.iter().cloned());
            let Some(request) = send_on_exit(&self.url, &body(&self.write_key, chunk)) else { continue };
            // If the page lives on (a hidden tab), learn the outcome.
            let _ = after(&request, move |answer| {
                if answer.as_ref().is_ok_and(accepted) {
                    self.delivered(&ids);
                }
                self.exit_sent.borrow_mut().retain(|id| !ids.contains(id));
                JsValue::UNDEFINED
            });
        }
    }

    /// `online`, `pagehide`, `pageshow`, `visibilitychange` and the heartbeat.
    pub(super) fn listen(&'static self) {
        listen("window", "online", &forever(move || {
            self.drain(true);
        }));
        listen("window", "pagehide", &forever(move || {
            self.closing.set(true);
            self.on_exit();
        }));
        // Back from the back/forward cache: the stored queue is live again.
        listen("window", "pageshow", &forever(move || {
            self.closing.set(false);
            self.save();
        }));
        listen("document", "visibilitychange", &forever(move || {
            if get(&global("document"), "visibilityState") == "hidden" {
                self.on_exit();
            }
        }));
        let heartbeat = forever(move || {
            self.adopt_orphans();
            if !self.queue.borrow().is_empty() {
                self.save();
                // Adopted events go out as the page's own do: within the flush interval.
                self.schedule(FLUSH_INTERVAL_MS);
            }
        });
        set_interval(&heartbeat, HEARTBEAT_MS);
    }
}

fn online() -> bool {
    get(&global("navigator"), "onLine") != JsValue::FALSE
}

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// Calls `listener` on every `event` of the global `target` (`window`,
    /// `document`) for the page's lifetime.
    fn listen(target: &str, event: &str, listener: &JsValue);
}
