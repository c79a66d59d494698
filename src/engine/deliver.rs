//! The delivery outbox, one pipeline per sink connection: claim that sink's due deliveries
//! under a lease (renewed while they are in flight), decrypt each order's PII for the moment
//! of the call, hand them to the sink in its batch size with the deterministic keys, several
//! batches at once, and record each batch's outcomes as soon as it ends. Retriable failures
//! back off; permanent ones go to `dead` with their reason (replayable).
//!
//! A slow or failing target holds up only its own deliveries. A panic in one sink's batch (or
//! in building the sink) fails that batch's deliveries as retriable, and the other batches
//! complete as usual.

use super::ingest::object_key;
use super::{Engine, Pass, retry_delay};
use crate::crypto::{CryptoError, PiiRow, SealedPii};
use crate::store::{ClaimedDelivery, DeliveryResult, OrderRow};
use futures::{FutureExt, StreamExt};
use ordersync_sdk::{
    ConnectorError, DeliveryRequest, ErrorClass, FulfillmentStatus, Order, OutcomeKind, Sink,
    SinkRole,
};
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Sinks one `deliver_once` (or one dispatch) looks at.
const SINKS_PER_PASS: i64 = 1000;
/// Deliveries claimed at once when the sink cannot even be built (they all fail alike).
const UNBUILT_CLAIM: i64 = 100;

struct Prepared {
    claim: ClaimedDelivery,
    order: Arc<Order>,
    object_key: String,
}

impl Engine {
    /// One round for every sink with due deliveries, concurrently; the total handled. Tests
    /// drive the engine with this; the worker runs [`Engine::dispatch_deliveries`].
    pub async fn deliver_once(&self) -> anyhow::Result<Pass> {
        let sinks = self
            .store
            .due_delivery_sinks(self.now_us(), SINKS_PER_PASS)
            .await?;
        let rounds =
            futures::future::join_all(sinks.iter().map(|s| self.deliver_sink_round(s))).await;
        let mut work = 0;
        let mut failed = None;
        for r in rounds {
            match r {
                Ok(p) => work += p.work,
                Err(e) => failed = Some(e),
            }
        }
        match failed {
            Some(e) if work == 0 => Err(e),
            _ => Ok(Pass { work }),
        }
    }

    /// The deliver loop's pass: starts a pipeline for each sink with due deliveries that has
    /// none running in this process. A pipeline runs rounds until its sink has nothing due,
    /// so a slow target never holds up another's deliveries, and beats as a part of the
    /// `deliver` loop (a hung target makes the loop stale in `/healthz`).
    pub(super) async fn dispatch_deliveries(
        &self,
        tracker: &TaskTracker,
        cancel: &CancellationToken,
    ) -> anyhow::Result<Pass> {
        let sinks = self
            .store
            .due_delivery_sinks(self.now_us(), SINKS_PER_PASS)
            .await?;
        for sink in sinks {
            if cancel.is_cancelled() {
                break;
            }
            if !self
                .busy_sinks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(sink.clone())
            {
                continue;
            }
            let (me, cancel) = (self.clone(), cancel.clone());
            tracker.spawn(async move {
                while !cancel.is_cancelled() {
                    let round = AssertUnwindSafe(me.deliver_sink_round(&sink)).catch_unwind().await;
                    let error = match round {
                        Ok(Ok(p)) if p.work > 0 => continue,
                        Ok(Ok(_)) => break,
                        Ok(Err(e)) => format!("{e:#}"),
                        // The payload is not logged: a panic message may quote data.
                        Err(_) => "the round panicked".to_string(),
                    };
                    tracing::warn!(sink = %sink, error = %error, "Delivery round failed; retrying.");
                    metrics::counter!("ordersync_worker_errors_total", "loop" => "deliver").increment(1);
                    // Not at once: a failing store must not be hammered.
                    tokio::select! {
                        _ = cancel.cancelled() => {}
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                    break;
                }
                me.busy_sinks.lock().unwrap_or_else(|e| e.into_inner()).remove(&sink);
            });
        }
        Ok(Pass::default())
    }

    /// One round for one sink connection: claims up to `batch_size × concurrency` of its due
    /// deliveries, runs `concurrency` batches at a time, and completes each batch when it
    /// ends. The leases are renewed while any is in flight (a throttled target may take long).
    pub async fn deliver_sink_round(&self, sink_id: &str) -> anyhow::Result<Pass> {
        let started = std::time::Instant::now();
        let built = AssertUnwindSafe(self.connectors.sink(sink_id))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(ConnectorError::retriable("internal: the sink panicked")));
        let limit = match &built {
            Ok(s) => {
                let c = s.capabilities();
                c.batch_size.max(1).saturating_mul(c.concurrency.max(1)) as i64
            }
            Err(_) => UNBUILT_CLAIM,
        }
        .clamp(1, self.cfg.delivery_batch.max(1));
        let now = self.now_us();
        let lease = self.cfg.lease_secs * 1_000_000;
        let claimed = self
            .store
            .claim_sink_deliveries(&self.worker_id, sink_id, now, now + lease, limit)
            .await?;
        if claimed.is_empty() {
            return Ok(Pass::default());
        }
        let n = claimed.len();
        let sink = match built {
            Ok(s) => s,
            Err(e) => {
                let results: Vec<_> = claimed.iter().map(|c| self.failure(c, &e)).collect();
                self.store
                    .complete_deliveries(&self.worker_id, self.now_us(), &results)
                    .await?;
                return Ok(Pass { work: n });
            }
        };
        let ids: Vec<String> = claimed.iter().map(|c| c.id.clone()).collect();
        self.heartbeats.part_beat("deliver", sink_id);
        let work = self.deliver_claimed(sink, claimed, now);
        let r = tokio::select! {
            r = work => r,
            r = self.renew_leases(&ids) => r,
        };
        self.heartbeats.part_end("deliver", sink_id);
        r?;
        tracing::debug!(
            sink = sink_id,
            deliveries = n,
            total_ms = started.elapsed().as_millis() as u64,
            "Delivery round done."
        );
        Ok(Pass { work: n })
    }

