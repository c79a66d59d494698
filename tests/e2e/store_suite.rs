//! One store behaviour suite, run against every backend.

use crate::helpers::{TestApp, backends};
use ordersync::store::*;

fn order(i: usize, merchant: &str, conn: &str, version: i64, now: i64) -> OrderUpsert {
    OrderUpsert {
        id: format!("00000000-0000-7000-8000-{i:012}"),
        merchant_id: merchant.into(),
        connection_id: conn.into(),
        marketplace: "shopify".into(),
        external_id: format!("ext-{i}"),
        order_number: format!("#{i}"),
        status: "open".into(),
        data: "{}".into(),
        content_hash: format!("h{i}-{version}"),
        version,
        pii_ct: Some(format!("pii:v1:k:{i}")),
        pii_dek: Some("dek:v1:x".into()),
        pii_epoch: Some("2026-W50".into()),
        pii_fields: 3,
        email_bidx: Some(format!("b{i}")),
        buyer_bidx: None,
        source_created_at: now,
        source_updated_at: now,
        purge_after: now + 90 * 86_400_000_000,
        now,
    }
}

async fn setup(t: &TestApp) -> (String, String, String) {
    let s = &t.app.store;
    let now = t.now_us();
    s.create_merchant("m1", "Merchant", "tokenhash", now)
        .await
        .unwrap();
    for (id, role) in [("src", "source"), ("dst", "sink")] {
        s.insert_connection(&ConnectionRow {
            id: id.into(),
            merchant_id: "m1".into(),
            kind: "shopify".into(),
            role: role.into(),
            name: id.into(),
            config: "{}".into(),
            secrets_ct: None,
            state: "active".into(),
            next_pull_at: 0,
            last_pull_at: None,
            last_error: None,
            created_at: now,
            version: 1,
            build_version: 1,
        })
        .await
        .unwrap();
    }
    s.insert_route(&RouteRow {
        id: "r1".into(),
        merchant_id: "m1".into(),
        source_connection_id: "src".into(),
        sink_connection_id: "dst".into(),
        created_at: now,
        statuses: None,
        start_at: None,
    })
    .await
    .unwrap();
    ("m1".into(), "src".into(), "dst".into())
}

fn page(
    m: &str,
    c: &str,
    sink: &str,
    range: std::ops::Range<usize>,
    version: i64,
    now: i64,
) -> PageCommit {
    let orders: Vec<_> = range
        .clone()
        .map(|i| order(i, m, c, version, now))
        .collect();
    let deliveries = orders
        .iter()
        .map(|o| DeliveryEnqueue {
            id: uuid::Uuid::now_v7().to_string(),
            order_id: o.id.clone(),
            merchant_id: m.into(),
            sink_connection_id: sink.into(),
            version,
            idempotency_key: format!("{}-{version}", o.id),
        })
        .collect();
    PageCommit {
        connection_id: c.into(),
        lease_owner: None,
        now,
        orders,
        deliveries,
        cursor: CursorRow {
            watermark: Some(now),
            window_until: None,
            page_token: None,
        },
        rejected: vec![],
        rejected_reason: None,
    }
}

#[tokio::test]
async fn page_commit_is_one_unit_and_upserts() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let s = &t.app.store;
        let (m, c, sink) = setup(&t).await;
        let now = t.now_us();
        assert_eq!(
            s.merchant_by_token("tokenhash").await.unwrap().as_deref(),
            Some("m1"),
            "{b:?}"
        );
        s.commit_page(&page(&m, &c, &sink, 0..300, 1, now))
            .await
            .unwrap();
        assert_eq!(s.totals().await.unwrap().orders, 300, "{b:?}");
        assert_eq!(s.totals().await.unwrap().deliveries_pending, 300, "{b:?}");
        assert_eq!(
            s.get_cursor(&c).await.unwrap().unwrap().watermark,
            Some(now),
            "{b:?}"
        );
        // re-commit a newer version of 10 of them: no new rows, versions move, deliveries re-armed
        s.commit_page(&page(&m, &c, &sink, 0..10, 2, now + 1))
            .await
            .unwrap();
        let ex = s
            .existing_orders(
                &c,
                &[
                    "ext-3".to_string(),
                    "ext-200".to_string(),
                    "nope".to_string(),
                ],
            )
            .await
            .unwrap();
        assert_eq!(ex.len(), 2, "{b:?}");
        let v: std::collections::HashMap<_, _> = ex
            .iter()
            .map(|e| (e.external_id.clone(), e.version))
            .collect();
        assert_eq!((v["ext-3"], v["ext-200"]), (2, 1), "{b:?}");
        assert_eq!(s.totals().await.unwrap().orders, 300, "{b:?}");
    }
}

