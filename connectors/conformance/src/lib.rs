//! The conformance kit: one behaviour suite every [`Source`] and every [`Sink`] runs against
//! its simulator (like object_store's `integration.rs`). Each check gets a fresh simulator
//! from the connector's harness, drives it only through the real HTTP API and the common
//! `/_sim/` control routes (ARCHITECTURE §10), and panics with a clear message on failure.
//!
//! A connector's test calls [`source_suite`] or [`sink_suite`] with a harness; checks that
//! depend on an optional capability are skipped when the harness says it lacks it.

mod sample;
mod sink;
mod source;

pub use sample::sample_order;
pub use sink::{SinkHarness, SinkInstance, sink_suite};
pub use source::{SourceHarness, SourceInstance, source_suite};

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
