//! The raw calls, each through [`Endpoint::call`] (rate gate, retries, redacted logs). Each
//! endpoint class has its own gate: AfterShip limits per endpoint per second.

use crate::errors::{ALREADY_EXISTS, meta_code, observe_rate_headers, parse_error};
use crate::mapping::{Target, is_path_safe, rfc3339};
use crate::wire::{Envelope, Tracking, TrackingBody, TrackingList};
use ordersync_sdk::http::{Endpoint, RateGate, read_body_limited, success_body};
use ordersync_sdk::{Clock, ConnectorError, FleetBudget, budget_key};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use time::OffsetDateTime;

/// Most trackings one `GET /trackings` page may hold.
pub const PAGE_LIMIT: u32 = 200;

/// Error bodies we read to find a meta code.
const ERROR_BODY_CAP: u64 = 64 * 1024;

/// What `POST /trackings` came back with.
pub enum Created {
    New(Tracking),
    /// 4003: a tracking with this (slug, tracking_number) already exists.
    Exists,
}

pub struct Client {
    create: Endpoint,
    list: Endpoint,
    by_id: Endpoint,
    base: String,
    api_key: SecretString,
    clock: Arc<dyn Clock>,
}

impl Client {
    /// `base` is `{api_base_url}/tracking/{version}`.
    pub fn new(
        http: ordersync_sdk::http::HttpClient,
        base: String,
        api_key: SecretString,
        clock: Arc<dyn Clock>,
        (create, list, by_id): (u32, u32, u32),
        budgets: &Arc<dyn FleetBudget>,
    ) -> Self {
        // The account's limits, whichever worker calls: one fleet bucket per endpoint class,
        // the shape AfterShip applies (a bucket of a second's allowance).
        let ep = |class: &str, rate: u32| {
            let key = budget_key(
                crate::KIND,
                class,
                &format!("{base}\n{}", api_key.expose_secret()),
            );
            let gate = RateGate::shared(budgets, key, f64::from(rate.max(1)), rate);
            Endpoint::new(http.clone(), crate::KIND, gate)
        };
        Self {
            create: ep("create", create),
            list: ep("list", list),
            by_id: ep("by_id", by_id),
            base,
            api_key,
            clock,
        }
    }

    /// `POST /trackings`.
    pub async fn create(&self, body: &TrackingBody) -> Result<Created, ConnectorError> {
        let url = format!("{}/trackings", self.base);
        let bytes = to_body(body)?;
        let clock = &self.clock;
        let gate = &self.create.gate;
        self.create
            .call(
                "/tracking/{version}/trackings",
                || self.request(Method::POST, &url).body(bytes.clone()),
                |resp| async move {
                    let now = clock.now();
                    observe_rate_headers(resp.headers(), gate, now);
                    if resp.status().as_u16() == 400 {
                        let headers = resp.headers().clone();
                        let body = read_body_limited(resp, ERROR_BODY_CAP)
                            .await
                            .unwrap_or_default();
                        if meta_code(&body) == Some(ALREADY_EXISTS) {
                            return Ok(Created::Exists);
                        }
                        return Err(parse_error(400, &headers, &body, now));
                    }
                    let body = success_body(resp, |s, h, b| parse_error(s, h, b, now)).await?;
                    decode::<Envelope<Tracking>>(&body).map(|e| Created::New(e.data))
                },
            )
            .await
    }

    /// `GET /trackings?tracking_numbers=X&slug=Y`: current versions have no get by slug and
    /// number, so a 4003 is resolved through the list.
    pub async fn find(&self, target: &Target) -> Result<Option<Tracking>, ConnectorError> {
        let query = [
            ("tracking_numbers", target.tracking_number.clone()),
            ("slug", target.slug.clone()),
        ];
        let list = self.list_page(&query).await?;
        Ok(list
            .trackings
            .into_iter()
            .find(|t| crate::mapping::same_parcel(t, target)))
    }

    /// `GET /trackings?tag=Delivered&updated_at_min=&limit=&cursor=`.
    pub async fn delivered_since(
        &self,
        since: Option<OffsetDateTime>,
        cursor: Option<&str>,
    ) -> Result<TrackingList, ConnectorError> {
        let mut query = vec![
            ("tag", "Delivered".to_string()),
            ("limit", PAGE_LIMIT.to_string()),
        ];
        if let Some(s) = since {
            query.push(("updated_at_min", rfc3339(s)));
        }
        if let Some(c) = cursor {
            query.push(("cursor", c.to_string()));
        }
        self.list_page(&query).await
    }

    async fn list_page(&self, query: &[(&str, String)]) -> Result<TrackingList, ConnectorError> {
        let url = format!("{}/trackings", self.base);
        self.send(
            &self.list,
            "/tracking/{version}/trackings",
            Method::GET,
            &url,
            query,
            None,
        )
        .await
        .map(|e: Envelope<TrackingList>| e.data)
    }

    /// `GET /trackings/{id}`.
    pub async fn get(&self, id: &str) -> Result<Tracking, ConnectorError> {
        let url = self.by_id_url(id)?;
        self.send(&self.by_id, BY_ID, Method::GET, &url, &[], None)
            .await
            .map(|e: Envelope<Tracking>| e.data)
    }

    /// `PUT /trackings/{id}`.
    pub async fn update(&self, id: &str, body: &TrackingBody) -> Result<Tracking, ConnectorError> {
        let url = self.by_id_url(id)?;
        let bytes = to_body(body)?;
        self.send(&self.by_id, BY_ID, Method::PUT, &url, &[], Some(bytes))
            .await
            .map(|e: Envelope<Tracking>| e.data)
    }

    /// `DELETE /trackings/{id}`; a tracking already gone is fine.
    pub async fn delete(&self, id: &str) -> Result<(), ConnectorError> {
        let url = self.by_id_url(id)?;
        match self
            .send::<serde_json::Value>(&self.by_id, BY_ID, Method::DELETE, &url, &[], None)
            .await
        {
            Ok(_) | Err(ConnectorError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn by_id_url(&self, id: &str) -> Result<String, ConnectorError> {
        if !is_path_safe(id) {
            return Err(ConnectorError::permanent("id is not a valid AfterShip id"));
        }
        Ok(format!("{}/trackings/{id}", self.base))
    }

    fn request(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        self.create
            .client
            .reqwest()
            .request(method, url)
            .header("as-api-key", self.api_key.expose_secret())
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
    }

    async fn send<T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        route: &'static str,
        method: Method,
        url: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> Result<T, ConnectorError> {
        let clock = &self.clock;
        let gate = &endpoint.gate;
        endpoint
            .call(
                route,
                || {
                    let mut b = self.request(method.clone(), url);
                    if !query.is_empty() {
                        b = b.query(query);
                    }
                    if let Some(body) = &body {
                        b = b.body(body.clone());
                    }
                    b
                },
                |resp| async move {
                    let now = clock.now();
                    observe_rate_headers(resp.headers(), gate, now);
                    let body = success_body(resp, |s, h, b| parse_error(s, h, b, now)).await?;
                    decode(&body)
                },
            )
            .await
    }
}

const BY_ID: &str = "/tracking/{version}/trackings/{id}";

/// A garbled 2xx leaves the outcome unknown; retrying is safe because a repeated create is a
/// 4003 that resolves to the same tracking.
fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ConnectorError> {
    serde_json::from_slice(bytes)
        .map_err(|_| ConnectorError::retriable("malformed response body (outcome unknown)"))
}

fn to_body<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, ConnectorError> {
    serde_json::to_vec(v).map_err(|_| ConnectorError::permanent("cannot serialise request"))
}
