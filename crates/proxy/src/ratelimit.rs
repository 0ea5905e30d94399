//! A token bucket, used twice: per write key on ingestion (refuse with 429
//! when empty) and per Zendesk account on delivery (wait for a token, so the
//! proxy stays under the plan limit instead of provoking 429s).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `rate` tokens per second, at most `capacity` saved up.
pub struct TokenBucket {
    rate: f64,
    capacity: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate_per_second: f64, capacity: f64) -> TokenBucket {
        let capacity = capacity.max(1.0);
        TokenBucket { rate: rate_per_second.max(f64::MIN_POSITIVE), capacity, state: Mutex::new((capacity, Instant::now())) }
    }

    /// A bucket at `per_minute` with one token of burst: requests are spread
    /// evenly over the minute rather than fired in a burst and then blocked.
    pub fn per_minute(per_minute: u32) -> TokenBucket {
        TokenBucket::new(f64::from(per_minute) / 60.0, 1.0)
    }

    /// Takes `n` tokens if available; otherwise how long until they would be.
    /// A request larger than the capacity waits for a full bucket.
    pub fn try_take(&self, n: f64) -> Result<(), Duration> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let (tokens, last) = *state;
        let tokens = (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.capacity);
        let need = n.min(self.capacity);
        if tokens >= need {
            *state = (tokens - need, now);
            Ok(())
        } else {
            *state = (tokens, now);
            Err(Duration::from_secs_f64((need - tokens) / self.rate))
        }
    }

    /// Waits for one token. Returns whether it had to wait.
    pub async fn acquire(&self) -> bool {
        let mut waited = false;
        while let Err(wait) = self.try_take(1.0) {
            waited = true;
            tokio::time::sleep(wait).await;
        }
        waited
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_beyond_capacity_is_refused_with_the_wait() {
        let bucket = TokenBucket::new(10.0, 20.0);
        assert!(bucket.try_take(20.0).is_ok());
        let wait = bucket.try_take(5.0).unwrap_err();
        assert!(wait > Duration::from_millis(400) && wait <= Duration::from_millis(500), "{wait:?}");
    }
}