#[tokio::test]
async fn delivery_claims_are_disjoint_leased_and_version_checked() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let s = &t.app.store;
        let (m, c, sink) = setup(&t).await;
        let now = t.now_us();
        s.commit_page(&page(&m, &c, &sink, 0..100, 1, now))
            .await
            .unwrap();
        let a = s
            .claim_deliveries("w1", now, now + 60_000_000, 60)
            .await
            .unwrap();
        let b2 = s
            .claim_deliveries("w2", now, now + 60_000_000, 60)
            .await
            .unwrap();
        assert_eq!((a.len(), b2.len()), (60, 40), "{b:?}");
        let ids: std::collections::HashSet<_> = a.iter().chain(&b2).map(|d| d.id.clone()).collect();
        assert_eq!(ids.len(), 100, "{b:?}: claims overlap");
        assert!(
            s.claim_deliveries("w3", now, now + 60_000_000, 10)
                .await
                .unwrap()
                .is_empty(),
            "{b:?}"
        );

        // the order changes while w1's batch is in flight: its completion must re-arm, not finish
        s.commit_page(&page(&m, &c, &sink, 0..1, 2, now))
            .await
            .unwrap();
        let results: Vec<_> = a
            .iter()
            .map(|d| DeliveryResult::Done {
                id: d.id.clone(),
                external_ref: format!("ref-{}", d.id),
                version: d.version,
                next_track_at: Some(now + 1),
            })
            .collect();
        s.complete_deliveries("w1", now, &results).await.unwrap();
        // a stale owner cannot complete someone else's claim
        s.complete_deliveries(
            "w1",
            now,
            &[DeliveryResult::Dead {
                id: b2[0].id.clone(),
                error: "x".into(),
            }],
        )
        .await
        .unwrap();
        let t1 = s.totals().await.unwrap();
        assert_eq!(t1.deliveries_done, 59, "{b:?}");
        assert_eq!(t1.deliveries_pending, 1, "{b:?}: changed order re-armed");
        assert_eq!(t1.deliveries_dead, 0, "{b:?}");

        // w2 dies: after its lease expires the work is claimable again
        let later = now + 61_000_000;
        let again = s
            .claim_deliveries("w3", later, later + 60_000_000, 100)
            .await
            .unwrap();
        assert_eq!(again.len(), 41, "{b:?}");
        assert!(again.iter().all(|d| d.attempts >= 1), "{b:?}");
        let fails: Vec<_> = again
            .iter()
            .map(|d| DeliveryResult::Retry {
                id: d.id.clone(),
                next_attempt_at: later + 10_000_000,
                error: "retriable".into(),
            })
            .collect();
        s.complete_deliveries("w3", later, &fails).await.unwrap();
        assert!(
            s.claim_deliveries("w3", later, later + 1, 100)
                .await
                .unwrap()
                .is_empty(),
            "{b:?}: backoff respected"
        );
        assert_eq!(
            s.claim_deliveries("w3", later + 10_000_000, later + 20_000_000, 100)
                .await
                .unwrap()
                .len(),
            41,
            "{b:?}"
        );
    }
}

