//! Golden cases of the money model (`tests/e2e/golden/README.md`): per case a Shopify REST
//! payload built by hand from Shopify's rules, the canonical order it maps to and the
//! ShipStation create-shipment request built from that order.
//!
//! The constants in each test were computed by hand from the payload, not by our code: they
//! are the independent check. The JSON files pin everything else, exactly.
//! `ORDERSYNC_BLESS_GOLDEN=1` rewrites `canonical.json` / `shipstation.json` instead of
//! comparing (then read them and check every amount by eye before committing).

use ordersync_sdk::{ConnectorError, Decimal, LineKind, Order, OrderStatus};
use ordersync_shipstation::mapping::{NOTHING_TO_SHIP, shipment_body};
use ordersync_shipstation::wire::ShipmentBody;
use ordersync_shopify::mapping::order_from_rest;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/e2e/golden")
        .join(case)
}

fn blessing() -> bool {
    std::env::var("ORDERSYNC_BLESS_GOLDEN").is_ok_and(|v| v == "1")
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (bless with ORDERSYNC_BLESS_GOLDEN=1)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compares `got` with the golden file, or (blessing) writes it.
fn pin(path: &Path, got: &Value) {
    if blessing() {
        let text = serde_json::to_string_pretty(got).unwrap() + "\n";
        std::fs::write(path, text).unwrap();
        return;
    }
    if let Some(diff) = ordersync_conformance::snapshot::first_diff("", got, &read(path)) {
        panic!("{} differs at {diff}", path.display());
    }
}

/// Hand-computed key numbers of the canonical order.
struct Money {
    total: &'static str,
    tax: &'static str,
    discounts: &'static str,
    current: &'static str,
}

/// Hand-computed shipment: items as (line id, units, unit price after discounts, tax of those
/// units), then amount_paid, shipping_paid, tax_paid (the current totals, docs/money.md).
struct Shipment {
    items: &'static [(&'static str, u32, &'static str, &'static str)],
    paid: &'static str,
    shipping: &'static str,
    tax: &'static str,
}

/// Maps the case's payload, checks the hand numbers and pins the canonical order.
fn canonical(case: &str, want: Money) -> Order {
    let dir = dir(case);
    let o = order_from_rest(&read(&dir.join("shopify.json")))
        .unwrap_or_else(|e| panic!("{case}: the mapper refused the payload: {e}"));
    assert_eq!(o.totals.total, d(want.total), "{case}: totals.total");
    assert_eq!(o.totals.tax, d(want.tax), "{case}: totals.tax");
    assert_eq!(
        o.totals.discounts,
        d(want.discounts),
        "{case}: totals.discounts"
    );
    assert_eq!(o.current.total, d(want.current), "{case}: current.total");
    pin(
        &dir.join("canonical.json"),
        &serde_json::to_value(&o).unwrap(),
    );
    o
}

/// Builds the case's shipment, checks the hand numbers and pins the request body.
fn shipment(case: &str, o: &Order, want: Shipment) -> ShipmentBody {
    let key = format!("golden-{case}");
    let body = shipment_body(o, &key, None)
        .unwrap_or_else(|e| panic!("{case}: the sink refused the order: {e}"));
    let items: Vec<(&str, u32, Decimal, Decimal)> = body
        .items
        .iter()
        .map(|i| {
            (
                i.external_order_item_id.as_deref().unwrap_or_default(),
                i.quantity,
                i.unit_price.unwrap_or_default(),
                i.tax_amount.unwrap_or_default(),
            )
        })
        .collect();
    let expected: Vec<(&str, u32, Decimal, Decimal)> = want
        .items
        .iter()
        .map(|&(id, q, unit, tax)| (id, q, d(unit), d(tax)))
        .collect();
    assert_eq!(items, expected, "{case}: shipment items");
    let amount = |m: &Option<ordersync_shipstation::wire::MonetaryValue>| {
        let m = m.as_ref().expect("amount present");
        assert_eq!(
            m.currency,
            o.currency.to_ascii_lowercase(),
            "{case}: currency"
        );
        m.amount
    };
    assert_eq!(
        amount(&body.amount_paid),
        d(want.paid),
        "{case}: amount_paid"
    );
    assert_eq!(
        amount(&body.shipping_paid),
        d(want.shipping),
        "{case}: shipping_paid"
    );
    assert_eq!(amount(&body.tax_paid), d(want.tax), "{case}: tax_paid");
    assert_eq!(body.external_shipment_id.as_deref(), Some(key.as_str()));
    pin(
        &dir(case).join("shipstation.json"),
        &serde_json::to_value(&body).unwrap(),
    );
    body
}

