//! The simulator's orders as the connector maps them: the seeded mix has every money case
//! and every one balances; what a fulfillment target would ship equals the simulator's own
//! truth (`/_sim/expected`); Amazon's rules on personal data; the named cases by hand.

use crate::{Env, env, read_all};
use ordersync_amazon::sim::{CASES, SimOptions};
use ordersync_sdk::sim::Expected;
use ordersync_sdk::{Collector, Decimal, FeeKind, FinancialStatus, Order, OrderStatus};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

async fn seeded(count: u64, seed: u64, opts: SimOptions) -> (Env, Vec<Order>) {
    let e = env(opts).await;
    e.post("/_sim/seed", json!({ "count": count, "seed": seed }))
        .await;
    let (orders, _) = read_all(&*e.source(), None, e.until()).await;
    assert_eq!(orders.len() as u64, count);
    (e, orders)
}

/// 2,000 seeded orders (the demo's size) contain every case of the mix, and all map.
#[tokio::test]
async fn the_seeded_mix_has_every_money_case() {
    let (_e, orders) = seeded(2_000, 42, SimOptions::relaxed()).await;
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut count = |k: &'static str, yes: bool| {
        if yes {
            *seen.entry(k).or_default() += 1;
        }
    };
    for o in &orders {
        count("USD", o.currency == "USD");
        count("CAD", o.currency == "CAD");
        count("GBP", o.currency == "GBP");
        count("EUR", o.currency == "EUR");
        count("JPY", o.currency == "JPY");
        count("inclusive", o.taxes_included);
        count("exclusive", !o.taxes_included);
        let marketplace = o
            .tax_lines
            .iter()
            .any(|t| t.collector == Collector::Marketplace);
        count("facilitated US", marketplace && o.currency == "USD");
        count("facilitated EU/UK", marketplace && o.taxes_included);
        count(
            "merchant VAT",
            !marketplace && o.taxes_included && !o.tax_lines.is_empty(),
        );
        count(
            "untaxed",
            o.tax_lines.is_empty() && o.financial_status != FinancialStatus::Pending,
        );
        count("pending", o.financial_status == FinancialStatus::Pending);
        count("cancelled", o.status == OrderStatus::Cancelled);
        count(
            "item cancelled",
            o.status != OrderStatus::Cancelled && o.lines.iter().any(|l| l.current_quantity == 0),
        );
        count(
            "units cancelled",
            o.lines
                .iter()
                .any(|l| l.current_quantity > 0 && l.current_quantity < l.quantity),
        );
        count("shipped", o.status == OrderStatus::Closed);
        count(
            "FBA",
            o.lines.iter().all(|l| !l.requires_shipping)
                && o.financial_status != FinancialStatus::Pending,
        );
        count("multi item", o.lines.len() > 1);
        count("multi quantity", o.lines.iter().any(|l| l.quantity > 1));
        count(
            "item promotion",
            o.lines.iter().any(|l| !l.discounts.is_empty()),
        );
        count(
            "shipping promotion",
            o.shipping_lines.iter().any(|s| !s.discounts.is_empty()),
        );
        count("multi-buy price", !o.totals.rounding.is_zero());
        count(
            "gift wrap",
            o.fees.iter().any(|f| f.kind == FeeKind::AdditionalFee),
        );
        count(
            "delivery tip",
            o.fees.iter().any(|f| f.kind == FeeKind::Tip),
        );
        count("gift message", o.pii.notes.is_some());
        count("charged shipping", o.totals.shipping > Decimal::ZERO);
    }
    for k in [
        "USD",
        "CAD",
        "GBP",
        "EUR",
        "JPY",
        "inclusive",
        "exclusive",
        "facilitated US",
        "facilitated EU/UK",
        "merchant VAT",
        "untaxed",
        "pending",
        "cancelled",
        "item cancelled",
        "units cancelled",
        "shipped",
        "FBA",
        "multi item",
        "multi quantity",
        "item promotion",
        "shipping promotion",
        "multi-buy price",
        "gift wrap",
        "delivery tip",
        "gift message",
        "charged shipping",
    ] {
        assert!(
            seen.get(k).copied().unwrap_or(0) > 0,
            "no {k} order in the mix: {seen:?}"
        );
    }
}

