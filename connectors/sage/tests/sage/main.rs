//! Sage connector tests: pure mapping and tax rules, the golden accounting cases, the
//! simulator's HTTP behaviour (validated against Sage's swagger), the sink end to end, token
//! rotation, and the shared conformance kit.

mod conformance;
mod demo_orders;
mod golden;
mod mapping;
mod sim;
mod sink;
mod tokens;

use async_trait::async_trait;
use ordersync_sage::sim::{SimOptions, spawn};
use ordersync_sdk::sim::SimServer;
use ordersync_sdk::{ConnectorDeps, ConnectorError, ManualClock, Secrets, SecretsPersister, Sink};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// Keeps every persisted secret, in order.
#[derive(Default)]
pub struct Keep(pub Mutex<Vec<(String, String)>>);

#[async_trait]
impl SecretsPersister for Keep {
    async fn persist(&self, name: &str, value: &SecretString) -> Result<(), ConnectorError> {
        self.0
            .lock()
            .unwrap()
            .push((name.to_string(), value.expose_secret().to_string()));
        Ok(())
    }
}

pub fn secrets(refresh: &str) -> Secrets {
    let mut s = Secrets::new();
    s.insert("client_id".into(), "cid".to_string().into());
    s.insert("client_secret".into(), "csecret".to_string().into());
    s.insert("refresh_token".into(), refresh.to_string().into());
    s
}

pub fn config(base: &str, extra: Value) -> Value {
    let mut c = json!({
        "business_id": "lead",
        "api_base_url": base,
        "token_url": format!("{base}/token"),
        "requests_per_minute": 1_000_000,
        "ledger_accounts": {
            "gift_cards": {"nominal_code": 2110},
            "marketplace_tax": {"nominal_code": 2201}
        }
    });
    if let (Some(m), Value::Object(e)) = (c.as_object_mut(), extra) {
        m.extend(e);
    }
    c
}

pub fn build_with(
    base: &str,
    refresh: &str,
    clock: &Arc<ManualClock>,
    keep: Arc<Keep>,
    extra: Value,
) -> Arc<dyn Sink> {
    let deps = ConnectorDeps {
        clock: clock.clone(),
        secrets: keep,
        ..ConnectorDeps::for_simulators()
    };
    ordersync_sage::build_sink(&config(base, extra), &secrets(refresh), &deps)
        .expect("valid config")
}

pub fn build(base: &str, refresh: &str, clock: &Arc<ManualClock>) -> Arc<dyn Sink> {
    build_with(base, refresh, clock, Arc::new(Keep::default()), json!({}))
}

pub struct Env {
    pub sim: SimServer,
    pub clock: Arc<ManualClock>,
    pub sink: Arc<dyn Sink>,
    pub keep: Arc<Keep>,
}

pub async fn env_with(opts: SimOptions) -> Env {
    let clock = Arc::new(ManualClock::new());
    let sim = spawn(opts, clock.clone()).await.expect("sim binds");
    let keep = Arc::new(Keep::default());
    let sink = build_with(&sim.base_url, "rt-initial", &clock, keep.clone(), json!({}));
    Env {
        sim,
        clock,
        sink,
        keep,
    }
}

pub async fn env() -> Env {
    env_with(SimOptions::relaxed()).await
}

/// A 32-hex key like the engine's.
pub fn key(prefix: &str, i: u64) -> String {
    format!("{:0>32}", format!("{prefix}{i:x}"))
}

pub async fn received(base: &str) -> ordersync_sdk::sim::Received {
    serde_json::from_value(ordersync_conformance::sim_get(base, "/_sim/received").await)
        .expect("received shape")
}
