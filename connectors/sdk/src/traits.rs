//! The two connector traits. Both are object-safe (`Arc<dyn Source>`): connectors are chosen at
//! run time from a connection's `kind` (see the service's `registry.rs`).

use crate::error::ConnectorError;
use crate::model::Order;
use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

/// What a source can do and how its cursor must be driven.
#[derive(Debug, Clone)]
pub struct SourceCaps {
    /// Orders per page the platform allows.
    pub page_size: u32,
    pub webhooks: bool,
    /// How far back each pull re-reads (the platform's cursor is not exact).
    pub overlap: Duration,
    /// Newest `updated_at` a pull may ask for, relative to now (Amazon: 2 min; Shopify: 60 s
    /// because results can arrive out of order).
    pub settle: Duration,
    /// PII disappears from the platform after this long (eBay: 14 days for email).
    pub pii_window: Option<Duration>,
}

/// Where a pull starts. The engine owns the watermark; the connector only follows `page_token`.
#[derive(Debug, Clone, PartialEq)]
pub struct PullCursor {
    /// Lower bound on `updated_at`, already moved back by the overlap. `None` = full backfill.
    pub since: Option<OffsetDateTime>,
    /// Upper bound on `updated_at` for this window.
    pub until: OffsetDateTime,
    /// Opaque continuation inside the window (`None` for the first page).
    pub page_token: Option<String>,
}

/// An order the connector could see but not map (bad money, unknown shape). It is recorded and
/// surfaced in `status` instead of being dropped silently.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub external_id: String,
    /// Why, without PII.
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Page {
    pub orders: Vec<Order>,
    pub rejected: Vec<Rejected>,
    /// Continuation within the same window; `None` when the window is exhausted.
    pub next_page_token: Option<String>,
}

/// A verified webhook reduced to what the engine needs: something changed, go and look.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookHint {
    /// Delivery id for de-duplication (`X-Shopify-Event-Id`, ...).
    pub dedupe_key: String,
    pub topic: String,
    pub external_id: Option<String>,
    /// A privacy obligation the marketplace hands over (Shopify's mandatory compliance
    /// topics); such a hint schedules no pull.
    pub privacy: Option<PrivacyAction>,
}

/// What a marketplace's privacy webhook asks of us, for the connection it reached.
#[derive(Clone, PartialEq)]
pub enum PrivacyAction {
    /// Erase the PII of these orders (platform order ids) and of every order placed with this
    /// email (Shopify `customers/redact`).
    RedactCustomer {
        email: Option<String>,
        order_ids: Vec<String>,
    },
    /// Erase the PII of every order of the account (Shopify `shop/redact`, 48 h after the
    /// merchant uninstalled the app).
    RedactAccount,
    /// The merchant asks for what we hold on a customer (Shopify `customers/data_request`).
    DataRequest {
        email: Option<String>,
        order_ids: Vec<String>,
    },
    /// A buyer closed their marketplace account: erase the PII of every order placed by the
    /// account with this name (`Order::buyer_account`; eBay Marketplace Account Deletion),
    /// in every connection of the kind.
    RedactBuyer { account: String },
}

