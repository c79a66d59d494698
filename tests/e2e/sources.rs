//! Source traps that only the whole pipeline can show.

use crate::helpers::{TestApp, backends, eventually, provision};
use ordersync::crypto::{PiiRow, SealedPii};
use ordersync::store::{OrderQuery, RetentionRow};
use ordersync_conformance::sim_post;
use ordersync_sdk::{Clock, Pii};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Every stored order of a merchant: external id → (version, decrypted PII).
async fn stored(t: &TestApp, merchant: &str) -> BTreeMap<String, (i64, Pii)> {
    let q = OrderQuery {
        merchant_id: merchant.to_string(),
        limit: 1000,
        ..OrderQuery::default()
    };
    let summaries = t.app.store.list_orders(&q).await.unwrap();
    let ids: Vec<String> = summaries.iter().map(|s| s.id.clone()).collect();
    let mut out = BTreeMap::new();
    for row in t.app.store.orders_by_ids(&ids).await.unwrap() {
        let version = summaries.iter().find(|s| s.id == row.id).unwrap().version;
        let sealed = SealedPii {
            pii_ct: row.pii_ct.clone().expect("PII stored"),
            dek: row.pii_dek.clone().expect("DEK stored"),
        };
        let pii = t
            .app
            .crypto
            .open_pii(
                PiiRow {
                    merchant_id: &row.merchant_id,
                    marketplace: &row.marketplace,
                    external_id: &row.external_id,
                    connection_id: &row.connection_id,
                    order_id: &row.id,
                },
                row.pii_epoch.as_deref().unwrap(),
                &sealed,
                t.clock.now(),
            )
            .await
            .unwrap();
        out.insert(row.external_id, (version, pii));
    }
    out
}

/// eBay stops returning the buyer's email after 14 days and name, phone and street after 90:
/// a refetch of an old order (it changed, so it is read again) must not blank what was
/// captured on first sight.
#[tokio::test]
async fn ebay_pii_that_ages_away_is_kept_from_first_sight() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let clock: Arc<dyn Clock> = t.clock.clone();
        let sim = ordersync_ebay::sim::spawn(ordersync_ebay::sim::SimOptions::relaxed(), clock)
            .await
            .unwrap();
        let spec = ordersync_ebay::DESCRIPTOR.sim.unwrap();
        let (merchant, _) = provision(
            &t,
            &[(
                "ebay",
                "source",
                (spec.demo_config)(&sim.base_url),
                spec.demo_secrets,
            )],
        )
        .await;
        // This merchant keeps PII 180 days after the order, longer than the test's 120 days.
        t.app
            .store
            .put_retention(
                &RetentionRow {
                    merchant_id: merchant.clone(),
                    marketplace: "ebay".into(),
                    days_after_delivery: 180,
                    days_after_order: 180,
                },
                t.now_us(),
            )
            .await
            .unwrap();
        sim_post(
            &sim.base_url,
            "/_sim/seed",
            json!({ "count": 20, "seed": 5 }),
        )
        .await;

        let cancel = CancellationToken::new();
        let worker = {
            let (e, c) = (t.app.engine(), cancel.clone());
            tokio::spawn(async move { e.run(c).await })
        };
        let store = t.app.store.clone();
        assert!(
            eventually(60, || async { store.totals().await.unwrap().orders == 20 }).await,
            "{b:?}: 20 orders synced"
        );
        let first = stored(&t, &merchant).await;
        assert!(
            first.values().all(|(_, p)| p.email.is_some()
                && p.buyer_name.is_some()
                && p.shipping_address.is_some()),
            "{b:?}: fresh orders come with email, name and address"
        );

        t.clock.advance(time::Duration::days(120));
        let touched = sim_post(&sim.base_url, "/_sim/update", json!({ "count": 20 })).await;
        assert_eq!(touched["updated"], 20, "{touched}");
        // What eBay itself answers now: the aged order without email, name or street.
        let secrets: ordersync_sdk::Secrets = spec
            .demo_secrets
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string().into()))
            .collect();
        let direct = ordersync::registry::build_source(
            "ebay",
            &(spec.demo_config)(&sim.base_url),
            &secrets,
            &ordersync_sdk::ConnectorDeps::for_simulators(),
        )
        .unwrap();
        let some_id = first.keys().next().unwrap();
        let refetched = direct.fetch(some_id).await.unwrap().expect("still at eBay");
        assert!(
            refetched.pii.email.is_none() && refetched.pii.buyer_name.is_none(),
            "{b:?}: eBay no longer returns the aged PII"
        );
        // Past the connector's settle delay, so the changes are inside a pull window.
        t.clock.advance(time::Duration::minutes(5));
        assert!(
            eventually(60, || async {
                stored(&t, &merchant).await.values().all(|(v, _)| *v >= 2)
            })
            .await,
            "{b:?}: every changed order was read again"
        );
        cancel.cancel();
        worker.await.unwrap();

        let after = stored(&t, &merchant).await;
        for (id, (_, pii)) in &after {
            assert!(
                *pii == first[id].1,
                "{b:?}: order {id}: the PII captured on first sight survived the refetch"
            );
        }
    }
}