#[tokio::test]
async fn tracking_then_purge_keeps_non_pii_and_waits_for_pending_deliveries() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let s = &t.app.store;
        let (m, c, sink) = setup(&t).await;
        let now = t.now_us();
        s.commit_page(&page(&m, &c, &sink, 0..20, 1, now))
            .await
            .unwrap();
        let claimed = s
            .claim_deliveries("w", now, now + 1_000_000, 10)
            .await
            .unwrap();
        let res: Vec<_> = claimed
            .iter()
            .map(|d| DeliveryResult::Done {
                id: d.id.clone(),
                external_ref: "r".into(),
                version: 1,
                next_track_at: Some(now),
            })
            .collect();
        s.complete_deliveries("w", now, &res).await.unwrap();
        let items = s.claim_tracking(now, now + 1_000_000, 100).await.unwrap();
        assert_eq!(items.len(), 10, "{b:?}");
        let day = 86_400_000_000i64;
        let tr: Vec<_> = items
            .iter()
            .map(|i| TrackingResult::Delivered {
                id: i.id.clone(),
                order_id: i.order_id.clone(),
                at: now + day,
                purge_after: now + 31 * day,
            })
            .collect();
        s.record_tracking(now, &tr).await.unwrap();
        assert_eq!(s.totals().await.unwrap().delivered_orders, 10, "{b:?}");
        assert!(
            s.claim_tracking(now + 2 * day, now + 3 * day, 100)
                .await
                .unwrap()
                .is_empty(),
            "{b:?}: tracked ones are done"
        );
        assert_eq!(
            s.purge_due(now + 30 * day, 100).await.unwrap().len(),
            0,
            "{b:?}: too early"
        );
        // 10 delivered orders are due; the other 10 still have pending deliveries and fallback dates
        assert_eq!(
            s.count_purge_due(now + 32 * day).await.unwrap(),
            10,
            "{b:?}"
        );
        let purged = s.purge_due(now + 32 * day, 100).await.unwrap();
        assert_eq!(purged.len(), 10, "{b:?}");
        let ex = s
            .existing_orders(&c, &(0..20).map(|i| format!("ext-{i}")).collect::<Vec<_>>())
            .await
            .unwrap();
        let gone = ex
            .iter()
            .filter(|e| e.pii_purged_at.is_some())
            .collect::<Vec<_>>();
        assert_eq!(gone.len(), 10, "{b:?}");
        assert!(
            gone.iter()
                .all(|e| e.pii_ct.is_none() && e.pii_dek.is_none()),
            "{b:?}"
        );
        // a refetch of a purged order must not bring its PII back
        s.commit_page(&page(&m, &c, &sink, 0..20, 2, now))
            .await
            .unwrap();
        let ex = s
            .existing_orders(&c, &(0..20).map(|i| format!("ext-{i}")).collect::<Vec<_>>())
            .await
            .unwrap();
        assert!(
            ex.iter()
                .filter(|e| e.pii_purged_at.is_some())
                .all(|e| e.pii_ct.is_none()),
            "{b:?}"
        );
        assert!(
            s.list_audit(&m, 10)
                .await
                .unwrap()
                .iter()
                .any(|a| a.action == "pii.purged"),
            "{b:?}"
        );
    }
}

#[tokio::test]
async fn source_leases_are_exclusive_until_released() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let s = &t.app.store;
        let (_, c, _) = setup(&t).await;
        let now = t.now_us();
        let got = s
            .claim_due_sources("w1", now, now + 60_000_000, 10)
            .await
            .unwrap();
        assert_eq!(
            got.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            vec![c.as_str()],
            "{b:?}"
        );
        assert!(
            s.claim_due_sources("w2", now, now + 60_000_000, 10)
                .await
                .unwrap()
                .is_empty(),
            "{b:?}"
        );
        s.finish_pull(
            &c,
            "w1",
            &PullFinish {
                next_pull_at: now + 5,
                last_pull_at: Some(now),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(
            s.claim_due_sources("w2", now, now + 60_000_000, 10)
                .await
                .unwrap()
                .is_empty(),
            "{b:?}: not due yet"
        );
        assert_eq!(
            s.claim_due_sources("w2", now + 5, now + 60_000_000, 10)
                .await
                .unwrap()
                .len(),
            1,
            "{b:?}"
        );
        // an expired lease is taken over
        assert_eq!(
            s.claim_due_sources("w3", now + 61_000_000, now + 120_000_000, 10)
                .await
                .unwrap()
                .len(),
            1,
            "{b:?}"
        );
    }
}

