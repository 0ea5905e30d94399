//! Results handed to the page, written as JSON text (with the core's
//! writer): parsed once by the browser (`JSON.parse`) rather than built key
//! by key across the JS boundary, one string conversion per key.

use zendesk_analytics_core::json::{start_member, ToJson};

/// An object written member by member, in the order they are added.
pub struct ObjectText(String);

impl ObjectText {
    pub fn new() -> ObjectText {
        ObjectText(String::from("{"))
    }

    pub fn value(&mut self, key: &str, value: &(impl ToJson + ?Sized)) {
        start_member(&mut self.0, key);
        value.write_json(&mut self.0);
    }

    /// A member whose value is already JSON text (an event).
    pub fn json(&mut self, key: &str, json: &str) {
        start_member(&mut self.0, key);
        self.0.push_str(json);
    }

    pub fn finish(mut self) -> String {
        self.0.push('}');
        self.0
    }
}
