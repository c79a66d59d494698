//! What a route forwards (ARCHITECTURE §7 `POST /api/v1/routes`): order statuses, and a
//! start by creation time, so connecting a store with years of history does not ship years
//! of orders, while an accounting route may ask for history (`backfill_route`).
//!
//! The rule applies when an order would *start* going to a target. Once it has a delivery
//! there, every later version follows whatever its status: a cancellation or a refund must
//! reach the shipment or invoice it changes.

use super::ingest::{idempotency_key, status_str};
use crate::store::{DeliveryEnqueue, RouteRow, RouteTarget, Store};
use ordersync_sdk::Order;
use ordersync_sdk::clock::to_micros;

/// The statuses a route forwards when it names none: live orders. An order cancelled before
/// it reached a target is never sent there.
pub const DEFAULT_ROUTE_STATUSES: &[&str] = &["open", "closed"];

/// Every canonical status (what `statuses` may name).
pub const ALL_STATUSES: &[&str] = &["open", "closed", "cancelled", "unknown"];

/// One route as ingest applies it.
pub(super) struct RouteRule<'a> {
    pub sink: &'a str,
    statuses: Vec<String>,
    start_at: Option<i64>,
}

impl<'a> RouteRule<'a> {
    pub fn of(r: &'a RouteTarget) -> Self {
        Self::new(&r.sink_connection_id, r.statuses.as_deref(), r.start_at)
    }

    fn new(sink: &'a str, statuses: Option<&str>, start_at: Option<i64>) -> Self {
        // An unreadable list (never written by us) forwards what the default does.
        let statuses = statuses
            .and_then(|s| serde_json::from_str::<Vec<String>>(s).ok())
            .unwrap_or_else(|| {
                DEFAULT_ROUTE_STATUSES
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            });
        Self {
            sink,
            statuses,
            start_at,
        }
    }

    /// Whether the route starts forwarding an order of this status created at `created_us`.
    fn takes_parts(&self, status: &str, created_us: i64) -> bool {
        self.start_at.is_none_or(|start| created_us >= start)
            && self.statuses.iter().any(|s| s == status)
    }

    pub fn takes(&self, order: &Order) -> bool {
        self.takes_parts(status_str(order.status), to_micros(order.created_at))
    }
}

/// Enqueues the stored orders a new route takes from its source's history (those created
/// after its start with a status it forwards); returns how many. Orders that already go to
/// the target are left alone.
pub async fn backfill_route(store: &dyn Store, r: &RouteRow, now: i64) -> anyhow::Result<u64> {
    let rule = RouteRule::new(&r.sink_connection_id, r.statuses.as_deref(), r.start_at);
    let mut after: Option<String> = None;
    let mut total = 0;
    loop {
        let page = store
            .orders_for_backfill(&r.source_connection_id, r.start_at, after.as_deref(), 1000)
            .await?;
        let Some(last) = page.last() else {
            return Ok(total);
        };
        after = Some(last.id.clone());
        let batch: Vec<DeliveryEnqueue> = page
            .iter()
            .filter(|o| rule.takes_parts(&o.status, o.source_created_at))
            .map(|o| DeliveryEnqueue {
                id: uuid::Uuid::now_v7().to_string(),
                order_id: o.id.clone(),
                merchant_id: o.merchant_id.clone(),
                sink_connection_id: r.sink_connection_id.clone(),
                version: o.version,
                idempotency_key: idempotency_key(&o.id, &r.sink_connection_id, o.version),
            })
            .collect();
        total += store.enqueue_new_deliveries(&batch, now).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_takes_its_statuses_from_its_start() {
        let r = RouteRule::new("s", None, Some(100));
        assert!(r.takes_parts("open", 100));
        assert!(r.takes_parts("closed", 200));
        assert!(
            !r.takes_parts("open", 99),
            "created before the route's start"
        );
        assert!(
            !r.takes_parts("cancelled", 200),
            "default: live orders only"
        );
        let all = RouteRule::new("s", Some(r#"["cancelled"]"#), None);
        assert!(all.takes_parts("cancelled", i64::MIN));
        assert!(!all.takes_parts("open", 0));
        let garbled = RouteRule::new("s", Some("not json"), None);
        assert!(garbled.takes_parts("open", 0) && !garbled.takes_parts("cancelled", 0));
    }
}
