//! Fleet coordination without a coordinator: singleton duties under an advisory lock, and idle
//! workers woken by `NOTIFY` when another process enqueues deliveries (PostgreSQL; SQLite
//! serves one process and polls).

use crate::helpers::{Backend, TestApp, backends, eventually, shopify_and_shipstation};
use ordersync_conformance::sim_post;
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn one_process_at_a_time_holds_a_singleton_duty() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let s = t.app.store.clone();
        let first = s.try_singleton("test.duty").await.unwrap();
        assert!(first.is_some(), "{b:?}");
        if b == Backend::Postgres {
            assert!(
                s.try_singleton("test.duty").await.unwrap().is_none(),
                "a second holder is refused while the first holds it"
            );
            assert!(
                s.try_singleton("test.other").await.unwrap().is_some(),
                "another duty is free"
            );
            drop(first);
            // The lock goes with the transaction, which the pool rolls back once dropped.
            assert!(
                eventually(10, || {
                    let s = s.clone();
                    async move { s.try_singleton("test.duty").await.unwrap().is_some() }
                })
                .await
            );
        }
    }
}

#[tokio::test]
async fn new_deliveries_wake_idle_workers_of_other_processes() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let wake = Arc::new(tokio::sync::Notify::new());
        let listening = t.app.store.listen_work(wake.clone());
        assert_eq!(listening, b == Backend::Postgres, "{b:?}");
        if !listening {
            continue;
        }
        let (shop, _ss, _m, _ids) = shopify_and_shipstation(&t, "wake.myshopify.com").await;
        sim_post(
            &shop.base_url,
            "/_sim/seed",
            json!({ "count": 1, "seed": 2 }),
        )
        .await;
        // The listener connects in the background; a notification sent before it listens is
        // lost (the poll fallback covers that), so pages are committed until one wakes us.
        let engine = t.app.engine();
        let woke = async {
            loop {
                let notified = wake.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                // Each pull re-reads the settled window and enqueues the delivery again.
                t.clock.advance(time::Duration::minutes(5));
                sim_post(
                    &shop.base_url,
                    "/_sim/seed",
                    json!({ "count": 1, "seed": 9 }),
                )
                .await;
                engine.pull_once().await.unwrap();
                if tokio::time::timeout(std::time::Duration::from_millis(500), notified)
                    .await
                    .is_ok()
                {
                    break;
                }
            }
        };
        assert!(
            tokio::time::timeout(std::time::Duration::from_secs(30), woke)
                .await
                .is_ok(),
            "a page with deliveries wakes the listener"
        );
    }
}
