//! Master key rotation while the service runs (docs/keys.md), and the content-hash key split
//! seen from the pipeline: no order lost or sent twice, the old key refused afterwards, and an
//! unchanged re-read after the upgrade stores and sends nothing.

use crate::helpers::{TestApp, backends, eventually, shippable, shopify_and_shipstation};
use ordersync::crypto::kek::{KeyEncryptionKey, LocalKek};
use ordersync::crypto::keystore::Keystore;
use ordersync::crypto::{ContentHasher, Crypto, CryptoError, PiiRow, SealedPii};
use ordersync::store::OrderQuery;
use ordersync_conformance::{sim_get, sim_post};
use ordersync_sdk::Clock;
use ordersync_sdk::sim::SimServer;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Shipments ShipStation received, by external order id.
async fn received(base: &str) -> HashMap<String, u64> {
    let r = sim_get(base, "/_sim/received").await;
    let mut m = HashMap::new();
    for o in r["objects"].as_array().unwrap() {
        let id = o["external_order_id"].as_str().unwrap_or_default();
        *m.entry(id.to_string()).or_default() += 1;
    }
    m
}

/// A Shopify simulator routed to a ShipStation simulator; returns them and the merchant
/// and source connection ids.
async fn shop_to_ss(t: &TestApp) -> (SimServer, SimServer, String, String) {
    let (shop, ss, m, ids) = shopify_and_shipstation(t, "keys.myshopify.com").await;
    (shop, ss, m, ids[0].clone())
}

/// New orders at Shopify (updated just now, so the next pull reads them).
async fn add_orders(shop: &str, n: u32) {
    for i in 0..n {
        sim_post(shop, "/_sim/order", json!({ "lines": 1 + i % 3 })).await;
    }
}

