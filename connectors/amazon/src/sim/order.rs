//! What a simulated Amazon order is made of, and how its money is built: **per unit**, as
//! Amazon computes it. Each unit of an item has its share of the item's price (a multi-buy
//! price is spread over its units, so `unitPrice` is a rounded share), its promotion
//! discount, its shipping charge and shipping discount, and its tax on the discounted price
//! and on shipping, each rounded half-up on its own. An item's figures are the sums over its
//! units as ordered; the order's figures (what the seller receives now) are the sums over the
//! units not cancelled. Amounts are `i64` minor units of the marketplace's currency; no
//! `f64` touches them.

use crate::marketplaces::Market;
use ordersync_sdk::sim::{BookOrder, FakeBuyer};

/// Tax rates are integers in units of 10⁻⁵ (8.875 % = 8 875, 20 % = 20 000).
pub const RATE_ONE: i64 = 100_000;

/// `a × num / den` rounded half-up (`a, num ≥ 0`, `den > 0`).
pub fn mul_div_round(a: i64, num: i64, den: i64) -> i64 {
    let (a, num, den) = (i128::from(a), i128::from(num), i128::from(den.max(1)));
    i64::try_from((2 * a * num + den).div_euclid(2 * den)).unwrap_or(i64::MAX)
}

/// `amount` over `n` units: equal shares, the remainder one minor unit each to the first.
pub fn spread(amount: i64, n: u32) -> Vec<i64> {
    let n64 = i64::from(n.max(1));
    let (q, r) = (amount.div_euclid(n64), amount.rem_euclid(n64));
    (0..i64::from(n)).map(|i| q + i64::from(i < r)).collect()
}

/// The tax of one unit's `net` amount: on top (`rate × net`) or inside it
/// (`net × rate / (1 + rate)`), rounded half-up.
pub fn unit_tax(net: i64, rate: i64, included: bool) -> i64 {
    if included {
        mul_div_round(net, rate, RATE_ONE + rate)
    } else {
        mul_div_round(net, rate, RATE_ONE)
    }
}

/// An amount in minor units with its currency's decimals (`"12.50"`, `"1500"`, `"-4.99"`).
pub fn amount_text(minor: i64, dp: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let a = minor.unsigned_abs();
    if dp == 0 {
        return format!("{sign}{a}");
    }
    let scale = 10u64.pow(dp);
    format!(
        "{sign}{}.{:0width$}",
        a / scale,
        a % scale,
        width = dp as usize
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    PendingAvailability,
    Pending,
    Unshipped,
    PartiallyShipped,
    Shipped,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::PendingAvailability => "PENDING_AVAILABILITY",
            Status::Pending => "PENDING",
            Status::Unshipped => "UNSHIPPED",
            Status::PartiallyShipped => "PARTIALLY_SHIPPED",
            Status::Shipped => "SHIPPED",
            Status::Cancelled => "CANCELLED",
        }
    }

    /// Amazon prices an order once payment authorization begins.
    pub fn priced(self) -> bool {
        !matches!(self, Status::Pending | Status::PendingAvailability)
    }

    /// Statuses in which the delivery address is shown (spec: Unshipped, PartiallyShipped,
    /// Shipped).
    pub fn shows_address(self) -> bool {
        matches!(
            self,
            Status::Unshipped | Status::PartiallyShipped | Status::Shipped
        )
    }
}

/// One unit's money.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unit {
    pub price: i64,
    pub discount: i64,
    pub ship: i64,
    pub ship_discount: i64,
    pub tax: i64,
    pub ship_tax: i64,
    /// Gift wrap is charged per unit wrapped.
    pub gift_wrap: i64,
    pub gift_wrap_tax: i64,
}

