//! The shared sink conformance kit against the ShipStation simulator.

use crate::build;
use ordersync_conformance::{SinkHarness, SinkInstance, sink_suite};
use ordersync_sdk::ManualClock;
use ordersync_shipstation::sim::{SimOptions, spawn};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipstation_passes_the_sink_suite() {
    let h = SinkHarness {
        name: "shipstation",
        make: Box::new(|| {
            Box::pin(async {
                let clock = Arc::new(ManualClock::new());
                let opts = SimOptions {
                    api_keys: Some(vec!["good-key".into()]),
                    ..SimOptions::default()
                };
                let sim = spawn(opts, clock.clone()).await.expect("sim binds");
                let sink = build(&sim.base_url, "good-key", 200, &clock);
                let bad_auth = build(&sim.base_url, "revoked-key", 200, &clock);
                SinkInstance {
                    sim,
                    clock,
                    sink,
                    bad_auth,
                }
            })
        }),
    };
    sink_suite(&h).await;
}
