//! Integration tests of the WooCommerce connector and its simulator.

mod auth;
mod conformance;
mod errors;
mod mapping;
mod pull;
mod schema;
mod traps;
mod webhooks;

use ordersync_sdk::http::HttpClient;
use ordersync_sdk::sim::SimServer;
use ordersync_sdk::{Clock, ConnectorDeps, ManualClock, OffsetDateTime, Secrets, Source};
use ordersync_woocommerce::sim::{SimOptions, spawn};
use serde_json::{Value, json};
use std::sync::Arc;

pub const CK: &str = "ck_test";
pub const CS: &str = "cs_test";
pub const WEBHOOK_SECRET: &str = "woo-secret";

pub struct Env {
    pub sim: SimServer,
    pub clock: Arc<ManualClock>,
}

pub async fn env(opts: SimOptions) -> Env {
    let clock = Arc::new(ManualClock::new());
    let sim = spawn(opts, clock.clone()).await.expect("sim binds");
    Env { sim, clock }
}

impl Env {
    pub fn deps(&self) -> ConnectorDeps {
        ConnectorDeps {
            http: HttpClient::for_simulators(),
            clock: self.clock.clone(),
            secrets: Arc::new(ordersync_sdk::DiscardSecrets),
            ..ConnectorDeps::for_simulators()
        }
    }

    pub fn config(&self, extra: Value) -> Value {
        let mut c = json!({ "store_url": self.sim.base_url });
        if let (Some(c), Some(x)) = (c.as_object_mut(), extra.as_object()) {
            c.extend(x.clone());
        }
        c
    }

    /// A source with `extra` config fields and these keys.
    pub fn source_with(&self, extra: Value, ck: &str, cs: &str) -> Arc<dyn Source> {
        let mut secrets = Secrets::new();
        secrets.insert("consumer_key".into(), ck.to_string().into());
        secrets.insert("consumer_secret".into(), cs.to_string().into());
        secrets.insert("webhook_secret".into(), WEBHOOK_SECRET.to_string().into());
        ordersync_woocommerce::build_source(&self.config(extra), &secrets, &self.deps())
            .expect("builds")
    }

    pub fn source(&self) -> Arc<dyn Source> {
        self.source_with(json!({}), CK, CS)
    }

    pub fn until(&self) -> OffsetDateTime {
        self.clock.now() - time::Duration::seconds(30)
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        reqwest::Client::new()
            .post(format!("{}{path}", self.sim.base_url))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or(Value::Null)
    }

    /// A raw API request with the test keys (Basic auth).
    pub async fn api(&self, path_and_query: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(format!(
                "{}/wp-json/wc/v3{path_and_query}",
                self.sim.base_url
            ))
            .basic_auth(CK, Some(CS))
            .send()
            .await
            .unwrap()
    }

    pub async fn seed(&self, count: u64, seed: u64) {
        self.post("/_sim/seed", json!({ "count": count, "seed": seed }))
            .await;
    }

    /// One order of a named case; returns its id.
    pub async fn case(&self, name: &str) -> String {
        let v = self.post("/_sim/case", json!({ "name": name })).await;
        v["id"].as_u64().expect("case id").to_string()
    }
}

pub use ordersync_conformance::source::read_all;
