//! Who the events are about: anonymousId, userId, traits, group.
//!
//! The ids live in a first-party cookie on the registrable domain (shared by
//! every subdomain) mirrored to localStorage; when the two disagree the
//! cookie wins and localStorage is resynced. Traits live in localStorage only
//! (cookies travel with every request). When both stores are blocked,
//! memory is all there is. Everything is read once at load and kept in
//! memory: storage is written only when something changes, never read per call.

use zendesk_analytics_core::text::{sentence, Piece::Int};
use zendesk_analytics_core::{Map, ToJson};

use crate::event::MAX_EVENT_BYTES;

use crate::js::{to_map, uuid_v4};
use crate::storage::{cookie_get, cookie_set, local_get, local_json, local_remove, local_set};

pub const USER_ID_KEY: &str = "za_uid";
pub const ANONYMOUS_ID_KEY: &str = "za_aid";
pub const GROUP_ID_KEY: &str = "za_gid";
const USER_TRAITS_KEY: &str = "za_user_traits";
const GROUP_TRAITS_KEY: &str = "za_group_traits";

/// The identity state, in memory, persisted on change.
#[derive(Debug, Clone)]
pub struct Identity {
    pub anonymous_id: String,
    pub user: Party,
    pub group: Party,
}

/// The user or the group: an id (once known) and traits.
#[derive(Debug, Clone, Default)]
pub struct Party {
    pub id: Option<String>,
    pub traits: Map,
    /// `traits` as JSON, as last loaded or stored ("" once forgotten): an
    /// update that leaves the same text changes nothing and writes nothing.
    traits_json: String,
}

/// Where a party is stored: the key of its id, then of its traits.
type Keys = [&'static str; 2];
const USER_KEYS: Keys = [USER_ID_KEY, USER_TRAITS_KEY];
const GROUP_KEYS: Keys = [GROUP_ID_KEY, GROUP_TRAITS_KEY];

/// Reads an id: the cookie wins; localStorage is resynced to it, and a value
/// found only in localStorage is written back to the cookie.
fn load_id(key: &str) -> Option<String> {
    let cookie = cookie_get(key);
    let local = local_get(key).filter(|v| !v.is_empty());
    match (cookie, local) {
        (Some(c), local) => {
            if local.as_deref() != Some(&c) {
                local_set(key, &c);
            }
            Some(c)
        }
        (None, Some(l)) => {
            cookie_set(key, Some(&l));
            Some(l)
        }
        (None, None) => None,
    }
}

fn store_id(key: &str, value: Option<&str>) {
    cookie_set(key, value);
    match value {
        Some(v) => {
            local_set(key, v);
        }
        None => local_remove(key),
    }
}

impl Party {
    fn load([id_key, traits_key]: Keys) -> Party {
        let traits = to_map(&local_json(traits_key)).unwrap_or_default();
        Party { id: load_id(id_key), traits_json: traits.to_json(), traits }
    }

    /// Whether `id` is given and differs from the current one.
    fn changes_to(&self, id: Option<&str>) -> bool {
        id.is_some_and(|new| self.id.as_deref() != Some(new))
    }

    /// Takes `id` when one is given and merges `traits` (into none when
    /// `afresh`: another user or group), storing what changed.
    /// The traits an update leaves, if they change: `traits` merged into
    /// those kept (none, `afresh`). Refused when they alone are over what one
    /// event may carry: kept, they would make every later call of this user
    /// or group too big, on every page.
    /// A repeated identify leaves the same text: storage is only written
    /// when something changed, so such a page pays nothing.
    fn next_traits(&self, traits: &Map, afresh: bool) -> Result<Option<(Map, String)>, String> {
        let mut next = if afresh { Map::new() } else { self.traits.clone() };
        for (key, value) in traits.iter() {
            next.insert(key.clone(), value.clone());
        }
        // Map keeps its keys sorted, so equal traits give equal text.
        let json = next.to_json();
        if json == self.traits_json {
            return Ok(None);
        }
        let size = json.len();
        if size > MAX_EVENT_BYTES {
            return Err(sentence(
                "the traits would be {} bytes of JSON, over the {}-byte limit per event: send fewer or smaller traits",
                &[Int(size as i64), Int(MAX_EVENT_BYTES as i64)],
            ));
        }
        Ok(Some((next, json)))
    }

    fn update(&mut self, [id_key, traits_key]: Keys, id: Option<&str>, traits: Option<(Map, String)>) {
        if let Some(new) = id.filter(|_| self.changes_to(id)) {
            self.id = Some(new.to_owned());
            store_id(id_key, Some(new));
        }
        let Some((traits, json)) = traits else { return };
        if traits.is_empty() {
            local_remove(traits_key);
        } else {
            local_set(traits_key, &json);
        }
        self.traits = traits;
        self.traits_json = json;
    }

    /// Forgets the party, in storage too.
    fn forget(&mut self, [id_key, traits_key]: Keys) {
        store_id(id_key, None);
        local_remove(traits_key);
        *self = Party::default();
    }
}

impl Identity {
    /// The identity stored by earlier pages, or a fresh anonymous one.
    pub fn load() -> Identity {
        let anonymous_id = load_id(ANONYMOUS_ID_KEY).unwrap_or_else(|| {
            let id = uuid_v4();
            store_id(ANONYMOUS_ID_KEY, Some(&id));
            id
        });
        Identity { anonymous_id, user: Party::load(USER_KEYS), group: Party::load(GROUP_KEYS) }
    }

    /// `identify`: a different known user means a different person on this
    /// device, so the anonymousId and traits start afresh; the same (or a first)
    /// user merges the traits.
    /// Refused, with nothing changed, when the traits would be too big for
    /// any event.
    pub fn identify(&mut self, user_id: Option<&str>, traits: &Map) -> Result<(), String> {
        let another_user = self.user.id.is_some() && self.user.changes_to(user_id);
        let traits = self.user.next_traits(traits, another_user)?;
        if another_user {
            self.set_anonymous_id(&uuid_v4());
        }
        self.user.update(USER_KEYS, user_id, traits);
        Ok(())
    }

    /// `group`: a new group id replaces the group traits; the same one merges.
    pub fn group(&mut self, group_id: Option<&str>, traits: &Map) -> Result<(), String> {
        let another_group = self.group.changes_to(group_id);
        let traits = self.group.next_traits(traits, another_group)?;
        self.group.update(GROUP_KEYS, group_id, traits);
        Ok(())
    }

    pub fn set_anonymous_id(&mut self, id: &str) {
        if self.anonymous_id != id {
            self.anonymous_id = id.to_owned();
            store_id(ANONYMOUS_ID_KEY, Some(id));
        }
    }

    /// `reset()`: forget the user and group, start a new anonymous visitor.
    pub fn reset(&mut self) {
        self.user.forget(USER_KEYS);
        self.group.forget(GROUP_KEYS);
        self.set_anonymous_id(&uuid_v4());
    }
}
