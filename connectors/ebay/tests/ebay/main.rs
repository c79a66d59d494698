//! Integration tests of the eBay connector and its simulator.

mod auth;
mod conformance;
mod errors;
mod mapping;
mod money;
mod notifications;
mod pii;
mod pull;
mod schema;
mod sim;

use ordersync_ebay::sim::{SimOptions, spawn};
use ordersync_sdk::http::HttpClient;
use ordersync_sdk::sim::SimServer;
use ordersync_sdk::{
    Clock, ConnectorDeps, DiscardSecrets, ManualClock, OffsetDateTime, Secrets, Source,
};
use serde_json::{Value, json};
use std::sync::Arc;

pub const CLIENT_ID: &str = "test-app-id";
pub const CLIENT_SECRET: &str = "test-cert-id";
pub const REFRESH: &str = "v^1.1#i^1#r^1#p^3#I^3#f^0#t^test-refresh";

pub struct Env {
    pub sim: SimServer,
    pub clock: Arc<ManualClock>,
}

/// The simulator with eBay's real limits, accepting only [`REFRESH`] from outside.
pub fn opts() -> SimOptions {
    SimOptions {
        accepted_refresh_tokens: Some(vec![REFRESH.to_string()]),
        ..SimOptions::default()
    }
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
            secrets: Arc::new(DiscardSecrets),
            ..ConnectorDeps::for_simulators()
        }
    }

    pub fn config(&self, page_size: u32) -> Value {
        json!({
            "api_base_url": self.sim.base_url,
            "token_url": format!("{}/identity/v1/oauth2/token", self.sim.base_url),
            "page_size": page_size,
        })
    }

    pub fn source(&self, page_size: u32) -> Arc<dyn Source> {
        self.source_with(page_size, REFRESH)
    }

    pub fn source_with(&self, page_size: u32, refresh_token: &str) -> Arc<dyn Source> {
        let mut secrets = Secrets::new();
        secrets.insert("client_id".into(), CLIENT_ID.to_string().into());
        secrets.insert("client_secret".into(), CLIENT_SECRET.to_string().into());
        secrets.insert("refresh_token".into(), refresh_token.to_string().into());
        ordersync_ebay::build_source(&self.config(page_size), &secrets, &self.deps())
            .expect("builds")
    }

    /// The end of a pull window now (the source's 120 s settle).
    pub fn until(&self) -> OffsetDateTime {
        self.clock.now() - time::Duration::seconds(120)
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", self.sim.base_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "POST {path}: {}", r.status());
        r.json().await.unwrap_or(Value::Null)
    }

    pub async fn seed(&self, count: u64, seed: u64) {
        self.post("/_sim/seed", json!({ "count": count, "seed": seed }))
            .await;
    }

    pub async fn stats(&self) -> Value {
        reqwest::get(format!("{}/_sim/stats", self.sim.base_url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Calls of one API route so far.
    pub async fn calls(&self, route: &str) -> u64 {
        self.stats().await["by_route"][route].as_u64().unwrap_or(0)
    }

    /// A user access token from the simulator's token endpoint.
    pub async fn user_token(&self) -> String {
        let v: Value = reqwest::Client::new()
            .post(format!("{}/identity/v1/oauth2/token", self.sim.base_url))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", REFRESH),
                (
                    "scope",
                    "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly",
                ),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["access_token"].as_str().expect("a token").to_string()
    }

    /// A raw API GET (path and query as given) with a fresh user token.
    pub async fn api(&self, path_and_query: &str) -> reqwest::Response {
        let token = self.user_token().await;
        reqwest::Client::new()
            .get(format!("{}{path_and_query}", self.sim.base_url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }
}

pub use ordersync_conformance::source::read_all;
