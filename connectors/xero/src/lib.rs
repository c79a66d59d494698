//! Xero Accounting sink for ordersync, plus its simulator (feature `sim`).
//!
//! Each order becomes one sales invoice (`ACCREC`) of the order **as placed** and one credit
//! note (`ACCRECCREDIT`) per refund, for the buyer's contact.
//!
//! # Exactly once
//!
//! Three keys, belt and braces (`shared/reference/targets.md` §3):
//! - `InvoiceNumber` = `invoice_prefix[marketplace]` + the marketplace order number: ACCREC
//!   numbers are unique in Xero, and every delivery first looks the number up
//!   (`GET /Invoices?InvoiceNumbers=`), so a create whose answer was lost is found and
//!   updated, never made twice. The invoice's `Reference` is `<external id> os:<object_key>`:
//!   an invoice with our number but another object key belongs to another order (two
//!   marketplaces' `#1001`) and the delivery is refused, naming `invoice_prefix`.
//! - `Idempotency-Key` on every write: `<delivery idempotency key>:<operation>` (`contact`,
//!   `invoice`, `invoice-update`, `void`, `cn-<n>`, `alloc-<n>`), hashed past 128 characters,
//!   so a retried write replays Xero's stored answer.
//! - `ContactNumber` = `os-` + 24 hex of SHA-256 of the normalised buyer email (of the object
//!   key without an email). Contacts are found by number, then by exact name or email, and
//!   created with `PUT /Contacts` otherwise; a different person with a taken name gets
//!   `Name (xxxx)` (a stable suffix from the number). Contacts carry only name and email.
//!   Credit notes are found by `CreditNoteNumber` = `InvoiceNumber-R<n>` before creating.
//!
//! # Money (`docs/money.md`)
//!
//! `LineAmountTypes` is `Inclusive` when `taxes_included`, else `Exclusive`, `NoTax` for an
//! exempt buyer. Goods go to the sales account with `Quantity`, `UnitAmount` (4 places,
//! `unitdp=4`), `DiscountAmount` and `LineAmount` = `discounted()`; shipping lines to the
//! shipping account with their discounts (a free-shipping code is a full discount); duties
//! and fees to the fees account; tips to the tips (other income) account; gift cards to the
//! gift-card liability account (no tax); a rounding line only when `totals.rounding ≠ 0`.
//! Each line's `TaxAmount` is the sum of its merchant tax lines, never `rate × net`; its
//! `TaxType` is the organisation's ACTIVE revenue rate whose `EffectiveRate` equals the
//! combined rate × 100 (config `tax_types` first; untaxed lines take `NONE` or a 0 % rate;
//! an unknown rate is Permanent). Tax a **marketplace** collected is not the merchant's: it
//! is taken out of its line and booked on one untaxed line to the `marketplace_tax` clearing
//! account (which the marketplace's payout settles). Before sending, Xero's own sum
//! (Σ `LineAmount`, + Σ `TaxAmount` when exclusive) must equal `totals.total` exactly, or the
//! delivery is Permanent: nothing unbalanced is posted. Credit notes take the refund's own
//! figures (lines' `subtotal` and `tax`, `shipping` and `shipping_tax`, `duties`,
//! `adjustments`) in the same basis, so invoice − credit notes = `current.total`.
//!
//! # Lifecycle
//!
//! - New order → contact, then the invoice (`PUT /Invoices`) in the config's `status`
//!   (`AUTHORISED` default, or `DRAFT`).
//! - A new version (edit, refund, anything) → the invoice is updated (`POST` with its
//!   `InvoiceID`) while it is unpaid and uncredited in Xero. Once it has payments or
//!   allocated credit it is left alone if its money is what we would send, else the delivery
//!   is Permanent, explaining that it must be adjusted in Xero.
//! - Refunds → credit notes not yet in Xero are created and, when the invoice and the note
//!   are `AUTHORISED`, allocated to the invoice (`PUT /CreditNotes/{id}/Allocations`).
//! - Cancelled with nothing captured (financial status voided, pending, authorized or
//!   expired, and no refunds) → the invoice is `VOIDED` (a draft is `DELETED`), or `Skipped`
//!   when none was ever made. Cancelled after payment → the invoice stays and its refunds
//!   become credit notes.
//!
//! # Limits and errors
//!
//! 60 calls a minute (the rate gate), 5 in flight per tenant (a semaphore shared by every
//! connection to the tenant), 5,000 a day: `X-MinLimit-Remaining: 0` pauses the gate,
//! `X-DayLimit-Remaining: 0` (or a 429 with `X-Rate-Limit-Problem: day`) answers
//! `RateLimited` until the reset; 429 → `RateLimited` with `Retry-After`. 400
//! `ValidationException` (and per-item `HasErrors` of `summarizeErrors=false`) → Permanent
//! with a fixed, PII-free reason; 401 `TokenExpired` → one refresh, then `Auth`; 403 (unknown
//! or disconnected tenant) → `Auth`; 404 → `NotFound`; 5xx, HTML and truncated JSON →
//! Retriable (the retry's pre-check finds an invoice that was made). An invoice body over
//! Xero's 3.5 MB request limit is Permanent (never split in two).
//!
//! Secrets: `client_id`, `client_secret`, `refresh_token` (rotating: the SDK's single-flight
//! [`RefreshingToken`] persists each new one through `ConnectorDeps.secrets` before the new
//! access token is used), optional `webhook_secret`. Config: [`XeroConfig`].

