//! The seeded mix of eBay orders: every money case eBay produces, in plausible shares —
//! single and multi-line orders, several units, shipping (free, per line, combined-shipping
//! discounts), seller promotions, sales tax / VAT / GST collected by eBay, a recycling fee, a
//! price adjustment, buyer-currency conversion, partial and full refunds, refunds of whole
//! units, pending refunds, cancellations (done and requested), and fulfillment in progress.

use super::model::{
    Cancel, Poison, RefundPart, SimLine, SimOrder, SimPromo, SimRefund, SimTax, apply_rate,
};
use super::profiles::{CA_EWASTE_FEE, MARKETS, Market, Regime, US_STATES};
use ordersync_sdk::sim::{FakeBuyer, SeedCtx};
use rand::Rng;
use rand::rngs::StdRng;

const PRODUCTS: [&str; 10] = [
    "Vintage Camera Lens 50mm",
    "Wireless Headphones",
    "Leather Wallet",
    "Trading Card Lot",
    "Mechanical Keyboard",
    "Ceramic Mug Set",
    "Running Shoes",
    "Board Game",
    "Phone Case",
    "LED Desk Lamp",
];

/// Line ids: `10000000000000 + seq × 100 + j` (eBay's are 14 digits).
pub fn line_id(seq: u64, j: usize) -> u64 {
    10_000_000_000_000 + seq * 100 + j as u64
}

fn pick_market(r: &mut StdRng) -> &'static Market {
    let total: u32 = MARKETS.iter().map(|m| m.weight).sum();
    let mut x = r.random_range(0..total);
    for m in MARKETS {
        if x < m.weight {
            return m;
        }
        x -= m.weight;
    }
    MARKETS[0]
}

/// The buyer, moved to the market's country (names and streets stay canaries).
fn localise(mut b: FakeBuyer, m: &Market, r: &mut StdRng) -> (FakeBuyer, i64) {
    b.country_code = m.country.into();
    let mut us_rate = 0;
    if m.regime == Regime::UsSalesTax {
        let (state, rate, zip) = US_STATES[r.random_range(0..US_STATES.len())];
        b.province_code = state.into();
        b.zip = zip.into();
        us_rate = rate;
    } else {
        b.province_code = m.region.unwrap_or_default().into();
        b.zip = m.postal_code.into();
    }
    (b, us_rate)
}

/// Taxes of one line from the market's regime, on its price and shipping after discounts.
pub fn line_taxes(m: &Market, us_rate: i64, base: i64) -> Vec<SimTax> {
    let tax = |kind, rate, reference| SimTax {
        kind,
        amount: apply_rate(base, rate),
        remit: true,
        reference,
    };
    let out = match m.regime {
        Regime::NoTax => vec![],
        Regime::UsSalesTax => vec![tax("STATE_SALES_TAX", us_rate, None)],
        Regime::Single {
            kind,
            rate,
            reference,
        } => vec![tax(kind, rate, Some(reference))],
        Regime::Canada { gst, pst } => {
            vec![tax("GST", gst, None), tax("PROVINCE_SALES_TAX", pst, None)]
        }
    };
    out.into_iter().filter(|t| t.amount > 0).collect()
}

fn lines(r: &mut StdRng, seq: u64) -> Vec<SimLine> {
    let n = match r.random_range(0..100u32) {
        0..60 => 1,
        60..85 => 2,
        85..95 => 3,
        _ => r.random_range(4..=5),
    };
    (0..n)
        .map(|j| {
            let quantity = match r.random_range(0..100u32) {
                0..70 => 1,
                70..88 => 2,
                _ => r.random_range(3..=5),
            };
            let p = r.random_range(0..PRODUCTS.len());
            SimLine {
                id: line_id(seq, j),
                item_id: 110_000_000_000 + seq * 10 + j as u64,
                sku: format!("SKU-{p:03}-{}", j + 1),
                title: PRODUCTS[p].into(),
                quantity,
                // x.99 prices, as sellers list them.
                unit: r.random_range(2..250i64) * 100 + 99,
                promo: None,
                ship: 0,
                ship_discount: 0,
                taxes: vec![],
                fees: vec![],
                fulfilled: false,
            }
        })
        .collect()
}

fn promotions(r: &mut StdRng, ls: &mut [SimLine]) {
    match r.random_range(0..100u32) {
        // "Save 10% when you buy 2 or more": on every line, rounded half-up per line.
        0..10 if ls.len() > 1 || ls[0].quantity > 1 => {
            let id = format!("5{:09}", r.random_range(0..1_000_000_000u64));
            for l in ls.iter_mut() {
                l.promo = Some(SimPromo {
                    id: id.clone(),
                    description: "Save 10% when you buy 2 or more".into(),
                    amount: apply_rate(l.cost(), 10_000),
                });
            }
        }
        // A markdown of a fixed amount on one line.
        10..18 => {
            let l = &mut ls[0];
            l.promo = Some(SimPromo {
                id: format!("6{:09}", r.random_range(0..1_000_000_000u64)),
                description: "Sale: 5.00 off".into(),
                amount: 500.min(l.cost() / 2),
            });
        }
        _ => {}
    }
}

fn shipping(r: &mut StdRng, ls: &mut [SimLine]) {
    if r.random_bool(0.4) {
        return; // free shipping
    }
    for (j, l) in ls.iter_mut().enumerate() {
        l.ship = if j == 0 {
            r.random_range(3..15i64) * 100 + 99
        } else if r.random_bool(0.5) {
            0
        } else {
            r.random_range(1..6i64) * 100 + 99
        };
    }
    // Combined shipping: the later lines' shipping is discounted (in full or by half).
    if ls.len() > 1 && r.random_bool(0.3) {
        let full = r.random_bool(0.5);
        for l in ls.iter_mut().skip(1) {
            l.ship_discount = if full { l.ship } else { l.ship / 2 };
        }
    }
}