/// The email is PII: `Debug` names the action and counts, nothing else.
impl std::fmt::Debug for PrivacyAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::RedactCustomer { email, order_ids } => f
                .debug_struct("RedactCustomer")
                .field("email", &email.as_ref().map(|_| "[redacted]"))
                .field("orders", &order_ids.len())
                .finish(),
            Self::RedactAccount => f.write_str("RedactAccount"),
            Self::RedactBuyer { .. } => f.write_str("RedactBuyer { account: [redacted] }"),
            Self::DataRequest { email, order_ids } => f
                .debug_struct("DataRequest")
                .field("email", &email.as_ref().map(|_| "[redacted]"))
                .field("orders", &order_ids.len())
                .finish(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WebhookError {
    #[error("signature missing or invalid")]
    BadSignature,
    #[error("malformed webhook: {0}")]
    Malformed(String),
    #[error("webhooks not supported by this connector")]
    Unsupported,
    /// It could not be verified now (the platform's key service is down): the platform
    /// must retry, so it is never acknowledged.
    #[error("cannot verify now: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Source: Send + Sync + 'static {
    fn kind(&self) -> &'static str;
    fn capabilities(&self) -> SourceCaps;
    /// One page of orders updated in `[since, until]`, oldest `updated_at` first.
    async fn pull(&self, cursor: &PullCursor) -> Result<Page, ConnectorError>;
    /// One order by id (webhook hints, DSR refetches). `Ok(None)` if it does not exist.
    async fn fetch(&self, external_id: &str) -> Result<Option<Order>, ConnectorError>;
    /// Verifies and parses a webhook over its raw body.
    fn parse_webhook(
        &self,
        _headers: &http::HeaderMap,
        _raw_body: &[u8],
    ) -> Result<WebhookHint, WebhookError> {
        Err(WebhookError::Unsupported)
    }
    /// Verifies an app-level notification of the kind's `Descriptor::notification` endpoint
    /// (signed by the platform with a key it publishes, so verifying may call the platform)
    /// and reduces it to a hint. Any connection of the kind can verify it.
    async fn verify_notification(
        &self,
        _headers: &http::HeaderMap,
        _raw_body: &[u8],
    ) -> Result<WebhookHint, WebhookError> {
        Err(WebhookError::Unsupported)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkRole {
    Fulfillment,
    Tracking,
    Accounting,
}

#[derive(Debug, Clone)]
pub struct SinkCaps {
    pub role: SinkRole,
    /// Most deliveries one `deliver_batch` call may carry.
    pub batch_size: usize,
    /// Batches the engine may run at once against one connection. Deliveries spend most of
    /// their time waiting on the target (and on retry backoff), so this may exceed what the
    /// target allows in flight; the client's own gate enforces that limit.
    pub concurrency: usize,
    /// Deliveries a minute the connection's rate limit sustains, conservatively (its limit ÷
    /// the calls one delivery makes at most on the usual path); `None` when no limit binds.
    /// The engine holds no more deliveries at once than this pace completes well within a
    /// lease, so a throttled batch is never the reason a lease runs out.
    pub deliveries_per_minute: Option<u32>,
    /// The target can update an object it already holds.
    pub updates: bool,
    /// `delivery_status` reports when the parcel reached the buyer.
    pub tracks_delivery: bool,
    /// `delivery_feed` lists deliveries by modification time: the engine tracks every shipped
    /// order of the connection with a few pages per pass instead of one call per order.
    pub delivery_feed: bool,
}

/// Where a delivery-feed read starts: objects the target changed at or after `since`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedCursor {
    /// Start of the previous complete read, moved back by the engine's overlap. `None` = from
    /// the beginning. Everything the target reported delivered before it is recorded.
    pub since: Option<OffsetDateTime>,
    /// When the oldest object still awaiting its delivery time was sent to this target (moved
    /// back by the overlap): nothing created before it needs reading. A target that cannot
    /// filter by modification time lists by creation from here (ShipStation V2's labels).
    pub oldest_pending: Option<OffsetDateTime>,
    /// Opaque continuation (`None` for the first page).
    pub page_token: Option<String>,
}

/// One object the target saw delivered to the buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// The id `deliver` returned for the object (`DeliveryOutcome::external_ref`).
    pub external_ref: String,
    pub at: OffsetDateTime,
}

#[derive(Debug, Default)]
pub struct FeedPage {
    /// Objects changed in the window that are delivered (others are simply left out).
    pub delivered: Vec<DeliveryReport>,
    pub next_page_token: Option<String>,
}

#[derive(Debug)]
pub struct DeliveryRequest<'a> {
    /// The order including its decrypted PII (never logged: `Pii`'s `Debug` redacts).
    pub order: &'a Order,
    /// Deterministic per (order, sink, version): the target dedupes this write on it.
    pub idempotency_key: &'a str,
    /// Deterministic per (order, sink), the same for every version (32 hex chars): the id of
    /// *the* object this order becomes at the target (ShipStation `external_shipment_id`,
    /// Xero `InvoiceNumber` ...), so a lost response can never create a second object.
    pub object_key: &'a str,
    /// The target's id from an earlier delivery of this order, if any.
    pub previous_ref: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    Created,
    Updated,
    Unchanged,
    /// The target has nothing to do with this order (a fulfillment target and an order with
    /// no units left to ship): done, with no object and nothing to track.
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOutcome {
    pub external_ref: String,
    pub kind: OutcomeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub at: OffsetDateTime,
}

#[async_trait]
pub trait Sink: Send + Sync + 'static {
    fn kind(&self) -> &'static str;
    fn capabilities(&self) -> SinkCaps;
    async fn deliver(&self, req: DeliveryRequest<'_>) -> Result<DeliveryOutcome, ConnectorError>;
    /// Delivers several orders; one result per request, in order. The default calls `deliver`
    /// one by one; targets with a bulk endpoint override it.
    async fn deliver_batch(
        &self,
        reqs: &[DeliveryRequest<'_>],
    ) -> Vec<Result<DeliveryOutcome, ConnectorError>> {
        let mut out = Vec::with_capacity(reqs.len());
        for r in reqs {
            out.push(
                self.deliver(DeliveryRequest {
                    order: r.order,
                    idempotency_key: r.idempotency_key,
                    object_key: r.object_key,
                    previous_ref: r.previous_ref,
                })
                .await,
            );
        }
        out
    }
    /// When the target saw the parcel delivered, if it has.
    async fn delivery_status(
        &self,
        _external_ref: &str,
    ) -> Result<Option<Delivered>, ConnectorError> {
        Ok(None)
    }
    /// One page of the objects the target changed since the cursor that are delivered
    /// (`SinkCaps::delivery_feed`): ShipStation shipments by `modified_at_start`, AfterShip
    /// trackings by `updated_at_min`. Pages are read until `next_page_token` is `None`.
    async fn delivery_feed(&self, _cursor: &FeedCursor) -> Result<FeedPage, ConnectorError> {
        Err(ConnectorError::permanent(
            "this target has no delivery feed",
        ))
    }
}

/// What the service hands a connector factory besides config and secrets.
#[derive(Clone)]
pub struct ConnectorDeps {
    pub http: crate::http::HttpClient,
    pub clock: std::sync::Arc<dyn crate::clock::Clock>,
    /// Where rotated secrets (refresh tokens) of this connection are persisted.
    pub secrets: std::sync::Arc<dyn crate::auth::SecretsPersister>,
    /// Rate budgets every process of the fleet shares ([`crate::budget`]); in-process
    /// ([`LocalBudget`](crate::budget::LocalBudget)) for tools and tests.
    pub budgets: std::sync::Arc<dyn crate::budget::FleetBudget>,
}

impl ConnectorDeps {
    /// Real clock, strict (production) client, rotated secrets discarded (tools and tests).
    pub fn standalone() -> Self {
        Self::with_http(crate::http::HttpClient::default())
    }

    /// [`standalone`](Self::standalone) with the permissive client: tests against simulators
    /// on 127.0.0.1.
    pub fn for_simulators() -> Self {
        Self::with_http(crate::http::HttpClient::for_simulators())
    }

    fn with_http(http: crate::http::HttpClient) -> Self {
        let clock: std::sync::Arc<dyn crate::clock::Clock> =
            std::sync::Arc::new(crate::clock::SystemClock);
        Self {
            http,
            budgets: std::sync::Arc::new(crate::budget::LocalBudget::new(clock.clone())),
            clock,
            secrets: std::sync::Arc::new(crate::auth::DiscardSecrets),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privacy_actions_debug_without_the_email() {
        let a = PrivacyAction::RedactCustomer {
            email: Some("canary.buyer@example.com".into()),
            order_ids: vec!["1".into(), "2".into()],
        };
        let d = format!("{a:?}");
        assert!(!d.contains("canary"), "{d}");
        assert!(d.contains("orders: 2"), "{d}");
    }
}
