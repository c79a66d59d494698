//! AfterShip connector tests: pure mapping and delivery-time rules against the fixtures, the
//! simulator's HTTP behaviour and response shapes, the sink end to end against the simulator,
//! and the shared conformance kit.

mod conformance;
mod delivery_time;
mod mapping;
mod shapes;
mod sim;
mod sink;

use ordersync_aftership::sim::{SimOptions, spawn};
use ordersync_sdk::sim::{Received, SimServer};
use ordersync_sdk::{ConnectorDeps, ManualClock, Secrets, Sink};
use serde_json::{Value, json};
use std::sync::Arc;

pub struct Env {
    pub sim: SimServer,
    pub clock: Arc<ManualClock>,
    pub sink: Arc<dyn Sink>,
}

pub fn secrets(key: &str) -> Secrets {
    let mut s = Secrets::new();
    s.insert("api_key".into(), key.to_string().into());
    s
}

pub fn deps(clock: &Arc<ManualClock>) -> ConnectorDeps {
    ConnectorDeps {
        clock: clock.clone(),
        ..ConnectorDeps::for_simulators()
    }
}

/// A sink at the documented per-endpoint rates (or `extra` config merged over them).
pub fn build_with(base: &str, key: &str, extra: Value, clock: &Arc<ManualClock>) -> Arc<dyn Sink> {
    let mut cfg = json!({ "api_base_url": base });
    if let (Some(c), Some(e)) = (cfg.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    ordersync_aftership::build_sink(&cfg, &secrets(key), &deps(clock)).expect("valid config")
}

pub fn build(base: &str, key: &str, clock: &Arc<ManualClock>) -> Arc<dyn Sink> {
    build_with(base, key, json!({}), clock)
}

pub async fn env_with(opts: SimOptions, extra: Value) -> Env {
    let clock = Arc::new(ManualClock::new());
    let sim = spawn(opts, clock.clone()).await.expect("sim binds");
    let sink = build_with(&sim.base_url, "test-key", extra, &clock);
    Env { sim, clock, sink }
}

pub async fn env() -> Env {
    env_with(
        SimOptions::relaxed(),
        json!({ "create_per_second": 1000, "list_per_second": 1000, "by_id_per_second": 1000 }),
    )
    .await
}

/// A 32-hex object key like the engine's.
pub fn key(prefix: &str, i: u64) -> String {
    format!("{:0>32}", format!("{prefix}{i:x}"))
}

pub async fn received(base: &str) -> Received {
    serde_json::from_value(ordersync_conformance::sim_get(base, "/_sim/received").await)
        .expect("Received shape")
}

pub fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("fixture JSON")
}
