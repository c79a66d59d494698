//! The simulator's seeded mix holds every money case eBay produces, the connector maps every
//! one of them (balanced, exact), what it maps to ship is the simulator's own truth, and the
//! cancel state costs one getOrder per refunded order, once.

use crate::{env, opts, read_all};
use ordersync_ebay::mapping::needs_cancel_check;
use ordersync_sdk::{Decimal, OrderStatus, Tolerance};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Every order of the simulator as getOrders returns it (with the tax breakdown).
async fn raw_orders(e: &crate::Env) -> Vec<Value> {
    let mut out = vec![];
    loop {
        let q = format!(
            "/sell/fulfillment/v1/order?limit=200&offset={}&fieldGroups=TAX_BREAKDOWN",
            out.len()
        );
        let v: Value = e.api(&q).await.json().await.unwrap();
        let page = v["orders"].as_array().unwrap().clone();
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeded_mix_covers_every_case_and_maps_exactly() {
    let e = env(opts()).await;
    e.seed(2000, 61).await;
    let raw = raw_orders(&e).await;
    assert_eq!(raw.len(), 2000);
    let mut cases: BTreeMap<&str, usize> = BTreeMap::new();
    let mut hit = |name: &'static str, yes: bool| {
        if yes {
            *cases.entry(name).or_default() += 1;
        }
    };
    let mut tax_types = BTreeSet::new();
    let mut markets = BTreeSet::new();
    let mut buyer_currencies = BTreeSet::new();
    for o in &raw {
        let lines = o["lineItems"].as_array().unwrap();
        let ps = &o["pricingSummary"];
        hit("several lines", lines.len() > 1);
        hit(
            "several units",
            lines.iter().any(|l| l["quantity"].as_u64() > Some(1)),
        );
        hit(
            "promotion",
            lines
                .iter()
                .any(|l| !l["appliedPromotions"].as_array().unwrap().is_empty()),
        );
        hit("shipping discount", ps.get("deliveryDiscount").is_some());
        hit("free shipping", ps["deliveryCost"]["value"] == "0.0");
        hit("no tax", ps.get("tax").is_none());
        hit("fee", ps.get("fee").is_some());
        hit("adjustment", ps.get("adjustment").is_some());
        hit(
            "pending refund",
            o["paymentSummary"]["refunds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["refundStatus"] == "PENDING"),
        );
        hit(
            "partly shipped",
            o["orderFulfillmentStatus"] == "IN_PROGRESS",
        );
        hit("shipped", o["orderFulfillmentStatus"] == "FULFILLED");
        for l in lines {
            for t in l["taxes"].as_array().unwrap() {
                tax_types.insert(t["taxType"].as_str().unwrap().to_string());
            }
            markets.insert(format!(
                "{} {}",
                l["listingMarketplaceId"].as_str().unwrap(),
                ps["total"]["currency"].as_str().unwrap()
            ));
        }
        if let Some(c) = ps["total"]["convertedFromCurrency"].as_str() {
            buyer_currencies.insert(c.to_string());
        }
    }
    let want_types = [
        "ELECTRONIC_RECYCLING_FEE",
        "GST",
        "PROVINCE_SALES_TAX",
        "STATE_SALES_TAX",
        "VAT",
    ];
    assert_eq!(
        tax_types,
        want_types.iter().map(|s| s.to_string()).collect()
    );
    assert_eq!(markets.len(), 5, "{markets:?}");
    assert_eq!(
        buyer_currencies,
        ["GBP", "JPY"].iter().map(|s| s.to_string()).collect()
    );

    let needing_check = raw.iter().filter(|o| needs_cancel_check(o)).count();
    let src = e.source(200);
    let until = e.until();
    let before = e.calls("getOrder").await;
    let (orders, rejected, _) = read_all(&*src, None, until).await;
    assert!(
        rejected.is_empty(),
        "{:?}",
        rejected
            .iter()
            .take(3)
            .map(|r| &r.reason)
            .collect::<Vec<_>>()
    );
    assert_eq!(orders.len(), 2000);
    assert_eq!(
        e.calls("getOrder").await - before,
        needing_check as u64,
        "one getOrder per refunded order"
    );
    let (_, _, _) = read_all(&*src, None, until).await;
    assert_eq!(
        e.calls("getOrder").await - before,
        needing_check as u64,
        "re-reads use what was learnt"
    );

    for o in &orders {
        assert_eq!(o.tolerance, Tolerance::EXACT);
        assert_eq!(o.totals.rounding, Decimal::ZERO);
        let mut c = o.clone();
        c.balance()
            .unwrap_or_else(|err| panic!("{}: {err}", o.external_id));
        let back = o.refunded().unwrap();
        assert_eq!(
            o.current.total,
            o.totals.total - back,
            "{}: now = placed − refunded",
            o.external_id
        );
        hit("converted", o.presentment.is_some());
        hit("cancelled", o.status == OrderStatus::Cancelled);
        for r in &o.refunds {
            hit(
                "whole line back",
                r.lines.iter().any(|l| {
                    o.lines
                        .iter()
                        .any(|x| x.external_line_id == l.line_id && x.quantity == l.quantity)
                }),
            );
            hit(
                "some units back",
                r.lines.iter().any(|l| {
                    o.lines
                        .iter()
                        .any(|x| x.external_line_id == l.line_id && x.quantity > l.quantity)
                }),
            );
            hit(
                "goodwill refund",
                r.adjustments.iter().any(|a| {
                    a.reason
                        .as_deref()
                        .is_some_and(|x| x.starts_with("partial refund"))
                }),
            );
            hit(
                "order-level refund",
                r.adjustments
                    .iter()
                    .any(|a| a.reason.as_deref() == Some("order refund")),
            );
        }
    }
    for case in [
        "several lines",
        "several units",
        "promotion",
        "shipping discount",
        "free shipping",
        "no tax",
        "fee",
        "adjustment",
        "pending refund",
        "partly shipped",
        "shipped",
        "converted",
        "cancelled",
        "whole line back",
        "some units back",
        "goodwill refund",
        "order-level refund",
    ] {
        assert!(
            cases.get(case).is_some_and(|n| *n >= 3),
            "{case}: {:?}",
            cases.get(case)
        );
    }

    eprintln!("cases in 2000 seeded orders: {cases:?}; getOrder follow-ups: {needing_check}");
    // What a fulfillment target gets is what the simulator says is left to ship: neither
    // cancelled nor already fulfilled (`FULFILLED`: the seller shipped every line).
    let shipped: BTreeMap<String, BTreeMap<String, u64>> = orders
        .iter()
        .filter(|o| {
            o.status != OrderStatus::Cancelled
                && o.fulfillment_status != ordersync_sdk::FulfillmentStatus::Fulfilled
        })
        .map(|o| {
            let units: BTreeMap<String, u64> = o
                .lines_to_ship()
                .map(|l| (l.external_line_id.clone(), u64::from(l.current_quantity)))
                .collect();
            (o.external_id.clone(), units)
        })
        .filter(|(_, u)| !u.is_empty())
        .collect();
    let expected: ordersync_sdk::sim::Expected =
        reqwest::get(format!("{}/_sim/expected", e.sim.base_url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(expected.orders, 2000);
    assert_eq!(shipped, expected.shippable);
    // Tracking needs a call per fulfillment (`fulfillmentHrefs`): none is made, none expected.
    assert!(expected.tracked.is_empty());
    assert!(orders.iter().all(|o| o.fulfillments.is_empty()));
    let fulfilled = orders
        .iter()
        .filter(|o| o.fulfillment_status == ordersync_sdk::FulfillmentStatus::Fulfilled)
        .count();
    assert!(fulfilled > 0 && fulfilled < orders.len(), "{fulfilled}");
}
