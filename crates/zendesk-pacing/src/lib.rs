//! Request pacing by Zendesk's rate-limit headers, for every client of one
//! Zendesk account (the proxy's delivery, the Source's sync).
//!
//! A client's own budget cannot see the other apps on the account, which
//! share its per-minute limit; Zendesk's answers can: `ratelimit-limit`,
//! `ratelimit-remaining`, `ratelimit-reset` (and the older `X-Rate-Limit`,
//! `X-Rate-Limit-Remaining`, without the reset). When little is left, the
//! rest is spread until the reset instead of being spent at once and met
//! with 429s.

use std::sync::Mutex;
use std::time::Duration;

use http::HeaderMap;
use tokio::time::Instant;

/// What an answer says is left of the account's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headroom {
    pub limit: u64,
    pub remaining: u64,
    pub reset: Duration,
}

impl Headroom {
    /// Reads both header families; `window` stands in for a missing reset.
    pub fn from_headers(headers: &HeaderMap, window: Duration) -> Option<Headroom> {
        let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        let limit = number("ratelimit-limit").or_else(|| number("x-rate-limit"))?;
        let remaining = number("ratelimit-remaining").or_else(|| number("x-rate-limit-remaining"))?;
        let reset = number("ratelimit-reset").map_or(window, Duration::from_secs);
        Some(Headroom { limit, remaining, reset })
    }
}

/// How long to hold the next Core request when Zendesk says only `remaining`
/// of the account's `limit` requests are left until `reset`: nothing while
/// more than a tenth is left; below that, what is left is spread evenly over
/// the rest of the minute, so other apps on the account (which share the
/// limit) and this sync both keep working instead of meeting 429s.
pub fn spacing(limit: u64, remaining: u64, reset: Duration) -> Option<Duration> {
    if limit == 0 || remaining.saturating_mul(10) >= limit {
        return None;
    }
    let slots = u32::try_from(remaining + 1).unwrap_or(u32::MAX);
    Some(reset / slots)
}

/// Spaces Core requests apart while Zendesk reports the account running low:
/// each request takes the next free slot, so streams waiting together are
/// released one by one rather than in a burst that would meet a 429.
#[derive(Debug, Default)]
pub struct Pacer {
    state: Mutex<PacerState>,
}

#[derive(Debug, Default)]
struct PacerState {
    spacing: Option<Duration>,
    /// Until when the spacing holds: answers to requests sent together
    /// arrive in any order, so within one window the most careful one wins.
    until: Option<Instant>,
    next_slot: Option<Instant>,
    /// The earliest end of the account's current window known so far, and
    /// the `remaining` last reported in it.
    window: Option<(Instant, u64)>,
}

