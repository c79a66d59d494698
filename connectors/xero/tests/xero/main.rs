//! Xero connector tests: pure mapping and tax rules, the golden accounting cases, the
//! simulator's rules over raw HTTP, the sink end to end, tokens, and the conformance kit.

mod batch;
mod conformance;
mod golden;
mod mapping;
mod sim;
mod sink;
mod tokens;
mod unrated_tax;

use async_trait::async_trait;
use ordersync_sdk::sim::SimServer;
use ordersync_sdk::{ConnectorDeps, ConnectorError, ManualClock, Secrets, SecretsPersister, Sink};
use ordersync_xero::sim::{DEMO_REFRESH_TOKEN, DEMO_TENANT, SimOptions, spawn};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

pub struct Env {
    pub sim: SimServer,
    pub clock: Arc<ManualClock>,
    pub sink: Arc<dyn Sink>,
}

pub fn secrets(refresh_token: &str) -> Secrets {
    let mut s = Secrets::new();
    s.insert("client_id".into(), "test-client".to_string().into());
    s.insert("client_secret".into(), "test-secret".to_string().into());
    s.insert("refresh_token".into(), refresh_token.to_string().into());
    s
}

pub fn config(base: &str, extra: Value) -> Value {
    let mut c = json!({
        "tenant_id": DEMO_TENANT,
        "api_base_url": base,
        "token_url": format!("{base}/connect/token"),
        "requests_per_minute": 100_000,
    });
    if let (Some(m), Value::Object(e)) = (c.as_object_mut(), extra) {
        m.extend(e);
    }
    c
}

pub fn deps(clock: &Arc<ManualClock>, persister: Arc<dyn SecretsPersister>) -> ConnectorDeps {
    ConnectorDeps {
        clock: clock.clone(),
        secrets: persister,
        ..ConnectorDeps::for_simulators()
    }
}

pub fn build_with(
    base: &str,
    refresh_token: &str,
    extra: Value,
    clock: &Arc<ManualClock>,
    persister: Arc<dyn SecretsPersister>,
) -> Arc<dyn Sink> {
    ordersync_xero::build_sink(
        &config(base, extra),
        &secrets(refresh_token),
        &deps(clock, persister),
    )
    .expect("valid config")
}

pub fn build(base: &str, refresh_token: &str, clock: &Arc<ManualClock>) -> Arc<dyn Sink> {
    build_with(
        base,
        refresh_token,
        json!({}),
        clock,
        Arc::new(Recorder::default()),
    )
}

pub async fn env_with(opts: SimOptions, extra: Value) -> Env {
    let clock = Arc::new(ManualClock::new());
    let sim = spawn(opts, clock.clone()).await.expect("sim binds");
    let sink = build_with(
        &sim.base_url,
        DEMO_REFRESH_TOKEN,
        extra,
        &clock,
        Arc::new(Recorder::default()),
    );
    Env { sim, clock, sink }
}

pub async fn env() -> Env {
    env_with(SimOptions::relaxed(), json!({})).await
}

/// A 32-hex object key like the engine's.
pub fn key(prefix: &str, i: u64) -> String {
    format!("{:0>32}", format!("{prefix}{i:x}"))
}

pub async fn received(base: &str) -> ordersync_sdk::sim::Received {
    serde_json::from_value(ordersync_conformance::sim_get(base, "/_sim/received").await)
        .expect("received shape")
}

pub async fn stats(base: &str) -> Value {
    ordersync_conformance::sim_get(base, "/_sim/stats").await
}

/// Records persisted secrets (and what the simulator had seen at that moment).
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<String>>,
    pub fail: bool,
}

#[async_trait]
impl SecretsPersister for Recorder {
    async fn persist(&self, name: &str, value: &SecretString) -> Result<(), ConnectorError> {
        self.events
            .lock()
            .unwrap()
            .push(format!("persist {name} {}", value.expose_secret()));
        if self.fail {
            return Err(ConnectorError::retriable("secret store unavailable"));
        }
        Ok(())
    }
}

/// Raw HTTP against the simulator: a token from the demo refresh token, then calls.
pub struct Raw {
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
    pub refresh: String,
}

impl Raw {
    pub async fn new(base: &str) -> Raw {
        let http = reqwest::Client::new();
        let r: Value = http
            .post(format!("{base}/connect/token"))
            .basic_auth("id", Some("secret"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", DEMO_REFRESH_TOKEN),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Raw {
            base: base.to_string(),
            http,
            token: r["access_token"].as_str().unwrap().to_string(),
            refresh: r["refresh_token"].as_str().unwrap().to_string(),
        }
    }

    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/api.xro/2.0{path}", self.base))
            .bearer_auth(&self.token)
            .header("xero-tenant-id", DEMO_TENANT)
            .header("Accept", "application/json")
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut r = self.req(method, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    /// A contact, created.
    pub async fn contact(&self, name: &str) -> String {
        let (st, _, v) = self
            .call(
                reqwest::Method::PUT,
                "/Contacts",
                Some(json!({"Contacts": [{"Name": name}]})),
            )
            .await;
        assert_eq!(st, 200, "{v}");
        v["Contacts"][0]["ContactID"].as_str().unwrap().to_string()
    }
}

/// A minimal valid ACCREC invoice body.
pub fn invoice_json(contact: &str, number: &str) -> Value {
    json!({"Invoices": [{
        "Type": "ACCREC", "Contact": {"ContactID": contact}, "InvoiceNumber": number,
        "Date": "2026-11-02", "DueDate": "2026-11-02", "LineAmountTypes": "Exclusive",
        "CurrencyCode": "GBP", "Status": "AUTHORISED",
        "LineItems": [{"Description": "Widget", "Quantity": 2, "UnitAmount": 10.5,
                       "AccountCode": "200", "TaxType": "OUTPUT2", "TaxAmount": 4.2, "LineAmount": 21}]
    }]})
}
