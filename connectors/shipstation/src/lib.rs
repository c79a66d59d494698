//! ShipStation (V2 API) fulfilment sink for ordersync, plus its simulator (feature `sim`).
//!
//! Each order becomes one V2 shipment whose `external_shipment_id` is the delivery's
//! `object_key` (32 hex chars, within the 50-char limit ShipStation silently truncates at).
//! Batches go to `POST /v2/shipments`; a per-shipment `identifier_conflict` means an earlier
//! attempt already created the shipment (its answer was lost), so the existing one is looked
//! up by external id and reported `Unchanged`: re-delivery never makes a second object.
//! Updates use `PUT /v2/shipments/{id}`. `delivery_status` follows the shipment's label to its
//! tracking and reports `actual_delivery_date` once the status is `DE`.
//!
//! A shipment carries what is left to ship (goods at their current quantities, current
//! totals; see [`mapping::shipment_plan`]). An order with nothing left (fully refunded,
//! cancelled, only tips or gift cards) is a Permanent error, which the engine dead-letters
//! without retrying; if an earlier delivery made a shipment, it is cancelled first
//! (`PUT /v2/shipments/{id}/cancel`) so the warehouse does not ship refunded goods.
//!
//! Config: see [`ShipStationConfig`]. Secrets: `api_key` (sent as `API-Key`), optional
//! `webhook_secret`.

mod client;
pub mod config;
pub mod errors;
pub mod mapping;
#[cfg(feature = "sim")]
pub mod sim;
mod sink;
pub mod wire;

pub use config::{ApiVersion, ShipStationConfig};
pub use sink::ShipStationSink;

use ordersync_sdk::http::{Endpoint, RateGate};
use ordersync_sdk::{
    ConnectorDeps, ConnectorError, Descriptor, Factory, SecretSpec, Secrets, Sink, parse_config,
    require_secret, schema_of,
};
use std::sync::Arc;

pub const KIND: &str = "shipstation";

/// What the service knows about this connector (its one line in `src/registry.rs`).
pub const DESCRIPTOR: Descriptor = Descriptor {
    kind: KIND,
    marketplace: None,
    summary: "ShipStation V2 shipments (fulfillment), delivery tracking",
    factory: Factory::Sink(build_sink),
    secrets: &[
        SecretSpec {
            name: "api_key",
            required: true,
            doc: "V2 API key (sent as API-Key)",
        },
        SecretSpec {
            name: "webhook_secret",
            required: false,
            doc: "signs delivery webhooks",
        },
    ],
    url_fields: &["api_base_url"],
    sensitive_headers: &["api-key"],
    webhook: None,
    app_webhook: None,
    retention_cap_days: None,
    config_schema: schema_of::<ShipStationConfig>,
    sim: SIM,
};

#[cfg(feature = "sim")]
const SIM: Option<ordersync_sdk::SimSpec> = ordersync_sdk::sim_spec!(
    sim,
    |url| serde_json::json!({ "api_base_url": url, "requests_per_minute": 1_000_000 }),
    &[("api_key", "demo-api-key")]
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
    if cfg.api_version == ApiVersion::V1 {
        return Err(ConnectorError::permanent(
            "ShipStation V1 is not supported yet: use a V2 API key (api_version \"v2\")",
        ));
    }
    let api_key = require_secret(secrets, "api_key")?;
    let rpm = cfg.requests_per_minute();
    // Burst of a whole minute: ShipStation counts a fixed window, not a smooth rate.
    let gate = RateGate::per_minute(rpm, rpm);
    let endpoint = Endpoint::new(deps.http.clone(), KIND, gate);
    let client = client::Client::new(endpoint, cfg.base_url(), api_key);
    Ok(Arc::new(ShipStationSink::new(client, cfg.warehouse_id)))
}
