//! The orders a simulated seller gets: a spec per order (marketplace and its tax, FBA or
//! FBM, status, items with promotions, gift wrap, cancellations), drawn from the seed's
//! generator so a seed always gives the same store, or one named case (`/_sim/case`).
//!
//! The seeded mix, about: US 45 % (sales tax on top, collected by Amazon as marketplace
//! facilitator, five states with and without shipping tax, Oregon untaxed), CA 8 % (HST/GST
//! on top, facilitated), UK 20 % and DE 17 % (VAT inside prices, reduced rate on books, some
//! facilitated under UOSS/IOSS), JP 10 % (no decimals, consumption tax inside, some
//! facilitated under platform taxation). 25 % FBA. Statuses: 5 % pending without prices,
//! 45 % unshipped, 5 % partially shipped, 37 % shipped (FBM with packages), 5 % cancelled,
//! and among unshipped orders item and unit cancellations. Promotions on items (12 %) and on
//! shipping (6 %), multi-buy prices (5 %), gift wrap (4 %), gift messages, delivery tips.

use super::order::{
    ItemSpec, PRODUCTS, SimOrder, Status, TaxSpec, build_item, mul_div_round, order_id,
};
use crate::marketplaces::{self, Market};
use ordersync_sdk::sim::FakeBuyer;
use rand::Rng;
use rand::rngs::StdRng;

/// A region of a marketplace: its name, tax rate on goods and on shipping (10⁻⁵).
#[derive(Debug, Clone, Copy)]
pub struct Region {
    pub name: &'static str,
    pub rate: i64,
    pub ship_rate: i64,
    /// Reduced rate on books, if any.
    pub reduced: Option<i64>,
}

const fn region(name: &'static str, rate: i64, ship_rate: i64, reduced: Option<i64>) -> Region {
    Region {
        name,
        rate,
        ship_rate,
        reduced,
    }
}

pub const US_REGIONS: [Region; 5] = [
    region("CA", 7_250, 0, None),
    region("NY", 8_875, 8_875, None),
    region("TX", 8_250, 8_250, None),
    region("WA", 10_250, 10_250, None),
    region("OR", 0, 0, None),
];
pub const CA_REGIONS: [Region; 3] = [
    region("ON", 13_000, 13_000, None),
    region("BC", 5_000, 5_000, None),
    region("QC", 14_975, 14_975, None),
];
pub const UK_REGION: Region = region("England", 20_000, 20_000, Some(0));
pub const DE_REGION: Region = region("Berlin", 19_000, 19_000, Some(7_000));
pub const JP_REGION: Region = region("Tokyo", 10_000, 10_000, None);

/// What happens to an order after checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    None,
    /// The whole order.
    Order,
    /// Every unit of one item.
    Item(usize),
    /// Some units of one item.
    Units(usize, u32),
}

/// One order to build.
#[derive(Debug, Clone)]
pub struct Spec {
    pub case: Option<&'static str>,
    pub market: Market,
    pub region: Region,
    pub facilitator: bool,
    pub scheme: Option<&'static str>,
    pub afn: bool,
    pub status: Status,
    pub service_level: &'static str,
    pub prime: bool,
    pub items: Vec<ItemSpec>,
    pub tip: i64,
    pub cancel: Cancel,
}

/// Minor units of `m`'s currency for `cents` of the mix's US-dollar prices.
pub fn price(m: &Market, cents: i64) -> i64 {
    match m.currency {
        "JPY" => (mul_div_round(cents, 150, 100) / 10).max(1) * 10,
        "CAD" => mul_div_round(cents, 135, 100),
        "GBP" => mul_div_round(cents, 80, 100),
        "EUR" => mul_div_round(cents, 92, 100),
        _ => cents,
    }
}

