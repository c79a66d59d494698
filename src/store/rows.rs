//! Row types crossing the store boundary. None of them carries plaintext PII.

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConnectionRow {
    pub id: String,
    pub merchant_id: String,
    pub kind: String,
    pub role: String,
    pub name: String,
    pub config: String,
    pub secrets_ct: Option<String>,
    pub state: String,
    pub next_pull_at: i64,
    pub last_pull_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    /// Moves with every write of config, secrets, state or deletion (compare-and-swap of
    /// rotated secrets). Ignored by `insert_connection`.
    pub version: i64,
    /// Moves only with the writes a live connector instance must be rebuilt for (config,
    /// secrets set through the API, deletion); not with a connector's own token rotation.
    pub build_version: i64,
}

#[derive(Debug, Clone)]
pub struct RouteRow {
    pub id: String,
    pub merchant_id: String,
    pub source_connection_id: String,
    pub sink_connection_id: String,
    pub created_at: i64,
    /// Canonical order statuses forwarded, as a JSON array (`None`: open and closed).
    pub statuses: Option<String>,
    /// Orders created at or after this time (µs) are forwarded (`None`: all history).
    pub start_at: Option<i64>,
}

/// A route as ingest applies it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RouteTarget {
    pub sink_connection_id: String,
    pub statuses: Option<String>,
    pub start_at: Option<i64>,
}

