//! Orders the demo dead-lettered (`fixtures/demo_orders`, canonical orders as their source
//! connectors mapped them), now booked: Amazon's rate-less taxes rounded per unit (shipping
//! and gift wrap per unit of the order), refunds of marketplace-collected tax (eBay, Shopify)
//! and a refund of shipping alone (WooCommerce).

use crate::golden::chart;
use crate::{env, key};
use ordersync_sage::mapping::{self, Keys, Plan};
use ordersync_sdk::sim::DEMO_TAX_RATES;
use ordersync_sdk::{Decimal, DeliveryRequest, Order, OutcomeKind};
use std::str::FromStr;

const CASES: [(&str, &str); 5] = [
    (
        "amazon_de",
        include_str!("../../fixtures/demo_orders/amazon_de.json"),
    ),
    (
        "amazon_jp",
        include_str!("../../fixtures/demo_orders/amazon_jp.json"),
    ),
    (
        "ebay_refund",
        include_str!("../../fixtures/demo_orders/ebay_refund.json"),
    ),
    (
        "shopify_refund",
        include_str!("../../fixtures/demo_orders/shopify_refund.json"),
    ),
    (
        "woocommerce_refund",
        include_str!("../../fixtures/demo_orders/woocommerce_refund.json"),
    ),
];

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn order(name: &str) -> Order {
    let (_, json) = CASES.iter().find(|(n, _)| *n == name).unwrap();
    serde_json::from_str(json).expect("fixture order")
}

fn plan(o: &Order) -> Plan {
    mapping::plan(
        o,
        &chart(),
        "C",
        "R",
        Keys {
            object_key: "0123456789abcdef0123456789abcdef",
            idempotency_key: "v1",
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", o.external_id))
}

#[test]
fn amazon_unrated_taxes_get_the_rate_that_explains_them() {
    // Shipping 11.01 = 3 units of 3.67 with 0.59 VAT each (19.156 % of its net); gift wrap
    // the same per unit.
    let p = plan(&order("amazon_de"));
    let rates: Vec<_> = p
        .invoice
        .invoice_lines
        .iter()
        .map(|l| (l.tax_rate_id.clone().unwrap(), l.tax_amount.unwrap()))
        .collect();
    let r19 = "SIM_19".to_string();
    assert_eq!(
        rates,
        [
            (r19.clone(), d("17.05")),
            (r19.clone(), d("6.34")),
            (r19.clone(), d("17.70")),
            (r19.clone(), d("0.59")),
            (r19.clone(), d("0.59")),
        ]
    );
    assert_eq!(p.invoice.shipping_tax_rate_id, Some(r19));
    assert_eq!(p.invoice.shipping_tax_amount, Some(d("1.77")));
    // JPY: gift wrap 3 × 590 with 54 tax each, 162 on a net of 1 608 (10.075 %).
    let p = plan(&order("amazon_jp"));
    let taxed: Vec<_> = p
        .invoice
        .invoice_lines
        .iter()
        .filter(|l| l.tax_amount != Some(Decimal::ZERO))
        .map(|l| l.tax_rate_id.as_deref().unwrap())
        .collect();
    assert_eq!(taxed, ["SIM_10", "SIM_10"]);
}

#[test]
fn refunded_marketplace_tax_is_credited_on_its_own_line() {
    // eBay collected the 5.77 sales tax: the goods line is credited untaxed (a zero rate
    // with tax would be refused by Sage) and the tax on the marketplace-tax account.
    let p = plan(&order("ebay_refund"));
    let c = &p.credit_notes[0];
    let lines: Vec<_> = c
        .credit_note_lines
        .iter()
        .map(|l| {
            (
                l.tax_rate_id.clone().unwrap(),
                l.net_amount.unwrap(),
                l.tax_amount.unwrap(),
                l.ledger_account_id.clone(),
            )
        })
        .collect();
    let ch = chart();
    let exempt = ch.exempt_rate().unwrap();
    assert_eq!(
        lines,
        [
            (exempt.clone(), d("63.99"), d("0"), ch.ledgers.sales.clone()),
            (
                exempt,
                d("5.77"),
                d("0"),
                ch.ledgers.marketplace_tax.clone().unwrap()
            ),
        ]
    );
    assert_eq!(
        mapping::artefact_total(
            &c.credit_note_lines,
            c.shipping_net_amount,
            c.shipping_tax_amount
        ),
        Some(d("75.75"))
    );
}

#[test]
fn a_refund_of_shipping_alone_is_a_credit_note_line() {
    // Sage requires credit_note_lines: 825 yen of shipping with 75 tax inside is one line.
    let p = plan(&order("woocommerce_refund"));
    let c = &p.credit_notes[0];
    assert_eq!(c.shipping_net_amount, None);
    assert_eq!(c.shipping_tax_rate_id, None);
    let [l] = c.credit_note_lines.as_slice() else {
        panic!("{:?}", c.credit_note_lines)
    };
    assert_eq!(l.ledger_account_id, chart().ledgers.shipping);
    assert_eq!(l.tax_rate_id.as_deref(), Some("SIM_10"));
    assert_eq!(
        (l.net_amount, l.tax_amount, l.total_amount),
        (Some(d("750")), Some(d("75")), Some(d("825")))
    );
}

#[test]
fn every_rate_the_demo_marketplaces_charge_is_in_the_business() {
    let ch = chart();
    for r in DEMO_TAX_RATES {
        assert!(
            ch.rates.iter().any(|x| x.percentage == r.percent()),
            "{}",
            r.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_orders_posted_to_the_simulator_net_to_the_current_total() {
    let e = env().await;
    for (i, (name, _)) in CASES.iter().enumerate() {
        let o = order(name);
        let ok = mapping::hex32(&["demo", name]);
        let out = e
            .sink
            .deliver(DeliveryRequest {
                order: &o,
                idempotency_key: &key("demo", i as u64),
                object_key: &ok,
                previous_ref: None,
            })
            .await
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(out.kind, OutcomeKind::Created, "{name}");
    }
    let r = crate::received(&e.sim.base_url).await;
    for (name, _) in CASES {
        let o = order(name);
        let held = r
            .objects
            .iter()
            .find(|x| x.external_order_id == o.external_id)
            .unwrap_or_else(|| panic!("{name}: held"));
        let total = d(held.extra["total_amount"].as_str().unwrap());
        let credited = d(held.extra["credited_amount"].as_str().unwrap());
        assert_eq!(total, o.totals.total, "{name}: invoice as placed");
        let refunded: Decimal = o.refunds.iter().map(|r| r.total).sum();
        assert_eq!(credited, refunded, "{name}: credit notes");
    }
}
