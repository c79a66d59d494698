//! The simulator's orders, indexed so a filtered, sorted page is O(page), not O(N).

use super::events::{EventLog, Verb};
use ordersync_sdk::sim::{FakeBuyer, fake_buyer};
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

/// First id handed out; real Shopify ids exceed 2^53 like these.
pub const FIRST_ID: u64 = 820_982_911_940_000_000;
/// Most line items of one order made by `add_order`.
pub const MAX_LINES: u64 = 100_000;
/// Fixed sales-tax rate of seeded orders (8.25 %), in basis points of a percent.
pub const TAX_RATE_BP: i64 = 825;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fulfillment {
    Unfulfilled,
    Partial,
    Fulfilled,
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    UpdatedAt,
    /// `PROCESSED_AT` (the GraphQL default) and `CREATED_AT`: the sim processes on creation.
    CreatedAt,
    Id,
}

impl SortKey {
    pub fn code(self) -> char {
        match self {
            SortKey::UpdatedAt => 'u',
            SortKey::CreatedAt => 'c',
            SortKey::Id => 'i',
        }
    }
    pub fn from_code(c: char) -> Option<Self> {
        match c {
            'u' => Some(SortKey::UpdatedAt),
            'c' => Some(SortKey::CreatedAt),
            'i' => Some(SortKey::Id),
            _ => None,
        }
    }
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

/// A position in one sort order: (sort value, id).
pub type Key = (i64, u64);

#[derive(Default)]
pub struct Store {
    pub orders: BTreeMap<u64, SimOrder>,
    by_updated: BTreeSet<Key>,
    by_created: BTreeSet<Key>,
    next: u64,
    /// What `events.json` lists: one event per creation, update and deletion.
    pub events: EventLog,
}

pub struct PageOut<'a> {
    pub orders: Vec<(&'a SimOrder, Key)>,
    pub has_more: bool,
}

impl Store {
    pub fn insert(&mut self, o: SimOrder) {
        self.by_updated.insert((o.updated, o.id));
        self.by_created.insert((o.created, o.id));
        self.events.push(Verb::Confirmed, &o, o.created);
        self.orders.insert(o.id, o);
    }

    /// Deletes the `count` least recently updated orders (a merchant deleting orders).
    pub fn delete_oldest(&mut self, count: u64, now: i64) -> u64 {
        let keys: Vec<Key> = self
            .by_updated
            .iter()
            .take(usize::try_from(count).unwrap_or(usize::MAX))
            .copied()
            .collect();
        for k in &keys {
            self.by_updated.remove(k);
            if let Some(o) = self.orders.remove(&k.1) {
                self.by_created.remove(&(o.created, o.id));
                self.events.push(Verb::Destroy, &o, now);
            }
        }
        keys.len() as u64
    }

    /// Adds one order with `lines` line items, updated at `at` (orders bigger than one nested
    /// page of line items).
    pub fn add_order(&mut self, lines: u32, at: i64) -> u64 {
        const BIG_LINE_IDS: u64 = 9_000_000_000_000_000_000;
        let lines = lines.min(MAX_LINES as u32);
        let n = self.next;
        self.next += 1;
        let id = FIRST_ID + n;
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
        self.insert(SimOrder {
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
        });
        id
    }

    pub fn count(&self, f: &Filter) -> usize {
        if f.updated_min.is_none() && f.updated_max.is_none() && f.status == StatusFilter::Any {
            return self.orders.len();
        }
        self.keys(SortKey::UpdatedAt, false, None, f)
            .filter(|k| self.orders.get(&k.1).is_some_and(|o| f.matches(o)))
            .count()
    }

