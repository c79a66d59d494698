//! Named money cases: one fixed order per case, for golden tests (`POST /_sim/case
//! {"case": "uk_vat_inclusive"}`). The seeded mix (`mix.rs`) draws the same kinds of orders at
//! random; both go through `build.rs`.

use super::build::{After, CodeSpec, FeeSpec, LineDiscountSpec, LineSpec, ShipSpec, Spec};
use super::order::{DiscountKind, DiscountValue, LineKind, Profile, RestockType};
use super::profiles::{self, price};

/// Every case `/_sim/case` builds.
pub const CASES: &[&str] = &[
    "us_sales_tax",
    "nyc_three_taxes",
    "uk_vat_inclusive",
    "eu_vat_inclusive",
    "eu_vat_21",
    "chf_cash_rounding",
    "jpy_zero_decimals",
    "kwd_three_decimals",
    "presentment_usd",
    "presentment_cad",
    "non_taxable_line",
    "tax_exempt",
    "order_code_spread",
    "line_automatic_discount",
    "manual_discount",
    "free_shipping",
    "multiple_shipping_lines",
    "taxed_shipping",
    "partial_refund",
    "shipping_refund",
    "full_refund",
    "cancelled_refunded",
    "cancelled_voided",
    "edit_removed_unit",
    "edit_added_line",
    "tip",
    "gift_card",
    "custom_item",
    "duties",
    "additional_fees",
    "many_discounts",
    "marketplace_tax",
    "pending",
    "authorized",
    "big_order",
];

/// Product titles of the catalogue; a product's id is [`PRODUCT_IDS`] + its index.
pub const PRODUCTS: [&str; 8] = [
    "Yellow Mug",
    "Trail Socks",
    "Desk Lamp",
    "Notebook A5",
    "Water Bottle",
    "Wool Scarf",
    "Printed Book",
    "Sample Part",
];
pub const PRODUCT_IDS: u64 = 8_072_000_000_000;
/// The catalogue's product that is not taxable (books, in the mix).
pub const UNTAXED_PRODUCT: usize = 6;

pub fn product(k: usize, quantity: u32, unit: i64) -> LineSpec {
    let k = k % PRODUCTS.len();
    LineSpec {
        title: PRODUCTS[k],
        kind: LineKind::Product,
        quantity,
        unit,
        taxable: k != UNTAXED_PRODUCT,
        added: false,
        product_id: Some(PRODUCT_IDS + k as u64),
    }
}

pub fn custom(unit: i64) -> LineSpec {
    LineSpec {
        title: "Custom engraving",
        kind: LineKind::Custom,
        quantity: 1,
        unit,
        taxable: true,
        added: false,
        product_id: None,
    }
}

pub fn tip(unit: i64) -> LineSpec {
    LineSpec {
        title: "Tip",
        kind: LineKind::Tip,
        quantity: 1,
        unit,
        taxable: false,
        added: false,
        product_id: None,
    }
}

pub fn gift_card(unit: i64) -> LineSpec {
    LineSpec {
        title: "Gift Card",
        kind: LineKind::GiftCard,
        quantity: 1,
        unit,
        taxable: false,
        added: false,
        product_id: Some(PRODUCT_IDS + 99),
    }
}

pub fn ship(title: &'static str, price: i64) -> ShipSpec {
    ShipSpec {
        title,
        code: title,
        price,
    }
}

pub fn base(case: &'static str, profile: Profile) -> Spec {
    Spec {
        case,
        profile,
        exempt: false,
        lines: Vec::new(),
        line_discounts: Vec::new(),
        code: None,
        free_shipping: None,
        shipping: Vec::new(),
        fees: Vec::new(),
        duties_bp: 0,
        channel_liable: false,
        after: After::Nothing,
    }
}

/// A plain US order: 1 × 25.00 + 2 × 12.50, Standard shipping 4.99.
fn us(case: &'static str) -> Spec {
    let mut s = base(case, profiles::US);
    s.lines = vec![product(0, 1, 2500), product(1, 2, 1250)];
    s.shipping = vec![ship("Standard", 499)];
    s
}

