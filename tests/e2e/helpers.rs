//! `TestApp`: a fresh database (SQLite file or a new PostgreSQL database), keystore and master
//! key per test, a manual clock, and the real engine.

use ordersync::app::App;
use ordersync::config::Config;
use ordersync::crypto::kek::LocalKek;
use ordersync_sdk::ManualClock;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends this run covers: SQLite always, PostgreSQL when configured.
pub fn backends() -> Vec<Backend> {
    let mut v = vec![Backend::Sqlite];
    if pg_admin_url().is_some() {
        v.push(Backend::Postgres);
    }
    v
}

fn pg_admin_url() -> Option<String> {
    std::env::var("ORDERSYNC_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

pub struct TestApp {
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub dir: PathBuf,
}

pub fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("ordersync-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Creates an empty PostgreSQL database for one test and returns its URL.
async fn fresh_pg_database() -> String {
    use sqlx::Connection;
    let admin = pg_admin_url().expect("postgres configured");
    let name = format!("ordersync_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to ORDERSYNC_TEST_POSTGRES_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let mut url = url::Url::parse(&admin).expect("postgres URL");
    url.set_path(&name);
    url.to_string()
}

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        Self::with_master_key(backend, &LocalKek::generate_base64()).await
    }

    /// [`TestApp::new`] with a given master key (base64), for tests that rotate it.
    pub async fn with_master_key(backend: Backend, master_key: &str) -> TestApp {
        let dir = temp_dir();
        let database_url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.join("ordersync.db").display()),
            Backend::Postgres => fresh_pg_database().await,
        };
        let mut cfg = Config {
            database_url,
            keystore_url: Some(format!("sqlite://{}", dir.join("keystore.db").display())),
            // The simulators listen on 127.0.0.1.
            allow_private_endpoints: true,
            ..Config::default()
        };
        cfg.engine.idle_ms = 10;
        cfg.engine.poll_interval_secs = 1;
        cfg.engine.track_interval_secs = 3600;
        cfg.engine.purge_interval_secs = 1;
        let clock = Arc::new(ManualClock::new());
        let kek = Arc::new(LocalKek::from_base64(master_key).unwrap());
        let app = App::open(cfg, kek, clock.clone()).await.expect("open app");
        TestApp { app, clock, dir }
    }

    pub fn now_us(&self) -> i64 {
        ordersync_sdk::clock::to_micros(ordersync_sdk::Clock::now(&*self.clock))
    }
}

/// Polls `cond` until it holds or the deadline passes; returns whether it held.
pub async fn eventually<F, Fut>(secs: u64, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(20));
    while std::time::Instant::now() < deadline {
        tick.tick().await;
        if cond().await {
            return true;
        }
    }
    false
}

/// Every file under `dir` (databases, WAL files) as raw bytes, for canary greps.
pub fn grep_dir(dir: &std::path::Path, needle: &str) -> Vec<PathBuf> {
    let mut hits = vec![];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_file()
            && std::fs::read(&p)
                .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
                .unwrap_or(false)
        {
            hits.push(p);
        }
    }
    hits
}

/// Captures every log line of this test binary (debug level) so tests can grep for canaries.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

static LOGS: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,sqlx=warn,hyper=warn,reqwest=warn",
            ))
            .with_writer(|| LogWriter)
            .with_ansi(false)
            .try_init();
    });
}

/// Creates a merchant and one connection per `(kind, role, config, secrets)`, with routes from
/// every source to every sink, through the store and crypto the service uses.
/// `(kind, role, config, secrets)` of one connection to provision.
pub type ConnSpec<'a> = (
    &'a str,
    &'a str,
    serde_json::Value,
    &'a [(&'a str, &'a str)],
);

