//! Canonical sample orders for sink checks: balanced money and canary PII.

use ordersync_sdk::{
    Address, Decimal, FulfillmentStatus, LineItem, Order, OrderStatus, Pii, Totals,
};
use time::OffsetDateTime;

pub fn sample_order(i: u64) -> Order {
    let unit = Decimal::new(1999 + (i as i64 % 7) * 100, 2);
    let qty = 1 + (i % 3) as u32;
    let subtotal = unit * Decimal::from(qty);
    let tax = (subtotal * Decimal::new(8, 2)).round_dp(2);
    let shipping = Decimal::new(499, 2);
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut o = Order {
        marketplace: "conformance".into(),
        external_id: format!("{}", 9_000_000_000_000_000_000u64 + i),
        order_number: format!("#C{i}"),
        status: OrderStatus::Open,
        created_at: now,
        updated_at: now,
        currency: "USD".into(),
        lines: vec![LineItem {
            external_line_id: format!("L{i}"),
            sku: Some(format!("SKU-{}", i % 5)),
            title: "Conformance widget".into(),
            quantity: qty,
            unit_price: unit,
            discount: Decimal::ZERO,
            tax,
            tax_rate: Some(Decimal::new(8, 2)),
        }],
        tax_lines: vec![],
        totals: Totals {
            subtotal,
            shipping,
            discounts: Decimal::ZERO,
            tax,
            rounding: Decimal::ZERO,
            total: subtotal + shipping + tax,
        },
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        shipping_method: Some("Standard".into()),
        pii: Pii {
            buyer_name: Some(format!("Canary Buyer{i}")),
            email: Some(format!("buyer{i}@customer.test")),
            phone: Some("+15550100".into()),
            shipping_address: Some(Address {
                name: Some(format!("Canary Buyer{i}")),
                company: None,
                line1: Some(format!("{i} Canary Street")),
                line2: None,
                city: Some("Canaryville".into()),
                region: Some("CA".into()),
                postal_code: Some("94000".into()),
                country_code: Some("US".into()),
                phone: Some("+15550100".into()),
            }),
            billing_address: None,
            notes: None,
        },
    };
    o.balance().expect("sample orders balance");
    o
}
