//! Transport: `getOrders` and `getOrder` of the Sell Fulfillment API through the SDK's
//! [`Endpoint`] (retries, the daily-quota gate, safe logs), and the OAuth refresh grant.
//! Shapes are in `wire.rs`, classification in `errors.rs`.

use crate::errors::{is_html, parse_error};
use crate::wire::{OrderPage, TokenResponse};
use async_trait::async_trait;
use base64::Engine;
use ordersync_sdk::http::{Endpoint, success_body};
use ordersync_sdk::{Clock, ConnectorError, RefreshFn, TokenProvider, TokenSet};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// The path of both order calls.
pub const ORDERS_PATH: &str = "/sell/fulfillment/v1/order";
/// Always asked for: without it `pricingSummary.total` leaves out the tax eBay collects
/// and remits, and fees are not broken down.
pub const FIELD_GROUPS: &str = "TAX_BREAKDOWN";
/// The read-only scope of the refresh grant.
pub const SCOPE: &str = "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly";

/// eBay's timestamp form: UTC with milliseconds (`2026-11-20T09:15:02.000Z`).
pub fn ebay_time(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(UtcOffset::UTC);
    let (y, mo, d) = (t.year(), u8::from(t.month()), t.day());
    let (h, mi, s, milli) = (t.hour(), t.minute(), t.second(), t.millisecond());
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

/// Milliseconds since the epoch (floored).
pub fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000_000)).unwrap_or(i64::MAX)
}

/// Parses an eBay timestamp into milliseconds.
pub fn parse_millis(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok().map(millis)
}

/// `lastmodifieddate:[from..to]` with the brackets percent-encoded, as eBay requires; both
/// bounds inclusive. Never combined with `creationdate`: eBay would then ignore this one.
pub fn modified_filter(from_ms: i64, to_ms: i64) -> String {
    format!(
        "lastmodifieddate:%5B{}..{}%5D",
        ebay_time(from_ms),
        ebay_time(to_ms)
    )
}

/// One seller's Sell Fulfillment API.
pub struct Client {
    endpoint: Endpoint,
    base: String,
    tokens: Arc<dyn TokenProvider>,
    marketplace_id: Option<String>,
}

impl Client {
    pub fn new(
        endpoint: Endpoint,
        base: &str,
        tokens: Arc<dyn TokenProvider>,
        marketplace_id: Option<String>,
    ) -> Self {
        Self {
            endpoint,
            base: base.to_string(),
            tokens,
            marketplace_id,
        }
    }

    /// `getOrders` of orders last modified in `[from_ms, to_ms]`.
    pub async fn orders_modified(
        &self,
        from_ms: i64,
        to_ms: i64,
        limit: u32,
        offset: u64,
    ) -> Result<OrderPage, ConnectorError> {
        let url = format!(
            "{}{ORDERS_PATH}?filter={}&limit={limit}&offset={offset}&fieldGroups={FIELD_GROUPS}",
            self.base,
            modified_filter(from_ms, to_ms)
        );
        let page: OrderPage = self.get_json(ORDERS_PATH, &url).await?;
        Ok(page)
    }