/// The tax treatment of an order: one rate for goods and one for shipping (0 = untaxed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxSpec {
    pub rate: i64,
    pub ship_rate: i64,
    /// Amazon collects and remits it (`MARKETPLACE_FACILITATOR`).
    pub facilitator: bool,
    /// EU VAT scheme of a facilitated order (`UOSS`, `IOSS`).
    pub scheme: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct SimItem {
    /// 14 digits.
    pub item_id: String,
    pub asin: String,
    pub sku: String,
    pub title: &'static str,
    pub quantity: u32,
    /// The last `cancelled` units are cancelled.
    pub cancelled: u32,
    pub shipped: u32,
    /// `unitPrice`: one unit's share of the price, rounded.
    pub unit_price: i64,
    /// Per unit, `quantity` of them.
    pub units: Vec<Unit>,
    /// A reduced rate for this item (books, food), else the order's.
    pub rate: i64,
    pub gift_message: Option<String>,
    pub promotions: Vec<String>,
}

impl SimItem {
    pub fn open_units(&self) -> u32 {
        self.quantity.saturating_sub(self.cancelled)
    }

    pub fn unshipped(&self) -> u32 {
        self.open_units().saturating_sub(self.shipped)
    }

    /// Sums of the first `n` units (`n = quantity`: as ordered; `open_units`: now).
    pub fn sum(&self, n: u32) -> Unit {
        let mut s = Unit::default();
        for u in self.units.iter().take(n as usize) {
            s.price += u.price;
            s.discount += u.discount;
            s.ship += u.ship;
            s.ship_discount += u.ship_discount;
            s.tax += u.tax;
            s.ship_tax += u.ship_tax;
            s.gift_wrap += u.gift_wrap;
            s.gift_wrap_tax += u.gift_wrap_tax;
        }
        s
    }

    pub fn gift_wrapped(&self) -> bool {
        self.units.iter().any(|u| u.gift_wrap > 0)
    }
}

#[derive(Debug, Clone)]
pub struct Package {
    pub reference: String,
    pub carrier: &'static str,
    pub service: &'static str,
    pub tracking: String,
    pub created: i64,
    pub shipped: i64,
    pub delivered: bool,
    /// (item index, units)
    pub items: Vec<(usize, u32)>,
}

/// What `/_sim/poison` breaks in an order's rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Poison {
    /// An item's price in another currency than the marketplace's.
    Unmappable,
}

#[derive(Debug, Clone)]
pub struct SimOrder {
    pub id: u64,
    pub created: i64,
    pub updated: i64,
    /// `3-7-7` digits, like `902-1845936-5435065`.
    pub order_id: String,
    pub market: Market,
    pub afn: bool,
    pub status: Status,
    pub service_level: &'static str,
    pub prime: bool,
    pub tax: TaxSpec,
    pub items: Vec<SimItem>,
    /// A delivery tip charged apart (`DELIVERY_TIP`, FINALIZED).
    pub tip: i64,
    pub buyer: FakeBuyer,
    pub region: &'static str,
    pub ship_by: i64,
    pub deliver_by: i64,
    pub packages: Vec<Package>,
    pub poison: Option<Poison>,
    /// Seller edits since creation (`/_sim/update`).
    pub edits: u32,
    /// Named case it was built from (`/_sim/case`), for tests.
    pub case: Option<&'static str>,
}

impl BookOrder for SimOrder {
    fn id(&self) -> u64 {
        self.id
    }
    fn created(&self) -> i64 {
        self.created
    }
    fn updated(&self) -> i64 {
        self.updated
    }
    fn set_updated(&mut self, at: i64) {
        self.updated = at;
    }
}

/// An item to build: price as ordered, and the promotions on it.
#[derive(Debug, Clone)]
pub struct ItemSpec {
    pub product: usize,
    pub quantity: u32,
    /// The item's price for all units (a multi-buy price need not divide by the quantity).
    pub price: i64,
    /// A percentage off each unit, in basis points (10 % = 1 000).
    pub percent_off_bp: i64,
    /// Shipping charged per unit.
    pub ship_per_unit: i64,
    /// Free-shipping promotion: each unit's shipping discounted in full.
    pub free_shipping: bool,
    /// Gift wrap per unit.
    pub gift_wrap: i64,
    pub gift_message: bool,
    pub reduced_rate: Option<i64>,
}

/// The catalogue: title, and whether a reduced tax rate applies (books).
pub const PRODUCTS: [(&str, bool); 8] = [
    ("Stainless Steel Water Bottle 750ml", false),
    ("Trail Running Socks (3 pairs)", false),
    ("USB-C Charging Cable 2m", false),
    ("Ceramic Coffee Mug", false),
    ("Paperback Novel", true),
    ("LED Desk Lamp", false),
    ("Non-slip Yoga Mat", false),
    ("Family Board Game", false),
];