    /// Renews the leases on `ids` at a third of the lease time, until dropped; ends (with
    /// an error) only if the store fails.
    async fn renew_leases(&self, ids: &[String]) -> anyhow::Result<()> {
        let every = Duration::from_millis((self.cfg.lease_secs.max(1) as u64) * 1000 / 3);
        loop {
            tokio::time::sleep(every).await;
            let until = self.now_us() + self.cfg.lease_secs * 1_000_000;
            self.store
                .renew_deliveries(&self.worker_id, ids, until)
                .await?;
        }
    }

    async fn deliver_claimed(
        &self,
        sink: Arc<dyn Sink>,
        claimed: Vec<ClaimedDelivery>,
        now: i64,
    ) -> anyhow::Result<()> {
        let sink_id = claimed[0].sink_connection_id.clone();
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
        let mut failed = Vec::new();
        let mut prepared = Vec::with_capacity(claimed.len());
        for claim in claimed {
            let order = match orders.get(&claim.order_id) {
                None => Err(ConnectorError::permanent("order no longer exists")),
                Some(row) => self.decode(row).await.map(Arc::new),
            };
            match order {
                Ok(o) => {
                    let key = object_key(&claim.order_id, &claim.sink_connection_id);
                    prepared.push(Prepared {
                        claim,
                        order: o,
                        object_key: key,
                    });
                }
                Err(e) => failed.push(self.failure(&claim, &e)),
            }
        }
        if !failed.is_empty() {
            self.store
                .complete_deliveries(&self.worker_id, self.now_us(), &failed)
                .await?;
        }
        let caps = sink.capabilities();
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
        let track_at = now + self.cfg.track_interval_secs * 1_000_000;
        let batch = caps.batch_size.max(1);
        let mut batches = Vec::new();
        while !prepared.is_empty() {
            let rest = prepared.split_off(batch.min(prepared.len()));
            batches.push(std::mem::replace(&mut prepared, rest));
        }
        let sink = &sink;
        let mut done = futures::stream::iter(batches)
            .map(|items| async move {
                let results = self
                    .run_batch_isolated(sink.clone(), tracks, items, track_at)
                    .await;
                self.store
                    .complete_deliveries(&self.worker_id, self.now_us(), &results)
                    .await
            })
            .buffer_unordered(caps.concurrency.max(1));
        while let Some(r) = done.next().await {
            r?;
        }
        Ok(())
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
        let part = items
            .first()
            .map(|p| p.claim.sink_connection_id.clone())
            .unwrap_or_default();
        self.heartbeats.part_beat("deliver", &part);
        let claims: Vec<ClaimedDelivery> = items.iter().map(|p| p.claim.clone()).collect();
        let kind = sink.kind();
        let out = AssertUnwindSafe(self.run_batch(sink, tracks, items, track_at))
            .catch_unwind()
            .await;
        self.heartbeats.part_beat("deliver", &part);
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
