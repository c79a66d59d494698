//! Canonical sample orders for sink checks: platform-priced money in four currencies and both
//! bases, and canary PII. `sample_order(i)` is deterministic by `i`:
//!
//! | `i % 4` | currency | basis     | what it exercises                                  |
//! |---------|----------|-----------|----------------------------------------------------|
//! | 0       | USD      | exclusive | two tax lines per line (state + county), untaxed shipping |
//! | 1       | GBP      | inclusive | 20 % VAT, a 10 % line discount code, taxed shipping |
//! | 2       | JPY      | exclusive | no decimals, 10 % and 8 % consumption tax, taxed shipping |
//! | 3       | EUR      | inclusive | 19 % VAT, a free-shipping code                     |
//!
//! Prices come from [`checkout`] (taxes rounded per line, half-up). Every sample balances
//! exactly (`Tolerance::EXACT`) and has no refunds, so its current totals equal the placed ones.

mod checkout;

use checkout::{Cart, Item, Off, Rate, Shipping};
use ordersync_sdk::{
    Address, AllocationMethod, CashRounding, Decimal, DiscountApplication, DiscountKind,
    DiscountTarget, DiscountValue, FinancialStatus, Fulfillment, FulfillmentStatus, Order,
    OrderStatus, Pii, Tolerance,
};
use time::OffsetDateTime;

/// Where a sample's buyer lives (matches the shop currency).
struct Place {
    region: &'static str,
    postal_code: &'static str,
    country_code: &'static str,
    phone: &'static str,
}

fn d(units: i64, scale: u32) -> Decimal {
    Decimal::new(units, scale)
}

fn code(index: u32, code: &str, target: DiscountTarget, fraction: Decimal) -> DiscountApplication {
    DiscountApplication {
        index,
        kind: DiscountKind::Code,
        code: Some(code.into()),
        title: None,
        target,
        value: DiscountValue::Percentage(fraction),
        allocation: AllocationMethod::Each,
    }
}

fn item(i: u64, n: u32, title: &'static str, unit_price: Decimal, taxes: Vec<Rate>) -> Item {
    Item {
        id: if n == 1 {
            format!("L{i}")
        } else {
            format!("L{i}-{n}")
        },
        sku: if n == 1 {
            format!("SKU-{}", i % 5)
        } else {
            format!("SKU-{}-{n}", i % 5)
        },
        title,
        unit_price,
        quantity: if n == 1 { 1 + (i % 3) as u32 } else { 1 },
        off: None,
        taxes,
    }
}

