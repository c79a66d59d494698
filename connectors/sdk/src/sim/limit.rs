//! Rate limiters of simulated platforms, on whatever clock the simulator is given (every
//! method takes `now`): a leaky bucket (Shopify's REST call limit, its GraphQL cost points)
//! and a fixed window (ShipStation's 200 a minute), kept per key by [`PerKey`].

use std::collections::HashMap;
use std::sync::Mutex;
use time::OffsetDateTime;

/// A bucket of `capacity` that drains at `rate` per second. Taking adds to its level; what is
/// left is [`available`](Self::available). Shopify's REST bucket reports the level ("used"),
/// its GraphQL bucket what is available.
#[derive(Debug, Clone, Copy)]
pub struct LeakyBucket {
    capacity: f64,
    rate: f64,
    level: f64,
    at: OffsetDateTime,
}

impl LeakyBucket {
    /// An empty bucket: the whole capacity is available.
    pub fn new(capacity: f64, rate_per_sec: f64, now: OffsetDateTime) -> Self {
        Self {
            capacity,
            rate: rate_per_sec,
            level: 0.0,
            at: now,
        }
    }

    fn leak(&mut self, now: OffsetDateTime) {
        let dt = (now - self.at).as_seconds_f64().max(0.0);
        self.level = (self.level - dt * self.rate).max(0.0);
        self.at = self.at.max(now);
    }

    /// Leaks up to `now`, then takes `amount` if it fits. Returns whether it was taken.
    pub fn try_take(&mut self, amount: f64, now: OffsetDateTime) -> bool {
        self.leak(now);
        if self.level + amount > self.capacity {
            return false;
        }
        self.level += amount;
        true
    }

    /// Gives back what a request was charged beyond its actual cost (Shopify refunds it).
    pub fn refund(&mut self, amount: f64) {
        self.level = (self.level - amount.max(0.0)).max(0.0);
    }

    /// The level as of the last take or refund.
    pub fn used(&self) -> f64 {
        self.level
    }

    pub fn available(&self) -> f64 {
        self.capacity - self.level
    }

    pub fn capacity(&self) -> f64 {
        self.capacity
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }
}

/// `limit` requests per window of `window_secs`, windows aligned to the clock (a new window
/// starts at every multiple of `window_secs` since the epoch, as ShipStation's minute does).
#[derive(Debug, Clone, Copy)]
pub struct FixedWindow {
    limit: u32,
    window_secs: u64,
    index: i64,
    used: u32,
}

/// What one request did to a [`FixedWindow`]: the `X-Rate-Limit-*` values of its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowHit {
    pub admitted: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window resets (at least 1).
    pub reset_secs: u64,
}

impl FixedWindow {
    pub fn new(limit: u32, window_secs: u64) -> Self {
        Self {
            limit,
            window_secs: window_secs.max(1),
            index: i64::MIN,
            used: 0,
        }
    }

    /// Counts a request at `now` if the window has room.
    pub fn hit(&mut self, now: OffsetDateTime) -> WindowHit {
        let secs = i64::try_from(self.window_secs).unwrap_or(i64::MAX);
        let t = now.unix_timestamp();
        let index = t.div_euclid(secs);
        let reset_secs = u64::try_from(secs - t.rem_euclid(secs)).unwrap_or(1);
        if index != self.index {
            self.index = index;
            self.used = 0;
        }
        let admitted = self.used < self.limit;
        if admitted {
            self.used += 1;
        }
        WindowHit {
            admitted,
            limit: self.limit,
            remaining: self.limit - self.used,
            reset_secs,
        }
    }
}

/// Limiters kept per key (a shop's `Host`, an API key), created on first use.
pub struct PerKey<L> {
    map: Mutex<HashMap<String, L>>,
}

impl<L> Default for PerKey<L> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<L> PerKey<L> {
    /// Runs `f` on the limiter of `key`, made by `make` if it does not exist yet.
    pub fn with<R>(&self, key: &str, make: impl FnOnce() -> L, f: impl FnOnce(&mut L) -> R) -> R {
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let l = match m.get_mut(key) {
            Some(l) => l,
            None => m.entry(key.to_string()).or_insert_with(make),
        };
        f(l)
    }

    /// Runs `f` on the limiter of `key` if it exists.
    pub fn get<R>(&self, key: &str, f: impl FnOnce(&mut L) -> R) -> Option<R> {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(key)
            .map(f)
    }

    pub fn clear(&self) {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[test]
    fn leaky_bucket_fills_leaks_and_refunds() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let mut b = LeakyBucket::new(40.0, 2.0, t0);
        assert!((0..40).all(|_| b.try_take(1.0, t0)));
        assert!(!b.try_take(1.0, t0), "full");
        assert_eq!(b.used(), 40.0);
        assert!(
            b.try_take(1.0, t0 + Duration::milliseconds(500)),
            "one leaked"
        );
        assert!(!b.try_take(2.0, t0 + Duration::milliseconds(500)));
        b.refund(10.0);
        assert_eq!(b.available(), 10.0);
        b.refund(1e9);
        assert_eq!(b.used(), 0.0, "never below empty");
        assert!(
            !b.try_take(41.0, t0 + Duration::hours(1)),
            "never above capacity"
        );
    }

    #[test]
    fn leaky_bucket_ignores_time_going_backwards() {
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::hours(1);
        let mut b = LeakyBucket::new(10.0, 1.0, t0);
        assert!(b.try_take(10.0, t0));
        assert!(!b.try_take(1.0, t0 - Duration::minutes(5)));
        assert!(b.try_take(1.0, t0 + Duration::seconds(1)));
    }

    #[test]
    fn fixed_window_counts_down_and_resets_on_the_next_window() {
        let t0 = OffsetDateTime::from_unix_timestamp(6_000 + 15).unwrap();
        let mut w = FixedWindow::new(2, 60);
        let a = w.hit(t0);
        assert_eq!(
            (a.admitted, a.remaining, a.reset_secs, a.limit),
            (true, 1, 45, 2)
        );
        assert_eq!(w.hit(t0).remaining, 0);
        let c = w.hit(t0 + Duration::seconds(44));
        assert_eq!((c.admitted, c.remaining, c.reset_secs), (false, 0, 1));
        let d = w.hit(t0 + Duration::seconds(45));
        assert_eq!((d.admitted, d.remaining, d.reset_secs), (true, 1, 60));
    }

    #[test]
    fn per_key_limiters_are_independent() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let k: PerKey<FixedWindow> = PerKey::default();
        let hit = |key| k.with(key, || FixedWindow::new(1, 60), |w| w.hit(t0).admitted);
        assert!(hit("a") && !hit("a") && hit("b"));
        assert_eq!(k.get("c", |w| w.hit(t0)), None);
        k.clear();
        assert!(hit("a"));
    }
}