mod batch;
mod client;
pub mod config;
pub mod errors;
pub mod mapping;
#[cfg(feature = "sim")]
pub mod sim;
mod sink;
pub mod wire;

pub use config::{AccountCodes, DocumentStatus, XeroConfig};
pub use sink::XeroSink;

use ordersync_sdk::http::{Endpoint, RateGate, RetryPolicy};
use ordersync_sdk::{
    ConnectorDeps, ConnectorError, Descriptor, Factory, RefreshingToken, SecretSpec, Secrets, Sink,
    parse_config, require_secret, schema_of,
};
use secrecy::ExposeSecret;
use std::sync::Arc;

pub const KIND: &str = "xero";

/// What the service knows about this connector (its one line in `src/registry.rs`).
pub const DESCRIPTOR: Descriptor = Descriptor {
    kind: KIND,
    marketplace: None,
    summary: "Xero Accounting invoices and credit notes (accounting)",
    factory: Factory::Sink(build_sink),
    secrets: &[
        SecretSpec {
            name: "client_id",
            required: true,
            doc: "OAuth 2.0 app client id",
        },
        SecretSpec {
            name: "client_secret",
            required: true,
            doc: "OAuth 2.0 app client secret",
        },
        SecretSpec {
            name: "refresh_token",
            required: true,
            doc: "offline_access refresh token (rotates on every use; stored again each time)",
        },
        SecretSpec {
            name: "webhook_secret",
            required: false,
            doc: "webhook signing key (x-xero-signature)",
        },
    ],
    url_fields: &["api_base_url", "token_url"],
    sensitive_headers: &["x-xero-signature"],
    webhook: None,
    app_webhook: None,
    notification: None,
    retention_cap_days: None,
    config_schema: schema_of::<XeroConfig>,
    sim: SIM,
};

#[cfg(feature = "sim")]
const SIM: Option<ordersync_sdk::SimSpec> = ordersync_sdk::sim_spec!(
    sim,
    |url| serde_json::json!({
        "tenant_id": sim::DEMO_TENANT,
        "api_base_url": url,
        "token_url": format!("{url}/connect/token"),
        "requests_per_minute": 1_000_000,
        "app_requests_per_minute": 1_000_000,
        // Order numbers of different marketplaces can coincide; invoice numbers must not.
        "invoice_prefix": {"shopify": "S-", "woocommerce": "W-", "amazon": "A-", "ebay": "E-"},
    }),
    &[
        ("client_id", "demo-client"),
        ("client_secret", "demo-secret"),
        ("refresh_token", sim::DEMO_REFRESH_TOKEN),
    ],
    &["requests_per_minute", "app_requests_per_minute"]
);
#[cfg(not(feature = "sim"))]
const SIM: Option<ordersync_sdk::SimSpec> = None;

/// Retries: 429s cost a wait, not the delivery (Xero throttles per minute).
const RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 8,
    min_delay: std::time::Duration::from_millis(100),
    max_delay: std::time::Duration::from_secs(10),
};

/// Builds a Xero sink from a connection's config and secrets.
pub fn build_sink(
    config: &serde_json::Value,
    secrets: &Secrets,
    deps: &ConnectorDeps,
) -> Result<Arc<dyn Sink>, ConnectorError> {
    let cfg: XeroConfig = parse_config(config)?;
    cfg.validate()?;
    let client_id = require_secret(secrets, "client_id")?;
    let budgets = client::Budgets {
        budgets: &deps.budgets,
        app: client_id.expose_secret(),
        app_rpm: cfg.app_requests_per_minute(),
    };
    let refresher = client::OAuthRefresh {
        endpoint: Endpoint::new(deps.http.clone(), KIND, RateGate::unlimited()).with_retry(RETRY),
        token_url: cfg.token_url().to_string(),
        client_id: client_id.clone(),
        client_secret: require_secret(secrets, "client_secret")?,
        clock: deps.clock.clone(),
    };
    let tokens = Arc::new(RefreshingToken::new(
        require_secret(secrets, "refresh_token")?,
        Arc::new(refresher),
        deps.secrets.clone(),
        deps.clock.clone(),
    ));
    // The gate is replaced by the tenant's shared one in `Client::new`.
    let endpoint = Endpoint::new(deps.http.clone(), KIND, RateGate::unlimited()).with_retry(RETRY);
    let client = client::Client::new(
        endpoint,
        cfg.base_url(),
        &cfg.tenant_id,
        cfg.requests_per_minute(),
        &budgets,
        tokens,
        deps.clock.clone(),
    );
    Ok(Arc::new(XeroSink::new(client, cfg)))
}
