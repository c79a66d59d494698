//! `GET /metrics`: a bearer token when one is configured, open on a loopback listener without
//! one and off on any other, or on a listener of its own; per-connection gauges labelled by
//! connection id (never a merchant-supplied name) that go with a deleted connection; database
//! gauges read once per cache interval however many scrapes arrive.

use crate::helpers::{Backend, TestApp, backends, temp_dir};
use ordersync::api::{self, ApiState, admin::hash_token};
use serde_json::{Value, json};
use std::time::Duration;

/// `router` (the API) on a random loopback port; the config's `listen` only decides the
/// access policy.
async fn serve(t: &TestApp) -> (String, ApiState) {
    let mut state = ApiState::new(&t.app, t.app.engine(), true);
    state.admin_token_hash = Some(hash_token("operator-secret"));
    (bind(api::router(state.clone())).await, state)
}

async fn bind(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

async fn scrape(base: &str, token: Option<&str>) -> (u16, String) {
    // One client: building one per request (TLS roots) would dominate the latencies printed.
    static HTTP: std::sync::LazyLock<reqwest::Client> =
        std::sync::LazyLock::new(reqwest::Client::new);
    let mut rb = HTTP.get(format!("{base}/metrics"));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The value of the sample `name{labels}` (labels as rendered, in order), if present.
fn value(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn reads(body: &str) -> f64 {
    value(body, "ordersync_metrics_reads_total").expect("reads counter")
}

#[tokio::test]
async fn a_configured_token_is_required() {
    let mut t = TestApp::new(Backend::Sqlite).await;
    t.app.cfg.metrics.token = Some("metrics-secret".to_string().into());
    // With a token, a listener on every interface serves it too.
    t.app.cfg.listen = "0.0.0.0:8080".into();
    let (base, state) = serve(&t).await;
    assert_eq!(state.metrics.off_reason(), None);
    assert_eq!(scrape(&base, None).await, (401, String::new()));
    assert_eq!(
        scrape(&base, Some("metrics-secre")).await,
        (401, String::new())
    );
    assert_eq!(scrape(&base, Some("operator-secret")).await.0, 401);
    let basic = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .header("Authorization", "Basic metrics-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    assert_eq!(basic.headers()["www-authenticate"], "Bearer");
    let (st, body) = scrape(&base, Some("metrics-secret")).await;
    assert_eq!(st, 200);
    assert!(body.contains("# TYPE ordersync_orders gauge"), "{body}");
}

#[tokio::test]
async fn without_a_token_metrics_are_open_on_loopback_only() {
    let mut t = TestApp::new(Backend::Sqlite).await;
    for listen in ["127.0.0.1:8080", "[::1]:8080", "localhost:9000"] {
        t.app.cfg.listen = listen.into();
        let (base, state) = serve(&t).await;
        assert_eq!(state.metrics.off_reason(), None, "{listen}");
        let (st, body) = scrape(&base, None).await;
        assert_eq!(st, 200, "{listen}");
        // What a later acceptance script greps for.
        assert!(body.lines().any(|l| l.starts_with("# TYPE")), "{body}");
    }
    for listen in ["0.0.0.0:8080", "[::]:8080", "10.1.2.3:80"] {
        t.app.cfg.listen = listen.into();
        let (base, state) = serve(&t).await;
        let (st, body) = scrape(&base, None).await;
        assert_eq!(st, 404, "{listen}");
        assert!(!body.contains("# TYPE"), "{body}");
        let why = state.metrics.off_reason().expect("a startup warning");
        assert!(
            why.contains(listen)
                && why.contains("ORDERSYNC_METRICS_TOKEN")
                && why.contains("ORDERSYNC_METRICS_LISTEN"),
            "{why}"
        );
    }
}

#[tokio::test]
async fn metrics_on_a_listener_of_their_own() {
    let mut t = TestApp::new(Backend::Sqlite).await;
    t.app.cfg.metrics.listen = Some("127.0.0.1:0".into());
    let (base, state) = serve(&t).await;
    assert_eq!(state.metrics.off_reason(), None);
    let own = bind(api::metrics_router(state.clone())).await;
    assert_eq!(scrape(&base, None).await.0, 404, "not on the API listener");
    let (st, body) = scrape(&own, None).await;
    assert_eq!(st, 200);
    assert!(body.contains("# TYPE ordersync_deliveries gauge"), "{body}");
    let r = reqwest::get(format!("{own}/api/v1/kinds")).await.unwrap();
    assert_eq!(r.status(), 404, "the metrics listener serves nothing else");

    // A token applies there too, even on a non-loopback API listen address.
    t.app.cfg.metrics.token = Some("m-token".to_string().into());
    t.app.cfg.listen = "0.0.0.0:8080".into();
    let (base, state) = serve(&t).await;
    let own = bind(api::metrics_router(state)).await;
    assert_eq!(scrape(&base, Some("m-token")).await.0, 404);
    assert_eq!(scrape(&own, None).await.0, 401);
    assert_eq!(scrape(&own, Some("m-token")).await.0, 200);
}

/// The real binary: `ORDERSYNC_METRICS_LISTEN` and `ORDERSYNC_METRICS_TOKEN_FILE` from the
/// environment, and the startup warning when a non-loopback API has no way to serve metrics.
#[tokio::test]
async fn serve_reads_the_metrics_settings_from_the_environment() {
    use tokio::io::AsyncBufReadExt;
    let spawn = |envs: Vec<(&'static str, String)>| {
        let dir = temp_dir();
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ordersync"));
        cmd.args(["api", "--dev"])
            .env(
                "ORDERSYNC_DATABASE_URL",
                format!("sqlite://{}", dir.join("o.db").display()),
            )
            .env(
                "ORDERSYNC_KEYSTORE_URL",
                format!("sqlite://{}", dir.join("k.db").display()),
            )
            .env("ORDERSYNC_LOG_FORMAT", "json")
            .env("ORDERSYNC_LOG", "info")
            .env_remove("ORDERSYNC_MASTER_KEY")
            .env_remove("ORDERSYNC_MASTER_KEY_FILE")
            .env_remove("ORDERSYNC_METRICS_TOKEN")
            .env_remove("ORDERSYNC_METRICS_TOKEN_FILE")
            .env_remove("ORDERSYNC_METRICS_LISTEN")
            .envs(envs)
            .current_dir(&dir)
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().unwrap();
        let lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        (child, lines)
    };
    // Log lines up to the one saying `last`: (message, addr) of each.
    async fn until(
        lines: &mut tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStderr>>,
        last: &str,
    ) -> Vec<(String, String)> {
        let mut seen = vec![];
        let read = async {
            while let Some(l) = lines.next_line().await.unwrap() {
                let v: Value = serde_json::from_str(&l).unwrap_or_default();
                let msg = v["fields"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let addr = v["fields"]["addr"].as_str().unwrap_or_default().to_string();
                let done = msg == last;
                seen.push((msg, addr));
                if done {
                    break;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(60), read)
            .await
            .expect("the API starts");
        seen
    }
    let addr_of = |seen: &[(String, String)], msg: &str| {
        let a = &seen.iter().find(|(m, _)| m == msg).expect(msg).1;
        format!("http://{a}")
    };

    let token_file = temp_dir().join("metrics.token");
    std::fs::write(&token_file, "file-token\n").unwrap();
    let (_child, mut lines) = spawn(vec![
        ("ORDERSYNC_LISTEN", "127.0.0.1:0".into()),
        ("ORDERSYNC_METRICS_LISTEN", "127.0.0.1:0".into()),
        (
            "ORDERSYNC_METRICS_TOKEN_FILE",
            token_file.display().to_string(),
        ),
    ]);
    let seen = until(&mut lines, "Metrics listening.").await;
    let (api, own) = (
        addr_of(&seen, "API listening."),
        addr_of(&seen, "Metrics listening."),
    );
    assert_eq!(scrape(&api, Some("file-token")).await.0, 404);
    assert_eq!(scrape(&own, None).await.0, 401);
    let (st, body) = scrape(&own, Some("file-token")).await;
    assert_eq!(st, 200);
    assert!(body.contains("# TYPE ordersync_orders gauge"), "{body}");

    let (_child, mut lines) = spawn(vec![("ORDERSYNC_LISTEN", "0.0.0.0:0".into())]);
    let seen = until(&mut lines, "API listening.").await;
    let port = addr_of(&seen, "API listening.")
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let warning = seen
        .iter()
        .find(|(m, _)| m.starts_with("GET /metrics is off"))
        .expect("a startup warning");
    assert!(warning.0.contains("ORDERSYNC_METRICS_TOKEN"), "{warning:?}");
    let local = format!("http://127.0.0.1:{port}");
    assert_eq!(scrape(&local, None).await.0, 404);
    assert_eq!(
        reqwest::get(format!("{local}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn per_connection_gauges_carry_the_connection_id_and_go_with_the_connection() {
    let t = TestApp::new(Backend::Sqlite).await;
    let (base, _) = serve(&t).await;
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, token: &str, body: Option<Value>| {
        let mut rb = http
            .request(method, format!("{base}{path}"))
            .bearer_auth(token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        async move {
            let r = rb.send().await.unwrap();
            let st = r.status().as_u16();
            (st, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (st, m) = call(
        reqwest::Method::POST,
        "/api/v1/merchants",
        "operator-secret",
        Some(json!({ "name": "Canary Merchant GmbH" })),
    )
    .await;
    assert_eq!(st, 201, "{m}");
    let tok = m["api_token"].as_str().unwrap().to_string();
    let mut ids = vec![];
    for (name, kind, config, secrets) in [
        (
            "Canary Shop One",
            "shopify",
            json!({ "shop_domain": "one.myshopify.com" }),
            json!({ "access_token": "shpat_one" }),
        ),
        (
            "Canary Shop Two",
            "shopify",
            json!({ "shop_domain": "two.myshopify.com" }),
            json!({ "access_token": "shpat_two" }),
        ),
        (
            "Canary Warehouse",
            "shipstation",
            json!({}),
            json!({ "api_key": "ss-key" }),
        ),
    ] {
        let (st, b) = call(
            reqwest::Method::POST,
            "/api/v1/connections",
            &tok,
            Some(json!({ "kind": kind, "name": name, "config": config, "secrets": secrets })),
        )
        .await;
        assert_eq!(st, 201, "{b}");
        ids.push(b["id"].as_str().unwrap().to_string());
    }
    let (one, two, sink) = (&ids[0], &ids[1], &ids[2]);
    // The first source pulled once and then lost its credentials.
    let s = &t.app.store;
    let now = t.now_us();
    let claimed = s
        .claim_due_sources("w", now, now + 60_000_000, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    s.finish_pull(
        one,
        "w",
        &ordersync::store::PullFinish {
            next_pull_at: now,
            last_pull_at: Some(now),
            last_error: Some("authentication failed: token revoked".into()),
            state: Some("needs_reauth".into()),
        },
    )
    .await
    .unwrap();
    t.clock.advance(time::Duration::seconds(90));

    let (st, body) = scrape(&base, None).await;
    assert_eq!(st, 200);
    let series = |name: &str, id: &str, kind: &str, extra: &str| {
        format!("{name}{{connection_id=\"{id}\",kind=\"{kind}\"{extra}}}")
    };
    let lag = |id| {
        value(
            &body,
            &series("ordersync_pull_lag_seconds", id, "shopify", ""),
        )
    };
    // The manual clock also moves with real time.
    let l = lag(one).unwrap();
    assert!((90.0..120.0).contains(&l), "{body}");
    assert_eq!(lag(two), Some(-1.0), "never pulled");
    let state = |id, kind, st: &str| {
        value(
            &body,
            &series(
                "ordersync_connection_state",
                id,
                kind,
                &format!(",state=\"{st}\""),
            ),
        )
    };
    assert_eq!(state(one, "shopify", "needs_reauth"), Some(1.0));
    assert_eq!(state(one, "shopify", "active"), None);
    assert_eq!(state(two, "shopify", "active"), Some(1.0));
    assert_eq!(state(sink, "shipstation", "active"), Some(1.0));
    let err = series(
        "ordersync_connection_last_error",
        one,
        "shopify",
        ",class=\"auth\"",
    );
    assert_eq!(value(&body, &err), Some(1.0), "{body}");
    for status in ["pending", "in_flight", "dead"] {
        let d = series(
            "ordersync_connection_deliveries",
            sink,
            "shipstation",
            &format!(",status=\"{status}\""),
        );
        assert_eq!(value(&body, &d), Some(0.0), "{d}: {body}");
    }
    assert_eq!(
        value(&body, "ordersync_connections{state=\"active\"}"),
        Some(2.0)
    );
    assert_eq!(
        value(&body, "ordersync_connections{state=\"needs_reauth\"}"),
        Some(1.0)
    );
    assert!(
        !body.contains("Canary"),
        "no merchant-supplied name: {body}"
    );
    assert!(!body.contains("myshopify"), "no shop domain: {body}");

    let (st, _) = call(
        reqwest::Method::DELETE,
        &format!("/api/v1/connections/{two}"),
        &tok,
        None,
    )
    .await;
    assert!((200..300).contains(&st), "{st}");
    let cache = t.app.cfg.metrics.cache_secs as i64;
    t.clock.advance(time::Duration::seconds(cache));
    let (_, body) = scrape(&base, None).await;
    assert!(
        !body.contains(two.as_str()),
        "a deleted connection's series go: {body}"
    );
    assert!(body.contains(one.as_str()) && body.contains(sink.as_str()));
    assert_eq!(
        value(&body, "ordersync_connections{state=\"active\"}"),
        Some(1.0)
    );
}

/// Stores `n` orders of `source` with one delivery each to `sink`: 90 % done, 5 % pending,
/// 3 % in flight, 2 % dead; a third of the orders purged.
async fn seed(t: &TestApp, backend: Backend, m: &str, source: &str, sink: &str, n: i64) {
    const ORDERS: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $4) \
        INSERT INTO orders (id, merchant_id, connection_id, marketplace, external_id, order_number, status, data, content_hash, version, \
        source_created_at, source_updated_at, ingested_at, updated_at, pii_purged_at) \
        SELECT $3 || '-o' || i, $1, $2, 'shopify', 'e' || i, '#' || i, 'open', '{}', 'h', 1, i, i, i, i, CASE WHEN i % 3 = 0 THEN i END FROM n";
    const DELIVERIES: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $4) \
        INSERT INTO deliveries (id, order_id, merchant_id, sink_connection_id, version, idempotency_key, status, next_attempt_at, created_at, updated_at) \
        SELECT $3 || '-d' || i, $3 || '-o' || i, $1, $2, 1, 'k' || i, \
        CASE WHEN i % 100 < 90 THEN 'done' WHEN i % 100 < 95 THEN 'pending' WHEN i % 100 < 98 THEN 'in_flight' ELSE 'dead' END, i, i, i FROM n";
    let url = &t.app.cfg.database_url;
    macro_rules! run {
        ($pool:ty) => {{
            let pool = <$pool>::connect(url).await.unwrap();
            let p = source.to_string();
            for (sql, conn) in [(ORDERS, source), (DELIVERIES, sink)] {
                sqlx::query(sql)
                    .bind(m)
                    .bind(conn)
                    .bind(&p)
                    .bind(n)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            pool.close().await;
        }};
    }
    match backend {
        Backend::Sqlite => run!(sqlx::SqlitePool),
        Backend::Postgres => run!(sqlx::PgPool),
    }
}

/// The database gauges are read once per `metrics.cache_secs`, whatever the number of
/// scrapes, and a scrape after the interval sees the changes. Scaled like the other
/// measurements (`ORDERSYNC_BENCH_ORDERS`): it prints the latency of a scrape that reads the
/// database and of one that does not.
#[tokio::test]
async fn a_scrape_storm_reads_the_database_once_per_interval() {
    const CACHE: i64 = 600;
    let n = crate::helpers::bench_orders(2_000) as i64;
    for b in backends() {
        let mut t = TestApp::new(b).await;
        t.app.cfg.metrics.cache_secs = CACHE as u64;
        let (m, ids) = crate::helpers::provision(
            &t,
            &[
                (
                    "shopify",
                    "source",
                    json!({ "shop_domain": "a.myshopify.com" }),
                    &[],
                ),
                ("shipstation", "sink", json!({}), &[("api_key", "k")]),
            ],
        )
        .await;
        seed(&t, b, &m, &ids[0], &ids[1], n).await;
        let (base, _) = serve(&t).await;
        let at = std::time::Instant::now();
        let (st, body) = scrape(&base, None).await;
        let cold = at.elapsed();
        assert_eq!(st, 200);
        assert_eq!(reads(&body), 1.0);
        let count = |pct: i64| (0..n).filter(|i| ((i + 1) % 100) < pct).count() as f64;
        let (done, pending, in_flight) = (count(90), count(95) - count(90), count(98) - count(95));
        let dead = n as f64 - count(98);
        assert_eq!(value(&body, "ordersync_orders"), Some(n as f64));
        assert_eq!(
            value(&body, "ordersync_orders_pii_purged"),
            Some((n / 3) as f64)
        );
        assert_eq!(
            value(&body, "ordersync_deliveries{status=\"done\"}"),
            Some(done)
        );
        assert_eq!(
            value(&body, "ordersync_deliveries{status=\"dead\"}"),
            Some(dead)
        );
        let sink = |status: &str| {
            let s = format!(
                "ordersync_connection_deliveries{{connection_id=\"{}\",kind=\"shipstation\",status=\"{status}\"}}",
                ids[1]
            );
            value(&body, &s)
        };
        assert_eq!(sink("pending"), Some(pending), "{b:?}");
        assert_eq!(sink("in_flight"), Some(in_flight));
        assert_eq!(sink("dead"), Some(dead));

        // A storm of concurrent scrapes within the interval: no further read.
        let storm: Vec<_> = (0..24)
            .map(|_| {
                let base = base.clone();
                tokio::spawn(async move { scrape(&base, None).await })
            })
            .collect();
        let mut warm = vec![];
        for s in storm {
            let (st, body) = s.await.unwrap();
            assert_eq!((st, reads(&body)), (200, 1.0));
        }
        for _ in 0..10 {
            let at = std::time::Instant::now();
            let (_, body) = scrape(&base, None).await;
            warm.push(at.elapsed());
            assert_eq!(reads(&body), 1.0);
        }
        warm.sort();
        t.app.store.delete_connection(&ids[1]).await.unwrap();
        // The manual clock also moves with real time: half an interval is well within it.
        t.clock.advance(time::Duration::seconds(CACHE / 2));
        let (_, body) = scrape(&base, None).await;
        assert_eq!(reads(&body), 1.0, "{b:?}: still within the interval");
        assert!(
            body.contains(ids[1].as_str()),
            "cached: the sink is still shown"
        );
        t.clock.advance(time::Duration::seconds(CACHE / 2));
        let (_, body) = scrape(&base, None).await;
        assert_eq!(reads(&body), 2.0, "{b:?}: read again after the interval");
        assert!(!body.contains(ids[1].as_str()), "the deleted sink is gone");
        println!(
            "metrics scrape over {n} orders and deliveries ({b:?}): reading the database {:.1} ms, cached median {:.2} ms",
            cold.as_secs_f64() * 1e3,
            warm[warm.len() / 2].as_secs_f64() * 1e3
        );
    }
}
