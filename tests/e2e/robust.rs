//! A bad order or a bad connection never stops a worker: poisoned orders from a simulator are
//! rejected with reasons in `status` while every other order and connection keeps syncing; a
//! panicking connector is isolated to its connection or batch; stored PII that cannot be
//! opened fails only its order; a stuck loop turns `/healthz` red.

use crate::helpers::{
    Backend, TestApp, backends, capture_logs, captured_logs, eventually, provision, shippable,
};
use async_trait::async_trait;
use base64::Engine as _;
use ordersync::api::{self, ApiState};
use ordersync::engine::{Engine, Heartbeats};
use ordersync::store::{ConnectionStatus, OrderQuery};
use ordersync_conformance::{sim_get, sim_post};
use ordersync_sdk::sim::SimServer;
use ordersync_sdk::{
    Clock, ConnectorError, DeliveryOutcome, DeliveryRequest, ManualClock, Order, Page, PullCursor,
    Sink, SinkCaps, SinkRole, Source, SourceCaps,
};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

async fn shop(t: &TestApp) -> SimServer {
    let clock: Arc<dyn Clock> = t.clock.clone();
    ordersync_shopify::sim::spawn(Default::default(), clock)
        .await
        .unwrap()
}

async fn shipstation(t: &TestApp) -> SimServer {
    let clock: Arc<dyn Clock> = t.clock.clone();
    ordersync_shipstation::sim::spawn(ordersync_shipstation::sim::SimOptions::relaxed(), clock)
        .await
        .unwrap()
}

fn shop_conn(
    s: &SimServer,
    domain: &str,
) -> (
    &'static str,
    &'static str,
    Value,
    &'static [(&'static str, &'static str)],
) {
    (
        "shopify",
        "source",
        json!({ "shop_domain": domain, "api_base_url": s.base_url }),
        &[("access_token", "shpat_e2e")],
    )
}

fn ss_conn(
    s: &SimServer,
) -> (
    &'static str,
    &'static str,
    Value,
    &'static [(&'static str, &'static str)],
) {
    (
        "shipstation",
        "sink",
        json!({ "api_base_url": s.base_url, "requests_per_minute": 100000 }),
        &[("api_key", "e2e-key")],
    )
}

