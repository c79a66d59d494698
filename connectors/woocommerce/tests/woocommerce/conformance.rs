//! The shared source conformance kit against the WooCommerce simulator (its real defaults):
//! one test per check, `conformance::<check>`.

use crate::{CK, WEBHOOK_SECRET, env};
use ordersync_conformance::{SourceHarness, SourceInstance, WebhookHarness};
use ordersync_woocommerce::sim::SimOptions;
use reqwest::header::HeaderMap;

fn sign(secret: &[u8], body: &[u8]) -> HeaderMap {
    let secret = String::from_utf8_lossy(secret);
    ordersync_woocommerce::sim::webhook::headers(&secret, "order.updated", body)
}

/// An `order.updated` body: the order as `GET /orders/{id}` writes it (trimmed).
fn body_for(external_id: &str) -> Vec<u8> {
    format!(
        r#"{{"id":{external_id},"status":"processing","date_modified_gmt":"2026-12-01T10:00:00","billing":{{"email":"canary@customer.test"}}}}"#
    )
    .into_bytes()
}

fn harness() -> SourceHarness {
    SourceHarness {
        descriptor: ordersync_woocommerce::DESCRIPTOR,
        make: Box::new(|| {
            Box::pin(async {
                let e = env(SimOptions::default()).await;
                let source = e.source();
                // A key the store knows with the wrong secret.
                let bad_auth = e.source_with(serde_json::json!({}), CK, "cs_wrong");
                SourceInstance {
                    sim: e.sim,
                    clock: e.clock,
                    source,
                    bad_auth,
                    refreshing: None,
                }
            })
        }),
        // Numeric like WooCommerce's ids, below the simulator's first (1001).
        absent_id: "999",
        serve_unmappable: ordersync_conformance::sim_poison_unmappable,
        webhook: Some(WebhookHarness {
            secret: WEBHOOK_SECRET,
            sign,
            body_for,
        }),
    }
}

ordersync_conformance::source_tests!(harness, webhooks);
