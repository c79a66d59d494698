//! Raw Admin API calls through the SDK's [`Endpoint`] (retries, rate gate, safe logs), plus
//! the OAuth refresh of expiring offline tokens.

use crate::errors::{Cost, Extensions, GqlError, graphql_errors, parse_error};
use async_trait::async_trait;
use ordersync_sdk::http::{Endpoint, success_body};
use ordersync_sdk::{Clock, ConnectorError, RefreshFn, TokenProvider, TokenSet};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// Every field the mapping reads (see `mapping::GqlOrder`).
pub const ORDER_FIELDS: &str = "fragment OrderFields on Order {
  id legacyResourceId name createdAt updatedAt cancelledAt closed
  displayFulfillmentStatus currencyCode email phone note
  customer { firstName lastName }
  shippingAddress { name firstName lastName company address1 address2 city province provinceCode zip countryCodeV2 phone }
  billingAddress { name firstName lastName company address1 address2 city province provinceCode zip countryCodeV2 phone }
  lineItems(first: 100) { nodes {
    id sku title quantity
    originalUnitPriceSet { shopMoney { amount currencyCode } }
    discountAllocations { allocatedAmountSet { shopMoney { amount currencyCode } } }
    taxLines { title rate priceSet { shopMoney { amount currencyCode } } }
  } }
  shippingLine { title }
  totalShippingPriceSet { shopMoney { amount currencyCode } }
  totalDiscountsSet { shopMoney { amount currencyCode } }
  totalTaxSet { shopMoney { amount currencyCode } }
  subtotalPriceSet { shopMoney { amount currencyCode } }
  totalPriceSet { shopMoney { amount currencyCode } }
  taxLines { title rate priceSet { shopMoney { amount currencyCode } } }
}";

/// `sortKey: UPDATED_AT` is essential: the default (`PROCESSED_AT`) breaks the watermark.
pub const ORDERS_QUERY: &str = "query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges { cursor node { ...OrderFields } }
    pageInfo { hasNextPage endCursor }
  }
}";

pub const ORDER_QUERY: &str = "query Order($id: ID!) { order(id: $id) { ...OrderFields } }";

#[derive(Deserialize)]
struct GqlResponse<T> {
    #[serde(default = "Option::default")]
    data: Option<T>,
    #[serde(default)]
    errors: Option<Vec<GqlError>>,
    #[serde(default)]
    extensions: Option<Extensions>,
}

#[derive(Debug, Deserialize)]
pub struct OrdersData {
    pub orders: Connection,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub edges: Vec<Edge>,
    pub page_info: PageInfo,
}

#[derive(Debug, Deserialize)]
pub struct Edge {
    /// Kept raw: one odd node becomes a rejected order, not a failed page.
    pub node: serde_json::Value,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub has_next_page: bool,
    #[serde(default)]
    pub end_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct OrderData {
    #[serde(default)]
    pub order: Option<serde_json::Value>,
}

/// One shop's GraphQL Admin API.
pub struct Client {
    endpoint: Endpoint,
    graphql_url: String,
    tokens: Arc<dyn TokenProvider>,
}

impl Client {
    pub fn new(
        endpoint: Endpoint,
        base: &str,
        api_version: &str,
        tokens: Arc<dyn TokenProvider>,
    ) -> Self {
        Self {
            endpoint,
            graphql_url: format!("{base}/admin/api/{api_version}/graphql.json"),
            tokens,
        }
    }

    /// Runs one query; a rejected token is invalidated and retried once with a fresh one
    /// (expired OAuth token → refresh), then reported as `Auth`.
    pub async fn graphql<T: DeserializeOwned>(
        &self,
        query: &str,
        variables: serde_json::Value,
    ) -> Result<T, ConnectorError> {
        let body = serde_json::to_vec(&serde_json::json!({
            "query": format!("{query}\n{ORDER_FIELDS}"),
            "variables": variables,
        }))
        .map_err(|_| ConnectorError::permanent("cannot encode query"))?;
        let mut attempt = 0;
        loop {
            let token = self.tokens.access_token().await?;
            match self.graphql_once(&token, &body).await {
                Err(ConnectorError::Auth { .. }) if attempt == 0 => {
                    attempt += 1;
                    self.tokens.invalidate().await;
                }
                other => return other,
            }
        }
    }

    async fn graphql_once<T: DeserializeOwned>(
        &self,
        token: &SecretString,
        body: &[u8],
    ) -> Result<T, ConnectorError> {
        let build = || {
            self.endpoint
                .client
                .reqwest()
                .post(&self.graphql_url)
                .header("X-Shopify-Access-Token", token.expose_secret())
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .body(body.to_vec())
        };
        let handle = |resp: reqwest::Response| async move {
            let bytes = success_body(resp, parse_error).await?;
            let parsed: GqlResponse<T> = serde_json::from_slice(&bytes).map_err(|e| {
                ConnectorError::permanent(format!(
                    "malformed GraphQL response ({})",
                    if e.is_eof() {
                        "truncated"
                    } else {
                        "unexpected shape"
                    }
                ))
            })?;
            let cost = parsed.extensions.and_then(|x| x.cost);
            if let Some(errors) = parsed.errors.filter(|e| !e.is_empty()) {
                return Err(graphql_errors(&errors, cost.as_ref()));
            }
            if let Some(c) = &cost {
                self.pace(c);
            }
            parsed
                .data
                .ok_or_else(|| ConnectorError::permanent("GraphQL response without data"))
        };
        self.endpoint
            .call("/admin/api/{version}/graphql.json", build, handle)
            .await
    }

    /// Proactive throttling: if the bucket cannot pay for another query like this one, wait
    /// until it can instead of spending a request on a `THROTTLED` answer.
    fn pace(&self, cost: &Cost) {
        let expected = cost
            .requested_query_cost
            .or(cost.actual_query_cost)
            .unwrap_or(0.0);
        if let Some(d) = cost.wait_for(expected) {
            self.endpoint.gate.pause_for(d);
        }
    }
}

/// Exchanges a rotating refresh token at `{base}/admin/oauth/access_token`.
pub struct OAuthRefresh {
    pub endpoint: Endpoint,
    pub token_url: String,
    pub client_id: SecretString,
    pub client_secret: SecretString,
    pub clock: Arc<dyn Clock>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[async_trait]
impl RefreshFn for OAuthRefresh {
    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, ConnectorError> {
        let body = serde_json::json!({
            "client_id": self.client_id.expose_secret(),
            "client_secret": self.client_secret.expose_secret(),
            "grant_type": "refresh_token",
            "refresh_token": refresh_token.expose_secret(),
        });
        let build = || {
            self.endpoint
                .client
                .reqwest()
                .post(&self.token_url)
                .json(&body)
        };
        let handle = |resp: reqwest::Response| async move {
            let bytes = success_body(resp, parse_error).await?;
            serde_json::from_slice::<TokenResponse>(&bytes)
                .map_err(|_| ConnectorError::permanent("malformed token response"))
        };
        let t = self
            .endpoint
            .call("/admin/oauth/access_token", build, handle)
            .await?;
        Ok(TokenSet {
            access_token: t.access_token.into(),
            expires_at: self.clock.now()
                + time::Duration::seconds(t.expires_in.unwrap_or(3600).clamp(0, 86_400 * 365)),
            refresh_token: t.refresh_token.filter(|s| !s.is_empty()).map(Into::into),
        })
    }
}