/// External order ids of the shipments ShipStation holds (one per order; two simulated
/// shops hand out the same ids, so this is a list).
async fn received(ss: &SimServer) -> Vec<String> {
    let r = sim_get(&ss.base_url, "/_sim/received").await;
    r["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            o["external_order_id"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

async fn deliver_all(e: &Engine) {
    for _ in 0..100 {
        if e.deliver_once().await.unwrap().work == 0 {
            return;
        }
    }
    panic!("deliveries never settled");
}

async fn status_of(t: &TestApp, merchant: &str, id: &str) -> ConnectionStatus {
    t.app
        .store
        .connection_status(Some(merchant))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id == id)
        .unwrap()
}

fn ids(v: &Value) -> Vec<String> {
    v["external_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn poisoned_orders_are_rejected_and_every_other_order_syncs() {
    capture_logs();
    for b in backends() {
        let t = TestApp::new(b).await;
        let (bad, good, ss) = (shop(&t).await, shop(&t).await, shipstation(&t).await);
        let (m, conns) = provision(
            &t,
            &[
                shop_conn(&bad, "bad.myshopify.com"),
                shop_conn(&good, "good.myshopify.com"),
                ss_conn(&ss),
            ],
        )
        .await;
        sim_post(
            &bad.base_url,
            "/_sim/seed",
            json!({ "count": 30, "seed": 1 }),
        )
        .await;
        sim_post(
            &good.base_url,
            "/_sim/seed",
            json!({ "count": 40, "seed": 2 }),
        )
        .await;
        let mut poisoned = vec![];
        for kind in ["huge_price", "far_date", "unmappable"] {
            let r = sim_post(
                &bad.base_url,
                "/_sim/poison",
                json!({ "kind": kind, "count": 2 }),
            )
            .await;
            poisoned.extend(ids(&r));
        }
        assert_eq!(poisoned.len(), 6);

        // One pass claims both shops (up to 4 per pass) and reads each to the end.
        let e = t.app.engine();
        assert!(e.pull_once().await.unwrap().work >= 2, "{b:?}");
        let sb = status_of(&t, &m, &conns[0]).await;
        assert_eq!((sb.orders, sb.rejected_orders), (30, 6), "{b:?}: {sb:?}");
        let why = sb.last_error.clone().unwrap_or_default();
        for reason in [
            "2× amount out of range in unit price",
            "2× createdAt is in the future",
            "2× missing totalPriceSet",
        ] {
            assert!(why.contains(reason), "{b:?}: {why}");
        }
        assert!(!why.contains("Canary") && !why.contains("customer.test"));
        assert!(
            sb.last_pull_at.is_some(),
            "{b:?}: the poisoned shop's pull succeeded"
        );
        let sg = status_of(&t, &m, &conns[1]).await;
        assert_eq!(
            (sg.orders, sg.rejected_orders, sg.last_error.as_deref()),
            (40, 0, None),
            "{b:?}"
        );

        deliver_all(&e).await;
        let got = received(&ss).await;
        let want = shippable(&bad.base_url).await.len() + shippable(&good.base_url).await.len();
        assert!(
            want > 50,
            "{b:?}: most of the 64 good orders have something to ship"
        );
        assert_eq!(
            got.len(),
            want,
            "{b:?}: every good order of both shops with something to ship delivered"
        );
        let stored = t
            .app
            .store
            .list_orders(&OrderQuery {
                merchant_id: m.clone(),
                connection_id: Some(conns[0].clone()),
                status: None,
                after: None,
                limit: 100,
            })
            .await
            .unwrap();
        assert_eq!(stored.len(), 30, "{b:?}");
        assert!(
            stored.iter().all(|o| !poisoned.contains(&o.external_id)),
            "{b:?}"
        );
    }
    // The warnings these failures log carry ids and reasons, never the seeded buyers.
    let logs = captured_logs();
    assert!(logs.contains("held for review"), "logs are captured");
    assert!(
        !logs.contains("@customer.test") && !logs.contains("Canary"),
        "seeded PII reached a log line"
    );
}

/// A source whose pull panics (a connector bug), installed without a registry kind.
struct PanickingSource;

#[async_trait]
impl Source for PanickingSource {
    fn kind(&self) -> &'static str {
        "shopify"
    }
    fn capabilities(&self) -> SourceCaps {
        SourceCaps {
            page_size: 50,
            webhooks: false,
            overlap: time::Duration::minutes(5),
            settle: time::Duration::seconds(60),
            pii_window: None,
        }
    }
    async fn pull(&self, _: &PullCursor) -> Result<Page, ConnectorError> {
        panic!("connector bug")
    }
    async fn fetch(&self, _: &str) -> Result<Option<Order>, ConnectorError> {
        Ok(None)
    }
}

#[tokio::test]
async fn a_panicking_connection_leaves_the_others_of_its_pass_syncing() {
    let t = TestApp::new(Backend::Sqlite).await;
    let (a, p, b, ss) = (
        shop(&t).await,
        shop(&t).await,
        shop(&t).await,
        shipstation(&t).await,
    );
    let (m, conns) = provision(
        &t,
        &[
            shop_conn(&a, "a.myshopify.com"),
            shop_conn(&p, "p.myshopify.com"),
            shop_conn(&b, "b.myshopify.com"),
            ss_conn(&ss),
        ],
    )
    .await;
    for (s, seed) in [(&a, 3), (&p, 4), (&b, 5)] {
        sim_post(
            &s.base_url,
            "/_sim/seed",
            json!({ "count": 25, "seed": seed }),
        )
        .await;
    }
    let e = t.app.engine();
    let row = t
        .app
        .store
        .get_connection(&conns[1])
        .await
        .unwrap()
        .unwrap();
    e.connectors.install_source(&row, Arc::new(PanickingSource));

    e.pull_once()
        .await
        .expect("a panic stays inside its connection");
    let sp = status_of(&t, &m, &conns[1]).await;
    assert_eq!(
        sp.last_error.as_deref(),
        Some("internal: the pull panicked")
    );
    assert_eq!(sp.orders, 0);
    for id in [&conns[0], &conns[2]] {
        let s = status_of(&t, &m, id).await;
        assert!(s.orders > 0 && s.last_error.is_none(), "{s:?}");
    }
    // A claim past its time budget yields to a due store (the panicked one is due again), so
    // on a slow machine the healthy shops may need a few more passes; no clock moves here.
    for _ in 0..10 {
        let mut done = true;
        for id in [&conns[0], &conns[2]] {
            done &= status_of(&t, &m, id).await.orders == 25;
        }
        if done {
            break;
        }
        e.pull_once().await.unwrap();
    }
    for id in [&conns[0], &conns[2]] {
        let s = status_of(&t, &m, id).await;
        assert_eq!((s.orders, s.last_error.as_deref()), (25, None), "{s:?}");
    }
    // Its lease was released: once its poll interval passes it is claimed again.
    t.clock.advance(time::Duration::seconds(2));
    let now = t.now_us();
    let again = t
        .app
        .store
        .claim_due_sources("probe", now, now + 1_000_000, 10)
        .await
        .unwrap();
    assert!(again.iter().any(|c| c.id == conns[1]), "lease released");
    deliver_all(&e).await;
    let want = shippable(&a.base_url).await.len() + shippable(&b.base_url).await.len();
    assert_eq!(
        received(&ss).await.len(),
        want,
        "the two healthy shops' orders shipped"
    );
}

/// A sink whose batch call panics.
struct PanickingSink;

#[async_trait]
impl Sink for PanickingSink {
    fn kind(&self) -> &'static str {
        "shipstation"
    }
    fn capabilities(&self) -> SinkCaps {
        SinkCaps {
            role: SinkRole::Fulfillment,
            batch_size: 10,
            concurrency: 4,
            deliveries_per_minute: None,
            updates: true,
            tracks_delivery: false,
            delivery_feed: false,
        }
    }
    async fn deliver(&self, _: DeliveryRequest<'_>) -> Result<DeliveryOutcome, ConnectorError> {
        panic!("sink bug")
    }
}

