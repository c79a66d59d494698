//! The shared source conformance kit against the Shopify simulator (real default limits,
//! except a restore rate that reads the kit's 600-order stores in seconds, not minutes): one
//! test per check, `conformance::<check>`.

use crate::env;
use ordersync_conformance::{SourceHarness, SourceInstance, WebhookHarness};
use ordersync_sdk::Secrets;
use ordersync_sdk::webhooks::sign_base64;
use ordersync_shopify::sim::SimOptions;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::json;
use std::sync::Arc;

/// The `webhook_secret` `Env::source` builds with.
const WEBHOOK_SECRET: &str = "test-client-secret";

fn sign(secret: &[u8], body: &[u8]) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(sig) = HeaderValue::from_str(&sign_base64(secret, body)) {
        h.insert("x-shopify-hmac-sha256", sig);
    }
    h.insert(
        "x-shopify-topic",
        HeaderValue::from_static("orders/updated"),
    );
    h.insert(
        "x-shopify-shop-domain",
        HeaderValue::from_static("test-shop.myshopify.com"),
    );
    h.insert("x-shopify-webhook-id", HeaderValue::from_static("wh-1"));
    h
}

/// An `orders/updated` body: the order's REST representation (id as a bare JSON number).
fn body_for(external_id: &str) -> Vec<u8> {
    format!(r##"{{"id":{external_id},"name":"#1001","email":"canary@customer.test"}}"##)
        .into_bytes()
}

fn harness() -> SourceHarness {
    SourceHarness {
        descriptor: ordersync_shopify::DESCRIPTOR,
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
        // Numeric like every Shopify id, below the simulator's first id.
        absent_id: "999",
        serve_unmappable: ordersync_conformance::sim_poison_unmappable,
        webhook: Some(WebhookHarness {
            secret: WEBHOOK_SECRET,
            sign,
            body_for,
        }),
    }
}

ordersync_conformance::source_tests!(harness, webhooks, refreshing_tokens);
