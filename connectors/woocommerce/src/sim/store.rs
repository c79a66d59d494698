//! The store's orders in the SDK's [`OrderBook`] (ids, seeded RNG, timestamps, touching), and
//! the merchant's actions on them: seeding, edits, trashing, poisoned orders, named cases.

use super::build::{Meta, Spec, build};
use super::cases;
use super::mix::random_spec;
use super::order::{Poison, SimOrder, Status};
use ordersync_sdk::sim::{OrderBook, SeedWindow, fake_buyer};
use rand::Rng;

/// WooCommerce's order ids are small integers (posts or HPOS rows).
pub const FIRST_ID: u64 = 1001;
/// Order items are numbered store-wide.
const FIRST_ITEM: u64 = 20_000;
/// Item ids one order may use (lines, shipping, fees, coupons, tax lines, refunds).
const ITEMS_PER_ORDER: u64 = 64;

pub struct Store {
    pub book: OrderBook<SimOrder>,
}

impl Default for Store {
    fn default() -> Self {
        Self {
            book: OrderBook::new(FIRST_ID),
        }
    }
}

fn first_item(id: u64) -> u64 {
    FIRST_ITEM + (id - FIRST_ID.min(id)) * ITEMS_PER_ORDER
}

impl Store {
    /// `count` deterministic orders, `date_modified` spread over the 7 days before `end`.
    pub fn seed(&mut self, count: u64, seed: u64, end: i64) -> u64 {
        let window = SeedWindow {
            end,
            span_secs: 7 * 86_400,
            created_within_secs: 3_600,
        };
        self.book.seed(count, seed, window, |c| {
            let spec = random_spec(c.rng);
            let note = c
                .rng
                .random_bool(0.25)
                .then(|| format!("Canary note {}: please ring twice", c.index));
            build(
                &spec,
                Meta {
                    id: c.id,
                    first_item: first_item(c.id),
                    created: c.created,
                    updated: c.updated,
                    buyer: c.buyer,
                    note,
                    poison: None,
                },
            )
        })
    }

    fn add(&mut self, spec: &Spec, at: i64, poison: Option<Poison>) -> u64 {
        let (seq, id) = self.book.next_id();
        let o = build(
            spec,
            Meta {
                id,
                first_item: first_item(id),
                created: at - 300,
                updated: at,
                buyer: fake_buyer(0xC0FFEE, seq),
                note: None,
                poison,
            },
        );
        self.book.insert(o);
        id
    }

    /// One order of a named case modified at `at`; `None` for an unknown name.
    pub fn case(&mut self, name: &str, at: i64) -> Option<u64> {
        let spec = cases::named(name)?;
        Some(self.add(&spec, at, None))
    }

    /// `count` orders of the example case whose rendering carries `kind`, modified in the
    /// seconds before `end`.
    pub fn poison(&mut self, kind: Poison, count: u64, end: i64) -> Vec<u64> {
        let Some(spec) = cases::named("example") else {
            return vec![];
        };
        (0..count)
            .map(|i| self.add(&spec, end - i64::try_from(i).unwrap_or(0), Some(kind)))
            .collect()
    }

    /// A merchant working through the oldest orders: each moves on a status (pending and
    /// on-hold get paid, processing completes) and is modified `now`.
    pub fn touch_oldest(&mut self, count: u64, now: i64) -> Vec<u64> {
        self.book.touch_oldest(count, now, |o| advance(o, now))
    }

    /// Modifies the given orders `now` (as `touch_oldest` does); the ids that exist.
    pub fn touch(&mut self, ids: &[u64], now: i64) -> Vec<u64> {
        ids.iter()
            .copied()
            .filter(|id| self.book.touch(*id, now, |o| advance(o, now)).is_some())
            .collect()
    }

    /// Moves the `count` least recently modified orders that are not in the trash there.
    pub fn trash(&mut self, count: u64, now: i64) -> Vec<u64> {
        let ids: Vec<u64> = self
            .book
            .iter()
            .filter(|o| o.status != Status::Trash)
            .map(|o| (o.updated, o.id))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .take(usize::try_from(count).unwrap_or(usize::MAX))
            .map(|k| k.1)
            .collect();
        for id in &ids {
            self.book.touch(*id, now, |o| {
                o.status = Status::Trash;
                o.edits += 1;
            });
        }
        ids
    }
}

fn advance(o: &mut SimOrder, now: i64) {
    o.edits += 1;
    match o.status {
        Status::Pending | Status::OnHold => {
            o.status = Status::Processing;
            o.paid = Some(now);
            o.payment_method = ("stripe", "Credit Card (Stripe)");
        }
        Status::Processing => {
            o.status = Status::Completed;
            o.completed = Some(now);
        }
        _ => {}
    }
}
