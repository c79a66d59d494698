//! The delivery outbox: claim due deliveries in a batch under a lease, decrypt each order's
//! PII for the moment of the call, hand them to their sink in its batch size with the
//! deterministic keys, and record every outcome in one statement batch. Retriable failures
//! back off; permanent ones go to `dead` with their reason (replayable).
//!
//! A panic in one sink's batch (or in building the sink) fails that batch's deliveries as
//! retriable, and the other batches of the pass complete as usual.

use super::ingest::object_key;
use super::{Engine, Pass, retry_delay};
use crate::crypto::{CryptoError, PiiRow, SealedPii};
use crate::store::{ClaimedDelivery, DeliveryResult, OrderRow};
use futures::{FutureExt, StreamExt};
use ordersync_sdk::{
    ConnectorError, DeliveryRequest, ErrorClass, FulfillmentStatus, Order, OutcomeKind, Sink,
    SinkRole,
};
use std::collections::{BTreeMap, HashMap};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// Sink batches in flight at once.
const CONCURRENT_BATCHES: usize = 4;

struct Prepared {
    claim: ClaimedDelivery,
    order: Arc<Order>,
    object_key: String,
}

impl Engine {
    pub async fn deliver_once(&self) -> anyhow::Result<Pass> {
        let started = std::time::Instant::now();
        let now = self.now_us();
        let lease = self.cfg.lease_secs * 1_000_000;
        let claimed = self
            .store
            .claim_deliveries(&self.worker_id, now, now + lease, self.cfg.delivery_batch)
            .await?;
        if claimed.is_empty() {
            return Ok(Pass::default());
        }
        let n = claimed.len();
        let claim_ms = started.elapsed().as_millis() as u64;
        let order_ids: Vec<String> = {
            let mut v: Vec<String> = claimed.iter().map(|c| c.order_id.clone()).collect();
            v.sort();
            v.dedup();
            v
        };
        let orders: HashMap<String, OrderRow> = self
            .store
            .orders_by_ids(&order_ids)
            .await?
            .into_iter()
            .map(|o| (o.id.clone(), o))
            .collect();
        let mut results = Vec::with_capacity(n);
        let mut decoded: HashMap<String, Arc<Order>> = HashMap::new();
        let mut by_sink: BTreeMap<String, Vec<Prepared>> = BTreeMap::new();
        for claim in claimed {
            let order = match decoded.get(&claim.order_id) {
                Some(o) => Ok(o.clone()),
                None => match orders.get(&claim.order_id) {
                    None => Err(ConnectorError::permanent("order no longer exists")),
                    Some(row) => self.decode(row).await.map(Arc::new),
                },
            };
            match order {
                Ok(o) => {
                    decoded.insert(claim.order_id.clone(), o.clone());
                    let key = object_key(&claim.order_id, &claim.sink_connection_id);
                    by_sink
                        .entry(claim.sink_connection_id.clone())
                        .or_default()
                        .push(Prepared {
                            claim,
                            order: o,
                            object_key: key,
                        });
                }
                Err(e) => results.push(self.failure(&claim, &e)),
            }
        }
        let decoded_ms = started.elapsed().as_millis() as u64;
        let mut jobs = Vec::new();
        for (sink_id, items) in by_sink {
            let built = AssertUnwindSafe(self.connectors.sink(&sink_id))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(ConnectorError::retriable("internal: the sink panicked")));
            let sink = match built {
                Ok(s) => s,
                Err(e) => {
                    results.extend(items.iter().map(|p| self.failure(&p.claim, &e)));
                    continue;
                }
            };
            let caps = sink.capabilities();
            let batch = caps.batch_size.max(1);
            let tracks = caps.tracks_delivery;
            if tracks && caps.delivery_feed {
                // Before any of its deliveries can await tracking: from now on this sink is
                // tracked a page at a time.
                self.store
                    .ensure_track_feed(
                        &sink_id,
                        now + self.cfg.track_interval_secs * 1_000_000,
                        now,
                    )
                    .await?;
            }
            let mut items = items;
            while !items.is_empty() {
                let rest = items.split_off(batch.min(items.len()));
                jobs.push((sink.clone(), tracks, std::mem::replace(&mut items, rest)));
            }
        }
        let track_at = now + self.cfg.track_interval_secs * 1_000_000;
        let futs: Vec<_> = jobs
            .into_iter()
            .map(|(sink, tracks, items)| self.run_batch_isolated(sink, tracks, items, track_at))
            .collect();
        let outcomes: Vec<Vec<DeliveryResult>> = futures::stream::iter(futs)
            .buffer_unordered(CONCURRENT_BATCHES)
            .collect()
            .await;
        results.extend(outcomes.into_iter().flatten());
        let sent_ms = started.elapsed().as_millis() as u64;
        self.store
            .complete_deliveries(&self.worker_id, self.now_us(), &results)
            .await?;
        tracing::debug!(
            deliveries = n,
            claim_ms,
            decoded_ms,
            sent_ms,
            total_ms = started.elapsed().as_millis() as u64,
            "Delivery batch done."
        );
        Ok(Pass { work: n })
    }

    /// [`Engine::run_batch`], with a panic turned into a retriable failure of each of the
    /// batch's deliveries (they back off, and go dead after `max_attempts` like any failure).
    async fn run_batch_isolated(
        &self,
        sink: Arc<dyn Sink>,
        tracks: bool,
        items: Vec<Prepared>,
        track_at: i64,
    ) -> Vec<DeliveryResult> {
        self.heartbeats.beat("deliver");
        let claims: Vec<ClaimedDelivery> = items.iter().map(|p| p.claim.clone()).collect();
        let kind = sink.kind();
        let out = AssertUnwindSafe(self.run_batch(sink, tracks, items, track_at))
            .catch_unwind()
            .await;
        self.heartbeats.beat("deliver");
        out.unwrap_or_else(|_| {
            tracing::error!(
                sink = kind,
                deliveries = claims.len(),
                "Sink batch panicked; its deliveries are retried."
            );
            let e = ConnectorError::retriable("internal: the sink panicked");
            claims.iter().map(|c| self.failure(c, &e)).collect()
        })
    }

    /// One sink call for a batch of deliveries; one result per delivery.
    async fn run_batch(
        &self,
        sink: Arc<dyn Sink>,
        tracks: bool,
        items: Vec<Prepared>,
        track_at: i64,
    ) -> Vec<DeliveryResult> {
        // An order the marketplace reports fulfilled (shipped by the merchant, the marketplace,
        // or the warehouse itself, which told the marketplace) has nothing left for a
        // fulfillment target: one never sent is not sent; one sent before keeps its object and
        // its tracking, and is not updated (the shipment has its label; ShipStation would
        // refuse the edit and the delivery would go dead for nothing).
        let fulfillment = sink.capabilities().role == SinkRole::Fulfillment;
        let (items, already): (Vec<Prepared>, Vec<Prepared>) = items.into_iter().partition(|p| {
            !fulfillment || p.order.fulfillment_status != FulfillmentStatus::Fulfilled
        });
        let mut out: Vec<DeliveryResult> = already
            .iter()
            .map(|p| {
                let prev = p.claim.external_ref.clone().filter(|r| !r.is_empty());
                let outcome = if prev.is_some() { "unchanged" } else { "skipped" };
                metrics::counter!("ordersync_deliveries_total", "sink" => sink.kind(), "outcome" => outcome).increment(1);
                DeliveryResult::Done {
                    id: p.claim.id.clone(),
                    next_track_at: prev.as_ref().and(tracks.then_some(track_at)),
                    external_ref: prev.unwrap_or_default(),
                    version: p.claim.version,
                }
            })
            .collect();
        if items.is_empty() {
            return out;
        }
        let reqs: Vec<DeliveryRequest<'_>> = items
            .iter()
            .map(|p| DeliveryRequest {
                order: &p.order,
                idempotency_key: &p.claim.idempotency_key,
                object_key: &p.object_key,
                // A skipped version left no object behind (an empty ref).
                previous_ref: p.claim.external_ref.as_deref().filter(|r| !r.is_empty()),
            })
            .collect();
        let res = sink.deliver_batch(&reqs).await;
        if res
            .iter()
            .any(|r| r.as_ref().is_err_and(|e| e.class() == ErrorClass::Auth))
        {
            // Rejected credentials: the next batch builds the sink from the stored secrets
            // again (the merchant may have re-authorised it, in this process or another).
            if let Some(p) = items.first() {
                self.connectors.forget(&p.claim.sink_connection_id);
            }
        }
        let missing = std::iter::repeat_with(|| {
            Err(ConnectorError::permanent(
                "sink returned fewer results than requests",
            ))
        });
        out.extend(items
            .iter()
            .zip(res.into_iter().chain(missing))
            .map(|(p, r)| match r {
                Ok(out) if out.kind == OutcomeKind::Skipped => {
                    metrics::counter!("ordersync_deliveries_total", "sink" => sink.kind(), "outcome" => "skipped").increment(1);
                    DeliveryResult::Done { id: p.claim.id.clone(), external_ref: String::new(), version: p.claim.version, next_track_at: None }
                }
                Ok(out) => {
                    metrics::counter!("ordersync_deliveries_total", "sink" => sink.kind(), "outcome" => "ok").increment(1);
                    DeliveryResult::Done { id: p.claim.id.clone(), external_ref: out.external_ref, version: p.claim.version, next_track_at: tracks.then_some(track_at) }
                }
                Err(e) => {
                    metrics::counter!("ordersync_deliveries_total", "sink" => sink.kind(), "outcome" => e.class().as_str()).increment(1);
                    self.failure(&p.claim, &e)
                }
            }));
        out
    }

    /// The order as stored plus its decrypted PII (purged orders go out without PII).
    ///
    /// PII that cannot be opened (corrupt ciphertext, shredded key) fails only this order's
    /// deliveries, as dead with that reason: every target we ship to needs the address, and
    /// sending an order without its PII would create an object that cannot be fulfilled. A
    /// re-read of the order seals fresh PII and re-arms its deliveries; a keystore outage is
    /// retriable.
    async fn decode(&self, row: &OrderRow) -> Result<Order, ConnectorError> {
        let mut order: Order = serde_json::from_str(&row.data)
            .map_err(|_| ConnectorError::permanent("stored order is not valid"))?;
        if let (Some(ct), Some(dek), Some(epoch)) = (&row.pii_ct, &row.pii_dek, &row.pii_epoch) {
            let pii_row = PiiRow {
                merchant_id: &row.merchant_id,
                marketplace: &row.marketplace,
                external_id: &row.external_id,
            };
            let sealed = SealedPii {
                pii_ct: ct.clone(),
                dek: dek.clone(),
            };
            order.pii = match self
                .crypto
                .open_pii(pii_row, epoch, &sealed, self.clock.now())
                .await
            {
                Ok(p) => p,
                Err(CryptoError::Keystore(_)) => {
                    return Err(ConnectorError::retriable("keystore unavailable"));
                }
                Err(e) => {
                    metrics::counter!("ordersync_pii_unreadable_total", "stage" => "deliver")
                        .increment(1);
                    return Err(ConnectorError::permanent(format!(
                        "stored PII cannot be opened ({e}); re-read the order to deliver it"
                    )));
                }
            };
        }
        Ok(order)
    }

    fn failure(&self, claim: &ClaimedDelivery, e: &ConnectorError) -> DeliveryResult {
        let error = super::error_text(e);
        let permanent = matches!(e.class(), ErrorClass::Permanent | ErrorClass::NotFound);
        // Rejected credentials are the connection's problem, not the order's: its deliveries
        // wait (never dead-lettered) until the merchant re-authorises it, which re-arms them.
        let auth = e.class() == ErrorClass::Auth;
        if permanent || (!auth && claim.attempts >= self.cfg.max_attempts) {
            tracing::warn!(delivery = %claim.id, class = e.class().as_str(), attempts = claim.attempts, "Delivery dead-lettered.");
            DeliveryResult::Dead {
                id: claim.id.clone(),
                error,
            }
        } else {
            let mut delay = retry_delay(claim.attempts, e.retry_after());
            if auth {
                delay = delay.max(std::time::Duration::from_secs(60));
            }
            DeliveryResult::Retry {
                id: claim.id.clone(),
                next_attempt_at: self.now_us() + delay.as_micros() as i64,
                error,
            }
        }
    }
}