#[test]
fn golden_uk_vat_inclusive() {
    // 2 × 12.00 − 2.40 (10 % code) = 21.60 incl. 3.60 VAT; shipping 4.80 incl. 0.80 VAT.
    let o = canonical(
        "uk_vat_inclusive",
        Money {
            total: "26.40",
            tax: "4.40",
            discounts: "2.40",
            current: "26.40",
        },
    );
    assert!(o.taxes_included);
    assert_eq!(o.totals.subtotal, d("24.00"));
    shipment(
        "uk_vat_inclusive",
        &o,
        Shipment {
            items: &[("5551000000101", 2, "10.80", "3.60")],
            paid: "26.40",
            shipping: "4.80",
            tax: "4.40",
        },
    );
}

#[test]
fn golden_partial_refund_exclusive() {
    // 3 × 199.00 − 10.00 (3.34/3.33/3.33) + 11.94 tax = 598.94; two units refunded, the red
    // one is left: 199.00 − 3.33 + 3.98 = 199.65.
    let o = canonical(
        "partial_refund_exclusive",
        Money {
            total: "598.94",
            tax: "11.94",
            discounts: "10.00",
            current: "199.65",
        },
    );
    let allocs: Vec<Decimal> = o.lines.iter().map(|l| l.discount().unwrap()).collect();
    assert_eq!(allocs, [d("3.34"), d("3.33"), d("3.33")]);
    assert_eq!(o.refunded(), Some(d("209.00")));
    shipment(
        "partial_refund_exclusive",
        &o,
        Shipment {
            items: &[("518995019", 1, "195.67", "3.98")],
            paid: "199.65",
            shipping: "0.00",
            tax: "3.98",
        },
    );
}

#[test]
fn golden_free_shipping_code() {
    // 2 × 15.00, 8.25 % = 2.475 → 2.48 (half up); shipping 4.99 − 4.99 (FREESHIP).
    let o = canonical(
        "free_shipping_code",
        Money {
            total: "32.48",
            tax: "2.48",
            discounts: "4.99",
            current: "32.48",
        },
    );
    assert_eq!(
        o.lines[0].discount(),
        Some(Decimal::ZERO),
        "no line discount"
    );
    assert_eq!(o.totals.shipping, d("4.99"), "shipping is before discounts");
    assert_eq!(o.current.shipping, Decimal::ZERO);
    shipment(
        "free_shipping_code",
        &o,
        Shipment {
            items: &[("5551000000301", 2, "15.00", "2.48")],
            paid: "32.48",
            shipping: "0",
            tax: "2.48",
        },
    );
}

