//! The raw v3.1 calls, each through [`Endpoint::call`] (rate gate, retries, redacted logs),
//! with `Authorization: Bearer` from the connection's token provider and `X-Business` on
//! every request; and the token endpoint's refresh grant.

use crate::errors::{UNAUTHORIZED, parse_error, parse_token_error};
use crate::wire::{Listed, TokenAnswer};
use async_trait::async_trait;
use ordersync_sdk::http::{Endpoint, success_body};
use ordersync_sdk::{Clock, ConnectorError, RefreshFn, TokenProvider, TokenSet};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// Lists are read in pages of Sage's maximum.
pub const PAGE_SIZE: u32 = 200;
/// A runaway `$next` chain stops here (200 × 50 = 10,000 items).
const MAX_PAGES: usize = 50;

pub struct Client {
    endpoint: Endpoint,
    base: String,
    business_id: String,
    tokens: Arc<dyn TokenProvider>,
}

impl Client {
    pub fn new(
        endpoint: Endpoint,
        base: String,
        business_id: String,
        tokens: Arc<dyn TokenProvider>,
    ) -> Self {
        Self {
            endpoint,
            base,
            business_id,
            tokens,
        }
    }

    /// One call; a 401 invalidates the access token and the call is made once more with a
    /// fresh one (a second 401 is `Auth`).
    pub async fn send<T: DeserializeOwned>(
        &self,
        route: &'static str,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, ConnectorError> {
        let url = format!("{}{}", self.base, path_and_query);
        for attempt in 0..2 {
            let token = self.tokens.access_token().await?;
            let r = self
                .once(route, &method, &url, body.as_deref(), &token)
                .await;
            match r {
                Err(ConnectorError::Auth { reason }) if reason == UNAUTHORIZED && attempt == 0 => {
                    self.tokens.invalidate().await;
                }
                other => return other,
            }
        }
        Err(ConnectorError::auth(UNAUTHORIZED))
    }

    async fn once<T: DeserializeOwned>(
        &self,
        route: &'static str,
        method: &Method,
        url: &str,
        body: Option<&[u8]>,
        token: &SecretString,
    ) -> Result<T, ConnectorError> {
        let http = self.endpoint.client.reqwest();
        self.endpoint
            .call(
                route,
                || {
                    let mut b = http
                        .request(method.clone(), url)
                        .bearer_auth(token.expose_secret())
                        .header("X-Business", &self.business_id)
                        .header("Accept", "application/json");
                    if let Some(body) = body {
                        b = b
                            .header("Content-Type", "application/json")
                            .body(body.to_vec());
                    }
                    b
                },
                |resp| async move {
                    let bytes = success_body(resp, parse_error).await?;
                    // 204 (a delete) has no body.
                    let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
                    // A garbled 2xx leaves the outcome unknown: retrying is safe, every write
                    // carries its idempotency_id and the sink pre-checks by reference.
                    serde_json::from_slice(bytes).map_err(|_| {
                        ConnectorError::retriable("malformed response body (outcome unknown)")
                    })
                },
            )
            .await
    }

    /// Every item of a list, following `$next` (Sage's body-based pagination).
    pub async fn list<T: DeserializeOwned>(
        &self,
        route: &'static str,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<T>, ConnectorError> {
        let mut out = Vec::new();
        for page in 1..=MAX_PAGES {
            let p = {
                let mut q = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in query {
                    q.append_pair(k, v);
                }
                q.append_pair("items_per_page", &PAGE_SIZE.to_string());
                q.append_pair("page", &page.to_string());
                format!("{path}?{}", q.finish())
            };
            let l: Listed<T> = self.send(route, Method::GET, &p, None).await?;
            let done = l.next.is_none() || l.items.is_empty();
            out.extend(l.items);
            if done {
                return Ok(out);
            }
        }
        Ok(out)
    }
}

/// Exchanges Sage's rotating, single-use refresh token at the token endpoint.
pub struct Refresher {
    pub endpoint: Endpoint,
    pub token_url: String,
    pub client_id: SecretString,
    pub client_secret: SecretString,
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl RefreshFn for Refresher {
    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, ConnectorError> {
        let http = self.endpoint.client.reqwest();
        let answer: TokenAnswer = self
            .endpoint
            .call(
                "/token",
                || {
                    http.post(&self.token_url)
                        .header("Accept", "application/json")
                        .form(&[
                            ("grant_type", "refresh_token"),
                            ("refresh_token", refresh_token.expose_secret()),
                            ("client_id", self.client_id.expose_secret()),
                            ("client_secret", self.client_secret.expose_secret()),
                        ])
                },
                |resp| async move {
                    let bytes = success_body(resp, parse_token_error).await?;
                    serde_json::from_slice(&bytes).map_err(|_| {
                        ConnectorError::retriable("malformed token answer (outcome unknown)")
                    })
                },
            )
            .await?;
        // ~300 s in practice; read it, never assume it. A missing value means "short".
        let secs = answer.expires_in.unwrap_or(300).clamp(1, 86_400);
        Ok(TokenSet {
            access_token: answer.access_token.into(),
            expires_at: self.clock.now() + time::Duration::seconds(secs),
            refresh_token: answer
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(Into::into),
        })
    }
}
