//! A client-side token bucket whose rate can change while it runs, on the injected [`Clock`].
//!
//! [`crate::http::RateGate`] holds a fixed governor quota. Some platforms announce the quota
//! they actually apply only in their answers (Amazon SP-API's `x-amzn-RateLimit-Limit`, in
//! requests per second, present on some responses only) and may raise it per seller; a
//! connector seeds a [`TokenBucket`] from the documented defaults and re-rates it from those
//! headers ([`TokenBucket::set_rate`]). The bucket also says how long until the next token
//! ([`TokenBucket::wait`]), so a connector can hand a long wait back to the engine as
//! `RateLimited { retry_after }` instead of sleeping through its lease.
//!
//! Time comes from the [`Clock`], so tests fast-forward a `ManualClock` instead of sleeping.

use crate::clock::Clock;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;

/// Slowest and fastest rates a bucket accepts (requests per second): a header value outside
/// is ignored rather than trusted (one request a day, a million a second).
pub const MIN_RATE: f64 = 1.0 / 86_400.0;
pub const MAX_RATE: f64 = 1_000_000.0;

#[derive(Debug, Clone, Copy)]
struct State {
    rate: f64,
    burst: f64,
    /// Tokens available; below zero after [`TokenBucket::take`] on an empty bucket (a debt
    /// later requests wait for).
    tokens: f64,
    at: OffsetDateTime,
}

impl State {
    fn refill(&mut self, now: OffsetDateTime) {
        let dt = (now - self.at).as_seconds_f64();
        if dt > 0.0 {
            self.tokens = (self.tokens + dt * self.rate).min(self.burst);
            self.at = now;
        }
    }

    /// Time until one whole token is there.
    fn wait(&self) -> Duration {
        let missing = 1.0 - self.tokens;
        if missing <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64((missing / self.rate).min(86_400.0))
    }
}

/// A token bucket of `burst` tokens refilled at `rate` per second. Starts full.
pub struct TokenBucket {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for TokenBucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = *self.lock();
        f.debug_struct("TokenBucket")
            .field("rate", &s.rate)
            .field("burst", &s.burst)
            .field("tokens", &s.tokens)
            .finish()
    }
}

fn sane(rate: f64) -> Option<f64> {
    (rate.is_finite() && rate > 0.0).then(|| rate.clamp(MIN_RATE, MAX_RATE))
}

impl TokenBucket {
    /// `rate_per_sec` outside the sane range is clamped into it; a burst below 1 is 1.
    pub fn new(rate_per_sec: f64, burst: u32, clock: Arc<dyn Clock>) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            state: Mutex::new(State {
                rate: sane(rate_per_sec).unwrap_or(MIN_RATE),
                burst,
                tokens: burst,
                at: clock.now(),
            }),
            clock,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now_state(&self) -> std::sync::MutexGuard<'_, State> {
        let now = self.clock.now();
        let mut s = self.lock();
        s.refill(now);
        s
    }

    /// Requests per second it refills at.
    pub fn rate(&self) -> f64 {
        self.lock().rate
    }

    pub fn burst(&self) -> u32 {
        self.lock().burst as u32
    }

    /// Tokens available now (negative while in debt).
    pub fn tokens(&self) -> f64 {
        self.now_state().tokens
    }

    /// The platform announced the rate it applies: refills from now on go at that rate.
    /// Returns whether it was taken (non-finite or non-positive values are ignored).
    pub fn set_rate(&self, rate_per_sec: f64) -> bool {
        let Some(r) = sane(rate_per_sec) else {
            return false;
        };
        self.now_state().rate = r;
        true
    }

    /// Time until a token is available (zero when one is).
    pub fn wait(&self) -> Duration {
        self.now_state().wait()
    }

    /// Takes a token if one is there; otherwise says how long until one is.
    pub fn try_take(&self) -> Result<(), Duration> {
        let mut s = self.now_state();
        if s.tokens >= 1.0 {
            s.tokens -= 1.0;
            Ok(())
        } else {
            Err(s.wait())
        }
    }

    /// Takes a token whether or not one is there (a retry the transport sent anyway): the
    /// debt delays later requests. The debt is bounded by one bucket.
    pub fn take(&self) {
        let mut s = self.now_state();
        s.tokens = (s.tokens - 1.0).max(-s.burst);
    }

    /// The platform said its bucket is empty (a 429): ours is too. Returns the time until
    /// the next token, the honest wait before trying again.
    pub fn drain(&self) -> Duration {
        let mut s = self.now_state();
        s.tokens = s.tokens.min(0.0);
        s.wait()
    }

    /// Waits until a token is available and takes it, if that takes at most `max_wait`;
    /// otherwise takes nothing and returns the wait. Sleeps in short steps so a clock that
    /// jumps ahead (tests, the demo) is noticed.
    pub async fn acquire_within(&self, max_wait: Duration) -> Result<(), Duration> {
        loop {
            match self.try_take() {
                Ok(()) => return Ok(()),
                Err(d) if d > max_wait => return Err(d),
                Err(d) => tokio::time::sleep(d.min(Duration::from_millis(250))).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn bucket(rate: f64, burst: u32) -> (TokenBucket, Arc<ManualClock>) {
        let c = Arc::new(ManualClock::new());
        (TokenBucket::new(rate, burst, c.clone()), c)
    }

    #[test]
    fn burst_then_refill_on_the_clock() {
        // Amazon searchOrders: 0.0056/s, burst 20.
        let (b, clock) = bucket(0.0056, 20);
        assert!((0..20).all(|_| b.try_take().is_ok()));
        let wait = b.try_take().unwrap_err();
        assert!((178.0..179.0).contains(&wait.as_secs_f64()), "{wait:?}");
        clock.advance(time::Duration::seconds(179));
        assert!(b.try_take().is_ok());
        assert!(b.try_take().is_err());
    }

    #[test]
    fn re_rating_changes_the_refill_and_ignores_nonsense() {
        let (b, _clock) = bucket(0.0056, 1);
        b.try_take().unwrap();
        assert!(b.wait() > Duration::from_secs(100));
        assert!(b.set_rate(1000.0));
        assert!(b.wait() <= Duration::from_millis(1));
        for bad in [f64::NAN, f64::INFINITY, 0.0, -3.0] {
            assert!(!b.set_rate(bad));
        }
        assert_eq!(b.rate(), 1000.0);
        assert!(b.set_rate(1e12));
        assert_eq!(b.rate(), MAX_RATE);
    }

    #[test]
    fn drain_and_debt() {
        let (b, clock) = bucket(0.5, 30);
        let d = b.drain();
        assert_eq!(d, Duration::from_secs(2), "one token at 0.5/s");
        b.take();
        assert!((b.tokens() + 1.0).abs() < 1e-3, "in debt");
        clock.advance(time::Duration::seconds(4));
        assert!(b.try_take().is_ok());
        for _ in 0..100 {
            b.take();
        }
        assert!(b.tokens() >= -30.0, "debt bounded by one bucket");
    }

    #[tokio::test]
    async fn acquire_waits_short_and_refuses_long() {
        let (b, _clock) = bucket(1000.0, 1);
        b.acquire_within(Duration::from_secs(1)).await.unwrap();
        b.acquire_within(Duration::from_secs(1)).await.unwrap();
        let (slow, _c) = bucket(0.0056, 1);
        slow.acquire_within(Duration::ZERO).await.unwrap();
        let wait = slow
            .acquire_within(Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(wait > Duration::from_secs(100));
    }
}
