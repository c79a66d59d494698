//! Shopify order source for ordersync.
//!
//! Polls the GraphQL Admin API (`orders(query: "updated_at:>=… AND updated_at:<=…",
//! sortKey: UPDATED_AT)`, cursor pagination, cost-bucket throttling), fetches single orders
//! by id, and verifies `orders/*` webhooks (base64 HMAC-SHA256 of the raw body). Webhook and
//! REST bodies are mapped too ([`mapping::order_from_rest`]). With feature `sim`, [`sim`] is a
//! stateful simulator of the Admin API (GraphQL, legacy REST, OAuth) for tests and the demo.
//!
//! Query cost ([`queries`], [`paging`]): one order node of the orders query costs
//! 86 + 11 × 5 = 141 points under Shopify's documented model (its first 5 line items and 2
//! fulfillments included), so a page is **7 orders for 989 requested points** of the 1,000
//! maximum; the size then follows the `requestedQueryCost` Shopify reports and shrinks on
//! `MAX_COST_EXCEEDED`, never above `page_size`. Orders with more lines are completed with `order(id:)` follow-ups of
//! 100 lines (903 points). A first sync of a store with more than `bulk_threshold` (10,000)
//! orders runs as one Bulk Operation whose JSONL is streamed page by page.
//!
//! Layout: `client.rs` transport, `queries.rs` documents and their costs, `wire.rs` JSON
//! shapes, `errors.rs` classification, `mapping.rs` pure mapping, `paging.rs` page sizes,
//! `bulk.rs` the bulk result reader, `source.rs` the [`Source`] that ties them.

// The simulator's REST order literal is a large `json!`.
#![recursion_limit = "256"]

mod bulk;
pub mod client;
pub mod config;
pub mod errors;
pub mod mapping;
pub mod paging;
pub mod queries;
#[cfg(feature = "sim")]
pub mod sim;
mod source;
pub mod webhooks;
pub mod wire;
pub mod wire_gql;
pub mod wire_rest;

pub use config::ShopifyConfig;
pub use source::ShopifySource;

use ordersync_sdk::http::{Endpoint, RateGate};
use ordersync_sdk::{
    AppWebhookSpec, ConnectorDeps, ConnectorError, Descriptor, Factory, RefreshingToken,
    SecretSpec, Secrets, Source, StaticToken, TokenProvider, WebhookSpec, parse_config,
    require_secret, schema_of,
};
use std::sync::Arc;

/// Connection kind name.
pub const KIND: &str = "shopify";

/// What the service knows about this connector (its one line in `src/registry.rs`).
pub const DESCRIPTOR: Descriptor = Descriptor {
    kind: KIND,
    marketplace: Some(KIND),
    summary: "Shopify Admin API (GraphQL orders, orders/* webhooks)",
    factory: Factory::Source(build_source),
    secrets: &[
        SecretSpec {
            name: "access_token",
            required: false,
            doc: "Admin API access token (custom app); or the three below",
        },
        SecretSpec {
            name: "client_id",
            required: false,
            doc: "app client id (expiring offline tokens)",
        },
        SecretSpec {
            name: "client_secret",
            required: false,
            doc: "app client secret (expiring offline tokens)",
        },
        SecretSpec {
            name: "refresh_token",
            required: false,
            doc: "rotating refresh token (expiring offline tokens)",
        },
        SecretSpec {
            name: "webhook_secret",
            required: false,
            doc: "signs the connection's own webhooks (custom apps)",
        },
    ],
    url_fields: &["api_base_url"],
    sensitive_headers: &["x-shopify-hmac-sha256"],
    webhook: Some(WebhookSpec {
        secret: "webhook_secret",
        verify: webhooks::verify,
    }),
    app_webhook: Some(AppWebhookSpec {
        secret_env: "ORDERSYNC_SHOPIFY_CLIENT_SECRET",
        account_header: "x-shopify-shop-domain",
        account_config_field: "shop_domain",
        verify: webhooks::verify,
    }),
    notification: None,
    retention_cap_days: None,
    config_schema: schema_of::<ShopifyConfig>,
    sim: SIM,
};

#[cfg(feature = "sim")]
const SIM: Option<ordersync_sdk::SimSpec> = ordersync_sdk::sim_spec!(
    sim,
    |url| { serde_json::json!({ "shop_domain": "demo-store.myshopify.com", "api_base_url": url }) },
    &[("access_token", "shpat_demo_token")]
);
#[cfg(not(feature = "sim"))]
const SIM: Option<ordersync_sdk::SimSpec> = None;

/// Builds a Shopify source from a connection's config and secrets: `access_token`, or
/// `client_id` + `client_secret` + `refresh_token` (expiring offline tokens); optional
/// `webhook_secret`.
pub fn build_source(
    config: &serde_json::Value,
    secrets: &Secrets,
    deps: &ConnectorDeps,
) -> Result<Arc<dyn Source>, ConnectorError> {
    let cfg: ShopifyConfig = parse_config(config)?;
    cfg.validate()?;
    let base = cfg.base_url();
    // GraphQL is paced by the cost bucket (extensions.cost), so no fixed request quota.
    let endpoint = Endpoint::new(deps.http.clone(), KIND, RateGate::unlimited());
    let tokens: Arc<dyn TokenProvider> = if secrets.contains_key("access_token") {
        Arc::new(StaticToken(require_secret(secrets, "access_token")?))
    } else if secrets.contains_key("refresh_token") {
        let refresher = client::OAuthRefresh {
            endpoint: Endpoint::new(deps.http.clone(), KIND, RateGate::unlimited()),
            token_url: format!("{base}/admin/oauth/access_token"),
            client_id: require_secret(secrets, "client_id")?,
            client_secret: require_secret(secrets, "client_secret")?,
            clock: deps.clock.clone(),
        };
        Arc::new(RefreshingToken::new(
            require_secret(secrets, "refresh_token")?,
            Arc::new(refresher),
            deps.secrets.clone(),
            deps.clock.clone(),
        ))
    } else {
        return Err(ConnectorError::permanent(
            "missing secret \"access_token\" (or client_id + client_secret + refresh_token)",
        ));
    };
    let client = client::Client::new(endpoint, &base, &cfg.api_version, tokens);
    Ok(Arc::new(ShopifySource::new(
        cfg,
        client,
        secrets.get("webhook_secret").cloned(),
    )))
}
