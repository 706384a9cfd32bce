//! Rate limits on credential checks (`login`, `serviceToken`): per client address, with
//! `governor`'s GCRA, so that nobody can make the server hash passwords as fast as he can send
//! them. The lock-out after repeated failures (auth::sessions) still applies on top.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

/// Keys kept before the limiter forgets those it has not seen for a while.
const MAX_KEYS: usize = 10_000;

/// A per-key limit of so many attempts a minute (that many at once, then one every
/// 60/n seconds).
pub struct AttemptLimiter {
    inner: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl AttemptLimiter {
    /// `per_minute` attempts a minute per key (at least one).
    pub fn per_minute(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            inner: RateLimiter::keyed(Quota::per_minute(n)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts an attempt under `key`: `Ok`, or how long until the next one is allowed.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        if self.inner.len() > MAX_KEYS {
            self.inner.retain_recent();
        }
        self.inner
            .check_key(&key.to_string())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}
