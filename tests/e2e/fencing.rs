//! Fenced leases: a worker that stalls past its lease (a long GC-like pause, a partition, a
//! SIGSTOP) wakes up to find its work taken over, and none of its late writes land — neither
//! a delivery outcome nor a pulled page. Two engines on one database stand for two workers.

use crate::helpers::{TestApp, backends, eventually, shopify_and_shipstation};
use ordersync::store::{
    CursorRow, DeliveryResult, OrderUpsert, PageCommit, PageCommitted, PullFinish,
};
use ordersync_conformance::{sim_get, sim_post};
use serde_json::json;

const LEASE_US: i64 = 60_000_000;

async fn held(base: &str) -> u64 {
    sim_get(base, "/_sim/hold").await["held"]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_stalled_workers_late_delivery_outcome_is_refused() {
    for b in backends() {
        let t = TestApp::new(b).await;
        crate::helpers::capture_logs();
        let (shop, ss, _m, ids) = shopify_and_shipstation(&t, "fence.myshopify.com").await;
        let sink = ids[1].clone();
        sim_post(
            &shop.base_url,
            "/_sim/seed",
            json!({ "count": 1, "seed": 3 }),
        )
        .await;
        let (a, bw) = (t.app.engine(), t.app.engine());
        assert_ne!(a.worker_id, bw.worker_id);
        a.pull_once().await.unwrap();
        assert_eq!(t.app.store.totals().await.unwrap().deliveries_pending, 1);

        // Worker A claims the delivery and stalls inside its call to the target.
        sim_post(&ss.base_url, "/_sim/hold", json!({ "count": 1 })).await;
        let stalled = {
            let (a, sink) = (a.clone(), sink.clone());
            tokio::spawn(async move { a.deliver_sink_round(&sink).await })
        };
        assert!(
            eventually(30, || async { held(&ss.base_url).await == 1 }).await,
            "{b:?}: worker A is held mid-call"
        );

        // Its lease runs out; worker B takes the delivery over and completes it.
        t.clock
            .advance(time::Duration::seconds(t.app.cfg.engine.lease_secs + 1));
        assert_eq!(bw.deliver_sink_round(&sink).await.unwrap().work, 1, "{b:?}");
        let done = t.app.store.totals().await.unwrap();
        assert_eq!(
            (done.deliveries_done, done.deliveries_in_flight),
            (1, 0),
            "{b:?}"
        );

        // A wakes up to failing target: were its outcome written, the delivery would go
        // back to pending, to be sent again.
        sim_post(
            &ss.base_url,
            "/_sim/faults",
            json!({ "rate": 1.0, "kinds": ["500"] }),
        )
        .await;
        sim_post(&ss.base_url, "/_sim/hold", json!({ "release": true })).await;
        stalled.await.unwrap().unwrap();
        let after = t.app.store.totals().await.unwrap();
        assert_eq!(
            (
                after.deliveries_done,
                after.deliveries_dead,
                after.deliveries_pending
            ),
            (1, 0, 0),
            "{b:?}: A's late outcome was refused"
        );
        assert!(
            crate::helpers::captured_logs().contains("Delivery leases lost while in flight"),
            "{b:?}: the refusal is logged"
        );
        sim_post(&ss.base_url, "/_sim/faults", json!({ "rate": 0.0 })).await;
        let got = sim_get(&ss.base_url, "/_sim/received").await;
        assert_eq!(
            got["objects"].as_array().map(Vec::len),
            Some(1),
            "{b:?}: one shipment at the target"
        );
    }
}

fn upsert(merchant: &str, conn: &str, n: u32, now: i64) -> OrderUpsert {
    OrderUpsert {
        id: format!("ord_fence_{n}"),
        merchant_id: merchant.into(),
        connection_id: conn.into(),
        marketplace: "shopify".into(),
        external_id: format!("{n}"),
        order_number: format!("#{n}"),
        status: "open".into(),
        data: "{}".into(),
        content_hash: format!("h{n}"),
        version: 1,
        pii_ct: None,
        pii_dek: None,
        pii_epoch: None,
        pii_fields: 0,
        email_bidx: None,
        buyer_bidx: None,
        source_created_at: now,
        source_updated_at: now,
        purge_after: now + 86_400_000_000,
        now,
    }
}

#[tokio::test]
async fn a_page_pulled_under_a_lost_lease_is_not_written() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let (_shop, _ss, m, ids) = shopify_and_shipstation(&t, "page.myshopify.com").await;
        let (conn, s) = (ids[0].clone(), t.app.store.clone());
        let now = t.now_us();
        let claimed = s
            .claim_due_sources("a#1", now, now + LEASE_US, 4)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1, "{b:?}");
        // A stalls; its lease expires and B claims the connection.
        let later = now + LEASE_US + 1;
        assert_eq!(
            s.claim_due_sources("b#2", later, later + LEASE_US, 4)
                .await
                .unwrap()
                .len(),
            1,
            "{b:?}"
        );
        let page = |owner: &str, n: u32, watermark: i64| PageCommit {
            connection_id: conn.clone(),
            lease_owner: Some(owner.to_string()),
            now: later,
            orders: vec![upsert(&m, &conn, n, later)],
            cursor: CursorRow {
                watermark: Some(watermark),
                ..Default::default()
            },
            ..Default::default()
        };
        // A's late page: no order, no cursor.
        assert_eq!(
            s.commit_page(&page("a#1", 1, later + 5)).await.unwrap(),
            PageCommitted::LeaseLost,
            "{b:?}"
        );
        assert_eq!(s.totals().await.unwrap().orders, 0, "{b:?}");
        assert!(s.get_cursor(&conn).await.unwrap().is_none(), "{b:?}");
        // The same worker under an older claim is refused just the same (the token differs).
        assert_eq!(
            s.commit_page(&page("b#1", 1, later + 5)).await.unwrap(),
            PageCommitted::LeaseLost,
            "{b:?}"
        );
        // B's page lands; A's finish does not release B's lease.
        assert_eq!(
            s.commit_page(&page("b#2", 2, later)).await.unwrap(),
            PageCommitted::Written(None),
            "{b:?}"
        );
        let f = PullFinish {
            next_pull_at: later,
            last_pull_at: Some(later),
            last_error: Some("stale".into()),
            state: Some("needs_reauth".into()),
        };
        s.finish_pull(&conn, "a#1", &f).await.unwrap();
        assert!(
            !s.renew_source_lease(&conn, "a#1", later + LEASE_US)
                .await
                .unwrap(),
            "{b:?}"
        );
        assert!(
            s.renew_source_lease(&conn, "b#2", later + LEASE_US)
                .await
                .unwrap(),
            "{b:?}: B still holds it"
        );
        let c = s.get_connection(&conn).await.unwrap().unwrap();
        assert_eq!(c.state, "active", "{b:?}: A's finish changed nothing");
        assert_eq!(
            s.get_cursor(&conn).await.unwrap().unwrap().watermark,
            Some(later)
        );
    }
}

