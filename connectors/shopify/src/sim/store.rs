//! Shopify's orders: their content (lines, money, statuses) and filters, kept in the SDK's
//! [`OrderBook`], which does the ids, timestamps, indexes and paging.

use super::events::{EventLog, Verb};
use ordersync_sdk::sim::{
    BookOrder, FakeBuyer, OrderBook, Page, PageQuery, SeedWindow, fake_buyer,
};
use rand::Rng;
use std::ops::{Deref, DerefMut};

pub use ordersync_sdk::sim::{Key, SortKey};

/// First id handed out; real Shopify ids exceed 2^53 like these.
pub const FIRST_ID: u64 = 820_982_911_940_000_000;
/// Most line items one simulated order may have.
pub const MAX_LINES: u64 = 100_000;
/// Fixed sales-tax rate of seeded orders (8.25 %), in basis points of a percent.
pub const TAX_RATE_BP: i64 = 825;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fulfillment {
    Unfulfilled,
    Partial,
    Fulfilled,
}

/// A defect `/_sim/poison` plants in an order's rendering, to prove one bad order cannot stop
/// a worker (the store keeps sane values; only the wire shape is poisoned).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Poison {
    /// No total price: the mapper must reject the order.
    Unmappable,
    /// The first line's unit price is [`HUGE_PRICE`] with quantity 2, which overflows
    /// `rust_decimal` when multiplied.
    HugePrice,
    /// `createdAt`/`processedAt` are [`FAR_DATE`]: valid RFC 3339, but date arithmetic on it
    /// (a retention window) overflows.
    FarDate,
}

/// 7e28, close to `rust_decimal`'s maximum (~7.9e28).
pub const HUGE_PRICE: &str = "70000000000000000000000000000";
pub const FAR_DATE: &str = "9999-12-30T00:00:00Z";

#[derive(Debug, Clone)]
pub struct SimLine {
    pub id: u64,
    pub sku: String,
    pub title: &'static str,
    pub quantity: u32,
    pub unit_cents: i64,
    pub discount_cents: i64,
    pub tax_cents: i64,
}

#[derive(Debug, Clone)]
pub struct SimOrder {
    pub id: u64,
    pub number: u64,
    /// Unix seconds (Shopify timestamps have second precision).
    pub created: i64,
    pub updated: i64,
    pub cancelled: Option<i64>,
    pub closed: Option<i64>,
    pub fulfillment: Fulfillment,
    pub lines: Vec<SimLine>,
    pub shipping_cents: i64,
    pub shipping_title: &'static str,
    pub buyer: FakeBuyer,
    pub note: Option<String>,
    pub poison: Option<Poison>,
}

