//! Transport: `searchOrders` and `getOrder` through the SDK's [`Endpoint`] (retries of 5xx
//! and timeouts, safe logs), paced per operation by a [`TokenBucket`] seeded from the usage
//! plan and re-rated from `x-amzn-RateLimit-Limit` whenever an answer carries it (many do
//! not: the last known rate stays). The LWA exchange of the refresh token is here too.
//!
//! Throttling: a 429 (`QuotaExceeded`, no `Retry-After`) empties our bucket as Amazon's is
//! empty, and the request is tried again after the bucket's refill time when that is short;
//! a longer wait (the default plan refills one `searchOrders` call every ~3 minutes) goes back
//! to the engine as `RateLimited { retry_after }`, so no worker sleeps through its lease.

use crate::errors::{is_expired_token_400, parse_error, parse_lwa_error};
use crate::wire::LwaToken;
use async_trait::async_trait;
use ordersync_sdk::bucket::TokenBucket;
use ordersync_sdk::http::{Endpoint, success_body};
use ordersync_sdk::{Clock, ConnectorError, RefreshFn, TokenProvider, TokenSet};
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The datasets every order is read with: buyer and recipient (PII, needing the restricted
/// roles), the money (proceeds, promotions, taxes with their collection model), and the
/// cancellations and fulfillment quantities that say what is left to ship.
pub const INCLUDED_DATA: &str =
    "BUYER,RECIPIENT,PROCEEDS,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES,TAX";

/// Longest wait for a token spent inside a call; longer ones go back to the engine.
pub const MAX_INLINE_WAIT: Duration = Duration::from_secs(10);
/// 429s in a row before the call gives up and reports `RateLimited`.
const MAX_THROTTLED: u32 = 8;

pub const SEARCH_ROUTE: &str = "/orders/2026-01-01/orders";
pub const GET_ROUTE: &str = "/orders/2026-01-01/orders/{orderId}";

/// One operation: its endpoint (retry policy, gate for pauses) and its token bucket.
pub struct Op {
    pub endpoint: Endpoint,
    pub bucket: Arc<TokenBucket>,
    route: &'static str,
}

impl Op {
    pub fn new(endpoint: Endpoint, bucket: TokenBucket, route: &'static str) -> Self {
        Self {
            endpoint,
            bucket: Arc::new(bucket),
            route,
        }
    }
}

/// What one call came back with, besides errors.
#[derive(Debug)]
pub enum Answer<T> {
    Body(T),
    NotFound,
    /// The `paginationToken` sent has expired (400 InvalidInput).
    ExpiredPageToken,
}

enum Reply<T> {
    Answer(Answer<T>),
    Throttled,
}

/// The Orders API of one seller, in one region.
pub struct Client {
    base: String,
    pub search: Op,
    pub get: Op,
    tokens: Arc<dyn TokenProvider>,
}

/// The query of one `searchOrders` page.
#[derive(Debug, Clone)]
pub struct SearchQuery<'a> {
    pub after: &'a str,
    pub before: &'a str,
    pub marketplace_ids: &'a [String],
    pub fulfilled_by: Option<String>,
    pub page_size: u32,
    pub pagination_token: Option<&'a str>,
}