/// A refund that gives a whole line back for the seller's net (tax comes back on top).
fn whole_line(o: &SimOrder, line: usize) -> RefundPart {
    RefundPart::Line {
        line,
        amount: o.lines[line].seller_net(),
        units: o.lines[line].quantity,
    }
}

fn refund(o: &SimOrder, n: usize, parts: Vec<RefundPart>, pending: bool) -> SimRefund {
    SimRefund {
        id: format!("5{:011}", o.seq * 10 + n as u64),
        reference: format!("REF{:010}{n}", o.seq),
        at: o.created + (o.updated - o.created) / 2,
        pending,
        parts,
    }
}

/// Money only: a share of the line's price that is neither the whole line nor whole units.
fn goodwill(o: &SimOrder, line: usize, r: &mut StdRng) -> RefundPart {
    let l = &o.lines[line];
    let mut amount = apply_rate(l.item_net(), r.random_range(10..40i64) * 1_000).max(1);
    if l.unit_net().is_some_and(|u| u > 0 && amount % u == 0) || amount == l.seller_net() {
        amount -= 1;
    }
    RefundPart::Line {
        line,
        amount: amount.max(1),
        units: 0,
    }
}

/// After-sale events: refunds, cancellations, fulfillment.
fn events(o: &mut SimOrder, r: &mut StdRng) {
    let roll = r.random_range(0..100u32);
    // An adjusted order keeps its money as placed (eBay refunds an adjusted price, which the
    // seeded refunds do not model).
    let roll = if o.adjustment != 0 { 99 } else { roll };
    let n = o.lines.len();
    match roll {
        // Cancelled before shipping: every line back in one refund.
        0..6 => {
            let parts = (0..n).map(|i| whole_line(o, i)).collect();
            o.refunds.push(refund(o, 0, parts, false));
            o.cancel = Cancel::Cancelled {
                at: o.created + (o.updated - o.created) / 2,
                by_buyer: r.random_bool(0.5),
            };
            return;
        }
        // The buyer asked to cancel; the seller has not answered.
        6..8 => {
            o.cancel = Cancel::Requested {
                at: o.created + (o.updated - o.created) / 2,
            };
        }
        // A goodwill refund for a damaged item.
        8..16 => {
            let p = goodwill(o, r.random_range(0..n), r);
            o.refunds.push(refund(o, 0, vec![p], false));
        }
        // One line refunded in full (returned, or out of stock).
        16..21 => {
            let p = whole_line(o, r.random_range(0..n));
            o.refunds.push(refund(o, 0, vec![p], false));
        }
        // Some units of a line back (one of two returned).
        21..25 => {
            if let Some(i) = (0..n)
                .find(|i| o.lines[*i].quantity > 1 && o.lines[*i].unit_net().is_some_and(|u| u > 0))
            {
                let l = &o.lines[i];
                let k = r.random_range(1..l.quantity);
                let part = RefundPart::Line {
                    line: i,
                    amount: l.unit_net().unwrap_or(0) * i64::from(k),
                    units: k,
                };
                o.refunds.push(refund(o, 0, vec![part], false));
            }
        }
        // An order-level refund (a shipping overcharge given back).
        25..27 => {
            let amount = o.summary().delivery.min(300);
            if amount > 0 {
                o.refunds
                    .push(refund(o, 0, vec![RefundPart::Order { amount }], false));
            }
        }
        // A refund issued but not completed yet.
        27..28 => {
            let p = goodwill(o, 0, r);
            o.refunds.push(refund(o, 0, vec![p], true));
        }
        _ => {}
    }
    // Shipped, in part or in full (never for cancelled orders).
    match r.random_range(0..100u32) {
        0..15 if n > 1 => o.lines[0].fulfilled = true,
        15..30 => o.lines.iter_mut().for_each(|l| l.fulfilled = true),
        _ => {}
    }
}

/// One seeded order: its market, lines, money and events, all drawn from `c.rng`.
pub fn seeded(c: SeedCtx<'_>) -> SimOrder {
    let r = c.rng;
    let market = pick_market(r);
    let (buyer, us_rate) = localise(c.buyer, market, r);
    let mut ls = lines(r, c.seq);
    promotions(r, &mut ls);
    shipping(r, &mut ls);
    for l in ls.iter_mut() {
        l.taxes = line_taxes(market, us_rate, l.item_net() + l.ship_net());
    }
    if market.regime == Regime::UsSalesTax && buyer.province_code == "CA" && r.random_bool(0.3) {
        let l = &mut ls[0];
        l.fees.push(SimTax {
            kind: "ELECTRONIC_RECYCLING_FEE",
            amount: CA_EWASTE_FEE * i64::from(l.quantity),
            remit: true,
            reference: None,
        });
    }
    let adjustment = if r.random_bool(0.02) {
        -(ls[0].item_net() / 10).clamp(1, 500)
    } else {
        0
    };
    let mut o = SimOrder {
        id: c.id,
        seq: c.seq,
        created: c.created,
        updated: c.updated,
        market,
        username: format!(
            "Canary{}_{}",
            buyer.first_name.trim_start_matches("Canary"),
            c.seq
        ),
        note: r
            .random_bool(0.2)
            .then(|| format!("Canary note {}: please ship in a plain box", c.index)),
        buyer,
        lines: ls,
        adjustment,
        conversion: market.conversion,
        refunds: vec![],
        cancel: Cancel::None,
        poison: None,
    };
    events(&mut o, r);
    o
}

/// Marks a seeded order unmappable.
pub fn poisoned(mut o: SimOrder, p: Poison) -> SimOrder {
    o.poison = Some(p);
    o
}
