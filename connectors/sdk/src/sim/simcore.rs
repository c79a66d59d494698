//! Request counters and the fault configuration every simulator shares, with `/_sim/reset`
//! semantics (counters to zero, faults off).

use super::control::SimStats;
use super::faults::{FaultConfig, FaultKind};
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Fault draws are seeded so a run with faults is repeatable.
const FAULT_SEED: u64 = 7;

/// Fault injection and counters shared by every simulator.
pub struct SimCore {
    faults: Mutex<(FaultConfig, rand::rngs::StdRng)>,
    pub requests: AtomicU64,
    /// 429s sent: the platform's own limiter and injected ones.
    pub throttled: AtomicU64,
    pub faults_injected: AtomicU64,
    /// Requests per route name.
    pub counters: Mutex<BTreeMap<String, u64>>,
    /// Writes still to refuse with the platform's validation error (`POST /_sim/reject`).
    rejects: AtomicU64,
    /// `POST /_sim/hold`: requests still to hold, those waiting now, and the gate they wait
    /// at. Tests stall a client mid-call this way (a worker that loses its lease).
    hold: AtomicU64,
    held: AtomicU64,
    gate: tokio::sync::Semaphore,
}

impl Default for SimCore {
    fn default() -> Self {
        Self {
            faults: Mutex::new((
                FaultConfig::off(),
                rand::rngs::StdRng::seed_from_u64(FAULT_SEED),
            )),
            requests: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            faults_injected: AtomicU64::new(0),
            counters: Mutex::new(BTreeMap::new()),
            rejects: AtomicU64::new(0),
            hold: AtomicU64::new(0),
            held: AtomicU64::new(0),
            gate: tokio::sync::Semaphore::new(0),
        }
    }
}

impl SimCore {
    pub fn set_faults(&self, cfg: FaultConfig) {
        self.faults.lock().unwrap_or_else(|e| e.into_inner()).0 = cfg;
    }

    /// Counts a request on `route` and decides whether to inject a fault into it.
    pub fn on_request(&self, route: &str) -> Option<FaultKind> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        {
            let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
            match c.get_mut(route) {
                Some(n) => *n += 1,
                None => {
                    c.insert(route.to_string(), 1);
                }
            }
        }
        let mut g = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        let (cfg, rng) = &mut *g;
        if cfg.rate.is_nan()
            || cfg.rate <= 0.0
            || cfg.kinds.is_empty()
            || !rng.random_bool(cfg.rate.min(1.0))
        {
            return None;
        }
        let k = cfg.kinds[rng.random_range(0..cfg.kinds.len())];
        self.faults_injected.fetch_add(1, Ordering::Relaxed);
        if k == FaultKind::TooMany {
            self.count_throttled();
        }
        Some(k)
    }

    /// `POST /_sim/reject {"count"}`: the next `count` writes are refused as invalid.
    pub fn set_rejects(&self, count: u64) {
        self.rejects.store(count, Ordering::Relaxed);
    }

    /// Whether this write is to be refused with the platform's validation error (a target
    /// simulator asks before it stores anything).
    pub fn take_reject(&self) -> bool {
        self.rejects
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Holds the next `count` API requests until [`SimCore::release_held`].
    pub fn set_hold(&self, count: u64) {
        self.hold.store(count, Ordering::SeqCst);
    }

    /// Requests being held now.
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::SeqCst)
    }

    /// Lets every held request go on (and holds no more).
    pub fn release_held(&self) {
        self.hold.store(0, Ordering::SeqCst);
        self.gate.add_permits(self.held() as usize);
    }

    /// Waits at the gate if this request is one to hold.
    pub async fn maybe_hold(&self) {
        // Counted as held before it takes a hold slot, so a release never misses it.
        self.held.fetch_add(1, Ordering::SeqCst);
        let hold = self
            .hold
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if hold && let Ok(p) = self.gate.acquire().await {
            p.forget();
        }
        self.held.fetch_sub(1, Ordering::SeqCst);
    }

    /// Records a 429 the platform's own limiter sent.
    pub fn count_throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }

    /// The shared part of `/_sim/stats`; a simulator adds its own fields with
    /// [`SimStats::with`].
    pub fn stats(&self) -> SimStats {
        SimStats {
            requests: self.requests.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            faults_injected: self.faults_injected.load(Ordering::Relaxed),
            by_route: self
                .counters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            extra: Default::default(),
        }
    }

    /// `/_sim/reset`: counters to zero, faults off, fault draws restarted.
    pub fn reset(&self) {
        *self.faults.lock().unwrap_or_else(|e| e.into_inner()) = (
            FaultConfig::off(),
            rand::rngs::StdRng::seed_from_u64(FAULT_SEED),
        );
        self.requests.store(0, Ordering::Relaxed);
        self.throttled.store(0, Ordering::Relaxed);
        self.faults_injected.store(0, Ordering::Relaxed);
        self.rejects.store(0, Ordering::Relaxed);
        self.release_held();
        self.counters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_rate_is_roughly_honoured() {
        let core = SimCore::default();
        core.set_faults(FaultConfig {
            rate: 0.2,
            kinds: vec![FaultKind::ServerError],
        });
        let n = (0..10_000)
            .filter(|_| core.on_request("x").is_some())
            .count();
        assert!((1500..2500).contains(&n), "{n}");
        let s = core.stats();
        assert_eq!(s.requests, 10_000);
        assert_eq!(s.faults_injected, n as u64);
        assert_eq!(s.by_route["x"], 10_000);
        assert_eq!(s.throttled, 0, "a 500 is not a 429");
    }

    #[test]
    fn nan_or_negative_rates_inject_nothing() {
        let core = SimCore::default();
        for rate in [f64::NAN, -1.0, 0.0] {
            core.set_faults(FaultConfig {
                rate,
                kinds: vec![FaultKind::TooMany],
            });
            assert!((0..100).all(|_| core.on_request("x").is_none()));
        }
    }

    #[test]
    fn reset_zeroes_counters_and_turns_faults_off() {
        let core = SimCore::default();
        core.set_faults(FaultConfig {
            rate: 1.0,
            kinds: vec![FaultKind::TooMany],
        });
        assert_eq!(core.on_request("a"), Some(FaultKind::TooMany));
        core.count_throttled();
        assert_eq!(core.stats().throttled, 2);
        core.reset();
        let s = core.stats();
        assert_eq!((s.requests, s.throttled, s.faults_injected), (0, 0, 0));
        assert!(s.by_route.is_empty());
        assert_eq!(core.on_request("a"), None, "faults are off after a reset");
    }
}
