//! eBay's PII ages away on the simulator's clock (email after 14 days, name, phone and street
//! after 90); the mapping leaves what is gone absent, so the stored copy survives a late
//! re-read of a modified order.

use crate::{env, opts, read_all};
use ordersync_sdk::{Clock, Order, Pii};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use time::Duration;

async fn read_touched(e: &crate::Env, count: u64) -> BTreeMap<String, Order> {
    let since = e.clock.now() - Duration::seconds(1);
    e.post("/_sim/update", json!({ "count": count })).await;
    e.clock.advance(Duration::seconds(200));
    let (orders, rejected, _) = read_all(&*e.source(200), Some(since), e.until()).await;
    assert!(rejected.is_empty());
    orders
        .into_iter()
        .map(|o| (o.external_id.clone(), o))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aged_fields_are_absent_and_the_stored_copy_survives() {
    let e = env(opts()).await;
    e.seed(20, 41).await;
    let (first, _, _) = read_all(&*e.source(200), None, e.until()).await;
    assert_eq!(first.len(), 20);
    let stored: BTreeMap<String, Pii> = first
        .iter()
        .map(|o| (o.external_id.clone(), o.pii.clone()))
        .collect();
    for p in stored.values() {
        assert!(p.email.is_some() && p.buyer_name.is_some() && p.phone.is_some());
        let a = p.shipping_address.as_ref().unwrap();
        assert!(a.line1.is_some() && a.name.is_some());
    }

    // Three weeks on: the email is gone, the rest is still there.
    e.clock.advance(Duration::days(21));
    let late = read_touched(&e, 20).await;
    assert_eq!(late.len(), 20);
    for o in late.values() {
        assert!(o.pii.email.is_none(), "absent, not empty");
        assert!(o.pii.buyer_name.is_some() && o.pii.shipping_address.is_some());
    }

    // 120 days on: name, phone and street are gone too; the address is absent, not partial.
    e.clock.advance(Duration::days(100));
    let aged = read_touched(&e, 20).await;
    assert_eq!(aged.len(), 20, "modifying aged orders works");
    for (id, o) in &aged {
        let p = &o.pii;
        assert!(p.buyer_name.is_none() && p.phone.is_none() && p.email.is_none());
        assert!(p.shipping_address.is_none() && p.billing_address.is_none());
        // What the engine does with it: the stored copy keeps every field.
        let mut kept = stored[id].clone();
        kept.merge_newer(p.clone());
        assert_eq!(kept, stored[id], "order {id}: stored PII intact");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_leaves_aged_keys_out() {
    let e = env(opts()).await;
    e.seed(3, 42).await;
    let id = {
        let v: Value = e
            .api("/sell/fulfillment/v1/order?limit=1")
            .await
            .json()
            .await
            .unwrap();
        v["orders"][0]["orderId"].as_str().unwrap().to_string()
    };
    let get = || async {
        let v: Value = e
            .api(&format!("/sell/fulfillment/v1/order/{id}"))
            .await
            .json()
            .await
            .unwrap();
        let reg = v["buyer"]["buyerRegistrationAddress"].clone();
        let ship = v["fulfillmentStartInstructions"][0]["shippingStep"]["shipTo"].clone();
        (reg, ship)
    };
    let (reg, ship) = get().await;
    for c in [&reg, &ship] {
        assert!(
            c["email"]
                .as_str()
                .is_some_and(|m| m.ends_with("@customer.test"))
        );
        assert!(c["fullName"].as_str().is_some_and(|n| n.contains("Canary")));
        assert!(c["contactAddress"]["addressLine1"].is_string());
    }
    e.clock.advance(Duration::days(15));
    let (reg, ship) = get().await;
    assert!(reg.get("email").is_none() && ship.get("email").is_none());
    assert!(reg["fullName"].is_string());
    e.clock.advance(Duration::days(80));
    let (reg, ship) = get().await;
    for c in [&reg, &ship] {
        for key in ["fullName", "primaryPhone", "email"] {
            assert!(c.get(key).is_none(), "{key} after 95 days");
        }
        assert!(c["contactAddress"].get("addressLine1").is_none());
        assert!(c["contactAddress"].get("addressLine2").is_none());
        assert!(c["contactAddress"]["city"].is_string(), "the city stays");
    }
}
