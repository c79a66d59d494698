//! Epoch crypto-shredding (docs/privacy.md): a delivered order's DEK moves to the epoch of its
//! purge date, an epoch key is destroyed once its week is over and no order needs it (per
//! merchant, audited), a late order is never sealed into a destroyed epoch, and a copy of the
//! orders database taken before the purge loses exactly the purged orders.

use crate::helpers::{Backend, TestApp, backends, eventually, provision, temp_dir};
use ordersync::crypto::{CryptoError, PiiRow, SealedPii, epoch_end, epoch_of};
use ordersync::engine::{EPOCH_GRACE, Engine, PurgeStep, sealing_epoch};
use ordersync::store::{
    ConnectionRow, CursorRow, LegalHold, OrderQuery, OrderRow, OrderSummary, OrderUpsert,
    PageCommit, RetentionRow, RewrapUpdate, Store,
};
use ordersync_conformance::sim_post;
use ordersync_sdk::clock::{from_micros, to_micros};
use ordersync_sdk::{Address, Clock, Pii};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

const DAY_US: i64 = 86_400_000_000;

/// Every order of a merchant: its summary (dates) and its stored row (sealed PII).
async fn orders(store: &dyn Store, m: &str) -> Vec<(OrderSummary, OrderRow)> {
    let sums = store
        .list_orders(&OrderQuery {
            merchant_id: m.to_string(),
            connection_id: None,
            status: None,
            after: None,
            limit: 100_000,
        })
        .await
        .unwrap();
    let ids: Vec<String> = sums.iter().map(|s| s.id.clone()).collect();
    let mut rows: BTreeMap<String, OrderRow> = store
        .orders_by_ids(&ids)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    sums.into_iter()
        .map(|s| {
            let r = rows.remove(&s.id).unwrap();
            (s, r)
        })
        .collect()
}

async fn open(t: &TestApp, r: &OrderRow) -> Result<Pii, CryptoError> {
    let row = PiiRow {
        merchant_id: &r.merchant_id,
        marketplace: &r.marketplace,
        external_id: &r.external_id,
        connection_id: &r.connection_id,
        order_id: &r.id,
    };
    let sealed = SealedPii {
        pii_ct: r.pii_ct.clone().expect("the row holds PII"),
        dek: r.pii_dek.clone().expect("the row holds a DEK"),
    };
    let epoch = r.pii_epoch.as_deref().expect("the row names its epoch");
    t.app
        .crypto
        .open_pii(row, epoch, &sealed, t.clock.now())
        .await
}

/// Purge passes until one does nothing; their totals.
async fn sweep(e: &Engine) -> PurgeStep {
    let mut total = PurgeStep::default();
    loop {
        let s = e.purge_step().await.unwrap();
        total.purged += s.purged;
        total.rewrapped += s.rewrapped;
        total.epochs_destroyed += s.epochs_destroyed;
        if s.purged == 0 && s.rewrapped == 0 {
            return total;
        }
    }
}

/// Moves the clock to `at` (it only moves forward).
fn advance_to(t: &TestApp, at: OffsetDateTime) {
    let by = at - t.clock.now();
    assert!(by > Duration::ZERO, "the clock only moves forward");
    t.clock.advance(by);
}

/// A backup of the orders database as an operator takes one: the SQLite file and its WAL
/// (and shared-memory index), copied while nothing writes. The keystore (`keystore.db`,
/// beside it) is a database of its own and is not part of it.
fn backup(dir: &Path) -> PathBuf {
    let to = temp_dir();
    for suffix in ["", "-wal", "-shm"] {
        let f = dir.join(format!("ordersync.db{suffix}"));
        if f.exists() {
            std::fs::copy(&f, to.join(format!("ordersync.db{suffix}"))).unwrap();
        }
    }
    to
}

async fn epoch_live(t: &TestApp, m: &str, epoch: &str) -> Option<bool> {
    t.app
        .crypto
        .keystore()
        .get(m, "epoch", epoch)
        .await
        .unwrap()
        .map(|k| k.destroyed_at.is_none())
}

async fn audits(t: &TestApp, m: &str, action: &str) -> Vec<(Option<String>, String)> {
    t.app
        .store
        .list_audit(m, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action == action)
        .map(|a| (a.subject, a.detail.unwrap_or_default()))
        .collect()
}

