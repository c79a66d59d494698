//! ShipStation fulfilment sink for ordersync (V2, and V1 with `api_version: "v1"`), plus its
//! simulator of both APIs (feature `sim`).
//!
//! # V2 (default)
//!
//! Each order becomes one V2 shipment whose `external_shipment_id` is the delivery's
//! `object_key` (32 hex chars, within the 50-char limit ShipStation silently truncates at).
//! Batches go to `POST /v2/shipments`; updates (a `previous_ref`) use
//! `PUT /v2/shipments/{id}`.
//!
//! Exactly once: a per-shipment `identifier_conflict` means an earlier attempt already created
//! the shipment and its answer was lost. The existing one is looked up by external id and the
//! *current* body is `PUT` onto it (reported `Updated`): re-delivery never makes a second
//! object, and a version that changed meanwhile (a new address) still reaches ShipStation.
//! ShipStation takes a `PUT` only while the shipment is pending: once it has a label or is
//! cancelled, the update is Permanent with a reason saying to change it in ShipStation (this
//! also holds for an identical resend after the label was bought).
//!
//! A shipment carries what is left to ship (goods at their current quantities, current
//! totals; see [`mapping::goods`]). An order with nothing left (fully refunded, cancelled,
//! only tips or gift cards) is Skipped; a shipment an earlier delivery made (by
//! `previous_ref`, or found by external id after a lost create) is cancelled first
//! (`PUT /v2/shipments/{id}/cancel`) so the warehouse does not ship refunded goods; one with a
//! label cannot be, which is Permanent ("void its label").
//!
//! Delivery: `delivery_status` reads the shipment's label (`GET /v2/labels?shipment_id=`) and,
//! when its `tracking_status` is delivered, the tracking log (`/v2/labels/{id}/track`) for
//! `actual_delivery_date`. The delivery feed (`SinkCaps::delivery_feed`) lists shipments by
//! `GET /v2/shipments?modified_at_start=<since>&sort_by=modified_at&sort_dir=desc&page_size=100`
//! (ShipStation moves `modified_at` when a label's tracking changes). **Cost of a pass**: one
//! request per 100 shipments changed since the cursor (at least one), plus one label lookup
//! per changed *labelled* shipment, plus one tracking call per delivered one; pending and
//! cancelled shipments, and shipments not changed since the cursor, cost nothing. RSA-signed
//! `TRACK_EVENT_V2` webhooks would make it cheaper still; they are out of scope for now.
//!
//! # V1 (`api_version: "v1"`)
//!
//! Basic auth with `api_key:api_secret` against `https://ssapi.shipstation.com`. Each order is
//! one V1 order with `orderKey` = `object_key`, which makes `POST /orders/createorder` (and
//! the bulk `POST /orders/createorders`, ≤ 100) an upsert: a retry after a lost or garbled
//! answer, or a new version, updates the one order. The body is the same "what is left to
//! ship" plan as V2 (items with `lineItemKey` = marketplace line id, `unitPrice` after
//! discounts, `taxAmount` of the current units; `amountPaid`, `taxAmount`, `shippingAmount`),
//! dates as naive Pacific time. Nothing left to ship: Skipped, and an order ShipStation holds
//! (by `previous_ref`, or found by `orderNumber` + `orderKey`) is set to `cancelled` through
//! the same upsert. V1 locks shipped and cancelled orders: an update then is Permanent. 40
//! requests a minute, adapted to `X-Rate-Limit-*`. V1 has no delivery date: no tracking, no
//! feed.
//!
//! Config: see [`ShipStationConfig`]. Secrets: `api_key` (V2: sent as `API-Key`), `api_secret`
//! (V1 only), optional `webhook_secret`.

mod client;
pub mod config;
pub mod errors;
pub mod mapping;
#[cfg(feature = "sim")]
pub mod sim;
mod sink;
pub mod v1;
pub mod wire;

pub use config::{ApiVersion, ShipStationConfig};
pub use sink::ShipStationSink;

