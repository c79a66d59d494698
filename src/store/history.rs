//! What the engine keeps about reading a source's history again: reconciliation passes
//! (`reconciliations`) and the progress of history imports (`backfills`), migration 0014.
//! A trait of its own, implemented by the same dialect macro pattern as [`super::Store`]
//! (which requires it), so this concern's SQL stays in one file.

use super::{ConnectionRow, StoreResult};
use async_trait::async_trait;

/// A connection's reconciliation state (`reconciliations`).
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ReconcileRow {
    pub connection_id: String,
    /// When the next pass is due (µs).
    pub next_at: i64,
    /// When the last pass completed.
    pub last_at: Option<i64>,
    /// Orders the last completed pass had to backfill.
    pub last_gap: i64,
    pub gaps_total: i64,
    /// The latest pass that found a gap: when it completed and how many orders it backfilled.
    pub last_gap_at: Option<i64>,
    pub last_gap_orders: i64,
    /// An unfinished pass: its window (µs), where it stopped, what it found so far.
    pub pass_since: Option<i64>,
    pub pass_until: Option<i64>,
    pub page_token: Option<String>,
    pub pass_found: i64,
    /// Failed attempts in a row, and the last one's PII-free error.
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// Where an unfinished pass stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileProgress {
    pub since: i64,
    pub until: i64,
    pub page_token: Option<String>,
    pub found: i64,
}

/// How one claim of a pass ended ([`HistoryStore::finish_reconcile`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReconcileEnd {
    /// Stopped between pages (the pull is due, or the claim's budget is spent): still due.
    Paused(ReconcileProgress),
    /// The pass is complete; `found` orders were backfilled over all of it.
    Done { found: i64, next_at: i64 },
    /// Nothing to compare yet (no pull has covered anything): only `next_at` moves.
    Deferred { next_at: i64 },
    /// Failed: progress is kept for the retry at `next_at`.
    Failed {
        progress: Option<ReconcileProgress>,
        next_at: i64,
        error: String,
    },
}

/// A source's history import or long catch-up (`backfills`), as the pull records it.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct BackfillRow {
    pub connection_id: String,
    /// The oldest `updated_at` read (µs): where the history starts.
    pub from_at: Option<i64>,
    /// The end of the window being read.
    pub to_at: i64,
    /// The newest `updated_at` read up to `to_at`.
    pub through_at: Option<i64>,
    pub started_at: i64,
    /// When the pull reached the live edge.
    pub done_at: Option<i64>,
}

/// One page of a backfill window ([`HistoryStore::record_backfill`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillPage {
    pub from: Option<i64>,
    pub to: i64,
    pub through: Option<i64>,
    /// Set on the page that reached the live edge.
    pub done: Option<i64>,
    pub now: i64,
}

