//! Storage. One [`Store`] trait, one implementation per dialect (`sqlite.rs`, `postgres.rs`)
//! generated from the shared SQL in `sql.rs`; no SQL anywhere else in the service.
//! Timestamps are microseconds since the Unix epoch (UTC); ids are UUIDv7 text.

mod history;
pub mod postgres;
mod rows;
mod sql;
pub mod sqlite;

pub use history::{
    BackfillPage, BackfillRow, HistoryStore, ReconcileEnd, ReconcileProgress, ReconcileRow,
};
pub use rows::*;

use async_trait::async_trait;
use std::sync::Arc;

pub type StoreResult<T> = Result<T, sqlx::Error>;

/// Held while this process runs a fleet-wide singleton duty; dropping it lets another take it.
pub type SingletonGuard = Box<dyn Send>;

/// The PostgreSQL channel that new work is announced on.
pub const WORK_CHANNEL: &str = "ordersync_work";

#[async_trait]
pub trait Store: HistoryStore + Send + Sync + 'static {
    fn dialect(&self) -> &'static str;
    async fn migrate(&self) -> anyhow::Result<()>;
    async fn ping(&self) -> StoreResult<()>;
    /// The database server's clock (µs since the epoch): leases are compared across hosts.
    async fn db_now_us(&self) -> StoreResult<i64>;
    /// External ids of a source connection's orders held back as unmappable.
    async fn rejected_external_ids(&self, connection_id: &str) -> StoreResult<Vec<String>>;
    /// Singleton duties (the purge sweep) run in one process of the fleet at a time:
    /// `Some` while this process holds `name` (a transaction-scoped advisory lock on
    /// PostgreSQL; SQLite serves one process).
    async fn try_singleton(&self, name: &str) -> StoreResult<Option<SingletonGuard>>;
    /// Wakes `wake` whenever any process announces new work (PostgreSQL `LISTEN`); false
    /// where the dialect has no notifications (polling stays the fallback everywhere).
    fn listen_work(&self, wake: Arc<tokio::sync::Notify>) -> bool;

    // the keystore this database belongs to (`crate::keystore_identity`)
    /// The keystore id recorded in this database (`instance`), if one is.
    async fn recorded_keystore_id(&self) -> StoreResult<Option<String>>;
    /// Records `keystore_id` unless an id is recorded already; returns the id that is (two
    /// processes starting at once agree on the first one).
    async fn record_keystore_id(&self, keystore_id: &str, now: i64) -> StoreResult<String>;
    /// One row holding sealed data, if any: an order with PII, else a connection with secrets.
    async fn sealed_sample(&self) -> StoreResult<Option<SealedSample>>;

    // merchants and tokens
    async fn create_merchant(
        &self,
        id: &str,
        name: &str,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<()> {
        self.create_merchant_scoped(id, name, token_hash, "", now)
            .await
    }
    /// [`Store::create_merchant`] whose first token has `scopes` (space-separated).
    async fn create_merchant_scoped(
        &self,
        id: &str,
        name: &str,
        token_hash: &str,
        scopes: &str,
        now: i64,
    ) -> StoreResult<()>;
    async fn merchant_by_token(&self, token_hash: &str) -> StoreResult<Option<String>>;
    /// The merchant and scopes (space-separated) of a live token.
    async fn token_grant(&self, token_hash: &str) -> StoreResult<Option<(String, String)>>;
    /// Whether the merchant exists and is not terminated.
    async fn merchant_active(&self, merchant_id: &str) -> StoreResult<bool>;
    /// Terminates a merchant in one transaction: `terminated_at` set, its tokens revoked, its
    /// queued deliveries dead, the PII of all its orders deleted (legal holds end with the
    /// processing), audited. `None` when there is no such merchant; the number of orders
    /// whose PII went otherwise (0 on a repeat).
    async fn terminate_merchant(&self, merchant_id: &str, now: i64) -> StoreResult<Option<u64>>;
    /// Deletes the non-PII data (orders, deliveries, connections and what hangs on them) of
    /// merchants terminated before `before`; the merchant row and its audit log stay as
    /// evidence. Returns the orders deleted.
    async fn delete_terminated(&self, before: i64) -> StoreResult<u64>;
    /// Another API token for the merchant (rotation: add the new one, then revoke the old).
    async fn add_token(&self, merchant_id: &str, token_hash: &str, now: i64) -> StoreResult<()> {
        self.add_scoped_token(merchant_id, token_hash, "", now)
            .await
    }
    /// [`Store::add_token`] with `scopes` (space-separated).
    async fn add_scoped_token(
        &self,
        merchant_id: &str,
        token_hash: &str,
        scopes: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// The merchant's tokens: (id = the first 16 hex of the token's hash, created_at).
    async fn list_tokens(&self, merchant_id: &str) -> StoreResult<Vec<(String, i64)>> {
        Ok(self
            .list_scoped_tokens(merchant_id)
            .await?
            .into_iter()
            .map(|(id, at, _)| (id, at))
            .collect())
    }
    /// [`Store::list_tokens`] with each token's scopes.
    async fn list_scoped_tokens(
        &self,
        merchant_id: &str,
    ) -> StoreResult<Vec<(String, i64, String)>>;
    /// Revokes the merchant's token with that id; `false` when it has none.
    async fn revoke_token(&self, merchant_id: &str, token_id: &str) -> StoreResult<bool>;

    // connections and routes
    async fn insert_connection(&self, c: &ConnectionRow) -> StoreResult<()>;
    async fn get_connection(&self, id: &str) -> StoreResult<Option<ConnectionRow>>;
    async fn list_connections(&self, merchant_id: &str) -> StoreResult<Vec<ConnectionRow>>;
    /// Writes name, config and state; the version moves when config or state changed.
    async fn update_connection(&self, c: &ConnectionRow) -> StoreResult<()>;
    /// Marks the connection deleted (secrets erased, routes and cursor gone); as a sink, its
    /// queued deliveries go dead and its tracking stops.
    async fn delete_connection(&self, id: &str) -> StoreResult<u64>;
    /// Replaces the secrets (through the API) if the connection is still at
    /// `expected_version`; whether it was. Every process then rebuilds its instance.
    async fn set_connection_secrets(
        &self,
        id: &str,
        secrets_ct: &str,
        expected_version: i64,
    ) -> StoreResult<bool>;
    /// A connector's own rotated secrets, written only if the connection is still at
    /// `expected_version` (compare-and-swap) and not deleted; the new version, or `None`.
    /// Live instances stay (`build_version` does not move).
    async fn swap_connection_secrets(
        &self,
        id: &str,
        secrets_ct: &str,
        expected_version: i64,
    ) -> StoreResult<Option<i64>>;
    /// Takes the connection's fleet-wide token-refresh lock for `owner` until `until`, unless
    /// another owner holds it unexpired (or the connection is deleted); whether `owner` holds it.
    async fn lock_connection_refresh(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        until: i64,
    ) -> StoreResult<bool>;
    /// Releases the refresh lock if `owner` still holds it.
    async fn unlock_connection_refresh(&self, id: &str, owner: &str) -> StoreResult<()>;
    async fn schedule_pull(&self, id: &str, at: i64) -> StoreResult<u64>;
    async fn insert_route(&self, r: &RouteRow) -> StoreResult<()>;
    /// The sinks a source's orders go to, with what each route forwards: paused ones too
    /// (their deliveries are queued and wait until the sink is active again).
    async fn routes_for_source(&self, source_id: &str) -> StoreResult<Vec<RouteTarget>>;
    /// Orders of a source created at or after `start_at`, by id after `after`.
    async fn orders_for_backfill(
        &self,
        source_connection_id: &str,
        start_at: Option<i64>,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<BackfillOrder>>;
    /// Enqueues deliveries an order does not have yet (existing ones are left as they are);
    /// returns how many were new.
    async fn enqueue_new_deliveries(&self, d: &[DeliveryEnqueue], now: i64) -> StoreResult<u64>;
    /// (order id, sink connection id) of the deliveries these orders already have.
    async fn delivery_pairs(&self, order_ids: &[String]) -> StoreResult<Vec<(String, String)>>;

    // pull scheduling
    async fn claim_due_sources(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<ConnectionRow>>;
    async fn renew_source_lease(
        &self,
        id: &str,
        owner: &str,
        lease_until: i64,
    ) -> StoreResult<bool>;
    async fn finish_pull(&self, id: &str, owner: &str, f: &PullFinish) -> StoreResult<()>;
    async fn get_cursor(&self, connection_id: &str) -> StoreResult<Option<CursorRow>>;

    // ingest
    async fn existing_orders(
        &self,
        connection_id: &str,
        external_ids: &[String],
    ) -> StoreResult<Vec<ExistingOrder>>;
    /// Orders upsert + deliveries enqueue + cursor advance, in one transaction.
    /// Commits one page; returns the connection-wide rejection summary when this page
    /// rejected or un-rejected orders.
    async fn commit_page(&self, p: &PageCommit) -> StoreResult<PageCommitted>;

    // deliveries
    async fn claim_deliveries(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<ClaimedDelivery>>;
    /// Active sink connections with deliveries due now (pending and due, or with an expired
    /// lease). The claims, too, take deliveries of active sinks only.
    async fn due_delivery_sinks(&self, now: i64, limit: i64) -> StoreResult<Vec<String>>;
    /// [`Store::claim_deliveries`] for one sink connection.
    async fn claim_sink_deliveries(
        &self,
        owner: &str,
        sink_connection_id: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<ClaimedDelivery>>;
    /// Extends the leases `owner` still holds on these deliveries; returns how many it holds.
    async fn renew_deliveries(
        &self,
        owner: &str,
        ids: &[String],
        lease_until: i64,
    ) -> StoreResult<u64>;
    async fn orders_by_ids(&self, ids: &[String]) -> StoreResult<Vec<OrderRow>>;
    /// Records outcomes of deliveries `owner` holds; returns how many it still held (the rest
    /// were refused: their lease was lost to another claim).
    async fn complete_deliveries(
        &self,
        owner: &str,
        now: i64,
        results: &[DeliveryResult],
    ) -> StoreResult<u64>;
    async fn replay_delivery(&self, merchant_id: &str, id: &str, now: i64) -> StoreResult<u64>;
    /// [`Store::replay_delivery`] for every dead delivery of a merchant (of one sink).
    async fn replay_dead_deliveries(
        &self,
        merchant_id: &str,
        sink_connection_id: Option<&str>,
        now: i64,
    ) -> StoreResult<u64>;
    /// Makes a sink connection's waiting deliveries due now (its credentials were replaced).
    async fn rearm_deliveries(&self, sink_connection_id: &str, now: i64) -> StoreResult<u64>;

    // delivery tracking and retention
    async fn claim_tracking(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<TrackingItem>>;
    async fn record_tracking(&self, now: i64, results: &[TrackingResult]) -> StoreResult<()>;
    /// Makes a sink connection tracked by its delivery feed (no-op if it is already);
    /// its deliveries are then never claimed one by one.
    async fn ensure_track_feed(
        &self,
        connection_id: &str,
        next_pass_at: i64,
        now: i64,
    ) -> StoreResult<()>;
    async fn claim_track_feeds(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<FeedRow>>;
    /// Records a read's progress after a page (and renews the lease): a worker that dies
    /// mid-read leaves the next one to go on from `page_token`.
    async fn save_feed_page(
        &self,
        connection_id: &str,
        owner: &str,
        page_token: &str,
        read_started: i64,
        lease_until: i64,
    ) -> StoreResult<bool>;
    /// Releases a feed after a read: `since` moves only when the read completed; a failed
    /// read keeps its progress for the next attempt unless `keep_progress` is false.
    #[allow(clippy::too_many_arguments)]
    async fn finish_track_feed(
        &self,
        connection_id: &str,
        owner: &str,
        since: Option<i64>,
        keep_progress: bool,
        next_pass_at: i64,
        last_error: Option<&str>,
        now: i64,
    ) -> StoreResult<()>;
    /// A verified webhook of a sink: read its feed now.
    async fn feed_due_now(&self, connection_id: &str, now: i64) -> StoreResult<u64>;
    /// The deliveries of a sink awaiting tracking whose target ids are among `refs`.
    async fn tracking_by_refs(
        &self,
        sink_connection_id: &str,
        refs: &[String],
    ) -> StoreResult<Vec<TrackingItem>>;
    /// When the oldest delivery of this sink that still awaits its delivery time was created
    /// (µs); `None` when none does.
    async fn oldest_awaiting_tracking(&self, sink_connection_id: &str) -> StoreResult<Option<i64>>;
    /// Stops tracking deliveries of cancelled orders and of orders created before
    /// `created_before` (µs): their purge falls back to the order date. Returns how many.
    async fn stop_tracking(&self, created_before: i64) -> StoreResult<u64>;
    async fn retention_policies(&self, merchant_id: &str) -> StoreResult<Vec<RetentionRow>>;
    /// Stores the policy and, in the same transaction, recomputes `purge_after` of the
    /// merchant's orders of that marketplace whose PII is still held: delivered ones from
    /// `delivered_at`, the others from the order date. Returns how many were rescheduled.
    async fn put_retention(&self, r: &RetentionRow, now: i64) -> StoreResult<u64>;
    /// Sets (or renews) or lifts an order's legal hold: until it ends, the order is neither
    /// purged nor erased. `false` when the merchant has no such order.
    async fn set_legal_hold(
        &self,
        merchant_id: &str,
        order_id: &str,
        hold: Option<&LegalHold>,
        now: i64,
    ) -> StoreResult<bool>;
    /// The ids of a connection's orders (PII still held) that a privacy request names.
    async fn orders_named(
        &self,
        connection_id: &str,
        scope: &EraseScope,
    ) -> StoreResult<Vec<String>>;
    /// Erases now the PII of up to `limit` of those orders, whatever their deliveries (a
    /// fulfillment or tracking target then gets nothing more of them); a legal hold still
    /// wins. Audited like the purge (`pii.erased`). Returns the erased ids.
    async fn erase_pii(
        &self,
        connection_id: &str,
        scope: &EraseScope,
        now: i64,
        limit: i64,
    ) -> StoreResult<Vec<String>>;
    /// Deletes the PII of up to `limit` orders past `purge_after` (none with a delivery still
    /// pending), records `pii_purged_at` and an audit record; returns the purged order ids.
    async fn purge_due(&self, now: i64, limit: i64) -> StoreResult<Vec<String>>;
    async fn count_purge_due(&self, now: i64) -> StoreResult<i64>;
    /// Up to `limit` orders still holding a DEK whose purge date moved after it was wrapped,
    /// oldest mark first (marks of orders whose PII is gone are cleared on the way).
    async fn rewrap_due(&self, limit: i64) -> StoreResult<Vec<RewrapItem>>;
    /// Applies re-wraps in one statement, each row guarded by its old `pii_dek` and
    /// `purge_after`; returns the rows updated.
    async fn apply_rewraps(&self, updates: &[RewrapUpdate]) -> StoreResult<u64>;
    /// Which of a merchant's `epochs` some order still needs (holds a DEK wrapped under).
    async fn epochs_in_use(&self, merchant_id: &str, epochs: &[String])
    -> StoreResult<Vec<String>>;

    // read side
    async fn list_orders(&self, q: &OrderQuery) -> StoreResult<Vec<OrderSummary>>;
    async fn get_order(&self, merchant_id: &str, id: &str) -> StoreResult<Option<OrderSummary>>;
    async fn deliveries_of_order(
        &self,
        merchant_id: &str,
        order_id: &str,
    ) -> StoreResult<Vec<DeliveryRow>>;
    async fn list_deliveries(
        &self,
        merchant_id: &str,
        status: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryRow>>;
    async fn connection_status(
        &self,
        merchant_id: Option<&str>,
    ) -> StoreResult<Vec<ConnectionStatus>>;
    async fn totals(&self) -> StoreResult<Totals>;
    /// What `/metrics` shows: every count read from an index, the queue depths as ranges of
    /// their status only; per-connection gauges for the first `max_connections` live ones.
    async fn metrics_snapshot(&self, max_connections: i64) -> StoreResult<MetricsSnapshot>;
    /// External order ids of one sink connection's deliveries that the sink skipped (done, no
    /// object: nothing for that target to do) — what the demo excuses from "missing".
    async fn skipped_orders(&self, sink_connection_id: &str) -> StoreResult<Vec<String>>;
    async fn audit(
        &self,
        merchant_id: Option<&str>,
        actor: &str,
        action: &str,
        subject: Option<&str>,
        detail: Option<&str>,
        now: i64,
    ) -> StoreResult<()>;
    async fn list_audit(&self, merchant_id: &str, limit: i64) -> StoreResult<Vec<AuditRow>>;
    async fn record_webhook(
        &self,
        dedupe_key: &str,
        connection_id: &str,
        topic: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// Deletes webhook dedupe records received before `before`; returns how many.
    async fn expire_webhooks(&self, before: i64) -> StoreResult<u64>;
    /// Live (not deleted) connections of one kind (app-level webhooks find theirs by config).
    async fn connections_of_kind(&self, kind: &str) -> StoreResult<Vec<ConnectionRow>>;

    // data-subject requests
    /// The merchant's orders, on any of its connections, that still hold PII and whose email
    /// has this blind index.
    async fn orders_of_subject(
        &self,
        merchant_id: &str,
        email_bidx: &str,
    ) -> StoreResult<Vec<SubjectOrder>>;
    async fn insert_dsr(&self, r: &DsrRow, subject_bidx: &str) -> StoreResult<()>;
    /// Records a request's outcome (status, completion time, counts).
    async fn update_dsr(&self, r: &DsrRow) -> StoreResult<()>;
    async fn get_dsr(&self, merchant_id: &str, id: &str) -> StoreResult<Option<DsrRow>>;
    /// The merchant's requests, newest first.
    async fn list_dsr(&self, merchant_id: &str, limit: i64) -> StoreResult<Vec<DsrRow>>;

    // rate budgets the fleet shares (`crate::engine::budgets`)
    /// Takes up to `want` tokens of bucket `key` at `now` (µs) in one locked transaction: the
    /// row is created full, refilled at `rate_per_sec` up to `burst`, and written back.
    async fn take_rate_budget(
        &self,
        key: &str,
        now: i64,
        rate_per_sec: f64,
        burst: f64,
        want: u32,
    ) -> StoreResult<ordersync_sdk::budget::Spent>;
    /// `(tokens, refilled_at)` of bucket `key` as last written.
    async fn rate_budget(&self, key: &str) -> StoreResult<Option<(f64, i64)>>;
}

/// A row holding sealed data ([`Store::sealed_sample`]), by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealedSample {
    Order(String),
    Connection(String),
}

/// Opens the store for a URL: `postgres://…` or `sqlite://…` (created if missing).
pub async fn connect(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(postgres::PgStore::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    } else {
        anyhow::bail!("unsupported database URL scheme (expected sqlite:// or postgres://)")
    }
}
