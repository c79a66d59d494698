//! The shared sink conformance kit against the Xero simulator: one test per check.

use crate::build;
use ordersync_conformance::{SinkHarness, SinkInstance};
use ordersync_sdk::ManualClock;
use ordersync_xero::sim::{DEMO_REFRESH_TOKEN, SimOptions, spawn};
use std::sync::Arc;

fn harness() -> SinkHarness {
    SinkHarness {
        descriptor: ordersync_xero::DESCRIPTOR,
        make: Box::new(|| {
            Box::pin(async {
                let clock = Arc::new(ManualClock::new());
                let sim = spawn(SimOptions::relaxed(), clock.clone())
                    .await
                    .expect("sim binds");
                let sink = build(&sim.base_url, DEMO_REFRESH_TOKEN, &clock);
                // A refresh token the identity server never issued: invalid_grant.
                let bad_auth = build(&sim.base_url, "revoked-refresh-token", &clock);
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

ordersync_conformance::sink_tests!(harness, updates);