fn cart(i: u64) -> (Cart, Place) {
    // Prices step by one major unit (100 yen) with `i`, quantities 1..=3.
    let step = (i % 7) as i64;
    match i % 4 {
        0 => {
            let taxes = vec![
                ("CA State Tax", d(725, 4)),
                ("San Francisco County Tax", d(1375, 5)),
            ];
            let mut items = vec![item(
                i,
                1,
                "Conformance widget",
                d(1999 + step * 100, 2),
                taxes.clone(),
            )];
            if i % 8 == 4 {
                items.push(item(i, 2, "Conformance sticker", d(350, 2), taxes));
            }
            let cart = Cart {
                currency: "USD",
                taxes_included: false,
                items,
                shipping: Shipping {
                    title: "Standard",
                    price: d(499, 2),
                    off: None,
                    taxes: vec![],
                },
                applications: vec![],
            };
            (
                cart,
                Place {
                    region: "CA",
                    postal_code: "94000",
                    country_code: "US",
                    phone: "+15550100",
                },
            )
        }
        1 => {
            let vat = vec![("VAT", d(20, 2))];
            let mut widget = item(
                i,
                1,
                "Conformance widget",
                d(1200 + step * 100, 2),
                vat.clone(),
            );
            widget.off = Some(Off {
                application: 0,
                fraction: d(10, 2),
            });
            let cart = Cart {
                currency: "GBP",
                taxes_included: true,
                items: vec![widget],
                shipping: Shipping {
                    title: "Royal Mail Tracked 48",
                    price: d(480, 2),
                    off: None,
                    taxes: vat,
                },
                applications: vec![code(0, "SAVE10", DiscountTarget::Line, d(10, 2))],
            };
            (
                cart,
                Place {
                    region: "LND",
                    postal_code: "EC1A 1BB",
                    country_code: "GB",
                    phone: "+447700900100",
                },
            )
        }
        2 => {
            let standard = vec![("Consumption tax", d(10, 2))];
            let reduced = vec![("Consumption tax (reduced)", d(8, 2))];
            let cart = Cart {
                currency: "JPY",
                taxes_included: false,
                items: vec![
                    item(
                        i,
                        1,
                        "Conformance widget",
                        d(1980 + step * 100, 0),
                        standard.clone(),
                    ),
                    item(i, 2, "Conformance tea", d(648, 0), reduced),
                ],
                shipping: Shipping {
                    title: "Yamato TA-Q-BIN",
                    price: d(500, 0),
                    off: None,
                    taxes: standard,
                },
                applications: vec![],
            };
            (
                cart,
                Place {
                    region: "13",
                    postal_code: "100-0001",
                    country_code: "JP",
                    phone: "+81300000100",
                },
            )
        }
        _ => {
            let vat = vec![("MwSt", d(19, 2))];
            let cart = Cart {
                currency: "EUR",
                taxes_included: true,
                items: vec![item(
                    i,
                    1,
                    "Conformance widget",
                    d(2490 + step * 100, 2),
                    vat.clone(),
                )],
                shipping: Shipping {
                    title: "DHL Paket",
                    price: d(490, 2),
                    off: Some(Off {
                        application: 0,
                        fraction: Decimal::ONE,
                    }),
                    taxes: vat,
                },
                applications: vec![code(0, "FREESHIP", DiscountTarget::Shipping, Decimal::ONE)],
            };
            (
                cart,
                Place {
                    region: "BE",
                    postal_code: "10115",
                    country_code: "DE",
                    phone: "+4930000100",
                },
            )
        }
    }
}

fn canary_pii(i: u64, p: &Place) -> Pii {
    Pii {
        buyer_name: Some(format!("Canary Buyer{i}")),
        email: Some(format!("buyer{i}@customer.test")),
        phone: Some(p.phone.into()),
        shipping_address: Some(Address {
            name: Some(format!("Canary Buyer{i}")),
            company: None,
            line1: Some(format!("{i} Canary Street")),
            line2: None,
            city: Some("Canaryville".into()),
            region: Some(p.region.into()),
            postal_code: Some(p.postal_code.into()),
            country_code: Some(p.country_code.into()),
            phone: Some(p.phone.into()),
        }),
        billing_address: None,
        notes: None,
    }
}

pub fn sample_order(i: u64) -> Order {
    let (cart, place) = cart(i);
    let priced = cart.price();
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut o = Order {
        marketplace: "conformance".into(),
        external_id: format!("{}", 9_000_000_000_000_000_000u64 + i),
        order_number: format!("#C{i}"),
        status: OrderStatus::Open,
        financial_status: FinancialStatus::Paid,
        created_at: now,
        updated_at: now,
        currency: cart.currency.into(),
        taxes_included: cart.taxes_included,
        tax_exempt: false,
        presentment: None,
        lines: priced.lines,
        // A parcel already on its way: what a tracking target follows.
        fulfillments: vec![Fulfillment {
            tracking_number: format!("1ZCONF{i:010}"),
            carrier: Some("UPS".into()),
            shipped_at: Some(now),
        }],
        shipping_method: priced.shipping_lines[0].title.clone(),
        shipping_lines: priced.shipping_lines,
        fees: vec![],
        discount_applications: cart.applications,
        refunds: vec![],
        tax_lines: vec![],
        totals: priced.totals,
        current: priced.current,
        cash_rounding: CashRounding::default(),
        tolerance: Tolerance::EXACT,
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        pii: canary_pii(i, &place),
        buyer_account: None,
    };
    o.tax_lines = o.summarise_taxes().expect("sample taxes are small");
    o.balance().expect("sample orders balance exactly");
    o
}

#[cfg(test)]
mod tests;
