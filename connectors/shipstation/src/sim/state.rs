//! Simulator state: shipments indexed by id and by external id (O(1) per request), rate
//! windows per key, and the shared fault/stats core.

use super::SimOptions;
use crate::wire::ShipmentBody;
use ordersync_sdk::Clock;
use ordersync_sdk::sim::SimCore;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use time::OffsetDateTime;

pub struct Stored {
    pub num: u64,
    pub body: ShipmentBody,
    pub cancelled: bool,
    pub created_at: OffsetDateTime,
    pub modified_at: OffsetDateTime,
    pub updates: u64,
}

#[derive(Default)]
pub struct Store {
    pub by_num: HashMap<u64, Stored>,
    pub by_external: HashMap<String, u64>,
    pub next: u64,
}

pub struct SimState {
    pub core: SimCore,
    pub opts: SimOptions,
    pub clock: Arc<dyn Clock>,
    store: Mutex<Store>,
    /// Per key: (window index, requests counted in it).
    windows: Mutex<HashMap<String, (i64, u32)>>,
    request_ids: AtomicU64,
}

impl AsRef<SimCore> for SimState {
    fn as_ref(&self) -> &SimCore {
        &self.core
    }
}

impl SimState {
    pub fn new(opts: SimOptions, clock: Arc<dyn Clock>) -> Self {
        Self {
            core: SimCore::default(),
            opts,
            clock,
            store: Mutex::new(Store::default()),
            windows: Mutex::new(HashMap::new()),
            request_ids: AtomicU64::new(0),
        }
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a request of `key` in the current fixed window: `Some(remaining)`, or `None`
    /// when the window is used up; plus the seconds until the window resets.
    pub fn count_request(&self, key: &str) -> (Option<u32>, u64) {
        let secs = self.opts.rate_window_secs.max(1);
        let now = self.clock.now().unix_timestamp();
        let window = now.div_euclid(secs as i64);
        let reset = secs - now.rem_euclid(secs as i64) as u64;
        let limit = self.opts.requests_per_minute;
        let mut w = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let entry = match w.get_mut(key) {
            Some(e) => e,
            None => w.entry(key.to_string()).or_insert((window, 0)),
        };
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1 >= limit {
            return (None, reset);
        }
        entry.1 += 1;
        (Some(limit - entry.1), reset)
    }

    /// A fresh `request_id` in UUID form (the spec's type).
    pub fn request_id(&self) -> String {
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        format!("5e1e0000-0000-4000-8000-{n:012x}")
    }

    pub fn reset(&self) {
        *self.store() = Store::default();
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.core.set_faults(ordersync_sdk::sim::FaultConfig {
            rate: 0.0,
            kinds: vec![],
        });
        self.core.requests.store(0, Ordering::Relaxed);
        self.core.throttled.store(0, Ordering::Relaxed);
        self.core.faults_injected.store(0, Ordering::Relaxed);
        self.core
            .counters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// `se-{n}` ⇄ n.
pub fn shipment_id(num: u64) -> String {
    format!("se-{num}")
}

pub fn parse_shipment_id(id: &str) -> Option<u64> {
    id.strip_prefix("se-")?.parse().ok()
}
