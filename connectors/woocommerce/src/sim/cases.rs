//! Named orders (`POST /_sim/case {"name"}`): one fixed order per money case, for tests that
//! need exactly that case rather than the seeded mix.

use super::build::{After, Class, CouponSpec, FeeSpec, LineSpec, ShipSpec, Spec};
use super::order::{CouponKind, Status};
use super::profiles::{self, Profile};

pub const CASES: &[&str] = &[
    "example",
    "inclusive_rounding",
    "compound_tax",
    "negative_fee",
    "partial_refund",
    "amount_refund",
    "full_refund",
    "jpy",
    "kwd",
    "free_shipping",
    "fixed_cart_remainder",
    "virtual",
];

fn l(name: &str, product_id: u64, qty: u32, price: i64) -> LineSpec {
    LineSpec {
        name: name.into(),
        product_id,
        sku: format!("sku-{product_id}"),
        qty,
        price,
        class: Class::Standard,
    }
}

fn spec(p: &'static Profile, lines: Vec<LineSpec>) -> Spec {
    Spec {
        profile: p,
        lines,
        coupons: vec![],
        shipping: vec![ShipSpec {
            title: "Flat Rate",
            method_id: "flat_rate",
            cost: 1_000,
        }],
        fees: vec![],
        status: Status::Processing,
        after: After::Nothing,
    }
}

pub fn named(name: &str) -> Option<Spec> {
    let s = match name {
        // The spec's example order 727: 2 × 3.00 and 12.00 at 7.5 %, 10.00 flat rate.
        "example" => spec(
            &profiles::US_CA,
            vec![
                l("Woo Single #1", 93, 2, 300),
                l(
                    "Ship Your Idea &ndash; Color: Black, Size: M Test",
                    22,
                    1,
                    1_200,
                ),
            ],
        ),
        // Three lines of 9.99 including 20 % VAT, tax rounded once for the order.
        "inclusive_rounding" => spec(
            &profiles::GB,
            vec![
                l("Beanie", 15, 1, 999),
                l("Cap", 16, 1, 999),
                l("Belt", 17, 3, 999),
            ],
        ),
        "compound_tax" => spec(&profiles::CA_QC, vec![l("Sunglasses", 19, 2, 9_000)]),
        "negative_fee" => Spec {
            fees: vec![FeeSpec {
                name: "Loyalty discount",
                amount: -500,
                taxable: true,
            }],
            ..spec(
                &profiles::DE,
                vec![l("Hoodie", 22, 1, 4_500), l("Beanie", 15, 2, 1_800)],
            )
        },
        "partial_refund" => Spec {
            after: After::PartialRefund {
                line: 0,
                units: 1,
                shipping: true,
            },
            ..spec(
                &profiles::US_NY,
                vec![l("T-Shirt", 23, 3, 2_000), l("Album", 25, 1, 1_500)],
            )
        },
        "amount_refund" => Spec {
            status: Status::Refunded,
            after: After::AmountRefund,
            ..spec(&profiles::DE_SUBTOTAL, vec![l("Belt", 17, 1, 5_500)])
        },
        "full_refund" => Spec {
            status: Status::Refunded,
            after: After::FullRefund,
            ..spec(
                &profiles::AU,
                vec![l("Hoodie", 22, 2, 6_000), l("Cap", 16, 1, 1_800)],
            )
        },
        "jpy" => Spec {
            coupons: vec![CouponSpec {
                code: "save10",
                kind: CouponKind::Percent(1_000),
                free_shipping: false,
            }],
            shipping: vec![ShipSpec {
                title: "Flat rate",
                method_id: "flat_rate",
                cost: 800,
            }],
            ..spec(
                &profiles::JP,
                vec![l("Hoodie", 22, 1, 5_980), l("Album", 25, 3, 1_650)],
            )
        },
        "kwd" => Spec {
            shipping: vec![ShipSpec {
                title: "Flat rate",
                method_id: "flat_rate",
                cost: 1_500,
            }],
            ..spec(&profiles::KW, vec![l("Sunglasses", 19, 1, 24_750)])
        },
        "free_shipping" => Spec {
            coupons: vec![CouponSpec {
                code: "freeship",
                kind: CouponKind::FixedCart(0),
                free_shipping: true,
            }],
            shipping: vec![ShipSpec {
                title: "Free shipping",
                method_id: "free_shipping",
                cost: 0,
            }],
            ..spec(&profiles::US_CA, vec![l("Belt", 17, 1, 5_000)])
        },
        // 10.00 off three units of unequal lines: 3.33 each, then a cent of remainder.
        "fixed_cart_remainder" => Spec {
            coupons: vec![CouponSpec {
                code: "tenoff",
                kind: CouponKind::FixedCart(1_000),
                free_shipping: false,
            }],
            ..spec(
                &profiles::US_CA,
                vec![l("Beanie", 15, 2, 1_800), l("Poster", 31, 1, 995)],
            )
        },
        "virtual" => Spec {
            shipping: vec![],
            ..spec(
                &profiles::DE,
                vec![l("E-book: Selling with WooCommerce", 40, 1, 1_900)],
            )
        },
        _ => return None,
    };
    Some(s)
}
