//! Reading history again: a reconciliation pass finds the orders the pull missed (a listing
//! that left them out), backfills them through the normal ingest so each reaches the target
//! exactly once, and shows the gap in `status`; an erroring source leaves the pass due without
//! touching the pull. A new connection's history import shows its progress in `status` while
//! another store's live pull goes on. On every backend.

use crate::helpers::{
    TestApp, api_for, backends, call, eventually, provision, shippable, shopify_and_shipstation,
};
use ordersync::api::admin::hash_token;
use ordersync_conformance::{sim_get, sim_post};
use ordersync_sdk::sim::Received;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// `GET /api/v1/status`, the entry of connection `id`.
async fn status_of(base: &str, token: &str, id: &str) -> Value {
    let (code, body) = call(reqwest::Method::GET, format!("{base}/api/v1/status"), token).await;
    assert_eq!(code, 200, "{body}");
    body["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_reconciliation_backfills_what_the_pull_missed_once_and_reports_it() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let (shop, ss, m, ids) = shopify_and_shipstation(&t, "rec.myshopify.com").await;
        sim_post(
            &shop.base_url,
            "/_sim/seed",
            json!({ "count": 30, "seed": 21 }),
        )
        .await;
        // The listing leaves 3 orders out while the store is imported.
        let hidden: Vec<String> = serde_json::from_value(
            sim_post(&shop.base_url, "/_sim/hide", json!({ "count": 3 })).await["hidden"].clone(),
        )
        .unwrap();
        assert_eq!(hidden.len(), 3);
        let mut e = t.app.engine();
        // The seed spreads updates over the 7 days before now − 5 min.
        e.cfg.reconcile_days = 8;
        let (base, token) = api_for(&t, e.clone(), &m).await;
        let cancel = CancellationToken::new();
        let worker = {
            let (e, c) = (e.clone(), cancel.clone());
            tokio::spawn(async move { e.run(c).await })
        };
        let store = t.app.store.clone();
        assert!(
            eventually(60, || async {
                let tt = store.totals().await.unwrap();
                tt.orders == 27 && tt.deliveries_done == 27
            })
            .await,
            "{b:?}: what the listing showed is in and delivered"
        );
        let src = ids[0].clone();
        assert!(
            eventually(30, || async {
                !status_of(&base, &token, &src).await["reconciliation"].is_null()
            })
            .await,
            "{b:?}: the loop schedules a pass"
        );
        let s = status_of(&base, &token, &src).await;
        let r = &s["reconciliation"];
        let day_on = r["next_at"].as_i64().unwrap() - t.now_us();
        assert!(
            (86_340_000_000..=86_400_000_000).contains(&day_on),
            "{b:?}: a day on: {r}"
        );
        assert!(r["last_at"].is_null() && r["alert"].is_null(), "{b:?}: {r}");

        // The listing shows them again, but with their old times the pull never looks back
        // that far: its next windows do not find them.
        sim_post(&shop.base_url, "/_sim/hide", json!({ "reveal": true })).await;
        let pulled = s["last_pull_at"].as_i64().unwrap();
        t.clock.advance(time::Duration::minutes(2));
        assert!(
            eventually(30, || async {
                status_of(&base, &token, &src).await["last_pull_at"].as_i64() > Some(pulled)
            })
            .await,
            "{b:?}: the live pull ran"
        );
        assert_eq!(
            store.totals().await.unwrap().orders,
            27,
            "{b:?}: still missing"
        );

        // On demand: only sources, only the merchant's own.
        let (code, _) = call(
            reqwest::Method::POST,
            format!("{base}/api/v1/connections/{}/reconcile", ids[1]),
            &token,
        )
        .await;
        assert_eq!(code, 422, "{b:?}: a sink is not reconciled");
        let other = uuid::Uuid::now_v7().to_string();
        store
            .create_merchant(&other, "Other", &hash_token("os_other"), t.now_us())
            .await
            .unwrap();
        let (code, _) = call(
            reqwest::Method::POST,
            format!("{base}/api/v1/connections/{src}/reconcile"),
            "os_other",
        )
        .await;
        assert_eq!(code, 404, "{b:?}: another merchant's connection");
        let (code, body) = call(
            reqwest::Method::POST,
            format!("{base}/api/v1/connections/{src}/reconcile"),
            &token,
        )
        .await;
        assert_eq!((code, &body["scheduled"]), (202, &json!(true)), "{b:?}");

        assert!(
            eventually(60, || async {
                let s = status_of(&base, &token, &src).await;
                s["reconciliation"]["last_gap"] == 3
            })
            .await,
            "{b:?}: the pass found the gap: {}",
            status_of(&base, &token, &src).await
        );
        let s = status_of(&base, &token, &src).await;
        let r = &s["reconciliation"];
        assert_eq!(r["gaps_total"], 3, "{b:?}");
        assert!(r["last_error"].is_null(), "{b:?}: {r}");
        assert!(
            r["alert"]
                .as_str()
                .unwrap()
                .starts_with("3 order(s) missed by the pull were backfilled at "),
            "{b:?}: {r}"
        );
        assert_eq!(
            s["last_error"],
            Value::Null,
            "{b:?}: the pull's state is its own"
        );
        assert!(
            eventually(60, || async {
                let tt = store.totals().await.unwrap();
                tt.orders == 30 && tt.deliveries_done == 30
            })
            .await,
            "{b:?}: the missed orders are stored and delivered"
        );
        let got: Received =
            serde_json::from_value(sim_get(&ss.base_url, "/_sim/received").await).unwrap();
        let per_order = got.per_order();
        let want = shippable(&shop.base_url).await;
        assert!(
            hidden.iter().any(|h| want.contains_key(h)),
            "{b:?}: a missed order has something to ship"
        );
        for id in want.keys() {
            assert_eq!(
                per_order.get(id.as_str()),
                Some(&1),
                "{b:?}: order {id} once"
            );
        }
        assert_eq!(per_order.len(), want.len(), "{b:?}: nothing else");

        // A second pass finds nothing more; the alert stays for the days the pass covers.
        let first_at = r["last_at"].as_i64().unwrap();
        t.clock.advance(time::Duration::seconds(5));
        let (code, _) = call(
            reqwest::Method::POST,
            format!("{base}/api/v1/connections/{src}/reconcile"),
            &token,
        )
        .await;
        assert_eq!(code, 202);
        assert!(
            eventually(60, || async {
                let s = status_of(&base, &token, &src).await;
                s["reconciliation"]["last_at"].as_i64() > Some(first_at)
            })
            .await,
            "{b:?}: the second pass ran"
        );
        let r = status_of(&base, &token, &src).await["reconciliation"].clone();
        assert_eq!(
            (r["last_gap"].clone(), r["gaps_total"].clone()),
            (json!(0), json!(3)),
            "{b:?}"
        );
        assert!(r["alert"].is_string(), "{b:?}");
        let got: Received =
            serde_json::from_value(sim_get(&ss.base_url, "/_sim/received").await).unwrap();
        assert!(
            got.per_order().values().all(|n| *n == 1),
            "{b:?}: no duplicate"
        );
        let audit = store.list_audit(&m, 50).await.unwrap();
        assert_eq!(
            audit
                .iter()
                .filter(|a| a.action == "connection.reconcile_requested")
                .count(),
            2,
            "{b:?}"
        );
        cancel.cancel();
        let _ = worker.await;
    }
}

