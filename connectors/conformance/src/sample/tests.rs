use super::checkout::{Cart, Item, Shipping};
use super::*;
use ordersync_sdk::money::minor_units;

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// (subtotal, discounts, shipping, tax, total, current subtotal, current shipping)
fn money(o: &Order) -> [Decimal; 7] {
    let (t, c) = (&o.totals, &o.current);
    [
        t.subtotal,
        t.discounts,
        t.shipping,
        t.tax,
        t.total,
        c.subtotal,
        c.shipping,
    ]
}

fn all(xs: [&str; 7]) -> [Decimal; 7] {
    xs.map(dec)
}

#[test]
fn every_shape_balances_exactly_and_is_unrefunded() {
    let mut currencies = Vec::new();
    for i in 0..64 {
        let o = sample_order(i);
        let mut again = o.clone();
        again
            .balance()
            .unwrap_or_else(|e| panic!("sample {i}: {e}"));
        assert_eq!(o.tolerance, Tolerance::EXACT);
        assert_eq!(o.totals.rounding, Decimal::ZERO, "sample {i}");
        assert_eq!(o.current.total, o.totals.total, "sample {i}");
        assert_eq!(o.current.tax, o.totals.tax, "sample {i}");
        assert_eq!(o.current.discounts, o.totals.discounts, "sample {i}");
        assert!(o.refunds.is_empty());
        assert!(
            o.lines
                .iter()
                .all(|l| l.current_quantity == l.quantity && l.ships())
        );
        let dp = minor_units(&o.currency);
        assert!(
            o.totals.total.scale() <= dp,
            "sample {i}: {}",
            o.totals.total
        );
        assert_eq!(sample_order(i).totals, o.totals, "deterministic by i");
        currencies.push((o.currency.clone(), o.taxes_included));
    }
    for want in [("USD", false), ("GBP", true), ("JPY", false), ("EUR", true)] {
        assert!(
            currencies
                .iter()
                .any(|(c, inc)| c == want.0 && *inc == want.1),
            "{want:?} is covered"
        );
    }
}

#[test]
fn usd_is_exclusive_with_two_tax_lines_rounded_per_line() {
    // 19.99 × 7.25 % = 1.449… → 1.45; × 1.375 % = 0.274… → 0.27; shipping untaxed.
    let o = sample_order(0);
    assert_eq!(
        money(&o),
        all(["19.99", "0", "4.99", "1.72", "26.70", "19.99", "4.99"])
    );
    let amounts: Vec<_> = o.lines[0].tax_lines.iter().map(|t| t.amount).collect();
    assert_eq!(amounts, [dec("1.45"), dec("0.27")]);
    assert_eq!(o.lines[0].tax_rate(), Some(dec("0.08625")));
    // Two lines: each of their four taxes is rounded on its own (3.48 + 0.66 + 0.25 + 0.05).
    let o = sample_order(4);
    assert_eq!(o.lines.len(), 2);
    assert_eq!(
        money(&o),
        all(["51.48", "0", "4.99", "4.44", "60.91", "51.48", "4.99"])
    );
    assert_eq!(o.tax_lines.len(), 2, "summed by title and rate");
    assert_eq!(o.tax_lines[0].amount, dec("3.73"));
}

#[test]
fn gbp_is_inclusive_with_a_line_discount_and_taxed_shipping() {
    // 2 × 13.00 − 10 % = 23.40, VAT inside = 23.40 / 6 = 3.90; shipping 4.80 holds 0.80.
    let o = sample_order(1);
    assert!(o.taxes_included);
    assert_eq!(
        money(&o),
        all(["26.00", "2.60", "4.80", "4.70", "28.20", "23.40", "4.80"])
    );
    assert_eq!(o.lines[0].discounts[0].application, Some(0));
    assert_eq!(o.discount_applications[0].code.as_deref(), Some("SAVE10"));
    assert_eq!(o.shipping_lines[0].tax(), Some(dec("0.80")));
    assert_eq!(o.tax_lines.len(), 1, "line and shipping VAT summed");
}

#[test]
fn jpy_has_no_decimals() {
    // 3 × 2180 at 10 % = 654; 648 at 8 % = 51.84 → 52; shipping 500 at 10 % = 50.
    let o = sample_order(2);
    assert_eq!(
        money(&o),
        all(["7188", "0", "500", "756", "8444", "7188", "500"])
    );
    assert_eq!(o.lines[1].tax(), Some(dec("52")));
}

#[test]
fn eur_is_inclusive_with_free_shipping() {
    // 27.90 holds 27.90 × 19 / 119 = 4.454… → 4.45 VAT; the code takes all 4.90 of shipping.
    let o = sample_order(3);
    assert!(o.taxes_included);
    assert_eq!(
        money(&o),
        all(["27.90", "4.90", "4.90", "4.45", "27.90", "27.90", "0"])
    );
    assert_eq!(o.shipping_lines[0].discounted(), Some(Decimal::ZERO));
    assert_eq!(o.shipping_lines[0].tax(), Some(Decimal::ZERO));
    assert_eq!(o.discount_applications[0].target, DiscountTarget::Shipping);
}

#[test]
fn checkout_rounds_half_up_per_line() {
    // 2.50 × 5 % = 0.125 exactly: half-up gives 0.13 (half-even would give 0.12).
    let cart = Cart {
        currency: "USD",
        taxes_included: false,
        items: vec![Item {
            id: "a".into(),
            sku: "A".into(),
            title: "a",
            unit_price: dec("2.50"),
            quantity: 1,
            off: None,
            taxes: vec![("T", dec("0.05"))],
        }],
        shipping: Shipping {
            title: "S",
            price: Decimal::ZERO,
            off: None,
            taxes: vec![],
        },
        applications: vec![],
    };
    let p = cart.price();
    assert_eq!(p.lines[0].tax(), Some(dec("0.13")));
    assert_eq!(p.totals.total, dec("2.63"));
}

#[test]
fn samples_carry_canary_pii_only_outside_the_serialised_order() {
    let o = sample_order(5);
    assert!(o.pii.email.as_deref().unwrap().ends_with("@customer.test"));
    crate::assert_no_canary("serialised order", &serde_json::to_string(&o).unwrap());
    crate::assert_no_canary("debug of the PII", &format!("{:?}", o.pii));
}
