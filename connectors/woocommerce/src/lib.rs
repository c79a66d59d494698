//! WooCommerce order source for ordersync (REST API v3, `/wp-json/wc/v3`).
//!
//! Pulls `GET /orders?modified_after=…&modified_before=…&dates_are_gmt=true&orderby=modified
//! &order=asc` for every status, trash included (the API's default `status=any` leaves trashed
//! orders out). Dates are sent as naive UTC digits with `dates_are_gmt=true`: without it
//! WooCommerce reads them in the site's timezone. Pages are keyset pages, not offsets, so an
//! order modified while a window is read cannot shift another one out of it ([`paging`]).
//! Refunds carry their per-line amounts only at `GET /orders/{id}/refunds`, fetched for the
//! orders that have some. Webhooks (`order.*`) are verified with `X-WC-Webhook-Signature`
//! (base64 HMAC-SHA256 under the HTML-entity-decoded secret); the unsigned creation ping is
//! acknowledged. With feature `sim`, [`sim`] is a stateful simulator of a WooCommerce store.
//!
//! Layout: `config.rs` the connection config, `client.rs` transport and auth, `wire.rs` JSON
//! shapes, `errors.rs` classification, `mapping/` the pure mapping to the canonical order,
//! `paging.rs` the query and page tokens, `webhooks.rs` signatures, `source.rs` the [`Source`].

pub mod client;
pub mod config;
pub mod errors;
pub mod mapping;
pub mod paging;
#[cfg(feature = "sim")]
pub mod sim;
mod source;
pub mod webhooks;
pub mod wire;

pub use config::WooConfig;
pub use source::WooSource;

use ordersync_sdk::http::{Endpoint, RateGate};
use ordersync_sdk::{
    ConnectorDeps, ConnectorError, Descriptor, Factory, SecretSpec, Secrets, Source, WebhookSpec,
    parse_config, require_secret, schema_of,
};
use std::sync::Arc;

/// Connection kind name.
pub const KIND: &str = "woocommerce";

/// What the service knows about this connector (its one line in `src/registry.rs`).
pub const DESCRIPTOR: Descriptor = Descriptor {
    kind: KIND,
    marketplace: Some(KIND),
    summary: "WooCommerce REST API v3 (orders of every status, order.* webhooks)",
    factory: Factory::Source(build_source),
    secrets: &[
        SecretSpec {
            name: "consumer_key",
            required: true,
            doc: "REST API consumer key (ck_…), read permission",
        },
        SecretSpec {
            name: "consumer_secret",
            required: true,
            doc: "REST API consumer secret (cs_…)",
        },
        SecretSpec {
            name: "webhook_secret",
            required: false,
            doc: "the secret of the store's order.* webhooks",
        },
    ],
    url_fields: &["store_url"],
    sensitive_headers: &["x-wc-webhook-signature"],
    webhook: Some(WebhookSpec {
        secret: "webhook_secret",
        verify: webhooks::verify,
    }),
    app_webhook: None,
    notification: None,
    retention_cap_days: None,
    config_schema: schema_of::<WooConfig>,
    sim: SIM,
};

#[cfg(feature = "sim")]
const SIM: Option<ordersync_sdk::SimSpec> = ordersync_sdk::sim_spec!(
    sim,
    |url| serde_json::json!({ "store_url": url }),
    &[
        ("consumer_key", sim::DEMO_CONSUMER_KEY),
        ("consumer_secret", sim::DEMO_CONSUMER_SECRET),
        ("webhook_secret", sim::DEMO_WEBHOOK_SECRET),
    ]
);
#[cfg(not(feature = "sim"))]
const SIM: Option<ordersync_sdk::SimSpec> = None;

/// Builds a WooCommerce source from a connection's config and secrets (`consumer_key`,
/// `consumer_secret`, optional `webhook_secret`).
pub fn build_source(
    config: &serde_json::Value,
    secrets: &Secrets,
    deps: &ConnectorDeps,
) -> Result<Arc<dyn Source>, ConnectorError> {
    let cfg: WooConfig = parse_config(config)?;
    cfg.validate()?;
    let auth = client::Keys {
        consumer_key: require_secret(secrets, "consumer_key")?,
        consumer_secret: require_secret(secrets, "consumer_secret")?,
        in_query: cfg.auth_in_query,
    };
    // WooCommerce core has no rate limit; hosts and WAFs answer 429/503 with Retry-After,
    // which pauses this connection's gate.
    let endpoint = Endpoint::new(deps.http.clone(), KIND, RateGate::unlimited());
    let client = client::Client::new(endpoint, cfg.api_base(), auth);
    Ok(Arc::new(WooSource::new(
        cfg,
        client,
        secrets.get("webhook_secret").cloned(),
    )))
}