use ordersync_sdk::http::{Endpoint, RateGate};
use ordersync_sdk::{
    ConnectorDeps, ConnectorError, Descriptor, Factory, SecretSpec, Secrets, Sink, budget_key,
    parse_config, require_secret, schema_of,
};
use secrecy::ExposeSecret;
use std::sync::Arc;

pub const KIND: &str = "shipstation";

/// What the service knows about this connector (its one line in `src/registry.rs`).
pub const DESCRIPTOR: Descriptor = Descriptor {
    kind: KIND,
    marketplace: None,
    summary: "ShipStation V2 shipments (fulfillment), delivery tracking; V1 orders",
    factory: Factory::Sink(build_sink),
    secrets: &[
        SecretSpec {
            name: "api_key",
            required: true,
            doc: "API key (V2: sent as API-Key; V1: with api_secret in Basic auth)",
        },
        SecretSpec {
            name: "api_secret",
            required: false,
            doc: "V1 API secret (required with api_version \"v1\")",
        },
        SecretSpec {
            name: "webhook_secret",
            required: false,
            doc: "signs delivery webhooks",
        },
    ],
    url_fields: &["api_base_url"],
    sensitive_headers: &["api-key", "authorization"],
    webhook: None,
    app_webhook: None,
    notification: None,
    retention_cap_days: None,
    config_schema: schema_of::<ShipStationConfig>,
    sim: SIM,
};

#[cfg(feature = "sim")]
const SIM: Option<ordersync_sdk::SimSpec> = ordersync_sdk::sim_spec!(
    sim,
    |url| serde_json::json!({ "api_base_url": url, "requests_per_minute": 1_000_000 }),
    &[("api_key", "demo-api-key")],
    &["requests_per_minute"]
);
#[cfg(not(feature = "sim"))]
const SIM: Option<ordersync_sdk::SimSpec> = None;

/// Builds a ShipStation sink from a connection's config and secrets.
pub fn build_sink(
    config: &serde_json::Value,
    secrets: &Secrets,
    deps: &ConnectorDeps,
) -> Result<Arc<dyn Sink>, ConnectorError> {
    let cfg: ShipStationConfig = parse_config(config)?;
    let api_key = require_secret(secrets, "api_key")?;
    let rpm = cfg.requests_per_minute();
    // Shared by every worker (the limit is per key; V1: per key pair, which the key names).
    // ShipStation counts fixed minutes: a burst b plus a pace r stay within one when
    // b + r × 1 min ≤ rpm, so a tenth bursts and the rest paces.
    let burst = (rpm / 10).max(1);
    let rate = f64::from(rpm.saturating_sub(burst).max(1)) / 60.0;
    let scope = match cfg.api_version {
        ApiVersion::V1 => "v1",
        ApiVersion::V2 => "v2",
    };
    let key = budget_key(
        KIND,
        scope,
        &format!("{}\n{}", cfg.base_url(), api_key.expose_secret()),
    );
    let gate = RateGate::shared(&deps.budgets, key, rate, burst);
    let endpoint = Endpoint::new(deps.http.clone(), KIND, gate);
    // At most one call per delivery on the usual path (bulk creates cost far less).
    let pace = Some(rpm);
    match cfg.api_version {
        ApiVersion::V2 => {
            let client = client::Client::new(endpoint, cfg.base_url(), api_key);
            Ok(Arc::new(ShipStationSink::new(
                client,
                cfg.warehouse_id,
                pace,
            )))
        }
        ApiVersion::V1 => {
            let api_secret = require_secret(secrets, "api_secret")?;
            let warehouse = cfg.v1_warehouse_id().map_err(ConnectorError::permanent)?;
            let client = v1::Client::new(endpoint, cfg.base_url(), &api_key, &api_secret);
            Ok(Arc::new(v1::ShipStationV1Sink::new(
                client, warehouse, pace,
            )))
        }
    }
}