fn prefix(m: &Market, r: u64) -> u16 {
    let options: &[u16] = match m.country {
        "US" => &[111, 112, 113, 114],
        "CA" => &[701, 702],
        "GB" => &[202, 203, 204, 205, 206],
        "DE" => &[302, 303, 304, 305, 306],
        "JP" => &[249, 250, 503],
        _ => &[902],
    };
    options[(r % options.len() as u64) as usize]
}

/// A plain order of `market` with one item (cases start from it).
pub fn base(case: Option<&'static str>, market: Market, region: Region) -> Spec {
    Spec {
        case,
        market,
        region,
        facilitator: matches!(market.country, "US" | "CA"),
        scheme: None,
        afn: false,
        status: Status::Unshipped,
        service_level: "STANDARD",
        prime: false,
        items: vec![item(&market, 0, 1, 1_999)],
        tip: 0,
        cancel: Cancel::None,
    }
}

/// An item of product `k`: `quantity` units at `cents` (USD-equivalent) each.
pub fn item(m: &Market, k: usize, quantity: u32, cents: i64) -> ItemSpec {
    ItemSpec {
        product: k,
        quantity,
        price: price(m, cents) * i64::from(quantity),
        percent_off_bp: 0,
        ship_per_unit: 0,
        free_shipping: false,
        gift_wrap: 0,
        gift_message: false,
        reduced_rate: None,
    }
}

/// One seeded order's spec.
pub fn random_spec(r: &mut StdRng) -> Spec {
    let (market, region) = match r.random_range(0..100u32) {
        0..45 => (
            marketplaces::US,
            US_REGIONS[r.random_range(0..US_REGIONS.len())],
        ),
        45..53 => (
            marketplaces::CA,
            CA_REGIONS[r.random_range(0..CA_REGIONS.len())],
        ),
        53..73 => (marketplaces::UK, UK_REGION),
        73..90 => (marketplaces::DE, DE_REGION),
        _ => (marketplaces::JP, JP_REGION),
    };
    let mut s = base(None, market, region);
    s.afn = r.random_bool(0.25);
    s.prime = s.afn || r.random_bool(0.3);
    match market.country {
        "GB" => s.facilitator = r.random_bool(0.2),
        "DE" => {
            s.facilitator = r.random_bool(0.1);
            s.scheme = s
                .facilitator
                .then(|| if r.random_bool(0.5) { "UOSS" } else { "IOSS" });
        }
        "JP" => s.facilitator = r.random_bool(0.1),
        _ => {}
    }
    s.service_level = [
        "STANDARD",
        "STANDARD",
        "EXPEDITED",
        "SECOND_DAY",
        "NEXT_DAY",
    ][r.random_range(0..5)];
    s.status = match r.random_range(0..100u32) {
        0..4 => Status::Pending,
        4..5 => Status::PendingAvailability,
        5..53 => Status::Unshipped,
        53..58 => Status::PartiallyShipped,
        58..95 => Status::Shipped,
        _ => Status::Cancelled,
    };
    // Items.
    let n = match r.random_range(0..10u32) {
        0..7 => 1,
        7..9 => 2,
        _ => 3,
    };
    let ship_cents: i64 = if s.prime {
        0
    } else {
        [399, 499, 599][r.random_range(0..3)]
    };
    s.items = (0..n)
        .map(|_| {
            let k = r.random_range(0..PRODUCTS.len());
            let q = match r.random_range(0..10u32) {
                0..7 => 1,
                7..9 => 2,
                _ => 3,
            };
            let mut it = item(&market, k, q, r.random_range(500..15_000i64));
            if q > 1 && r.random_bool(0.05 * 3.0) {
                // A multi-buy price: the units together cost less than apart.
                it.price = price(&market, r.random_range(500..15_000i64)) * i64::from(q) * 9 / 10
                    + i64::from(q) / 2;
            }
            if r.random_bool(0.12) {
                it.percent_off_bp = [1_000, 1_500, 2_000][r.random_range(0..3)];
            }
            it.ship_per_unit = if ship_cents == 0 {
                0
            } else {
                price(&market, ship_cents)
            };
            it.free_shipping = it.ship_per_unit > 0 && r.random_bool(0.06);
            if r.random_bool(0.04) {
                it.gift_wrap = price(&market, 399);
                it.gift_message = r.random_bool(0.8);
            } else {
                it.gift_message = r.random_bool(0.03);
            }
            if PRODUCTS[k].1 {
                it.reduced_rate = region.reduced;
            }
            it
        })
        .collect();
    if market.country == "US" && r.random_bool(0.02) {
        s.tip = price(&market, [200, 300, 500][r.random_range(0..3)]);
    }
    // Cancellations of part of an order that is still to ship.
    if s.status == Status::Unshipped {
        match r.random_range(0..100u32) {
            0..4 if s.items.len() > 1 => s.cancel = Cancel::Item(s.items.len() - 1),
            4..7 => {
                let last = s.items.len() - 1;
                if s.items[last].quantity < 2 {
                    s.items[last].quantity = 2;
                    s.items[last].price *= 2;
                }
                let q = s.items[last].quantity;
                s.cancel = Cancel::Units(last, r.random_range(1..q));
            }
            _ => {}
        }
    }
    if s.status == Status::Cancelled {
        s.cancel = Cancel::Order;
    }
    s
}

