//! Leaky buckets: the GraphQL cost bucket (points available, restored per second) and the REST
//! call bucket (calls used, leaking per second). Time is the simulator's clock.

use time::OffsetDateTime;

/// GraphQL calculated-cost bucket of one shop.
#[derive(Debug, Clone, Copy)]
pub struct CostBucket {
    pub available: f64,
    at: OffsetDateTime,
}

impl CostBucket {
    pub fn full(max: f64, now: OffsetDateTime) -> Self {
        Self {
            available: max,
            at: now,
        }
    }

    pub fn restore(&mut self, now: OffsetDateTime, max: f64, rate: f64) {
        let dt = (now - self.at).as_seconds_f64().max(0.0);
        self.available = (self.available + dt * rate).min(max);
        self.at = now;
    }

    /// Takes `cost` points if the bucket holds them.
    pub fn try_take(&mut self, cost: f64) -> bool {
        if self.available >= cost {
            self.available -= cost;
            true
        } else {
            false
        }
    }

    /// Returns what a query was charged beyond its actual cost (Shopify refunds it).
    pub fn refund(&mut self, points: f64, max: f64) {
        self.available = (self.available + points.max(0.0)).min(max);
    }
}

/// REST call-limit bucket of one shop (`X-Shopify-Shop-Api-Call-Limit: used/size`).
#[derive(Debug, Clone, Copy)]
pub struct CallBucket {
    pub used: f64,
    at: OffsetDateTime,
}

impl CallBucket {
    pub fn empty(now: OffsetDateTime) -> Self {
        Self { used: 0.0, at: now }
    }

    /// Leaks, then admits one call if there is room. Returns whether it was admitted.
    pub fn admit(&mut self, now: OffsetDateTime, size: f64, leak: f64) -> bool {
        let dt = (now - self.at).as_seconds_f64().max(0.0);
        self.used = (self.used - dt * leak).max(0.0);
        self.at = now;
        if self.used + 1.0 > size {
            return false;
        }
        self.used += 1.0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[test]
    fn cost_bucket_restores_over_time() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let mut b = CostBucket::full(1000.0, t0);
        assert!(b.try_take(800.0));
        assert!(!b.try_take(300.0));
        b.restore(t0 + Duration::seconds(2), 1000.0, 50.0);
        assert!(b.try_take(300.0));
    }

    #[test]
    fn call_bucket_leaks() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let mut b = CallBucket::empty(t0);
        assert!((0..40).all(|_| b.admit(t0, 40.0, 2.0)));
        assert!(!b.admit(t0, 40.0, 2.0));
        assert!(b.admit(t0 + Duration::seconds(1), 40.0, 2.0));
    }
}