/// What a fulfillment target ships of each mapped order (`lines_to_ship` at current
/// quantities) is exactly what the simulator says is left to ship: FBA orders, pending and
/// cancelled ones have nothing, cancelled units are not shipped.
#[tokio::test]
async fn lines_to_ship_match_the_simulators_expected() {
    let (e, orders) = seeded(1_500, 7, SimOptions::relaxed()).await;
    let expected: Expected = serde_json::from_value(e.get("/_sim/expected").await).unwrap();
    assert_eq!(expected.orders, 1_500);
    // Not what is already fulfilled (`Shipped`): nothing left to send.
    let ours: BTreeMap<String, BTreeMap<String, u64>> = orders
        .iter()
        .filter(|o| o.fulfillment_status != ordersync_sdk::FulfillmentStatus::Fulfilled)
        .map(|o| {
            let units: BTreeMap<String, u64> = o
                .lines_to_ship()
                .map(|l| (l.external_line_id.clone(), u64::from(l.current_quantity)))
                .collect();
            (o.external_id.clone(), units)
        })
        .filter(|(_, u)| !u.is_empty())
        .collect();
    assert_eq!(ours.len(), expected.shippable.len());
    assert_eq!(ours, expected.shippable);
    assert!(
        ours.len() < 1_200,
        "FBA, pending and cancelled orders are out"
    );
    // What a tracking target follows: the packages of merchant-fulfilled orders.
    let tracked: BTreeMap<String, Vec<String>> = orders
        .iter()
        .filter(|o| !o.fulfillments.is_empty())
        .map(|o| {
            let n = o.fulfillments.iter().map(|f| f.tracking_number.clone());
            (o.external_id.clone(), n.collect())
        })
        .collect();
    assert!(tracked.len() > 100, "{}", tracked.len());
    assert_eq!(tracked, expected.tracked);
    // Shipped orders are tracked and not shippable; partially shipped ones are both.
    let shipped = |s| orders.iter().filter(move |o| o.fulfillment_status == s);
    assert!(
        shipped(ordersync_sdk::FulfillmentStatus::Fulfilled)
            .all(|o| !ours.contains_key(&o.external_id))
    );
    assert!(
        shipped(ordersync_sdk::FulfillmentStatus::Partial)
            .any(|o| ours.contains_key(&o.external_id) && tracked.contains_key(&o.external_id))
    );
}

/// Amazon's rules on personal data: no address before release nor after cancellation, no
/// phone for FBA or once the latest delivery date has passed, no email for FBA. What a later
/// copy lacks is `None`, never an empty value.
#[tokio::test]
async fn personal_data_follows_amazons_rules() {
    let e = env(SimOptions::relaxed()).await;
    let src = e.source();
    let mut by_case = HashMap::new();
    for c in [
        "pending_no_prices",
        "cancelled_order",
        "afn_shipped",
        "mfn_shipped_packages",
        "us_facilitator_tax",
    ] {
        by_case.insert(c, e.case(c).await);
    }
    let get = |c: &str| {
        let id = by_case[c].clone();
        let src = src.clone();
        async move { src.fetch(&id).await.unwrap().unwrap() }
    };
    let pending = get("pending_no_prices").await;
    assert!(pending.pii.shipping_address.is_none() && pending.pii.email.is_some());
    assert!(get("cancelled_order").await.pii.shipping_address.is_none());
    let afn = get("afn_shipped").await;
    assert!(afn.pii.shipping_address.is_some());
    assert!(afn.pii.phone.is_none(), "FBA: no phone");
    assert!(afn.pii.email.is_none(), "FBA: no email (spec)");
    assert!(
        afn.pii
            .buyer_name
            .as_deref()
            .is_some_and(|n| n.contains("Canary"))
    );
    let shipped = get("mfn_shipped_packages").await;
    assert!(
        shipped.pii.phone.is_some(),
        "before the latest delivery date"
    );
    let open = get("us_facilitator_tax").await;
    assert!(
        open.pii
            .email
            .as_deref()
            .is_some_and(|m| m.ends_with("@customer.test"))
    );
    // Past the latest delivery date (9 days after the order): shipped orders lose the phone.
    e.clock.advance(time::Duration::days(10));
    let later = get("mfn_shipped_packages").await;
    assert!(later.pii.phone.is_none());
    assert!(
        later
            .pii
            .shipping_address
            .as_ref()
            .is_some_and(|a| a.phone.is_none())
    );
    assert!(
        get("us_facilitator_tax").await.pii.phone.is_some(),
        "not shipped: kept"
    );
}

/// A pending order maps without prices and is not shipped; once Amazon prices it, its next
/// version carries the money and is shippable.
#[tokio::test]
async fn a_pending_order_is_priced_later() {
    let e = env(SimOptions::relaxed()).await;
    let src = e.source();
    let id = e.case("pending_no_prices").await;
    let o = src.fetch(&id).await.unwrap().unwrap();
    assert_eq!(o.financial_status, FinancialStatus::Pending);
    assert_eq!(
        (o.totals.total, o.lines[0].unit_price),
        (Decimal::ZERO, Decimal::ZERO)
    );
    assert_eq!(o.lines_to_ship().count(), 0);
    let expected: Expected = serde_json::from_value(e.get("/_sim/expected").await).unwrap();
    assert!(!expected.shippable.contains_key(&id));
    e.post("/_sim/ship", json!({ "external_id": id })).await;
    let o = src.fetch(&id).await.unwrap().unwrap();
    assert_eq!(o.financial_status, FinancialStatus::Authorized);
    assert_eq!(o.lines[0].unit_price, d("19.99"));
    assert_eq!(o.lines_to_ship().count(), 1);
    let expected: Expected = serde_json::from_value(e.get("/_sim/expected").await).unwrap();
    assert_eq!(expected.shippable[&id][&o.lines[0].external_line_id], 1);
}