#[tokio::test]
async fn an_erroring_source_leaves_the_pass_due_and_the_pull_untouched() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let (shop, _ss, _m, ids) = shopify_and_shipstation(&t, "err.myshopify.com").await;
        sim_post(
            &shop.base_url,
            "/_sim/seed",
            json!({ "count": 5, "seed": 4 }),
        )
        .await;
        let e = t.app.engine();
        let store = t.app.store.clone();
        while e.pull_once().await.unwrap().work > 0 {}
        assert_eq!(store.totals().await.unwrap().orders, 5, "{b:?}");
        let src = &ids[0];
        assert_eq!(
            e.reconcile_once().await.unwrap().work,
            0,
            "{b:?}: nothing due yet"
        );
        store.request_reconcile(src, t.now_us()).await.unwrap();
        let cursor = store.get_cursor(src).await.unwrap().unwrap();

        sim_post(
            &shop.base_url,
            "/_sim/faults",
            json!({ "rate": 1.0, "kinds": ["500"] }),
        )
        .await;
        assert!(e.reconcile_once().await.unwrap().work > 0, "{b:?}: claimed");
        let r = store.reconcile_state(src).await.unwrap().unwrap();
        assert_eq!(r.attempts, 1, "{b:?}");
        assert!(
            r.last_error.as_deref().unwrap().starts_with("retriable"),
            "{b:?}: {r:?}"
        );
        assert!(r.last_at.is_none(), "{b:?}");
        assert!(
            r.next_at > t.now_us() && r.next_at <= t.now_us() + 2_000_000,
            "{b:?}: due again after a back-off"
        );
        assert!(r.pass_until.is_some(), "{b:?}: the pass keeps its window");
        let c = store.get_connection(src).await.unwrap().unwrap();
        assert_eq!(c.last_error, None, "{b:?}: the pull's state is untouched");
        let after = store.get_cursor(src).await.unwrap().unwrap();
        assert_eq!(
            (after.watermark, after.window_until, after.page_token),
            (cursor.watermark, cursor.window_until, cursor.page_token),
            "{b:?}"
        );
        assert_eq!(
            e.reconcile_once().await.unwrap().work,
            0,
            "{b:?}: backing off"
        );

        // The source recovers; the pull, due first, goes first, then the pass completes.
        sim_post(&shop.base_url, "/_sim/faults", json!({ "rate": 0.0 })).await;
        t.clock.advance(time::Duration::seconds(3));
        assert_eq!(
            e.reconcile_once().await.unwrap().work,
            0,
            "{b:?}: the pull is due"
        );
        e.pull_once().await.unwrap();
        let started = t.now_us();
        assert!(e.reconcile_once().await.unwrap().work > 0, "{b:?}");
        let r = store.reconcile_state(src).await.unwrap().unwrap();
        assert_eq!(
            (r.attempts, r.last_error, r.last_gap),
            (0, None, 0),
            "{b:?}"
        );
        assert!(r.last_at >= Some(started), "{b:?}");
        assert!(r.pass_until.is_none(), "{b:?}");
        assert_eq!(store.totals().await.unwrap().orders, 5, "{b:?}: no gap");
    }
}

