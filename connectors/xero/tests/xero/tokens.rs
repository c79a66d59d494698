//! OAuth: the rotated refresh token is persisted before the new access token is used, a
//! failed persist means the token is never used, expiry mid-run refreshes once, concurrent
//! deliveries refresh once, a refused refresh token is Auth.

use crate::{Recorder, build_with, key, stats};
use ordersync_conformance::sample_order;
use ordersync_sdk::{DeliveryRequest, ErrorClass, ManualClock};
use ordersync_xero::sim::{DEMO_REFRESH_TOKEN, SimOptions, spawn};
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_tokens_are_persisted_before_use_and_expiry_refreshes_once() {
    let clock = Arc::new(ManualClock::new());
    let sim = spawn(SimOptions::relaxed(), clock.clone()).await.unwrap();
    let rec = Arc::new(Recorder::default());
    let sink = build_with(
        &sim.base_url,
        DEMO_REFRESH_TOKEN,
        json!({}),
        &clock,
        rec.clone(),
    );
    let o = sample_order(1);
    let (k, obj) = (key("t", 1), key("u", 1));
    let req = || DeliveryRequest {
        order: &o,
        idempotency_key: &k,
        object_key: &obj,
        previous_ref: None,
    };
    sink.deliver(req()).await.unwrap();
    assert_eq!(rec.events.lock().unwrap().len(), 1);
    assert!(rec.events.lock().unwrap()[0].starts_with("persist refresh_token xrt_"));
    // The simulator expires every access token: one 401 TokenExpired, one refresh, retried.
    ordersync_conformance::sim_post(&sim.base_url, "/_sim/expire_tokens", json!({})).await;
    sink.deliver(req()).await.unwrap();
    let s = stats(&sim.base_url).await;
    assert_eq!(s["token_refreshes"], 2);
    assert_eq!(rec.events.lock().unwrap().len(), 2);
    // Thirty minutes later the client refreshes ahead of expiry.
    clock.advance(time::Duration::minutes(30));
    sink.deliver(req()).await.unwrap();
    assert_eq!(stats(&sim.base_url).await["token_refreshes"], 3);
    assert_eq!(crate::received(&sim.base_url).await.count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_persist_means_the_new_token_is_never_used() {
    let clock = Arc::new(ManualClock::new());
    let sim = spawn(SimOptions::relaxed(), clock.clone()).await.unwrap();
    let rec = Arc::new(Recorder {
        fail: true,
        ..Default::default()
    });
    let sink = build_with(
        &sim.base_url,
        DEMO_REFRESH_TOKEN,
        json!({}),
        &clock,
        rec.clone(),
    );
    let o = sample_order(1);
    let (k, obj) = (key("f", 1), key("g", 1));
    let err = sink
        .deliver(DeliveryRequest {
            order: &o,
            idempotency_key: &k,
            object_key: &obj,
            previous_ref: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Retriable, "{err}");
    assert!(
        !rec.events.lock().unwrap().is_empty(),
        "persist was attempted"
    );
    assert_eq!(
        stats(&sim.base_url).await["tokens_used"],
        0,
        "no API call with the new token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_refresh_once() {
    let clock = Arc::new(ManualClock::new());
    let sim = spawn(SimOptions::relaxed(), clock.clone()).await.unwrap();
    let rec = Arc::new(Recorder::default());
    let sink = build_with(
        &sim.base_url,
        DEMO_REFRESH_TOKEN,
        json!({}),
        &clock,
        rec.clone(),
    );
    let tasks: Vec<_> = (0..12u64)
        .map(|i| {
            let sink = sink.clone();
            tokio::spawn(async move {
                let o = sample_order(200 + i);
                let (k, obj) = (key("cc", i), key("co", i));
                sink.deliver(DeliveryRequest {
                    order: &o,
                    idempotency_key: &k,
                    object_key: &obj,
                    previous_ref: None,
                })
                .await
                .map(|_| ())
            })
        })
        .collect();
    for t in futures::future::join_all(tasks).await {
        t.unwrap().unwrap();
    }
    assert_eq!(stats(&sim.base_url).await["token_refreshes"], 1);
    assert_eq!(rec.events.lock().unwrap().len(), 1);
    assert_eq!(crate::received(&sim.base_url).await.count, 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_token_and_an_unknown_tenant_are_auth() {
    let clock = Arc::new(ManualClock::new());
    let sim = spawn(SimOptions::relaxed(), clock.clone()).await.unwrap();
    let o = sample_order(1);
    let (k, obj) = (key("a", 1), key("b", 1));
    let req = || DeliveryRequest {
        order: &o,
        idempotency_key: &k,
        object_key: &obj,
        previous_ref: None,
    };
    let bad = build_with(
        &sim.base_url,
        "never-issued",
        json!({}),
        &clock,
        Arc::new(Recorder::default()),
    );
    assert_eq!(
        bad.deliver(req()).await.unwrap_err().class(),
        ErrorClass::Auth
    );
    let other = build_with(
        &sim.base_url,
        DEMO_REFRESH_TOKEN,
        json!({"tenant_id": "00000000-dead-4000-8000-000000000000"}),
        &clock,
        Arc::new(Recorder::default()),
    );
    let e = other.deliver(req()).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Auth);
    assert!(e.to_string().contains("tenant_id"), "{e}");
}
