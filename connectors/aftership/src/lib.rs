//! AfterShip Tracking (API 2026-07) tracking sink for ordersync, plus its simulator (feature
//! `sim`).
//!
//! **What is sent.** One tracking per order: the order's first `fulfillments` entry (a split
//! shipment is followed through its first parcel). `slug` is always sent, mapped from the
//! carrier name (built-in map merged with the connection's `slugs`); an unknown carrier is a
//! Permanent error naming it. The tracking carries `order_id` (the marketplace id),
//! `order_number`, a title and `custom_fields.ordersync_key` = the delivery's `object_key`.
//! Buyer data (`customers[]`) is sent only with `send_customers` (data minimisation). An order
//! with no fulfillment yet is Skipped (a later version with a parcel is delivered again); one
//! whose earlier version made a tracking keeps it (Unchanged: a refetch without fulfillments is
//! no reason to stop following the parcel). A cancelled order's tracking is deleted (Skipped),
//! also one whose create answer was lost (found by number, removed if it carries our key).
//!
//! **Exactly once.** AfterShip holds one tracking per `(slug, tracking_number)` and answers a
//! second create with meta code 4003. On 4003 the sink looks the tracking up
//! (`GET /trackings?tracking_numbers=&slug=`), adopts its id (unless it carries another
//! order's `ordersync_key`: Permanent) and `PUT`s the current version, reporting Updated. So a
//! create whose answer was lost, a garbled 2xx retried, or the same key twice all end with
//! one tracking holding the latest version. With a `previous_ref` the sink `PUT`s; if the
//! first parcel's number or slug changed, the old tracking is deleted and the new one created;
//! a previous tracking that is gone is created again.
//!
//! **Delivery time** (targets.md §2.6, for the retention clock), once the tag is `Delivered`:
//! the Delivered checkpoint's `checkpoint_time` with its offset, converted to UTC; else
//! `shipment_delivery_date` when it has an offset; else that field read as naive local time at
//! UTC+14 (a date-only value: the start of that day at UTC+14), the earliest instant it can
//! denote, because its zone is not reliable; else `updated_at`. The delivery feed lists
//! `tag=Delivered` trackings by `updated_at_min`, pages only.
//!
//! Config: see [`AfterShipConfig`]. Secrets: `api_key` (sent as `as-api-key`), optional
//! `webhook_secret` (verifies `aftership-hmac-sha256`).

// The simulator's tracking view is one `json!` as large as AfterShip's example.
#![recursion_limit = "256"]

mod client;
pub mod config;
pub mod errors;
pub mod mapping;
#[cfg(feature = "sim")]
pub mod sim;
mod sink;
pub mod webhooks;
pub mod wire;

pub use config::AfterShipConfig;
pub use sink::AfterShipSink;

use ordersync_sdk::{
    ConnectorDeps, ConnectorError, Descriptor, Factory, SecretSpec, Secrets, Sink, WebhookSpec,
    parse_config, require_secret, schema_of,
};
use std::sync::Arc;

pub const KIND: &str = "aftership";

/// What the service knows about this connector (its one line in `src/registry.rs`).
pub const DESCRIPTOR: Descriptor = Descriptor {
    kind: KIND,
    marketplace: None,
    summary: "AfterShip trackings (tracking), delivery times for the retention clock",
    factory: Factory::Sink(build_sink),
    secrets: &[
        SecretSpec {
            name: "api_key",
            required: true,
            doc: "AfterShip API key (sent as as-api-key)",
        },
        SecretSpec {
            name: "webhook_secret",
            required: false,
            doc: "verifies tracking webhooks (aftership-hmac-sha256)",
        },
    ],
    url_fields: &["api_base_url"],
    sensitive_headers: &["as-api-key", webhooks::SIGNATURE_HEADER],
    webhook: Some(WebhookSpec {
        secret: "webhook_secret",
        verify: webhooks::verify,
    }),
    app_webhook: None,
    notification: None,
    retention_cap_days: None,
    config_schema: schema_of::<AfterShipConfig>,
    sim: SIM,
};

#[cfg(feature = "sim")]
const SIM: Option<ordersync_sdk::SimSpec> = ordersync_sdk::sim_spec!(
    sim,
    |url| serde_json::json!({
        "api_base_url": url,
        "create_per_second": 1_000_000,
        "list_per_second": 1_000_000,
        "by_id_per_second": 1_000_000,
    }),
    &[("api_key", "demo-api-key")],
    &["create_per_second", "list_per_second", "by_id_per_second"]
);
#[cfg(not(feature = "sim"))]
const SIM: Option<ordersync_sdk::SimSpec> = None;

/// Builds an AfterShip sink from a connection's config and secrets.
pub fn build_sink(
    config: &serde_json::Value,
    secrets: &Secrets,
    deps: &ConnectorDeps,
) -> Result<Arc<dyn Sink>, ConnectorError> {
    let cfg: AfterShipConfig = parse_config(config)?;
    let version = cfg.api_version()?;
    let slugs = cfg.slug_map()?;
    let api_key = require_secret(secrets, "api_key")?;
    let base = format!("{}/tracking/{version}", cfg.base_url());
    let client = client::Client::new(
        deps.http.clone(),
        base,
        api_key,
        deps.clock.clone(),
        cfg.rates(),
        &deps.budgets,
    );
    // A create, and on a lost answer a lookup and an update.
    let pace = Some((cfg.rates().0.saturating_mul(60) / 3).max(1));
    Ok(Arc::new(AfterShipSink::new(
        client,
        slugs,
        cfg.send_customers,
        pace,
    )))
}
