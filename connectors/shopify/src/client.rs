//! Transport: raw Admin API calls through the SDK's [`Endpoint`] (retries, rate gate, safe
//! logs), the download of a bulk operation's result, and the OAuth refresh of expiring offline
//! tokens. Documents are in `queries.rs`, shapes in `wire.rs`, classification in `errors.rs`.

use crate::errors::{Answer, graphql_answer, parse_error, too_costly_status};
use crate::wire::Cost;
use async_trait::async_trait;
use ordersync_sdk::http::{Endpoint, success_body};
use ordersync_sdk::{Clock, ConnectorError, RefreshFn, TokenProvider, TokenSet};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

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

    /// Runs one query and returns its classified answer: data with `extensions.cost`, or
    /// "too costly" for the caller to shrink. A rejected token is invalidated and retried once
    /// with a fresh one (expired OAuth token → refresh), then reported as `Auth`.
    pub async fn query<T: DeserializeOwned>(
        &self,
        document: &str,
        variables: serde_json::Value,
    ) -> Result<Answer<T>, ConnectorError> {
        let body = serde_json::to_vec(&serde_json::json!({
            "query": document,
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

    /// [`Client::query`] for documents whose cost does not depend on a page size: "too costly"
    /// cannot be fixed by the caller and is reported as a permanent error.
    pub async fn graphql<T: DeserializeOwned>(
        &self,
        document: &str,
        variables: serde_json::Value,
    ) -> Result<T, ConnectorError> {
        match self.query(document, variables).await? {
            Answer::Data { data, .. } => Ok(data),
            Answer::TooCostly { .. } => Err(ConnectorError::permanent(
                "graphql MAX_COST_EXCEEDED (query too costly)",
            )),
        }
    }

    async fn graphql_once<T: DeserializeOwned>(
        &self,
        token: &SecretString,
        body: &[u8],
    ) -> Result<Answer<T>, ConnectorError> {
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
            let mut too_costly = None;
            let read = success_body(resp, |status, headers, body| {
                too_costly = too_costly_status(status, body);
                parse_error(status, headers, body)
            })
            .await;
            let bytes = match (read, too_costly) {
                (Ok(b), _) => b,
                (Err(_), Some((requested, limit))) => {
                    return Ok(Answer::TooCostly { requested, limit });
                }
                (Err(e), None) => return Err(e),
            };
            let answer = graphql_answer::<T>(&bytes)?;
            if let Answer::Data { cost: Some(c), .. } = &answer {
                self.pace(c);
            }
            Ok(answer)
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

    /// Opens the result of a bulk operation for streaming. The URL is a pre-signed storage
    /// link, so the shop's access token is *not* sent with it.
    pub async fn download(&self, url: &str) -> Result<reqwest::Response, ConnectorError> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ConnectorError::permanent("bulk result URL is not http(s)"));
        }
        // The whole download may outlast the client's request timeout (it is read page by page
        // between pulls); stalls are caught per chunk by the reader instead.
        let build = || {
            self.endpoint
                .client
                .reqwest()
                .get(url)
                .timeout(std::time::Duration::from_secs(6 * 3600))
        };
        let handle = |resp: reqwest::Response| async move {
            let status = resp.status().as_u16();
            if (200..300).contains(&status) {
                Ok(resp)
            } else {
                // The body of a storage error is not ours to read; the status says enough.
                Err(ConnectorError::from_status(
                    status,
                    None,
                    format!("bulk download http {status}"),
                ))
            }
        };
        self.endpoint
            .call("/bulk-operation-result", build, handle)
            .await
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
