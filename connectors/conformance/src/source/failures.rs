//! Failures: throttling and server errors absorbed, unreadable bodies and rejected
//! credentials classified, expired tokens refreshed.

use super::{SourceHarness, read_window, seed, window_end};
use crate::{assert_no_canary, sim_get, sim_post};
use ordersync_sdk::{ErrorClass, PullCursor};
use serde_json::json;

/// Reads a window of `count` orders while the simulator injects `kind` faults into 30 % of
/// requests; returns the simulator's stats afterwards.
async fn read_through_faults(h: &SourceHarness, kind: &str, count: usize) -> serde_json::Value {
    let name = h.name();
    let i = (h.make)().await;
    seed(&i, count as u64, 4).await;
    sim_post(
        &i.sim.base_url,
        "/_sim/faults",
        json!({ "rate": 0.3, "kinds": [kind] }),
    )
    .await;
    let (orders, _) = read_window(&*i.source, None, window_end(&*i.source, &i.clock)).await;
    let mut ids: Vec<_> = orders.iter().map(|o| o.external_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        count,
        "{name}: {kind} faults are retried within budget"
    );
    sim_get(&i.sim.base_url, "/_sim/stats").await
}

pub async fn rate_limits_are_absorbed(h: &SourceHarness) {
    let stats = read_through_faults(h, "429", 300).await;
    assert!(
        stats["throttled"].as_u64().unwrap_or(0) > 0,
        "{}: the simulator did throttle",
        h.name()
    );
}

pub async fn server_errors_are_retried(h: &SourceHarness) {
    let stats = read_through_faults(h, "500", 300).await;
    assert!(
        stats["faults_injected"].as_u64().unwrap_or(0) > 0,
        "{}: the simulator did fail requests",
        h.name()
    );
}

/// A truncated body cannot be a page: `Permanent`, with no PII in the message.
pub async fn malformed_bodies_are_permanent_errors(h: &SourceHarness) {
    let name = h.name();
    let i = (h.make)().await;
    seed(&i, 10, 5).await;
    sim_post(
        &i.sim.base_url,
        "/_sim/faults",
        json!({ "rate": 1.0, "kinds": ["malformed"] }),
    )
    .await;
    let err = i
        .source
        .pull(&PullCursor {
            since: None,
            until: window_end(&*i.source, &i.clock),
            page_token: None,
        })
        .await
        .expect_err("a truncated body cannot be a page");
    assert_eq!(
        err.class(),
        ErrorClass::Permanent,
        "{name}: malformed body → Permanent"
    );
    assert_no_canary(&format!("{name}: error message"), &err.to_string());
}

pub async fn bad_credentials_are_auth_errors(h: &SourceHarness) {
    let name = h.name();
    let i = (h.make)().await;
    seed(&i, 5, 9).await;
    let err = i
        .bad_auth
        .pull(&PullCursor {
            since: None,
            until: window_end(&*i.source, &i.clock),
            page_token: None,
        })
        .await
        .expect_err("rejected credentials");
    assert_eq!(
        err.class(),
        ErrorClass::Auth,
        "{name}: rejected credentials → Auth"
    );
    assert_no_canary(&format!("{name}: error message"), &err.to_string());
}

/// Capability `refreshing_tokens`: the platform revokes every access token and the connector
/// refreshes and goes on, without surfacing the expiry.
pub async fn expired_tokens_are_refreshed(h: &SourceHarness) {
    let name = h.name();
    let i = (h.make)().await;
    let src = i
        .refreshing
        .clone()
        .unwrap_or_else(|| panic!("{name}: refreshing_tokens needs SourceInstance.refreshing"));
    seed(&i, 5, 6).await;
    let until = window_end(&*src, &i.clock);
    let (first, _) = read_window(&*src, None, until).await;
    assert_eq!(first.len(), 5, "{name}: pull with a refreshed token");
    let expired = sim_post(&i.sim.base_url, "/_sim/expire_tokens", json!({})).await;
    assert!(
        expired["expired"].as_u64().unwrap_or(0) > 0,
        "{name}: the simulator expired the token in use"
    );
    let (again, _) = read_window(&*src, None, until).await;
    assert_eq!(
        again.len(),
        5,
        "{name}: an expired token is refreshed, not surfaced"
    );
}
