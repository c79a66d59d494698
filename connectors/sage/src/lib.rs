//! Sage Business Cloud Accounting (API v3.1) accounting sink for ordersync, plus its simulator
//! (feature `sim`).
//!
//! **What Sage gets.** Each order becomes one sales invoice *as placed* (original quantities,
//! `totals`; see [`mapping::plan`]) for the buyer's contact, and each refund one sales credit
//! note (`<invoice reference>-R<n>`, with `original_invoice_date`: v3.1 has no field linking
//! a sales credit note to its invoice); the invoice is never edited down for a refund, so
//! invoice total − credit notes = the order's current total. Goods go to the sales ledger
//! account, shipping to Sage's shipping fields (or, when shipping lines carry different tax
//! rates, to lines on the shipping account: Sage's shipping fields take one rate), duties and
//! fees, tips, gift cards (a liability, untaxed), marketplace-collected tax and
//! `totals.rounding` to their own accounts ([`config::LedgerAccounts`]). Lines carry the
//! order's own tax amounts (required by v3.1 unless the rate is zero/exempt), never a tax
//! recomputed from a rate, and `unit_price_includes_tax` = the order's basis; `net_amount` is
//! always net. Sage's sum (Σ line totals + shipping) must equal `totals.total` exactly, or
//! the order is refused before anything is written. Cash rounding (CHF) is a payment matter
//! and stays off the invoice.
//!
//! **Tax rates.** `GET /tax_rates?usage=sales` once per sink instance; a line's combined rate
//! × 100 is matched to a rate's `percentage` (or the `tax_rates` override); an amount without
//! tax (exempt buyer, untaxed shipping, tips, gift cards) takes the exempt / no-tax / zero
//! rate. An unknown percentage is a Permanent error naming it. A platform that sends tax
//! amounts without rates (Amazon) gets the rate whose percentage of the line's net explains
//! the amount within a minor unit per unit sold; the amount itself stays the platform's.
//!
//! **Exactly once.** Every write carries an `idempotency_id` inside the resource (invoice:
//! derived from the delivery's idempotency key and the operation; credit note: from the
//! object key and the refund id, stable across versions; contact: from its reference). Before
//! creating, the sink looks the invoice up — by the recorded id, else `GET
//! /sales_invoices?search=<reference>` filtered to the exact reference — and recognises its
//! own by a marker line in `notes` (`ordersync:<object_key>:H<content hash>:<order id>`). So
//! a create whose answer was lost is found and, when the order changed since, updated (PUT)
//! instead of duplicated; an unchanged order is `Unchanged`. A reference held by another
//! order's invoice is a Permanent error naming the `reference_prefix` setting. Credit notes
//! are pre-checked the same way and never re-created.
//!
//! **Lifecycle.** An edited order updates its invoice with `PUT /sales_invoices/{id}` while
//! it is unpaid; once Sage records a payment the edit is a Permanent error saying to correct
//! it with a credit note in Sage. A cancelled order for which nothing was captured voids its
//! invoice (`DELETE /sales_invoices/{id}?void_reason=...`) if one exists, and is `Skipped` if
//! none does. A cancelled order after payment keeps its invoice; its refunds become credit
//! notes.
//!
//! **Contacts.** Reference `os-` + 24 hex of SHA-256 of the normalised email (or of the object
//! key when there is none), found with `GET /contacts?search=`, created with
//! `contact_type_ids: ["CUSTOMER"]`; the name is the buyer's, or `Marketplace customer
//! <order number>`. Only name and email are sent (no addresses): what stays in Sage after our
//! purge is the merchant's accounting record.
//!
//! **Auth.** Sage's refresh tokens rotate and are single-use: the SDK's
//! [`RefreshingToken`](ordersync_sdk::RefreshingToken) refreshes one at a time per connection
//! and persists the new refresh token before the access token is used; `expires_in` is read
//! (~300 s). A 401 refreshes once and retries; `invalid_grant` is `Auth`. `X-Business` is
//! always sent.
//!
//! **Limits.** 200 calls / 60 s per business (a rate gate); 429 is `RateLimited` honouring
//! `Retry-After` when present. At most [`mapping::MAX_LINES`] lines per artefact: Sage
//! publishes no number for v3.1, so this cap is ours (unverified against Sage).

mod client;
pub mod config;
pub mod errors;
pub mod mapping;
#[cfg(feature = "sim")]
pub mod sim;
mod sink;
pub mod wire;

