//! The simulated seller's orders, kept in the SDK's [`OrderBook`] with times in
//! **milliseconds** (eBay's precision), and the searches getOrders makes over them.

use super::filter::{DateFilter, Filter};
use super::mix;
use super::model::{Cancel, Poison, RefundPart, SimOrder, SimRefund};
use ordersync_sdk::sim::{OrderBook, PageQuery, SeedWindow, SortKey};
use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

/// First book id: order ids start at `27-00000-00000`.
pub const FIRST_ID: u64 = 270_000_000_000;
const DAY_MS: i64 = 86_400_000;
/// getOrders never returns orders older than this.
const REACH_MS: i64 = 730 * DAY_MS;
/// getOrders without a date filter: orders created in the last 90 days.
const DEFAULT_MS: i64 = 90 * DAY_MS;

pub struct Store {
    book: OrderBook<SimOrder>,
}

impl Default for Store {
    fn default() -> Self {
        Self {
            book: OrderBook::new(FIRST_ID),
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
    /// `count` seeded orders, last modified in the 7 days before `end` (ms), created up to
    /// an hour before that.
    pub fn seed(&mut self, count: u64, seed: u64, end: i64) -> u64 {
        let window = SeedWindow {
            end,
            span_secs: 7 * DAY_MS,
            created_within_secs: 3_600_000,
        };
        self.book.seed(count, seed, window, mix::seeded)
    }

    /// `count` unmappable orders modified in the seconds before `end`; their ids.
    pub fn poison(&mut self, kind: Poison, count: u64, end: i64) -> Vec<u64> {
        let mut ids = Vec::new();
        for i in 0..count {
            let first = self.book.next_id().1;
            // The reserved id is not used: seeding hands out the next one.
            self.book.seed(
                1,
                first,
                SeedWindow {
                    end,
                    span_secs: 1,
                    created_within_secs: 1,
                },
                |c| mix::poisoned(mix::seeded(c), kind),
            );
            let id = first + 1;
            let at = end - i64::try_from(i).unwrap_or(0) * 1_000;
            self.book.edit(id, |o| {
                o.updated = at;
                o.created = at - 60_000;
            });
            ids.push(id);
        }
        ids
    }

    /// A merchant's edit of the `count` least recently modified orders: the next line ships
    /// (an order with nothing left to ship is only touched). Works on orders of any age.
    pub fn touch_oldest(&mut self, count: u64, now: i64) -> Vec<u64> {
        self.book.touch_oldest(count, now, |o| {
            if !o.is_cancelled()
                && let Some(l) = o.lines.iter_mut().find(|l| !l.fulfilled)
            {
                l.fulfilled = true;
            }
        })
    }

    /// Cancels the `count` least recently modified orders that can still be cancelled (not
    /// shipped, not refunded): every line back in one refund, `cancelState: CANCELED`.
    pub fn cancel_oldest(&mut self, count: u64, now: i64) -> Vec<u64> {
        let ids: Vec<u64> = self
            .book
            .oldest(self.book.len())
            .filter(|id| {
                self.book.get(*id).is_some_and(|o| {
                    o.poison.is_none()
                        && o.adjustment == 0
                        && !o.is_cancelled()
                        && o.refunds.is_empty()
                        && !o.lines.iter().any(|l| l.fulfilled)
                })
            })
            .take(usize::try_from(count).unwrap_or(usize::MAX))
            .collect();
        for id in &ids {
            self.book.touch(*id, now, |o| {
                let parts = o
                    .lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| RefundPart::Line {
                        line: i,
                        amount: l.seller_net(),
                        units: l.quantity,
                    })
                    .collect();
                o.refunds.push(SimRefund {
                    id: format!("7{:011}", o.seq),
                    reference: format!("CXL{:010}", o.seq),
                    at: now,
                    pending: false,
                    parts,
                });
                o.cancel = Cancel::Cancelled {
                    at: now,
                    by_buyer: false,
                };
            });
        }
        ids
    }

    /// The orders getOrders answers for `f` at `now`, sorted by creation date (eBay's default
    /// order, whatever the filter), before `offset`/`limit` are applied.
    pub fn search(&self, f: &Filter, now: i64) -> Vec<&SimOrder> {
        let reach = now - REACH_MS;
        let status_ok = |o: &SimOrder| {
            f.fulfillment
                .as_ref()
                .is_none_or(|s| s.iter().any(|x| x == o.fulfillment_status()))
        };
        let mut hits: Vec<&SimOrder> = match f.dates {
            DateFilter::Modified(r) => {
                let q = PageQuery {
                    sort: SortKey::UpdatedAt,
                    reverse: false,
                    after: None,
                    updated_min: Some(r.from),
                    updated_max: Some(r.to),
                };
                self.book
                    .page(&q, usize::MAX, |o| o.created >= reach && status_ok(o))
                    .orders
                    .into_iter()
                    .map(|(o, _)| o)
                    .collect()
            }
            DateFilter::Created(r) => self.created_between(r.from.max(reach), r.to, &status_ok),
            DateFilter::Default => self.created_between(now - DEFAULT_MS, now, &status_ok),
        };
        hits.sort_by_key(|o| (o.created, o.id));
        hits
    }

    fn created_between(
        &self,
        from: i64,
        to: i64,
        pred: &dyn Fn(&SimOrder) -> bool,
    ) -> Vec<&SimOrder> {
        let q = PageQuery {
            sort: SortKey::CreatedAt,
            reverse: false,
            after: Some((from.saturating_sub(1), u64::MAX)),
            updated_min: None,
            updated_max: None,
        };
        let mut out = Vec::new();
        for (o, _) in self
            .book
            .page(&q, usize::MAX, |o| o.created <= to && pred(o))
            .orders
        {
            out.push(o);
        }
        out
    }

    /// getOrder's lookup: orders older than two years are out of reach.
    pub fn lookup(&self, id: u64, now: i64) -> Option<&SimOrder> {
        self.book.get(id).filter(|o| o.created >= now - REACH_MS)
    }

    /// `/_sim/expected`: per order, the units of each line left to ship: not given back by a
    /// completed refund, of orders that are neither cancelled (a requested cancellation still
    /// ships until it is done) nor `FULFILLED` (the connector maps it as fulfilled: nothing
    /// left to send). Shipped lines of an `IN_PROGRESS` order are counted too: the canonical
    /// order has no shipped quantity, so a fulfillment target holds every unit still on it.
    pub fn expected(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        let mut out = BTreeMap::new();
        for o in self.book.iter() {
            if o.is_cancelled() || o.poison.is_some() || o.fulfillment_status() == "FULFILLED" {
                continue;
            }
            let units: BTreeMap<String, u64> = o
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    (
                        l.id.to_string(),
                        u64::from(l.quantity.saturating_sub(o.units_back(i))),
                    )
                })
                .filter(|(_, n)| *n > 0)
                .collect();
            if !units.is_empty() {
                out.insert(o.order_id(), units);
            }
        }
        out
    }
}