pub async fn provision(t: &TestApp, conns: &[ConnSpec<'_>]) -> (String, Vec<String>) {
    provision_routes(
        t,
        conns,
        Some(r#"["open","closed","cancelled","unknown"]"#),
        None,
    )
    .await
}

/// [`provision`] with routes forwarding `statuses` (JSON array; `None` = the default) from
/// `start_at` (µs; `None` = all history).
pub async fn provision_routes(
    t: &TestApp,
    conns: &[ConnSpec<'_>],
    statuses: Option<&str>,
    start_at: Option<i64>,
) -> (String, Vec<String>) {
    use ordersync::store::{ConnectionRow, RouteRow};
    let now = t.now_us();
    let m = uuid::Uuid::now_v7().to_string();
    t.app
        .store
        .create_merchant(&m, "Test merchant", &format!("hash-{m}"), now)
        .await
        .unwrap();
    let mut ids = vec![];
    for (kind, role, config, secrets) in conns {
        let id = uuid::Uuid::now_v7().to_string();
        let s: ordersync_sdk::Secrets = secrets
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string().into()))
            .collect();
        let ct = t
            .app
            .crypto
            .seal_secrets(&m, &id, &s, ordersync_sdk::Clock::now(&*t.clock))
            .await
            .unwrap();
        t.app
            .store
            .insert_connection(&ConnectionRow {
                id: id.clone(),
                merchant_id: m.clone(),
                kind: kind.to_string(),
                role: role.to_string(),
                name: kind.to_string(),
                config: config.to_string(),
                secrets_ct: Some(ct),
                state: "active".into(),
                next_pull_at: now,
                last_pull_at: None,
                last_error: None,
                created_at: now,
                version: 1,
                build_version: 1,
            })
            .await
            .unwrap();
        ids.push(id);
    }
    for (i, (_, r1, _, _)) in conns.iter().enumerate() {
        for (j, (_, r2, _, _)) in conns.iter().enumerate() {
            if *r1 == "source" && *r2 == "sink" {
                t.app
                    .store
                    .insert_route(&RouteRow {
                        id: uuid::Uuid::now_v7().to_string(),
                        merchant_id: m.clone(),
                        source_connection_id: ids[i].clone(),
                        sink_connection_id: ids[j].clone(),
                        created_at: now,
                        statuses: statuses.map(str::to_string),
                        start_at,
                    })
                    .await
                    .unwrap();
            }
        }
    }
    (m, ids)
}

/// What a source simulator says a fulfillment target should hold: per order, units left to
/// ship per line (orders with nothing to ship — refunded, cancelled, tips only — are absent).
pub async fn shippable(
    shop_base: &str,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>> {
    let v = ordersync_conformance::sim_get(shop_base, "/_sim/expected").await;
    serde_json::from_value::<ordersync_sdk::sim::Expected>(v)
        .expect("/_sim/expected")
        .shippable
}

/// A relaxed Shopify simulator (shop `domain`) routed to a relaxed ShipStation simulator,
/// provisioned for a new merchant: the simulators, the merchant and the connection ids
/// (source first).
pub async fn shopify_and_shipstation(
    t: &TestApp,
    domain: &str,
) -> (
    ordersync_sdk::sim::SimServer,
    ordersync_sdk::sim::SimServer,
    String,
    Vec<String>,
) {
    let clock: Arc<dyn ordersync_sdk::Clock> = t.clock.clone();
    let shop =
        ordersync_shopify::sim::spawn(ordersync_shopify::sim::SimOptions::relaxed(), clock.clone())
            .await
            .unwrap();
    let ss =
        ordersync_shipstation::sim::spawn(ordersync_shipstation::sim::SimOptions::relaxed(), clock)
            .await
            .unwrap();
    let (m, ids) = provision(
        t,
        &[
            (
                "shopify",
                "source",
                serde_json::json!({ "shop_domain": domain, "api_base_url": shop.base_url }),
                &[("access_token", "shpat_e2e")],
            ),
            (
                "shipstation",
                "sink",
                serde_json::json!({ "api_base_url": ss.base_url, "requests_per_minute": 100000 }),
                &[("api_key", "e2e-key")],
            ),
        ],
    )
    .await;
    (shop, ss, m, ids)
}

/// Orders a scaled test seeds: `default` in the test run, `ORDERSYNC_BENCH_ORDERS` when it is
/// run on purpose as a measurement (in release, with `--nocapture`; `docs/benchmarks.md`).
pub fn bench_orders(default: u64) -> u64 {
    std::env::var("ORDERSYNC_BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// The admin API of `t` on a random port, with a token of merchant `m`: (base URL, token).
pub async fn api_for(t: &TestApp, e: ordersync::engine::Engine, m: &str) -> (String, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = ordersync::api::router(ordersync::api::ApiState::new(&t.app, e, true));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let token = format!("os_test_{}", uuid::Uuid::new_v4().simple());
    t.app
        .store
        .add_token(m, &ordersync::api::admin::hash_token(&token), t.now_us())
        .await
        .unwrap();
    (base, token)
}

pub async fn call(method: reqwest::Method, url: String, token: &str) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(serde_json::Value::Null))
}
