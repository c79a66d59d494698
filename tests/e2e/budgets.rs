//! Rate budgets shared by the fleet: two workers on one database together keep a target's
//! limit (the simulator's own limiter never answers 429), and a batch held at a throttled
//! target keeps its lease for as long as it waits, so no other worker claims it twice.

use crate::helpers::{TestApp, backends, eventually, provision};
use async_trait::async_trait;
use ordersync_conformance::{sim_get, sim_post};
use ordersync_sdk::{
    ConnectorError, DeliveryOutcome, DeliveryRequest, OutcomeKind, Sink, SinkCaps, SinkRole,
    budget_key,
};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The simulator's real fixed-window limit, scaled down from 200 a minute.
const SIM_LIMIT: u32 = 40;
/// What the sink is configured to send a minute: a burst of 3 and 35 a minute paced (b + r ×
/// 1 min ≤ 38). Two workers counting only their own would send 76 in a minute.
const SINK_RPM: u32 = SIM_LIMIT - 2;
/// Orders seeded: more requests than one window allows.
const ORDERS: u64 = 60;

async fn pull_all(t: &TestApp, want: i64) {
    let engine = t.app.engine();
    let store = t.app.store.clone();
    let pulled = eventually(60, || {
        let (e, s, c) = (engine.clone(), store.clone(), t.clock.clone());
        async move {
            // Past the source's settle time, so every seeded order is in the window.
            c.advance(time::Duration::minutes(2));
            e.pull_once().await.unwrap();
            s.totals().await.unwrap().deliveries_pending >= want
        }
    })
    .await;
    assert!(pulled, "every order pulled");
}

