//! The seeded mix: what kind of order each seeded order is, drawn from the seed's generator
//! so a seed always gives the same store. Most orders are plain; every special case has a
//! share of a few percent, so a few hundred orders contain all of them.

use super::build::{After, Class, CouponSpec, FeeSpec, LineSpec, ShipSpec, Spec};
use super::order::{CouponKind, Status};
use super::profiles::{self, Profile, price};
use rand::Rng;
use rand::rngs::StdRng;

/// (name, product id, sku, USD cents low..high, virtual).
pub const PRODUCTS: &[(&str, u64, &str, i64, i64, bool)] = &[
    (
        "Hoodie with Logo &ndash; Blue, L",
        22,
        "woo-hoodie-logo",
        3_500,
        6_000,
        false,
    ),
    ("Beanie", 15, "woo-beanie", 1_500, 2_500, false),
    ("T-Shirt", 23, "woo-tshirt", 1_500, 3_000, false),
    ("Belt", 17, "woo-belt", 4_000, 6_500, false),
    ("Sunglasses", 19, "woo-sunglasses", 7_000, 12_000, false),
    ("Album", 25, "woo-album", 1_000, 2_000, false),
    ("Cap", 16, "", 1_200, 1_800, false),
    (
        "Poster &quot;Woo&quot;",
        31,
        "woo-poster",
        500,
        2_000,
        false,
    ),
    (
        "E-book: Selling with WooCommerce",
        40,
        "woo-ebook",
        900,
        2_900,
        true,
    ),
    (
        "Online course (download)",
        41,
        "woo-course",
        4_900,
        19_900,
        true,
    ),
];

fn pick_profile(r: &mut StdRng) -> &'static Profile {
    match r.random_range(0..100u32) {
        0..30 => &profiles::US_CA,
        30..38 => &profiles::US_NY,
        38..44 => &profiles::CA_QC,
        44..58 => &profiles::DE,
        58..66 => &profiles::DE_SUBTOTAL,
        66..78 => &profiles::GB,
        78..84 => &profiles::AU,
        84..92 => &profiles::JP,
        _ => &profiles::KW,
    }
}

fn pick_status(r: &mut StdRng) -> Status {
    match r.random_range(0..100u32) {
        0..55 => Status::Processing,
        55..75 => Status::Completed,
        75..81 => Status::OnHold,
        81..87 => Status::Pending,
        87..92 => Status::Cancelled,
        92..95 => Status::Failed,
        95..98 => Status::Trash,
        _ => Status::CheckoutDraft,
    }
}

fn line(p: &Profile, r: &mut StdRng, k: usize) -> LineSpec {
    let (name, id, sku, lo, hi, _) = PRODUCTS[k];
    let class = if !p.reduced.is_empty() && r.random_bool(0.12) {
        Class::Reduced
    } else if r.random_bool(0.04) {
        Class::Zero
    } else {
        Class::Standard
    };
    LineSpec {
        name: name.into(),
        product_id: id,
        sku: sku.into(),
        qty: if r.random_bool(0.7) {
            1
        } else {
            r.random_range(2..=4)
        },
        price: price(p, r.random_range(lo..hi)),
        class,
    }
}

