//! The shared sink conformance kit against the Sage simulator: one test per check.

use crate::build;
use ordersync_conformance::{SinkHarness, SinkInstance};
use ordersync_sage::sim::{SimOptions, spawn};
use ordersync_sdk::ManualClock;
use std::sync::Arc;

fn harness() -> SinkHarness {
    SinkHarness {
        descriptor: ordersync_sage::DESCRIPTOR,
        make: Box::new(|| {
            Box::pin(async {
                let clock = Arc::new(ManualClock::new());
                let opts = SimOptions {
                    refresh_tokens: Some(vec!["good-refresh".into()]),
                    // The real window (200 calls / 60 s) would need the clock to move; the
                    // limit itself is checked in `sim::rate_limit_per_business`.
                    ..SimOptions::relaxed()
                };
                let sim = spawn(opts, clock.clone()).await.expect("sim binds");
                let sink = build(&sim.base_url, "good-refresh", &clock);
                let bad_auth = build(&sim.base_url, "revoked-refresh", &clock);
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
