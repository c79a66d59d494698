//! What a route forwards: from its start (connecting a store does not ship its history), the
//! statuses it names (a cancelled order is never sent anywhere new), and a history it asks
//! for (`backfill_route`), on every backend.

use crate::helpers::{TestApp, backends, eventually, provision_routes};
use ordersync::store::{OrderQuery, RouteRow};
use ordersync_conformance::sim_post;
use ordersync_sdk::{Clock, Order};
use serde_json::json;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

async fn orders(t: &TestApp, merchant: &str) -> Vec<(String, String, i64)> {
    let rows = t
        .app
        .store
        .list_orders(&OrderQuery {
            merchant_id: merchant.to_string(),
            connection_id: None,
            status: None,
            after: None,
            limit: 500,
        })
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| {
            let o: Order = serde_json::from_str(&r.data).unwrap();
            (
                r.id,
                r.status,
                ordersync_sdk::clock::to_micros(o.created_at),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_route_forwards_from_its_start_what_it_names_and_the_history_it_asks_for() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let clock: Arc<dyn Clock> = t.clock.clone();
        let shop = ordersync_shopify::sim::spawn(
            ordersync_shopify::sim::SimOptions::relaxed(),
            clock.clone(),
        )
        .await
        .unwrap();
        let ss = ordersync_shipstation::sim::spawn(
            ordersync_shipstation::sim::SimOptions::relaxed(),
            clock,
        )
        .await
        .unwrap();
        let start = t.now_us();
        // The default route: live orders created from now on.
        let (m, ids) = provision_routes(
            &t,
            &[
                (
                    "shopify",
                    "source",
                    json!({ "shop_domain": "r.myshopify.com", "api_base_url": shop.base_url }),
                    &[("access_token", "shpat_r")],
                ),
                (
                    "shipstation",
                    "sink",
                    json!({ "api_base_url": ss.base_url, "requests_per_minute": 100000 }),
                    &[("api_key", "r-key")],
                ),
            ],
            None,
            Some(start),
        )
        .await;
        let engine = t.app.engine();
        let cancel = CancellationToken::new();
        let worker = {
            let (e, c) = (engine.clone(), cancel.clone());
            tokio::spawn(async move { e.run(c).await })
        };
        let store = t.app.store.clone();

        // A store with a week of history is connected: nothing of it is forwarded.
        sim_post(
            &shop.base_url,
            "/_sim/seed",
            json!({ "count": 60, "seed": 3 }),
        )
        .await;
        assert!(
            eventually(60, || async { store.totals().await.unwrap().orders == 60 }).await,
            "{b:?}: the history is ingested"
        );
        let tt = store.totals().await.unwrap();
        assert_eq!(
            tt.deliveries_pending
                + tt.deliveries_in_flight
                + tt.deliveries_done
                + tt.deliveries_dead,
            0,
            "{b:?}: orders created before the route's start are not forwarded"
        );

        // New orders arrive: the live ones are forwarded, cancelled ones are not.
        t.clock.advance(time::Duration::days(8));
        sim_post(
            &shop.base_url,
            "/_sim/seed",
            json!({ "count": 60, "seed": 4 }),
        )
        .await;
        assert!(
            eventually(60, || async { store.totals().await.unwrap().orders == 120 }).await,
            "{b:?}: new orders ingested"
        );
        let all = orders(&t, &m).await;
        let new_live = all
            .iter()
            .filter(|(_, s, c)| *c >= start && s != "cancelled")
            .count() as i64;
        let cancelled_new = all
            .iter()
            .filter(|(_, s, c)| *c >= start && s == "cancelled")
            .count();
        assert!(new_live > 0, "{b:?}: the seed has live orders");
        assert!(cancelled_new > 0, "{b:?}: the seed has cancelled orders");
        assert!(
            eventually(60, || async {
                let t = store.totals().await.unwrap();
                t.deliveries_pending + t.deliveries_in_flight == 0
                    && t.deliveries_done + t.deliveries_dead == new_live
            })
            .await,
            "{b:?}: exactly the live orders created after the start are forwarded"
        );
        for (id, status, created) in &all {
            let d = store.deliveries_of_order(&m, id).await.unwrap();
            let want = *created >= start && status != "cancelled";
            assert_eq!(!d.is_empty(), want, "{b:?}: order {id} ({status})");
        }

        // The route asks for all history, cancelled orders included: the rest is enqueued
        // once, and what was forwarded already is not enqueued again.
        let route = RouteRow {
            id: uuid::Uuid::now_v7().to_string(),
            merchant_id: m.clone(),
            source_connection_id: ids[0].clone(),
            sink_connection_id: ids[1].clone(),
            created_at: t.now_us(),
            statuses: Some(r#"["open","closed","cancelled"]"#.into()),
            start_at: None,
        };
        store.insert_route(&route).await.unwrap();
        let n = ordersync::engine::backfill_route(&*store, &route, t.now_us())
            .await
            .unwrap();
        assert_eq!(n as i64, 120 - new_live, "{b:?}: the history is backfilled");
        let again = ordersync::engine::backfill_route(&*store, &route, t.now_us())
            .await
            .unwrap();
        assert_eq!(again, 0, "{b:?}: a second backfill adds nothing");
        assert!(
            eventually(60, || async {
                let t = store.totals().await.unwrap();
                t.deliveries_pending + t.deliveries_in_flight == 0
                    && t.deliveries_done + t.deliveries_dead == 120
            })
            .await,
            "{b:?}: every order went to the target once"
        );
        cancel.cancel();
        worker.await.unwrap();
    }
}
