//! Delivery tracking through the real engine and simulators, driven pass by pass with the
//! injected clock: a feed pass costs pages of what changed (not a call per shipped order),
//! delivery times are clamped to `[created_at, now]` and start the retention clock, and
//! tracking stops at the horizon.

use crate::helpers::{TestApp, backends, eventually, shopify_and_shipstation};
use ordersync::engine::Engine;
use ordersync::store::OrderQuery;
use ordersync_conformance::{sim_get, sim_post};
use ordersync_sdk::sim::{SimServer, SimStats};
use ordersync_sdk::{Clock, Order};
use serde_json::json;
use std::sync::Arc;

const DAY_US: i64 = 86_400_000_000;

async fn requests(base: &str) -> u64 {
    serde_json::from_value::<SimStats>(sim_get(base, "/_sim/stats").await)
        .unwrap()
        .requests
}

/// Shopify → ShipStation V2 with `count` orders ingested and delivered, the engine driven by
/// hand (no worker loops), so each tracking pass can be measured alone.
pub(crate) async fn shipped(t: &TestApp, count: u64) -> (Engine, SimServer, SimServer, String) {
    let (shop, ss, m, _) = shopify_and_shipstation(t, "t.myshopify.com").await;
    sim_post(
        &shop.base_url,
        "/_sim/seed",
        json!({ "count": count, "seed": 5 }),
    )
    .await;
    let e = t.app.engine();
    let store = t.app.store.clone();
    assert!(
        eventually(120, || {
            let (e, store) = (e.clone(), store.clone());
            async move {
                e.pull_once().await.unwrap();
                while e.deliver_once().await.unwrap().work > 0 {}
                let t = store.totals().await.unwrap();
                t.orders == count as i64 && t.deliveries_pending + t.deliveries_in_flight == 0
            }
        })
        .await,
        "every order ingested and delivered"
    );
    (e, shop, ss, m)
}

#[tokio::test]
async fn a_feed_pass_costs_pages_and_delivery_times_start_the_retention_clock() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let (e, _shop, ss, m) = shipped(&t, 300).await;
        let store = t.app.store.clone();
        let shipped = store.totals().await.unwrap().awaiting_tracking;
        assert!(shipped > 200, "{b:?}: {shipped} of 300 shipped");

        // First pass, a little later: no parcel has arrived (no label is bought yet); the read
        // costs the pages of the labels (100 a page), not a call per shipment.
        t.clock.advance(time::Duration::hours(2));
        let r0 = requests(&ss.base_url).await;
        e.track_once().await.unwrap();
        let first = requests(&ss.base_url).await - r0;
        assert!(
            first <= (shipped as u64).div_ceil(100) + 2,
            "{b:?}: the first pass cost {first} requests for {shipped} shipments"
        );
        assert_eq!(store.totals().await.unwrap().delivered_orders, 0, "{b:?}");

        // Still nothing labelled: a page.
        t.clock.advance(time::Duration::hours(2));
        let r0 = requests(&ss.base_url).await;
        e.track_once().await.unwrap();
        let quiet = requests(&ss.base_url).await - r0;
        assert!(
            quiet <= 2,
            "{b:?}: a pass with nothing new cost {quiet} requests for {shipped} shipments"
        );

        // A week later every parcel has arrived: one pass records them all, from the label
        // pages alone (no label or tracking call per shipment).
        t.clock.advance(time::Duration::days(7));
        let r0 = requests(&ss.base_url).await;
        e.track_once().await.unwrap();
        let arrived = requests(&ss.base_url).await - r0;
        assert!(
            arrived <= (shipped as u64).div_ceil(100) + 1,
            "{b:?}: the pass that saw {shipped} parcels arrive cost {arrived} requests"
        );
        let tt = store.totals().await.unwrap();
        assert_eq!(
            tt.delivered_orders, shipped,
            "{b:?}: every parcel's delivery recorded"
        );
        assert_eq!(tt.awaiting_tracking, 0, "{b:?}");
        eprintln!("{b:?}: {shipped} shipped; passes cost {first}, {quiet}, {arrived} requests");

        let now = t.now_us();
        let rows = store
            .list_orders(&OrderQuery {
                merchant_id: m.clone(),
                connection_id: None,
                status: None,
                after: None,
                limit: 500,
            })
            .await
            .unwrap();
        let mut checked = 0;
        for r in rows.iter().filter(|r| r.delivered_at.is_some()) {
            let o: Order = serde_json::from_str(&r.data).unwrap();
            let at = r.delivered_at.unwrap();
            assert!(
                at >= ordersync_sdk::clock::to_micros(o.created_at) && at <= now,
                "{b:?}: delivered_at within [created_at, now]"
            );
            assert_eq!(
                r.purge_after,
                Some(at + 30 * DAY_US),
                "{b:?}: purge 30 days after delivery (the default policy)"
            );
            checked += 1;
        }
        assert_eq!(checked as i64, shipped, "{b:?}");
    }
}