/// The acceptance test of the backup promise: Shopify → ShipStation, parcels delivered and
/// their DEKs moved to the epochs of their purge dates; a copy of the orders database is taken;
/// past those dates the purge deletes their PII and destroys the epochs. Opened with the live
/// keystore, the copy still holds every ciphertext and wrapped DEK, but each purged order
/// fails with `Destroyed`, while every order not yet due still decrypts.
#[tokio::test]
async fn a_backup_of_the_orders_database_loses_the_purged_orders_with_their_epoch() {
    let t = TestApp::new(Backend::Sqlite).await;
    let (e, _shop, _ss, m) = crate::tracking::shipped(&t, 80).await;
    let t0 = t.clock.now();
    t.clock.advance(Duration::days(7));
    e.track_once().await.unwrap();

    let before = orders(&*t.app.store, &m).await;
    let mut plain: BTreeMap<String, Pii> = BTreeMap::new();
    for (_, r) in &before {
        plain.insert(r.id.clone(), open(&t, r).await.unwrap());
    }
    let delivered: BTreeSet<String> = before
        .iter()
        .filter(|(s, _)| s.delivered_at.is_some())
        .map(|(s, _)| s.id.clone())
        .collect();
    assert!(
        !delivered.is_empty() && delivered.len() < before.len(),
        "some orders delivered ({} of {}), some not (nothing to ship)",
        delivered.len(),
        before.len()
    );
    // At ingest every order went into the epoch of its fallback date (90 days after the
    // order); the delivery moved the purge date weeks earlier, not the DEK.
    let mut fallback_epochs = BTreeSet::new();
    for (s, r) in &before {
        let fallback = sealing_epoch(from_micros(r.source_created_at + 90 * DAY_US), t0);
        assert_eq!(
            r.pii_epoch.as_deref(),
            Some(fallback.as_str()),
            "sealed into its fallback epoch"
        );
        if delivered.contains(&s.id) {
            assert_ne!(epoch_of(from_micros(s.purge_after.unwrap())), fallback);
            fallback_epochs.insert(fallback);
        }
    }

    // The purge pass (nothing is due yet) moves each delivered order's DEK.
    let s = e.purge_step().await.unwrap();
    assert_eq!(
        (s.purged, s.rewrapped, s.epochs_destroyed),
        (0, delivered.len(), 0)
    );
    let moved = orders(&*t.app.store, &m).await;
    for (s, r) in &moved {
        let was = before.iter().find(|(b, _)| b.id == s.id).unwrap();
        if delivered.contains(&s.id) {
            assert_eq!(
                r.pii_epoch.as_deref(),
                Some(epoch_of(from_micros(s.purge_after.unwrap())).as_str()),
                "a delivered order's DEK is in the epoch of its purge date"
            );
            assert_eq!(r.pii_ct, was.1.pii_ct, "the PII blob is not re-encrypted");
            assert_ne!(r.pii_dek, was.1.pii_dek);
        } else {
            assert_eq!(
                (&r.pii_epoch, &r.pii_dek),
                (&was.1.pii_epoch, &was.1.pii_dek)
            );
        }
        assert_eq!(&open(&t, r).await.unwrap(), &plain[&s.id], "nothing lost");
    }
    assert_eq!(
        e.purge_step().await.unwrap(),
        PurgeStep::default(),
        "settled"
    );

    let copy = backup(&t.dir);

    // Past the delivered orders' purge weeks (and the grace), well before any fallback date.
    let last_purge = moved
        .iter()
        .filter(|(s, _)| delivered.contains(&s.id))
        .map(|(s, _)| s.purge_after.unwrap())
        .max()
        .unwrap();
    let purge_at = epoch_end(&epoch_of(from_micros(last_purge))).unwrap() + EPOCH_GRACE;
    let first_fallback = moved
        .iter()
        .filter(|(s, _)| !delivered.contains(&s.id))
        .map(|(s, _)| s.purge_after.unwrap())
        .min()
        .unwrap();
    assert!(to_micros(purge_at) < first_fallback);
    advance_to(&t, purge_at + Duration::hours(1));
    let s = sweep(&e).await;
    assert_eq!(s.purged, delivered.len(), "{s:?}");
    assert!(s.epochs_destroyed >= 1, "{s:?}");

    // Each destruction is audited, without PII.
    let destroyed = audits(&t, &m, "key.epoch_destroyed").await;
    assert_eq!(destroyed.len(), s.epochs_destroyed);
    let emails: Vec<String> = plain.values().filter_map(|p| p.email.clone()).collect();
    assert!(!emails.is_empty());
    for (subject, detail) in &destroyed {
        let epoch = subject.as_deref().unwrap();
        assert!(
            detail.contains(epoch) && detail.contains("key_id"),
            "{detail}"
        );
        assert_eq!(epoch_live(&t, &m, epoch).await, Some(false));
        for email in &emails {
            assert!(!detail.contains(email.as_str()));
        }
    }
    // The fallback epochs the delivered orders came from still hold the others' keys: without
    // the move, the backup would still open the purged orders.
    for f in &fallback_epochs {
        assert_eq!(
            epoch_live(&t, &m, f).await,
            Some(true),
            "{f} is still needed"
        );
    }

    // The copy, read with the live keystore.
    let old =
        ordersync::store::connect(&format!("sqlite://{}", copy.join("ordersync.db").display()))
            .await
            .unwrap();
    let in_copy = orders(&*old, &m).await;
    assert_eq!(in_copy.len(), before.len());
    for (s, r) in &in_copy {
        assert!(
            r.pii_ct.is_some() && r.pii_dek.is_some() && s.pii_purged_at.is_none(),
            "the backup still holds the ciphertext and the wrapped DEK"
        );
        let opened = open(&t, r).await;
        if delivered.contains(&s.id) {
            assert!(
                matches!(opened, Err(CryptoError::Destroyed(_))),
                "a purged order is shredded in the backup: {opened:?}"
            );
        } else {
            assert_eq!(
                &opened.unwrap(),
                &plain[&s.id],
                "an order not yet due still opens"
            );
        }
    }
    // The live database holds no PII of the purged orders.
    for (s, r) in orders(&*t.app.store, &m).await {
        assert_eq!(r.pii_ct.is_none(), delivered.contains(&s.id));
        assert_eq!(r.pii_dek.is_none(), delivered.contains(&s.id));
    }
}

