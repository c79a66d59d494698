//! The shared sink conformance kit against the V1 simulator (`api_version: "v1"`): one test
//! per check, `conformance_v1::<check>`. V1 has no delivery date, so only `updates`.

use crate::build_v1;
use ordersync_conformance::{SinkHarness, SinkInstance};
use ordersync_sdk::ManualClock;
use ordersync_shipstation::sim::{SimOptions, spawn};
use std::sync::Arc;

fn harness_v1() -> SinkHarness {
    SinkHarness {
        descriptor: ordersync_shipstation::DESCRIPTOR,
        make: Box::new(|| {
            Box::pin(async {
                let clock = Arc::new(ManualClock::new());
                let opts = SimOptions {
                    v1_credentials: Some(vec![("good-key".into(), "good-secret".into())]),
                    // The kit sends more than 40 requests; the window is checked in `v1`.
                    v1_requests_per_minute: 100_000,
                    ..SimOptions::default()
                };
                let sim = spawn(opts, clock.clone()).await.expect("sim binds");
                let sink = build_v1(&sim.base_url, "good-key", "good-secret", 100_000, &clock);
                let bad_auth = build_v1(&sim.base_url, "good-key", "revoked", 100_000, &clock);
                SinkInstance {
                    sim,
                    clock,
                    sink,
                    bad_auth,
                }
            })
        }),
    }
}

ordersync_conformance::sink_tests!(harness_v1, updates);
