//! The seeded mix: what kind of order each seeded order is, drawn from the seed's generator
//! so a seed always gives the same store. Most orders are plain; every special case has a
//! share of about 1–6 % (orders with more than 100 lines about 1 in 1,000), so 2,000 orders
//! contain all of them.

use super::build::{After, CodeSpec, FeeSpec, LineDiscountSpec, LineSpec, Spec};
use super::cases::{PRODUCTS, UNTAXED_PRODUCT, base, custom, gift_card, product, ship, tip};
use super::order::{DiscountKind, DiscountValue, LineKind, Profile, RestockType};
use super::profiles::{self, price};
use rand::Rng;
use rand::rngs::StdRng;

fn pick_profile(r: &mut StdRng) -> (&'static str, Profile) {
    match r.random_range(0..100u32) {
        0..55 => ("us", profiles::US),
        55..61 => ("nyc", profiles::NYC),
        61..71 => ("uk", profiles::UK),
        71..77 => ("de", profiles::DE),
        77..81 => ("nl", profiles::NL),
        81..83 => ("ch_7_7", profiles::CH_OLD),
        83..86 => ("ch", profiles::CH),
        86..90 => ("jp", profiles::JP),
        90..93 => ("kw", profiles::KW),
        93..97 => ("de_to_usd", profiles::DE_TO_USD),
        _ => ("us_to_cad", profiles::US_TO_CAD),
    }
}

fn pick_after(r: &mut StdRng) -> After {
    // Placeholders for the line and units: fixed once the lines are known.
    match r.random_range(0..1000u32) {
        0..50 => After::PartialRefund {
            line: 0,
            units: 0,
            restock: if r.random_bool(0.7) {
                RestockType::Return
            } else {
                RestockType::NoRestock
            },
            shipping: r.random_bool(0.4),
        },
        50..75 => After::FullRefund,
        75..105 => After::CancelRefund,
        105..130 => After::CancelVoid,
        130..160 => After::RemoveUnit { line: 0 },
        190..210 => After::Pending,
        210..230 => After::Authorized,
        _ => After::Nothing,
    }
}

