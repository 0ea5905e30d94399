//! Who the events are about: anonymousId, userId, traits, group.
//!
//! The ids live in a first-party cookie on the registrable domain (shared by
//! every subdomain) mirrored to localStorage; when the two disagree the
//! cookie wins and localStorage is resynced. Traits live in localStorage only
//! (cookies travel with every request). When both stores are blocked,
//! memory is all there is. Everything is read once at load and kept in
//! memory: storage is written only when something changes, never read per call.

use zendesk_analytics_core::Map;

use crate::js::{parse_json_object, uuid_v4};
use crate::json::object_to_json;
use crate::storage::{cookie_get, cookie_set, local_get, local_remove, local_set};

pub const USER_ID_KEY: &str = "za_uid";
pub const ANONYMOUS_ID_KEY: &str = "za_aid";
pub const GROUP_ID_KEY: &str = "za_gid";
const USER_TRAITS_KEY: &str = "za_user_traits";
const GROUP_TRAITS_KEY: &str = "za_group_traits";

/// The identity state, in memory, persisted on change.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user_id: Option<String>,
    pub anonymous_id: String,
    pub traits: Map,
    pub group_id: Option<String>,
    pub group_traits: Map,
}

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

fn load_map(key: &str) -> Map {
    local_get(key).and_then(|text| parse_json_object(&text)).unwrap_or_default()
}

/// Merges `traits` into `into`; whether anything changed (storage is only
/// written when it did: a page repeating the same identify pays nothing).
fn merge(into: &mut Map, traits: &Map) -> bool {
    let mut changed = false;
    for (key, value) in traits.iter() {
        if into.get(key) != Some(value) {
            into.insert(key.clone(), value.clone());
            changed = true;
        }
    }
    changed
}

fn store_map(key: &str, map: &Map) {
    if map.is_empty() {
        local_remove(key);
    } else {
        local_set(key, &object_to_json(map));
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
        Identity {
            user_id: load_id(USER_ID_KEY),
            anonymous_id,
            traits: load_map(USER_TRAITS_KEY),
            group_id: load_id(GROUP_ID_KEY),
            group_traits: load_map(GROUP_TRAITS_KEY),
        }
    }

    /// `identify`: a different known user means a different person on this
    /// device, so the anonymousId and traits start afresh; the same (or a first)
    /// user merges the traits.
    pub fn identify(&mut self, user_id: Option<&str>, traits: &Map) {
        if let Some(new) = user_id {
            if self.user_id.as_deref() != Some(new) {
                if self.user_id.is_some() {
                    self.set_anonymous_id(&uuid_v4());
                    self.traits.clear();
                }
                self.user_id = Some(new.to_owned());
                store_id(USER_ID_KEY, Some(new));
            }
        }
        if merge(&mut self.traits, traits) {
            store_map(USER_TRAITS_KEY, &self.traits);
        }
    }

    /// `group`: a new group id replaces the group traits; the same one merges.
    pub fn group(&mut self, group_id: Option<&str>, traits: &Map) {
        if let Some(new) = group_id {
            if self.group_id.as_deref() != Some(new) {
                self.group_traits.clear();
                self.group_id = Some(new.to_owned());
                store_id(GROUP_ID_KEY, Some(new));
            }
        }
        if merge(&mut self.group_traits, traits) {
            store_map(GROUP_TRAITS_KEY, &self.group_traits);
        }
    }

    pub fn set_anonymous_id(&mut self, id: &str) {
        if self.anonymous_id != id {
            self.anonymous_id = id.to_owned();
            store_id(ANONYMOUS_ID_KEY, Some(id));
        }
    }

    /// `reset()`: forget the user and group, start a new anonymous visitor.
    pub fn reset(&mut self) {
        for key in [USER_ID_KEY, GROUP_ID_KEY] {
            store_id(key, None);
        }
        local_remove(USER_TRAITS_KEY);
        local_remove(GROUP_TRAITS_KEY);
        let anonymous_id = uuid_v4();
        store_id(ANONYMOUS_ID_KEY, Some(&anonymous_id));
        *self = Identity { user_id: None, anonymous_id, traits: Map::new(), group_id: None, group_traits: Map::new() };
    }
}
