//! The shared source conformance kit against the eBay simulator with eBay's real limits:
//! one test per check, `conformance::<check>`. eBay has no order webhooks; its user tokens
//! expire and are refreshed.

use crate::{REFRESH, env, opts};
use ordersync_conformance::{SourceHarness, SourceInstance};

fn harness() -> SourceHarness {
    SourceHarness {
        descriptor: ordersync_ebay::DESCRIPTOR,
        make: Box::new(|| {
            Box::pin(async {
                let e = env(opts()).await;
                let source = e.source(200);
                // A refresh token eBay never issued (or revoked): invalid_grant.
                let bad_auth = e.source_with(200, "v^1.1#i^1#r^1#p^3#I^3#f^0#t^revoked");
                let refreshing = e.source_with(200, REFRESH);
                SourceInstance {
                    sim: e.sim,
                    clock: e.clock,
                    source,
                    bad_auth,
                    refreshing: Some(refreshing),
                }
            })
        }),
        // eBay's id form, below the simulator's first id (27-00000-00000).
        absent_id: "09-99999-99999",
        serve_unmappable: ordersync_conformance::sim_poison_unmappable,
        webhook: None,
    }
}

ordersync_conformance::source_tests!(harness, refreshing_tokens);
