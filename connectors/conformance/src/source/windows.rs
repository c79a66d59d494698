//! Windows: pagination to the end, resume from a saved page token, oldest first, bounds and
//! updates.

use super::{SourceHarness, read_pages, read_window, seed, window_end};
use ordersync_sdk::money::minor_unit;
use ordersync_sdk::{Decimal, Order, PullCursor};
use std::collections::HashMap;
use time::Duration;

/// Every seeded order is read exactly once in one window spanning several pages, and each
/// mapped order balances.
pub async fn pagination_to_the_end(h: &SourceHarness) {
    let name = h.name();
    let i = (h.make)().await;
    seed(&i, 600, 1).await;
    let (orders, pages) = read_window(&*i.source, None, window_end(&*i.source, &i.clock)).await;
    let mut seen = HashMap::new();
    for o in &orders {
        *seen.entry(o.external_id.clone()).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 600, "{name}: every seeded order is read");
    assert!(
        seen.values().all(|&n| n == 1),
        "{name}: no order twice within one window"
    );
    assert!(
        pages >= 3,
        "{name}: 600 orders take several pages (got {pages})"
    );
    for o in &orders {
        assert_balanced(name, o);
    }
}

/// The mapped order balances, and the rounding it carries is the one `balance()` finds, within
/// the tolerance its connector declares (0 for connectors whose platform totals are exact).
fn assert_balanced(name: &str, o: &Order) {
    let mut checked = o.clone();
    if let Err(e) = checked.balance() {
        panic!("{name}: order {} does not balance: {e}", o.external_id);
    }
    assert_eq!(
        checked.totals.rounding, o.totals.rounding,
        "{name}: order {} carries the rounding balance() finds",
        o.external_id
    );
    let t = o.tolerance;
    let lines = u64::try_from(o.lines.len()).unwrap_or(u64::MAX);
    let units = u64::from(t.per_order).saturating_add(u64::from(t.per_line).saturating_mul(lines));
    let tol = Decimal::from(units) * minor_unit(&o.currency);
    assert!(
        o.totals.rounding.abs() <= tol,
        "{name}: order {} rounds by {} (declared tolerance {tol})",
        o.external_id,
        o.totals.rounding
    );
}

/// The saved page token alone is enough to continue the window (as after a worker crash).
pub async fn resume_from_saved_token(h: &SourceHarness) {
    let name = h.name();
    let i = (h.make)().await;
    seed(&i, 400, 2).await;
    let until = window_end(&*i.source, &i.clock);
    let first = i
        .source
        .pull(&PullCursor {
            since: None,
            until,
            page_token: None,
        })
        .await
        .unwrap_or_else(|e| panic!("{name}: first page: {e}"));
    let mut tok = first.next_page_token.clone();
    assert!(tok.is_some(), "{name}: 400 orders need a second page");
    let mut ids: Vec<String> = first.orders.iter().map(|o| o.external_id.clone()).collect();
    while let Some(t) = tok {
        let p = i
            .source
            .pull(&PullCursor {
                since: None,
                until,
                page_token: Some(t),
            })
            .await
            .unwrap_or_else(|e| panic!("{name}: next page: {e}"));
        ids.extend(p.orders.iter().map(|o| o.external_id.clone()));
        tok = p.next_page_token;
    }
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        400,
        "{name}: resuming from a page token leaves no gap"
    );
}

/// `updated_at` never decreases across all pages of a window (the engine's watermark depends
/// on it). Some orders are updated first, so updated order differs from creation order.
pub async fn oldest_first_within_a_window(h: &SourceHarness) {
    let name = h.name();
    let i = (h.make)().await;
    seed(&i, 600, 8).await;
    i.clock.advance(Duration::seconds(10));
    let updated = crate::sim_post(
        &i.sim.base_url,
        "/_sim/update",
        serde_json::json!({ "count": 50 }),
    )
    .await;
    assert_eq!(updated["updated"], 50, "{name}: /_sim/update changed 50");
    i.clock
        .advance(i.source.capabilities().settle + Duration::seconds(2));
    let pages = read_pages(&*i.source, None, window_end(&*i.source, &i.clock)).await;
    assert!(pages.len() >= 3, "{name}: the window spans several pages");
    let mut prev = None;
    for (n, p) in pages.iter().enumerate() {
        for o in &p.orders {
            if let Some(prev) = prev {
                assert!(
                    prev <= o.updated_at,
                    "{name}: page {n}: order {} (updated {}) comes after one updated {prev}",
                    o.external_id,
                    o.updated_at
                );
            }
            prev = Some(o.updated_at);
        }
    }
    let total: usize = pages.iter().map(|p| p.orders.len()).sum();
    assert_eq!(total, 600, "{name}: every order read once");
}

/// A later window (moved back by the overlap) carries the updated orders and nothing outside
/// its bounds.
pub async fn updates_are_picked_up_within_bounds(h: &SourceHarness) {
    let name = h.name();
    let i = (h.make)().await;
    seed(&i, 120, 3).await;
    let until = window_end(&*i.source, &i.clock);
    let (all, _) = read_window(&*i.source, None, until).await;
    assert_eq!(all.len(), 120, "{name}: the first window reads all");
    i.clock.advance(Duration::seconds(1));
    let updated = crate::sim_post(
        &i.sim.base_url,
        "/_sim/update",
        serde_json::json!({ "count": 7 }),
    )
    .await;
    assert_eq!(
        updated["updated"], 7,
        "{name}: /_sim/update reports what it changed"
    );
    let caps = i.source.capabilities();
    i.clock.advance(caps.settle + Duration::seconds(2));
    let since = until - caps.overlap;
    let next_until = window_end(&*i.source, &i.clock);
    let (next, _) = read_window(&*i.source, Some(since), next_until).await;
    let newer = next.iter().filter(|o| o.updated_at > until).count();
    assert_eq!(
        newer, 7,
        "{name}: the next window carries the 7 updated orders"
    );
    // Platforms filter with second precision.
    let slack = Duration::seconds(1);
    for o in &next {
        assert!(
            o.updated_at >= since - slack && o.updated_at <= next_until + slack,
            "{name}: order {} outside the requested window came back",
            o.external_id
        );
    }
}
