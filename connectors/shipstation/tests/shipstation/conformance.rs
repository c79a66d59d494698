//! The shared sink conformance kit against the ShipStation simulator: one test per check,
//! `conformance::<check>`.

use crate::build;
use ordersync_conformance::{SinkHarness, SinkInstance};
use ordersync_sdk::ManualClock;
use ordersync_shipstation::sim::{SimOptions, spawn};
use std::sync::Arc;

fn harness() -> SinkHarness {
    SinkHarness {
        descriptor: ordersync_shipstation::DESCRIPTOR,
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
    }
}

ordersync_conformance::sink_tests!(harness, updates, tracks_delivery, delivery_feed);