/// The case's fixed order, or `None` for an unknown name.
pub fn named(case: &str) -> Option<Spec> {
    let name = *CASES.iter().find(|c| **c == case)?;
    let mut s = us(name);
    match name {
        "us_sales_tax" => {}
        "nyc_three_taxes" => {
            s.profile = profiles::NYC;
            s.lines = vec![product(2, 1, 10_000)];
            s.shipping = vec![ship("Express", 999)];
        }
        // The money issue's worked example: 2 × £12.00 with a 10 % code (£2.40), £4.80
        // shipping, 20 % VAT inside: tax 3.60 + 0.80 = 4.40, total 26.40.
        "uk_vat_inclusive" | "presentment_usd" => {
            s.profile = if name == "uk_vat_inclusive" {
                profiles::UK
            } else {
                profiles::DE_TO_USD
            };
            s.lines = vec![product(0, 2, 1200)];
            s.code = Some(CodeSpec {
                code: "WELCOME10",
                value: DiscountValue::Percentage(1_000),
            });
            s.shipping = vec![ship("Royal Mail", 480)];
        }
        "eu_vat_inclusive" | "eu_vat_21" => {
            s.profile = if name == "eu_vat_inclusive" {
                profiles::DE
            } else {
                profiles::NL
            };
            s.lines = vec![product(2, 1, 4990), product(3, 2, 995)];
            s.shipping = vec![ship("DHL", 490)];
        }
        // 3 × 12.34 + 7.00 = 44.02, paid in cash as 44.00.
        "chf_cash_rounding" => {
            s.profile = profiles::CH;
            s.lines = vec![product(4, 3, 1234)];
            s.shipping = vec![ship("Post CH", 700)];
        }
        "jpy_zero_decimals" => {
            s.profile = profiles::JP;
            s.lines = vec![product(0, 2, 1500)];
            s.shipping = vec![ship("Yamato", 800)];
        }
        "kwd_three_decimals" => {
            s.profile = profiles::KW;
            s.lines = vec![product(5, 2, 12_345)];
            s.shipping = vec![ship("Aramex", 1_500)];
        }
        "presentment_cad" => s.profile = profiles::US_TO_CAD,
        "non_taxable_line" => s.lines[1] = product(UNTAXED_PRODUCT, 2, 1250),
        "tax_exempt" => s.exempt = true,
        // 10.00 over three equal lines: 3.34 / 3.33 / 3.33.
        "order_code_spread" => {
            s.lines = vec![
                product(0, 1, 2000),
                product(1, 1, 2000),
                product(2, 1, 2000),
            ];
            s.code = Some(CodeSpec {
                code: "TENOFF",
                value: DiscountValue::Fixed(1_000),
            });
        }
        "line_automatic_discount" => s.line_discounts.push(LineDiscountSpec {
            lines: vec![1],
            kind: DiscountKind::Automatic,
            label: "Summer Sale",
            value: DiscountValue::Percentage(1_500),
        }),
        "manual_discount" => s.line_discounts.push(LineDiscountSpec {
            lines: vec![0],
            kind: DiscountKind::Manual,
            label: "Staff discount",
            value: DiscountValue::Fixed(500),
        }),
        "free_shipping" => s.free_shipping = Some("FREESHIP"),
        "multiple_shipping_lines" => {
            s.profile.ship_taxed = true;
            s.shipping = vec![
                ship("Standard", 499),
                ship("Express", 999),
                ship("Freight", 250),
            ];
        }
        "taxed_shipping" => s.profile.ship_taxed = true,
        // 3 × 10.00 with a 10 % code; one unit back: 9.00 and a third of the tax.
        "partial_refund" | "shipping_refund" => {
            s.lines = vec![product(3, 3, 1000), product(4, 1, 1500)];
            s.code = Some(CodeSpec {
                code: "SAVE10",
                value: DiscountValue::Percentage(1_000),
            });
            s.after = After::PartialRefund {
                line: 0,
                units: 1,
                restock: RestockType::Return,
                shipping: name == "shipping_refund",
            };
        }
        "full_refund" => s.after = After::FullRefund,
        "cancelled_refunded" => s.after = After::CancelRefund,
        "cancelled_voided" => s.after = After::CancelVoid,
        "edit_removed_unit" => s.after = After::RemoveUnit { line: 1 },
        "edit_added_line" => s.lines.push(LineSpec {
            added: true,
            ..product(5, 1, 1800)
        }),
        "tip" => s.lines.push(tip(500)),
        "gift_card" => s.lines.push(gift_card(5_000)),
        "custom_item" => s.lines.push(custom(1_500)),
        "duties" => {
            s.profile = profiles::UK;
            s.duties_bp = 500;
        }
        // A German bottle deposit, taxed like the goods.
        "additional_fees" => {
            s.profile = profiles::DE;
            s.fees = vec![FeeSpec {
                name: "Bottle deposit",
                amount: 75,
                taxed: true,
            }];
        }
        "many_discounts" => {
            s.lines = (0..6)
                .map(|k| product(k, 1, 1000 + 100 * k as i64))
                .collect();
            s.line_discounts = (0..6)
                .map(|k| LineDiscountSpec {
                    lines: vec![k],
                    kind: DiscountKind::Automatic,
                    label: "Bundle tier",
                    value: DiscountValue::Percentage(500),
                })
                .collect();
        }
        "marketplace_tax" => s.channel_liable = true,
        "pending" => s.after = After::Pending,
        "authorized" => s.after = After::Authorized,
        "big_order" => {
            s.lines = (0..120)
                .map(|j| {
                    product(
                        j % 6,
                        1 + (j % 3) as u32,
                        price(&s.profile, 100 + 10 * (j as i64 % 50)),
                    )
                })
                .collect();
        }
        _ => {}
    }
    Some(s)
}