    /// Keys of one sort order strictly after `after` (before it when reversed). With
    /// `UpdatedAt` the filter's bounds narrow the range itself, so a page costs O(page).
    fn keys<'a>(
        &'a self,
        sort: SortKey,
        reverse: bool,
        after: Option<Key>,
        f: &Filter,
    ) -> Box<dyn Iterator<Item = Key> + 'a> {
        let (mut lo, mut hi): (Bound<Key>, Bound<Key>) = (Bound::Unbounded, Bound::Unbounded);
        if sort == SortKey::UpdatedAt {
            if let Some(m) = f.updated_min {
                lo = Bound::Included((m, 0));
            }
            if let Some(m) = f.updated_max {
                hi = Bound::Included((m, u64::MAX));
            }
        }
        if let Some(a) = after {
            if reverse {
                hi = tighter_hi(hi, a);
            } else {
                lo = tighter_lo(lo, a);
            }
        }
        if !valid_range(&lo, &hi) {
            return Box::new(std::iter::empty());
        }
        let set = match sort {
            SortKey::UpdatedAt => &self.by_updated,
            SortKey::CreatedAt => &self.by_created,
            SortKey::Id => {
                let lo_id = map_bound(lo, |k| k.1);
                let hi_id = map_bound(hi, |k| k.1);
                let it = self.orders.range((lo_id, hi_id)).map(|(id, _)| (0, *id));
                return if reverse {
                    Box::new(it.rev())
                } else {
                    Box::new(it)
                };
            }
        };
        let it = set.range((lo, hi)).copied();
        if reverse {
            Box::new(it.rev())
        } else {
            Box::new(it)
        }
    }

    pub fn page(
        &self,
        sort: SortKey,
        reverse: bool,
        after: Option<Key>,
        f: &Filter,
        limit: usize,
    ) -> PageOut<'_> {
        let mut orders = Vec::with_capacity(limit.min(256));
        let mut has_more = false;
        for k in self.keys(sort, reverse, after, f) {
            let Some(o) = self.orders.get(&k.1) else {
                continue;
            };
            if !f.matches(o) {
                continue;
            }
            if orders.len() == limit {
                has_more = true;
                break;
            }
            orders.push((o, k));
        }
        PageOut { orders, has_more }
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
        let mut r = rand::rngs::StdRng::seed_from_u64(seed ^ 0x5150_0f1f);
        for i in 0..count {
            let n = self.next;
            self.next += 1;
            let id = FIRST_ID + n;
            let updated = end - r.random_range(0..7 * 86_400);
            let created = updated - r.random_range(0..3_600);
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
            self.insert(SimOrder {
                id,
                number: 1000 + n,
                created,
                updated,
                cancelled,
                closed,
                fulfillment,
                lines,
                shipping_cents,
                shipping_title,
                buyer: fake_buyer(seed, i),
                note: r
                    .random_bool(0.3)
                    .then(|| format!("Canary note {i}: leave at the door")),
            });
        }
        count
    }

    /// Moves the `count` least recently updated orders to `now`, changing their note and
    /// fulfillment like a merchant edit would.
    pub fn touch_oldest(&mut self, count: u64, now: i64) -> u64 {
        let keys: Vec<Key> = self
            .by_updated
            .iter()
            .take(usize::try_from(count).unwrap_or(usize::MAX))
            .copied()
            .collect();
        for k in &keys {
            self.by_updated.remove(k);
            if let Some(o) = self.orders.get_mut(&k.1) {
                o.updated = now;
                o.note = Some(format!("Canary note: updated at {now}"));
                self.events.push(Verb::Update, o, now);
                if o.closed.is_none() {
                    o.fulfillment = match o.fulfillment {
                        Fulfillment::Unfulfilled => Fulfillment::Partial,
                        _ => Fulfillment::Fulfilled,
                    };
                }
                self.by_updated.insert((now, o.id));
            }
        }
        keys.len() as u64
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

/// `BTreeSet::range` panics on an inverted or empty-excluded range; a query can ask for one.
fn valid_range(lo: &Bound<Key>, hi: &Bound<Key>) -> bool {
    match (lo, hi) {
        (Bound::Included(a), Bound::Included(b)) => a <= b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => a < b,
        _ => true,
    }
}

fn map_bound<T: Copy, U>(b: Bound<T>, f: impl Fn(T) -> U) -> Bound<U> {
    match b {
        Bound::Included(x) => Bound::Included(f(x)),
        Bound::Excluded(x) => Bound::Excluded(f(x)),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn tighter_lo(cur: Bound<Key>, after: Key) -> Bound<Key> {
    match cur {
        Bound::Included(k) | Bound::Excluded(k) if k > after => cur,
        _ => Bound::Excluded(after),
    }
}

fn tighter_hi(cur: Bound<Key>, before: Key) -> Bound<Key> {
    match cur {
        Bound::Included(k) | Bound::Excluded(k) if k < before => cur,
        _ => Bound::Excluded(before),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_orders_balance_and_pages_do_not_overlap() {
        let mut s = Store::default();
        s.seed(500, 9, 1_800_000_000);
        assert!(s.orders.values().all(|o| o.total() > 0 && o.id > (1 << 53)));
        let f = Filter {
            updated_min: Some(1_800_000_000 - 3 * 86_400),
            updated_max: None,
            status: StatusFilter::Any,
        };
        let mut after = None;
        let mut seen = BTreeSet::new();
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
