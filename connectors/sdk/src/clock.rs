//! Injected time. Everything that decides "is it due yet" asks a [`Clock`], so tests and the
//! demo can fast-forward days of retention in a second.

use std::sync::atomic::{AtomicI64, Ordering};
use time::{Duration, OffsetDateTime};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

/// Wall-clock time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Real time plus an offset that only grows: time keeps flowing (timeouts, leases still work)
/// and [`ManualClock::advance`] jumps ahead.
#[derive(Debug, Default)]
pub struct ManualClock {
    offset_us: AtomicI64,
}

impl ManualClock {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn advance(&self, by: Duration) {
        let us = i64::try_from(by.whole_microseconds()).unwrap_or(i64::MAX);
        self.offset_us.fetch_add(us.max(0), Ordering::SeqCst);
    }

    pub fn offset(&self) -> Duration {
        Duration::microseconds(self.offset_us.load(Ordering::SeqCst))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.offset()
    }
}

/// Microseconds since the Unix epoch: the storage form of every timestamp (both dialects).
pub fn to_micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

pub fn from_micros(us: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_forward_only() {
        let c = ManualClock::new();
        let before = c.now();
        c.advance(Duration::days(30));
        c.advance(Duration::days(-5));
        assert!(c.now() - before >= Duration::days(30));
        assert!(c.now() - before < Duration::days(31));
    }

    #[test]
    fn micros_round_trip() {
        let t =
            OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap() + Duration::microseconds(7);
        assert_eq!(from_micros(to_micros(t)), t);
    }
}
