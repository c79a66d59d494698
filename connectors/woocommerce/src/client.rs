//! Transport: WooCommerce REST calls through the SDK's [`Endpoint`] (retries, `Retry-After`
//! pauses, safe logs) with the store's API keys. Classification is in `errors.rs`, shapes in
//! `wire.rs`.
//!
//! Auth is HTTP Basic `consumer_key:consumer_secret` over HTTPS, or the same keys as query
//! parameters (`auth_in_query`) for hosts that strip the `Authorization` header. OAuth 1.0a
//! exists only for plain HTTP, which the connector never uses outside tests.

use crate::errors::{malformed, parse_error};
use ordersync_sdk::ConnectorError;
use ordersync_sdk::http::{Endpoint, success_body};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

/// The store's API keys and how to send them.
pub struct Keys {
    pub consumer_key: SecretString,
    pub consumer_secret: SecretString,
    pub in_query: bool,
}

/// A list answer: the items and what `X-WP-Total`/`X-WP-TotalPages` said.
#[derive(Debug)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub total: Option<u64>,
    pub total_pages: Option<u64>,
}

/// One store's REST API.
pub struct Client {
    endpoint: Endpoint,
    base: String,
    keys: Keys,
}

fn header_u64(h: &reqwest::header::HeaderMap, name: &str) -> Option<u64> {
    h.get(name)?.to_str().ok()?.trim().parse().ok()
}

impl Client {
    /// `base` is `{store_url}/wp-json/wc/v3`.
    pub fn new(endpoint: Endpoint, base: String, keys: Keys) -> Self {
        Self {
            endpoint,
            base,
            keys,
        }
    }

    fn request(&self, path: &str, query: &[(&str, String)]) -> reqwest::RequestBuilder {
        let mut q: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let ck = self.keys.consumer_key.expose_secret();
        let cs = self.keys.consumer_secret.expose_secret();
        if self.keys.in_query {
            q.push(("consumer_key", ck));
            q.push(("consumer_secret", cs));
        }
        let rb = self
            .endpoint
            .client
            .reqwest()
            .get(format!("{}{path}", self.base))
            .header("Accept", "application/json")
            .query(&q);
        if self.keys.in_query {
            rb
        } else {
            rb.basic_auth(ck, Some(cs))
        }
    }

    /// GETs a JSON body; `route` is the path template for logs and metrics.
    async fn get<T: DeserializeOwned>(
        &self,
        route: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<(T, reqwest::header::HeaderMap), ConnectorError> {
        let build = || self.request(path, query);
        let handle = |resp: reqwest::Response| async move {
            let headers = resp.headers().clone();
            let bytes = success_body(resp, parse_error).await?;
            let v =
                serde_json::from_slice::<T>(&bytes).map_err(|e| malformed(&headers, &bytes, &e))?;
            Ok((v, headers))
        };
        self.endpoint.call(route, build, handle).await
    }

    /// `GET /orders` with `query`; each order is kept as JSON so one bad order is a rejection,
    /// not a failed page.
    pub async fn list_orders(
        &self,
        query: &[(&str, String)],
    ) -> Result<Listed<serde_json::Value>, ConnectorError> {
        let (items, h) = self
            .get::<Vec<serde_json::Value>>("/wp-json/wc/v3/orders", "/orders", query)
            .await?;
        Ok(Listed {
            items,
            total: header_u64(&h, "x-wp-total"),
            total_pages: header_u64(&h, "x-wp-totalpages"),
        })
    }

    /// `GET /orders/{id}`; `None` when WooCommerce says the id is invalid (404).
    pub async fn order(&self, id: u64) -> Result<Option<serde_json::Value>, ConnectorError> {
        match self
            .get::<serde_json::Value>("/wp-json/wc/v3/orders/{id}", &format!("/orders/{id}"), &[])
            .await
        {
            Ok((v, _)) => Ok(Some(v)),
            Err(ConnectorError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One page of `GET /orders/{id}/refunds` (100 a page, newest first); `None` when the
    /// order is gone.
    pub async fn refunds(
        &self,
        id: u64,
        page: u64,
    ) -> Result<Option<Listed<serde_json::Value>>, ConnectorError> {
        let query = [("per_page", "100".to_string()), ("page", page.to_string())];
        match self
            .get::<Vec<serde_json::Value>>(
                "/wp-json/wc/v3/orders/{id}/refunds",
                &format!("/orders/{id}/refunds"),
                &query,
            )
            .await
        {
            Ok((items, h)) => Ok(Some(Listed {
                items,
                total: header_u64(&h, "x-wp-total"),
                total_pages: header_u64(&h, "x-wp-totalpages"),
            })),
            Err(ConnectorError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
