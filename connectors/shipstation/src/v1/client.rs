//! The raw V1 calls, each through [`Endpoint::call`] (rate gate, retries, redacted logs),
//! with `Authorization: Basic base64(api_key:api_secret)`.

use super::errors::parse_error;
use super::wire::{BulkAnswer, ListOrdersAnswer, OrderAnswer, OrderBody};
use crate::errors::observe_rate_headers;
use base64::Engine as _;
use ordersync_sdk::ConnectorError;
use ordersync_sdk::http::{Endpoint, success_body};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

pub struct Client {
    endpoint: Endpoint,
    base: String,
    /// `Basic …`, built once.
    authorization: SecretString,
}

impl Client {
    pub fn new(
        endpoint: Endpoint,
        base_url: &str,
        api_key: &SecretString,
        api_secret: &SecretString,
    ) -> Self {
        let pair = format!("{}:{}", api_key.expose_secret(), api_secret.expose_secret());
        let authorization = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        );
        Self {
            endpoint,
            base: base_url.trim_end_matches('/').to_string(),
            authorization: authorization.into(),
        }
    }

    /// `POST /orders/createorder`: create, or update the order holding this `orderKey`.
    pub async fn create_order(&self, order: &OrderBody) -> Result<OrderAnswer, ConnectorError> {
        let body = to_body(order)?;
        let url = format!("{}/orders/createorder", self.base);
        self.send("/orders/createorder", Method::POST, &url, Some(body))
            .await
    }

    /// `POST /orders/createorders` (at most 100): one result per order, in request order.
    pub async fn create_orders(&self, orders: &[OrderBody]) -> Result<BulkAnswer, ConnectorError> {
        let body = to_body(&orders)?;
        let url = format!("{}/orders/createorders", self.base);
        self.send("/orders/createorders", Method::POST, &url, Some(body))
            .await
    }

    /// `GET /orders/{orderId}`.
    pub async fn order(&self, order_id: u64) -> Result<OrderAnswer, ConnectorError> {
        let url = format!("{}/orders/{order_id}", self.base);
        self.send("/orders/{orderId}", Method::GET, &url, None)
            .await
    }

    /// `GET /orders?orderNumber=&page=&pageSize=` (V1 cannot look an order up by `orderKey`).
    pub async fn orders_numbered(
        &self,
        order_number: &str,
        page: u32,
    ) -> Result<ListOrdersAnswer, ConnectorError> {
        let mut url = reqwest::Url::parse(&format!("{}/orders", self.base))
            .map_err(|_| ConnectorError::permanent("api_base_url is not a valid URL"))?;
        url.query_pairs_mut()
            .append_pair("orderNumber", order_number)
            .append_pair("page", &page.to_string())
            .append_pair("pageSize", "100");
        self.send("/orders", Method::GET, url.as_str(), None).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        route: &'static str,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, ConnectorError> {
        let http = self.endpoint.client.reqwest();
        let gate = &self.endpoint.gate;
        self.endpoint
            .call(
                route,
                || {
                    let mut b = http
                        .request(method.clone(), url)
                        .header("Authorization", self.authorization.expose_secret())
                        .header("Accept", "application/json");
                    if let Some(body) = &body {
                        b = b
                            .header("Content-Type", "application/json")
                            .body(body.clone());
                    }
                    b
                },
                |resp| async move {
                    observe_rate_headers(resp.headers(), gate);
                    let body = success_body(resp, parse_error).await?;
                    // An HTML or truncated 2xx leaves the outcome unknown; the orderKey
                    // upsert makes the retry safe.
                    serde_json::from_slice(&body).map_err(|_| {
                        ConnectorError::retriable("malformed response body (outcome unknown)")
                    })
                },
            )
            .await
    }
}

fn to_body<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, ConnectorError> {
    serde_json::to_vec(v).map_err(|_| ConnectorError::permanent("cannot serialise request"))
}
