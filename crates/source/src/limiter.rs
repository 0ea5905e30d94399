//! Request pacing shared by every collection of a run.
//!
//! Zendesk counts requests per account per minute, so the budget is a sliding
//! window shared by all collections, not a per-collection limit; a 429 means
//! the account (not one collection) is over, so it pauses everyone.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// At most `limit` requests in any `window`.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    window: Duration,
    sent: Mutex<VecDeque<Instant>>,
}

impl Budget {
    pub fn new(limit: u32, window: Duration) -> Budget {
        Budget { limit: limit.max(1) as usize, window, sent: Mutex::new(VecDeque::new()) }
    }

    /// Waits for a free slot and takes it; returns how long it waited.
    pub async fn acquire(&self) -> Duration {
        let start = Instant::now();
        loop {
            let wait = {
                let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                while sent.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
                    sent.pop_front();
                }
                match sent.front() {
                    Some(oldest) if sent.len() >= self.limit => self.window - now.duration_since(*oldest),
                    _ => {
                        sent.push_back(now);
                        return start.elapsed();
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
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

/// The global pause set by a 429's `Retry-After`.
#[derive(Debug, Default)]
pub struct Pause {
    until: Mutex<Option<Instant>>,
}

impl Pause {
    /// Pauses every request for at least `duration` from now.
    pub fn pause_for(&self, duration: Duration) {
        let mut until = self.until.lock().unwrap_or_else(|p| p.into_inner());
        let candidate = Instant::now() + duration;
        if until.is_none_or(|current| current < candidate) {
            *until = Some(candidate);
        }
    }

    /// Waits until no pause is in force; returns how long it waited.
    pub async fn wait(&self) -> Duration {
        let start = Instant::now();
        loop {
            let until = *self.until.lock().unwrap_or_else(|p| p.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => return start.elapsed(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn budget_spreads_requests_over_the_window() {
        let budget = Budget::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(budget.acquire().await, Duration::ZERO);
        }
        budget.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(60), "the 4th request waits for the window");
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

    #[tokio::test(start_paused = true)]
    async fn pause_holds_everyone_until_it_expires_and_only_extends() {
        let pause = Pause::default();
        pause.pause_for(Duration::from_secs(10));
        pause.pause_for(Duration::from_secs(2));
        let start = Instant::now();
        pause.wait().await;
        assert!(start.elapsed() >= Duration::from_secs(10));
        assert_eq!(pause.wait().await, Duration::ZERO);
    }
}
