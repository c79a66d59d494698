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
use futures::FutureExt;
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

/// `(batch, slots)` cut to what the sink's pace (`SinkCaps::deliveries_per_minute`) completes
/// in half a lease: a batch waiting at its rate gate then finishes well inside its lease even
/// if renewals falter, and a worker that dies leaves little to wait out. The lease is still
/// renewed while batches are in flight; this bounds what depends on it.
fn fit_pace(batch: usize, slots: usize, pace: Option<u32>, lease_secs: i64) -> (usize, usize) {
    let Some(pace) = pace else {
        return (batch, slots);
    };
    let lease = u64::try_from(lease_secs.max(1)).unwrap_or(1);
    let fit = usize::try_from(u64::from(pace) * lease / 120)
        .unwrap_or(usize::MAX)
        .max(1);
    let batch = batch.clamp(1, fit);
    (batch, slots.clamp(1, (fit / batch).max(1)))
}

struct Prepared {
    claim: ClaimedDelivery,
    order: Arc<Order>,
    object_key: String,
    /// The order's PII is purged: a fulfillment or tracking target gets nothing more.
    purged: bool,
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
    /// none running in this process. A pipeline runs until its sink has nothing due,
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
                let run = AssertUnwindSafe(me.run_sink(&sink, false, &cancel))
                    .catch_unwind()
                    .await;
                let error = match run {
                    Ok(Ok(_)) => None,
                    Ok(Err(e)) => Some(format!("{e:#}")),
                    // The payload is not logged: a panic message may quote data.
                    Err(_) => Some("the pipeline panicked".to_string()),
                };
                if let Some(error) = error {
                    tracing::warn!(sink = %sink, error = %error, "Delivery pipeline failed; retrying.");
                    metrics::counter!("ordersync_worker_errors_total", "loop" => "deliver").increment(1);
                    // Not at once: a failing store must not be hammered.
                    tokio::select! {
                        _ = cancel.cancelled() => {}
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                }
                me.busy_sinks.lock().unwrap_or_else(|e| e.into_inner()).remove(&sink);
            });
        }
        Ok(Pass::default())
    }

    /// One round for one sink connection: up to `batch_size × concurrency` of its due
    /// deliveries, `concurrency` batches at a time. Tests drive sinks with this.
    pub async fn deliver_sink_round(&self, sink_id: &str) -> anyhow::Result<Pass> {
        self.run_sink(sink_id, true, &CancellationToken::new())
            .await
    }

    /// The pipeline of one sink connection: keeps `concurrency` batches in flight, claiming
    /// the next batch as soon as one completes (a slow batch never holds up the others), and
    /// renews the leases of everything in flight at a third of the lease time (a throttled
    /// target may take long). With `one_round` it stops claiming after `batch_size ×
    /// concurrency`; else it runs until the sink has nothing due or `stop` fires (then it
    /// claims no more and finishes what it holds).
    async fn run_sink(
        &self,
        sink_id: &str,
        one_round: bool,
        stop: &CancellationToken,
    ) -> anyhow::Result<Pass> {
        let started = std::time::Instant::now();
        let lease = self.cfg.lease_secs * 1_000_000;
        let built = AssertUnwindSafe(self.connectors.sink(sink_id))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(ConnectorError::retriable("internal: the sink panicked")));
        let mut sink = match built {
            Ok(s) => s,
            Err(e) => {
                let now = self.now_us();
                let owner = self.claim_owner();
                let claimed = self
                    .store
                    .claim_sink_deliveries(&owner, sink_id, now, now + lease, UNBUILT_CLAIM)
                    .await?;
                let results: Vec<_> = claimed.iter().map(|c| self.failure(c, &e)).collect();
                if !results.is_empty() {
                    self.store
                        .complete_deliveries(&owner, self.now_us(), &results)
                        .await?;
                }
                return Ok(Pass {
                    work: results.len(),
                });
            }
        };
        let caps = sink.capabilities();
        let batch = caps
            .batch_size
            .clamp(1, self.cfg.delivery_batch.max(1) as usize);
        let slots = caps.concurrency.max(1);
        let (batch, slots) = fit_pace(
            batch,
            slots,
            caps.deliveries_per_minute,
            self.cfg.lease_secs,
        );
        let budget = if one_round { batch * slots } else { usize::MAX };
        let every = Duration::from_millis((self.cfg.lease_secs.max(1) as u64) * 1000 / 3);
        let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        // Ids in flight by claim (each claim has its own lease owner / fencing token).
        let mut held: HashMap<String, Vec<String>> = HashMap::new();
        // Tasks, not a FuturesUnordered: a batch must make progress (and release its store
        // connection) while this loop awaits its next claim.
        let mut inflight = tokio::task::JoinSet::new();
        let (mut claimed, mut dry, mut feed_ready) = (0usize, false, false);
        let mut failed: Option<anyhow::Error> = None;
        self.heartbeats.part_beat("deliver", sink_id);
        loop {
            while !dry
                && failed.is_none()
                && !stop.is_cancelled()
                && inflight.len() < slots
                && claimed < budget
            {
                if claimed > 0 {
                    // Changed in another process since the last claim? Paused or deleted, it
                    // claims nothing more (batches in flight finish); new config or
                    // credentials rebuild it. One lookup by primary key per claim.
                    match AssertUnwindSafe(self.connectors.sink(sink_id))
                        .catch_unwind()
                        .await
                    {
                        Ok(Ok(s)) => sink = s,
                        _ => {
                            dry = true;
                            break;
                        }
                    }
                }
                let now = self.now_us();
                let want = batch.min(budget - claimed);
                let owner = self.claim_owner();
                let claims = match self
                    .store
                    .claim_sink_deliveries(&owner, sink_id, now, now + lease, want as i64)
                    .await
                {
                    Ok(c) => c,
                    Err(e) => {
                        failed = Some(e.into());
                        break;
                    }
                };
                dry = claims.len() < want;
                if claims.is_empty() {
                    break;
                }
                if !feed_ready && caps.tracks_delivery && caps.delivery_feed {
                    // Before any of its deliveries can await tracking: from now on this sink
                    // is tracked a page at a time.
                    let next = now + self.cfg.track_interval_secs * 1_000_000;
                    if let Err(e) = self.store.ensure_track_feed(sink_id, next, now).await {
                        failed = Some(e.into());
                        break;
                    }
                    feed_ready = true;
                }
                claimed += claims.len();
                held.insert(owner.clone(), claims.iter().map(|c| c.id.clone()).collect());
                let (me, sink) = (self.clone(), sink.clone());
                inflight.spawn(async move {
                    let r = me.deliver_claimed(sink, &owner, claims, now).await;
                    (owner, r)
                });
            }
            if inflight.is_empty() {
                break;
            }
            tokio::select! {
                Some(joined) = inflight.join_next() => {
                    match joined {
                        Ok((owner, r)) => {
                            held.remove(&owner);
                            if let Err(e) = r {
                                failed.get_or_insert(e);
                            }
                        }
                        // Batches catch their sink's panics; this one's leases simply expire.
                        Err(_) => {
                            failed.get_or_insert(anyhow::anyhow!("a delivery batch task failed"));
                        }
                    }
                    // Deliveries may have come due meanwhile.
                    dry = one_round && dry;
                }
                _ = renew.tick() => {
                    let until = self.now_us() + lease;
                    for (owner, ids) in &held {
                        if let Err(e) = self.store.renew_deliveries(owner, ids, until).await {
                            failed.get_or_insert(e.into());
                        }
                    }
                }
            }
        }
        self.heartbeats.part_end("deliver", sink_id);
        if let Some(e) = failed {
            return Err(e);
        }
        if claimed > 0 {
            tracing::debug!(
                sink = sink_id,
                deliveries = claimed,
                total_ms = started.elapsed().as_millis() as u64,
                "Delivery round done."
            );
        }
        Ok(Pass { work: claimed })
    }

    /// One batch (at most the sink's batch size): reads and opens its orders, makes the sink
    /// call, and records every outcome.
    async fn deliver_claimed(
        &self,
        sink: Arc<dyn Sink>,
        owner: &str,
        claimed: Vec<ClaimedDelivery>,
        now: i64,
    ) -> anyhow::Result<()> {
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
            let row = orders.get(&claim.order_id);
            let order = match row {
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
                        purged: row.is_some_and(|r| r.pii_purged_at.is_some()),
                    });
                }
                Err(e) => failed.push(self.failure(&claim, &e)),
            }
        }
        let mut results = failed;
        if !prepared.is_empty() {
            let tracks = sink.capabilities().tracks_delivery;
            let track_at = now + self.cfg.track_interval_secs * 1_000_000;
            results.extend(
                self.run_batch_isolated(sink, tracks, prepared, track_at)
                    .await,
            );
        }
        // One write for the batch, failures to open an order included. Fenced: outcomes of
        // deliveries whose lease another claim took over are refused, and that claim's own
        // attempt (same idempotency key) is the one recorded.
        let written = self
            .store
            .complete_deliveries(owner, self.now_us(), &results)
            .await?;
        let refused = (results.len() as u64).saturating_sub(written);
        if refused > 0 {
            tracing::warn!(
                deliveries = refused,
                "Delivery leases lost while in flight; their outcomes were not written."
            );
            metrics::counter!("ordersync_leases_lost_total", "work" => "deliver")
                .increment(refused);
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
        //
        // An order whose PII is purged (delivered long ago, past its retention) is not sent to
        // a fulfillment or tracking target either: without the address it could only fail,
        // and its parcel has arrived. Accounting still gets its later changes (a refund).
        let role = sink.capabilities().role;
        let fulfillment = role == SinkRole::Fulfillment;
        let (items, already): (Vec<Prepared>, Vec<Prepared>) = items.into_iter().partition(|p| {
            let done = fulfillment && p.order.fulfillment_status == FulfillmentStatus::Fulfilled;
            let purged = p.purged && role != SinkRole::Accounting;
            !done && !purged
        });
        let mut out: Vec<DeliveryResult> = already
            .iter()
            .map(|p| {
                let prev = p.claim.external_ref.clone().filter(|r| !r.is_empty());
                let outcome = if prev.is_some() { "unchanged" } else { "skipped" };
                metrics::counter!("ordersync_deliveries_total", "sink" => sink.kind(), "outcome" => outcome).increment(1);
                DeliveryResult::Done {
                    id: p.claim.id.clone(),
                    next_track_at: prev.as_ref().and((tracks && !p.purged).then_some(track_at)),
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
                connection_id: &row.connection_id,
                order_id: &row.id,
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
                // A master key version this process lacks (a rotation): retried, never dead.
                Err(e) if e.is_transient() => {
                    return Err(ConnectorError::retriable(e.to_string()));
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

#[cfg(test)]
mod tests {
    use super::fit_pace;

    #[test]
    fn in_flight_deliveries_fit_half_a_lease_at_the_pace() {
        // 60 calls a minute, 4 per delivery: 15 fit a two-minute lease's half, one batch of 10.
        assert_eq!(fit_pace(10, 10, Some(15), 120), (10, 1));
        // 200 a minute: 200 of the 400 a bulk sink would hold.
        assert_eq!(fit_pace(100, 4, Some(200), 120), (100, 2));
        assert_eq!(fit_pace(100, 4, Some(1), 120), (1, 1), "one at least");
        assert_eq!(fit_pace(100, 4, None, 120), (100, 4), "no limit binds");
        assert_eq!(fit_pace(20, 4, Some(1_000_000), 120), (20, 4));
    }
}