impl SimOrder {
    pub fn subtotal_gross(&self) -> i64 {
        self.lines
            .iter()
            .map(|l| l.unit_cents * i64::from(l.quantity))
            .sum()
    }
    pub fn discounts(&self) -> i64 {
        self.lines.iter().map(|l| l.discount_cents).sum()
    }
    pub fn tax(&self) -> i64 {
        self.lines.iter().map(|l| l.tax_cents).sum()
    }
    /// Balances exactly: gross + shipping − discounts + tax.
    pub fn total(&self) -> i64 {
        self.subtotal_gross() + self.shipping_cents - self.discounts() + self.tax()
    }
    pub fn status_matches(&self, s: StatusFilter) -> bool {
        match s {
            StatusFilter::Any => true,
            StatusFilter::Open => self.closed.is_none() && self.cancelled.is_none(),
            StatusFilter::Closed => self.closed.is_some(),
            StatusFilter::Cancelled => self.cancelled.is_some(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Open,
    Closed,
    Cancelled,
    Any,
}

/// Inclusive `updated_at` bounds (unix seconds) and a status filter.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    pub updated_min: Option<i64>,
    pub updated_max: Option<i64>,
    pub status: StatusFilter,
}

impl Filter {
    pub fn matches(&self, o: &SimOrder) -> bool {
        self.updated_min.is_none_or(|m| o.updated >= m)
            && self.updated_max.is_none_or(|m| o.updated <= m)
            && o.status_matches(self.status)
    }
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

pub type PageOut<'a> = Page<'a, SimOrder>;

pub struct Store {
    book: OrderBook<SimOrder>,
    /// What `events.json` lists: one event per creation, update and deletion.
    pub events: EventLog,
}

impl Default for Store {
    fn default() -> Self {
        Self {
            book: OrderBook::new(FIRST_ID),
            events: EventLog::default(),
        }
    }
}

impl Deref for Store {
    type Target = OrderBook<SimOrder>;
    fn deref(&self) -> &Self::Target {
        &self.book
    }
}

impl DerefMut for Store {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.book
    }
}

impl Store {
    pub fn count(&self, f: &Filter) -> usize {
        if f.updated_min.is_none() && f.updated_max.is_none() && f.status == StatusFilter::Any {
            return self.book.len();
        }
        self.book
            .count(f.updated_min, f.updated_max, |o| f.matches(o))
    }

    pub fn page(
        &self,
        sort: SortKey,
        reverse: bool,
        after: Option<Key>,
        f: &Filter,
        limit: usize,
    ) -> PageOut<'_> {
        let q = PageQuery {
            sort,
            reverse,
            after,
            updated_min: f.updated_min,
            updated_max: f.updated_max,
        };
        self.book.page(&q, limit, |o| f.matches(o))
    }

    /// Creates `count` deterministic orders with `updated_at` spread over the 7 days before
    /// `end` (unix seconds).
    pub fn seed(&mut self, count: u64, seed: u64, end: i64) -> u64 {
        const TITLES: [&str; 6] = [
            "Yellow Mug",
            "Trail Socks",
            "Desk Lamp",
            "Notebook A5",
            "Water Bottle",
            "Wool Scarf",
        ];
        const SHIPPING: [(&str, i64); 3] =
            [("Free Shipping", 0), ("Standard", 499), ("Express", 999)];
        let window = SeedWindow {
            end,
            span_secs: 7 * 86_400,
            created_within_secs: 3_600,
        };
        let events = &mut self.events;
        self.book.seed(count, seed, window, |c| {
            let (id, updated, r) = (c.id, c.updated, c.rng);
            let nlines = r.random_range(1..=4u64);
            let lines = (0..nlines)
                .map(|j| {
                    let quantity = r.random_range(1..=3u32);
                    let unit_cents = r.random_range(500..20_000i64);
                    let gross = unit_cents * i64::from(quantity);
                    let discount_cents = if r.random_bool(0.25) { gross / 10 } else { 0 };
                    let net = gross - discount_cents;
                    LineItemSeed {
                        quantity,
                        unit_cents,
                        discount_cents,
                    }
                    .into_line(
                        id * 10 + j,
                        net,
                        TITLES[r.random_range(0..TITLES.len())],
                    )
                })
                .collect();
            let (shipping_title, shipping_cents) = SHIPPING[r.random_range(0..SHIPPING.len())];
            let roll = r.random_range(0..100u32);
            let (closed, cancelled, fulfillment) = match roll {
                0..5 => (Some(updated), Some(updated), Fulfillment::Unfulfilled),
                5..15 => (Some(updated), None, Fulfillment::Fulfilled),
                15..25 => (None, None, Fulfillment::Partial),
                _ => (None, None, Fulfillment::Unfulfilled),
            };
            let o = SimOrder {
                id,
                number: 1000 + c.seq,
                created: c.created,
                updated,
                cancelled,
                closed,
                fulfillment,
                lines,
                shipping_cents,
                shipping_title,
                buyer: c.buyer,
                note: r
                    .random_bool(0.3)
                    .then(|| format!("Canary note {}: leave at the door", c.index)),
                poison: None,
            };
            events.push(Verb::Confirmed, &o, o.created);
            o
        })
    }

    /// Creates `count` seeded-like orders updated in the seconds before `end`, carrying
    /// `poison` in their rendering; returns their ids.
    pub fn poison(&mut self, kind: Poison, count: u64, end: i64) -> Vec<u64> {
        let first = self.book.next_id().1;
        self.book.remove(first);
        let seed = first;
        self.seed(count, seed, end);
        let ids: Vec<u64> = (0..count)
            .filter_map(|i| first.checked_add(i + 1))
            .collect();
        for (i, id) in ids.iter().enumerate() {
            self.book.edit(*id, |o| {
                o.updated = end - i64::try_from(i).unwrap_or(0);
                o.created = o.updated - 60;
                o.poison = Some(kind);
                if kind == Poison::HugePrice
                    && let Some(l) = o.lines.first_mut()
                {
                    l.quantity = 2;
                }
            });
        }
        ids
    }

    /// Deletes the `count` least recently updated orders (a merchant deleting orders).
    pub fn delete_oldest(&mut self, count: u64, now: i64) -> u64 {
        let ids: Vec<u64> = self
            .book
            .oldest(usize::try_from(count).unwrap_or(usize::MAX))
            .collect();
        for id in &ids {
            if let Some(o) = self.book.remove(*id) {
                self.events.push(Verb::Destroy, &o, now);
            }
        }
        ids.len() as u64
    }

    /// Adds one order with `lines` line items, updated at `at` (orders bigger than one nested
    /// page of line items).
    pub fn add_order(&mut self, lines: u32, at: i64) -> u64 {
        const BIG_LINE_IDS: u64 = 9_000_000_000_000_000_000;
        let lines = lines.min(MAX_LINES as u32);
        let (n, id) = self.book.next_id();
        let lines = (0..u64::from(lines))
            .map(|j| {
                let unit_cents = 100 + (j as i64 % 50) * 10;
                let discount_cents = if j % 4 == 0 { unit_cents / 10 } else { 0 };
                LineItemSeed {
                    quantity: 1 + (j % 3) as u32,
                    unit_cents,
                    discount_cents,
                }
                .into_line(
                    BIG_LINE_IDS + n.saturating_mul(MAX_LINES) + j,
                    unit_cents * (1 + (j % 3) as i64) - discount_cents,
                    "Sample Part",
                )
            })
            .collect();
        let o = SimOrder {
            id,
            number: 1000 + n,
            created: at - 60,
            updated: at,
            cancelled: None,
            closed: None,
            fulfillment: Fulfillment::Unfulfilled,
            lines,
            shipping_cents: 499,
            shipping_title: "Standard",
            buyer: fake_buyer(0xB16, n),
            note: None,
            poison: None,
        };
        self.events.push(Verb::Confirmed, &o, o.created);
        self.book.insert(o);
        id
    }

    /// Moves the `count` least recently updated orders to `now`, changing their note and
    /// fulfillment like a merchant edit would.
    pub fn touch_oldest(&mut self, count: u64, now: i64) -> u64 {
        let events = &mut self.events;
        self.book.touch_oldest(count, now, |o| {
            o.note = Some(format!("Canary note: updated at {now}"));
            events.push(Verb::Update, o, now);
            if o.closed.is_none() {
                o.fulfillment = match o.fulfillment {
                    Fulfillment::Unfulfilled => Fulfillment::Partial,
                    _ => Fulfillment::Fulfilled,
                };
            }
        })
    }
}

struct LineItemSeed {
    quantity: u32,
    unit_cents: i64,
    discount_cents: i64,
}

impl LineItemSeed {
    fn into_line(self, id: u64, net: i64, title: &'static str) -> SimLine {
        SimLine {
            id,
            sku: format!("SKU-{}", id % 9973),
            title,
            quantity: self.quantity,
            unit_cents: self.unit_cents,
            discount_cents: self.discount_cents,
            // Half-up rounding of net × 8.25 %.
            tax_cents: (net * TAX_RATE_BP + 5_000) / 10_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_orders_balance_and_pages_do_not_overlap() {
        let mut s = Store::default();
        s.seed(500, 9, 1_800_000_000);
        assert!(s.iter().all(|o| o.total() > 0 && o.id > (1 << 53)));
        let f = Filter {
            updated_min: Some(1_800_000_000 - 3 * 86_400),
            updated_max: None,
            status: StatusFilter::Any,
        };
        let mut after = None;
        let mut seen = std::collections::BTreeSet::new();
        loop {
            let p = s.page(SortKey::UpdatedAt, false, after, &f, 37);
            for (o, _) in &p.orders {
                assert!(seen.insert(o.id) && f.matches(o));
            }
            after = p.orders.last().map(|x| x.1);
            if !p.has_more {
                break;
            }
        }
        assert_eq!(seen.len(), s.count(&f));
        assert!(seen.len() < 500 && !seen.is_empty());
    }
}
