//! The whole life of an order through the real engine and the real simulators: pulled from
//! Shopify, PII encrypted at rest, forwarded to ShipStation exactly once, updated, delivered,
//! and purged when its window ends — on every backend, with no canary in logs or files.

use crate::helpers::{
    TestApp, backends, capture_logs, captured_logs, eventually, grep_dir, shippable,
    shopify_and_shipstation,
};
use ordersync_conformance::{sim_get, sim_post};
use ordersync_sdk::sim::{Received, SimServer};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use tokio_util::sync::CancellationToken;

async fn received_by_order(base: &str) -> HashMap<String, (u64, u64)> {
    let r = sim_get(base, "/_sim/received").await;
    let mut m = HashMap::new();
    for o in r["objects"].as_array().unwrap() {
        let e = m
            .entry(
                o["external_order_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
            .or_insert((0, 0));
        e.0 += 1;
        e.1 += o["updates"].as_u64().unwrap_or(0);
    }
    m
}

/// Units per line of every live (not cancelled) shipment, by order.
async fn units(base: &str) -> BTreeMap<String, BTreeMap<String, u64>> {
    let r: Received = serde_json::from_value(sim_get(base, "/_sim/received").await).unwrap();
    r.objects
        .into_iter()
        .filter(|o| o.status.as_deref() != Some("cancelled"))
        .map(|o| (o.external_order_id, o.units.unwrap_or_default()))
        .collect()
}

/// A Shopify simulator seeded with `count` orders routed to a ShipStation simulator.
async fn shopify_to_shipstation(t: &TestApp, count: u64, seed: u64) -> (SimServer, SimServer) {
    // Relaxed: at the real restore rate (100 points/s) reading 400 orders at the cost model's
    // ~40 points each would take minutes.
    let (shop, ss, _, _) = shopify_and_shipstation(t, "e2e.myshopify.com").await;
    sim_post(
        &shop.base_url,
        "/_sim/seed",
        json!({ "count": count, "seed": seed }),
    )
    .await;
    (shop, ss)
}

#[tokio::test]
async fn order_life_end_to_end() {
    capture_logs();
    for b in backends() {
        let t = TestApp::new(b).await;
        let (shop, ss) = shopify_to_shipstation(&t, 400, 9).await;

        let engine = t.app.engine();
        let cancel = CancellationToken::new();
        let worker = {
            let (e, c) = (engine.clone(), cancel.clone());
            tokio::spawn(async move { e.run(c).await })
        };
        let store = t.app.store.clone();
        // The seeded mix has refunded and cancelled orders and orders of tips and gift cards
        // only: those are done without a shipment.
        let want = shippable(&shop.base_url).await;
        let n = want.len();
        assert!(
            n > 300 && n < 400,
            "{b:?}: {n} of 400 have something to ship"
        );
        assert!(
            eventually(120, || async {
                store.totals().await.unwrap().deliveries_done == 400
            })
            .await,
            "{b:?}: all 400 delivered"
        );
        let got = received_by_order(&ss.base_url).await;
        assert_eq!(
            got.len(),
            n,
            "{b:?}: every shippable order reached ShipStation"
        );
        assert_eq!(
            units(&ss.base_url).await,
            want,
            "{b:?}: exactly the units left to ship"
        );
        assert!(
            got.values().all(|(n, _)| *n == 1),
            "{b:?}: no order became two shipments"
        );

        // 15 orders change at Shopify: each with something to ship is re-delivered as an
        // update of the same shipment.
        let touched = sim_post(&shop.base_url, "/_sim/update", json!({ "count": 15 })).await;
        let changed = touched["ids"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| want.contains_key(i.as_str().unwrap()))
            .count();
        // An edit that fulfils the rest at Shopify (the warehouse shipped it) is not sent on:
        // the orders still to ship afterwards are certainly updated.
        let after = shippable(&shop.base_url).await;
        let still = touched["ids"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| {
                want.contains_key(i.as_str().unwrap()) && after.contains_key(i.as_str().unwrap())
            })
            .count();
        assert!(still > 0, "{b:?}");
        t.clock.advance(time::Duration::seconds(90));
        let ss_url = ss.base_url.clone();
        assert!(
            eventually(60, || {
                let u = ss_url.clone();
                async move {
                    received_by_order(&u)
                        .await
                        .values()
                        .filter(|(_, up)| *up > 0)
                        .count()
                        >= still
                }
            })
            .await,
            "{b:?}: updates re-delivered"
        );
        let got = received_by_order(&ss.base_url).await;
        assert_eq!(got.len(), n, "{b:?}");
        assert!(
            got.values().all(|(n, _)| *n == 1),
            "{b:?}: updates keep one shipment per order"
        );
        assert!(
            got.values().filter(|(_, up)| *up > 0).count() <= changed,
            "{b:?}: only changed orders were updated"
        );
        assert_eq!(
            store.totals().await.unwrap().orders,
            400,
            "{b:?}: re-reads dedupe"
        );

        // Parcels arrive, then the retention window closes.
        t.clock.advance(time::Duration::days(5));
        assert!(
            eventually(60, || async {
                store.totals().await.unwrap().delivered_orders == n as i64
            })
            .await,
            "{b:?}: delivery dates tracked"
        );
        assert_eq!(
            store.totals().await.unwrap().pii_purged,
            0,
            "{b:?}: nothing purged inside the window"
        );
        t.clock.advance(time::Duration::days(35));
        assert!(
            eventually(60, || async {
                store.totals().await.unwrap().pii_purged == n as i64
            })
            .await,
            "{b:?}: PII purged after the window"
        );
        cancel.cancel();
        worker.await.unwrap();

        let leaks = grep_dir(&t.dir, "@customer.test");
        assert!(leaks.is_empty(), "{b:?}: plaintext PII in {leaks:?}");
        assert!(
            grep_dir(&t.dir, "Canary").is_empty(),
            "{b:?}: plaintext names at rest"
        );
    }
    let logs = captured_logs();
    assert!(logs.contains("HTTP request"), "logs were captured");
    ordersync_conformance::assert_no_canary("captured logs", &logs);
}

#[tokio::test]
async fn faults_never_lose_or_duplicate_orders() {
    let t = TestApp::new(crate::helpers::Backend::Sqlite).await;
    let (shop, ss) = shopify_to_shipstation(&t, 300, 11).await;
    for s in [&shop.base_url, &ss.base_url] {
        sim_post(
            s,
            "/_sim/faults",
            json!({ "rate": 0.2, "kinds": ["429", "500", "malformed"] }),
        )
        .await;
    }
    let engine = t.app.engine();
    let cancel = CancellationToken::new();
    let worker = {
        let (e, c) = (engine.clone(), cancel.clone());
        tokio::spawn(async move { e.run(c).await })
    };
    let ss_url = ss.base_url.clone();
    let want = shippable(&shop.base_url).await;
    let n = want.len();
    let done = eventually(180, || {
        let u = ss_url.clone();
        async move { received_by_order(&u).await.len() == n }
    })
    .await;
    cancel.cancel();
    worker.await.unwrap();
    let got = received_by_order(&ss.base_url).await;
    assert!(
        done,
        "all {n} shippable orders arrived despite faults (got {})",
        got.len()
    );
    assert_eq!(
        units(&ss.base_url).await,
        want,
        "exactly the units left to ship"
    );
    assert!(
        got.values().all(|(n, _)| *n == 1),
        "faults never create a second shipment"
    );
    let stats = sim_get(&shop.base_url, "/_sim/stats").await;
    assert!(stats["faults_injected"].as_u64().unwrap() > 0);
}

/// The real binary with worker child processes, SIGKILLed while they hold leases: every order
/// still reaches ShipStation exactly once (counted by the target simulator).
#[test]
fn killed_workers_lose_and_duplicate_nothing() {
    let dir = crate::helpers::temp_dir();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .args([
            "demo",
            "--orders",
            // Four targets now, each order several calls at the accounting ones: 240 orders
            // keep a debug build on a loaded 2-core box inside the demo's deadline (400 took
            // 310 s alone on this box).
            "240",
            "--workers",
            "2",
            "--kill-every",
            "0.3",
            "--json",
            "--data-dir",
        ])
        .arg(dir.join("data"))
        .env_remove("ORDERSYNC_DATABASE_URL")
        .env_remove("ORDERSYNC_MASTER_KEY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let s: serde_json::Value = serde_json::from_str(last).unwrap_or_else(|_| {
        panic!(
            "no JSON summary: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "{s}");
    assert_eq!(s["orders_ingested"], 240, "{s}");
    assert_eq!(
        s["deliveries"]["shipstation"].as_i64().unwrap()
            + s["orders_with_nothing_to_ship"].as_i64().unwrap(),
        240,
        "{s}"
    );
    assert_eq!(s["shipment_mismatches"], 0, "{s}");
    assert_eq!(
        (
            s["missing_deliveries"].as_i64(),
            s["duplicate_deliveries"].as_i64()
        ),
        (Some(0), Some(0)),
        "{s}"
    );
    assert!(s["workers_killed"].as_u64().unwrap() >= 1, "{s}");
    ordersync_conformance::assert_no_canary("demo output", &stdout);
}
