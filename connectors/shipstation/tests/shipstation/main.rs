//! ShipStation connector tests: pure mapping against the spec's schemas, the simulator's HTTP
//! behaviour, the sink end to end against the simulator, and the shared conformance kit;
//! V1 (`v1`, `conformance_v1`) likewise.

mod conformance;
mod conformance_v1;
mod delivery;
mod feed;
mod mapping;
mod orders;
mod schema;
mod sim;
mod v1;

use ordersync_sdk::sim::SimServer;
use ordersync_sdk::{ConnectorDeps, ManualClock, Secrets, Sink};
use ordersync_shipstation::sim::{SimOptions, spawn};
use serde_json::json;
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

pub fn build(base: &str, key: &str, rpm: u32, clock: &Arc<ManualClock>) -> Arc<dyn Sink> {
    ordersync_shipstation::build_sink(
        &json!({ "api_base_url": base, "requests_per_minute": rpm }),
        &secrets(key),
        &deps(clock),
    )
    .expect("valid config")
}

pub fn secrets_v1(key: &str, secret: &str) -> Secrets {
    let mut s = secrets(key);
    s.insert("api_secret".into(), secret.to_string().into());
    s
}

/// A V1 sink (`api_version: "v1"`) against the simulator.
pub fn build_v1(
    base: &str,
    key: &str,
    secret: &str,
    rpm: u32,
    clock: &Arc<ManualClock>,
) -> Arc<dyn Sink> {
    ordersync_shipstation::build_sink(
        &json!({ "api_version": "v1", "api_base_url": base, "requests_per_minute": rpm }),
        &secrets_v1(key, secret),
        &deps(clock),
    )
    .expect("valid v1 config")
}

pub async fn env_v1(opts: SimOptions) -> Env {
    let clock = Arc::new(ManualClock::new());
    let sim = spawn(opts, clock.clone()).await.expect("sim binds");
    let sink = build_v1(&sim.base_url, "v1-key", "v1-secret", 100_000, &clock);
    Env { sim, clock, sink }
}

pub async fn env_with(opts: SimOptions) -> Env {
    let clock = Arc::new(ManualClock::new());
    let sim = spawn(opts, clock.clone()).await.expect("sim binds");
    let sink = build(&sim.base_url, "test-key", 100_000, &clock);
    Env { sim, clock, sink }
}

pub async fn env() -> Env {
    env_with(SimOptions::relaxed()).await
}

/// A 32-hex object key like the engine's.
pub fn key(prefix: &str, i: u64) -> String {
    format!("{:0>32}", format!("{prefix}{i:x}"))
}

pub async fn received(base: &str) -> serde_json::Value {
    ordersync_conformance::sim_get(base, "/_sim/received").await
}
