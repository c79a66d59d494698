//! Reconciliation (docs/reconciliation.md): per source connection, daily and on demand, the
//! source's orders updated in `[now − reconcile_days, watermark]` — only what the pull already
//! claims to have covered — are listed again page by page and compared with what is stored.
//! Orders the pull missed (a platform's search index that lagged past the overlap, a listing
//! that skipped them) and orders stored older than listed (a missed update) go through the
//! normal ingest, so routes enqueue their deliveries as usual; the connection's `status` then
//! carries an alert.
//!
//! A pass runs under the connection's pull lease, claimed only while the pull is not due and
//! yielded between pages as soon as it is: one process talks to a store at a time (its rate
//! limiter is process-local), the writes are fenced like the pull's, and the pull's cursor is
//! written back as it was read (nothing else can move it while the lease is held). A pass that
//! needs more than one claim keeps its window and page token, so it resumes. One process of
//! the fleet reconciles at a time (`ordersync.reconcile`), one connection at a time.

use super::{Engine, LeaseLost, Pass, error_text, retry_delay};
use crate::store::{ConnectionRow, CursorRow, ReconcileEnd, ReconcileProgress, RouteTarget};
use futures::FutureExt;
use ordersync_sdk::clock::{from_micros, to_micros};
use ordersync_sdk::{Page, PullCursor};
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

/// Pages one claim reads at most (the lease is renewed with every page's progress).
const PAGES_PER_CLAIM: usize = 100;

/// Wall time one claim reads for at most, even when the pull is not due yet.
const CLAIM_BUDGET: Duration = Duration::from_secs(30);

const DAY_US: i64 = 86_400_000_000;

/// What one page of a pass had to store.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Gap {
    /// Orders the store did not hold (stored now, or held for review if unmappable).
    missing: i64,
    /// Orders stored older than the platform lists them (the missed update is stored now).
    stale: i64,
}

impl Engine {
    /// One reconciliation step: makes sure every source has a schedule, then runs one claim of
    /// the first due pass. Its work is the pages read (at least 1 when a pass was claimed).
    pub async fn reconcile_once(&self) -> anyhow::Result<Pass> {
        let Some(_one) = self.store.try_singleton("ordersync.reconcile").await? else {
            return Ok(Pass::default());
        };
        let now = self.now_us();
        self.store
            .schedule_reconciliations(now.saturating_add(self.reconcile_interval_us()), now)
            .await?;
        let owner = self.claim_owner();
        let lease = self.cfg.lease_secs * 1_000_000;
        let claimed = self
            .store
            .claim_reconcile(&owner, now, now + lease, 1)
            .await?;
        let mut work = 0;
        for c in &claimed {
            work += self.reconcile_isolated(c, &owner).await.max(1);
        }
        Ok(Pass { work })
    }

    /// Microseconds between passes; "never" for 0 (passes only on demand).
    fn reconcile_interval_us(&self) -> i64 {
        match self.cfg.reconcile_interval_secs {
            0 => i64::MAX / 2,
            s => i64::try_from(s)
                .unwrap_or(i64::MAX)
                .saturating_mul(1_000_000),
        }
    }

    /// Runs one claimed pass so that what goes wrong stays with it: an engine error or a panic
    /// leaves the pass due after a back-off, with a PII-free error, and releases the lease.
    async fn reconcile_isolated(&self, c: &ConnectionRow, owner: &str) -> usize {
        self.heartbeats.beat("reconcile");
        let error = match AssertUnwindSafe(self.reconcile_connection(c, owner))
            .catch_unwind()
            .await
        {
            Ok(Ok(pages)) => return pages,
            Ok(Err(e)) if e.is::<LeaseLost>() => {
                tracing::warn!(connection = %c.id, kind = %c.kind, "Reconciliation lease lost; the pull holds the connection now.");
                metrics::counter!("ordersync_leases_lost_total", "work" => "reconcile")
                    .increment(1);
                return 0;
            }
            Ok(Err(e)) => {
                tracing::warn!(connection = %c.id, kind = %c.kind, error = %format!("{e:#}"), "Reconciliation failed in the engine.");
                "internal: the reconciliation failed in the engine".to_string()
            }
            Err(_) => {
                tracing::error!(connection = %c.id, kind = %c.kind, "Reconciliation panicked.");
                "internal: the reconciliation panicked".to_string()
            }
        };
        let state = self.store.reconcile_state(&c.id).await.ok().flatten();
        let end = ReconcileEnd::Failed {
            progress: state.as_ref().and_then(|s| {
                Some(ReconcileProgress {
                    since: s.pass_since?,
                    until: s.pass_until?,
                    page_token: s.page_token.clone(),
                    found: s.pass_found,
                })
            }),
            next_at: self.reconcile_retry_at(state.map_or(0, |s| s.attempts), None),
            error,
        };
        if let Err(e) = self
            .store
            .finish_reconcile(&c.id, owner, &end, self.now_us())
            .await
        {
            tracing::warn!(connection = %c.id, error = %e, "Could not release a reconciliation lease; it will expire.");
        }
        0
    }

