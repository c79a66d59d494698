//! The engine (ARCHITECTURE §4): leased pull scheduling with an overlapping cursor, one
//! transaction per page (orders upsert + deliveries enqueue + cursor), a delivery outbox with
//! idempotency keys and batched claims, delivery tracking that starts the retention clock, and
//! the purge sweep. All time comes from the injected clock.

mod backfill;
mod budgets;
mod connectors;
mod deliver;
mod heartbeat;
mod ingest;
mod pull;
mod reconcile;
mod routes;
mod shred;
mod track;

pub use backfill::{BACKFILL_LAG, BackfillProgress};
pub use budgets::DbBudget;
pub use connectors::ConnectorCache;
pub use heartbeat::{Heartbeats, Stale};
pub use reconcile::ReconcileView;
pub use routes::{ALL_STATUSES, DEFAULT_ROUTE_STATUSES, backfill_route};
pub use shred::{EPOCH_GRACE, EpochStatus, PurgeStep, epoch_closed, sealing_epoch};

use crate::config::{EngineConfig, RetentionDefaults};
use crate::crypto::Crypto;
use crate::store::Store;
use futures::FutureExt;
use ordersync_sdk::clock::to_micros;
use ordersync_sdk::{Clock, SystemClock, http::HttpClient};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Everything a worker needs; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub store: Arc<dyn Store>,
    pub crypto: Arc<Crypto>,
    pub clock: Arc<dyn Clock>,
    pub cfg: EngineConfig,
    pub retention: RetentionDefaults,
    pub worker_id: String,
    pub connectors: Arc<ConnectorCache>,
    /// Beats of the loops [`Engine::run`] runs, read by `/healthz`.
    pub heartbeats: Arc<Heartbeats>,
    /// Sink connections with a delivery pipeline running in this process.
    busy_sinks: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
    /// Cuts the idle wait of the pull and deliver loops short when work is announced.
    wake: Arc<tokio::sync::Notify>,
    /// When the tracking pass next sweeps for cancelled and too-old orders (engine clock, µs).
    stop_tracking_due: Arc<std::sync::atomic::AtomicI64>,
}

/// What one pass of a loop did (for tests and the demo's idle detection).
/// A connector error as stored (`last_error`): its class first, once.
fn error_text(e: &ordersync_sdk::ConnectorError) -> String {
    let (class, text) = (e.class().as_str(), e.to_string());
    if text.starts_with(class) {
        text
    } else {
        format!("{class}: {text}")
    }
}

