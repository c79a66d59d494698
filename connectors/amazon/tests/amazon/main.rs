//! Integration tests of the Amazon connector and its simulator.

mod conformance;
mod mapping;
mod orders;
mod schema;
mod traps;

use ordersync_amazon::AmazonSource;
use ordersync_amazon::sim::{SimOptions, spawn};
use ordersync_sdk::http::HttpClient;
use ordersync_sdk::sim::SimServer;
use ordersync_sdk::{
    Clock, ConnectorDeps, DiscardSecrets, ManualClock, OffsetDateTime, Secrets, SecretsPersister,
    Source,
};
use serde_json::{Value, json};
use std::sync::Arc;

pub const REFRESH: &str = "Atzr|test-refresh-token";

pub struct Env {
    pub sim: SimServer,
    pub clock: Arc<ManualClock>,
}

/// A usage plan high enough that tests not about throttling never wait.
pub fn fast_plan() -> Value {
    json!({
        "search_orders": { "rate": 100000.0, "burst": 100000 },
        "get_order": { "rate": 100000.0, "burst": 100000 },
    })
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

    pub fn config(&self) -> Value {
        json!({
            "api_base_url": self.sim.base_url,
            "lwa_token_url": format!("{}/auth/o2/token", self.sim.base_url),
            "marketplace_ids": ordersync_amazon::DEMO_MARKETPLACES,
        })
    }

    pub fn secrets(refresh: &str) -> Secrets {
        let mut s = Secrets::new();
        s.insert(
            "lwa_client_id".into(),
            "amzn1.application-oa2-client.test".to_string().into(),
        );
        s.insert(
            "lwa_client_secret".into(),
            "amzn1.oa2-cs.v1.test".to_string().into(),
        );
        s.insert("refresh_token".into(), refresh.to_string().into());
        s
    }

    /// A source whose config is the default one with `extra`'s fields set.
    pub fn build(&self, extra: Value, refresh: &str) -> AmazonSource {
        let mut config = self.config();
        if let (Some(c), Some(x)) = (config.as_object_mut(), extra.as_object()) {
            c.extend(x.clone());
        }
        ordersync_amazon::build(
            &config,
            &Self::secrets(refresh),
            &self.deps(Arc::new(DiscardSecrets)),
        )
        .expect("builds")
    }

    /// The default config with the fast plan.
    pub fn source(&self) -> Arc<dyn Source> {
        Arc::new(self.build(json!({ "rate_limits": fast_plan() }), REFRESH))
    }

    pub fn until(&self) -> OffsetDateTime {
        self.clock.now() - ordersync_amazon::SETTLE
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

    pub async fn get(&self, path: &str) -> Value {
        reqwest::get(format!("{}{path}", self.sim.base_url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A named money case; its Amazon order id.
    pub async fn case(&self, name: &str) -> String {
        let v = self.post("/_sim/case", json!({ "case": name })).await;
        v["external_id"].as_str().expect("case id").to_string()
    }

    /// An LWA access token, as any client of the seller gets one.
    pub async fn access_token(&self) -> String {
        let v: Value = reqwest::Client::new()
            .post(format!("{}/auth/o2/token", self.sim.base_url))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", REFRESH),
                ("client_id", "cid"),
                ("client_secret", "cs"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["access_token"].as_str().unwrap().to_string()
    }

    /// A raw API request with a valid token.
    pub async fn api(&self, path_and_query: &str) -> reqwest::Response {
        let token = self.access_token().await;
        reqwest::Client::new()
            .get(format!("{}{path_and_query}", self.sim.base_url))
            .header("x-amz-access-token", token)
            .send()
            .await
            .unwrap()
    }
}

/// A whole window; every order must map.
pub use ordersync_conformance::source::read_window as read_all;
