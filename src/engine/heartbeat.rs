//! Worker-loop heartbeats, so `/healthz` can tell a dead or stuck loop from a live one.
//!
//! A loop is expected once [`Engine::run`](super::Engine::run) starts it, beats every pass (and
//! inside long passes), and is forgotten when it stops on shutdown. A process that runs no
//! loops (`ordersync api`) expects none and is always healthy. Time comes from its own clock,
//! not the engine's: the demo and the tests fast-forward the engine clock by days, which says
//! nothing about whether a loop is alive.

use ordersync_sdk::Clock;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;

/// Shortest staleness bound: a pass may legitimately wait on a slow platform for a while.
pub const MIN_STALE_AFTER: Duration = Duration::from_secs(60);

struct Beat {
    stale_after: Duration,
    last: OffsetDateTime,
    /// Tasks a loop started that run on their own (one per sink for delivery), by key: the
    /// loop is as stale as its most silent part.
    parts: BTreeMap<String, OffsetDateTime>,
}

pub struct Heartbeats {
    clock: Arc<dyn Clock>,
    loops: Mutex<BTreeMap<&'static str, Beat>>,
}

/// A loop that has not beaten within its bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    pub name: &'static str,
    pub silent_secs: i64,
}

impl Heartbeats {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            loops: Mutex::default(),
        }
    }

    /// Starts expecting `name` to beat at least every `max(3 × interval, 60 s)`; counts as a
    /// beat.
    pub fn expect(&self, name: &'static str, interval: Duration) {
        let stale_after = interval.saturating_mul(3).max(MIN_STALE_AFTER);
        let last = self.clock.now();
        self.lock().insert(
            name,
            Beat {
                stale_after,
                last,
                parts: BTreeMap::new(),
            },
        );
    }

    pub fn beat(&self, name: &'static str) {
        let now = self.clock.now();
        if let Some(b) = self.lock().get_mut(name) {
            b.last = now;
        }
    }

    /// A part of loop `name` starts, beats, or ends (see [`Beat::parts`]).
    pub fn part_beat(&self, name: &'static str, part: &str) {
        let now = self.clock.now();
        if let Some(b) = self.lock().get_mut(name) {
            b.parts.insert(part.to_string(), now);
        }
    }

    pub fn part_end(&self, name: &'static str, part: &str) {
        if let Some(b) = self.lock().get_mut(name) {
            b.parts.remove(part);
        }
    }

    /// Stops expecting `name` (its loop ended on shutdown).
    pub fn forget(&self, name: &'static str) {
        self.lock().remove(name);
    }

    /// Expected loops that are overdue, by name.
    pub fn stale(&self) -> Vec<Stale> {
        let now = self.clock.now();
        self.lock()
            .iter()
            .filter_map(|(name, b)| {
                let oldest = b.parts.values().copied().fold(b.last, |a, p| a.min(p));
                let silent = now - oldest;
                (silent > b.stale_after).then(|| Stale {
                    name,
                    silent_secs: silent.whole_seconds(),
                })
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, Beat>> {
        self.loops.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ordersync_sdk::ManualClock;

    #[test]
    fn a_loop_is_stale_only_past_its_bound_and_only_while_expected() {
        let clock = Arc::new(ManualClock::new());
        let hb = Heartbeats::new(clock.clone());
        assert!(hb.stale().is_empty(), "nothing expected: healthy");
        hb.expect("pull", Duration::from_millis(500));
        hb.expect("purge", Duration::from_secs(3600));
        hb.beat("unknown");
        clock.advance(time::Duration::seconds(59));
        assert!(hb.stale().is_empty(), "within the 60 s floor");
        clock.advance(time::Duration::seconds(2));
        let s = hb.stale();
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].name, s[0].silent_secs), ("pull", 61));
        hb.beat("pull");
        assert!(hb.stale().is_empty());
        clock.advance(time::Duration::hours(3));
        let names: Vec<_> = hb.stale().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["pull", "purge"], "purge's bound is 3 × its hour");
        hb.beat("pull");
        hb.beat("purge");
        hb.part_beat("pull", "sink-a");
        clock.advance(time::Duration::seconds(61));
        hb.beat("pull");
        assert_eq!(hb.stale().len(), 1, "a silent part makes its loop stale");
        hb.part_beat("pull", "sink-a");
        assert!(hb.stale().is_empty());
        hb.part_end("pull", "sink-a");
        clock.advance(time::Duration::seconds(61));
        hb.beat("pull");
        assert!(hb.stale().is_empty(), "an ended part is not watched");
        hb.forget("pull");
        hb.forget("purge");
        assert!(hb.stale().is_empty(), "a stopped loop is not a dead one");
    }
}
