//! Delivery tracking: ask fulfillment sinks whether shipped orders have reached the buyer. The
//! first trustworthy delivery time sets the order's `delivered_at` and its `purge_after`.
//! A check that fails or panics leaves its item pending for a retry; the others complete.

use super::{Engine, Pass};
use crate::store::{TrackingItem, TrackingResult};
use futures::{FutureExt, StreamExt};
use ordersync_sdk::clock::to_micros;
use ordersync_sdk::{ConnectorError, Delivered};
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;

const CONCURRENT_CHECKS: usize = 16;
const DAY_US: i64 = 86_400_000_000;

/// When PII of an order delivered at `at` is purged. A delivery time later than `now` is not
/// trustworthy (a sink's clock or data is off) and counts as `now`, so a far-future date can
/// neither overflow nor postpone the purge.
pub fn purge_after_delivery(at: i64, now: i64, days: i64) -> i64 {
    let at = at.min(now);
    days.checked_mul(DAY_US)
        .and_then(|d| at.checked_add(d))
        .unwrap_or(at)
}

impl Engine {
    pub async fn track_once(&self) -> anyhow::Result<Pass> {
        let now = self.now_us();
        let items = self
            .store
            .claim_tracking(now, now + self.cfg.lease_secs * 1_000_000, 500)
            .await?;
        if items.is_empty() {
            return Ok(Pass::default());
        }
        let ids: Vec<String> = items.iter().map(|i| i.order_id.clone()).collect();
        let marketplace: HashMap<String, String> = self
            .store
            .orders_by_ids(&ids)
            .await?
            .into_iter()
            .map(|o| (o.id, o.marketplace))
            .collect();
        let next = now + self.cfg.track_interval_secs * 1_000_000;
        let retry = now + self.cfg.track_retry_secs * 1_000_000;
        let futs: Vec<_> = items.iter().map(|it| self.check(it)).collect();
        let checks: Vec<_> = futures::stream::iter(futs)
            .buffer_unordered(CONCURRENT_CHECKS)
            .collect()
            .await;
        let mut results = Vec::with_capacity(checks.len());
        let mut retention: HashMap<(String, String), i64> = HashMap::new();
        for (it, res) in checks {
            match res {
                Ok(Some(d)) => {
                    let mp = marketplace
                        .get(&it.order_id)
                        .map(String::as_str)
                        .unwrap_or("");
                    let key = (it.merchant_id.clone(), mp.to_string());
                    let days = match retention.get(&key) {
                        Some(d) => *d,
                        None => {
                            let d = self.retention_for(&it.merchant_id, mp).await?.0;
                            retention.insert(key, d);
                            d
                        }
                    };
                    let at = to_micros(d.at).min(now);
                    results.push(TrackingResult::Delivered {
                        id: it.id.clone(),
                        order_id: it.order_id.clone(),
                        at,
                        purge_after: purge_after_delivery(at, now, days),
                    });
                }
                Ok(None) => results.push(TrackingResult::Pending {
                    id: it.id.clone(),
                    next_track_at: Some(next),
                }),
                Err(e) => {
                    tracing::debug!(delivery = %it.id, class = e.class().as_str(), "Delivery status check failed.");
                    results.push(TrackingResult::Pending {
                        id: it.id.clone(),
                        next_track_at: Some(retry),
                    });
                }
            }
        }
        self.store.record_tracking(now, &results).await?;
        Ok(Pass { work: items.len() })
    }

    async fn check<'a>(
        &self,
        it: &'a TrackingItem,
    ) -> (&'a TrackingItem, Result<Option<Delivered>, ConnectorError>) {
        let Some(r) = &it.external_ref else {
            return (it, Ok(None));
        };
        self.heartbeats.beat("track");
        let status = async {
            let sink = self.connectors.sink(&it.sink_connection_id).await?;
            sink.delivery_status(r).await
        };
        let res = AssertUnwindSafe(status)
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(ConnectorError::retriable("internal: the sink panicked")));
        (it, res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_after_delivery_is_bounded_by_now_and_never_overflows() {
        let now = 1_800_000_000_000_000;
        assert_eq!(
            purge_after_delivery(now - DAY_US, now, 30),
            now + 29 * DAY_US
        );
        assert_eq!(purge_after_delivery(i64::MAX, now, 30), now + 30 * DAY_US);
        assert_eq!(purge_after_delivery(now, now, i64::MAX), now);
    }
}