impl Client {
    pub fn new(base: &str, search: Op, get: Op, tokens: Arc<dyn TokenProvider>) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            search,
            get,
            tokens,
        }
    }

    fn url(&self, path: &str) -> Result<url::Url, ConnectorError> {
        url::Url::parse(&format!("{}{path}", self.base))
            .map_err(|_| ConnectorError::permanent("invalid config: api_base_url is not a URL"))
    }

    /// One `searchOrders` page (arrays are comma-separated, as Amazon's own SDKs send them).
    pub async fn search_orders<T: DeserializeOwned>(
        &self,
        q: &SearchQuery<'_>,
    ) -> Result<Answer<T>, ConnectorError> {
        let mut url = self.url(SEARCH_ROUTE)?;
        {
            let mut p = url.query_pairs_mut();
            p.append_pair("lastUpdatedAfter", q.after)
                .append_pair("lastUpdatedBefore", q.before)
                .append_pair("marketplaceIds", &q.marketplace_ids.join(","))
                .append_pair("maxResultsPerPage", &q.page_size.to_string())
                .append_pair("includedData", INCLUDED_DATA);
            if let Some(f) = &q.fulfilled_by {
                p.append_pair("fulfilledBy", f);
            }
            if let Some(t) = q.pagination_token {
                p.append_pair("paginationToken", t);
            }
        }
        self.call(&self.search, &url).await
    }

    /// `getOrder`; a 404 is [`Answer::NotFound`].
    pub async fn get_order<T: DeserializeOwned>(
        &self,
        order_id: &str,
    ) -> Result<Answer<T>, ConnectorError> {
        let mut url = self.url(SEARCH_ROUTE)?;
        url.path_segments_mut()
            .map_err(|_| ConnectorError::permanent("invalid config: api_base_url is not a URL"))?
            .push(order_id);
        url.query_pairs_mut()
            .append_pair("includedData", INCLUDED_DATA);
        self.call(&self.get, &url).await
    }

    /// Paces, authenticates and classifies one request; after a 403 the access token is
    /// refreshed once.
    async fn call<T: DeserializeOwned>(
        &self,
        op: &Op,
        url: &url::Url,
    ) -> Result<Answer<T>, ConnectorError> {
        let mut refreshed = false;
        let mut throttled = 0;
        loop {
            if let Err(wait) = op.bucket.acquire_within(MAX_INLINE_WAIT).await {
                return Err(ConnectorError::RateLimited {
                    retry_after: Some(wait),
                });
            }
            let token = self.tokens.access_token().await?;
            match self.once(op, url, &token).await {
                Ok(Reply::Answer(a)) => return Ok(a),
                Ok(Reply::Throttled) => {
                    let wait = op.bucket.drain();
                    throttled += 1;
                    tracing::debug!(
                        route = op.route,
                        wait_ms = wait.as_millis() as u64,
                        "QuotaExceeded."
                    );
                    if throttled >= MAX_THROTTLED || wait > MAX_INLINE_WAIT {
                        return Err(ConnectorError::RateLimited {
                            retry_after: Some(wait),
                        });
                    }
                }
                // Amazon answers an expired token with a 403 like any other: one fresh
                // token settles whether it was the token (a missing role stays refused).
                Err(ConnectorError::Auth { .. }) if !refreshed => {
                    refreshed = true;
                    self.tokens.invalidate().await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn once<T: DeserializeOwned>(
        &self,
        op: &Op,
        url: &url::Url,
        token: &SecretString,
    ) -> Result<Reply<T>, ConnectorError> {
        let attempts = AtomicU32::new(0);
        let build = || {
            // The first attempt took its token before the call; retries of the transport
            // (5xx, timeouts) spend one each too, as Amazon counts them.
            if attempts.fetch_add(1, Ordering::Relaxed) > 0 {
                op.bucket.take();
            }
            op.endpoint
                .client
                .reqwest()
                .get(url.as_str())
                .header("x-amz-access-token", token.expose_secret())
                .header("accept", "application/json")
        };
        let handle = |resp: reqwest::Response| async move {
            let status = resp.status().as_u16();
            rerate(&op.bucket, resp.headers());
            if status == 429 {
                return Ok(Reply::Throttled);
            }
            let mut expired_token = false;
            let read = success_body(resp, |s, h, b| {
                expired_token = is_expired_token_400(s, b);
                parse_error(s, h, b)
            })
            .await;
            match read {
                Ok(bytes) => serde_json::from_slice::<T>(&bytes)
                    .map(|t| Reply::Answer(Answer::Body(t)))
                    .map_err(|e| malformed(&e)),
                Err(ConnectorError::NotFound) => Ok(Reply::Answer(Answer::NotFound)),
                Err(_) if expired_token => Ok(Reply::Answer(Answer::ExpiredPageToken)),
                Err(e) => Err(e),
            }
        };
        op.endpoint.call(op.route, build, handle).await
    }
}

/// Names the kind of JSON error, never the content.
fn malformed(e: &serde_json::Error) -> ConnectorError {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "truncated",
        serde_json::error::Category::Syntax => "syntax",
        serde_json::error::Category::Data => "unexpected shape",
        serde_json::error::Category::Io => "io",
    };
    ConnectorError::permanent(format!("malformed response body ({what})"))
}

/// `x-amzn-RateLimit-Limit`: the rate (requests per second) Amazon applies to this operation.
pub fn rerate(bucket: &TokenBucket, headers: &HeaderMap) {
    if let Some(rate) = headers
        .get("x-amzn-ratelimit-limit")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        && bucket.set_rate(rate)
    {
        tracing::trace!(rate, "Re-rated from x-amzn-RateLimit-Limit.");
    }
}

/// Exchanges the seller's refresh token at the LWA token endpoint (form-encoded, as LWA
/// wants). LWA refresh tokens are reusable: a rotated one is only reported when it differs.
pub struct LwaRefresh {
    pub endpoint: Endpoint,
    pub token_url: String,
    pub client_id: SecretString,
    pub client_secret: SecretString,
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl RefreshFn for LwaRefresh {
    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, ConnectorError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
            ("client_id", self.client_id.expose_secret()),
            ("client_secret", self.client_secret.expose_secret()),
        ];
        let build = || {
            self.endpoint
                .client
                .reqwest()
                .post(&self.token_url)
                .header("accept", "application/json")
                .form(&form)
        };
        let handle = |resp: reqwest::Response| async move {
            let bytes = success_body(resp, parse_lwa_error).await?;
            serde_json::from_slice::<LwaToken>(&bytes)
                .map_err(|_| ConnectorError::permanent("malformed LWA token response"))
        };
        let t = self.endpoint.call("/auth/o2/token", build, handle).await?;
        if t.access_token.is_empty() {
            return Err(ConnectorError::permanent(
                "LWA answered an empty access token",
            ));
        }
        Ok(TokenSet {
            access_token: t.access_token.into(),
            expires_at: self.clock.now()
                + time::Duration::seconds(t.expires_in.unwrap_or(3600).clamp(60, 86_400)),
            refresh_token: t
                .refresh_token
                .filter(|r| !r.is_empty() && r != refresh_token.expose_secret())
                .map(Into::into),
        })
    }
}
