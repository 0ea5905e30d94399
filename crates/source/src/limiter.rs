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