#[tokio::test]
async fn a_history_import_shows_its_progress_while_live_pulls_go_on() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let clock: Arc<dyn ordersync_sdk::Clock> = t.clock.clone();
        let spawn = || {
            ordersync_shopify::sim::spawn(
                ordersync_shopify::sim::SimOptions::relaxed(),
                clock.clone(),
            )
        };
        let (big, small) = (spawn().await.unwrap(), spawn().await.unwrap());
        let ss = ordersync_shipstation::sim::spawn(
            ordersync_shipstation::sim::SimOptions::relaxed(),
            clock.clone(),
        )
        .await
        .unwrap();
        let (m, ids) = provision(
            &t,
            &[
                (
                    "shopify",
                    "source",
                    // One order a page: the import takes more than one claim.
                    json!({ "shop_domain": "big.myshopify.com", "api_base_url": big.base_url, "page_size": 1 }),
                    &[("access_token", "shpat_big")],
                ),
                (
                    "shopify",
                    "source",
                    json!({ "shop_domain": "small.myshopify.com", "api_base_url": small.base_url }),
                    &[("access_token", "shpat_small")],
                ),
                (
                    "shipstation",
                    "sink",
                    json!({ "api_base_url": ss.base_url, "requests_per_minute": 100000 }),
                    &[("api_key", "k")],
                ),
            ],
        )
        .await;
        sim_post(
            &big.base_url,
            "/_sim/seed",
            json!({ "count": 450, "seed": 6 }),
        )
        .await;
        sim_post(
            &small.base_url,
            "/_sim/seed",
            json!({ "count": 3, "seed": 7 }),
        )
        .await;
        let e = t.app.engine();
        let (base, token) = api_for(&t, e.clone(), &m).await;
        let (a, b2) = (&ids[0], &ids[1]);
        let before = status_of(&base, &token, a).await;
        assert_eq!(
            before["backfill"]["percent"], 0.0,
            "{b:?}: not started: {before}"
        );

        // One pass: the import stops at its claim's budget, the small store is pulled too.
        assert!(e.pull_once().await.unwrap().work > 0);
        let s = status_of(&base, &token, a).await;
        let bf = &s["backfill"];
        let p = bf["percent"].as_f64().unwrap();
        assert!(p > 0.0 && p < 100.0, "{b:?}: under way: {bf}");
        assert!(bf["done_at"].is_null(), "{b:?}");
        let (from, to, through) = (
            bf["from"].as_i64().unwrap(),
            bf["to"].as_i64().unwrap(),
            bf["through"].as_i64().unwrap(),
        );
        assert!(from < through && through < to, "{b:?}: {bf}");
        assert!(to <= t.now_us(), "{b:?}: the window ends at the live edge");
        let n = bf["orders"].as_i64().unwrap();
        assert!(n > 0 && n < 450, "{b:?}: {bf}");
        let live = status_of(&base, &token, b2).await;
        assert_eq!(live["orders"], 3, "{b:?}: the other store did not wait");
        assert_eq!(live["backfill"]["percent"], 100.0, "{b:?}: {live}");

        for _ in 0..20 {
            if e.pull_once().await.unwrap().work == 0 {
                break;
            }
        }
        let s = status_of(&base, &token, a).await;
        let bf = &s["backfill"];
        assert_eq!(bf["percent"], 100.0, "{b:?}: {bf}");
        assert_eq!(bf["orders"], 450, "{b:?}");
        assert_eq!(bf["through"], bf["to"], "{b:?}");
        assert!(bf["done_at"].is_i64(), "{b:?}");
        assert_eq!(
            bf["from"].as_i64(),
            Some(from),
            "{b:?}: history starts where it did"
        );
        assert_eq!(t.app.store.totals().await.unwrap().orders, 453, "{b:?}");
    }
}