/// A write under a lease was refused: the lease expired and another worker holds the work
/// now (this worker stalled past its lease). The work is theirs; nothing was written.
#[derive(Debug, thiserror::Error)]
#[error("lease lost: another worker holds this work now")]
pub struct LeaseLost;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub work: usize,
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        crypto: Arc<Crypto>,
        clock: Arc<dyn Clock>,
        http: HttpClient,
        cfg: EngineConfig,
        retention: RetentionDefaults,
        worker_id: String,
    ) -> Self {
        let connectors = Arc::new(ConnectorCache::new(
            store.clone(),
            crypto.clone(),
            clock.clone(),
            http,
        ));
        Self {
            store,
            crypto,
            clock,
            cfg,
            retention,
            worker_id,
            connectors,
            heartbeats: Arc::new(Heartbeats::new(Arc::new(SystemClock))),
            busy_sinks: Arc::default(),
            stop_tracking_due: Arc::default(),
            wake: Arc::default(),
        }
    }

    /// A fresh lease owner for one claim: the worker id (readable in `status`) and a random
    /// fencing token. Every write under the lease names it, so a write from an older claim —
    /// of another worker, or of this one before it stalled — matches no row.
    pub fn claim_owner(&self) -> String {
        format!("{}#{:016x}", self.worker_id, rand::random::<u64>())
    }

    pub fn now_us(&self) -> i64 {
        to_micros(self.clock.now())
    }

    /// Runs the pull, delivery, tracking, reconcile and purge loops until `cancel` fires; then stops
    /// claiming, lets in-flight work finish, and returns (leases of unfinished work expire).
    /// A failed or panicking pass is logged and the loop goes on; each pass beats.
    pub async fn run(&self, cancel: CancellationToken) {
        let tracker = TaskTracker::new();
        let idle = Duration::from_millis(self.cfg.idle_ms);
        if self.store.listen_work(self.wake.clone()) {
            tracing::debug!("Listening for work notifications.");
        }
        let spawn_loop = |name: &'static str,
                          f: fn(
            Engine,
            TaskTracker,
            CancellationToken,
        )
            -> futures::future::BoxFuture<'static, anyhow::Result<Pass>>,
                          every: Duration| {
            let me = self.clone();
            let cancel = cancel.clone();
            let tasks = tracker.clone();
            me.heartbeats.expect(name, every);
            tracker.spawn(async move {
                loop {
                    if cancel.is_cancelled() {
                        break;
                    }
                    me.heartbeats.beat(name);
                    // Connections and batches are isolated inside a pass; this catches what
                    // escapes them, so no bug can end the loop.
                    let pass = AssertUnwindSafe(f(me.clone(), tasks.clone(), cancel.clone()))
                        .catch_unwind()
                        .await;
                    me.heartbeats.beat(name);
                    let failed = |error: String| {
                        tracing::warn!(loop_name = name, error = %error, "Worker loop failed; retrying.");
                        metrics::counter!("ordersync_worker_errors_total", "loop" => name)
                            .increment(1);
                        every.max(Duration::from_millis(500))
                    };
                    let ran = matches!(pass, Ok(Ok(_)));
                    let wait = match pass {
                        Ok(Ok(p)) if p.work > 0 => Duration::ZERO,
                        Ok(Ok(_)) => every,
                        Ok(Err(e)) => failed(format!("{e:#}")),
                        // The payload is not logged: a panic message may quote data.
                        Err(_) => failed("the pass panicked".to_string()),
                    };
                    if !wait.is_zero() {
                        // Only idle loops wake early; a failing one keeps its back-off.
                        let woken = ran && name != "purge";
                        tokio::select! {
                            _ = cancel.cancelled() => break,
                            _ = tokio::time::sleep(wait) => {}
                            _ = me.wake.notified(), if woken => {}
                        }
                    }
                }
                me.heartbeats.forget(name);
            });
        };
        spawn_loop(
            "pull",
            |e, _, _| Box::pin(async move { e.pull_once().await }),
            idle,
        );
        spawn_loop(
            "deliver",
            |e, tasks, cancel| {
                Box::pin(async move { e.dispatch_deliveries(&tasks, &cancel).await })
            },
            idle,
        );
        spawn_loop(
            "track",
            |e, _, _| Box::pin(async move { e.track_once().await }),
            idle,
        );
        // Passes are due a day apart; checking once a poll interval is enough.
        spawn_loop(
            "reconcile",
            |e, _, _| Box::pin(async move { e.reconcile_once().await }),
            Duration::from_secs(self.cfg.poll_interval_secs.max(1)),
        );
        spawn_loop(
            "purge",
            |e, _, _| Box::pin(async move { e.purge_once().await }),
            Duration::from_secs(self.cfg.purge_interval_secs),
        );
        tracker.close();
        tracker.wait().await;
    }

    /// One purge pass ([`Engine::purge_step`]); its work is the orders purged or re-wrapped.
    pub async fn purge_once(&self) -> anyhow::Result<Pass> {
        // One sweep at a time across the fleet; the others find the lock taken and idle.
        let Some(_sweeping) = self.store.try_singleton("ordersync.purge").await? else {
            return Ok(Pass::default());
        };
        let s = self.purge_step().await?;
        Ok(Pass {
            work: s.purged + s.rewrapped,
        })
    }

    /// One purge pass: deletes PII of a batch of orders past `purge_after`, moves a batch of
    /// DEKs whose purge date moved into its epoch, and, once both are drained, destroys the
    /// epoch keys that no order needs any more (`shred.rs`).
    pub async fn purge_step(&self) -> anyhow::Result<PurgeStep> {
        let batch = self.cfg.purge_batch.max(1);
        let ids = self.store.purge_due(self.now_us(), batch).await?;
        // Terminated merchants' non-PII data, once their grace period is over.
        let grace = self.retention.termination_grace_days.max(0);
        let deleted = self
            .store
            .delete_terminated(
                self.now_us()
                    .saturating_sub(grace.saturating_mul(86_400_000_000)),
            )
            .await?;
        if deleted > 0 {
            tracing::info!(
                orders = deleted,
                "Deleted the data of terminated merchants."
            );
        }
        // Webhook dedupe records only need to outlive the platforms' redelivery window.
        let keep = self.cfg.webhook_dedupe_days.max(1) * 86_400_000_000;
        self.store
            .expire_webhooks(self.now_us().saturating_sub(keep))
            .await?;
        if !ids.is_empty() {
            metrics::counter!("ordersync_pii_purged_total").increment(ids.len() as u64);
            tracing::info!(
                orders = ids.len(),
                "Purged PII of orders past their retention window."
            );
        }
        let rewrapped = self.rewrap_once().await?;
        let drained = (ids.len() as i64) < batch && rewrapped < shred::REWRAP_BATCH as usize;
        let epochs_destroyed = if drained {
            self.shred_epochs().await?
        } else {
            0
        };
        Ok(PurgeStep {
            purged: ids.len(),
            rewrapped,
            epochs_destroyed,
        })
    }

    /// Days to keep PII after delivery / after the order for a merchant's marketplace.
    pub async fn retention_for(
        &self,
        merchant: &str,
        marketplace: &str,
    ) -> anyhow::Result<(i64, i64)> {
        let policies = self.store.retention_policies(merchant).await?;
        Ok(policies
            .iter()
            .find(|p| p.marketplace == marketplace)
            .map(|p| (p.days_after_delivery, p.days_after_order))
            .unwrap_or((
                self.retention.days_after_delivery,
                self.retention.days_after_order,
            )))
    }
}

/// Jittered exponential backoff for delivery retries, capped at an hour.
pub fn retry_delay(attempts: i64, retry_after: Option<Duration>) -> Duration {
    let exp = attempts.clamp(1, 12) as u32;
    let base = Duration::from_millis(500) * 2u32.pow(exp - 1);
    let jitter = Duration::from_millis(rand::random::<u64>() % 250);
    (base + jitter)
        .min(Duration::from_secs(3600))
        .max(retry_after.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_grows_and_honours_retry_after() {
        assert!(retry_delay(1, None) < Duration::from_secs(1));
        assert!(retry_delay(5, None) >= Duration::from_secs(8));
        assert!(retry_delay(30, None) <= Duration::from_secs(3600));
        assert!(retry_delay(1, Some(Duration::from_secs(30))) >= Duration::from_secs(30));
    }
}