fn asin(k: usize) -> String {
    format!("B0{:08}", 40_000_000 + k * 7_919)
}

/// Builds an item's units from its spec (item `j` of order `seq`).
pub fn build_item(
    seq: u64,
    j: usize,
    s: &ItemSpec,
    order_rate: i64,
    ship_rate: i64,
    included: bool,
) -> SimItem {
    let k = s.product % PRODUCTS.len();
    let (title, _) = PRODUCTS[k];
    let q = s.quantity.max(1);
    let rate = s.reduced_rate.unwrap_or(order_rate);
    let prices = spread(s.price, q);
    let mut units = Vec::with_capacity(q as usize);
    for p in prices {
        let discount = mul_div_round(p, s.percent_off_bp, 10_000);
        let ship = s.ship_per_unit;
        let ship_discount = if s.free_shipping { ship } else { 0 };
        units.push(Unit {
            price: p,
            discount,
            ship,
            ship_discount,
            tax: unit_tax(p - discount, rate, included),
            ship_tax: unit_tax(ship - ship_discount, ship_rate, included),
            gift_wrap: s.gift_wrap,
            gift_wrap_tax: unit_tax(s.gift_wrap, rate, included),
        });
    }
    let mut promotions = Vec::new();
    if s.percent_off_bp > 0 {
        promotions.push(format!("PCT-{}-OFF", s.percent_off_bp / 100));
    }
    if s.free_shipping {
        promotions.push("FREE-SHIPPING-PROMO".to_string());
    }
    SimItem {
        item_id: format!(
            "{:014}",
            20_000_000_000_000
                + seq.saturating_mul(100).saturating_add(j as u64) % 10_000_000_000_000
        ),
        asin: asin(k),
        sku: format!("SKU-{:03}-{}", k, ["A", "B", "C"][j % 3]),
        title,
        quantity: q,
        cancelled: 0,
        shipped: 0,
        unit_price: mul_div_round(s.price, 1, i64::from(q)),
        units,
        rate,
        gift_message: s
            .gift_message
            .then(|| format!("Canary gift note {seq}-{j}: enjoy!")),
        promotions,
    }
}

/// A `3-7-7` order id, unique per book id (the last group is the id itself).
pub fn order_id(prefix: u16, id: u64) -> String {
    let mid = id.wrapping_mul(2_654_435_761).wrapping_add(1_234_567) % 10_000_000;
    format!("{prefix:03}-{mid:07}-{:07}", id % 10_000_000)
}

impl SimOrder {
    pub fn dp(&self) -> u32 {
        ordersync_sdk::money::minor_units(self.market.currency)
    }

    pub fn included(&self) -> bool {
        self.market.taxes_included
    }

    /// What the seller receives now: the units still on the order.
    pub fn current_total(&self) -> i64 {
        let mut t = 0;
        for it in &self.items {
            let n = it.open_units();
            let s = it.sum(n);
            t += s.price - s.discount + s.ship - s.ship_discount + s.gift_wrap;
            if !self.included() {
                t += s.tax + s.ship_tax + s.gift_wrap_tax;
            }
        }
        if self.items.iter().any(|i| i.open_units() > 0) {
            t += self.tip;
        }
        t
    }

    /// Units a fulfillment target should ship: merchant-fulfilled goods of released orders
    /// not yet `Shipped` (the connector maps it as fulfilled: nothing left to send), at the
    /// quantity still on the order (AFN orders are shipped by Amazon).
    pub fn shippable(&self) -> Vec<(String, u64)> {
        if self.afn
            || !self.status.shows_address()
            || self.status == Status::Shipped
            || self.poison.is_some()
        {
            return vec![];
        }
        self.items
            .iter()
            .filter(|i| i.open_units() > 0)
            .map(|i| (i.item_id.clone(), u64::from(i.open_units())))
            .collect()
    }