/// A merchant with one source connection (no routes).
async fn merchant(t: &TestApp) -> (String, String) {
    let (m, ids) = provision(
        t,
        &[(
            "shopify",
            "source",
            json!({ "shop_domain": "shred.myshopify.com" }),
            &[("access_token", "shpat_s")],
        )],
    )
    .await;
    (m, ids[0].clone())
}

fn canary(n: &str) -> Pii {
    Pii {
        buyer_name: Some(format!("Canary {n}")),
        email: Some(format!("{n}@shred.test")),
        shipping_address: Some(Address {
            line1: Some(format!("{n} Canary Street")),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Stores one order with real PII sealed as ingest seals it, purged at `purge_after`.
async fn seed(
    t: &TestApp,
    m: &str,
    conn: &str,
    ext: &str,
    created: i64,
    purge_after: i64,
) -> String {
    let now = t.clock.now();
    let id = uuid::Uuid::now_v7().to_string();
    let epoch = sealing_epoch(from_micros(purge_after), now);
    let ek = t.app.crypto.sealing_key(m, &epoch, now).await.unwrap();
    let row = PiiRow {
        merchant_id: m,
        marketplace: "shopify",
        external_id: ext,
        connection_id: conn,
        order_id: &id,
    };
    let sealed = t.app.crypto.seal_pii_with(&ek, row, &canary(ext));
    let now_us = to_micros(now);
    t.app
        .store
        .commit_page(&PageCommit {
            connection_id: conn.to_string(),
            lease_owner: None,
            now: now_us,
            orders: vec![OrderUpsert {
                id: id.clone(),
                merchant_id: m.to_string(),
                connection_id: conn.to_string(),
                marketplace: "shopify".into(),
                external_id: ext.to_string(),
                order_number: format!("#{ext}"),
                status: "open".into(),
                data: "{}".into(),
                content_hash: format!("h-{ext}"),
                version: 1,
                pii_ct: Some(sealed.pii_ct),
                pii_dek: Some(sealed.dek),
                pii_epoch: Some(ek.epoch),
                pii_fields: 3,
                email_bidx: None,
                buyer_bidx: None,
                source_created_at: created,
                source_updated_at: created,
                purge_after,
                now: now_us,
            }],
            deliveries: vec![],
            cursor: CursorRow {
                watermark: Some(now_us),
                window_until: None,
                page_token: None,
            },
            rejected: vec![],
            rejected_reason: None,
        })
        .await
        .unwrap();
    id
}

async fn row(t: &TestApp, id: &str) -> OrderRow {
    t.app
        .store
        .orders_by_ids(&[id.to_string()])
        .await
        .unwrap()
        .remove(0)
}

/// An epoch key goes only when its week is over (plus the grace) and no order of *that*
/// merchant still holds a DEK under it; a legal hold keeps it; the same week of another
/// merchant is another key.
#[tokio::test]
async fn an_epoch_is_destroyed_only_when_its_week_is_over_and_no_order_needs_it() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let e = t.app.engine();
        let (ma, ca) = merchant(&t).await;
        let (mb, cb) = merchant(&t).await;
        let now = t.now_us();
        let soon = now + DAY_US;
        let later = now + 30 * DAY_US;
        let a1 = seed(&t, &ma, &ca, "1", now, soon).await;
        let a3 = seed(&t, &ma, &ca, "3", now, later).await;
        let b1 = seed(&t, &mb, &cb, "11", now, soon).await;
        let b2 = seed(&t, &mb, &cb, "12", now, soon).await;
        let hold = LegalHold {
            until: now + 60 * DAY_US,
            basis: "tax audit".into(),
        };
        assert!(
            t.app
                .store
                .set_legal_hold(&mb, &b1, Some(&hold), now)
                .await
                .unwrap()
        );
        let e1 = epoch_of(from_micros(soon));
        let e3 = epoch_of(from_micros(later));
        assert_ne!(e1, e3);
        let closes = epoch_end(&e1).unwrap() + EPOCH_GRACE;

        // Due, purged, but the week (with its grace) is not over: the key stays.
        advance_to(&t, closes - Duration::minutes(1));
        let s = sweep(&e).await;
        assert_eq!((s.purged, s.epochs_destroyed), (2, 0), "{b:?}: {s:?}");
        assert!(row(&t, &a1).await.pii_dek.is_none());
        assert_eq!(epoch_live(&t, &ma, &e1).await, Some(true), "{b:?}");
        assert!(audits(&t, &ma, "key.epoch_destroyed").await.is_empty());

        // Over: merchant A's key of that week goes; B's is held by its order on hold; A's
        // later epoch is still needed (and its week is not over).
        advance_to(&t, closes + Duration::minutes(1));
        let status = e.epoch_status().await.unwrap();
        assert_eq!((status.pending, status.held), (1, 1), "{b:?}: {status:?}");
        let shown = ordersync::keys::status(&t.app).await.unwrap();
        assert!(
            shown.contains("1 pending destruction (the next purge sweep), 1 still holding"),
            "{shown}"
        );
        let s = sweep(&e).await;
        assert_eq!(s.purged, 0, "{b:?}");
        assert_eq!(epoch_live(&t, &ma, &e1).await, Some(false), "{b:?}");
        assert_eq!(epoch_live(&t, &mb, &e1).await, Some(true), "{b:?}");
        assert_eq!(epoch_live(&t, &ma, &e3).await, Some(true), "{b:?}");
        let done = audits(&t, &ma, "key.epoch_destroyed").await;
        assert_eq!(done.len(), 1, "{b:?}: one audited destruction");
        assert_eq!(done[0].0.as_deref(), Some(e1.as_str()), "{b:?}");
        assert!(
            audits(&t, &mb, "key.epoch_destroyed").await.is_empty(),
            "{b:?}"
        );
        assert!(
            open(&t, &row(&t, &b1).await).await.is_ok(),
            "{b:?}: held PII opens"
        );
        assert!(open(&t, &row(&t, &a3).await).await.is_ok(), "{b:?}");
        assert!(row(&t, &b2).await.pii_dek.is_none());
        let status = e.epoch_status().await.unwrap();
        assert_eq!((status.pending, status.held), (0, 1), "{b:?}: {status:?}");

        // The hold is lifted: the order is purged and its epoch goes in the same sweep.
        assert!(
            t.app
                .store
                .set_legal_hold(&mb, &b1, None, to_micros(t.clock.now()))
                .await
                .unwrap()
        );
        let s = sweep(&e).await;
        assert_eq!((s.purged, s.epochs_destroyed), (1, 1), "{b:?}: {s:?}");
        assert_eq!(epoch_live(&t, &mb, &e1).await, Some(false), "{b:?}");
        assert_eq!(epoch_live(&t, &ma, &e3).await, Some(true), "{b:?}");
        // Nothing is destroyed twice.
        assert_eq!(sweep(&e).await, PurgeStep::default(), "{b:?}");
        assert_eq!(audits(&t, &ma, "key.epoch_destroyed").await.len(), 1);
        assert_eq!(audits(&t, &mb, "key.epoch_destroyed").await.len(), 1);
    }
}

/// A retention change moves purge dates (`orders_rescheduled`): the sweep moves the DEKs with
/// them, a re-wrap never overwrites a concurrent change, and an order whose DEK cannot be
/// opened any more does not keep the sweep busy.
#[tokio::test]
async fn a_retention_change_moves_the_deks_and_a_concurrent_change_wins() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let e = t.app.engine();
        let (m, c) = merchant(&t).await;
        let now = t.now_us();
        let created = now - DAY_US;
        let o1 = seed(&t, &m, &c, "21", created, created + 90 * DAY_US).await;
        let o2 = seed(&t, &m, &c, "22", created, created + 90 * DAY_US).await;
        let fallback = row(&t, &o1).await.pii_epoch.unwrap();
        let n = t
            .app
            .store
            .put_retention(
                &RetentionRow {
                    merchant_id: m.clone(),
                    marketplace: "shopify".into(),
                    days_after_delivery: 30,
                    days_after_order: 21,
                },
                now,
            )
            .await
            .unwrap();
        assert_eq!(n, 2);
        let target = epoch_of(from_micros(created + 21 * DAY_US));
        assert_ne!(target, fallback);

        // A concurrent change between read and write wins: o2's DEK changed meanwhile.
        let due = t.app.store.rewrap_due(10).await.unwrap();
        assert_eq!(due.len(), 2, "{b:?}");
        let stale = due.iter().find(|d| d.id == o2).unwrap();
        let stale = RewrapUpdate {
            id: stale.id.clone(),
            old_dek: Some("dek:v2:someone-else:AAAA".into()),
            purge_after: stale.purge_after,
            moved: Some(("dek:v2:bogus:AAAA".into(), "2000-W01".into())),
        };
        assert_eq!(
            t.app.store.apply_rewraps(&[stale]).await.unwrap(),
            0,
            "{b:?}"
        );
        assert_eq!(
            row(&t, &o2).await.pii_epoch.as_deref(),
            Some(fallback.as_str())
        );

        let s = sweep(&e).await;
        assert_eq!(s.rewrapped, 2, "{b:?}: {s:?}");
        for id in [&o1, &o2] {
            let r = row(&t, id).await;
            assert_eq!(r.pii_epoch.as_deref(), Some(target.as_str()), "{b:?}");
            assert_eq!(open(&t, &r).await.unwrap(), canary(&r.external_id), "{b:?}");
        }
        assert!(
            t.app.store.rewrap_due(10).await.unwrap().is_empty(),
            "{b:?}"
        );

        // An order whose DEK no longer opens (its epoch shredded under it) is settled once,
        // left as it is, and not retried forever.
        let o3 = seed(&t, &m, &c, "23", created, created + 90 * DAY_US).await;
        let r3 = row(&t, &o3).await;
        assert!(
            t.app
                .crypto
                .destroy_epoch(&m, r3.pii_epoch.as_deref().unwrap(), t.clock.now())
                .await
                .unwrap()
        );
        t.app
            .store
            .put_retention(
                &RetentionRow {
                    merchant_id: m.clone(),
                    marketplace: "shopify".into(),
                    days_after_delivery: 30,
                    days_after_order: 14,
                },
                to_micros(t.clock.now()),
            )
            .await
            .unwrap();
        let s = sweep(&e).await;
        assert_eq!(s.rewrapped, 3, "{b:?}: {s:?}");
        assert_eq!(row(&t, &o3).await.pii_dek, r3.pii_dek, "{b:?}");
        assert!(
            t.app.store.rewrap_due(10).await.unwrap().is_empty(),
            "{b:?}"
        );
        assert_eq!(e.purge_step().await.unwrap().rewrapped, 0);
    }
}

