//! Integration tests of the Shopify connector and its simulator.

mod auth;
mod bulk;
mod conformance;
mod cost;
mod events;
mod lines;
mod mapping;
mod pull;
mod rest;
mod tracking;
mod webhooks;

use ordersync_sdk::http::HttpClient;
use ordersync_sdk::sim::SimServer;
use ordersync_sdk::{
    Clock, ConnectorDeps, ManualClock, OffsetDateTime, Secrets, SecretsPersister, Source,
};
use ordersync_shopify::sim::{SimOptions, spawn};
use serde_json::{Value, json};
use std::sync::Arc;

pub const TOKEN: &str = "shpat_test_token";

pub struct Env {
    pub sim: SimServer,
    pub clock: Arc<ManualClock>,
}

/// Real limits except a restore rate high enough that reading hundreds of orders at the
/// model's cost (~141 points each) does not wait minutes; for tests not about throttling.
pub fn fast() -> SimOptions {
    SimOptions {
        restore_rate: 1_000_000.0,
        ..SimOptions::default()
    }
}

pub async fn env(opts: SimOptions) -> Env {
    let clock = Arc::new(ManualClock::new());
    let sim = spawn(opts, clock.clone()).await.expect("sim binds");
    Env { sim, clock }
}

impl Env {
    pub fn deps(&self, secrets: Arc<dyn SecretsPersister>) -> ConnectorDeps {
        ConnectorDeps {
            http: HttpClient::for_simulators(),
            clock: self.clock.clone(),
            secrets,
            ..ConnectorDeps::for_simulators()
        }
    }

    pub fn config(&self, page_size: u32) -> Value {
        json!({ "shop_domain": "test-shop.myshopify.com", "api_base_url": self.sim.base_url, "page_size": page_size })
    }

    pub fn source(&self, page_size: u32, token: &str) -> Arc<dyn Source> {
        self.source_with(json!({ "page_size": page_size }), token)
    }

    /// A source whose config is the default one with `extra`'s fields set.
    pub fn source_with(&self, extra: Value, token: &str) -> Arc<dyn Source> {
        let mut config = self.config(250);
        if let (Some(c), Some(x)) = (config.as_object_mut(), extra.as_object()) {
            c.extend(x.clone());
        }
        let mut secrets = Secrets::new();
        secrets.insert("access_token".into(), token.to_string().into());
        secrets.insert(
            "webhook_secret".into(),
            "test-client-secret".to_string().into(),
        );
        ordersync_shopify::build_source(
            &config,
            &secrets,
            &self.deps(Arc::new(ordersync_sdk::DiscardSecrets)),
        )
        .expect("builds")
    }

    pub fn until(&self) -> OffsetDateTime {
        self.clock.now() - time::Duration::seconds(60)
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

    pub async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(format!("{}{path}", self.sim.base_url))
            .header("X-Shopify-Access-Token", TOKEN)
            .send()
            .await
            .unwrap()
    }

    pub async fn stats(&self) -> Value {
        self.get("/_sim/stats").await.json().await.unwrap()
    }

    /// The sim's bulk operations (`/_sim/bulk`).
    pub async fn bulk_ops(&self) -> Vec<Value> {
        let v: Value = self.get("/_sim/bulk").await.json().await.unwrap();
        v["operations"].as_array().cloned().unwrap_or_default()
    }

    /// A raw GraphQL request as another client of the shop would send it.
    pub async fn gql(&self, version: &str, query: &str, vars: Value) -> Value {
        reqwest::Client::new()
            .post(format!(
                "{}/admin/api/{version}/graphql.json",
                self.sim.base_url
            ))
            .header("X-Shopify-Access-Token", TOKEN)
            .json(&json!({ "query": query, "variables": vars }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// A whole window; every order must map.
pub use ordersync_conformance::source::read_window as read_all;