#[async_trait]
pub trait HistoryStore: Send + Sync {
    /// Gives every live source connection without a reconciliation row one, first due at
    /// `first_at`; returns how many.
    async fn schedule_reconciliations(&self, first_at: i64, now: i64) -> StoreResult<u64>;
    /// Makes a connection's pass due at `at` (or earlier, if it is already).
    async fn request_reconcile(&self, connection_id: &str, at: i64) -> StoreResult<u64>;
    /// Takes the pull lease of up to `limit` active sources whose pass is due and whose pull
    /// is not: a pass never delays a due pull, and one process talks to a store at a time.
    async fn claim_reconcile(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<ConnectionRow>>;
    async fn reconcile_state(&self, connection_id: &str) -> StoreResult<Option<ReconcileRow>>;
    /// Saves an unfinished pass after a page and renews the lease; false if the lease is lost.
    async fn save_reconcile_page(
        &self,
        connection_id: &str,
        owner: &str,
        progress: &ReconcileProgress,
        lease_until: i64,
    ) -> StoreResult<bool>;
    /// Records how a claim ended and releases the lease, in one transaction; false (nothing
    /// written) if the lease is another's now.
    async fn finish_reconcile(
        &self,
        connection_id: &str,
        owner: &str,
        end: &ReconcileEnd,
        now: i64,
    ) -> StoreResult<bool>;
    /// Of these external ids, those the connection holds: as an order with its stored
    /// `source_updated_at`, or as a rejected order (`None`).
    async fn known_orders(
        &self,
        connection_id: &str,
        external_ids: &[String],
    ) -> StoreResult<Vec<(String, Option<i64>)>>;
    /// The reconciliation rows of a merchant's live connections (all merchants for `None`).
    async fn reconcile_status(&self, merchant_id: Option<&str>) -> StoreResult<Vec<ReconcileRow>>;
    /// Records a backfill page while `owner` holds the pull lease: the window's end and how far
    /// it got (the oldest and newest times merge with what is recorded); a page after a finished
    /// backfill starts a new record.
    async fn record_backfill(
        &self,
        connection_id: &str,
        owner: &str,
        page: &BackfillPage,
    ) -> StoreResult<bool>;
    /// The backfill rows of a merchant's live connections (all merchants for `None`).
    async fn backfill_status(&self, merchant_id: Option<&str>) -> StoreResult<Vec<BackfillRow>>;
    /// Whether an active source is due and not claimed by anyone: a long claim (an import)
    /// past its time budget then yields.
    async fn pulls_waiting(&self, now: i64) -> StoreResult<bool>;
}

macro_rules! impl_history_store {
    ($store:ident, $db:ty, $skip_locked:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::HistoryStore for $store {
            async fn schedule_reconciliations(&self, first_at: i64, now: i64) -> StoreResult<u64> {
                Ok(sqlx::query("INSERT INTO reconciliations (connection_id, next_at, updated_at) SELECT c.id, $1, $2 FROM connections c \
                    WHERE c.role = 'source' AND c.state <> 'deleted' AND NOT EXISTS (SELECT 1 FROM reconciliations r WHERE r.connection_id = c.id) \
                    ON CONFLICT (connection_id) DO NOTHING")
                    .bind(first_at).bind(now).execute(&self.pool).await?.rows_affected())
            }

            async fn request_reconcile(&self, connection_id: &str, at: i64) -> StoreResult<u64> {
                Ok(sqlx::query("INSERT INTO reconciliations (connection_id, next_at, updated_at) VALUES ($1, $2, $2) \
                    ON CONFLICT (connection_id) DO UPDATE SET next_at = CASE WHEN reconciliations.next_at > excluded.next_at THEN excluded.next_at ELSE reconciliations.next_at END")
                    .bind(connection_id).bind(at).execute(&self.pool).await?.rows_affected())
            }

            async fn claim_reconcile(&self, owner: &str, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<ConnectionRow>> {
                sqlx::query_as(concat!(
                    "UPDATE connections SET lease_owner = $1, lease_until = $2 WHERE id IN (",
                    "SELECT c.id FROM connections c WHERE c.role = 'source' AND c.state = 'active' AND c.next_pull_at > $3 ",
                    "AND (c.lease_until IS NULL OR c.lease_until < $3) ",
                    "AND EXISTS (SELECT 1 FROM reconciliations r WHERE r.connection_id = c.id AND r.next_at <= $3) ",
                    "ORDER BY c.id LIMIT $4", $skip_locked,
                    ") RETURNING ", conn_cols!()
                ))
                .bind(owner).bind(lease_until).bind(now).bind(limit).fetch_all(&self.pool).await
            }

            async fn reconcile_state(&self, connection_id: &str) -> StoreResult<Option<ReconcileRow>> {
                sqlx::query_as("SELECT connection_id, next_at, last_at, last_gap, gaps_total, last_gap_at, last_gap_orders, pass_since, pass_until, page_token, pass_found, attempts, last_error \
                    FROM reconciliations WHERE connection_id = $1")
                    .bind(connection_id).fetch_optional(&self.pool).await
            }

            async fn save_reconcile_page(&self, connection_id: &str, owner: &str, p: &ReconcileProgress, lease_until: i64) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let held = sqlx::query("UPDATE connections SET lease_until = $3 WHERE id = $1 AND lease_owner = $2")
                    .bind(connection_id).bind(owner).bind(lease_until).execute(&mut *tx).await?.rows_affected();
                if held == 0 {
                    return Ok(false);
                }
                sqlx::query("UPDATE reconciliations SET pass_since = $2, pass_until = $3, page_token = $4, pass_found = $5 WHERE connection_id = $1")
                    .bind(connection_id).bind(p.since).bind(p.until).bind(&p.page_token).bind(p.found).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn finish_reconcile(&self, connection_id: &str, owner: &str, end: &ReconcileEnd, now: i64) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let held = sqlx::query("UPDATE connections SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2")
                    .bind(connection_id).bind(owner).execute(&mut *tx).await?.rows_affected();
                if held == 0 {
                    return Ok(false);
                }
                let q = match end {
                    ReconcileEnd::Paused(p) => sqlx::query("UPDATE reconciliations SET pass_since = $2, pass_until = $3, page_token = $4, pass_found = $5, updated_at = $6 WHERE connection_id = $1")
                        .bind(connection_id).bind(p.since).bind(p.until).bind(p.page_token.clone()).bind(p.found).bind(now),
                    ReconcileEnd::Done { found, next_at } => sqlx::query("UPDATE reconciliations SET next_at = $2, last_at = $3, last_gap = $4, gaps_total = gaps_total + $4, \
                        last_gap_at = CASE WHEN $4 > 0 THEN $3 ELSE last_gap_at END, last_gap_orders = CASE WHEN $4 > 0 THEN $4 ELSE last_gap_orders END, \
                        pass_since = NULL, pass_until = NULL, page_token = NULL, pass_found = 0, attempts = 0, last_error = NULL, updated_at = $3 WHERE connection_id = $1")
                        .bind(connection_id).bind(*next_at).bind(now).bind(*found),
                    ReconcileEnd::Deferred { next_at } => sqlx::query("UPDATE reconciliations SET next_at = $2, updated_at = $3 WHERE connection_id = $1")
                        .bind(connection_id).bind(*next_at).bind(now),
                    ReconcileEnd::Failed { progress, next_at, error } => {
                        let p = progress.as_ref();
                        sqlx::query("UPDATE reconciliations SET next_at = $2, attempts = attempts + 1, last_error = $3, pass_since = $4, pass_until = $5, page_token = $6, \
                            pass_found = $7, updated_at = $8 WHERE connection_id = $1")
                            .bind(connection_id).bind(*next_at).bind(error.clone()).bind(p.map(|p| p.since)).bind(p.map(|p| p.until))
                            .bind(p.and_then(|p| p.page_token.clone())).bind(p.map_or(0, |p| p.found)).bind(now)
                    }
                };
                q.execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn known_orders(&self, connection_id: &str, external_ids: &[String]) -> StoreResult<Vec<(String, Option<i64>)>> {
                let mut out = Vec::new();
                for chunk in external_ids.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT external_id, source_updated_at FROM orders WHERE connection_id = ");
                    qb.push_bind(connection_id.to_string()).push(" AND external_id IN (");
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(id.clone());
                    }
                    qb.push(") UNION ALL SELECT external_id, CAST(NULL AS BIGINT) FROM rejected_orders WHERE connection_id = ");
                    qb.push_bind(connection_id.to_string()).push(" AND external_id IN (");
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(id.clone());
                    }
                    qb.push(")");
                    out.extend(qb.build_query_as::<(String, Option<i64>)>().fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn reconcile_status(&self, merchant_id: Option<&str>) -> StoreResult<Vec<ReconcileRow>> {
                sqlx::query_as("SELECT r.connection_id, r.next_at, r.last_at, r.last_gap, r.gaps_total, r.last_gap_at, r.last_gap_orders, r.pass_since, r.pass_until, r.page_token, \
                    r.pass_found, r.attempts, r.last_error FROM reconciliations r JOIN connections c ON c.id = r.connection_id \
                    WHERE ($1 IS NULL OR c.merchant_id = $1) AND c.state <> 'deleted' ORDER BY r.connection_id")
                    .bind(merchant_id).fetch_all(&self.pool).await
            }

            async fn record_backfill(&self, connection_id: &str, owner: &str, p: &BackfillPage) -> StoreResult<bool> {
                // Fenced like the page itself: a worker that lost the lease records nothing.
                let n = sqlx::query("INSERT INTO backfills (connection_id, from_at, to_at, through_at, started_at, done_at, updated_at) \
                    SELECT $1, $2, $3, $4, $5, $6, $5 WHERE EXISTS (SELECT 1 FROM connections WHERE id = $1 AND lease_owner = $7) \
                    ON CONFLICT (connection_id) DO UPDATE SET \
                    from_at = CASE WHEN backfills.done_at IS NOT NULL OR backfills.from_at IS NULL OR excluded.from_at < backfills.from_at THEN excluded.from_at ELSE backfills.from_at END, \
                    to_at = excluded.to_at, \
                    through_at = CASE WHEN backfills.done_at IS NOT NULL OR backfills.through_at IS NULL OR excluded.through_at > backfills.through_at THEN excluded.through_at ELSE backfills.through_at END, \
                    started_at = CASE WHEN backfills.done_at IS NOT NULL THEN excluded.started_at ELSE backfills.started_at END, \
                    done_at = excluded.done_at, updated_at = excluded.updated_at")
                    .bind(connection_id).bind(p.from).bind(p.to).bind(p.through).bind(p.now).bind(p.done).bind(owner)
                    .execute(&self.pool).await?.rows_affected();
                Ok(n == 1)
            }

            async fn pulls_waiting(&self, now: i64) -> StoreResult<bool> {
                // `connections_due` (role, state, next_pull_at) answers it.
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM connections WHERE role = 'source' AND state = 'active' AND next_pull_at <= $1 \
                    AND (lease_until IS NULL OR lease_until < $1))")
                    .bind(now).fetch_one(&self.pool).await
            }

            async fn backfill_status(&self, merchant_id: Option<&str>) -> StoreResult<Vec<BackfillRow>> {
                sqlx::query_as("SELECT b.connection_id, b.from_at, b.to_at, b.through_at, b.started_at, b.done_at FROM backfills b JOIN connections c ON c.id = b.connection_id \
                    WHERE ($1 IS NULL OR c.merchant_id = $1) AND c.state <> 'deleted' ORDER BY b.connection_id")
                    .bind(merchant_id).fetch_all(&self.pool).await
            }
        }
    };
}
pub(crate) use impl_history_store;