/// A source connected late brings orders whose fallback purge date falls in a week whose
/// epoch is already destroyed: they are sealed into this week's epoch (never into the
/// destroyed one, never failing), purged at once, and that epoch goes when its week ends.
#[tokio::test]
async fn a_late_order_of_a_shredded_week_is_sealed_into_this_weeks_epoch() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let clock: Arc<dyn Clock> = t.clock.clone();
        let opts = ordersync_shopify::sim::SimOptions::relaxed;
        let shop1 = ordersync_shopify::sim::spawn(opts(), clock.clone())
            .await
            .unwrap();
        let shop2 = ordersync_shopify::sim::spawn(opts(), clock).await.unwrap();
        for s in [&shop1, &shop2] {
            sim_post(&s.base_url, "/_sim/seed", json!({ "count": 15, "seed": 9 })).await;
        }
        let (m, _) = provision(
            &t,
            &[(
                "shopify",
                "source",
                json!({ "shop_domain": "one.myshopify.com", "api_base_url": shop1.base_url }),
                &[("access_token", "shpat_1")],
            )],
        )
        .await;
        let e = t.app.engine();
        let store = t.app.store.clone();
        let count = |n: i64| {
            let (e, store) = (e.clone(), store.clone());
            async move {
                e.pull_once().await.unwrap();
                store.totals().await.unwrap().orders == n
            }
        };
        assert!(
            eventually(60, || count(15)).await,
            "{b:?}: first shop synced"
        );
        let first = orders(&*store, &m).await;
        let weeks: BTreeSet<String> = first
            .iter()
            .map(|(_, r)| r.pii_epoch.clone().unwrap())
            .collect();

        // 100 days on, every one of them is purged and their epochs destroyed.
        t.clock.advance(Duration::days(100));
        let s = sweep(&e).await;
        assert_eq!(s.purged, 15, "{b:?}");
        for w in &weeks {
            assert_eq!(epoch_live(&t, &m, w).await, Some(false), "{b:?}: {w}");
        }

        // The second shop of the same merchant is connected now: its orders are as old.
        let now = t.now_us();
        let secrets: ordersync_sdk::Secrets =
            [("access_token".to_string(), "shpat_2".to_string().into())]
                .into_iter()
                .collect();
        let id = uuid::Uuid::now_v7().to_string();
        let ct = t
            .app
            .crypto
            .seal_secrets(&m, &id, &secrets, t.clock.now())
            .await
            .unwrap();
        store
            .insert_connection(&ConnectionRow {
                id: id.clone(),
                merchant_id: m.clone(),
                kind: "shopify".into(),
                role: "source".into(),
                name: "two".into(),
                config:
                    json!({ "shop_domain": "two.myshopify.com", "api_base_url": shop2.base_url })
                        .to_string(),
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
        assert!(
            eventually(60, || count(30)).await,
            "{b:?}: the late orders are stored"
        );
        let this_week = epoch_of(t.clock.now());
        let mut shredded_weeks = 0;
        for (s, r) in orders(&*store, &m)
            .await
            .iter()
            .filter(|(s, _)| s.connection_id == id)
        {
            let fallback = epoch_of(from_micros(r.source_created_at + 90 * DAY_US));
            if epoch_live(&t, &m, &fallback).await == Some(false) {
                shredded_weeks += 1;
            }
            assert!(s.purge_after.unwrap() < now, "{b:?}: already due");
            assert_eq!(r.pii_epoch.as_deref(), Some(this_week.as_str()), "{b:?}");
            assert!(
                open(&t, r).await.is_ok(),
                "{b:?}: the late order's PII opens"
            );
        }
        assert!(shredded_weeks > 0, "{b:?}: some fell in a destroyed week");
        let conn = store.get_connection(&id).await.unwrap().unwrap();
        assert_eq!(conn.last_error, None, "{b:?}");

        // Purged at once; this week's epoch goes once the week is over.
        let s = sweep(&e).await;
        assert_eq!((s.purged, s.epochs_destroyed), (15, 0), "{b:?}: {s:?}");
        assert_eq!(epoch_live(&t, &m, &this_week).await, Some(true));
        advance_to(
            &t,
            epoch_end(&this_week).unwrap() + EPOCH_GRACE + Duration::minutes(1),
        );
        sweep(&e).await;
        assert_eq!(epoch_live(&t, &m, &this_week).await, Some(false), "{b:?}");
    }
}