#[tokio::test]
async fn two_workers_together_stay_within_the_targets_limit() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let clock: Arc<dyn ordersync_sdk::Clock> = t.clock.clone();
        let shop = ordersync_shopify::sim::spawn(
            ordersync_shopify::sim::SimOptions::relaxed(),
            clock.clone(),
        )
        .await
        .unwrap();
        // The real fixed-window limiter.
        let ss = ordersync_shipstation::sim::spawn(
            ordersync_shipstation::sim::SimOptions {
                requests_per_minute: SIM_LIMIT,
                ..Default::default()
            },
            clock,
        )
        .await
        .unwrap();
        provision(
            &t,
            &[
                (
                    "shopify",
                    "source",
                    json!({ "shop_domain": "budget.myshopify.com", "api_base_url": shop.base_url }),
                    &[("access_token", "shpat_e2e")],
                ),
                (
                    "shipstation",
                    "sink",
                    // Just under the limit: a window spent to the last request answers
                    // `X-Rate-Limit-Remaining: 0`, and the pause until its reset runs on real
                    // time, which this test's fast-forwarded clock outruns.
                    json!({ "api_base_url": ss.base_url, "requests_per_minute": SINK_RPM }),
                    &[("api_key", "e2e-budget-key")],
                ),
            ],
        )
        .await;
        sim_post(
            &shop.base_url,
            "/_sim/seed",
            json!({ "count": ORDERS, "seed": 4 }),
        )
        .await;
        pull_all(&t, ORDERS as i64).await;

        // Two workers: engines of their own (connector caches, budget clients), one database.
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let mut e = t.app.engine();
                // One order per request, so requests are what the limit counts.
                e.cfg.delivery_batch = 1;
                // The clock runs 20× fast below; leases must outlast the test in its time.
                e.cfg.lease_secs = 3600;
                e
            })
            .collect();
        let key = budget_key(
            "shipstation",
            "v2",
            &format!("{}\n{}", ss.base_url, "e2e-budget-key"),
        );
        let stop = Arc::new(AtomicBool::new(false));
        // Drives the clock at 20× (a minute in 3 s; no faster, or a gate waiting for its
        // next token, which re-asks every 250 ms of real time, would leave tokens unspent)
        // and samples the budget row as the workers spend it.
        let driver = {
            let (c, s, stop, key) = (
                t.clock.clone(),
                t.app.store.clone(),
                stop.clone(),
                key.clone(),
            );
            tokio::spawn(async move {
                let mut lowest = f64::MAX;
                let mut samples = 0;
                while !stop.load(Ordering::SeqCst) {
                    c.advance(time::Duration::milliseconds(200));
                    if let Some((tokens, _)) = s.rate_budget(&key).await.unwrap() {
                        lowest = lowest.min(tokens);
                        samples += 1;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                (lowest, samples)
            })
        };
        let started = ordersync_sdk::Clock::now(&*t.clock);
        let runs: Vec<_> = workers
            .into_iter()
            .map(|e| {
                let store = t.app.store.clone();
                tokio::spawn(async move {
                    let mut work = 0;
                    loop {
                        work += e.deliver_once().await.unwrap().work;
                        let totals = store.totals().await.unwrap();
                        if totals.deliveries_done + totals.deliveries_dead >= ORDERS as i64 {
                            return work;
                        }
                        // Idle like the worker loop when nothing is due for this one.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                })
            })
            .collect();
        let mut done = vec![];
        for r in runs {
            done.push(
                tokio::time::timeout(Duration::from_secs(120), r)
                    .await
                    .expect("deliveries finish")
                    .unwrap(),
            );
        }
        let took = ordersync_sdk::Clock::now(&*t.clock) - started;
        stop.store(true, Ordering::SeqCst);
        let (lowest, samples) = driver.await.unwrap();

        let totals = t.app.store.totals().await.unwrap();
        assert_eq!(totals.deliveries_done, ORDERS as i64, "{b:?}: {totals:?}");
        assert!(
            done.iter().all(|w| *w > 0),
            "{b:?}: both workers delivered: {done:?}"
        );
        let stats = sim_get(&ss.base_url, "/_sim/stats").await;
        let requests = stats["requests"].as_u64().unwrap();
        assert_eq!(
            stats["throttled"].as_u64(),
            Some(0),
            "{b:?}: no 429 from the simulator's limiter: {stats}"
        );
        // Seeded orders with nothing to ship need no request; the rest one each.
        assert!(requests >= ORDERS / 2, "{b:?}: {stats}");
        // The fleet's pace, not each worker's: 35 a minute together after a burst of 3.
        let minutes = took.as_seconds_f64() / 60.0;
        assert!(
            minutes >= (requests as f64 - 3.0) / 35.0 * 0.98,
            "{b:?}: {requests} requests in {minutes:.2} minutes"
        );
        assert!(samples > 0, "{b:?}: the budget row was read");
        assert!(lowest >= 0.0, "{b:?}: tokens never below zero: {lowest}");
    }
}

/// A target that holds every delivery until released (a throttled one, as seen from the
/// engine), and records each call's idempotency key.
struct HeldTarget {
    calls: Mutex<BTreeMap<String, u32>>,
    /// No permits until released.
    release: tokio::sync::Semaphore,
}

#[async_trait]
impl Sink for HeldTarget {
    fn kind(&self) -> &'static str {
        "held"
    }
    fn capabilities(&self) -> SinkCaps {
        SinkCaps {
            role: SinkRole::Fulfillment,
            batch_size: 10,
            concurrency: 1,
            deliveries_per_minute: None,
            updates: true,
            tracks_delivery: false,
            delivery_feed: false,
        }
    }
    async fn deliver(&self, req: DeliveryRequest<'_>) -> Result<DeliveryOutcome, ConnectorError> {
        *self
            .calls
            .lock()
            .unwrap()
            .entry(req.idempotency_key.to_string())
            .or_default() += 1;
        drop(self.release.acquire().await);
        Ok(DeliveryOutcome {
            external_ref: format!("held-{}", req.object_key),
            kind: OutcomeKind::Created,
        })
    }
}

#[tokio::test]
async fn a_batch_held_longer_than_its_lease_is_never_claimed_twice() {
    const LEASE_SECS: i64 = 2;
    for b in backends() {
        let t = TestApp::new(b).await;
        let clock: Arc<dyn ordersync_sdk::Clock> = t.clock.clone();
        let shop =
            ordersync_shopify::sim::spawn(ordersync_shopify::sim::SimOptions::relaxed(), clock)
                .await
                .unwrap();
        let (_m, ids) = provision(
            &t,
            &[
                (
                    "shopify",
                    "source",
                    json!({ "shop_domain": "held.myshopify.com", "api_base_url": shop.base_url }),
                    &[("access_token", "shpat_e2e")],
                ),
                (
                    "shipstation",
                    "sink",
                    json!({ "api_base_url": "http://127.0.0.1:9" }),
                    &[("api_key", "unused")],
                ),
            ],
        )
        .await;
        sim_post(
            &shop.base_url,
            "/_sim/seed",
            json!({ "count": 5, "seed": 3 }),
        )
        .await;
        pull_all(&t, 5).await;
        let sink_id = ids[1].clone();
        let target = Arc::new(HeldTarget {
            calls: Mutex::default(),
            release: tokio::sync::Semaphore::new(0),
        });
        let [a, b_] = [0, 1].map(|_| {
            let mut e = t.app.engine();
            e.cfg.lease_secs = LEASE_SECS;
            e.connectors.install_sink(&sink_id, target.clone());
            e
        });
        let first = {
            let (a, id) = (a.clone(), sink_id.clone());
            tokio::spawn(async move { a.deliver_sink_round(&id).await.unwrap().work })
        };
        let held = eventually(10, || async { !target.calls.lock().unwrap().is_empty() }).await;
        assert!(held, "{b:?}: the first worker's batch is at the target");
        // Two and a half leases of the target holding the batch: the other worker keeps
        // trying and finds nothing to claim, because the holder renews its leases.
        let until = tokio::time::Instant::now() + Duration::from_millis(2500 * LEASE_SECS as u64);
        let mut rounds = 0;
        while tokio::time::Instant::now() < until {
            let claimed =
                tokio::time::timeout(Duration::from_secs(5), b_.deliver_sink_round(&sink_id))
                    .await
                    .expect("a claim would block at the held target")
                    .unwrap()
                    .work;
            assert_eq!(claimed, 0, "{b:?}: the held batch was claimed again");
            rounds += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(rounds > 10, "{b:?}: {rounds}");
        target.release.add_permits(1);
        assert_eq!(first.await.unwrap(), 5, "{b:?}");
        let totals = t.app.store.totals().await.unwrap();
        assert_eq!(
            totals.deliveries_done, 5,
            "{b:?}: its outcomes were written"
        );
        let calls = target.calls.lock().unwrap().clone();
        assert_eq!(calls.len(), 5, "{b:?}: {calls:?}");
        assert!(
            calls.values().all(|n| *n == 1),
            "{b:?}: each delivery went out once: {calls:?}"
        );
    }
}

#[tokio::test]
async fn concurrent_takes_never_grant_more_than_the_bucket_holds() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let now = t.now_us();
        // A bucket of 50 that refills about once a day: 8 takers racing for it in chunks of
        // 3 get exactly 50 between them, whatever the interleaving.
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let s = t.app.store.clone();
                tokio::spawn(async move {
                    let mut got = 0;
                    for _ in 0..10 {
                        got += s
                            .take_rate_budget("test:race:k", now, 1.0 / 86_400.0, 50.0, 3)
                            .await
                            .unwrap()
                            .granted;
                    }
                    got
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        assert_eq!(total, 50, "{b:?}");
        let (tokens, at) = t
            .app
            .store
            .rate_budget("test:race:k")
            .await
            .unwrap()
            .unwrap();
        assert!((0.0..1.0).contains(&tokens), "{b:?}: {tokens}");
        assert_eq!(at, now, "{b:?}");
        // Later, it refills at its rate, capped at the burst.
        let day = 86_400 * 1_000_000;
        let s = t
            .app
            .store
            .take_rate_budget("test:race:k", now + 100 * day, 1.0 / 86_400.0, 50.0, 80)
            .await
            .unwrap();
        assert_eq!(s.granted, 50, "{b:?}");
        assert!(t.app.store.rate_budget("nobody").await.unwrap().is_none());
    }
}