#[test]
fn golden_nyc_three_taxes() {
    // 49.99: 2.00 + 2.25 + 0.19; 21.75: 0.87 + 0.98 + 0.08; shipping 8.00: 0.32 + 0.36 + 0.03;
    // the loaf (13.00) is not taxable. 84.74 + 8.00 + 7.08 = 99.82.
    let o = canonical(
        "nyc_three_taxes",
        Money {
            total: "99.82",
            tax: "7.08",
            discounts: "0.00",
            current: "99.82",
        },
    );
    assert_eq!(o.lines[0].tax_rate(), Some(d("0.08875")));
    assert_eq!(
        o.lines[2].tax_rate(),
        None,
        "non-taxable line has no tax lines"
    );
    let summary: Vec<Decimal> = o.tax_lines.iter().map(|t| t.amount).collect();
    assert_eq!(summary, [d("3.19"), d("3.59"), d("0.30")]);
    shipment(
        "nyc_three_taxes",
        &o,
        Shipment {
            items: &[
                ("5551000000401", 1, "49.99", "4.44"),
                ("5551000000402", 3, "7.25", "1.93"),
                ("5551000000403", 2, "6.50", "0"),
            ],
            paid: "99.82",
            shipping: "8.00",
            tax: "7.08",
        },
    );
}

#[test]
fn golden_tip_and_gift_card() {
    // 23.80 (incl. 3.80 VAT) + gift card 25.00 + tip 3.00 + shipping 4.90 (incl. 0.78).
    let o = canonical(
        "tip_and_gift_card",
        Money {
            total: "56.70",
            tax: "4.58",
            discounts: "0.00",
            current: "56.70",
        },
    );
    let kinds: Vec<LineKind> = o.lines.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        [LineKind::Product, LineKind::GiftCard, LineKind::Tip]
    );
    shipment(
        "tip_and_gift_card",
        &o,
        Shipment {
            items: &[("5551000000501", 1, "23.80", "3.80")],
            paid: "56.70",
            shipping: "4.90",
            tax: "4.58",
        },
    );
}

#[test]
fn golden_jpy_zero_decimals() {
    // 3000 → 273, 980 → 89, shipping 550 → 50 (10 % inside, half up to whole yen).
    let o = canonical(
        "jpy_zero_decimals",
        Money {
            total: "4530",
            tax: "412",
            discounts: "0",
            current: "4530",
        },
    );
    assert_eq!(o.totals.subtotal, d("3980"));
    shipment(
        "jpy_zero_decimals",
        &o,
        Shipment {
            items: &[
                ("5551000000601", 2, "1500", "273"),
                ("5551000000602", 1, "980", "89"),
            ],
            paid: "4530",
            shipping: "550",
            tax: "412",
        },
    );
}

#[test]
fn golden_kwd_three_decimals() {
    // 12.345 − 1.000 (one-line code) + 3 × 2.250 + shipping 1.500, no tax.
    let o = canonical(
        "kwd_three_decimals",
        Money {
            total: "19.595",
            tax: "0",
            discounts: "1.000",
            current: "19.595",
        },
    );
    assert_eq!(o.totals.subtotal, d("19.095"));
    shipment(
        "kwd_three_decimals",
        &o,
        Shipment {
            items: &[
                ("5551000000701", 1, "11.345", "0"),
                ("5551000000702", 3, "2.250", "0"),
            ],
            paid: "19.595",
            shipping: "1.500",
            tax: "0",
        },
    );
}

#[test]
fn golden_chf_cash_rounding() {
    // 19.90 (1.49) + 2 × 4.56 (0.68) + shipping 7.00 (0.52), 8.1 % inside = 36.02; paid in
    // cash rounded to 0.05: 36.00.
    let o = canonical(
        "chf_cash_rounding",
        Money {
            total: "36.02",
            tax: "2.69",
            discounts: "0.00",
            current: "36.02",
        },
    );
    assert_eq!(o.cash_rounding.payment, d("-0.02"));
    assert_eq!(o.paid(), Some(d("36.00")));
    assert_eq!(
        o.totals.rounding,
        Decimal::ZERO,
        "cash rounding is not rounding"
    );
    shipment(
        "chf_cash_rounding",
        &o,
        Shipment {
            items: &[
                ("5551000000801", 1, "19.90", "1.49"),
                ("5551000000802", 2, "4.56", "0.68"),
            ],
            // What the buyer handed over: 36.02 rounded to 0.05.
            paid: "36.00",
            shipping: "7.00",
            tax: "2.69",
        },
    );
}

