//! The raw V2 calls, each through [`Endpoint::call`] (rate gate, retries, redacted logs).

use crate::errors::{observe_rate_headers, parse_error};
use crate::mapping::is_path_safe;
use crate::wire::{
    CreateShipmentsRequest, CreateShipmentsResponse, ListLabelsResponse, ShipmentBody,
    ShipmentResult, TrackingInfo,
};
use ordersync_sdk::ConnectorError;
use ordersync_sdk::http::{Endpoint, success_body};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub struct Client {
    endpoint: Endpoint,
    base: String,
    api_key: SecretString,
}

impl Client {
    pub fn new(endpoint: Endpoint, base_url: &str, api_key: SecretString) -> Self {
        Self {
            endpoint,
            base: base_url.trim_end_matches('/').to_string(),
            api_key,
        }
    }

    /// `POST /v2/shipments` — per-shipment results in request order.
    pub async fn create_shipments(
        &self,
        shipments: Vec<ShipmentBody>,
    ) -> Result<CreateShipmentsResponse, ConnectorError> {
        let body = to_body(&CreateShipmentsRequest { shipments })?;
        let url = format!("{}/v2/shipments", self.base);
        self.send("/v2/shipments", Method::POST, &url, Some(body))
            .await
    }

    /// `GET /v2/shipments/external_shipment_id/{external_shipment_id}`.
    pub async fn shipment_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<ShipmentResult, ConnectorError> {
        let url = format!(
            "{}/v2/shipments/external_shipment_id/{}",
            self.base,
            segment(external_id)?
        );
        self.send(
            "/v2/shipments/external_shipment_id/{external_shipment_id}",
            Method::GET,
            &url,
            None,
        )
        .await
    }

    /// `PUT /v2/shipments/{shipment_id}` — a full update (exists per ShipStation's docs,
    /// missing from the 2025-07 spec).
    pub async fn update_shipment(
        &self,
        shipment_id: &str,
        shipment: &ShipmentBody,
    ) -> Result<ShipmentResult, ConnectorError> {
        let url = format!("{}/v2/shipments/{}", self.base, segment(shipment_id)?);
        let body = to_body(shipment)?;
        self.send("/v2/shipments/{shipment_id}", Method::PUT, &url, Some(body))
            .await
    }

    /// `PUT /v2/shipments/{shipment_id}/cancel` → 204 (refused once a label exists).
    pub async fn cancel_shipment(&self, shipment_id: &str) -> Result<(), ConnectorError> {
        let url = format!(
            "{}/v2/shipments/{}/cancel",
            self.base,
            segment(shipment_id)?
        );
        self.exchange(
            "/v2/shipments/{shipment_id}/cancel",
            Method::PUT,
            &url,
            None,
            |_| Ok(()),
        )
        .await
    }

    /// `GET /v2/labels?label_status=completed&created_at_start=&sort_by=created_at&sort_dir=desc`:
    /// the live labels bought since `start` (all, without it), newest first.
    pub async fn labels_since(
        &self,
        start: Option<OffsetDateTime>,
        page: u32,
        page_size: u32,
    ) -> Result<ListLabelsResponse, ConnectorError> {
        let mut url = reqwest::Url::parse(&format!("{}/v2/labels", self.base))
            .map_err(|_| ConnectorError::permanent("api_base_url is not a valid URL"))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("label_status", "completed");
            if let Some(t) = start {
                let t = t
                    .to_offset(time::UtcOffset::UTC)
                    .format(&Rfc3339)
                    .map_err(|_| ConnectorError::permanent("feed cursor is not a valid time"))?;
                q.append_pair("created_at_start", &t);
            }
            q.append_pair("sort_by", "created_at")
                .append_pair("sort_dir", "desc")
                .append_pair("page", &page.to_string())
                .append_pair("page_size", &page_size.to_string());
        }
        self.send("/v2/labels", Method::GET, url.as_str(), None)
            .await
    }

    /// `GET /v2/labels?shipment_id=`.
    pub async fn labels_of(&self, shipment_id: &str) -> Result<ListLabelsResponse, ConnectorError> {
        let url = format!(
            "{}/v2/labels?shipment_id={}",
            self.base,
            segment(shipment_id)?
        );
        self.send("/v2/labels", Method::GET, &url, None).await
    }

    /// `GET /v2/labels/{label_id}/track`.
    pub async fn track(&self, label_id: &str) -> Result<TrackingInfo, ConnectorError> {
        let url = format!("{}/v2/labels/{}/track", self.base, segment(label_id)?);
        self.send("/v2/labels/{label_id}/track", Method::GET, &url, None)
            .await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        route: &'static str,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, ConnectorError> {
        self.exchange(route, method, url, body, |bytes| {
            // A garbled 2xx leaves the outcome unknown; retrying is safe because every write
            // is keyed by the stable external_shipment_id.
            serde_json::from_slice(bytes)
                .map_err(|_| ConnectorError::retriable("malformed response body (outcome unknown)"))
        })
        .await
    }

    /// One call; `decode` reads a success body (inside the retry loop, so a retriable decode
    /// error is retried like a 5xx).
    async fn exchange<T>(
        &self,
        route: &'static str,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
        decode: impl Fn(&[u8]) -> Result<T, ConnectorError>,
    ) -> Result<T, ConnectorError> {
        let http = self.endpoint.client.reqwest();
        let gate = &self.endpoint.gate;
        let decode = &decode;
        self.endpoint
            .call(
                route,
                || {
                    let mut b = http
                        .request(method.clone(), url)
                        .header("API-Key", self.api_key.expose_secret())
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
                    decode(&body)
                },
            )
            .await
    }
}

fn to_body<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, ConnectorError> {
    serde_json::to_vec(v).map_err(|_| ConnectorError::permanent("cannot serialise request"))
}

/// Ids go into paths and queries: refuse anything that would need escaping (an id from the
/// ledger that is not ShipStation's is a bug, not something to send).
fn segment(id: &str) -> Result<&str, ConnectorError> {
    if is_path_safe(id) {
        Ok(id)
    } else {
        Err(ConnectorError::permanent(
            "id is not a valid ShipStation id",
        ))
    }
}