#[tokio::test]
async fn tracking_stops_at_the_horizon_and_the_purge_falls_back_to_the_order_date() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let (e, _shop, ss, _m) = shipped(&t, 40).await;
        let store = t.app.store.clone();
        assert!(store.totals().await.unwrap().awaiting_tracking > 0, "{b:?}");
        // No pass ran for longer than the horizon (60 days): the orders are too old to
        // follow; nothing is asked of the target.
        t.clock.advance(time::Duration::days(61));
        let r0 = requests(&ss.base_url).await;
        e.track_once().await.unwrap();
        assert_eq!(requests(&ss.base_url).await, r0, "{b:?}: no request");
        let tt = store.totals().await.unwrap();
        assert_eq!(tt.awaiting_tracking, 0, "{b:?}: tracking stopped");
        assert_eq!(tt.delivered_orders, 0, "{b:?}: no delivery time invented");
        // The fallback purge (90 days after the order) still applies.
        t.clock.advance(time::Duration::days(30));
        assert!(
            eventually(30, || {
                let (e, store) = (e.clone(), store.clone());
                async move {
                    e.purge_once().await.unwrap();
                    store.totals().await.unwrap().pii_purged == 40
                }
            })
            .await,
            "{b:?}: PII purged 90 days after the order"
        );
    }
}

/// A verified webhook of a tracking target makes its feed due at once; a forged one is
/// refused and changes nothing. The feed stays the truth: the hint carries no delivery time.
#[tokio::test]
async fn a_signed_tracking_webhook_makes_the_feed_due_now() {
    use ordersync_sdk::webhooks::sign_base64;
    use reqwest::Method;
    let a = crate::api::spawn_with(true, |_| {}).await;
    let (_, tok) = a.merchant("hooks").await;
    let clock: Arc<dyn Clock> = a.t.clock.clone();
    let shop =
        ordersync_shopify::sim::spawn(ordersync_shopify::sim::SimOptions::relaxed(), clock.clone())
            .await
            .unwrap();
    let ash =
        ordersync_aftership::sim::spawn(ordersync_aftership::sim::SimOptions::relaxed(), clock)
            .await
            .unwrap();
    let mut ids = vec![];
    for body in [
        json!({ "kind": "shopify", "config": { "shop_domain": "h.myshopify.com", "api_base_url": shop.base_url },
                "secrets": { "access_token": "shpat_h" } }),
        json!({ "kind": "aftership", "config": { "api_base_url": ash.base_url },
                "secrets": { "api_key": "k", "webhook_secret": "whsec" } }),
    ] {
        let (st, b) = a
            .call(Method::POST, "/api/v1/connections", &tok, Some(body))
            .await;
        assert_eq!(st, 201, "{b}");
        ids.push(b["id"].as_str().unwrap().to_string());
    }
    let (st, b) = a
        .call(
            Method::POST,
            "/api/v1/routes",
            &tok,
            Some(json!({ "source_connection_id": ids[0], "sink_connection_id": ids[1], "start": "all" })),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    sim_post(
        &shop.base_url,
        "/_sim/seed",
        json!({ "count": 60, "seed": 8 }),
    )
    .await;
    let e = a.t.app.engine();
    let store = a.t.app.store.clone();
    assert!(
        eventually(120, || {
            let (e, store) = (e.clone(), store.clone());
            async move {
                e.pull_once().await.unwrap();
                while e.deliver_once().await.unwrap().work > 0 {}
                let t = store.totals().await.unwrap();
                t.orders == 60 && t.deliveries_pending + t.deliveries_in_flight == 0
            }
        })
        .await,
        "orders ingested and delivered"
    );
    assert!(
        store.totals().await.unwrap().awaiting_tracking > 0,
        "parcels with tracking numbers are followed"
    );
    // Not due yet: a pass asks the target nothing.
    let r0 = requests(&ash.base_url).await;
    e.track_once().await.unwrap();
    assert_eq!(requests(&ash.base_url).await, r0, "the feed is not due");

    let hook = format!("/webhooks/aftership/{}", ids[1]);
    let body = br#"{"ts":1700000000,"event":"tracking_update","event_id":"ev-1","msg":{"id":"t1","tag":"InTransit"}}"#;
    let post = |sig: String| {
        a.http
            .post(format!("{}{hook}", a.base))
            .header("content-type", "application/json")
            .header("aftership-hmac-sha256", sig)
            .body(body.to_vec())
            .send()
    };
    assert_eq!(
        post(sign_base64(b"wrong", body)).await.unwrap().status(),
        401
    );
    e.track_once().await.unwrap();
    assert_eq!(
        requests(&ash.base_url).await,
        r0,
        "a forged hint changes nothing"
    );
    assert_eq!(
        post(sign_base64(b"whsec", body)).await.unwrap().status(),
        200
    );
    e.track_once().await.unwrap();
    assert!(
        requests(&ash.base_url).await > r0,
        "a verified hint makes the feed read at once"
    );
}
