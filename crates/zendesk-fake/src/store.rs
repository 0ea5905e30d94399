//! The fake account's data, in memory.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// A user identity (Zendesk keeps every email of a user as one).
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub id: u64,
    pub kind: &'static str,
    pub value: String,
    pub primary: bool,
    pub verified: bool,
}

/// A Zendesk user.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub external_id: Option<String>,
    pub phone: Option<String>,
    pub time_zone: String,
    pub organization_id: Option<u64>,
    pub role: String,
    pub verified: bool,
    pub tags: Vec<String>,
    pub user_fields: Map<String, Value>,
    pub identities: Vec<Identity>,
    pub created_at: String,
    pub updated_at: String,
}

impl User {
    /// The primary email, which Zendesk shows as `email`.
    pub fn email(&self) -> Option<&str> {
        self.identities
            .iter()
            .find(|i| i.kind == "email" && i.primary)
            .map(|i| i.value.as_str())
    }

    pub fn has_email(&self, email: &str) -> bool {
        self.identities
            .iter()
            .any(|i| i.kind == "email" && i.value.eq_ignore_ascii_case(email))
    }

    /// The user as Zendesk's API renders it.
    pub fn to_json(&self, base_url: &str) -> Value {
        json!({
            "id": self.id,
            "url": format!("{base_url}/api/v2/users/{}.json", self.id),
            "name": self.name,
            "email": self.email(),
            "external_id": self.external_id,
            "phone": self.phone,
            "time_zone": self.time_zone,
            "locale": "en-US",
            "locale_id": 1,
            "organization_id": self.organization_id,
            "role": self.role,
            "verified": self.verified,
            "active": true,
            "suspended": false,
            "tags": self.tags,
            "user_fields": self.user_fields,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// Everything the fake account holds.
#[derive(Debug, Default)]
pub struct Store {
    next_id: u64,
    pub users: BTreeMap<u64, User>,
}

impl Store {
    /// A fresh id; Zendesk ids are large positive integers.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        360_000_000_000 + self.next_id
    }

    /// Now, as Zendesk writes timestamps (ISO-8601, whole seconds, UTC).
    pub fn now(&self) -> String {
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
    }

    pub fn user_by_external_id(&self, external_id: &str) -> Option<u64> {
        self.users
            .values()
            .find(|u| u.external_id.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(external_id)))
            .map(|u| u.id)
    }

    pub fn users_by_email(&self, email: &str) -> Vec<u64> {
        self.users.values().filter(|u| u.has_email(email)).map(|u| u.id).collect()
    }
}
