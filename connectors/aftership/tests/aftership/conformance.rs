//! The shared sink conformance kit against the AfterShip simulator at the documented
//! per-endpoint limits: one test per check, `conformance::<check>`.

use crate::build;
use ordersync_aftership::sim::{SimOptions, spawn};
use ordersync_conformance::{SinkHarness, SinkInstance};
use ordersync_sdk::ManualClock;
use std::sync::Arc;

fn harness() -> SinkHarness {
    SinkHarness {
        descriptor: ordersync_aftership::DESCRIPTOR,
        make: Box::new(|| {
            Box::pin(async {
                let clock = Arc::new(ManualClock::new());
                let opts = SimOptions {
                    api_keys: Some(vec!["good-key".into()]),
                    ..SimOptions::default()
                };
                let sim = spawn(opts, clock.clone()).await.expect("sim binds");
                let sink = build(&sim.base_url, "good-key", &clock);
                let bad_auth = build(&sim.base_url, "revoked-key", &clock);
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

ordersync_conformance::sink_tests!(harness, updates, tracks_delivery, delivery_feed);
