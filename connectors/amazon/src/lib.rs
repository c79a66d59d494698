//! Amazon Selling Partner API order source for ordersync (Orders API v2026-01-01).
//!
//! Polls `searchOrders` by `lastUpdatedAfter`/`lastUpdatedBefore` (Amazon refuses an upper
//! bound later than two minutes ago: the settle is 3 minutes and the bound is clamped),
//! follows `pagination.nextToken` (24-hour tokens, kept in the page token with the window's
//! exact bounds), fetches single orders with `getOrder`, and reads buyer and recipient PII
//! with `includedData=BUYER,RECIPIENT` (no Restricted Data Token in v2026, but the restricted
//! roles), and the parcels of merchant-fulfilled orders with `PACKAGES` (their tracking
//! numbers become the canonical fulfillments). Access tokens come from Login with Amazon (1 hour, refresh token exchanged through
//! the SDK's single-flight [`RefreshingToken`]). Each operation has its own token bucket,
//! seeded from the usage plan (`searchOrders` 0.0056 req/s burst 20, `getOrder` 0.5 burst 30)
//! and re-rated from `x-amzn-RateLimit-Limit`. How Amazon's money becomes the canonical model
//! is in [`mapping`]. With feature `sim`, [`sim`] simulates LWA and the Orders API.
//!
//! Layout: `config.rs`, `marketplaces.rs` (currency and tax basis per marketplace),
//! `client.rs` transport and LWA, `wire.rs` JSON shapes, `errors.rs` classification,
//! `paging.rs` windows and page tokens, `mapping/` pure mapping, `source.rs` the [`Source`].

pub mod client;
pub mod config;
pub mod errors;
pub mod mapping;
pub mod marketplaces;
pub mod paging;
#[cfg(feature = "sim")]
pub mod sim;
mod source;
pub mod wire;

pub use config::AmazonConfig;
pub use source::{AmazonSource, OVERLAP, SETTLE};

use ordersync_sdk::bucket::TokenBucket;
use ordersync_sdk::http::{Endpoint, RateGate};
use ordersync_sdk::{
    ConnectorDeps, ConnectorError, Descriptor, Factory, RefreshingToken, SecretSpec, Secrets,
    Source, parse_config, require_secret, schema_of,
};
use std::sync::Arc;

/// Connection kind name.
pub const KIND: &str = "amazon";

/// What the service knows about this connector (its one line in `src/registry.rs`).
pub const DESCRIPTOR: Descriptor = Descriptor {
    kind: KIND,
    marketplace: Some(KIND),
    summary: "Amazon Selling Partner API (Orders v2026-01-01, polled)",
    factory: Factory::Source(build_source),
    secrets: &[
        SecretSpec {
            name: "lwa_client_id",
            required: true,
            doc: "LWA client id of the SP-API application",
        },
        SecretSpec {
            name: "lwa_client_secret",
            required: true,
            doc: "LWA client secret (Amazon rotates it every 180 days)",
        },
        SecretSpec {
            name: "refresh_token",
            required: true,
            doc: "LWA refresh token from the seller's authorization (valid 365 days)",
        },
    ],
    url_fields: &["api_base_url", "lwa_token_url"],
    sensitive_headers: &[],
    // Amazon pushes order changes to SQS/EventBridge; there is no HTTP webhook to verify.
    webhook: None,
    app_webhook: None,
    notification: None,
    // Amazon's Data Protection Policy: PII at most 30 days after delivery.
    retention_cap_days: Some(30),
    config_schema: schema_of::<AmazonConfig>,
    sim: SIM,
};

/// The marketplaces the simulator sells in (and the demo connection reads).
pub const DEMO_MARKETPLACES: [&str; 5] = [
    marketplaces::US.id,
    marketplaces::CA.id,
    marketplaces::UK.id,
    marketplaces::DE.id,
    marketplaces::JP.id,
];

#[cfg(feature = "sim")]
const SIM: Option<ordersync_sdk::SimSpec> = ordersync_sdk::sim_spec!(
    sim,
    |url| {
        serde_json::json!({
            "api_base_url": url,
            "lwa_token_url": format!("{url}/auth/o2/token"),
            "marketplace_ids": DEMO_MARKETPLACES,
        })
    },
    &[
        ("lwa_client_id", "amzn1.application-oa2-client.demo"),
        ("lwa_client_secret", "amzn1.oa2-cs.v1.demo"),
        ("refresh_token", "Atzr|demo-refresh-token"),
    ]
);
#[cfg(not(feature = "sim"))]
const SIM: Option<ordersync_sdk::SimSpec> = None;

/// Builds an Amazon source (the descriptor's factory).
pub fn build_source(
    config: &serde_json::Value,
    secrets: &Secrets,
    deps: &ConnectorDeps,
) -> Result<Arc<dyn Source>, ConnectorError> {
    Ok(Arc::new(build(config, secrets, deps)?))
}

/// [`build_source`] with the concrete type (tests look at its buckets).
pub fn build(
    config: &serde_json::Value,
    secrets: &Secrets,
    deps: &ConnectorDeps,
) -> Result<AmazonSource, ConnectorError> {
    let cfg: AmazonConfig = parse_config(config)?;
    cfg.validate()?;
    let refresher = client::LwaRefresh {
        endpoint: Endpoint::new(deps.http.clone(), KIND, RateGate::unlimited()),
        token_url: cfg.lwa_token_url.clone(),
        client_id: require_secret(secrets, "lwa_client_id")?,
        client_secret: require_secret(secrets, "lwa_client_secret")?,
        clock: deps.clock.clone(),
    };
    let tokens = Arc::new(RefreshingToken::new(
        require_secret(secrets, "refresh_token")?,
        Arc::new(refresher),
        deps.secrets.clone(),
        deps.clock.clone(),
    ));
    // Pacing is the token buckets'; the gates only carry pauses between retries.
    let plans = cfg.plans();
    let op = |plan: config::Plan, route| {
        client::Op::new(
            Endpoint::new(deps.http.clone(), KIND, RateGate::unlimited()),
            TokenBucket::new(plan.rate, plan.burst, deps.clock.clone()),
            route,
        )
    };
    let client = client::Client::new(
        cfg.base_url(),
        op(plans.search_orders, client::SEARCH_ROUTE),
        op(plans.get_order, client::GET_ROUTE),
        tokens,
    );
    Ok(AmazonSource::new(cfg, client, deps.clock.clone()))
}