pub use config::SageConfig;
pub use sink::SageSink;

use ordersync_sdk::http::{Endpoint, RateGate, RetryPolicy};
use ordersync_sdk::{
    ConnectorDeps, ConnectorError, Descriptor, Factory, RefreshingToken, SecretSpec, Secrets, Sink,
    budget_key, parse_config, require_secret, schema_of,
};
use std::sync::Arc;

pub const KIND: &str = "sage";

/// What the service knows about this connector (its one line in `src/registry.rs`).
pub const DESCRIPTOR: Descriptor = Descriptor {
    kind: KIND,
    marketplace: None,
    summary: "Sage Business Cloud Accounting v3.1 sales invoices and credit notes (accounting)",
    factory: Factory::Sink(build_sink),
    secrets: &[
        SecretSpec {
            name: "client_id",
            required: true,
            doc: "OAuth client id of the Sage app",
        },
        SecretSpec {
            name: "client_secret",
            required: true,
            doc: "OAuth client secret of the Sage app",
        },
        SecretSpec {
            name: "refresh_token",
            required: true,
            doc: "rotating, single-use refresh token (replaced on every refresh)",
        },
    ],
    url_fields: &["api_base_url", "token_url"],
    sensitive_headers: &[],
    webhook: None,
    app_webhook: None,
    notification: None,
    retention_cap_days: None,
    config_schema: schema_of::<SageConfig>,
    sim: SIM,
};

#[cfg(feature = "sim")]
const SIM: Option<ordersync_sdk::SimSpec> = ordersync_sdk::sim_spec!(
    sim,
    |url| serde_json::json!({
        "business_id": sim::LEAD_BUSINESS,
        "api_base_url": url,
        "token_url": format!("{url}/token"),
        "requests_per_minute": 1_000_000,
        // Order numbers of different marketplaces can coincide; invoice references must not.
        "reference_prefix": {"shopify": "S-", "woocommerce": "W-", "amazon": "A-", "ebay": "E-"},
        "ledger_accounts": {
            "gift_cards": {"nominal_code": 2110},
            "marketplace_tax": {"nominal_code": 2201}
        }
    }),
    &[
        ("client_id", "demo-client"),
        ("client_secret", "demo-secret"),
        ("refresh_token", "demo-refresh-token")
    ],
    &["requests_per_minute"]
);
#[cfg(not(feature = "sim"))]
const SIM: Option<ordersync_sdk::SimSpec> = None;

/// Builds a Sage sink from a connection's config and secrets (no I/O).
pub fn build_sink(
    config: &serde_json::Value,
    secrets: &Secrets,
    deps: &ConnectorDeps,
) -> Result<Arc<dyn Sink>, ConnectorError> {
    let cfg: SageConfig = parse_config(config)?;
    cfg.validate()?;
    let client_id = require_secret(secrets, "client_id")?;
    let client_secret = require_secret(secrets, "client_secret")?;
    let refresh_token = require_secret(secrets, "refresh_token")?;
    let rpm = cfg.requests_per_minute();
    // Sage counts any 60 s period: a burst b plus a pace r stays within the quota when
    // b + r × 1 min ≤ rpm, so a quarter bursts and three quarters pace.
    // The quota is the business's, whichever worker calls: the bucket is the fleet's.
    let burst = (rpm / 4).max(1);
    let key = budget_key(
        KIND,
        "business",
        &format!("{}\n{}", cfg.base_url(), cfg.business_id),
    );
    let rate = f64::from(rpm.saturating_sub(burst).max(1)) / 60.0;
    let gate = RateGate::shared(&deps.budgets, key, rate, burst);
    let endpoint = Endpoint::new(deps.http.clone(), KIND, gate).with_retry(RetryPolicy {
        max_attempts: 8,
        ..RetryPolicy::default()
    });
    let refresher = client::Refresher {
        endpoint: Endpoint::new(deps.http.clone(), KIND, RateGate::unlimited()),
        token_url: cfg.token_url().to_string(),
        client_id,
        client_secret,
        clock: deps.clock.clone(),
    };
    let tokens = Arc::new(RefreshingToken::new(
        refresh_token,
        Arc::new(refresher),
        deps.secrets.clone(),
        deps.clock.clone(),
    ));
    let client = client::Client::new(endpoint, cfg.base_url(), cfg.business_id.clone(), tokens);
    Ok(Arc::new(SageSink::new(client, cfg)))
}