/// Named cases by hand (figures computed from the per-unit rules, not by our code).
#[tokio::test]
async fn named_cases_by_hand() {
    let e = env(SimOptions::relaxed()).await;
    let src = e.source();
    let mut ids = HashMap::new();
    for c in CASES {
        ids.insert(*c, e.case(c).await);
    }
    let get = |c: &str| {
        let id = ids[c].clone();
        let src = src.clone();
        async move { src.fetch(&id).await.unwrap().unwrap() }
    };

    // NY: 2 × 19.99 at 8.875 % = 1.77 a unit; shipping 2 × 4.99 taxed 0.44 a unit.
    let o = get("us_facilitator_tax").await;
    assert_eq!(o.totals.tax, d("4.42"));
    assert_eq!(o.totals.total, d("39.98") + d("9.98") + d("4.42"));
    assert!(
        o.tax_lines
            .iter()
            .all(|t| t.collector == Collector::Marketplace)
    );
    assert!(!o.taxes_included);

    // UK: 23.99 and a zero-rated book 10.00, VAT inside; shipping 2.99 with 0.50 VAT.
    let o = get("uk_vat_inclusive").await;
    assert!(o.taxes_included);
    assert_eq!((o.totals.tax, o.totals.total), (d("4.50"), d("36.98")));
    assert!(
        o.tax_lines
            .iter()
            .all(|t| t.collector == Collector::Merchant)
    );
    assert!(!o.lines[1].taxable);

    // JP: three at 5000 yen, 10 % inside (455 a unit), shipping 350 (32 tax) a unit.
    let o = get("jp_zero_decimals").await;
    assert_eq!(o.currency, "JPY");
    assert_eq!(o.totals.total, d("16050"));
    assert_eq!(o.totals.tax, d("1461"));

    // 3 for 10.00: unitPrice 3.33, so the lines say 9.99; Amazon's total says 10.00 + tax.
    let o = get("multi_buy_deal").await;
    assert_eq!(o.lines[0].unit_price, d("3.33"));
    assert_eq!(o.totals.rounding, d("0.01"));
    assert!(o.tolerance.per_line > 0);

    // Units cancelled: 3 for 25.00 (8.34, 8.33, 8.33), the last one cancelled.
    let o = get("cancelled_units").await;
    assert_eq!((o.lines[0].quantity, o.lines[0].current_quantity), (3, 2));
    assert_eq!(
        o.current.total,
        d("16.67") + d("7.98") + d("1.48") + d("0.70")
    );
    assert_eq!(o.financial_status, FinancialStatus::Authorized);

    // One item of two cancelled: it stays on the order, with nothing left.
    let o = get("cancelled_item").await;
    assert_eq!(o.lines[1].current_quantity, 0);
    assert_eq!(o.current.total, d("19.99") + d("1.77"));
    assert_eq!(o.totals.total, o.current.total + d("17.98") + d("1.60"));

    let o = get("cancelled_order").await;
    assert_eq!(o.status, OrderStatus::Cancelled);
    assert_eq!(o.current.total, Decimal::ZERO);
    assert_eq!(o.lines_to_ship().count(), 0);

    // 15 % off each of three 19.99 units: 3.00 a unit; tax on 16.99.
    let o = get("item_promotion").await;
    assert_eq!(o.totals.discounts, d("9.00"));
    assert_eq!(o.discount_applications.len(), 1);
    assert_eq!(o.lines[0].discounts[0].application, Some(0));

    // Free shipping: the shipping price discounted in full, not a price of 0.
    let o = get("free_shipping").await;
    assert_eq!(o.shipping_lines[0].price, d("3.99"));
    assert_eq!(o.shipping_lines[0].discounts[0].amount, d("3.99"));
    assert_eq!(o.current.shipping, Decimal::ZERO);
    assert_eq!(
        o.discount_applications[0].target,
        ordersync_sdk::DiscountTarget::Shipping
    );

    // Gift wrap is a fee with its VAT; the message is personal data.
    let o = get("gift_wrap").await;
    assert_eq!(o.fees[0].amount, d("3.67"));
    assert_eq!(o.fees[0].tax_lines[0].amount, d("0.59"));
    assert!(o.pii.notes.as_deref().is_some_and(|n| n.contains("Canary")));

    let o = get("delivery_tip").await;
    assert_eq!(
        (o.fees[0].kind, o.fees[0].amount),
        (FeeKind::Tip, d("5.00"))
    );

    let o = get("afn_shipped").await;
    assert_eq!(o.lines_to_ship().count(), 0, "Amazon ships FBA orders");
    assert_eq!(o.status, OrderStatus::Closed);

    let o = get("partially_shipped").await;
    assert_eq!(
        o.fulfillment_status,
        ordersync_sdk::FulfillmentStatus::Partial
    );
    assert_eq!(o.financial_status, FinancialStatus::PartiallyPaid);

    let o = get("ca_hst").await;
    assert_eq!(o.currency, "CAD");
    assert!(!o.taxes_included);
    for c in CASES {
        let o = get(c).await;
        let mut again = o.clone();
        again.balance().unwrap_or_else(|e| panic!("{c}: {e}"));
    }
}