#[tokio::test]
async fn a_panicking_sink_batch_leaves_other_deliveries_flowing() {
    let t = TestApp::new(Backend::Sqlite).await;
    let (a, bad_ss, ss) = (shop(&t).await, shipstation(&t).await, shipstation(&t).await);
    let (m, conns) = provision(
        &t,
        &[
            shop_conn(&a, "a.myshopify.com"),
            ss_conn(&bad_ss),
            ss_conn(&ss),
        ],
    )
    .await;
    sim_post(&a.base_url, "/_sim/seed", json!({ "count": 25, "seed": 6 })).await;
    let e = t.app.engine();
    e.connectors
        .install_sink(&conns[1], Arc::new(PanickingSink));
    e.pull_once().await.unwrap();
    let first = e
        .deliver_once()
        .await
        .expect("a sink panic stays inside its batch");
    assert_eq!(first.work, 50);
    deliver_all(&e).await;
    assert_eq!(
        received(&ss).await.len(),
        25,
        "the healthy sink got every order"
    );
    let pending = t
        .app
        .store
        .list_deliveries(&m, Some("pending"), 100)
        .await
        .unwrap();
    assert_eq!(pending.len(), 25);
    assert!(pending.iter().all(|d| d.sink_connection_id == conns[1]
        && d.last_error.as_deref().is_some_and(
            |e| e.starts_with("retriable") && e.ends_with("internal: the sink panicked")
        )));
    assert!(received(&bad_ss).await.is_empty());
}

