//! The orders database records which keystore its PII is sealed by (docs/keys.md §7): a
//! process given no keystore (PostgreSQL), the orders database, another keystore or an empty
//! one refuses to start, and one given the right keystore from another "host" opens what the
//! first sealed. Every test runs on SQLite and, with `ORDERSYNC_TEST_POSTGRES_URL`, with the
//! orders database and the keystore in PostgreSQL databases of their own (dropped at the end).

use crate::helpers::{Backend, TestApp, backends, provision, temp_dir};
use ordersync::app::App;
use ordersync::config::Config;
use ordersync::crypto::kek::LocalKek;
use ordersync::crypto::keystore::Keystore;
use ordersync::crypto::{Crypto, CryptoError, PiiRow, SealedPii, epoch_of};
use ordersync::store::{CursorRow, OrderUpsert, PageCommit};
use ordersync_sdk::{Clock, ManualClock, Pii};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;

/// The databases of one test: SQLite files in a temp dir, or PostgreSQL databases that are
/// dropped with this.
struct Dbs {
    backend: Backend,
    dir: PathBuf,
    pg: Vec<String>,
}

impl Dbs {
    fn new(backend: Backend) -> Self {
        Dbs {
            backend,
            dir: temp_dir(),
            pg: vec![],
        }
    }

    /// The URL of a new, empty database (a SQLite file that does not exist yet).
    async fn url(&mut self, name: &str) -> String {
        match self.backend {
            Backend::Sqlite => {
                format!("sqlite://{}", self.dir.join(format!("{name}.db")).display())
            }
            Backend::Postgres => {
                use sqlx::Connection;
                let admin = pg_admin();
                let db = format!("ordersync_ksid_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                self.pg.push(db.clone());
                let mut url = url::Url::parse(&admin).unwrap();
                url.set_path(&db);
                url.to_string()
            }
        }
    }
}

impl Drop for Dbs {
    fn drop(&mut self) {
        let names = std::mem::take(&mut self.pg);
        if names.is_empty() {
            return;
        }
        // A runtime of its own: this may run inside the test's runtime.
        let _ = std::thread::spawn(move || {
            use sqlx::Connection;
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&pg_admin()).await.unwrap();
                for db in names {
                    let q = format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(q)).execute(&mut conn).await;
                }
            });
        })
        .join();
    }
}

fn pg_admin() -> String {
    std::env::var("ORDERSYNC_TEST_POSTGRES_URL").expect("postgres configured")
}

/// `App::open` as a worker host would, with the one master key of these tests.
async fn open(dbs: &Dbs, orders: &str, keystore: Option<&str>) -> anyhow::Result<TestApp> {
    let cfg = Config {
        database_url: orders.to_string(),
        keystore_url: keystore.map(str::to_string),
        ..Config::default()
    };
    let clock = Arc::new(ManualClock::new());
    let app = App::open(cfg, kek(), clock.clone()).await?;
    Ok(TestApp {
        app,
        clock,
        dir: dbs.dir.clone(),
    })
}

/// Why `open` refused (it must).
async fn refusal(dbs: &Dbs, orders: &str, keystore: Option<&str>) -> String {
    match open(dbs, orders, keystore).await {
        Ok(_) => panic!("opened with keystore {keystore:?}"),
        Err(e) => format!("{e:#}"),
    }
}

fn kek() -> Arc<LocalKek> {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let b64 = KEY.get_or_init(LocalKek::generate_base64);
    Arc::new(LocalKek::from_base64(b64).unwrap())
}

async fn keystore_id(t: &TestApp) -> String {
    t.app
        .crypto
        .keystore()
        .id()
        .await
        .unwrap()
        .expect("keystore id")
}

async fn recorded(t: &TestApp) -> Option<String> {
    t.app.store.recorded_keystore_id().await.unwrap()
}

fn prefix(id: &str) -> &str {
    &id[..8]
}

/// A statement run on a database directly (to put it back into a state of an older version).
async fn exec(url: &str, sql: &'static str) {
    use sqlx::Connection;
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
}

