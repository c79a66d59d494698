//! eBay order source for ordersync (Sell Fulfillment API v1, spec v1.20.7).
//!
//! Polls `GET /sell/fulfillment/v1/order?filter=lastmodifieddate:[from..to]` (never with
//! `creationdate`, which would make eBay ignore the modification filter) in slices of
//! `lastModifiedDate` that each fit one page, so offset paging over a live set can neither skip
//! nor misorder orders (`slices.rs`). getOrders always sends `cancelStatus` empty, so orders
//! whose money went back are read again with `getOrder` for their real cancel state
//! (`mapping::needs_cancel_check`). Orders come with `fieldGroups=TAX_BREAKDOWN`, without which
//! the total leaves out the tax eBay collects and remits.
//!
//! Auth: OAuth user tokens (2 h) from the refresh grant at `token_url` (Basic client
//! authentication); `invalid_grant` means the merchant must reconnect. Rate: a daily call
//! quota per app, paced locally. PII ages away on eBay (email after 14 days, name, phone and
//! street after 90): the mapper leaves aged fields absent so the stored copy is kept. eBay has
//! no order webhooks. With feature `sim`, [`sim`] simulates the API and its token endpoint.
//!
//! Layout: `config.rs`, `client.rs` transport, `wire.rs` JSON shapes, `errors.rs`
//! classification, `mapping/` pure mapping (lines, discounts and shipping, refunds, current
//! totals, PII), `slices.rs` page tokens,
//! `source.rs` the [`Source`].

pub mod account_deletion;
pub mod client;
pub mod config;
pub mod errors;
pub mod mapping;
#[cfg(feature = "sim")]
pub mod sim;
pub mod slices;
mod source;
pub mod wire;

pub use config::EbayConfig;
pub use source::EbaySource;

use ordersync_sdk::http::{Endpoint, RateGate};
use ordersync_sdk::{
    ConnectorDeps, ConnectorError, Descriptor, Factory, FleetBudget, RefreshingToken, SecretSpec,
    Secrets, Source, budget_key, parse_config, require_secret, schema_of,
};
use secrecy::ExposeSecret;
use std::sync::Arc;

/// Connection kind name.
pub const KIND: &str = "ebay";

/// What the service knows about this connector (its one line in `src/registry.rs`).
pub const DESCRIPTOR: Descriptor = Descriptor {
    kind: KIND,
    marketplace: Some(KIND),
    summary: "eBay Sell Fulfillment API (polled orders; no order webhooks; account-deletion notices)",
    factory: Factory::Source(build_source),
    secrets: &[
        SecretSpec {
            name: "client_id",
            required: true,
            doc: "the eBay app's client id (App ID)",
        },
        SecretSpec {
            name: "client_secret",
            required: true,
            doc: "the eBay app's client secret (Cert ID)",
        },
        SecretSpec {
            name: "refresh_token",
            required: true,
            doc: "the seller's OAuth refresh token (sell.fulfillment.readonly scope)",
        },
    ],
    url_fields: &["api_base_url", "token_url"],
    sensitive_headers: &[],
    webhook: None,
    app_webhook: None,
    notification: Some(account_deletion::SPEC),
    retention_cap_days: None,
    config_schema: schema_of::<EbayConfig>,
    sim: SIM,
};

#[cfg(feature = "sim")]
const SIM: Option<ordersync_sdk::SimSpec> = ordersync_sdk::sim_spec!(
    sim,
    |url| {
        serde_json::json!({
            "api_base_url": url,
            "token_url": format!("{url}/identity/v1/oauth2/token"),
        })
    },
    &[
        ("client_id", "demo-app-id"),
        ("client_secret", "demo-cert-id"),
        (
            "refresh_token",
            "v^1.1#i^1#r^1#p^3#I^3#f^0#t^demo-refresh-token"
        ),
    ]
);
#[cfg(not(feature = "sim"))]
const SIM: Option<ordersync_sdk::SimSpec> = None;

/// The pace of the app's daily quota, shared by every connection and worker of the app (the
/// quota is the app's): its per-second share, with an hour's share as burst.
pub fn daily_gate(quota: u32, budgets: &Arc<dyn FleetBudget>, base: &str, app: &str) -> RateGate {
    let key = budget_key(KIND, "day", &format!("{base}\n{app}"));
    RateGate::shared(
        budgets,
        key,
        f64::from(quota.max(1)) / 86_400.0,
        (quota / 24).max(1),
    )
}

/// Builds an eBay source from a connection's config and secrets (`client_id`,
/// `client_secret`, `refresh_token`).
pub fn build_source(
    config: &serde_json::Value,
    secrets: &Secrets,
    deps: &ConnectorDeps,
) -> Result<Arc<dyn Source>, ConnectorError> {
    let cfg: EbayConfig = parse_config(config)?;
    cfg.validate()?;
    let refresher = client::OAuthRefresh {
        endpoint: Endpoint::new(deps.http.clone(), KIND, RateGate::unlimited()),
        token_url: cfg.token_url.clone(),
        client_id: require_secret(secrets, "client_id")?,
        client_secret: require_secret(secrets, "client_secret")?,
        clock: deps.clock.clone(),
    };
    let tokens = Arc::new(RefreshingToken::new(
        require_secret(secrets, "refresh_token")?,
        Arc::new(refresher),
        deps.secrets.clone(),
        deps.clock.clone(),
    ));
    let notices = account_deletion::KeyFetcher {
        http: deps.http.clone(),
        api_base: cfg.base_url(),
        token_url: cfg.token_url.clone(),
        client_id: require_secret(secrets, "client_id")?,
        client_secret: require_secret(secrets, "client_secret")?,
    };
    let gate = daily_gate(
        cfg.daily_call_quota,
        &deps.budgets,
        &cfg.base_url(),
        require_secret(secrets, "client_id")?.expose_secret(),
    );
    let endpoint = Endpoint::new(deps.http.clone(), KIND, gate);
    let client = client::Client::new(
        endpoint,
        &cfg.base_url(),
        tokens,
        cfg.marketplace_id.clone(),
    );
    Ok(Arc::new(EbaySource::new(cfg, client, notices)))
}