/// From the order to its latest delivery date.
pub const DELIVERY_PROMISE_SECS: i64 = 9 * 86_400;

/// What the book hands the builder.
pub struct Meta {
    pub id: u64,
    pub seq: u64,
    pub created: i64,
    pub updated: i64,
    pub buyer: FakeBuyer,
}

/// Builds an order from its spec.
pub fn build(spec: &Spec, meta: Meta) -> SimOrder {
    let included = spec.market.taxes_included;
    let items = spec
        .items
        .iter()
        .enumerate()
        .map(|(j, s)| {
            build_item(
                meta.seq,
                j,
                s,
                spec.region.rate,
                spec.region.ship_rate,
                included,
            )
        })
        .collect();
    let mut buyer = meta.buyer;
    buyer.country_code = spec.market.country.to_string();
    buyer.province_code = spec.region.name.to_string();
    let mut o = SimOrder {
        id: meta.id,
        created: meta.created,
        updated: meta.updated,
        order_id: order_id(prefix(&spec.market, meta.seq), meta.id),
        market: spec.market,
        afn: spec.afn,
        status: Status::Unshipped,
        service_level: spec.service_level,
        prime: spec.prime,
        tax: TaxSpec {
            rate: spec.region.rate,
            ship_rate: spec.region.ship_rate,
            facilitator: spec.facilitator,
            scheme: spec.scheme,
        },
        items,
        tip: spec.tip,
        buyer,
        region: spec.region.name,
        ship_by: meta.created + 2 * 86_400,
        // A 9-day promise: every seeded order (updated within the last 7 days) is still
        // inside it, so a store synced since it was connected has seen each phone before
        // Amazon drops it (tests move the clock past it).
        deliver_by: meta.created + DELIVERY_PROMISE_SECS,
        packages: vec![],
        poison: None,
        edits: 0,
        case: spec.case,
    };
    match spec.cancel {
        Cancel::Item(j) => {
            if let Some(it) = o.items.get_mut(j) {
                it.cancelled = it.quantity;
            }
        }
        Cancel::Units(j, n) => {
            if let Some(it) = o.items.get_mut(j) {
                it.cancelled = n.min(it.quantity);
            }
        }
        Cancel::None | Cancel::Order => {}
    }
    let shipped_at = meta.created + 3_600;
    match spec.status {
        Status::Cancelled => o.cancel(),
        Status::Shipped => o.ship_all(shipped_at, meta.seq),
        Status::PartiallyShipped => o.ship_first(shipped_at, meta.seq),
        s => o.status = s,
    }
    if o.items.iter().all(|i| i.open_units() == 0) {
        o.cancel();
    }
    o
}