    /// Tracking numbers of the packages `includedData=PACKAGES` shows (none for FBA).
    pub fn tracking_numbers(&self) -> Vec<String> {
        if self.afn || self.poison.is_some() {
            return vec![];
        }
        self.packages.iter().map(|p| p.tracking.clone()).collect()
    }

    /// Cancels the whole order.
    pub fn cancel(&mut self) {
        self.status = Status::Cancelled;
        for it in &mut self.items {
            it.cancelled = it.quantity;
            it.shipped = 0;
        }
        self.packages.clear();
    }

    /// Ships every open unit (MFN: in one package).
    pub fn ship_all(&mut self, at: i64, seq: u64) {
        let mut pkg = vec![];
        for (j, it) in self.items.iter_mut().enumerate() {
            let n = it.unshipped();
            if n > 0 {
                pkg.push((j, n));
                it.shipped += n;
            }
        }
        if !pkg.is_empty() && !self.afn {
            let p = package(self, seq, at, pkg);
            self.packages.push(p);
        }
        self.status = Status::Shipped;
    }

    /// Ships part of the order (MFN: one package): the first item, or one unit of a single
    /// item, leaving the rest.
    pub fn ship_first(&mut self, at: i64, seq: u64) {
        let several = self.items.len() > 1;
        let Some(first) = self.items.first_mut() else {
            return;
        };
        let n = if several {
            first.unshipped()
        } else {
            first.unshipped().min(1)
        };
        first.shipped += n;
        if !self.afn && n > 0 {
            let p = package(self, seq, at, vec![(0, n)]);
            self.packages.push(p);
        }
        self.status = if self.items.iter().all(|i| i.unshipped() == 0) {
            Status::Shipped
        } else {
            Status::PartiallyShipped
        };
    }
}

fn package(o: &SimOrder, seq: u64, at: i64, items: Vec<(usize, u32)>) -> Package {
    const CARRIERS: [(&str, &str); 4] = [
        ("UPS", "UPS Ground"),
        ("USPS", "USPS Priority Mail"),
        ("Royal Mail", "Royal Mail Tracked 48"),
        ("DHL", "DHL Paket"),
    ];
    let (carrier, service) = match o.market.country {
        "GB" => CARRIERS[2],
        "DE" => CARRIERS[3],
        _ => CARRIERS[(seq % 2) as usize],
    };
    let n = o.packages.len();
    Package {
        reference: format!("PKG-{}-{n}", o.id),
        carrier,
        service,
        tracking: format!("1Z{:016}", o.id.wrapping_mul(97).wrapping_add(n as u64)),
        created: at,
        shipped: at,
        delivered: false,
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_unit_arithmetic() {
        assert_eq!(spread(1000, 3), vec![334, 333, 333]);
        assert_eq!(spread(2500, 2), vec![1250, 1250]);
        // 8.875 % on 19.99 = 1.774 → 1.77; 20 % VAT inside 23.99 = 3.998 → 4.00.
        assert_eq!(unit_tax(1999, 8_875, false), 177);
        assert_eq!(unit_tax(2399, 20_000, true), 400);
        assert_eq!(amount_text(1500, 0), "1500");
        assert_eq!(amount_text(-499, 2), "-4.99");
        assert_eq!(amount_text(5, 2), "0.05");
        assert_eq!(order_id(114, 42).len(), 19);
        assert_ne!(order_id(114, 42), order_id(114, 43));
    }

    #[test]
    fn a_multi_buy_item_has_a_rounded_unit_price() {
        let s = ItemSpec {
            product: 1,
            quantity: 3,
            price: 1000,
            percent_off_bp: 1_000,
            ship_per_unit: 399,
            free_shipping: true,
            gift_wrap: 0,
            gift_message: false,
            reduced_rate: None,
        };
        let it = build_item(1, 0, &s, 8_250, 8_250, false);
        assert_eq!(it.unit_price, 333);
        let all = it.sum(3);
        // 10 % of each unit (3.34, 3.33, 3.33), each rounded: 0.33 three times.
        assert_eq!((all.price, all.discount), (1000, 99));
        assert_eq!((all.ship, all.ship_discount, all.ship_tax), (1197, 1197, 0));
        assert_eq!(it.promotions.len(), 2);
    }
}