    /// `getOrder`, whose `cancelStatus` is complete (getOrders always sends it empty).
    /// `Ok(None)` for an id eBay does not know.
    pub async fn order(&self, id: &str) -> Result<Option<serde_json::Value>, ConnectorError> {
        let url = format!("{}{ORDERS_PATH}/{id}?fieldGroups={FIELD_GROUPS}", self.base);
        match self
            .get_json::<serde_json::Value>("/sell/fulfillment/v1/order/{orderId}", &url)
            .await
        {
            Ok(v) => Ok(Some(v)),
            Err(ConnectorError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A GET with the user token. A rejected token is invalidated and the call retried once
    /// with a fresh one (an expired token is refreshed), then reported as `Auth`.
    async fn get_json<T: DeserializeOwned>(
        &self,
        route: &'static str,
        url: &str,
    ) -> Result<T, ConnectorError> {
        let mut attempt = 0;
        loop {
            let token = self.tokens.access_token().await?;
            match self.get_once(route, url, &token).await {
                Err(ConnectorError::Auth { .. }) if attempt == 0 => {
                    attempt += 1;
                    self.tokens.invalidate().await;
                }
                other => return other,
            }
        }
    }

    async fn get_once<T: DeserializeOwned>(
        &self,
        route: &'static str,
        url: &str,
        token: &SecretString,
    ) -> Result<T, ConnectorError> {
        let build = || {
            let mut req = self
                .endpoint
                .client
                .reqwest()
                .get(url)
                .bearer_auth(token.expose_secret())
                .header("Accept", "application/json");
            if let Some(m) = &self.marketplace_id {
                req = req.header("X-EBAY-C-MARKETPLACE-ID", m);
            }
            req
        };
        let handle = |resp: reqwest::Response| async move {
            let headers = resp.headers().clone();
            let bytes = success_body(resp, parse_error).await?;
            if is_html(&headers, &bytes) {
                return Err(ConnectorError::permanent(
                    "HTML page instead of JSON (eBay maintenance or a firewall?)",
                ));
            }
            serde_json::from_slice::<T>(&bytes).map_err(|e| {
                ConnectorError::permanent(format!(
                    "malformed response body ({})",
                    if e.is_eof() {
                        "truncated"
                    } else {
                        "unexpected shape"
                    }
                ))
            })
        };
        self.endpoint.call(route, build, handle).await
    }
}

/// The refresh grant at `token_url`: Basic client authentication, a form body, the read-only
/// fulfillment scope. eBay answers `{access_token, expires_in: 7200, token_type}` and keeps the
/// refresh token (reusable for about 18 months); a rotated one is taken if it ever comes.
pub struct OAuthRefresh {
    pub endpoint: Endpoint,
    pub token_url: String,
    pub client_id: SecretString,
    pub client_secret: SecretString,
    pub clock: Arc<dyn Clock>,
}

impl OAuthRefresh {
    fn basic(&self) -> String {
        let pair = format!(
            "{}:{}",
            self.client_id.expose_secret(),
            self.client_secret.expose_secret()
        );
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

#[async_trait]
impl RefreshFn for OAuthRefresh {
    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, ConnectorError> {
        let auth = self.basic();
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
            ("scope", SCOPE),
        ];
        let build = || {
            self.endpoint
                .client
                .reqwest()
                .post(&self.token_url)
                .header("Authorization", &auth)
                .form(&form)
        };
        let handle = |resp: reqwest::Response| async move {
            let bytes = success_body(resp, parse_error).await?;
            serde_json::from_slice::<TokenResponse>(&bytes)
                .map_err(|_| ConnectorError::permanent("malformed token response"))
        };
        let t = self
            .endpoint
            .call("/identity/v1/oauth2/token", build, handle)
            .await?;
        if t.access_token.is_empty() {
            return Err(ConnectorError::permanent("token response without a token"));
        }
        Ok(TokenSet {
            access_token: t.access_token.into(),
            expires_at: self.clock.now()
                + time::Duration::seconds(t.expires_in.unwrap_or(7200).clamp(0, 86_400)),
            refresh_token: t.refresh_token.filter(|s| !s.is_empty()).map(Into::into),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_filters() {
        let ms = 1_795_000_000_123;
        assert_eq!(ebay_time(ms), "2026-11-18T11:06:40.123Z");
        assert_eq!(parse_millis("2026-11-18T11:06:40.123Z"), Some(ms));
        assert_eq!(parse_millis("2026-11-18T12:06:40.123+01:00"), Some(ms));
        assert_eq!(
            modified_filter(ms, ms + 1000),
            "lastmodifieddate:%5B2026-11-18T11:06:40.123Z..2026-11-18T11:06:41.123Z%5D"
        );
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_795_000_000_123_999_999).unwrap();
        assert_eq!(millis(t), ms);
    }
}