/// One seeded order's spec.
pub fn random_spec(r: &mut StdRng) -> Spec {
    let (case, mut p) = pick_profile(r);
    if p.currency == "USD" && !p.ship_taxed && r.random_bool(0.3) {
        // Many US states tax shipping.
        p.ship_taxed = true;
    }
    let mut s = base(case, p);
    let taxed_on_top = !p.taxes_included && !p.rates.is_empty();
    s.exempt = taxed_on_top && r.random_bool(0.04);
    s.channel_liable = p.currency == "USD" && r.random_bool(0.01);
    let mut after = pick_after(r);
    let added = r.random_range(0..1000u32) < 30 && after == After::Nothing;

    // Lines: goods first, then the odd ones.
    let big = r.random_range(0..1000u32) == 0;
    let n = if big {
        r.random_range(101..=130usize)
    } else {
        r.random_range(1..=4usize)
    };
    let untaxed = !big && r.random_bool(0.06);
    for j in 0..n {
        let k = if untaxed && j == 0 {
            UNTAXED_PRODUCT
        } else {
            r.random_range(0..PRODUCTS.len() - 2)
        };
        let unit = price(&p, r.random_range(500..20_000i64));
        s.lines.push(product(k, r.random_range(1..=3u32), unit));
    }
    let many = !big && r.random_range(0..1000u32) < 15;
    if many {
        while s.lines.len() < 6 {
            let k = s.lines.len();
            s.lines
                .push(product(k, 1, price(&p, r.random_range(500..5_000i64))));
        }
    }
    if r.random_bool(0.03) {
        s.lines
            .push(custom(price(&p, r.random_range(500..3_000i64))));
    }
    if r.random_bool(0.03) {
        s.lines.push(gift_card(price(
            &p,
            [2_500, 5_000, 10_000][r.random_range(0..3)],
        )));
    }
    if r.random_bool(0.04) {
        s.lines.push(tip(price(&p, r.random_range(100..1_500i64))));
    }

    // Discounts.
    let goods: Vec<usize> = (0..s.lines.len())
        .filter(|j| s.lines[*j].kind == LineKind::Product)
        .collect();
    if many {
        for k in 0..6 {
            s.line_discounts.push(LineDiscountSpec {
                lines: vec![k],
                kind: DiscountKind::Automatic,
                label: "Bundle tier",
                value: DiscountValue::Percentage(500),
            });
        }
    } else {
        if r.random_bool(0.12) {
            s.line_discounts.push(LineDiscountSpec {
                lines: vec![goods[r.random_range(0..goods.len())]],
                kind: DiscountKind::Automatic,
                label: "Summer Sale",
                value: DiscountValue::Percentage([1_000, 1_500, 2_000][r.random_range(0..3)]),
            });
        }
        if r.random_bool(0.02) {
            s.line_discounts.push(LineDiscountSpec {
                lines: vec![goods[r.random_range(0..goods.len())]],
                kind: DiscountKind::Manual,
                label: "Staff discount",
                value: DiscountValue::Fixed(price(&p, 500)),
            });
        }
        if r.random_bool(0.015) {
            s.line_discounts.push(LineDiscountSpec {
                lines: vec![goods[r.random_range(0..goods.len())]],
                kind: DiscountKind::Script,
                label: "Bundle script",
                value: DiscountValue::Percentage(500),
            });
        }
    }
    if r.random_bool(0.15) {
        s.code = Some(if r.random_bool(0.5) {
            CodeSpec {
                code: "TENOFF",
                value: DiscountValue::Fixed(price(&p, 1_000)),
            }
        } else {
            CodeSpec {
                code: "SAVE10",
                value: DiscountValue::Percentage(1_000),
            }
        });
    }

    // Shipping: usually one line, sometimes two or three.
    const OPTIONS: [(&str, i64); 4] = [
        ("Standard", 499),
        ("Express", 999),
        ("Free Shipping", 0),
        ("Freight", 1_250),
    ];
    let lines_n = match r.random_range(0..1000u32) {
        0..25 => 3,
        25..75 => 2,
        _ => 1,
    };
    for k in 0..lines_n {
        let (title, cents) = OPTIONS[if k == 0 {
            r.random_range(0..3)
        } else {
            [0, 1, 3][r.random_range(0..3)]
        }];
        let amount = if cents == 0 { 0 } else { price(&p, cents) };
        s.shipping.push(ship(title, amount));
    }
    if r.random_bool(0.06) {
        if s.shipping.iter().all(|x| x.price == 0) {
            s.shipping[0] = ship("Standard", price(&p, 499));
        }
        s.free_shipping = Some("FREESHIP");
    }

    // Duties and additional fees.
    if r.random_bool(0.03) {
        s.duties_bp = 500;
    }
    let full_refund = matches!(after, After::FullRefund | After::CancelRefund);
    // A refund's additional fees are not in the GraphQL documents the connector sends: the
    // mix never refunds an order that has some (a voided one is fine: nothing is refunded).
    if !full_refund && r.random_bool(0.03) {
        s.fees.push(if p.taxes_included {
            FeeSpec {
                name: "Bottle deposit",
                amount: price(&p, 25) * i64::from(r.random_range(1..=6u32)),
                taxed: true,
            }
        } else {
            FeeSpec {
                name: "Retail Delivery Fee",
                amount: price(&p, 28),
                taxed: false,
            }
        });
    }

    // What happened after checkout.
    if added {
        let unit = price(&p, r.random_range(500..5_000i64));
        s.lines.push(LineSpec {
            added: true,
            ..product(r.random_range(0..PRODUCTS.len() - 2), 1, unit)
        });
    }
    match &mut after {
        After::PartialRefund { line, units, .. } => {
            // Some units of one product line, never everything the order holds.
            let j = goods[r.random_range(0..goods.len())];
            let others = goods.len() > 1;
            let l = &mut s.lines[j];
            if l.quantity == 1 && !others {
                l.quantity = 2;
            }
            let most = if others { l.quantity } else { l.quantity - 1 };
            *line = j;
            *units = r.random_range(1..=most);
        }
        After::RemoveUnit { line } => {
            let j = goods[0];
            if s.lines[j].quantity < 2 {
                s.lines[j].quantity = 2;
            }
            *line = j;
        }
        _ => {}
    }
    s.after = after;
    s
}