    /// When a pass that failed `attempts` times before is tried again: the delivery back-off,
    /// the platform's `Retry-After`, never later than the next scheduled pass.
    fn reconcile_retry_at(&self, attempts: i64, retry_after: Option<Duration>) -> i64 {
        let d = retry_delay(attempts.saturating_add(1), retry_after);
        let d = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        self.now_us()
            .saturating_add(d.min(self.reconcile_interval_us()))
    }

    /// One claim of a pass; returns the pages read.
    async fn reconcile_connection(&self, c: &ConnectionRow, owner: &str) -> anyhow::Result<usize> {
        let state = self.store.reconcile_state(&c.id).await?.unwrap_or_default();
        let now = self.now_us();
        let interval = self.reconcile_interval_us();
        let done_next = now.saturating_add(interval);
        let cursor = self.store.get_cursor(&c.id).await?.unwrap_or_default();
        let mut p = match (state.pass_since, state.pass_until) {
            (Some(since), Some(until)) => ReconcileProgress {
                since,
                until,
                page_token: state.page_token.clone(),
                found: state.pass_found,
            },
            _ => {
                // Only what the pull claims to have covered: before its first window is done
                // there is nothing to compare.
                let Some(until) = cursor.watermark else {
                    self.end_reconcile(c, owner, ReconcileEnd::Deferred { next_at: done_next })
                        .await?;
                    return Ok(0);
                };
                let since =
                    now.saturating_sub(self.cfg.reconcile_days.max(1).saturating_mul(DAY_US));
                if since >= until {
                    // The pull has covered nothing of the last days (it has been failing).
                    self.end_reconcile(
                        c,
                        owner,
                        ReconcileEnd::Done {
                            found: 0,
                            next_at: done_next,
                        },
                    )
                    .await?;
                    return Ok(0);
                }
                ReconcileProgress {
                    since,
                    until,
                    page_token: None,
                    found: 0,
                }
            }
        };
        let source = match self.connectors.source(c).await {
            Ok(s) => s,
            Err(e) => {
                let end = ReconcileEnd::Failed {
                    progress: Some(p),
                    next_at: self.reconcile_retry_at(state.attempts, e.retry_after()),
                    error: error_text(&e),
                };
                self.end_reconcile(c, owner, end).await?;
                return Ok(0);
            }
        };
        let routes = self.store.routes_for_source(&c.id).await?;
        let started = Instant::now();
        let mut pages = 0;
        loop {
            self.heartbeats.beat("reconcile");
            // The pull goes first: yield as soon as it is due (or the budget is spent).
            if pages > 0
                && (pages >= PAGES_PER_CLAIM
                    || self.now_us() >= c.next_pull_at
                    || started.elapsed() >= CLAIM_BUDGET)
            {
                self.end_reconcile(c, owner, ReconcileEnd::Paused(p))
                    .await?;
                return Ok(pages);
            }
            let req = PullCursor {
                since: Some(from_micros(p.since)),
                until: from_micros(p.until),
                page_token: p.page_token.clone(),
            };
            let page = match source.pull(&req).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!(connection = %c.id, kind = %c.kind, class = e.class().as_str(), "Reconciliation read failed; it is retried.");
                    metrics::counter!("ordersync_reconcile_errors_total", "kind" => c.kind.clone(), "class" => e.class().as_str()).increment(1);
                    let end = ReconcileEnd::Failed {
                        next_at: self.reconcile_retry_at(state.attempts, e.retry_after()),
                        error: error_text(&e),
                        progress: Some(p),
                    };
                    self.end_reconcile(c, owner, end).await?;
                    return Ok(pages);
                }
            };
            pages += 1;
            let next_token = page.next_page_token.clone();
            let gap = self.ingest_gap(c, &routes, page, &cursor, owner).await?;
            p.found += gap.missing + gap.stale;
            for (what, n) in [("missing", gap.missing), ("stale", gap.stale)] {
                if n > 0 {
                    metrics::counter!("ordersync_reconcile_gaps_total", "kind" => c.kind.clone(), "gap" => what)
                        .increment(n.unsigned_abs());
                }
            }
            p.page_token = next_token;
            if p.page_token.is_none() {
                let found = p.found;
                if found > 0 {
                    // Counts and the connection only: which orders is in `orders`, not here.
                    tracing::warn!(connection = %c.id, kind = %c.kind, orders = found, "Reconciliation found orders the pull had missed; they were backfilled.");
                } else {
                    tracing::debug!(connection = %c.id, "Reconciliation found no gap.");
                }
                self.end_reconcile(
                    c,
                    owner,
                    ReconcileEnd::Done {
                        found,
                        next_at: done_next,
                    },
                )
                .await?;
                return Ok(pages);
            }
            let lease_until = self.now_us() + self.cfg.lease_secs * 1_000_000;
            if !self
                .store
                .save_reconcile_page(&c.id, owner, &p, lease_until)
                .await?
            {
                return Err(LeaseLost.into());
            }
        }
    }

    async fn end_reconcile(
        &self,
        c: &ConnectionRow,
        owner: &str,
        end: ReconcileEnd,
    ) -> anyhow::Result<()> {
        if !self
            .store
            .finish_reconcile(&c.id, owner, &end, self.now_us())
            .await?
        {
            return Err(LeaseLost.into());
        }
        Ok(())
    }

    /// Ingests the orders of a listed page that the store lacks or holds older, through the
    /// normal path (deliveries by route, PII sealed, fenced by the lease); the cursor is
    /// written back as it was read.
    async fn ingest_gap(
        &self,
        c: &ConnectionRow,
        routes: &[RouteTarget],
        mut page: Page,
        cursor: &CursorRow,
        owner: &str,
    ) -> anyhow::Result<Gap> {
        let ids: Vec<String> = page
            .orders
            .iter()
            .map(|o| o.external_id.clone())
            .chain(page.rejected.iter().map(|r| r.external_id.clone()))
            .collect();
        if ids.is_empty() {
            return Ok(Gap::default());
        }
        // An order stored and also rejected later counts by its stored version.
        let mut known: HashMap<String, Option<i64>> = HashMap::new();
        for (id, at) in self.store.known_orders(&c.id, &ids).await? {
            let e = known.entry(id).or_insert(at);
            if at.is_some() {
                *e = at;
            }
        }
        let mut missing = 0;
        page.orders.retain(|o| match known.get(&o.external_id) {
            // Unknown, or known only as rejected and mappable now.
            None | Some(None) => {
                missing += 1;
                true
            }
            Some(Some(stored)) => to_micros(o.updated_at) > *stored,
        });
        page.rejected
            .retain(|r| !known.contains_key(&r.external_id));
        let new_rejections = page.rejected.len();
        if page.orders.is_empty() && page.rejected.is_empty() {
            return Ok(Gap::default());
        }
        page.next_page_token = None;
        let done = self.ingest(c, routes, page, cursor.clone(), owner).await?;
        let missing = missing + i64::try_from(new_rejections).unwrap_or(0);
        let found = i64::try_from(done.written + done.rejected).unwrap_or(i64::MAX);
        Ok(Gap {
            missing: missing.min(found),
            stale: (found - missing).max(0),
        })
    }
}

