//! Where the queue lives between page loads, and which tab sends what.
//!
//! Each tab stores its queue under its own key (`za_q:{writeKey}:{tabId}`)
//! with a heartbeat time, so tabs never overwrite each other's events. A tab
//! that closes marks its entry closed (on `pagehide`); a tab that crashed
//! stops its heartbeat. A tab adopts closed and stale entries when it loads
//! and on its heartbeat (so an open tab sends what a closed one could not),
//! under a cross-tab lock, so exactly one tab takes over (and sends) them.

use zendesk_analytics_core::text::{sentence, Piece::{Int, Text}};
use wasm_bindgen::JsValue;
use zendesk_analytics_core::Number;

use crate::js::{get, now, parse_float, uuid_v4};
use crate::json::ObjectText;
use crate::queue::Queue;
use crate::storage::{local_get, local_json, local_keys, local_remove, local_set, local_storage_available};

/// A live tab rewrites its entry at least this often while it has events.
pub const HEARTBEAT_MS: i32 = 5_000;
/// An entry not rewritten for this long belongs to a tab that is gone (it
/// crashed): well past the once a minute Chromium runs a background tab's
/// timers, so a throttled tab is not taken for gone while it still sends.
const STALE_MS: f64 = 90_000.0;
/// How long a lock holder may keep the lock.
const LOCK_MS: f64 = 5_000.0;

/// This tab's place in localStorage.
#[derive(Debug, Clone)]
pub struct Persisted {
    prefix: String,
    key: String,
    lock_key: String,
    tab_id: String,
}

impl Persisted {
    pub fn new(write_key: &str) -> Persisted {
        let tab_id = uuid_v4();
        let prefix = ["za_q:", write_key, ":"].concat();
        Persisted { key: [prefix.as_str(), &tab_id].concat(), lock_key: ["za_lock:", write_key].concat(), prefix, tab_id }
    }

    /// Writes this tab's queue; `closed` when the page is going away. False
    /// when storage refused the write.
    pub fn save(&self, queue: &Queue, closed: bool) -> bool {
        if queue.is_empty() {
            local_remove(&self.key);
            return true;
        }
        let mut entry = ObjectText::new();
        entry.value("t", &Number::from_f64(now()));
        entry.value("c", &closed);
        entry.json("q", &queue.to_storage());
        local_set(&self.key, &entry.finish())
    }

    /// Moves the events of closed or stale tabs into `queue` (deduplicated
    /// by messageId) and deletes their entries, unless another tab holds the
    /// lock (it is adopting them: `None`). Returns how many events a full
    /// queue pushed out. The lock is taken only when there is something to
    /// adopt: a live tab checks on every heartbeat.
    pub fn adopt_orphans(&self, queue: &mut Queue) -> Option<usize> {
        let mut evicted = 0;
        let mut any = false;
        self.each_orphan(&mut |_, _| any = true);
        if !any {
            return Some(evicted);
        }
        if !self.lock() {
            return None;
        }
        // Read again under the lock: another tab may have taken some since.
        self.each_orphan(&mut |key, entry| {
            queue.adopt(&get(entry, "q"), &mut evicted);
            local_remove(key);
        });
        self.unlock();
        Some(evicted)
    }

    /// Calls `f` with the key and parsed entry of each other tab that
    /// closed, or stopped its heartbeat long enough ago to have crashed.
    fn each_orphan(&self, f: &mut dyn FnMut(&str, &JsValue)) {
        let now = now();
        for key in local_keys(&self.prefix).iter() {
            let Some(key) = key.as_string().filter(|key| *key != self.key) else { continue };
            let entry = local_json(&key);
            let field = |name: &str| get(&entry, name);
            let closed = field("c").as_bool().unwrap_or(true);
            let stale = field("t").as_f64().is_none_or(|t| now - t > STALE_MS);
            if closed || stale {
                f(&key, &entry);
            }
        }
    }

    /// Takes the cross-tab lock: free or expired, then written and read back
    /// (another tab writing at the same moment makes the read-back differ).
    fn lock(&self) -> bool {
        let now = now();
        if let Some(held) = local_get(&self.lock_key) {
            let (owner, until) = held.split_once('|').unwrap_or(("", "0"));
            if owner != self.tab_id && parse_float(until) > now {
                return false;
            }
        }
        let mine = sentence("{}|{}", &[Text(&self.tab_id), Int((now + LOCK_MS) as i64)]);
        // Storage blocked: no other tab can share our queue either.
        if !local_storage_available() {
            return true;
        }
        local_set(&self.lock_key, &mine) && local_get(&self.lock_key).as_deref() == Some(mine.as_str())
    }

    fn unlock(&self) {
        if local_get(&self.lock_key).is_some_and(|held| held.starts_with(&self.tab_id)) {
            local_remove(&self.lock_key);
        }
    }
}
