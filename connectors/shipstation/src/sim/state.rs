//! Simulator state: shipments in the SDK's [`ObjectBook`] (by number and by external id, O(1)
//! per request), a fixed rate window per key, and the shared fault/stats core.

use super::SimOptions;
use super::errors::too_many;
use crate::v1::wire::OrderBody;
use crate::wire::ShipmentBody;
use axum::response::Response;
use ordersync_sdk::Clock;
use ordersync_sdk::sim::{
    Entry, FaultAnswers, FixedWindow, ObjectBook, PerKey, SimCore, WindowHit,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub type Store = ObjectBook<ShipmentBody>;
pub type Stored = Entry<ShipmentBody>;
/// V1 orders, by `orderKey`.
pub type V1Store = ObjectBook<OrderBody>;
pub type V1Stored = Entry<OrderBody>;

pub struct SimState {
    pub core: SimCore,
    pub opts: SimOptions,
    pub clock: Arc<dyn Clock>,
    store: Mutex<Store>,
    v1: Mutex<V1Store>,
    windows: PerKey<FixedWindow>,
    request_ids: AtomicU64,
}

impl AsRef<SimCore> for SimState {
    fn as_ref(&self) -> &SimCore {
        &self.core
    }
}

/// ShipStation's own 429 shape for injected ones; other faults are the generic ones.
impl FaultAnswers for SimState {
    fn too_many(&self) -> Response {
        too_many(self, 1)
    }
}

impl SimState {
    pub fn new(opts: SimOptions, clock: Arc<dyn Clock>) -> Self {
        Self {
            core: SimCore::default(),
            opts,
            clock,
            store: Mutex::new(Store::default()),
            v1: Mutex::new(V1Store::default()),
            windows: PerKey::default(),
            request_ids: AtomicU64::new(0),
        }
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn v1_store(&self) -> MutexGuard<'_, V1Store> {
        self.v1.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a request of `key` in its current fixed window (on the simulator's clock, so
    /// tests can move past a window).
    pub fn count_request(&self, key: &str) -> WindowHit {
        self.count_in_window(key, self.opts.requests_per_minute)
    }

    /// [`count_request`](Self::count_request) for a V1 key pair (its own 40-a-minute window).
    pub fn count_v1_request(&self, pair: &str) -> WindowHit {
        self.count_in_window(&format!("v1:{pair}"), self.opts.v1_requests_per_minute)
    }

    fn count_in_window(&self, key: &str, limit: u32) -> WindowHit {
        let secs = self.opts.rate_window_secs;
        let now = self.clock.now();
        self.windows
            .with(key, || FixedWindow::new(limit, secs), |w| w.hit(now))
    }

    /// A fresh `request_id` in UUID form (the spec's type).
    pub fn request_id(&self) -> String {
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        format!("5e1e0000-0000-4000-8000-{n:012x}")
    }

    /// `/_sim/reset`: empty account, fresh windows, counters at zero, faults off.
    pub fn reset(&self) {
        *self.store() = Store::default();
        *self.v1_store() = V1Store::default();
        self.windows.clear();
        self.core.reset();
    }
}

/// `se-{n}` ⇄ n.
pub fn shipment_id(num: u64) -> String {
    format!("se-{num}")
}

pub fn parse_shipment_id(id: &str) -> Option<u64> {
    id.strip_prefix("se-")?.parse().ok()
}