/// A connection's reconciliation as `status` shows it (times in µs).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReconcileView {
    pub next_at: i64,
    pub last_at: Option<i64>,
    /// Orders the last completed pass backfilled.
    pub last_gap: i64,
    pub gaps_total: i64,
    pub last_gap_at: Option<i64>,
    /// A pass is under way (spread over several claims).
    pub in_progress: bool,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// Set for `reconcile_days` after a pass found a gap.
    pub alert: Option<String>,
}

impl ReconcileView {
    pub fn of(r: &crate::store::ReconcileRow, now: i64, reconcile_days: i64) -> Self {
        let recent = r
            .last_gap_at
            .filter(|at| now.saturating_sub(*at) < reconcile_days.max(1).saturating_mul(DAY_US));
        let alert = recent.filter(|_| r.last_gap_orders > 0).map(|at| {
            let when = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1000)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default();
            format!(
                "{} order(s) missed by the pull were backfilled at {when}",
                r.last_gap_orders
            )
        });
        Self {
            next_at: r.next_at,
            last_at: r.last_at,
            last_gap: r.last_gap,
            gaps_total: r.gaps_total,
            last_gap_at: r.last_gap_at,
            in_progress: r.pass_until.is_some(),
            attempts: r.attempts,
            last_error: r.last_error.clone(),
            alert,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ReconcileRow;

    #[test]
    fn a_gap_is_an_alert_for_reconcile_days() {
        let at = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
        let r = ReconcileRow {
            last_gap_at: Some(at),
            last_gap_orders: 3,
            gaps_total: 3,
            ..Default::default()
        };
        let v = ReconcileView::of(&r, at + DAY_US, 7);
        assert_eq!(
            v.alert.as_deref(),
            Some("3 order(s) missed by the pull were backfilled at 2026-01-01T00:00:00Z")
        );
        assert_eq!(ReconcileView::of(&r, at + 8 * DAY_US, 7).alert, None);
        assert_eq!(
            ReconcileView::of(&ReconcileRow::default(), at, 7).alert,
            None
        );
    }
}