/// The purge sweep (delete PII + audit + epoch destruction) over many delivered orders past
/// their purge date, on SQLite, for two layouts and two batch sizes: every order is purged and
/// every epoch destroyed. Scaled: the test run seeds 4,000 orders; the throughput figure in
/// `docs/benchmarks.md` is this test over 100,000 in release:
/// `ORDERSYNC_BENCH_ORDERS=100000 cargo test --release -p ordersync --test e2e shredding::purge_sweep -- --nocapture`
#[tokio::test]
async fn purge_sweep_purges_every_due_order_and_destroys_every_epoch() {
    let n = crate::helpers::bench_orders(4_000).div_ceil(4_000) as usize * 4_000;
    for scattered in [true, false] {
        for batch in [1000, 5000] {
            purge_bench(n, scattered, batch).await;
        }
    }
}

/// `scattered`: purge dates cycle over 70 days in insertion order (each batch of due orders
/// is spread over the whole table: the worst case for SQLite's page writes); otherwise they
/// follow the insertion order with up to a week of jitter (orders delivered 2–9 days after
/// they were read, in the order they were read).
async fn purge_bench(n_orders: usize, scattered: bool, batch: i64) {
    const MERCHANTS: usize = 4;
    let t = TestApp::new(Backend::Sqlite).await;
    let now = t.clock.now();
    let mut epochs = BTreeSet::new();
    let seeding = std::time::Instant::now();
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    for mi in 0..MERCHANTS {
        let (m, c) = merchant(&t).await;
        for page in 0..n_orders / MERCHANTS / 1000 {
            let mut ups = Vec::with_capacity(1000);
            for i in 0..1000 {
                let n = page * 1000 + i;
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                // Delivered over the past ten weeks, purged 30 days after: all due now.
                let days_ago = if scattered {
                    (n as i64 % 70) * DAY_US
                } else {
                    let i = (mi * n_orders / MERCHANTS + n) as i64;
                    (n_orders as i64 - i) * 70 * DAY_US / n_orders as i64
                        + (rng % 7) as i64 * DAY_US
                };
                let purge_after = to_micros(now) - DAY_US - days_ago;
                let created = purge_after - 35 * DAY_US;
                let epoch = epoch_of(from_micros(purge_after));
                let ek = t.app.crypto.epoch_key(&m, &epoch, now).await.unwrap();
                epochs.insert((m.clone(), epoch));
                let id = uuid::Uuid::now_v7().to_string();
                let ext = format!("{mi}-{n}");
                let row = PiiRow {
                    merchant_id: &m,
                    marketplace: "shopify",
                    external_id: &ext,
                    connection_id: &c,
                    order_id: &id,
                };
                let sealed = t.app.crypto.seal_pii_with(&ek, row, &canary(&ext));
                ups.push(OrderUpsert {
                    id,
                    merchant_id: m.clone(),
                    connection_id: c.clone(),
                    marketplace: "shopify".into(),
                    external_id: ext.clone(),
                    order_number: format!("#{ext}"),
                    status: "closed".into(),
                    data: "{}".into(),
                    content_hash: format!("h-{ext}"),
                    version: 1,
                    pii_ct: Some(sealed.pii_ct),
                    pii_dek: Some(sealed.dek),
                    pii_epoch: Some(ek.epoch),
                    pii_fields: 3,
                    email_bidx: Some(format!("bidx-{ext}")),
                    buyer_bidx: None,
                    source_created_at: created,
                    source_updated_at: created,
                    purge_after,
                    now: to_micros(now),
                });
            }
            t.app
                .store
                .commit_page(&PageCommit {
                    connection_id: c.clone(),
                    lease_owner: None,
                    now: to_micros(now),
                    orders: ups,
                    deliveries: vec![],
                    cursor: CursorRow {
                        watermark: None,
                        window_until: None,
                        page_token: None,
                    },
                    rejected: vec![],
                    rejected_reason: None,
                })
                .await
                .unwrap();
        }
    }
    let seeded = seeding.elapsed();
    // Every epoch is a week that has ended; push the clock past the last one's grace.
    t.clock.advance(Duration::days(8));
    let mut e = t.app.engine();
    e.cfg.purge_batch = batch;
    let started = std::time::Instant::now();
    let s = sweep(&e).await;
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(s.purged, n_orders);
    assert_eq!(s.epochs_destroyed, epochs.len());
    eprintln!(
        "{} purge dates, batch {batch}: {} orders (seeded in {seeded:.1?}), {} epoch keys destroyed, sweep {secs:.2} s = {:.0} orders/s",
        if scattered { "scattered" } else { "in-order" },
        s.purged,
        s.epochs_destroyed,
        n_orders as f64 / secs
    );
}
