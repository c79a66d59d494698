//! Shopify order source for ordersync.
//!
//! Polls the GraphQL Admin API (`orders(query: "updated_at:>=… AND updated_at:<=…",
//! sortKey: UPDATED_AT)`, cursor pagination, cost-bucket throttling), fetches single orders
//! by id, and verifies `orders/*` webhooks (base64 HMAC-SHA256 of the raw body). Webhook and
//! REST bodies are mapped too ([`mapping::order_from_rest`]). With feature `sim`, [`sim`] is a
//! stateful simulator of the Admin API (GraphQL, legacy REST, OAuth) for tests and the demo.

// The simulator's REST order literal is a large `json!`.
#![recursion_limit = "256"]

pub mod client;
pub mod config;
pub mod errors;
pub mod mapping;
#[cfg(feature = "sim")]
pub mod sim;
mod source;

pub use config::ShopifyConfig;
pub use source::ShopifySource;

use ordersync_sdk::http::{Endpoint, RateGate};
use ordersync_sdk::{
    ConnectorDeps, ConnectorError, RefreshingToken, Secrets, Source, StaticToken, TokenProvider,
    parse_config, require_secret,
};
use std::sync::Arc;

/// Connection kind name.
pub const KIND: &str = "shopify";

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
