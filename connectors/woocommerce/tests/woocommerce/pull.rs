//! Pulls of the simulator's money cases, refunds fetched per order, and what a fulfillment
//! target should end up holding (`/_sim/expected`) against the mapped orders.

use crate::{env, read_all};
use ordersync_sdk::{Decimal, DiscountTarget, FinancialStatus, Order, OrderStatus};
use ordersync_woocommerce::sim::{CASES, SimOptions};
use serde_json::Value;
use std::collections::BTreeMap;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

async fn cases() -> BTreeMap<&'static str, Order> {
    let e = env(SimOptions::default()).await;
    let mut ids = BTreeMap::new();
    for c in CASES {
        ids.insert(e.case(c).await, *c);
    }
    let (orders, rejected, _) = read_all(&*e.source(), None, e.until()).await;
    assert!(rejected.is_empty(), "{rejected:?}");
    orders
        .into_iter()
        .map(|o| (ids[&o.external_id], o))
        .collect()
}

#[tokio::test]
async fn named_money_cases_map_as_woocommerce_built_them() {
    let c = cases().await;
    assert_eq!(c.len(), CASES.len());
    let ex = &c["example"];
    assert_eq!(
        (ex.totals.total, ex.totals.tax, ex.totals.rounding),
        (d("29.35"), d("1.35"), d("0"))
    );
    assert_eq!(ex.lines[0].tax_lines[0].rate, Some(d("0.075")));

    let gb = &c["inclusive_rounding"];
    assert!(gb.taxes_included);
    assert!(gb.totals.rounding.abs() <= d("0.05"));
    // 9.99 including 20 % is 8.325 + 1.665: both halves round up, so WooCommerce shows each
    // unit as 8.33 + 1.67 and charges the same: its own rounding, not ours.
    assert_eq!(gb.totals.subtotal, d("49.97"));
    assert_eq!(gb.totals.total, d("61.97"), "with 10.00 + 20 % shipping");

    let qc = &c["compound_tax"];
    let rates: Vec<_> = qc
        .tax_lines
        .iter()
        .map(|t| (t.title.as_str(), t.amount))
        .collect();
    // 180.00 at GST 5 % = 9.00 and QST 9.975 % of 189.00 = 18.85, plus shipping's.
    assert_eq!(qc.lines[0].tax(), Some(d("27.85")));
    assert!(rates.iter().any(|(t, _)| *t == "QST"));

    let nf = &c["negative_fee"];
    assert!(nf.fees.is_empty());
    assert!(
        nf.discount_applications
            .iter()
            .any(|a| a.title.as_deref() == Some("Loyalty discount"))
    );
    assert!(nf.totals.discounts > Decimal::ZERO);

    let pr = &c["partial_refund"];
    assert_eq!(pr.financial_status, FinancialStatus::PartiallyRefunded);
    assert_eq!(pr.lines[0].current_quantity, 2);
    assert!(pr.refunds[0].shipping > Decimal::ZERO);
    assert_eq!(pr.current.total, pr.totals.total - pr.refunds[0].total);

    let ar = &c["amount_refund"];
    assert_eq!(ar.financial_status, FinancialStatus::Refunded);
    assert_eq!(ar.status, OrderStatus::Closed);
    assert!(ar.lines.iter().all(|l| l.current_quantity == 0));
    assert_eq!(ar.refunds[0].adjustments[0].amount, ar.totals.total);
    assert_eq!(ar.current.total, Decimal::ZERO);

    let fr = &c["full_refund"];
    assert_eq!(fr.refunds[0].lines.len(), 2);
    assert!(fr.refunds[0].adjustments.is_empty());
    assert_eq!(fr.current.total, Decimal::ZERO);
    assert_eq!(fr.lines_to_ship().count(), 0);

    let jp = &c["jpy"];
    assert_eq!(jp.currency, "JPY");
    assert!(jp.lines.iter().all(|l| l.unit_price.scale() == 0));
    assert!(jp.discount_applications[0].code.as_deref() == Some("save10"));

    assert_eq!(c["kwd"].totals.total.scale(), 3);

    let fs = &c["free_shipping"];
    assert_eq!(fs.discount_applications[0].target, DiscountTarget::Shipping);
    assert_eq!(fs.shipping_lines[0].price, Decimal::ZERO);

    let fc = &c["fixed_cart_remainder"];
    assert_eq!(fc.totals.discounts, d("10.00"));

    let v = &c["virtual"];
    assert!(v.lines.iter().all(|l| !l.requires_shipping));
    assert_eq!(v.lines_to_ship().count(), 0);
}

/// What the simulator says a fulfillment target should hold is what the mapped orders ship:
/// neither cancelled nor already fulfilled (`completed`); and what it says a tracking target
/// should follow is what they carry.
#[tokio::test]
async fn expected_units_match_the_mapped_orders() {
    let e = env(SimOptions::default()).await;
    e.seed(800, 61).await;
    let (orders, rejected, _) = read_all(&*e.source(), None, e.until()).await;
    assert!(rejected.is_empty());
    let mut mapped: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for o in orders.iter().filter(|o| {
        o.status != OrderStatus::Cancelled
            && o.fulfillment_status != ordersync_sdk::FulfillmentStatus::Fulfilled
    }) {
        let units: BTreeMap<String, u64> = o
            .lines_to_ship()
            .map(|l| (l.external_line_id.clone(), u64::from(l.current_quantity)))
            .collect();
        if !units.is_empty() {
            mapped.insert(o.external_id.clone(), units);
        }
    }
    let expected: ordersync_sdk::sim::Expected =
        reqwest::get(format!("{}/_sim/expected", e.sim.base_url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(expected.orders, 800);
    assert_eq!(expected.shippable, mapped);
    assert!(mapped.len() > 350 && mapped.len() < 800, "{}", mapped.len());
    let tracked: BTreeMap<String, Vec<String>> = orders
        .iter()
        .filter(|o| !o.fulfillments.is_empty())
        .map(|o| {
            let n = o.fulfillments.iter().map(|f| f.tracking_number.clone());
            (o.external_id.clone(), n.collect())
        })
        .collect();
    assert_eq!(expected.tracked, tracked);
    assert!(tracked.len() > 50, "{}", tracked.len());
    // Only completed orders carry tracking, and those are not shippable.
    assert!(tracked.keys().all(|id| !mapped.contains_key(id)));
}

/// One refunds call per order that has refunds, none for the others.
#[tokio::test]
async fn refunds_are_fetched_once_per_refunded_order() {
    let e = env(SimOptions::default()).await;
    e.seed(300, 62).await;
    let (orders, _, pages) = read_all(&*e.source(), None, e.until()).await;
    let refunded = orders.iter().filter(|o| !o.refunds.is_empty()).count();
    assert!(refunded > 5);
    let stats: Value = reqwest::get(format!("{}/_sim/stats", e.sim.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["by_route"]["refunds"].as_u64(), Some(refunded as u64));
    assert_eq!(stats["by_route"]["orders"].as_u64(), Some(pages as u64));
    // And fetch reads them the same way.
    let o = orders.iter().find(|o| !o.refunds.is_empty()).unwrap();
    let f = e.source().fetch(&o.external_id).await.unwrap().unwrap();
    assert_eq!(&f, o);
    assert!(e.source().fetch("abc").await.is_err());
}
