//! The shared source conformance kit against the Shopify simulator (real default limits).

use crate::env;
use ordersync_conformance::{SourceHarness, SourceInstance, source_suite};
use ordersync_shopify::sim::SimOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shopify_passes_the_source_suite() {
    let h = SourceHarness {
        name: "shopify",
        make: Box::new(|| {
            Box::pin(async {
                let opts = SimOptions {
                    accepted_static_tokens: Some(vec![crate::TOKEN.to_string()]),
                    ..SimOptions::default()
                };
                let e = env(opts).await;
                let source = e.source(250, crate::TOKEN);
                let bad_auth = e.source(250, "shpat_revoked");
                SourceInstance {
                    sim: e.sim,
                    clock: e.clock,
                    source,
                    bad_auth,
                }
            })
        }),
    };
    source_suite(&h).await;
}