impl Pacer {
    /// Applies an answer's headroom: `spacing` (`None`: the account is fine)
    /// for the `reset` left of the account's window.
    pub fn set_spacing(&self, spacing: Option<Duration>, reset: Duration) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let current = state.spacing.filter(|_| state.until.is_some_and(|until| until > now));
        if current.is_some_and(|c| spacing.is_none_or(|s| s < c)) {
            return;
        }
        state.spacing = spacing;
        state.until = Some(now + reset);
        state.next_slot = spacing.map(|s| {
            let after_this_answer = now + s;
            state.next_slot.map_or(after_this_answer, |slot| slot.max(after_this_answer))
        });
    }

    /// How long until the account's window resets, from this answer's
    /// `reset` and the earlier answers of the same window. Zendesk counts
    /// fixed windows ("the current minute") and gives the reset in whole
    /// seconds, rounded up, so each answer bounds the end from above and the
    /// smallest bound of the window is the closest. Taking each answer alone,
    /// a client that spent its budget in a burst would wait up to a second
    /// past every reset.
    pub fn time_to_reset(&self, remaining: u64, reset: Duration) -> Duration {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let bound = now + reset;
        // A bound already passed, or more left than before: a new window.
        let end = match state.window {
            Some((end, left)) if end > now && remaining <= left => end.min(bound),
            _ => bound,
        };
        state.window = Some((end, remaining));
        end - now
    }

    /// Waits for this request's slot; returns how long it waited.
    pub async fn wait(&self) -> Duration {
        let start = Instant::now();
        let slot = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let Some(spacing) = state.spacing else { return Duration::ZERO };
            let slot = state.next_slot.map_or(start, |next| next.max(start));
            state.next_slot = Some(slot + spacing);
            slot
        };
        tokio::time::sleep_until(slot).await;
        start.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headroom_reads_either_header_family() {
        let mut headers = HeaderMap::new();
        headers.insert("x-rate-limit", "700".parse().unwrap());
        headers.insert("x-rate-limit-remaining", "12".parse().unwrap());
        let minute = Duration::from_secs(60);
        assert_eq!(Headroom::from_headers(&headers, minute), Some(Headroom { limit: 700, remaining: 12, reset: minute }));
        headers.insert("ratelimit-limit", "400".parse().unwrap());
        headers.insert("ratelimit-remaining", "3".parse().unwrap());
        headers.insert("ratelimit-reset", "9".parse().unwrap());
        assert_eq!(Headroom::from_headers(&headers, minute), Some(Headroom { limit: 400, remaining: 3, reset: Duration::from_secs(9) }));
        assert_eq!(Headroom::from_headers(&HeaderMap::new(), minute), None);
    }

    #[test]
    fn spacing_starts_below_a_tenth_left_and_spreads_the_rest_over_the_reset() {
        let minute = Duration::from_secs(60);
        assert_eq!(spacing(700, 71, minute), None);
        assert_eq!(spacing(700, 70, minute), None);
        assert_eq!(spacing(700, 69, minute), Some(minute / 70));
        assert_eq!(spacing(700, 0, minute), Some(minute), "none left: wait for the reset");
        assert_eq!(spacing(0, 0, minute), None, "a nonsense limit changes nothing");
    }

    #[tokio::test(start_paused = true)]
    async fn the_reset_is_the_closest_bound_of_the_window_until_a_new_window_begins() {
        let pacer = Pacer::default();
        let second = Duration::from_secs(1);
        assert_eq!(pacer.time_to_reset(5, second), second);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(pacer.time_to_reset(4, second), Duration::from_millis(700), "the first answer's bound is closer");
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(pacer.time_to_reset(5, second), second, "past the bound: a new window");
        assert_eq!(pacer.time_to_reset(6, Duration::from_secs(2)), Duration::from_secs(2), "more left than before: a new window");
    }

    #[tokio::test(start_paused = true)]
    async fn a_pacer_releases_waiting_requests_one_slot_apart_until_a_new_window_says_otherwise() {
        let pacer = Pacer::default();
        assert_eq!(pacer.wait().await, Duration::ZERO, "no spacing until Zendesk asks for it");
        pacer.set_spacing(Some(Duration::from_secs(2)), Duration::from_secs(10));
        pacer.set_spacing(Some(Duration::from_secs(1)), Duration::from_secs(10));
        let start = Instant::now();
        let (a, b, c) = tokio::join!(pacer.wait(), pacer.wait(), pacer.wait());
        let mut waits = [a, b, c];
        waits.sort();
        assert_eq!(waits, [Duration::from_secs(2), Duration::from_secs(4), Duration::from_secs(6)]);
        assert_eq!(start.elapsed(), Duration::from_secs(6));
        pacer.set_spacing(None, Duration::from_secs(1));
        assert!(pacer.wait().await > Duration::ZERO, "a late answer from the same window does not lift the spacing");
        tokio::time::sleep(Duration::from_secs(10)).await;
        pacer.set_spacing(None, Duration::from_secs(1));
        assert_eq!(pacer.wait().await, Duration::ZERO);
    }

}
