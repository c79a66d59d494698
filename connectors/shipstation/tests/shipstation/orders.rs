//! Hand-priced orders for the money cases the conformance samples do not cover: refunds,
//! tips, gift cards, lines that do not ship. Every figure is written out (and balances).

use ordersync_conformance::sample_order;
use ordersync_sdk::{
    Collector, CurrentTotals, Decimal, DiscountAllocation, FinancialStatus, LineItem, LineKind,
    Order, Refund, RefundLine, TaxLine, Totals,
};
use time::OffsetDateTime;

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn vat(amount: &str) -> Vec<TaxLine> {
    vec![TaxLine {
        title: "VAT".into(),
        rate: Some(d("0.20")),
        amount: d(amount),
        collector: Collector::Merchant,
    }]
}

#[allow(clippy::too_many_arguments)]
fn line(
    id: &str,
    kind: LineKind,
    qty: u32,
    current: u32,
    unit: &str,
    ships: bool,
    discount: Option<&str>,
    tax: Option<&str>,
) -> LineItem {
    LineItem {
        external_line_id: id.into(),
        sku: Some(format!("SKU-{id}")),
        title: format!("Item {id}"),
        kind,
        quantity: qty,
        current_quantity: current,
        unit_price: d(unit),
        requires_shipping: ships,
        taxable: tax.is_some(),
        discounts: discount
            .map(|a| DiscountAllocation {
                amount: d(a),
                application: Some(0),
            })
            .into_iter()
            .collect(),
        tax_lines: tax.map(vat).unwrap_or_default(),
    }
}

fn refund_line(id: &str, qty: u32, subtotal: &str, tax: &str) -> RefundLine {
    RefundLine {
        line_id: id.into(),
        quantity: qty,
        restock: true,
        subtotal: d(subtotal),
        tax: d(tax),
    }
}

/// GBP, 20 % VAT included, on the sample's address (GB):
///
/// | line | kind      | qty → now | unit  | discount | VAT  | ships? |
/// |------|-----------|-----------|-------|----------|------|--------|
/// | mug  | product   | 2 → 2     | 12.00 | 2.40     | 3.60 | yes    |
/// | tee  | product   | 3 → 2     | 15.00 |          | 7.50 | yes (one refunded) |
/// | tip  | tip       | 1 → 1     | 3.00  |          |      | no     |
/// | gift | gift card | 1 → 1     | 25.00 |          |      | no (a card in the post is still not goods) |
/// | ebook| product   | 1 → 1     | 5.00  |          | 0.83 | no (requires_shipping false) |
/// | scarf| product   | 1 → 0     | 10.00 |          | 1.67 | no (refunded) |
///
/// Shipping 4.80 holds 0.80 VAT. Placed: 112.00 − 2.40 + 4.80 = 114.40, VAT 14.40. One
/// refund of 25.00 (a tee 15.00 + the scarf 10.00). Now: 21.60 + 30.00 + 3.00 + 25.00 +
/// 5.00 = 84.60, + 4.80 shipping = 89.40, VAT 3.60 + 5.00 + 0.83 + 0.80 = 10.23.
pub fn gbp_partly_refunded() -> Order {
    let mut o = sample_order(1);
    o.financial_status = FinancialStatus::PartiallyRefunded;
    o.lines = vec![
        line(
            "mug",
            LineKind::Product,
            2,
            2,
            "12.00",
            true,
            Some("2.40"),
            Some("3.60"),
        ),
        line(
            "tee",
            LineKind::Product,
            3,
            2,
            "15.00",
            true,
            None,
            Some("7.50"),
        ),
        line("tip", LineKind::Tip, 1, 1, "3.00", false, None, None),
        line("gift", LineKind::GiftCard, 1, 1, "25.00", true, None, None),
        line(
            "ebook",
            LineKind::Product,
            1,
            1,
            "5.00",
            false,
            None,
            Some("0.83"),
        ),
        line(
            "scarf",
            LineKind::Product,
            1,
            0,
            "10.00",
            true,
            None,
            Some("1.67"),
        ),
    ];
    o.shipping_lines[0].price = d("4.80");
    o.shipping_lines[0].tax_lines = vat("0.80");
    o.refunds = vec![Refund {
        external_id: "r1".into(),
        created_at: OffsetDateTime::UNIX_EPOCH,
        lines: vec![
            refund_line("tee", 1, "15.00", "2.50"),
            refund_line("scarf", 1, "10.00", "1.67"),
        ],
        shipping: Decimal::ZERO,
        shipping_tax: Decimal::ZERO,
        duties: Decimal::ZERO,
        adjustments: vec![],
        total: d("25.00"),
    }];
    o.totals = Totals {
        subtotal: d("112.00"),
        discounts: d("2.40"),
        shipping: d("4.80"),
        fees: Decimal::ZERO,
        tax: d("14.40"),
        rounding: Decimal::ZERO,
        total: d("114.40"),
    };
    o.current = CurrentTotals {
        subtotal: d("84.60"),
        discounts: d("2.40"),
        shipping: d("4.80"),
        fees: Decimal::ZERO,
        tax: d("10.23"),
        total: d("89.40"),
    };
    o.tax_lines = o.summarise_taxes().unwrap();
    o.balance().expect("the fixture balances");
    o
}

/// The GBP sample (2 × 13.00 − 2.60, VAT 3.90, shipping 4.80 with 0.80 VAT, 28.20) with
/// everything refunded, shipping included: nothing is left on the order.
pub fn gbp_fully_refunded(i: u64) -> Order {
    let mut o = sample_order(i);
    assert_eq!(o.currency, "GBP", "a GBP sample");
    o.financial_status = FinancialStatus::Refunded;
    let l = &mut o.lines[0];
    let (qty, after, tax) = (l.quantity, l.discounted().unwrap(), l.tax().unwrap());
    l.current_quantity = 0;
    let ship = &o.shipping_lines[0];
    o.refunds = vec![Refund {
        external_id: "r-all".into(),
        created_at: OffsetDateTime::UNIX_EPOCH,
        lines: vec![RefundLine {
            line_id: l.external_line_id.clone(),
            quantity: qty,
            restock: true,
            subtotal: after,
            tax,
        }],
        shipping: ship.discounted().unwrap(),
        shipping_tax: ship.tax().unwrap(),
        duties: Decimal::ZERO,
        adjustments: vec![],
        total: o.totals.total,
    }];
    o.current = CurrentTotals::default();
    o.balance().expect("a full refund balances");
    o
}
