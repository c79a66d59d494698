//! The fleet's rate budgets in the database ([`FleetBudget`]): one row per platform limit,
//! taken from in one short transaction (created full, locked, refilled on the engine's clock —
//! the database's in production — granted, written back). Every worker of the fleet spends
//! the same tokens, so N workers together stay within a limit one of them would.
//!
//! If the database fails a take, this process falls back to a bucket of its own at
//! 1/[`ASSUMED_FLEET`] of the limit (logged once per outage): requests slow down, none wait
//! forever, and the fleet stays within the limit as long as it has no more workers than that.

use crate::store::Store;
use async_trait::async_trait;
use ordersync_sdk::budget::{ASSUMED_FLEET, FleetBudget, Grant, LocalBudget};
use ordersync_sdk::clock::to_micros;
use ordersync_sdk::{Clock, ConnectorError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct DbBudget {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    fallback: LocalBudget,
    degraded: AtomicBool,
}

impl DbBudget {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            fallback: LocalBudget::new(clock.clone()),
            store,
            clock,
            degraded: AtomicBool::new(false),
        }
    }
}

#[async_trait]
impl FleetBudget for DbBudget {
    async fn take(
        &self,
        key: &str,
        rate_per_sec: f64,
        burst: f64,
        want: u32,
    ) -> Result<Grant, ConnectorError> {
        let now = to_micros(self.clock.now());
        match self
            .store
            .take_rate_budget(key, now, rate_per_sec, burst, want)
            .await
        {
            Ok(s) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("Fleet rate budgets are readable again.");
                }
                Ok(Grant {
                    granted: s.granted,
                    retry_in: s.retry_in,
                })
            }
            Err(e) => {
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "Fleet rate budgets unavailable; each limit is paced locally at a fraction until the database is back.");
                }
                metrics::counter!("ordersync_rate_budget_fallbacks_total").increment(1);
                Ok(self.fallback.take_now(
                    key,
                    rate_per_sec / ASSUMED_FLEET,
                    (burst / ASSUMED_FLEET).max(1.0),
                    want,
                ))
            }
        }
    }
}
