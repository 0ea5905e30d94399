//! Fallible access to cookies and localStorage. Browsers block either of them
//! (privacy modes, Safari ITP, sandboxed iframes, quota errors): every
//! function here returns `None`/`false` instead of throwing, and callers keep
//! working from memory.

use std::cell::OnceCell;

use wasm_bindgen::prelude::*;
use crate::js::{get_string, global, parse_json_value, Array};

/// A year in seconds (`max-age` of the id cookies).
const YEAR_SECONDS: u32 = 31_536_000;

/// Whether the browser lets us have `window.localStorage`.
pub fn local_storage_available() -> bool {
    global("localStorage").is_object()
}

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    #[wasm_bindgen(js_name = localGet)]
    fn local_item(key: &str) -> JsValue;

    /// `localStorage.setItem(key, value)`; false when the write failed
    /// (blocked storage, quota exceeded).
    #[wasm_bindgen(js_name = localSet)]
    pub fn local_set(key: &str, value: &str) -> bool;

    /// `localStorage.removeItem(key)`, unless storage is blocked.
    #[wasm_bindgen(js_name = localRemove)]
    pub fn local_remove(key: &str);

    /// The localStorage keys that start with `prefix`; none when storage is
    /// blocked.
    #[wasm_bindgen(js_name = localKeys)]
    pub fn local_keys(prefix: &str) -> Array;

    #[wasm_bindgen(js_name = getCookie)]
    fn cookie(name: &str) -> JsValue;

    /// Writes one cookie (`max-age` in seconds, on `domain` unless empty);
    /// false when the browser refused it.
    #[wasm_bindgen(js_name = setCookie)]
    fn write_cookie(name: &str, value: &str, max_age: u32, domain: &str) -> bool;
}

/// `localStorage.getItem(key)`; `None` when absent or storage is blocked.
pub fn local_get(key: &str) -> Option<String> {
    local_item(key).as_string()
}

/// `localStorage.getItem(key)` parsed as JSON: `null` when absent or storage
/// is blocked, `undefined` when it is not JSON.
pub fn local_json(key: &str) -> JsValue {
    parse_json_value(&local_item(key))
}

/// The value of cookie `name`, URI-decoded; `None` when it is absent,
/// empty or malformed, or cookies are blocked.
pub fn cookie_get(name: &str) -> Option<String> {
    cookie(name).as_string()
}

/// Sets (or, with `None`, deletes) cookie `name` on the registrable domain
/// for a year, SameSite=Lax, unless the browser refuses it.
pub fn cookie_set(name: &str, value: Option<&str>) {
    let max_age = if value.is_some() { YEAR_SECONDS } else { 0 };
    write_cookie(name, value.unwrap_or_default(), max_age, registrable_domain());
}

thread_local! {
    // A `&'static str` (the probed domain is leaked, once per page): nothing
    // to drop, so no destructor to register for the thread-local.
    static DOMAIN: OnceCell<&'static str> = const { OnceCell::new() };
}

/// The broadest domain the browser lets a cookie be set on (`example.co.uk`
/// for `www.shop.example.co.uk`), found once per page by probing from the top
/// down, as analytics.js does; `""` (a host-only cookie) for localhost and
/// IP addresses.
pub fn registrable_domain() -> &'static str {
    DOMAIN.with(|cell| *cell.get_or_init(probe_domain))
}

fn probe_domain() -> &'static str {
    let Some(host) = get_string(&global("location"), "hostname") else { return "" };
    let is_ip = host.contains(':') || host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if is_ip || !host.contains('.') {
        return "";
    }
    const PROBE: &str = "__za_tld__";
    // The candidates are the host's suffixes that start at a label: the last
    // two labels, then the last three, … up to the whole host.
    let bytes = host.as_bytes();
    let mut labels = 0;
    for start in (0..bytes.len()).rev() {
        if start > 0 && bytes[start - 1] != b'.' {
            continue;
        }
        labels += 1;
        if labels < 2 {
            continue;
        }
        let candidate = &host[start..];
        if write_cookie(PROBE, "1", 10, candidate) && cookie_get(PROBE).is_some() {
            write_cookie(PROBE, "", 0, candidate);
            return candidate.to_owned().leak();
        }
    }
    ""
}
