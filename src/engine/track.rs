//! Delivery tracking: learn when shipped orders reached the buyer. The first trustworthy
//! delivery time, clamped to `[created_at, now]`, sets the order's `delivered_at` and its
//! `purge_after` (ARCHITECTURE §6).
//!
//! Two ways, by what the target offers:
//! - **Feed** (`SinkCaps::delivery_feed`): one read per sink connection and pass of the
//!   target's list filtered by modification time, from where the previous read started minus
//!   an overlap. A pass costs the pages of what *changed*, whatever the number of parcels in
//!   transit. A verified webhook of the target makes the next read due at once.
//! - **Per order** (`delivery_status`): each shipped order is asked about every
//!   `track_interval_secs`.
//!
//! Tracking stops when an order is delivered, cancelled, or older than `track_horizon_days`
//! (its purge then falls back to `days_after_order`). A check or read that fails or panics
//! leaves its items pending for a retry; the others complete.

use super::{Engine, Pass};
use crate::store::{FeedRow, TrackingItem, TrackingResult};
use futures::{FutureExt, StreamExt};
use ordersync_sdk::clock::to_micros;
use ordersync_sdk::{ConnectorError, Delivered, DeliveryReport, ErrorClass, FeedCursor};
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;

/// Pages one feed read may take before it yields (it goes on from `since` next time).
const MAX_FEED_PAGES: usize = 10_000;

