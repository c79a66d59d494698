//! Connection state every process agrees on: two processes (two `App`s with their own pools,
//! engines and connector caches) on one database. A sink paused or deleted through one
//! process's API stops the other's claims and the use of its key; what is ingested while a
//! sink is paused is queued and goes out on resume; refresh tokens that rotate on every use
//! (and refuse a used one) are refreshed one process at a time with the stored token, and a
//! rotated token whose store fails is kept and stored later — no `needs_reauth`.

use crate::helpers::{
    Backend, TestApp, backends, capture_logs, captured_logs, provision, shippable,
    shopify_and_shipstation,
};
use ordersync::api::{self, ApiState, admin::hash_token};
use ordersync::app::App;
use ordersync::crypto::kek::LocalKek;
use ordersync::engine::Engine;
use ordersync::store::ConnectionRow;
use ordersync_conformance::{sim_get, sim_post};
use ordersync_sdk::Clock;
use ordersync_sdk::sim::{SimServer, SimStats};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::sync::Arc;

/// Process A (the `TestApp`, which serves the API) and process B on the same database.
async fn two_processes(b: Backend) -> (TestApp, App) {
    let key = LocalKek::generate_base64();
    let t = TestApp::with_master_key(b, &key).await;
    let kek = Arc::new(LocalKek::from_base64(&key).unwrap());
    let other = App::open(t.app.cfg.clone(), kek, t.clock.clone())
        .await
        .expect("open the second process");
    (t, other)
}

fn engine_of(app: &App, worker: &str) -> Engine {
    Engine::new(
        app.store.clone(),
        app.crypto.clone(),
        app.clock.clone(),
        app.http.clone(),
        app.cfg.engine.clone(),
        app.cfg.retention.clone(),
        worker.to_string(),
    )
}