/// A merchant with a connection (sealed secrets) and one order with sealed PII; returns the
/// merchant, connection and order ids.
async fn seal(t: &TestApp) -> (String, String, String) {
    let (m, conns) = provision(
        t,
        &[(
            "shopify",
            "source",
            json!({ "shop_domain": "ksid.myshopify.com" }),
            &[("access_token", "shpat_ksid")],
        )],
    )
    .await;
    let c = conns[0].clone();
    let (now, now_us) = (t.clock.now(), t.now_us());
    let purge = now + time::Duration::days(90);
    let epoch = epoch_of(purge);
    let ek = t.app.crypto.epoch_key(&m, &epoch, now).await.unwrap();
    let id = uuid::Uuid::now_v7().to_string();
    let row = PiiRow {
        merchant_id: &m,
        marketplace: "shopify",
        external_id: "1001",
        connection_id: &c,
        order_id: &id,
    };
    let sealed = t.app.crypto.seal_pii_with(&ek, row, &buyer());
    let order = OrderUpsert {
        id: id.clone(),
        merchant_id: m.clone(),
        connection_id: c.clone(),
        marketplace: "shopify".into(),
        external_id: "1001".into(),
        order_number: "#1001".into(),
        status: "open".into(),
        data: "{}".into(),
        content_hash: "h-1001".into(),
        version: 1,
        pii_ct: Some(sealed.pii_ct),
        pii_dek: Some(sealed.dek),
        pii_epoch: Some(epoch),
        pii_fields: buyer().field_mask(),
        email_bidx: None,
        buyer_bidx: None,
        source_created_at: now_us,
        source_updated_at: now_us,
        purge_after: ordersync_sdk::clock::to_micros(purge),
        now: now_us,
    };
    t.app
        .store
        .commit_page(&PageCommit {
            connection_id: c.clone(),
            now: now_us,
            orders: vec![order],
            cursor: CursorRow {
                watermark: Some(now_us),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    (m, c, id)
}

fn buyer() -> Pii {
    Pii {
        buyer_name: Some("Keystore Identity Buyer".into()),
        email: Some("ksid@customer.test".into()),
        ..Pii::default()
    }
}

/// The order's PII and the connection's secrets, opened with `t`'s keystore.
async fn read_sealed(t: &TestApp, order: &str, conn: &str) -> Result<(Pii, String), CryptoError> {
    let o = t
        .app
        .store
        .orders_by_ids(&[order.to_string()])
        .await
        .unwrap()
        .remove(0);
    let row = PiiRow {
        merchant_id: &o.merchant_id,
        marketplace: &o.marketplace,
        external_id: &o.external_id,
        connection_id: &o.connection_id,
        order_id: &o.id,
    };
    let sealed = SealedPii {
        pii_ct: o.pii_ct.clone().unwrap(),
        dek: o.pii_dek.clone().unwrap(),
    };
    let now = t.clock.now();
    let pii = t
        .app
        .crypto
        .open_pii(row, o.pii_epoch.as_deref().unwrap(), &sealed, now)
        .await?;
    let c = t.app.store.get_connection(conn).await.unwrap().unwrap();
    let secrets = t
        .app
        .crypto
        .open_secrets(&c.merchant_id, conn, c.secrets_ct.as_deref().unwrap(), now)
        .await?;
    let token = secrets.get("access_token").map(|s| {
        use secrecy::ExposeSecret;
        s.expose_secret().to_string()
    });
    Ok((pii, token.unwrap_or_default()))
}

/// The real binary, with a PostgreSQL database and no keystore URL, refuses to start with a
/// message naming the setting, before it connects anywhere or writes a file (no
/// `./data/keystore.db`, no development key).
#[test]
fn postgres_without_a_keystore_url_refuses_to_start() {
    let cwd = temp_dir();
    let run = |args: &[&str], key: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ordersync"));
        cmd.args(args)
            .current_dir(&cwd)
            // Nothing listens there: a refusal that names the setting never connected.
            .env(
                "ORDERSYNC_DATABASE_URL",
                "postgres://app:s3cret@127.0.0.1:1/orders",
            )
            .env("ORDERSYNC_LISTEN", "127.0.0.1:0")
            .env_remove("ORDERSYNC_KEYSTORE_URL")
            .env_remove("ORDERSYNC_MASTER_KEY_FILE")
            .env_remove("ORDERSYNC_MASTER_KEY_PREVIOUS")
            .env_remove("ORDERSYNC_MASTER_KEY_PREVIOUS_FILE");
        match key {
            Some(k) => cmd.env("ORDERSYNC_MASTER_KEY", k),
            None => cmd.env_remove("ORDERSYNC_MASTER_KEY"),
        };
        cmd.output().unwrap()
    };
    let key = LocalKek::generate_base64();
    for (args, key) in [
        (&["migrate"][..], Some(key.as_str())),
        (&["worker"][..], Some(key.as_str())),
        (&["serve", "--dev"][..], None),
    ] {
        let out = run(args, key);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {err}");
        assert!(
            err.contains("ORDERSYNC_KEYSTORE_URL is not set") && !err.contains("panicked"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
    }
    assert_eq!(
        std::fs::read_dir(&cwd).unwrap().count(),
        0,
        "nothing was created"
    );
}

/// A keystore URL naming the orders database (as written, or spelled another way) is refused;
/// so is a keystore that reaches the orders database under a name the comparison cannot see.
#[tokio::test]
async fn a_keystore_in_the_orders_database_is_refused() {
    for b in backends() {
        let mut dbs = Dbs::new(b);
        let orders = dbs.url("orders").await;
        let respelled = match b {
            Backend::Sqlite => orders.replace("/orders.db", "/./orders.db"),
            Backend::Postgres => {
                let mut u = url::Url::parse(&orders).unwrap();
                let other = if u.host_str() == Some("localhost") {
                    "127.0.0.1"
                } else {
                    "localhost"
                };
                u.set_host(Some(other)).unwrap();
                u.set_port(Some(5432)).unwrap();
                u.to_string()
            }
        };
        for ks in [&orders, &respelled] {
            let e = refusal(&dbs, &orders, Some(ks)).await;
            assert!(e.contains("names the orders database"), "{b:?}: {e}");
        }

        // Under another name (a host alias): found from the keystore's side.
        let keystore = dbs.url("keystore").await;
        let t = open(&dbs, &orders, Some(&keystore)).await.unwrap();
        let aliased = Keystore::connect(&orders).await.unwrap();
        let crypto = Crypto::open(kek(), aliased, t.clock.now()).await.unwrap();
        let e = ordersync::keystore_identity::bind(&*t.app.store, &crypto, &orders, t.clock.now())
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("reaches the orders database"), "{b:?}: {e}");
    }
}

/// An orders database used with one keystore refuses another (one that a second deployment
/// made), names both, and stays bound to the first, which keeps working.
#[tokio::test]
async fn another_keystore_is_refused_and_not_recorded() {
    for b in backends() {
        let mut dbs = Dbs::new(b);
        let (orders, ks1) = (dbs.url("orders").await, dbs.url("keystore").await);
        let (orders2, ks2) = (dbs.url("orders2").await, dbs.url("keystore2").await);
        let first = open(&dbs, &orders, Some(&ks1)).await.unwrap();
        let (_, conn, order) = seal(&first).await;
        let id1 = keystore_id(&first).await;
        assert_eq!(recorded(&first).await.as_deref(), Some(id1.as_str()));
        let other = open(&dbs, &orders2, Some(&ks2)).await.unwrap();
        let id2 = keystore_id(&other).await;
        assert_ne!(id1, id2, "every keystore has an id of its own");

        let e = refusal(&dbs, &orders, Some(&ks2)).await;
        assert!(
            e.contains(&format!("sealed by keystore {}", prefix(&id1)))
                && e.contains(&format!("points at keystore {}", prefix(&id2)))
                && e.contains("ORDERSYNC_KEYSTORE_URL"),
            "{b:?}: {e}"
        );
        assert_eq!(recorded(&first).await.as_deref(), Some(id1.as_str()));
        let again = open(&dbs, &orders, Some(&ks1)).await.unwrap();
        let (pii, _) = read_sealed(&again, &order, &conn).await.unwrap();
        assert_eq!(pii, buyer());
    }
}

/// An empty keystore (a mistyped URL) is refused for a database bound to a keystore, even one
/// holding no sealed data yet, and is left empty: no key, no id, nothing recorded.
#[tokio::test]
async fn an_empty_keystore_is_refused_and_left_empty() {
    for b in backends() {
        let mut dbs = Dbs::new(b);
        let (orders, ks) = (dbs.url("orders").await, dbs.url("keystore").await);
        let typo = dbs.url("keystroe").await;
        let t = open(&dbs, &orders, Some(&ks)).await.unwrap();
        let id = keystore_id(&t).await;

        let e = refusal(&dbs, &orders, Some(&typo)).await;
        assert!(
            e.contains(&format!("sealed by keystore {}", prefix(&id)))
                && e.contains("points at an empty keystore"),
            "{b:?}: {e}"
        );
        let empty = Keystore::connect(&typo).await.unwrap();
        assert!(
            empty.is_empty().await.unwrap(),
            "{b:?}: nothing written to it"
        );
        assert_eq!(empty.id().await.unwrap(), None);
        assert_eq!(recorded(&t).await.as_deref(), Some(id.as_str()));
        open(&dbs, &orders, Some(&ks)).await.unwrap();
    }
}

/// Two hosts starting at once on a new pair agree on the keystore; PII and secrets one seals
/// the other opens, and a restart of either still starts.
#[tokio::test]
async fn a_second_host_on_the_same_keystore_opens_the_first_hosts_data() {
    for b in backends() {
        let mut dbs = Dbs::new(b);
        let (orders, ks) = (dbs.url("orders").await, dbs.url("keystore").await);
        // Migrated beforehand (as `ordersync migrate` does), so that only the binding races.
        let store = ordersync::store::connect(&orders).await.unwrap();
        store.migrate().await.unwrap();
        assert_eq!(store.recorded_keystore_id().await.unwrap(), None);

        let (a, c) = tokio::join!(
            open(&dbs, &orders, Some(&ks)),
            open(&dbs, &orders, Some(&ks))
        );
        let (a, c) = (a.unwrap(), c.unwrap());
        let id = keystore_id(&a).await;
        assert_eq!(keystore_id(&c).await, id);
        assert_eq!(recorded(&a).await.as_deref(), Some(id.as_str()));
        // The interleaving where one found the keystore empty and the other bound it before
        // the first looked at the orders database: the first goes on.
        ordersync::keystore_identity::refuse_empty_keystore(
            &*a.app.store,
            a.app.crypto.keystore(),
            &ks,
        )
        .await
        .unwrap();

        let (_, conn, order) = seal(&a).await;
        let (pii, token) = read_sealed(&c, &order, &conn).await.unwrap();
        assert_eq!(pii, buyer());
        assert_eq!(token, "shpat_ksid");
        drop(c);
        let restarted = open(&dbs, &orders, Some(&ks)).await.unwrap();
        assert_eq!(
            read_sealed(&restarted, &order, &conn).await.unwrap().0,
            buyer()
        );
    }
}

/// A database from before keystore ids were recorded: the first start records the keystore
/// only if it opens the sealed data (an order's PII, else a connection's secrets); another
/// keystore or an empty one is refused and nothing is recorded.
#[tokio::test]
async fn an_upgrade_records_the_keystore_that_opens_the_data() {
    for b in backends() {
        let mut dbs = Dbs::new(b);
        let (orders, ks) = (dbs.url("orders").await, dbs.url("keystore").await);
        let (orders2, ks2) = (dbs.url("orders2").await, dbs.url("keystore2").await);
        let (orders3, ks3) = (dbs.url("orders3").await, dbs.url("keystore3").await);
        let typo = dbs.url("keystroe").await;
        let (conn, order) = {
            let t = open(&dbs, &orders, Some(&ks)).await.unwrap();
            let (_, conn, order) = seal(&t).await;
            (conn, order)
        };
        // Secrets only: a connection made, no order pulled yet.
        {
            let t = open(&dbs, &orders3, Some(&ks3)).await.unwrap();
            provision(
                &t,
                &[(
                    "shopify",
                    "source",
                    json!({ "shop_domain": "ksid3.myshopify.com" }),
                    &[("access_token", "shpat_ksid3")],
                )],
            )
            .await;
        }
        open(&dbs, &orders2, Some(&ks2)).await.unwrap();
        // Back to the state of the version before: no id on either side.
        for (o, k) in [(&orders, &ks), (&orders3, &ks3)] {
            exec(o, "DELETE FROM instance").await;
            exec(k, "DELETE FROM keystore_meta").await;
        }

        for o in [&orders, &orders3] {
            let e = refusal(&dbs, o, Some(&ks2)).await;
            assert!(e.contains("cannot open"), "{b:?}: {e}");
            let e = refusal(&dbs, o, Some(&typo)).await;
            assert!(e.contains("points at an empty keystore"), "{b:?}: {e}");
        }
        assert!(
            Keystore::connect(&typo)
                .await
                .unwrap()
                .is_empty()
                .await
                .unwrap()
        );
        let store = ordersync::store::connect(&orders).await.unwrap();
        assert_eq!(store.recorded_keystore_id().await.unwrap(), None, "{b:?}");

        let t = open(&dbs, &orders, Some(&ks)).await.unwrap();
        let id = keystore_id(&t).await;
        assert_eq!(recorded(&t).await.as_deref(), Some(id.as_str()));
        assert_eq!(read_sealed(&t, &order, &conn).await.unwrap().0, buyer());
        let t3 = open(&dbs, &orders3, Some(&ks3)).await.unwrap();
        let id3 = keystore_id(&t3).await;
        assert_eq!(recorded(&t3).await.as_deref(), Some(id3.as_str()));
        // Bound now: the other keystore is refused by id.
        let e = refusal(&dbs, &orders, Some(&ks2)).await;
        assert!(
            e.contains(&format!("sealed by keystore {}", prefix(&id))),
            "{e}"
        );
    }
}
