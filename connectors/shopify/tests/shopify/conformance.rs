//! The shared source conformance kit against the Shopify simulator (real default limits,
//! except a restore rate that reads the kit's 600-order stores in seconds, not minutes).

use crate::env;
use ordersync_conformance::{SourceHarness, SourceInstance, source_suite};
use ordersync_sdk::Secrets;
use ordersync_shopify::sim::SimOptions;
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shopify_passes_the_source_suite() {
    let h = SourceHarness {
        name: "shopify",
        make: Box::new(|| {
            Box::pin(async {
                let opts = SimOptions {
                    accepted_static_tokens: Some(vec![crate::TOKEN.to_string()]),
                    ..crate::fast()
                };
                let e = env(opts).await;
                let source = e.source(250, crate::TOKEN);
                let bad_auth = e.source(250, "shpat_revoked");
                // An installed app: exchange a code for an expiring token + rotating refresh token.
                let grant = e
                    .post(
                        "/admin/oauth/access_token",
                        json!({ "client_id": "cid", "client_secret": "cs", "code": "install" }),
                    )
                    .await;
                let mut secrets = Secrets::new();
                secrets.insert("client_id".into(), "cid".to_string().into());
                secrets.insert("client_secret".into(), "cs".to_string().into());
                secrets.insert(
                    "refresh_token".into(),
                    grant["refresh_token"]
                        .as_str()
                        .expect("refresh token")
                        .to_string()
                        .into(),
                );
                let refreshing = ordersync_shopify::build_source(
                    &e.config(250),
                    &secrets,
                    &e.deps(Arc::new(ordersync_sdk::DiscardSecrets)),
                )
                .expect("builds");
                SourceInstance {
                    sim: e.sim,
                    clock: e.clock,
                    source,
                    bad_auth,
                    refreshing: Some(refreshing),
                }
            })
        }),
    };
    source_suite(&h).await;
}