#[test]
fn both_dialects_have_the_same_migrations() {
    let list = |d: &str| {
        let mut v: Vec<_> =
            std::fs::read_dir(format!("{}/migrations/{d}", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
        v.sort();
        v
    };
    assert_eq!(list("sqlite"), list("postgres"));
}

#[tokio::test]
async fn delivery_feeds_are_leased_and_a_cut_short_read_goes_on_where_it_stopped() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let s = &t.app.store;
        setup(&t).await;
        let now = t.now_us();
        s.ensure_track_feed("dst", now, now).await.unwrap();
        s.ensure_track_feed("dst", now + 999, now).await.unwrap(); // no-op: exists
        let got = s
            .claim_track_feeds("w1", now, now + 1000, 10)
            .await
            .unwrap();
        assert_eq!(got.len(), 1, "{b:?}");
        assert_eq!((got[0].since, got[0].page_token.clone()), (None, None));
        assert!(
            s.claim_track_feeds("w2", now, now + 1000, 10)
                .await
                .unwrap()
                .is_empty(),
            "{b:?}: leased"
        );
        assert!(
            s.save_feed_page("dst", "w1", "p2", now, now + 2000)
                .await
                .unwrap()
        );
        assert!(
            !s.save_feed_page("dst", "w2", "p9", now, now + 2000)
                .await
                .unwrap(),
            "{b:?}: only the lease holder records progress"
        );
        // w1 dies; after its lease, the next reader goes on from page 2 of w1's read.
        let got = s
            .claim_track_feeds("w2", now + 2001, now + 3000, 10)
            .await
            .unwrap();
        assert_eq!(got[0].page_token.as_deref(), Some("p2"), "{b:?}");
        assert_eq!(got[0].read_started, Some(now), "{b:?}");
        // A failed attempt keeps the progress; a completed read moves `since` and clears it.
        s.finish_track_feed(
            "dst",
            "w2",
            None,
            true,
            now + 2001,
            Some("retriable: x"),
            now,
        )
        .await
        .unwrap();
        let got = s
            .claim_track_feeds("w3", now + 2001, now + 3000, 10)
            .await
            .unwrap();
        assert_eq!(got[0].page_token.as_deref(), Some("p2"), "{b:?}");
        s.finish_track_feed("dst", "w3", Some(now), false, now + 5000, None, now)
            .await
            .unwrap();
        assert!(
            s.claim_track_feeds("w4", now + 4999, now + 6000, 10)
                .await
                .unwrap()
                .is_empty(),
            "{b:?}: not due before next_pass_at"
        );
        assert_eq!(s.feed_due_now("dst", now + 100).await.unwrap(), 1, "{b:?}");
        let got = s
            .claim_track_feeds("w4", now + 100, now + 6000, 10)
            .await
            .unwrap();
        assert_eq!(
            (got[0].since, got[0].page_token.clone(), got[0].read_started),
            (Some(now), None, None),
            "{b:?}"
        );
    }
}

#[tokio::test]
async fn a_policy_change_reschedules_held_pii_and_a_legal_hold_suspends_the_purge() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let s = &t.app.store;
        let (m, c, sink) = setup(&t).await;
        let now = t.now_us();
        let day = 86_400_000_000i64;
        s.commit_page(&page(&m, &c, &sink, 0..4, 1, now))
            .await
            .unwrap();
        let claimed = s
            .claim_deliveries("w", now, now + 1_000_000, 10)
            .await
            .unwrap();
        let res: Vec<_> = claimed
            .iter()
            .map(|d| DeliveryResult::Done {
                id: d.id.clone(),
                external_ref: "r".into(),
                version: 1,
                next_track_at: Some(now),
            })
            .collect();
        s.complete_deliveries("w", now, &res).await.unwrap();
        // Orders 0 and 1 are delivered a day after the order; 2 and 3 never report.
        let items = s.claim_tracking(now, now + 1_000_000, 100).await.unwrap();
        let delivered: Vec<_> = items
            .iter()
            .filter(|i| i.order_id.ends_with('0') || i.order_id.ends_with('1'))
            .map(|i| TrackingResult::Delivered {
                id: i.id.clone(),
                order_id: i.order_id.clone(),
                at: now + day,
                purge_after: now + 31 * day,
            })
            .collect();
        assert_eq!(delivered.len(), 2, "{b:?}");
        s.record_tracking(now, &delivered).await.unwrap();

        // 10 days after delivery, 20 after the order: every stored order moves.
        let n = s
            .put_retention(
                &RetentionRow {
                    merchant_id: m.clone(),
                    marketplace: "shopify".into(),
                    days_after_delivery: 10,
                    days_after_order: 20,
                },
                now,
            )
            .await
            .unwrap();
        assert_eq!(n, 4, "{b:?}");
        let purge_after = |id: usize| {
            let (s, m) = (s.clone(), m.clone());
            async move {
                s.get_order(&m, &format!("00000000-0000-7000-8000-{id:012}"))
                    .await
                    .unwrap()
                    .unwrap()
                    .purge_after
            }
        };
        assert_eq!(purge_after(0).await, Some(now + 11 * day), "{b:?}");
        assert_eq!(purge_after(2).await, Some(now + 20 * day), "{b:?}");

        // Order 0 is held: 12 days on, only order 1 is purged.
        let held = "00000000-0000-7000-8000-000000000000";
        let hold = LegalHold {
            basis: "tax records (test)".into(),
            until: now + 40 * day,
        };
        assert!(
            s.set_legal_hold(&m, held, Some(&hold), now).await.unwrap(),
            "{b:?}"
        );
        assert!(
            !s.set_legal_hold("other", held, Some(&hold), now)
                .await
                .unwrap(),
            "{b:?}: another merchant's order"
        );
        assert_eq!(s.count_purge_due(now + 12 * day).await.unwrap(), 1, "{b:?}");
        let purged = s.purge_due(now + 12 * day, 100).await.unwrap();
        assert_eq!(
            purged,
            vec!["00000000-0000-7000-8000-000000000001".to_string()],
            "{b:?}"
        );
        let o = s.get_order(&m, held).await.unwrap().unwrap();
        assert!(
            o.legal_hold_at.is_some() && o.pii_purged_at.is_none(),
            "{b:?}"
        );
        // A purged order is not rescheduled by a later change.
        let n = s
            .put_retention(
                &RetentionRow {
                    merchant_id: m.clone(),
                    marketplace: "shopify".into(),
                    days_after_delivery: 30,
                    days_after_order: 90,
                },
                now,
            )
            .await
            .unwrap();
        assert_eq!(n, 3, "{b:?}");
        // The hold ends by itself at `until` (40 days): due again from then.
        assert_eq!(s.count_purge_due(now + 39 * day).await.unwrap(), 0, "{b:?}");
        assert_eq!(s.count_purge_due(now + 40 * day).await.unwrap(), 1, "{b:?}");
        // Lifted: due again as its policy says (delivered + 30 days).
        assert!(
            s.set_legal_hold(&m, held, None, now).await.unwrap(),
            "{b:?}"
        );
        let o = s.get_order(&m, held).await.unwrap().unwrap();
        assert!(
            o.legal_hold_at.is_none() && o.legal_hold_basis.is_none(),
            "{b:?}"
        );
        assert_eq!(s.count_purge_due(now + 30 * day).await.unwrap(), 0, "{b:?}");
        assert_eq!(s.count_purge_due(now + 31 * day).await.unwrap(), 1, "{b:?}");
    }
}

