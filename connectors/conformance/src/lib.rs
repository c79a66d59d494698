//! The conformance kit: one behaviour suite every [`Source`](ordersync_sdk::Source) and every
//! [`Sink`](ordersync_sdk::Sink) runs against its simulator (like object_store's
//! `integration.rs`). Each check is a public async fn in [`source`] or [`sink`]; it gets a
//! fresh simulator from the connector's harness, drives it only through the real HTTP API and
//! the common `/_sim/` control routes (ARCHITECTURE §10), and panics with a clear message.
//!
//! [`source_tests!`] and [`sink_tests!`] expand to one `#[tokio::test]` per check, named after
//! it, so `cargo test` prints `conformance::pagination_to_the_end ... ok` and one failure hides
//! nothing else. Checks behind an optional capability are generated only when the capability
//! is listed; `declared_capabilities_match` (always generated) fails if the list and the
//! connector disagree, so a capability cannot be skipped by forgetting it.
//!
//! # Wiring a new source
//!
//! In the connector's one test binary (`tests/<name>/main.rs` declares `mod conformance;`;
//! the crate has `tokio` and `ordersync-conformance` as dev-dependencies), `conformance.rs`:
//!
//! ```ignore
//! use ordersync_conformance::{SourceHarness, SourceInstance, WebhookHarness};
//!
//! fn harness() -> SourceHarness {
//!     SourceHarness {
//!         descriptor: ordersync_mine::DESCRIPTOR,
//!         // Fresh simulator + connectors for every check.
//!         make: Box::new(|| Box::pin(async {
//!             let clock = std::sync::Arc::new(ordersync_sdk::ManualClock::new());
//!             let sim = ordersync_mine::sim::spawn(Default::default(), clock.clone()).await.unwrap();
//!             SourceInstance {
//!                 source: build(&sim.base_url, "good-token", &clock), // webhook secret "whsec"
//!                 bad_auth: build(&sim.base_url, "revoked", &clock),
//!                 refreshing: None, // Some(..) with an OAuth refresh token, if the platform has them
//!                 sim,
//!                 clock,
//!             }
//!         })),
//!         // Well-formed for the platform, never issued by the simulator.
//!         absent_id: "999",
//!         // The simulator serves `POST /_sim/poison {"kind": "unmappable", "count": 1}`.
//!         serve_unmappable: ordersync_conformance::sim_poison_unmappable,
//!         webhook: Some(WebhookHarness {
//!             secret: "whsec",
//!             sign: |secret, body| { /* the headers a genuine delivery carries */ },
//!             body_for: |id| format!(r#"{{"id":{id}}}"#).into_bytes(),
//!         }),
//!     }
//! }
//!
//! // Optional capabilities: `webhooks`, `refreshing_tokens`.
//! ordersync_conformance::source_tests!(harness, webhooks);
//! ```
//!
//! A sink is the same with [`SinkHarness`] / [`SinkInstance`] and
//! `ordersync_conformance::sink_tests!(harness, updates, tracks_delivery);`.
//!
//! The simulator must serve, for sources: `POST /_sim/seed {"count", "seed"}` (buyers from
//! `ordersync_sdk::sim::fake_buyer`), `/_sim/update {"count"}` → `{"updated": n}`,
//! `/_sim/faults`, `/_sim/poison {"kind": "unmappable", "count"}` → `{"external_ids"}`,
//! `/_sim/expire_tokens` → `{"expired": n}` (refreshing tokens), `GET /_sim/stats`
//! (`throttled`, `faults_injected`); for sinks: `/_sim/faults`, `/_sim/stats` and
//! `GET /_sim/received` (`count` or `objects`).

mod macros;
pub mod openapi;
mod sample;
pub mod sink;
pub mod snapshot;
pub mod source;

pub use sample::sample_order;
pub use sink::{SinkHarness, SinkInstance};
pub use source::{SourceHarness, SourceInstance, WebhookHarness, sim_poison_unmappable};

use serde_json::Value;

/// Seeded buyer PII is recognisable: emails end in `@customer.test`, names start with `Canary`.
pub fn assert_no_canary(what: &str, text: &str) {
    assert!(
        !text.contains("@customer.test") && !text.contains("Canary"),
        "{what} leaks seeded PII: {text}"
    );
}

/// POSTs a control request to a simulator and returns its JSON answer.
pub async fn sim_post(base: &str, path: &str, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    assert!(
        r.status().is_success(),
        "POST {path} answered {}",
        r.status()
    );
    r.json().await.unwrap_or(Value::Null)
}

pub async fn sim_get(base: &str, path: &str) -> Value {
    let r = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert!(
        r.status().is_success(),
        "GET {path} answered {}",
        r.status()
    );
    r.json()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: not JSON: {e}"))
}
