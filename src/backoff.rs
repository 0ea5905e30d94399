//! When to try again after a failed send: 0.5 s doubling to 60 s with ±20 %
//! jitter (so many browsers recovering together do not hit the proxy in
//! step), or what the proxy's `Retry-After` says on 429.

use crate::js::{parse_date, parse_float};

/// Most sending attempts per event before it is dropped with a reason.
pub const MAX_ATTEMPTS: u32 = 10;
const BASE_MS: f64 = 500.0;
const CAP_MS: f64 = 60_000.0;
/// The longest `Retry-After` honoured.
const RETRY_AFTER_CAP_MS: f64 = 300_000.0;

/// Delay before attempt `attempt + 1` (attempt ≥ 1), with `random` in [0, 1).
pub fn delay_ms(attempt: u32, random: f64) -> f64 {
    let exponent = attempt.saturating_sub(1).min(16) as i32;
    let base = (BASE_MS * 2f64.powi(exponent)).min(CAP_MS);
    (base * (0.8 + 0.4 * random)).min(CAP_MS)
}

/// `Retry-After` as milliseconds: delta-seconds or an HTTP date (`now_ms` is
/// the current time); `None` when unreadable.
pub fn retry_after_ms(header: &str, now_ms: f64) -> Option<f64> {
    let header = header.trim();
    let is_seconds = !header.is_empty() && header.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let ms = match is_seconds {
        true => parse_float(header) * 1000.0,
        false => {
            let at = parse_date(header);
            if at.is_nan() {
                return None;
            }
            (at - now_ms).max(0.0)
        }
    };
    Some(ms.min(RETRY_AFTER_CAP_MS))
}