/// One seeded order's spec.
pub fn random_spec(r: &mut StdRng) -> Spec {
    let p = pick_profile(r);
    let digital = r.random_bool(0.07);
    let n = if r.random_bool(0.02) {
        r.random_range(8..=12)
    } else {
        r.random_range(1..=4)
    };
    let goods = PRODUCTS.len() - 2;
    let lines: Vec<LineSpec> = (0..n)
        .map(|_| {
            let k = if digital {
                goods + r.random_range(0..2)
            } else {
                r.random_range(0..goods)
            };
            line(p, r, k)
        })
        .collect();

    let mut coupons = Vec::new();
    let mut free_shipping = false;
    match r.random_range(0..100u32) {
        0..7 => coupons.push(CouponSpec {
            code: "save10",
            kind: CouponKind::Percent(1_000),
            free_shipping: false,
        }),
        7..11 => coupons.push(CouponSpec {
            code: "fiveoff",
            kind: CouponKind::FixedCart(price(p, 500)),
            free_shipping: false,
        }),
        11..14 => coupons.push(CouponSpec {
            code: "twoeach",
            kind: CouponKind::FixedProduct(price(p, 200)),
            free_shipping: false,
        }),
        14..17 => {
            coupons.push(CouponSpec {
                code: "save10",
                kind: CouponKind::Percent(1_000),
                free_shipping: false,
            });
            coupons.push(CouponSpec {
                code: "fiveoff",
                kind: CouponKind::FixedCart(price(p, 500)),
                free_shipping: false,
            });
        }
        17..21 if !digital => {
            free_shipping = true;
            coupons.push(CouponSpec {
                code: "freeship",
                kind: CouponKind::FixedCart(0),
                free_shipping: true,
            });
        }
        _ => {}
    }

    let mut shipping = Vec::new();
    if !digital {
        let first = if free_shipping || r.random_bool(0.15) {
            ShipSpec {
                title: "Free shipping",
                method_id: "free_shipping",
                cost: 0,
            }
        } else if r.random_bool(0.05) {
            ShipSpec {
                title: "Local pickup",
                method_id: "local_pickup",
                cost: 0,
            }
        } else {
            ShipSpec {
                title: "Flat rate",
                method_id: "flat_rate",
                cost: price(p, [500, 750, 1_000][r.random_range(0..3)]),
            }
        };
        shipping.push(first);
        if r.random_bool(0.03) {
            shipping.push(ShipSpec {
                title: "Express",
                method_id: "flat_rate",
                cost: price(p, 1_500),
            });
        }
    }

    let mut fees = Vec::new();
    if r.random_bool(0.04) {
        fees.push(if r.random_bool(0.5) {
            FeeSpec {
                name: "Gift wrap",
                amount: price(p, 300),
                taxable: true,
            }
        } else {
            FeeSpec {
                name: "Cash on delivery fee",
                amount: price(p, 200),
                taxable: false,
            }
        });
    }
    let negative_fee = r.random_bool(0.03);
    if negative_fee {
        let items: i64 = lines.iter().map(|l| l.price * i64::from(l.qty)).sum();
        // 5 % of the items as entered, a whole number of the currency's price steps.
        let off = (items / 20 / p.step.max(1)).max(1) * p.step.max(1);
        fees.push(FeeSpec {
            name: "Loyalty discount",
            amount: -off,
            taxable: true,
        });
    }

    let mut status = pick_status(r);
    let mut after = After::Nothing;
    if matches!(status, Status::Processing | Status::Completed) {
        after = match r.random_range(0..100u32) {
            // A line refunded at its price gives back more than the line cost after a
            // negative fee's share: the mapper refuses that (current goods below zero).
            0..7 if !negative_fee => {
                let line = r.random_range(0..lines.len());
                After::PartialRefund {
                    line,
                    units: r.random_range(1..=lines[line].qty),
                    shipping: r.random_bool(0.3) && !shipping.is_empty(),
                }
            }
            // Refunding every item would give back more than the order when a negative fee
            // took something off, and rounds differently from the order's single tax
            // rounding in stores that round at subtotal: those refund the amount instead.
            7..11 if !negative_fee && !p.at_subtotal => After::FullRefund,
            0..13 => After::AmountRefund,
            13..15 if !shipping.is_empty() && shipping[0].cost > 0 => After::ShippingRefund,
            15..17 => After::Goodwill(price(p, 500)),
            _ => After::Nothing,
        };
        if matches!(after, After::FullRefund | After::AmountRefund) {
            status = Status::Refunded;
        }
    }
    Spec {
        profile: p,
        lines,
        coupons,
        shipping,
        fees,
        status,
        after,
    }
}
