//! Page sizes chosen from the cost Shopify reports.
//!
//! A query's requested cost is `base + first × per_item` (a connection: 2 + `first` × one
//! child). The first page uses the documented per-item cost of our own query (`queries.rs`:
//! 141 points per order, so 7 orders and 989 points); every answer's `requestedQueryCost`
//! then replaces that estimate, so a server that charges less gets larger pages and one that
//! charges more gets smaller ones. `first` always fits the single-query maximum (1,000, or the
//! `maxCost` a `MAX_COST_EXCEEDED` names) and the bucket (`maximumAvailable`), and never
//! exceeds the configured `page_size`.

use crate::errors::DEFAULT_MAX_QUERY_COST;
use crate::wire::Cost;

#[derive(Debug, Clone)]
pub struct Sizer {
    upper: u32,
    base: f64,
    per_item: f64,
    max_cost: f64,
    bucket: f64,
}

impl Sizer {
    /// `upper`: most items per page; `base`, `per_item`: the expected cost split.
    pub fn new(upper: u32, base: f64, per_item: f64) -> Self {
        Self {
            upper: upper.max(1),
            base,
            per_item: per_item.max(f64::MIN_POSITIVE),
            max_cost: DEFAULT_MAX_QUERY_COST,
            bucket: f64::INFINITY,
        }
    }

    /// Items to ask for next.
    pub fn first(&self) -> u32 {
        let limit = self.max_cost.min(self.bucket);
        let n = ((limit - self.base) / self.per_item).floor();
        if n.is_finite() && n >= 1.0 {
            // `as` saturates; `upper` bounds it anyway.
            (n as u32).min(self.upper)
        } else {
            1
        }
    }

    /// The expected requested cost of a page of `first` items.
    pub fn expected_cost(&self, first: u32) -> f64 {
        self.base + f64::from(first) * self.per_item
    }

    /// Learns from the `extensions.cost` of an answer to a page of `first` items.
    pub fn learn(&mut self, first: u32, cost: &Cost) {
        if let Some(r) = cost.requested_query_cost {
            self.learn_per_item(first, r);
        }
        let b = cost.throttle_status.maximum_available;
        if b.is_finite() && b > 0.0 {
            self.bucket = b;
        }
    }

    /// After a "too costly" answer (requested `requested` > `limit`) to a page of `first`
    /// items: the size to retry with, or `None` when even one item is too costly.
    pub fn shrink(&mut self, first: u32, requested: f64, limit: f64) -> Option<u32> {
        if limit.is_finite() && limit > 0.0 {
            self.max_cost = self.max_cost.min(limit);
        }
        self.learn_per_item(first, requested);
        if first <= 1 {
            return None;
        }
        Some(self.first().min(first - 1))
    }

    fn learn_per_item(&mut self, first: u32, requested: f64) {
        if first == 0 || !requested.is_finite() {
            return;
        }
        let p = (requested - self.base) / f64::from(first);
        if p.is_finite() && p > 0.0 {
            self.per_item = p;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queries::{CONNECTION_BASE, ORDER_NODE_COST};
    use crate::wire::ThrottleStatus;

    fn cost(requested: f64, bucket: f64) -> Cost {
        Cost {
            requested_query_cost: Some(requested),
            actual_query_cost: Some(requested / 2.0),
            throttle_status: ThrottleStatus {
                maximum_available: bucket,
                currently_available: bucket,
                restore_rate: 100.0,
            },
        }
    }

    #[test]
    fn starts_from_the_documented_cost_and_follows_the_server() {
        let mut s = Sizer::new(250, CONNECTION_BASE, ORDER_NODE_COST);
        assert_eq!(s.first(), 7);
        assert_eq!(s.expected_cost(7), 989.0);
        // A server charging 20 per order: larger pages, still under 1,000.
        s.learn(15, &cost(302.0, 2000.0));
        assert_eq!(s.first(), 49);
        // A small bucket bounds the page too.
        s.learn(49, &cost(982.0, 500.0));
        assert_eq!(s.first(), 24);
        // The configured page size stays the upper bound.
        let mut small = Sizer::new(10, CONNECTION_BASE, ORDER_NODE_COST);
        small.learn(10, &cost(22.0, 2000.0));
        assert_eq!(small.first(), 10);
    }

    #[test]
    fn shrinks_on_too_costly_and_gives_up_at_one() {
        let mut s = Sizer::new(250, CONNECTION_BASE, 1.0);
        assert_eq!(s.first(), 250);
        // 250 orders × 92 points were refused: 10 orders fit.
        assert_eq!(s.shrink(250, 23_002.0, 1000.0), Some(10));
        assert_eq!(s.first(), 10);
        // A lower limit named by the server is kept.
        assert_eq!(s.shrink(10, 922.0, 500.0), Some(5));
        assert_eq!(s.shrink(1, 2000.0, 1000.0), None);
    }
}