/// A process's admin API on a random port, with a token of merchant `m`.
struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    async fn serve(t: &TestApp, engine: Engine, m: &str) -> Api {
        let token = format!("os_fleet_{}", uuid::Uuid::new_v4().simple());
        t.app
            .store
            .add_token(m, &hash_token(&token), t.now_us())
            .await
            .unwrap();
        let state = ApiState::new(&t.app, engine, true);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, api::router(state)).await.unwrap() });
        Api {
            base,
            token,
            http: reqwest::Client::new(),
        }
    }

    async fn call(&self, method: reqwest::Method, id: &str, body: Option<Value>) -> u16 {
        let mut rb = self
            .http
            .request(method, format!("{}/api/v1/connections/{id}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        rb.send().await.unwrap().status().as_u16()
    }
}

/// Orders a week newer than the last ones (so that the cursor reaches them).
async fn seed(t: &TestApp, sim: &SimServer, count: u64, seed: u64) {
    t.clock.advance(time::Duration::days(8));
    sim_post(
        &sim.base_url,
        "/_sim/seed",
        json!({ "count": count, "seed": seed }),
    )
    .await;
}

async fn pull_all(e: &Engine) {
    for _ in 0..50 {
        if e.pull_once().await.unwrap().work == 0 {
            return;
        }
    }
    panic!("the pull does not end");
}

/// Rounds of one sink until nothing is claimed; the deliveries handled.
async fn deliver_all(e: &Engine, sink: &str) -> usize {
    let mut n = 0;
    for _ in 0..50 {
        match e.deliver_sink_round(sink).await.unwrap().work {
            0 => return n,
            w => n += w,
        }
    }
    panic!("the deliveries do not end");
}

async fn received(sim: &SimServer) -> usize {
    sim_get(&sim.base_url, "/_sim/received").await["objects"]
        .as_array()
        .unwrap()
        .len()
}

async fn stats(sim: &SimServer) -> SimStats {
    serde_json::from_value(sim_get(&sim.base_url, "/_sim/stats").await).unwrap()
}

async fn row(t: &TestApp, id: &str) -> ConnectionRow {
    t.app.store.get_connection(id).await.unwrap().unwrap()
}

async fn stored_secret(t: &TestApp, id: &str, name: &str) -> String {
    let c = row(t, id).await;
    let s = t
        .app
        .crypto
        .open_secrets(
            &c.merchant_id,
            &c.id,
            c.secrets_ct.as_deref().unwrap(),
            t.clock.now(),
        )
        .await
        .unwrap();
    s[name].expose_secret().to_string()
}

/// Runs one statement on the test's database outside the service (fault injection).
async fn exec(url: &str, sql: &'static str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// From now on every write of a connection's secrets fails, until [`allow_secret_writes`].
async fn fail_secret_writes(t: &TestApp) {
    let url = &t.app.cfg.database_url;
    if url.starts_with("sqlite:") {
        exec(url, "CREATE TRIGGER fail_secrets BEFORE UPDATE OF secrets_ct ON connections BEGIN SELECT RAISE(ABORT, 'injected failure'); END").await;
    } else {
        exec(url, "CREATE FUNCTION fail_secrets() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$").await;
        exec(url, "CREATE TRIGGER fail_secrets BEFORE UPDATE OF secrets_ct ON connections FOR EACH ROW EXECUTE FUNCTION fail_secrets()").await;
    }
}

async fn allow_secret_writes(t: &TestApp) {
    let url = &t.app.cfg.database_url;
    if url.starts_with("sqlite:") {
        exec(url, "DROP TRIGGER fail_secrets").await;
    } else {
        exec(url, "DROP TRIGGER fail_secrets ON connections").await;
    }
}

/// An Amazon simulator whose refresh tokens are single-use (a used one is refused) routed to
/// a ShipStation simulator: the merchant and the connection ids (source first).
async fn rotating_amazon(t: &TestApp) -> (SimServer, SimServer, String, Vec<String>) {
    let clock: Arc<dyn Clock> = t.clock.clone();
    let opts = ordersync_amazon::sim::SimOptions {
        rotate_refresh_tokens: true,
        ..ordersync_amazon::sim::SimOptions::relaxed()
    };
    let amz = ordersync_amazon::sim::spawn(opts, clock.clone())
        .await
        .unwrap();
    let ss =
        ordersync_shipstation::sim::spawn(ordersync_shipstation::sim::SimOptions::relaxed(), clock)
            .await
            .unwrap();
    let spec = ordersync::registry::lookup("amazon").unwrap().sim.unwrap();
    let (m, ids) = provision(
        t,
        &[
            (
                "amazon",
                "source",
                (spec.demo_config)(&amz.base_url),
                spec.demo_secrets,
            ),
            (
                "shipstation",
                "sink",
                json!({ "api_base_url": ss.base_url, "requests_per_minute": 100000 }),
                &[("api_key", "fleet-key")],
            ),
        ],
    )
    .await;
    (amz, ss, m, ids)
}

fn token_calls(s: &SimStats, route: &str) -> u64 {
    s.by_route.get(route).copied().unwrap_or(0)
}

#[tokio::test]
async fn a_sink_paused_through_one_process_is_claimed_by_no_other_and_loses_nothing() {
    for b in backends() {
        let (t, other) = two_processes(b).await;
        let (shop, ss, m, ids) = shopify_and_shipstation(&t, "fleet-pause.myshopify.com").await;
        let sink = ids[1].as_str();
        let (a, w) = (engine_of(&t.app, "worker-a"), engine_of(&other, "worker-b"));
        let api = Api::serve(&t, a.clone(), &m).await;
        let store = t.app.store.clone();

        // B delivers a first lot: its instance of the sink (and its key) is live.
        seed(&t, &shop, 10, 1).await;
        pull_all(&a).await;
        assert_eq!(deliver_all(&w, sink).await, 10, "{b:?}");
        let first = received(&ss).await;
        assert!(first > 0, "{b:?}");
        // More orders are queued for it; then A's API pauses it.
        seed(&t, &shop, 10, 2).await;
        pull_all(&a).await;
        assert_eq!(
            store.totals().await.unwrap().deliveries_pending,
            10,
            "{b:?}"
        );
        let paused = api.call(
            reqwest::Method::PATCH,
            sink,
            Some(json!({ "state": "paused" })),
        );
        assert_eq!(paused.await, 200, "{b:?}");

        // B claims nothing of it, in a round of its own or in a pass over due sinks.
        assert_eq!(
            deliver_all(&w, sink).await,
            0,
            "{b:?}: paused in A, claimed by B"
        );
        assert_eq!(w.deliver_once().await.unwrap().work, 0, "{b:?}");
        assert!(
            store
                .due_delivery_sinks(t.now_us(), 10)
                .await
                .unwrap()
                .is_empty(),
            "{b:?}"
        );
        // What is ingested while it is paused is queued for it all the same.
        seed(&t, &shop, 10, 3).await;
        pull_all(&w).await;
        let tt = store.totals().await.unwrap();
        assert_eq!(
            (tt.orders, tt.deliveries_pending, tt.deliveries_done),
            (30, 20, 10),
            "{b:?}: every order has its delivery, waiting"
        );
        assert_eq!(received(&ss).await, first, "{b:?}: nothing went out paused");

        // Resumed through A: B sends everything that waited.
        let resumed = api.call(
            reqwest::Method::PATCH,
            sink,
            Some(json!({ "state": "active" })),
        );
        assert_eq!(resumed.await, 200, "{b:?}");
        assert_eq!(deliver_all(&w, sink).await, 20, "{b:?}");
        let tt = store.totals().await.unwrap();
        assert_eq!((tt.deliveries_done, tt.deliveries_dead), (30, 0), "{b:?}");
        assert_eq!(
            received(&ss).await,
            shippable(&shop.base_url).await.len(),
            "{b:?}: every order to ship is at the target, none missing"
        );
    }
}

#[tokio::test]
async fn a_sink_deleted_through_one_process_is_never_called_by_another() {
    for b in backends() {
        let (t, other) = two_processes(b).await;
        let (shop, ss, m, ids) = shopify_and_shipstation(&t, "fleet-delete.myshopify.com").await;
        let sink = ids[1].as_str();
        let (a, w) = (engine_of(&t.app, "worker-a"), engine_of(&other, "worker-b"));
        let api = Api::serve(&t, a.clone(), &m).await;
        let store = t.app.store.clone();

        seed(&t, &shop, 10, 4).await;
        pull_all(&a).await;
        assert_eq!(deliver_all(&w, sink).await, 10, "{b:?}");
        assert!(w.connectors.sink(sink).await.is_ok(), "{b:?}: B holds it");
        seed(&t, &shop, 10, 5).await;
        pull_all(&a).await;
        assert_eq!(
            store.totals().await.unwrap().deliveries_pending,
            10,
            "{b:?}"
        );

        let requests = stats(&ss).await.requests;
        let deleted = api.call(reqwest::Method::DELETE, sink, None).await;
        assert_eq!(deleted, 204, "{b:?}");
        assert_eq!(deliver_all(&w, sink).await, 0, "{b:?}");
        assert_eq!(w.deliver_once().await.unwrap().work, 0, "{b:?}");
        w.track_once().await.unwrap();
        assert!(
            w.connectors.sink(sink).await.is_err(),
            "{b:?}: B dropped its instance"
        );
        assert_eq!(
            stats(&ss).await.requests,
            requests,
            "{b:?}: no request with the deleted sink's key"
        );
        // Its queued deliveries end (they would hold their orders' PII past the purge).
        let dead = store.list_deliveries(&m, Some("dead"), 100).await.unwrap();
        assert_eq!(dead.len(), 10, "{b:?}");
        assert!(
            dead.iter().all(|d| d
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("deleted"))),
            "{b:?}"
        );
        assert_eq!(store.totals().await.unwrap().deliveries_pending, 0, "{b:?}");
    }
}

#[tokio::test]
async fn a_refresh_token_rotated_by_one_process_is_the_one_the_other_uses() {
    for b in backends() {
        let (t, other) = two_processes(b).await;
        let (amz, _ss, _m, ids) = rotating_amazon(&t).await;
        let source = ids[0].as_str();
        let (a, w) = (engine_of(&t.app, "worker-a"), engine_of(&other, "worker-b"));
        sim_post(
            &amz.base_url,
            "/_sim/seed",
            json!({ "count": 20, "seed": 1 }),
        )
        .await;

        // B refreshes first and keeps its instance; A rotates the token next; then B's
        // instance, which still holds the token A used up, needs a new access token.
        pull_all(&w).await;
        let mut last = stored_secret(&t, source, "refresh_token").await;
        for e in [&a, &w, &a, &w] {
            t.clock.advance(time::Duration::hours(2));
            pull_all(e).await;
            let c = row(&t, source).await;
            assert_eq!(
                (c.state.as_str(), c.last_error.as_deref()),
                ("active", None),
                "{b:?}: {} pulled",
                e.worker_id
            );
            let now = stored_secret(&t, source, "refresh_token").await;
            assert_ne!(
                now, last,
                "{b:?}: each refresh rotated and stored its token"
            );
            last = now;
        }
        // Both at once: one pulls, nothing breaks.
        t.clock.advance(time::Duration::hours(2));
        tokio::join!(pull_all(&a), pull_all(&w));
        let c = row(&t, source).await;
        assert_eq!(c.state, "active", "{b:?}");
        assert_eq!(t.app.store.totals().await.unwrap().orders, 20, "{b:?}");
        assert_eq!(
            token_calls(&stats(&amz).await, "lwa_token"),
            6,
            "{b:?}: one refresh per pull that needed one"
        );
    }
}

#[tokio::test]
async fn processes_delivering_to_one_sink_refresh_its_single_use_token_one_at_a_time() {
    for b in backends() {
        let (t, other) = two_processes(b).await;
        let clock: Arc<dyn Clock> = t.clock.clone();
        let shop = ordersync_shopify::sim::spawn(
            ordersync_shopify::sim::SimOptions::relaxed(),
            clock.clone(),
        )
        .await
        .unwrap();
        let sage = ordersync_sage::sim::spawn(ordersync_sage::sim::SimOptions::relaxed(), clock)
            .await
            .unwrap();
        let spec = ordersync::registry::lookup("sage").unwrap().sim.unwrap();
        let (_m, ids) = provision(
            &t,
            &[
                (
                    "shopify",
                    "source",
                    json!({ "shop_domain": "fleet-sage.myshopify.com", "api_base_url": shop.base_url }),
                    &[("access_token", "shpat_fleet")],
                ),
                (
                    "sage",
                    "sink",
                    (spec.demo_config)(&sage.base_url),
                    spec.demo_secrets,
                ),
            ],
        )
        .await;
        let sink = ids[1].as_str();
        let (a, w) = (engine_of(&t.app, "worker-a"), engine_of(&other, "worker-b"));
        let store = t.app.store.clone();
        let mut total = 0;
        // Sage access tokens live 5 minutes, refresh tokens are single-use: each lot finds
        // both processes' access tokens expired, and both refresh at once.
        for (lot, seed_no) in [(0, 11), (1, 12), (2, 13)] {
            seed(&t, &shop, 60, seed_no).await;
            pull_all(&a).await;
            total += 60;
            for _ in 0..20 {
                let (x, y) = tokio::join!(a.deliver_sink_round(sink), w.deliver_sink_round(sink));
                if x.unwrap().work + y.unwrap().work == 0 {
                    break;
                }
            }
            let tt = store.totals().await.unwrap();
            assert_eq!(
                (
                    tt.deliveries_done,
                    tt.deliveries_pending,
                    tt.deliveries_dead
                ),
                (total, 0, 0),
                "{b:?}: lot {lot}: every delivery made it, none waits on a refused token"
            );
        }
        let refreshes = token_calls(&stats(&sage).await, "POST /token");
        assert!(
            (4..=6).contains(&refreshes),
            "{b:?}: at most one refresh per process and lot, {refreshes}"
        );
        assert_eq!(row(&t, sink).await.state, "active", "{b:?}");
    }
}

#[tokio::test]
async fn a_rotated_token_whose_store_fails_is_retried_kept_and_stored_later() {
    capture_logs();
    for b in backends() {
        let (t, other) = two_processes(b).await;
        let (amz, _ss, _m, ids) = rotating_amazon(&t).await;
        let source = ids[0].as_str();
        let (a, w) = (engine_of(&t.app, "worker-a"), engine_of(&other, "worker-b"));
        sim_post(
            &amz.base_url,
            "/_sim/seed",
            json!({ "count": 10, "seed": 2 }),
        )
        .await;
        pull_all(&a).await;
        let used = stored_secret(&t, source, "refresh_token").await;

        // The database refuses secrets writes: A's refresh succeeds at the platform (which
        // spends the stored token) but its successor cannot be stored.
        fail_secret_writes(&t).await;
        t.clock.advance(time::Duration::hours(2));
        pull_all(&a).await;
        let c = row(&t, source).await;
        assert_eq!(c.state, "active", "{b:?}: not needs_reauth");
        assert!(
            c.last_error
                .as_deref()
                .is_some_and(|e| e.starts_with("retriable") && e.contains("not stored yet")),
            "{b:?}: {:?}",
            c.last_error
        );
        assert_eq!(stored_secret(&t, source, "refresh_token").await, used);
        assert!(
            captured_logs().contains("Storing a rotated refresh token failed; retrying."),
            "{b:?}: the store was retried"
        );

        // The database is back: A's next pull stores the token it kept, without a refresh.
        allow_secret_writes(&t).await;
        let calls = token_calls(&stats(&amz).await, "lwa_token");
        t.clock.advance(time::Duration::seconds(10));
        pull_all(&a).await;
        assert_eq!(token_calls(&stats(&amz).await, "lwa_token"), calls, "{b:?}");
        let kept = stored_secret(&t, source, "refresh_token").await;
        assert_ne!(kept, used, "{b:?}: the rotated token is stored");
        assert_eq!(row(&t, source).await.last_error, None, "{b:?}");
        // ...and it is the live one: B refreshes with it.
        t.clock.advance(time::Duration::hours(2));
        pull_all(&w).await;
        let c = row(&t, source).await;
        assert_eq!((c.state.as_str(), c.last_error), ("active", None), "{b:?}");
        assert_eq!(t.app.store.totals().await.unwrap().orders, 10, "{b:?}");
    }
    let logs = captured_logs();
    for canary in ["Atzr|", "Atza|"] {
        assert!(!logs.contains(canary), "a token value is in the logs");
    }
}
