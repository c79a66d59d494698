//! The seller's orders in the SDK's [`OrderBook`] (ids, timestamps, indexes, paging), plus an
//! index by Amazon order id for `getOrder`.

use super::mix::{self, Meta};
use super::order::{Poison, SimOrder, Status};
use ordersync_sdk::sim::{OrderBook, SeedWindow, fake_buyer};
use std::collections::HashMap;
use std::ops::Deref;

pub struct Store {
    book: OrderBook<SimOrder>,
    by_order_id: HashMap<String, u64>,
}

impl Default for Store {
    fn default() -> Self {
        Self {
            book: OrderBook::new(1),
            by_order_id: HashMap::new(),
        }
    }
}

impl Deref for Store {
    type Target = OrderBook<SimOrder>;
    fn deref(&self) -> &Self::Target {
        &self.book
    }
}

impl Store {
    pub fn find(&self, order_id: &str) -> Option<&SimOrder> {
        self.by_order_id
            .get(order_id)
            .and_then(|id| self.book.get(*id))
    }

    fn insert(&mut self, o: SimOrder) {
        self.by_order_id.insert(o.order_id.clone(), o.id);
        self.book.insert(o);
    }

    /// `count` orders of the seeded mix, updated in the 7 days before `end`.
    pub fn seed(&mut self, count: u64, seed: u64, end: i64) -> Vec<u64> {
        let window = SeedWindow {
            end,
            span_secs: 7 * 86_400,
            created_within_secs: 3_600,
        };
        let mut ids = Vec::new();
        self.book.seed(count, seed, window, |c| {
            let spec = mix::random_spec(c.rng);
            ids.push(c.id);
            mix::build(
                &spec,
                Meta {
                    id: c.id,
                    seq: c.seq,
                    created: c.created,
                    updated: c.updated,
                    buyer: c.buyer,
                },
            )
        });
        for id in &ids {
            if let Some(o) = self.book.get(*id) {
                self.by_order_id.insert(o.order_id.clone(), o.id);
            }
        }
        ids
    }

    /// A seed for orders made on demand (`/_sim/poison`), distinct from earlier batches.
    pub fn next_seed(&self) -> u64 {
        0x0BAD_5EED ^ (self.book.len() as u64).wrapping_mul(7_919)
    }

    /// Seeded-like orders updated in the seconds before `end`, with `poison` in their
    /// rendering; returns their Amazon ids.
    pub fn poison(&mut self, kind: Poison, count: u64, seed: u64, end: i64) -> Vec<String> {
        let ids = self.seed(count, seed, end);
        let mut out = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            self.book.edit(*id, |o| {
                o.updated = end - i64::try_from(i).unwrap_or(0);
                o.created = o.updated - 60;
                o.poison = Some(kind);
                // Priced, so the poisoned price is shown.
                if !o.status.priced() {
                    o.status = Status::Unshipped;
                }
                out.push(o.order_id.clone());
            });
        }
        out
    }

    /// One named case (`mix::CASES`) updated at `at`; `None` for an unknown name.
    pub fn add_case(&mut self, name: &str, at: i64) -> Option<String> {
        let spec = super::cases::case(name)?;
        let (seq, id) = self.book.next_id();
        let o = mix::build(
            &spec,
            Meta {
                id,
                seq,
                created: at - 600,
                updated: at,
                buyer: fake_buyer(0xA3A2, seq),
            },
        );
        let order_id = o.order_id.clone();
        self.insert(o);
        Some(order_id)
    }

    /// Moves the `count` least recently updated orders to `now` and moves them along the
    /// way a seller and Amazon would: pending orders get priced, unshipped ones ship.
    pub fn touch_oldest(&mut self, count: u64, now: i64) -> Vec<String> {
        let mut out = Vec::new();
        self.book.touch_oldest(count, now, |o| {
            o.edits += 1;
            let seq = o.id;
            match o.status {
                Status::PendingAvailability => o.status = Status::Pending,
                Status::Pending => o.status = Status::Unshipped,
                Status::Unshipped | Status::PartiallyShipped => o.ship_all(now, seq),
                Status::Shipped | Status::Cancelled => {}
            }
            out.push(o.order_id.clone());
        });
        out
    }

    /// Changes one order by its Amazon id (tests: let a pending order be priced, ship one).
    pub fn edit(&mut self, order_id: &str, now: i64, f: impl FnOnce(&mut SimOrder)) -> bool {
        let Some(id) = self.by_order_id.get(order_id).copied() else {
            return false;
        };
        self.book.touch(id, now, f).is_some()
    }
}
