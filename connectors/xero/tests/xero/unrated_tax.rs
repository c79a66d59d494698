//! Orders the demo dead-lettered (`fixtures/demo_orders`, canonical orders as the Amazon
//! connector mapped them): Amazon sends tax amounts without rates, rounded per unit, so a
//! line's, shipping's or gift wrap's tax is its rate of the net only to a minor unit per unit.
//! Each gets the type of the organisation's rate that explains it; the amount stays Amazon's.

use super::mapping::{build, d, table};
use ordersync_sdk::Order;
use ordersync_sdk::sim::DEMO_TAX_RATES;
use ordersync_xero::mapping::xero_total;

fn order(json: &str) -> Order {
    serde_json::from_str(json).expect("fixture order")
}

#[test]
fn amazon_de_lines_shipping_and_gift_wrap_are_at_19_percent() {
    // Shipping 11.01 is 3 units of 3.67 with 0.59 tax each: 1.77, 19.156 % of its net.
    let o = order(include_str!("../../fixtures/demo_orders/amazon_de.json"));
    let inv = build(&o, &table()).unwrap();
    let types: Vec<_> = inv
        .line_items
        .iter()
        .map(|l| (l.tax_type.as_deref().unwrap(), l.tax_amount.unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            ("TAX005", d("17.05")),
            ("TAX005", d("6.34")),
            ("TAX005", d("17.70")),
            ("TAX005", d("1.77")),
            ("TAX005", d("0.59")),
            ("TAX005", d("0.59")),
        ]
    );
    assert_eq!(xero_total(&inv.line_items, "Inclusive"), Some(d("275.66")));
}

#[test]
fn amazon_jp_gift_wrap_rounded_per_unit_is_at_10_percent() {
    // Gift wrap 3 × 590 yen with 54 tax each: 162 on a net of 1 608 (10.075 %).
    let o = order(include_str!("../../fixtures/demo_orders/amazon_jp.json"));
    let inv = build(&o, &table()).unwrap();
    let types: Vec<_> = inv
        .line_items
        .iter()
        .map(|l| (l.tax_type.as_deref().unwrap(), l.tax_amount.unwrap()))
        .collect();
    // The untaxed (free) shipping line is `NONE`.
    assert_eq!(
        types,
        [
            ("TAX006", d("2766")),
            ("NONE", d("0")),
            ("TAX006", d("162"))
        ]
    );
}

#[test]
fn every_rate_the_demo_marketplaces_charge_has_a_tax_type() {
    let t = table();
    for r in DEMO_TAX_RATES {
        t.for_percent(r.percent())
            .unwrap_or_else(|e| panic!("{}: {e}", r.name));
    }
    // The WooCommerce demo's rates the organisation once lacked.
    for p in ["7.5", "14.975", "7"] {
        assert!(t.for_percent(d(p)).is_ok(), "{p}");
    }
}
