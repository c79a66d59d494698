//! Shopify's orders: their content (lines, money, statuses) and filters, kept in the SDK's
//! [`OrderBook`], which does the ids, timestamps, indexes and paging. What an order is made of
//! is in `order.rs`, how its money is built in `build.rs`, the seeded mix in `mix.rs`.

use super::build::{Ids, LineDiscountSpec, Meta, build};
use super::cases::{self, product};
use super::events::{EventLog, Verb};
use super::mix::random_spec;
use super::order::{DiscountKind, DiscountValue, Fulfillment, MAX_LINES};
use super::profiles;
use ordersync_sdk::sim::{OrderBook, Page, PageQuery, SeedWindow, fake_buyer};
use rand::Rng;
use std::ops::{Deref, DerefMut};

pub use super::order::{FAR_DATE, HUGE_PRICE, Poison, SimOrder, StatusFilter};
pub use ordersync_sdk::sim::{BookOrder, Key, SortKey};

/// First id handed out; real Shopify ids exceed 2^53 like these.
pub const FIRST_ID: u64 = 820_982_911_940_000_000;
/// Line ids of `/_sim/order` orders: `BIG_LINE_IDS + seq × MAX_LINES + j`.
const BIG_LINE_IDS: u64 = 9_000_000_000_000_000_000;

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

    /// Creates `count` deterministic orders from the seeded mix, with `updated_at` spread
    /// over the 7 days before `end` (unix seconds).
    pub fn seed(&mut self, count: u64, seed: u64, end: i64) -> u64 {
        let window = SeedWindow {
            end,
            span_secs: 7 * 86_400,
            created_within_secs: 3_600,
        };
        let events = &mut self.events;
        self.book.seed(count, seed, window, |c| {
            let r = c.rng;
            let spec = random_spec(r);
            let (closed, fulfillment) = match r.random_range(0..100u32) {
                0..10 => (true, Fulfillment::Fulfilled),
                10..20 => (false, Fulfillment::Partial),
                _ => (false, Fulfillment::Unfulfilled),
            };
            let meta = Meta {
                id: c.id,
                number: 1000 + c.seq,
                created: c.created,
                updated: c.updated,
                fulfillment,
                closed,
                buyer: c.buyer,
                note: r
                    .random_bool(0.3)
                    .then(|| format!("Canary note {}: leave at the door", c.index)),
            };
            let o = build(&spec, Ids::seeded(c.seq), meta);
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
    /// page of line items): US sales tax, 10 % off every fourth line, Standard shipping.
    pub fn add_order(&mut self, lines: u32, at: i64) -> u64 {
        let lines = lines.min(MAX_LINES as u32);
        let (n, id) = self.book.next_id();
        let mut spec = cases::base("big_order", profiles::US);
        spec.lines = (0..u64::from(lines))
            .map(|j| {
                let unit = 100 + (j as i64 % 50) * 10;
                product(7, 1 + (j % 3) as u32, unit)
            })
            .collect();
        if lines > 0 {
            spec.line_discounts.push(LineDiscountSpec {
                lines: (0..lines as usize).step_by(4).collect(),
                kind: DiscountKind::Automatic,
                label: "Bulk discount",
                value: DiscountValue::Percentage(1_000),
            });
        }
        spec.shipping = vec![cases::ship("Standard", 499)];
        let ids = Ids {
            seq: n,
            lines_from: BIG_LINE_IDS.saturating_add(n.saturating_mul(MAX_LINES)),
        };
        self.insert_built(&spec, ids, n, id, at)
    }

    /// Adds the fixed order of one named case (`cases::CASES`), updated at `at`; `None` for an
    /// unknown name.
    pub fn add_case(&mut self, case: &str, at: i64) -> Option<u64> {
        let spec = cases::named(case)?;
        let (n, id) = self.book.next_id();
        Some(self.insert_built(&spec, Ids::seeded(n), n, id, at))
    }

    fn insert_built(
        &mut self,
        spec: &super::build::Spec,
        ids: Ids,
        n: u64,
        id: u64,
        at: i64,
    ) -> u64 {
        let meta = Meta {
            id,
            number: 1000 + n,
            created: at - 60,
            updated: at,
            fulfillment: Fulfillment::Unfulfilled,
            closed: false,
            buyer: fake_buyer(0xB16, n),
            note: None,
        };
        let o = build(spec, ids, meta);
        self.events.push(Verb::Confirmed, &o, o.created);
        self.book.insert(o);
        id
    }

    /// Moves the `count` least recently updated orders to `now`, changing their note and
    /// fulfillment like a merchant edit would.
    pub fn touch_oldest(&mut self, count: u64, now: i64) -> Vec<u64> {
        let events = &mut self.events;
        self.book.touch_oldest(count, now, |o| {
            o.note = Some(format!("Canary note: updated at {now}"));
            events.push(Verb::Update, o, now);
            if o.closed.is_none() {
                o.fulfillment = match o.fulfillment {
                    Fulfillment::Unfulfilled => Fulfillment::Partial,
                    _ => Fulfillment::Fulfilled,
                };
                super::parcels::sync(o, now);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_orders_balance_and_pages_do_not_overlap() {
        let mut s = Store::default();
        s.seed(500, 9, 1_800_000_000);
        assert!(s.iter().all(|o| o.totals().total > 0 && o.id > (1 << 53)));
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