#[test]
fn golden_presentment_usd_on_eur_shop() {
    // EUR 49.00 + 5.90 = 54.90 (7.82 + 0.94 VAT inside); USD at 1.0837: 53.10 + 6.39 = 59.49.
    let o = canonical(
        "presentment_usd_on_eur_shop",
        Money {
            total: "54.90",
            tax: "8.76",
            discounts: "0.00",
            current: "54.90",
        },
    );
    let p = o.presentment.as_ref().expect("presentment");
    assert_eq!(p.currency, "USD");
    assert_eq!((p.total, p.current_total), (d("59.49"), d("59.49")));
    // 59.49 / 54.90 = 1.0836065…: the rate of the rounded totals, not the 1.0837 quoted.
    assert_eq!(p.rate, Some(d("1.083607")));
    shipment(
        "presentment_usd_on_eur_shop",
        &o,
        Shipment {
            items: &[("5551000000901", 1, "49.00", "7.82")],
            paid: "54.90",
            shipping: "5.90",
            tax: "8.76",
        },
    );
}

#[test]
fn golden_cancelled_refunded() {
    // 40.00 + 2 × 5.00 + shipping 6.00 + 6 % (2.40 + 0.60 + 0.36) = 59.36, all given back.
    let o = canonical(
        "cancelled_refunded",
        Money {
            total: "59.36",
            tax: "3.36",
            discounts: "0.00",
            current: "0.00",
        },
    );
    assert_eq!(o.status, OrderStatus::Cancelled);
    assert_eq!(o.refunded(), Some(d("59.36")));
    assert_eq!(o.refunds[0].shipping, d("6.00"));
    assert_eq!(o.refunds[0].shipping_tax, d("0.36"));
    assert_eq!(o.lines_to_ship().count(), 0);
    match shipment_body(&o, "golden-cancelled_refunded", None) {
        Err(ConnectorError::Permanent { reason }) => assert_eq!(reason, NOTHING_TO_SHIP),
        other => panic!("the sink must refuse a cancelled, refunded order: {other:?}"),
    }
    assert!(
        !dir("cancelled_refunded").join("shipstation.json").exists(),
        "no shipment for this case"
    );
}

#[test]
fn golden_several_shipping_lines_and_duties() {
    // 30.00 + 2 × 8.25 = 46.50 (+ 9.30 VAT); shipping 3.50 (+ 0.70) + 2.00 (no VAT);
    // duties 3.10. 46.50 + 5.50 + 3.10 + 10.00 = 65.10.
    let o = canonical(
        "several_shipping_lines_and_duties",
        Money {
            total: "65.10",
            tax: "10.00",
            discounts: "0.00",
            current: "65.10",
        },
    );
    assert!(!o.taxes_included && !o.tax_exempt);
    assert_eq!(o.shipping_lines.len(), 2);
    assert_eq!(o.totals.shipping, d("5.50"));
    assert_eq!((o.totals.fees, o.current.fees), (d("3.10"), d("3.10")));
    shipment(
        "several_shipping_lines_and_duties",
        &o,
        Shipment {
            items: &[
                ("5551000001101", 1, "30.00", "6.00"),
                ("5551000001102", 2, "8.25", "3.30"),
            ],
            paid: "65.10",
            shipping: "5.50",
            tax: "10.00",
        },
    );
}

#[test]
fn golden_tax_exempt() {
    // 4 × 12.50 + shipping 7.50, exempt buyer: no tax.
    let o = canonical(
        "tax_exempt",
        Money {
            total: "57.50",
            tax: "0.00",
            discounts: "0.00",
            current: "57.50",
        },
    );
    assert!(o.tax_exempt);
    assert!(o.tax_lines.is_empty());
    shipment(
        "tax_exempt",
        &o,
        Shipment {
            items: &[("5551000001201", 4, "12.50", "0")],
            paid: "57.50",
            shipping: "7.50",
            tax: "0",
        },
    );
}
