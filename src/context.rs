//! The automatic `context` of every event: library, page, userAgent, locale,
//! IANA timezone and campaign (`utm_*`). What cannot change during a page's
//! life is read once; the page is read per call, because single-page apps
//! change the URL without reloading.

use zendesk_analytics_core::{Map, Value};

use crate::event::put;
use wasm_bindgen::prelude::*;

use crate::js::{get_string, to_map};

pub const LIBRARY_NAME: &str = "zendesk-analytics";
pub const LIBRARY_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The parts of the context fixed for the page's lifetime (library,
/// userAgent, locale, timezone), built once and copied into each event.
#[derive(Debug, Clone, Default)]
pub struct StaticContext(Map);

impl StaticContext {
    pub fn read() -> StaticContext {
        let mut context = Map::new();
        let mut library = Map::new();
        put(&mut library, "name", LIBRARY_NAME.into());
        put(&mut library, "version", LIBRARY_VERSION.into());
        put(&mut context, "library", library.into());
        let found = static_context();
        for key in ["userAgent", "locale", "timezone"] {
            if let Some(value) = get_string(&found, key) {
                put(&mut context, key, value.into());
            }
        }
        StaticContext(context)
    }

    /// The full automatic context: these fields plus page and campaign.
    pub fn with_page(&self, page: Map) -> Map {
        let mut context = self.0.clone();
        let search = page.get("search").and_then(Value::as_str).unwrap_or_default();
        let campaign = campaign(search);
        if !campaign.is_empty() {
            put(&mut context, "campaign", campaign.into());
        }
        put(&mut context, "page", page.into());
        context
    }
}

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// The page's url, path, referrer, title and search.
    #[wasm_bindgen(js_name = pageContext)]
    fn page_context() -> JsValue;

    /// The `utm_*` members of a query string, as [`campaign`] describes them.
    #[wasm_bindgen(js_name = campaign)]
    fn campaign_object(search: &str) -> JsValue;

    /// `{userAgent, locale, timezone}`, each where known.
    #[wasm_bindgen(js_name = staticContext)]
    fn static_context() -> JsValue;
}

/// The current page as Segment's `context.page`: url, path, referrer, title,
/// search (read in one call: src/browser.js).
pub fn current_page() -> Map {
    to_map(&page_context()).unwrap_or_default()
}

/// `context.campaign` from `utm_*` query parameters (`utm_campaign` is
/// `name`, the others lose their prefix), the values URI-decoded with `+` a
/// space (kept raw when an escape is malformed). Split and decoded where the
/// decoding is, in src/browser.js: no string pattern code in the wasm for it.
pub fn campaign(search: &str) -> Map {
    to_map(&campaign_object(search)).unwrap_or_default()
}