const CONCURRENT_CHECKS: usize = 16;
const DAY_US: i64 = 86_400_000_000;
const STOP_TRACKING_EVERY_US: i64 = 60_000_000;

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
        let horizon = now.saturating_sub(self.cfg.track_horizon_days.saturating_mul(DAY_US));
        // The sweep reads every delivery awaiting tracking: once a minute, not at every pass
        // (a busy worker runs passes back to back; the sweep was a third of SQLite's time).
        let due = self.stop_tracking_due.load(Ordering::Relaxed);
        if now >= due {
            let stopped = self.store.stop_tracking(horizon).await?;
            self.stop_tracking_due.store(
                now.saturating_add(STOP_TRACKING_EVERY_US),
                Ordering::Relaxed,
            );
            if stopped > 0 {
                tracing::debug!(
                    deliveries = stopped,
                    "Stopped tracking cancelled or old orders."
                );
            }
        }
        let feeds = self.feed_pass(now).await?;
        let items = self
            .store
            .claim_tracking(now, now + self.cfg.lease_secs * 1_000_000, 500)
            .await?;
        if items.is_empty() {
            return Ok(Pass { work: feeds });
        }
        let next = now + self.cfg.track_interval_secs * 1_000_000;
        let retry = now + self.cfg.track_retry_secs * 1_000_000;
        let futs: Vec<_> = items.iter().map(|it| self.check(it)).collect();
        let checks: Vec<_> = futures::stream::iter(futs)
            .buffer_unordered(CONCURRENT_CHECKS)
            .collect()
            .await;
        let mut delivered = Vec::new();
        let mut results = Vec::with_capacity(checks.len());
        for (it, res) in checks {
            match res {
                Ok(Some(d)) => delivered.push((it.clone(), d.at)),
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
        results.extend(self.delivered_results(now, delivered).await?);
        self.store.record_tracking(now, &results).await?;
        Ok(Pass {
            work: items.len() + feeds,
        })
    }

    /// `Delivered` results for items the target reported delivered at `at`: the time is
    /// clamped to `[created_at, now]` (a parcel cannot arrive before its order was placed nor
    /// in the future), and the purge date follows the merchant's policy.
    async fn delivered_results(
        &self,
        now: i64,
        delivered: Vec<(TrackingItem, time::OffsetDateTime)>,
    ) -> anyhow::Result<Vec<TrackingResult>> {
        if delivered.is_empty() {
            return Ok(vec![]);
        }
        let ids: Vec<String> = delivered.iter().map(|(i, _)| i.order_id.clone()).collect();
        let orders: HashMap<String, (String, i64)> = self
            .store
            .orders_by_ids(&ids)
            .await?
            .into_iter()
            .map(|o| (o.id, (o.marketplace, o.source_created_at)))
            .collect();
        let mut retention: HashMap<(String, String), i64> = HashMap::new();
        let mut out = Vec::with_capacity(delivered.len());
        for (it, at) in delivered {
            let Some((mp, created)) = orders.get(&it.order_id) else {
                continue; // the order is gone: nothing to record
            };
            let key = (it.merchant_id.clone(), mp.clone());
            let days = match retention.get(&key) {
                Some(d) => *d,
                None => {
                    let d = self.retention_for(&it.merchant_id, mp).await?.0;
                    retention.insert(key, d);
                    d
                }
            };
            let at = to_micros(at).min(now).max(*created);
            out.push(TrackingResult::Delivered {
                id: it.id.clone(),
                order_id: it.order_id.clone(),
                at,
                purge_after: purge_after_delivery(at, now, days),
            });
        }
        Ok(out)
    }

    /// Reads the delivery feeds that are due; returns the number of deliveries it settled.
    async fn feed_pass(&self, now: i64) -> anyhow::Result<usize> {
        let lease = now + self.cfg.lease_secs * 1_000_000;
        let owner = self.claim_owner();
        let feeds = self.store.claim_track_feeds(&owner, now, lease, 16).await?;
        let mut work = 0;
        for f in feeds {
            self.heartbeats.beat("track");
            let res = AssertUnwindSafe(self.read_feed(&f, &owner, now))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(ConnectorError::retriable("internal: the sink panicked")));
            let next = now + self.cfg.track_interval_secs * 1_000_000;
            match res {
                Ok(n) => {
                    work += n;
                    // The next read starts where this one started (a read resumed after a
                    // killed worker: where that one started).
                    let started = f.read_started.unwrap_or(now).min(now);
                    self.store
                        .finish_track_feed(
                            &f.connection_id,
                            &owner,
                            Some(started),
                            false,
                            next,
                            None,
                            now,
                        )
                        .await?;
                }
                Err(e) => {
                    tracing::debug!(connection = %f.connection_id, class = e.class().as_str(), "Delivery feed read failed.");
                    let error = super::error_text(&e);
                    let retry = now + self.cfg.track_retry_secs * 1_000_000;
                    self.store
                        .finish_track_feed(
                            &f.connection_id,
                            &owner,
                            None,
                            // A continuation the target no longer knows: start the read over.
                            !matches!(e.class(), ErrorClass::Permanent | ErrorClass::NotFound),
                            retry,
                            Some(&error),
                            now,
                        )
                        .await?;
                }
            }
        }
        Ok(work)
    }

    /// One read of a sink's feed from its cursor to the end, recording page by page.
    async fn read_feed(&self, f: &FeedRow, owner: &str, now: i64) -> Result<usize, ConnectorError> {
        let internal = |e: anyhow::Error| {
            tracing::warn!(error = %format!("{e:#}"), "Recording delivery times failed.");
            ConnectorError::retriable("internal: recording delivery times failed")
        };
        let Some(oldest) = self
            .store
            .oldest_awaiting_tracking(&f.connection_id)
            .await
            .map_err(|e| internal(e.into()))?
        else {
            return Ok(0); // nothing in transit: no request at all
        };
        let sink = self.connectors.sink(&f.connection_id).await?;
        let overlap = self.cfg.feed_overlap_secs.max(0) * 1_000_000;
        let back = |t: i64| ordersync_sdk::clock::from_micros(t.saturating_sub(overlap));
        let started = f.read_started.unwrap_or(now);
        let mut cursor = FeedCursor {
            since: f.since.map(back),
            oldest_pending: Some(back(oldest)),
            page_token: f.page_token.clone(),
        };
        let mut settled = 0;
        for _ in 0..MAX_FEED_PAGES {
            self.heartbeats.beat("track");
            let page = sink.delivery_feed(&cursor).await?;
            settled += self
                .record_reports(&f.connection_id, now, page.delivered)
                .await
                .map_err(internal)?;
            match page.next_page_token {
                Some(t) => {
                    let lease = self.now_us() + self.cfg.lease_secs * 1_000_000;
                    let ours = self
                        .store
                        .save_feed_page(&f.connection_id, owner, &t, started, lease)
                        .await
                        .map_err(|e| internal(e.into()))?;
                    if !ours {
                        // Our lease ran out and another worker took the feed over.
                        return Err(ConnectorError::retriable("delivery feed lease lost"));
                    }
                    cursor.page_token = Some(t);
                }
                None => return Ok(settled),
            }
        }
        Err(ConnectorError::retriable("delivery feed did not end"))
    }

    async fn record_reports(
        &self,
        sink_id: &str,
        now: i64,
        reports: Vec<DeliveryReport>,
    ) -> anyhow::Result<usize> {
        if reports.is_empty() {
            return Ok(0);
        }
        let mut at: HashMap<String, time::OffsetDateTime> = HashMap::new();
        for r in reports {
            // Several reports of one object (overlapping pages): the earliest time wins.
            let e = at.entry(r.external_ref).or_insert(r.at);
            if r.at < *e {
                *e = r.at;
            }
        }
        let refs: Vec<String> = at.keys().cloned().collect();
        let items = self.store.tracking_by_refs(sink_id, &refs).await?;
        let delivered: Vec<_> = items
            .into_iter()
            .filter_map(|it| {
                let t = *at.get(it.external_ref.as_deref()?)?;
                Some((it, t))
            })
            .collect();
        let results = self.delivered_results(now, delivered).await?;
        let n = results.len();
        self.store.record_tracking(now, &results).await?;
        Ok(n)
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