#[tokio::test]
async fn tokens_are_added_listed_and_revoked_per_merchant() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let s = &t.app.store;
        let (m, _, _) = setup(&t).await;
        let now = t.now_us();
        let hash = "0123456789abcdef".repeat(4);
        s.add_token(&m, &hash, now).await.unwrap();
        let ids: Vec<String> = s
            .list_tokens(&m)
            .await
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids.len(), 2, "{b:?}: the first token and the added one");
        assert!(ids.contains(&"0123456789abcdef".to_string()), "{b:?}");
        assert_eq!(
            s.merchant_by_token(&hash).await.unwrap().as_deref(),
            Some(m.as_str()),
            "{b:?}"
        );
        assert!(
            !s.revoke_token("other", "0123456789abcdef").await.unwrap(),
            "{b:?}"
        );
        assert!(
            s.revoke_token(&m, "0123456789abcdef").await.unwrap(),
            "{b:?}"
        );
        assert_eq!(s.merchant_by_token(&hash).await.unwrap(), None, "{b:?}");
        assert_eq!(s.list_tokens(&m).await.unwrap().len(), 1, "{b:?}");
    }
}

#[tokio::test]
async fn termination_deletes_pii_at_once_and_the_rest_after_the_grace() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let s = &t.app.store;
        let (m, c, sink) = setup(&t).await;
        let now = t.now_us();
        s.commit_page(&page(&m, &c, &sink, 0..5, 1, now))
            .await
            .unwrap();
        assert_eq!(
            s.terminate_merchant("nosuch", now).await.unwrap(),
            None,
            "{b:?}"
        );
        assert_eq!(
            s.terminate_merchant(&m, now).await.unwrap(),
            Some(5),
            "{b:?}"
        );
        assert_eq!(
            s.terminate_merchant(&m, now).await.unwrap(),
            Some(0),
            "{b:?}: a repeat"
        );
        assert_eq!(
            s.merchant_by_token("tokenhash").await.unwrap(),
            None,
            "{b:?}"
        );
        let t0 = s.totals().await.unwrap();
        assert_eq!((t0.pii_purged, t0.deliveries_pending), (5, 0), "{b:?}");
        assert!(
            s.claim_deliveries("w", now, now + 1_000_000, 10)
                .await
                .unwrap()
                .is_empty(),
            "{b:?}: nothing is sent for a terminated merchant"
        );
        assert_eq!(
            s.delete_terminated(now).await.unwrap(),
            0,
            "{b:?}: within the grace"
        );
        assert_eq!(s.delete_terminated(now + 1).await.unwrap(), 5, "{b:?}");
        assert_eq!(s.totals().await.unwrap().orders, 0, "{b:?}");
        assert!(s.get_connection(&c).await.unwrap().is_none(), "{b:?}");
        assert!(
            s.list_audit(&m, 10)
                .await
                .unwrap()
                .iter()
                .any(|a| a.action == "merchant.terminated"),
            "{b:?}: the evidence stays"
        );
    }
}