/// A delivery feed due for a read (`track_feeds`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeedRow {
    pub connection_id: String,
    pub since: Option<i64>,
    /// Where an unfinished read stopped, and when it started.
    pub page_token: Option<String>,
    pub read_started: Option<i64>,
}

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct CursorRow {
    /// Highest `updated_at` fully ingested (µs).
    pub watermark: Option<i64>,
    /// Upper bound of the window being read, while a window is in progress.
    pub window_until: Option<i64>,
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PullFinish {
    pub next_pull_at: i64,
    pub last_pull_at: Option<i64>,
    pub last_error: Option<String>,
    /// `needs_reauth` after an auth failure; `None` keeps the state.
    pub state: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExistingOrder {
    pub id: String,
    pub external_id: String,
    pub content_hash: String,
    pub version: i64,
    pub pii_fields: i64,
    pub pii_ct: Option<String>,
    pub pii_dek: Option<String>,
    pub pii_epoch: Option<String>,
    pub pii_purged_at: Option<i64>,
}

/// An order whose purge date moved after its DEK was wrapped (`pii_rewrap_at` set): its DEK
/// belongs in the epoch of `purge_after`. No DEK: its PII went meanwhile (only the mark is left).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RewrapItem {
    pub id: String,
    pub merchant_id: String,
    /// The source connection (bound into the PII's AAD with `id`).
    pub connection_id: String,
    pub marketplace: String,
    pub external_id: String,
    pub pii_ct: Option<String>,
    pub pii_dek: Option<String>,
    pub pii_epoch: Option<String>,
    pub purge_after: Option<i64>,
}

/// The outcome of one [`RewrapItem`]: applied only while the order still has the `pii_dek`
/// and `purge_after` that were read, so a concurrent change wins (and is picked up again).
/// `old_dek: None` clears the mark of an order whose DEK is gone.
#[derive(Debug, Clone)]
pub struct RewrapUpdate {
    pub id: String,
    pub old_dek: Option<String>,
    pub purge_after: Option<i64>,
    /// The DEK re-wrapped and its new epoch; `None` only clears the mark (already in place,
    /// or the DEK cannot be opened any more).
    pub moved: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct OrderUpsert {
    pub id: String,
    pub merchant_id: String,
    pub connection_id: String,
    pub marketplace: String,
    pub external_id: String,
    pub order_number: String,
    pub status: String,
    pub data: String,
    pub content_hash: String,
    pub version: i64,
    pub pii_ct: Option<String>,
    pub pii_dek: Option<String>,
    pub pii_epoch: Option<String>,
    pub pii_fields: i64,
    pub email_bidx: Option<String>,
    /// Blind index of the buyer's marketplace account (`Order::buyer_account`).
    pub buyer_bidx: Option<String>,
    pub source_created_at: i64,
    pub source_updated_at: i64,
    pub purge_after: i64,
    pub now: i64,
}

#[derive(Debug, Clone)]
pub struct DeliveryEnqueue {
    pub id: String,
    pub order_id: String,
    pub merchant_id: String,
    pub sink_connection_id: String,
    pub version: i64,
    pub idempotency_key: String,
}

/// An order a new route may forward from its history.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BackfillOrder {
    pub id: String,
    pub merchant_id: String,
    pub version: i64,
    pub status: String,
    pub source_created_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct PageCommit {
    pub connection_id: String,
    /// The pull lease this page was read under: the commit writes only while it still holds
    /// the connection (a worker that lost its lease never moves the cursor). `None` for
    /// writes made outside a pull (tests, tools).
    pub lease_owner: Option<String>,
    pub now: i64,
    pub orders: Vec<OrderUpsert>,
    pub deliveries: Vec<DeliveryEnqueue>,
    pub cursor: CursorRow,
    /// Orders of this page that could not be mapped: (external id, PII-free reason). They are
    /// recorded once per order, however often an overlapping window re-reads them.
    pub rejected: Vec<(String, String)>,
    pub rejected_reason: Option<String>,
}

/// What [`crate::store::Store::commit_page`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageCommitted {
    /// Written; the connection's rejection summary, if any orders are held back.
    Written(Option<String>),
    /// Nothing written: the pull lease is another worker's now.
    LeaseLost,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedDelivery {
    pub id: String,
    pub order_id: String,
    pub sink_connection_id: String,
    pub version: i64,
    pub idempotency_key: String,
    pub external_ref: Option<String>,
    pub attempts: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: String,
    pub merchant_id: String,
    /// The source connection (bound into the PII's AAD with `id`).
    pub connection_id: String,
    pub marketplace: String,
    pub external_id: String,
    pub data: String,
    pub version: i64,
    pub pii_ct: Option<String>,
    pub pii_dek: Option<String>,
    pub pii_epoch: Option<String>,
    /// The platform's `created_at` (µs): the earliest a parcel can have arrived.
    pub source_created_at: i64,
    /// When its PII was purged (µs), if it was.
    pub pii_purged_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub enum DeliveryResult {
    Done {
        id: String,
        external_ref: String,
        version: i64,
        next_track_at: Option<i64>,
    },
    Retry {
        id: String,
        next_attempt_at: i64,
        error: String,
    },
    Dead {
        id: String,
        error: String,
    },
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrackingItem {
    pub id: String,
    pub order_id: String,
    pub merchant_id: String,
    pub sink_connection_id: String,
    pub external_ref: Option<String>,
}

#[derive(Debug, Clone)]
pub enum TrackingResult {
    Delivered {
        id: String,
        order_id: String,
        at: i64,
        purge_after: i64,
    },
    Pending {
        id: String,
        next_track_at: Option<i64>,
    },
}

/// A legal hold's terms: the merchant's stated legal basis and when it ends.
#[derive(Debug, Clone)]
pub struct LegalHold {
    pub basis: String,
    /// µs; the purge (and erasures) resume from then.
    pub until: i64,
}

/// Which of a connection's orders a privacy request names.
#[derive(Debug, Clone)]
pub enum EraseScope {
    /// By platform order id, every order whose email has this blind index, and every order
    /// of the buyer account with this blind index.
    Orders {
        external_ids: Vec<String>,
        email_bidx: Option<String>,
        buyer_bidx: Option<String>,
    },
    /// Every order of the connection.
    All,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RetentionRow {
    pub merchant_id: String,
    pub marketplace: String,
    pub days_after_delivery: i64,
    pub days_after_order: i64,
}

#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    pub merchant_id: String,
    pub connection_id: Option<String>,
    pub status: Option<String>,
    /// Return orders with id greater than this (keyset pagination).
    pub after: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct OrderSummary {
    pub id: String,
    pub connection_id: String,
    pub marketplace: String,
    pub external_id: String,
    pub order_number: String,
    pub status: String,
    pub version: i64,
    pub source_updated_at: i64,
    pub delivered_at: Option<i64>,
    pub purge_after: Option<i64>,
    pub pii_purged_at: Option<i64>,
    /// Set while a legal hold suspends the purge (µs, when it was set).
    pub legal_hold_at: Option<i64>,
    /// When the hold ends by itself (µs); the purge is due again from then.
    pub legal_hold_until: Option<i64>,
    /// The legal basis the merchant named.
    pub legal_hold_basis: Option<String>,
    #[serde(skip)]
    pub data: String,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct DeliveryRow {
    pub id: String,
    pub order_id: String,
    pub sink_connection_id: String,
    pub version: i64,
    pub status: String,
    pub attempts: i64,
    pub external_ref: Option<String>,
    pub last_error: Option<String>,
    pub tracked_delivered_at: Option<i64>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ConnectionStatus {
    pub id: String,
    pub kind: String,
    pub role: String,
    pub name: String,
    pub state: String,
    pub last_pull_at: Option<i64>,
    pub last_error: Option<String>,
    pub rejected_orders: i64,
    pub watermark: Option<i64>,
    pub orders: i64,
    pub deliveries_pending: i64,
    pub deliveries_dead: i64,
    pub deliveries_done: i64,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Totals {
    pub orders: i64,
    pub pii_purged: i64,
    pub delivered_orders: i64,
    pub deliveries_pending: i64,
    pub deliveries_in_flight: i64,
    pub deliveries_done: i64,
    pub deliveries_dead: i64,
    /// Done deliveries whose parcel is not yet seen delivered (skipped ones are not tracked).
    pub awaiting_tracking: i64,
}

/// What `/metrics` shows from the database: counts answered from indexes, and the live
/// connections (no names: those are merchant-supplied).
#[derive(Debug, Clone, Default)]
pub struct MetricsSnapshot {
    pub orders: i64,
    /// Orders whose PII is purged.
    pub orders_pii_purged: i64,
    pub deliveries_pending: i64,
    pub deliveries_in_flight: i64,
    pub deliveries_dead: i64,
    pub deliveries_done: i64,
    /// Live connections by state, all of them.
    pub connections_by_state: Vec<(String, i64)>,
    /// The first live connections by id, up to the limit asked for.
    pub connections: Vec<ConnectionGauges>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConnectionGauges {
    pub id: String,
    pub kind: String,
    pub role: String,
    pub state: String,
    pub last_pull_at: Option<i64>,
    pub last_error: Option<String>,
    pub rejected_orders: i64,
    /// This connection's deliveries as a sink, by status (0 for a source).
    pub deliveries_pending: i64,
    pub deliveries_in_flight: i64,
    pub deliveries_dead: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditRow {
    pub id: String,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub detail: Option<String>,
}

/// `6 order(s) rejected (e.g. order 123): 2× missing total; 4× amount out of range in unit
/// price`: each distinct reason with its count (at most five), for `status`. PII-free: reasons
/// and ids come from connectors' rejections.
pub fn rejection_summary(total: i64, example: &str, by_reason: &[(String, i64)]) -> String {
    const SHOWN: usize = 5;
    let mut reasons: Vec<String> = by_reason
        .iter()
        .take(SHOWN)
        .map(|(r, n)| format!("{n}× {}", r.chars().take(120).collect::<String>()))
        .collect();
    if by_reason.len() > SHOWN {
        reasons.push("…".into());
    }
    format!(
        "{total} order(s) rejected (e.g. order {}): {}",
        example.chars().take(64).collect::<String>(),
        reasons.join("; ")
    )
}

/// A data-subject request (`dsr_requests`) as the API shows it: its clock and what it found,
/// as counts. The subject's blind index is written, never read back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DsrRow {
    pub id: String,
    pub merchant_id: String,
    /// `export` or `erase`.
    pub kind: String,
    /// `pending` while it runs, then `completed` or `failed`.
    pub status: String,
    /// Who asked: `merchant` (API) or `operator` (CLI).
    pub actor: Option<String>,
    pub created_at: i64,
    pub due_at: Option<i64>,
    pub completed_at: Option<i64>,
    /// Orders found holding the subject's PII.
    pub orders: Option<i64>,
    /// Erase: orders whose PII went; held: orders a legal hold kept.
    pub erased: Option<i64>,
    pub held: Option<i64>,
}

/// One order of a data subject, with its sealed PII (opened only for an export).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubjectOrder {
    pub id: String,
    pub connection_id: String,
    pub marketplace: String,
    pub external_id: String,
    pub order_number: String,
    pub pii_ct: Option<String>,
    pub pii_dek: Option<String>,
    pub pii_epoch: Option<String>,
    pub legal_hold_until: Option<i64>,
}