#[tokio::test]
async fn a_delivery_outcome_under_an_older_claim_of_the_same_worker_is_refused() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let (shop, _ss, _m, ids) = shopify_and_shipstation(&t, "same.myshopify.com").await;
        sim_post(
            &shop.base_url,
            "/_sim/seed",
            json!({ "count": 1, "seed": 4 }),
        )
        .await;
        t.app.engine().pull_once().await.unwrap();
        let (s, sink, now) = (t.app.store.clone(), ids[1].clone(), t.now_us());
        let first = s
            .claim_sink_deliveries("w#1", &sink, now, now + LEASE_US, 10)
            .await
            .unwrap();
        assert_eq!(first.len(), 1, "{b:?}");
        let later = now + LEASE_US + 1;
        let second = s
            .claim_sink_deliveries("w#2", &sink, later, later + LEASE_US, 10)
            .await
            .unwrap();
        assert_eq!(second.len(), 1, "{b:?}: the expired lease is claimed again");
        let dead = [DeliveryResult::Dead {
            id: first[0].id.clone(),
            error: "permanent: stale".into(),
        }];
        assert_eq!(s.complete_deliveries("w#1", later, &dead).await.unwrap(), 0);
        assert_eq!(
            s.renew_deliveries("w#1", &[first[0].id.clone()], later + LEASE_US)
                .await
                .unwrap(),
            0,
            "{b:?}"
        );
        let done = [DeliveryResult::Done {
            id: second[0].id.clone(),
            external_ref: "se-1".into(),
            version: second[0].version,
            next_track_at: None,
        }];
        assert_eq!(s.complete_deliveries("w#2", later, &done).await.unwrap(), 1);
        let totals = s.totals().await.unwrap();
        assert_eq!(
            (totals.deliveries_done, totals.deliveries_dead),
            (1, 0),
            "{b:?}"
        );
    }
}

#[tokio::test]
async fn a_host_whose_clock_runs_ahead_tells_lease_time_by_the_database() {
    for b in backends() {
        let t = TestApp::new(b).await;
        // This host's clock is an hour ahead of the database server's.
        let host = std::sync::Arc::new(ordersync_sdk::ManualClock::new());
        host.advance(time::Duration::hours(1));
        let clock = ordersync::clock::DbClock::start(host.clone(), t.app.store.clone())
            .await
            .unwrap();
        let db = t.app.store.db_now_us().await.unwrap();
        let seen = ordersync_sdk::clock::to_micros(ordersync_sdk::Clock::now(&*clock));
        assert!(
            (seen - db).abs() < 2_000_000,
            "{b:?}: {}ms from the database clock",
            (seen - db) / 1000
        );
        assert!(clock.offset_us() < -3_500_000_000, "{b:?}");
    }
}