/// Overwrites one byte of the order's PII ciphertext and claims it holds every PII field, so
/// the next re-read must merge (and open) what is stored.
async fn corrupt_pii(t: &TestApp, connection_id: &str) -> String {
    const OLDEST: &str = "SELECT id, pii_ct FROM orders WHERE connection_id = $1 ORDER BY source_updated_at, external_id LIMIT 1";
    const CORRUPT: &str = "UPDATE orders SET pii_ct = $2, pii_fields = 127 WHERE id = $1";
    let flip = |ct: &str| {
        let (head, body) = ct.rsplit_once(':').unwrap();
        let mut raw = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        let mid = raw.len() / 2;
        raw[mid] ^= 0x55;
        format!(
            "{head}:{}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    };
    let url = &t.app.cfg.database_url;
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let (id, ct): (String, String) = sqlx::query_as(OLDEST)
            .bind(connection_id)
            .fetch_one(&pool)
            .await
            .unwrap();
        sqlx::query(CORRUPT)
            .bind(&id)
            .bind(flip(&ct))
            .execute(&pool)
            .await
            .unwrap();
        id
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let (id, ct): (String, String) = sqlx::query_as(OLDEST)
            .bind(connection_id)
            .fetch_one(&pool)
            .await
            .unwrap();
        sqlx::query(CORRUPT)
            .bind(&id)
            .bind(flip(&ct))
            .execute(&pool)
            .await
            .unwrap();
        id
    }
}

#[tokio::test]
async fn unreadable_stored_pii_fails_only_its_order_until_it_is_re_read() {
    capture_logs();
    for b in backends() {
        let t = TestApp::new(b).await;
        let (a, ss) = (shop(&t).await, shipstation(&t).await);
        let (m, conns) = provision(&t, &[shop_conn(&a, "a.myshopify.com"), ss_conn(&ss)]).await;
        sim_post(&a.base_url, "/_sim/seed", json!({ "count": 12, "seed": 7 })).await;
        let e = t.app.engine();
        e.pull_once().await.unwrap();
        let broken = corrupt_pii(&t, &conns[0]).await;

        // Delivery: that order's delivery goes dead with a clear reason; the rest of what has
        // something to ship goes out (an order the marketplace reports fulfilled does not).
        let ext = t
            .app
            .store
            .get_order(&m, &broken)
            .await
            .unwrap()
            .unwrap()
            .external_id;
        let want = shippable(&a.base_url).await;
        deliver_all(&e).await;
        let held = received(&ss).await.len();
        assert_eq!(
            held,
            want.len() - usize::from(want.contains_key(&ext)),
            "{b:?}"
        );
        let dead = t
            .app
            .store
            .list_deliveries(&m, Some("dead"), 10)
            .await
            .unwrap();
        assert_eq!(dead.len(), 1, "{b:?}");
        assert_eq!(dead[0].order_id, broken);
        let why = dead[0].last_error.clone().unwrap_or_default();
        assert!(
            why.starts_with("permanent") && why.contains("stored PII cannot be opened"),
            "{b:?}: {why}"
        );

        // Re-ingest: the platform changes that order (the oldest); the merge cannot open the
        // stored PII, so the update goes on with the PII Shopify sent, and is delivered.
        sim_post(&a.base_url, "/_sim/update", json!({ "count": 1 })).await;
        t.clock.advance(time::Duration::seconds(90));
        e.pull_once().await.unwrap();
        let s = status_of(&t, &m, &conns[0]).await;
        assert_eq!(
            (s.last_error.as_deref(), s.orders),
            (None, 12),
            "{b:?}: the page committed"
        );
        deliver_all(&e).await;
        let totals = t.app.store.totals().await.unwrap();
        assert_eq!(
            (totals.deliveries_done, totals.deliveries_dead),
            (12, 0),
            "{b:?}"
        );
        let want = shippable(&a.base_url).await;
        assert_eq!(
            received(&ss).await.len(),
            held + usize::from(want.contains_key(&ext)),
            "{b:?}: the re-read order went out too"
        );
    }
    // The warnings these failures log carry ids and reasons, never the seeded buyers.
    let logs = captured_logs();
    assert!(
        logs.contains("Stored PII cannot be opened"),
        "logs are captured"
    );
    assert!(
        !logs.contains("@customer.test") && !logs.contains("Canary"),
        "seeded PII reached a log line"
    );
}

/// A sink whose call never returns (a hang no timeout catches).
struct HangingSink;

#[async_trait]
impl Sink for HangingSink {
    fn kind(&self) -> &'static str {
        "shipstation"
    }
    fn capabilities(&self) -> SinkCaps {
        PanickingSink.capabilities()
    }
    async fn deliver(&self, _: DeliveryRequest<'_>) -> Result<DeliveryOutcome, ConnectorError> {
        std::future::pending().await
    }
}

async fn healthz(base: &str) -> (u16, String) {
    let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn healthz_names_a_stuck_worker_loop() {
    let t = TestApp::new(Backend::Sqlite).await;
    let (a, ss) = (shop(&t).await, shipstation(&t).await);
    let (_, conns) = provision(&t, &[shop_conn(&a, "a.myshopify.com"), ss_conn(&ss)]).await;
    sim_post(&a.base_url, "/_sim/seed", json!({ "count": 3, "seed": 8 })).await;
    let hb_clock = Arc::new(ManualClock::new());
    let mut e = t.app.engine();
    e.heartbeats = Arc::new(Heartbeats::new(hb_clock.clone()));
    e.connectors.install_sink(&conns[1], Arc::new(HangingSink));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = api::router(ApiState::new(&t.app, e.clone(), true));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    assert_eq!(
        healthz(&base).await,
        (200, "ok".into()),
        "no loops yet: API-only is healthy"
    );
    let cancel = CancellationToken::new();
    let worker = {
        let (e, c) = (e.clone(), cancel.clone());
        tokio::spawn(async move { e.run(c).await })
    };
    let store = t.app.store.clone();
    assert!(
        eventually(30, || async {
            store.totals().await.unwrap().deliveries_in_flight == 3
        })
        .await,
        "the deliver loop is stuck in the sink"
    );
    assert_eq!(
        healthz(&base).await,
        (200, "ok".into()),
        "recent beats are healthy"
    );

    // Two minutes on: the live loops beat again, the stuck one cannot.
    hb_clock.advance(time::Duration::minutes(2));
    let b = base.clone();
    assert!(
        eventually(30, || {
            let b = b.clone();
            async move {
                let (code, body) = healthz(&b).await;
                code == 503 && body.starts_with("stale: deliver ") && !body.contains(',')
            }
        })
        .await,
        "{:?}",
        healthz(&base).await
    );
    cancel.cancel();
    worker.abort();
}
