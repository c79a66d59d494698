//! The shared source conformance kit against the Amazon simulator: one test per check,
//! `conformance::<check>`.
//!
//! The simulator runs with a relaxed usage plan and the connector is told that plan
//! (`rate_limits`): at the spec's plan (one `searchOrders` call every ~3 minutes) the kit's
//! 600-order stores and 30 % injected 429s would take hours. FBA orders show their buyer's
//! email here (`fbm_only_email: false`): the kit checks that every order's email is captured,
//! and the spec hides it for FBA orders.

use crate::{Env, REFRESH, env, fast_plan};
use ordersync_amazon::sim::SimOptions;
use ordersync_conformance::{SourceHarness, SourceInstance};
use serde_json::json;
use std::sync::Arc;

fn harness() -> SourceHarness {
    SourceHarness {
        descriptor: ordersync_amazon::DESCRIPTOR,
        make: Box::new(|| {
            Box::pin(async {
                let e: Env = env(SimOptions {
                    fbm_only_email: false,
                    ..SimOptions::relaxed()
                })
                .await;
                let plan = json!({ "rate_limits": fast_plan() });
                let source = Arc::new(e.build(plan.clone(), REFRESH));
                // LWA answers invalid_grant for a token it never issued.
                let bad_auth = Arc::new(e.build(plan.clone(), "not-an-lwa-refresh-token"));
                let refreshing = Arc::new(e.build(plan, REFRESH));
                SourceInstance {
                    sim: e.sim,
                    clock: e.clock,
                    source,
                    bad_auth,
                    refreshing: Some(refreshing),
                }
            })
        }),
        // Amazon's 3-7-7 shape, never issued by the simulator.
        absent_id: "999-0000000-0000000",
        serve_unmappable: ordersync_conformance::sim_poison_unmappable,
        webhook: None,
    }
}

ordersync_conformance::source_tests!(harness, refreshing_tokens);
