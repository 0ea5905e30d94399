//! The mapping core of zendesk-analytics.
//!
//! One pure function sits at the centre: [`map_event`] takes a Segment-spec
//! event and the destination settings and returns, per destination, either the
//! ordered list of typed operations to perform or a typed [`Skip`] with a
//! sentence a developer understands. The same crate runs in the browser (to
//! validate, drop what maps to nothing and show the operations in debug mode)
//! and in the proxy (which never trusts the browser and maps again), so it does
//! no I/O, never panics and is deterministic.

pub mod connect;
pub mod event;
mod map;
pub mod mapping;
pub mod settings;
pub mod text;
pub mod json;
pub mod to_json;
pub mod value;
pub mod zendesk;

pub use connect::{ConnectOp, ConnectUser};
pub use event::{Event, EventError, EventType};
pub use mapping::{map_event, Mapping, Outcome, Skip, SkipCode, Warning, WarningCode};
pub use settings::{ConnectSettings, EventSource, Settings, SettingsError, ZendeskSettings};
pub use json::ToJson;
pub use value::{Map, Number, Value, MAX_BODY_DEPTH};
pub use zendesk::ZendeskOp;
