//! Fallible access to cookies and localStorage. Browsers block either of them
//! (privacy modes, Safari ITP, sandboxed iframes, quota errors): every
//! function here returns `None`/`false` instead of throwing, and callers keep
//! working from memory.

use std::cell::OnceCell;

use wasm_bindgen::{JsCast, JsValue};
use web_sys::Storage;

use crate::js::{call, call_with_text, get_string, global, set};

/// A year in seconds (`max-age` of the id cookies).
const YEAR_SECONDS: &str = "31536000";

/// `window.localStorage`, if the browser lets us have it.
pub fn local_storage() -> Option<Storage> {
    Some(global("localStorage")).filter(JsValue::is_object).map(JsCast::unchecked_into)
}

pub fn local_get(key: &str) -> Option<String> {
    let storage = local_storage()?;
    call(&storage, "getItem", &[&key.into()]).ok()?.as_string()
}

/// False when the write failed (blocked storage, quota exceeded).
pub fn local_set(key: &str, value: &str) -> bool {
    local_storage().is_some_and(|s| call(&s, "setItem", &[&key.into(), &value.into()]).is_ok())
}

pub fn local_remove(key: &str) {
    if let Some(storage) = local_storage() {
        let _ = call(&storage, "removeItem", &[&key.into()]);
    }
}

/// `document.cookie`, unless the page's cookies are blocked.
fn cookies() -> Option<String> {
    get_string(&global("document"), "cookie")
}

/// Writes one `document.cookie` line; false when the browser refused it.
fn write_cookie(line: &str) -> bool {
    set(&global("document"), "cookie", &line.into())
}

/// The value of cookie `name`, URI-decoded.
pub fn cookie_get(name: &str) -> Option<String> {
    let all = cookies()?;
    all.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        if k != name {
            return None;
        }
        call_with_text("decodeURIComponent", v).filter(|v| !v.is_empty())
    })
}

/// Sets (or, with `None`, deletes) cookie `name` on the registrable domain
/// for a year, SameSite=Lax. False when the browser refused it.
pub fn cookie_set(name: &str, value: Option<&str>) -> bool {
    let encoded = value.and_then(|v| call_with_text("encodeURIComponent", v)).unwrap_or_default();
    let max_age = if value.is_some() { YEAR_SECONDS } else { "0" };
    let domain = registrable_domain().unwrap_or_default();
    let domain_attribute = if domain.is_empty() { "" } else { "; domain=" };
    let line = [name, "=", &encoded, "; path=/; max-age=", max_age, "; SameSite=Lax", domain_attribute, &domain].concat();
    write_cookie(&line) && (value.is_none() || cookie_get(name).as_deref() == value)
}

thread_local! {
    static DOMAIN: OnceCell<Option<String>> = const { OnceCell::new() };
}

/// The broadest domain the browser lets a cookie be set on (`example.co.uk`
/// for `www.shop.example.co.uk`), found once per page by probing from the top
/// down, as analytics.js does; `None` for localhost and IP addresses.
pub fn registrable_domain() -> Option<String> {
    DOMAIN.with(|cell| cell.get_or_init(probe_domain).clone())
}

fn probe_domain() -> Option<String> {
    let host = get_string(&global("location"), "hostname")?;
    let is_ip = host.contains(':') || host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if is_ip || !host.contains('.') {
        return None;
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
        if write_cookie(&[PROBE, "=1; path=/; max-age=10; domain=", candidate].concat()) && cookie_get(PROBE).is_some() {
            write_cookie(&[PROBE, "=; path=/; max-age=0; domain=", candidate].concat());
            return Some(candidate.to_owned());
        }
    }
    None
}