/// The real binary's `keys <args>` against the test app's databases.
async fn keys_cli(t: &TestApp, args: &[&str], key: &str, previous: Option<&str>) -> (bool, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ordersync"));
    cmd.arg("keys")
        .args(args)
        .env("ORDERSYNC_DATABASE_URL", &t.app.cfg.database_url)
        .env("ORDERSYNC_KEYSTORE_URL", t.app.cfg.keystore_url())
        .env("ORDERSYNC_MASTER_KEY", key)
        .env("ORDERSYNC_LOG", "warn")
        .env_remove("ORDERSYNC_MASTER_KEY_FILE")
        .env_remove("ORDERSYNC_MASTER_KEY_PREVIOUS_FILE");
    match previous {
        Some(p) => cmd.env("ORDERSYNC_MASTER_KEY_PREVIOUS", p),
        None => cmd.env_remove("ORDERSYNC_MASTER_KEY_PREVIOUS"),
    };
    let out = cmd.output().await.unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn crypto(t: &TestApp, key: &str) -> Result<Crypto, CryptoError> {
    let ks = Keystore::connect(&t.app.cfg.keystore_url()).await.unwrap();
    let kek = Arc::new(LocalKek::from_base64(key).unwrap());
    Crypto::open(kek, ks, time::OffsetDateTime::now_utc()).await
}

/// Opens the PII of every order of the merchant with `c`.
async fn open_all(t: &TestApp, c: &Crypto, merchant: &str) -> Vec<Result<(), CryptoError>> {
    let q = OrderQuery {
        merchant_id: merchant.to_string(),
        limit: 1000,
        ..OrderQuery::default()
    };
    let ids: Vec<String> = t
        .app
        .store
        .list_orders(&q)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let mut out = vec![];
    for row in t.app.store.orders_by_ids(&ids).await.unwrap() {
        let (Some(ct), Some(dek), Some(epoch)) = (&row.pii_ct, &row.pii_dek, &row.pii_epoch) else {
            continue;
        };
        let pii_row = PiiRow {
            merchant_id: &row.merchant_id,
            marketplace: &row.marketplace,
            external_id: &row.external_id,
            connection_id: &row.connection_id,
            order_id: &row.id,
        };
        let sealed = SealedPii {
            pii_ct: ct.clone(),
            dek: dek.clone(),
        };
        out.push(
            c.open_pii(pii_row, epoch, &sealed, t.clock.now())
                .await
                .map(|_| ()),
        );
    }
    out
}

/// The worker runs on a process holding only the old key while `ordersync keys rotate` (the
/// real binary, new key + previous key) re-wraps the keystore and retires the old version;
/// more orders arrive before and during it. Every order reaches the target exactly once, the
/// old process keeps working from its cache, and afterwards the old key is refused: the
/// binary will not start with it, and a process of it with an empty cache fails clearly.
#[tokio::test]
async fn rotation_while_syncing_loses_no_order_and_then_refuses_the_old_key() {
    for b in backends() {
        let (k1, k2) = (LocalKek::generate_base64(), LocalKek::generate_base64());
        let v1 = LocalKek::from_base64(&k1).unwrap().version().to_string();
        let v2 = LocalKek::from_base64(&k2).unwrap().version().to_string();
        let t = TestApp::with_master_key(b, &k1).await;
        let (shop, ss, m, _) = shop_to_ss(&t).await;
        sim_post(
            &shop.base_url,
            "/_sim/seed",
            json!({ "count": 60, "seed": 21 }),
        )
        .await;

        let engine = t.app.engine();
        let cancel = CancellationToken::new();
        let worker = {
            let (e, c) = (engine.clone(), cancel.clone());
            tokio::spawn(async move { e.run(c).await })
        };
        let store = t.app.store.clone();
        assert!(
            eventually(120, || async {
                store.totals().await.unwrap().deliveries_done == 60
            })
            .await,
            "{b:?}: first batch delivered"
        );
        // A process on the old key that has not unwrapped anything yet.
        let cold = crypto(&t, &k1).await.unwrap();

        // More orders arrive, and the rotation runs while the worker reads and sends them.
        add_orders(&shop.base_url, 20).await;
        t.clock.advance(time::Duration::seconds(90));
        let (ok, out) = keys_cli(&t, &["rotate", "--batch", "1"], &k2, Some(&k1)).await;
        assert!(ok, "{b:?}: {out}");
        assert!(out.contains("1 tenant keys re-wrapped"), "{b:?}: {out}");
        assert!(out.contains(&format!("retired {v1}")), "{b:?}: {out}");

        // And after it: the old-key worker goes on from its cache.
        add_orders(&shop.base_url, 10).await;
        t.clock.advance(time::Duration::seconds(90));
        let want = shippable(&shop.base_url).await;
        assert!(want.len() > 60, "{b:?}: {} shippable", want.len());
        let ss_url = ss.base_url.clone();
        let n = want.len();
        assert!(
            eventually(120, || {
                let u = ss_url.clone();
                async move { received(&u).await.len() == n }
            })
            .await,
            "{b:?}: every shippable order arrived"
        );
        assert!(
            eventually(60, || async {
                store.totals().await.unwrap().deliveries_done == 90
            })
            .await,
            "{b:?}: every order done: {:?}",
            store.totals().await.unwrap()
        );
        cancel.cancel();
        worker.await.unwrap();
        let got = received(&ss.base_url).await;
        assert_eq!(
            got.keys().collect::<std::collections::BTreeSet<_>>(),
            want.keys().collect(),
            "{b:?}: no order lost"
        );
        assert!(got.values().all(|n| *n == 1), "{b:?}: none sent twice");
        let totals = store.totals().await.unwrap();
        assert_eq!((totals.orders, totals.deliveries_dead), (90, 0), "{b:?}");

        // The old key is refused from now on ...
        let (ok, out) = keys_cli(&t, &["status"], &k1, None).await;
        assert!(!ok, "{b:?}: {out}");
        assert!(
            out.contains("retired") && out.contains(&v1) && !out.contains("panicked"),
            "{b:?}: {out}"
        );
        assert!(matches!(
            crypto(&t, &k1).await,
            Err(CryptoError::RetiredMasterKey(v)) if v == v1
        ));
        // ... and what a process of it had not unwrapped fails, naming the new version.
        let errs = open_all(&t, &cold, &m).await;
        assert!(!errs.is_empty());
        for e in errs {
            let e = e.unwrap_err();
            assert!(
                matches!(&e, CryptoError::MasterKeyUnavailable { version, .. } if *version == v2),
                "{b:?}: {e}"
            );
        }
        // The new key alone reads every order.
        let fresh = crypto(&t, &k2).await.unwrap();
        let all = open_all(&t, &fresh, &m).await;
        assert_eq!(all.len(), 90, "{b:?}");
        assert!(all.iter().all(Result::is_ok), "{b:?}");
        let (ok, out) = keys_cli(&t, &["status"], &k2, None).await;
        assert!(ok, "{b:?}: {out}");
        let line = |v: &str| {
            out.lines()
                .find(|l| l.contains(v))
                .unwrap_or("")
                .to_string()
        };
        assert!(
            line(&v2).contains("current") && line(&v2).contains("live"),
            "{out}"
        );
        assert!(line(&v2).trim_end().ends_with(" 1"), "{out}");
        assert!(line(&v1).contains("retired"), "{out}");
    }
}

/// Direct SQL on the orders database (the test rewinds state an older version left behind).
async fn exec(url: &str, sql: &str, binds: &[&str]) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
        for b in binds {
            q = q.bind(b.to_string());
        }
        q.execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
        for b in binds {
            q = q.bind(b.to_string());
        }
        q.execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// Orders synced by a version that hashed content under the blind-index key: after the
/// upgrade, a full re-read of the unchanged orders stores no new version and sends nothing;
/// an order whose stored hash does not match (the control) is stored again, which shows the
/// re-read did reach the orders.
#[tokio::test]
async fn an_unchanged_reread_after_the_hash_key_split_creates_no_version() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let (shop, ss, m, source) = shop_to_ss(&t).await;
        sim_post(
            &shop.base_url,
            "/_sim/seed",
            json!({ "count": 40, "seed": 31 }),
        )
        .await;
        let engine = t.app.engine();
        let store = t.app.store.clone();
        let cancel = CancellationToken::new();
        let worker = {
            let (e, c) = (engine.clone(), cancel.clone());
            tokio::spawn(async move { e.run(c).await })
        };
        assert!(
            eventually(120, || async {
                store.totals().await.unwrap().deliveries_done == 40
            })
            .await,
            "{b:?}: synced"
        );
        cancel.cancel();
        worker.await.unwrap();
        let sent_before = sim_get(&ss.base_url, "/_sim/received").await;

        // Rewrite every stored hash into the pre-split form (under the index key), as an
        // older version stored it; the control order gets a hash that matches nothing.
        let now = t.clock.now();
        let hasher = t.app.crypto.content_hasher(&m, now).await.unwrap();
        let q = OrderQuery {
            merchant_id: m.clone(),
            limit: 1000,
            ..OrderQuery::default()
        };
        let ids: Vec<String> = store
            .list_orders(&q)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        let rows = store.orders_by_ids(&ids).await.unwrap();
        assert_eq!(rows.len(), 40);
        let mut control = None;
        for row in &rows {
            let pii = match (&row.pii_ct, &row.pii_dek, &row.pii_epoch) {
                (Some(ct), Some(dek), Some(epoch)) => {
                    let r = PiiRow {
                        merchant_id: &row.merchant_id,
                        marketplace: &row.marketplace,
                        external_id: &row.external_id,
                        connection_id: &row.connection_id,
                        order_id: &row.id,
                    };
                    let sealed = SealedPii {
                        pii_ct: ct.clone(),
                        dek: dek.clone(),
                    };
                    t.app.crypto.open_pii(r, epoch, &sealed, now).await.unwrap()
                }
                _ => Default::default(),
            };
            let content = format!("{}\u{0}{}", row.data, serde_json::to_string(&pii).unwrap());
            let stored: String = current_hash(&t, &row.id).await;
            assert!(stored.starts_with(ContentHasher::PREFIX), "{b:?}: {stored}");
            assert_eq!(
                stored,
                hasher.hash(&content),
                "{b:?}: the content is rebuilt exactly"
            );
            let old = if control.is_none() {
                control = Some(row.id.clone());
                "pre-split-hash-of-other-content".to_string()
            } else {
                hasher.legacy_hash(&content)
            };
            exec(
                &t.app.cfg.database_url,
                "UPDATE orders SET content_hash = $1 WHERE id = $2",
                &[&old, &row.id],
            )
            .await;
        }
        let control = control.unwrap();

        // A full re-read: the cursor is forgotten and the pull is due.
        exec(
            &t.app.cfg.database_url,
            "DELETE FROM cursors WHERE connection_id = $1",
            &[&source],
        )
        .await;
        store.schedule_pull(&source, t.now_us()).await.unwrap();
        let mut passes = 0;
        while engine.pull_once().await.unwrap().work > 0 {
            passes += 1;
            assert!(passes < 50, "{b:?}: the re-read ends");
        }
        assert!(passes > 0, "{b:?}: the connection was read again");
        let versions: HashMap<String, i64> = store
            .list_orders(&q)
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.id, s.version))
            .collect();
        assert_eq!(
            versions[&control], 2,
            "{b:?}: the control order was re-read"
        );
        assert!(
            versions.iter().all(|(id, v)| *id == control || *v == 1),
            "{b:?}: unchanged orders got no new version: {versions:?}"
        );
        let totals = store.totals().await.unwrap();
        assert!(
            totals.deliveries_pending <= 1,
            "{b:?}: at most the control order is to be sent again: {totals:?}"
        );
        // The untouched orders keep their pre-split hash until they change.
        let other = rows.iter().find(|r| r.id != control).unwrap();
        assert!(
            !current_hash(&t, &other.id)
                .await
                .starts_with(ContentHasher::PREFIX)
        );
        assert!(
            current_hash(&t, &control)
                .await
                .starts_with(ContentHasher::PREFIX)
        );
        // Nothing was sent meanwhile (the worker is stopped): the target is as it was.
        assert_eq!(sim_get(&ss.base_url, "/_sim/received").await, sent_before);
    }
}

async fn current_hash(t: &TestApp, id: &str) -> String {
    let url = &t.app.cfg.database_url;
    const Q: &str = "SELECT content_hash FROM orders WHERE id = $1";
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let h = sqlx::query_scalar(Q)
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        h
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let h = sqlx::query_scalar(Q)
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        h
    }
}
