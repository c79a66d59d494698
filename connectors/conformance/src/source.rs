//! Source checks: pagination to the end, resume from a saved page token, window bounds,
//! updates picked up, 429s absorbed, malformed bodies classified, auth failures classified,
//! PII captured but redacted in `Debug`.

use crate::{assert_no_canary, sim_get, sim_post};
use futures::future::BoxFuture;
use ordersync_sdk::sim::SimServer;
use ordersync_sdk::{Clock, ErrorClass, ManualClock, Order, PullCursor, Source};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// A simulator and a connector pointed at it.
pub struct SourceInstance {
    pub sim: SimServer,
    pub clock: Arc<ManualClock>,
    pub source: Arc<dyn Source>,
    /// The same connector built with credentials the simulator rejects.
    pub bad_auth: Arc<dyn Source>,
    /// The connector built with refreshable credentials (OAuth refresh token), if the platform
    /// issues expiring tokens; checked against `POST /_sim/expire_tokens`.
    pub refreshing: Option<Arc<dyn Source>>,
}

pub struct SourceHarness {
    pub name: &'static str,
    pub make: Box<dyn Fn() -> BoxFuture<'static, SourceInstance> + Send + Sync>,
}

/// Reads one whole window, following page tokens. Returns the orders and the page count.
async fn read_window(
    src: &dyn Source,
    since: Option<OffsetDateTime>,
    until: OffsetDateTime,
) -> (Vec<Order>, usize) {
    let mut out = vec![];
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = src
            .pull(&PullCursor {
                since,
                until,
                page_token: token.clone(),
            })
            .await
            .unwrap_or_else(|e| panic!("pull failed: {e}"));
        assert!(
            page.rejected.is_empty(),
            "seeded orders must all map ({} rejected)",
            page.rejected.len()
        );
        out.extend(page.orders);
        pages += 1;
        assert!(pages < 10_000, "pagination does not terminate");
        match page.next_page_token {
            Some(t) => token = Some(t),
            None => return (out, pages),
        }
    }
}

fn window_end(src: &dyn Source, clock: &ManualClock) -> OffsetDateTime {
    clock.now() - src.capabilities().settle
}

pub async fn source_suite(h: &SourceHarness) {
    pagination_to_the_end(h).await;
    resume_from_saved_token(h).await;
    updates_are_picked_up_within_bounds(h).await;
    rate_limits_are_absorbed(h).await;
    malformed_bodies_are_permanent_errors(h).await;
    bad_credentials_are_auth_errors(h).await;
    expired_tokens_are_refreshed(h).await;
}

async fn pagination_to_the_end(h: &SourceHarness) {
    let i = (h.make)().await;
    sim_post(
        &i.sim.base_url,
        "/_sim/seed",
        json!({ "count": 600, "seed": 1 }),
    )
    .await;
    let (orders, pages) = read_window(&*i.source, None, window_end(&*i.source, &i.clock)).await;
    let mut seen = HashMap::new();
    for o in &orders {
        *seen.entry(o.external_id.clone()).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 600, "{}: every seeded order is read", h.name);
    assert!(
        seen.values().all(|&n| n == 1),
        "{}: no order twice within one window",
        h.name
    );
    assert!(
        pages >= 3,
        "{}: 600 orders take several pages (got {pages})",
        h.name
    );
    for o in &orders {
        assert!(
            o.pii
                .email
                .as_deref()
                .is_some_and(|e| e.ends_with("@customer.test")),
            "{}: buyer email captured",
            h.name
        );
        assert_no_canary(&format!("{}: Debug of an order", h.name), &format!("{o:?}"));
        assert!(
            o.totals.rounding.abs() < ordersync_sdk::Decimal::new(5, 2),
            "{}: totals balance",
            h.name
        );
    }
}

async fn resume_from_saved_token(h: &SourceHarness) {
    let i = (h.make)().await;
    sim_post(
        &i.sim.base_url,
        "/_sim/seed",
        json!({ "count": 400, "seed": 2 }),
    )
    .await;
    let until = window_end(&*i.source, &i.clock);
    let first = i
        .source
        .pull(&PullCursor {
            since: None,
            until,
            page_token: None,
        })
        .await
        .expect("first page");
    let token = first
        .next_page_token
        .clone()
        .expect("400 orders need a second page");
    // The saved token alone is enough to continue the window (as after a worker crash).
    let mut ids: Vec<String> = first.orders.iter().map(|o| o.external_id.clone()).collect();
    let mut tok = Some(token);
    while let Some(t) = tok {
        let p = i
            .source
            .pull(&PullCursor {
                since: None,
                until,
                page_token: Some(t),
            })
            .await
            .expect("next page");
        ids.extend(p.orders.iter().map(|o| o.external_id.clone()));
        tok = p.next_page_token;
    }
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        400,
        "{}: resuming from a page token leaves no gap",
        h.name
    );
}

async fn updates_are_picked_up_within_bounds(h: &SourceHarness) {
    let i = (h.make)().await;
    sim_post(
        &i.sim.base_url,
        "/_sim/seed",
        json!({ "count": 120, "seed": 3 }),
    )
    .await;
    let until = window_end(&*i.source, &i.clock);
    let (all, _) = read_window(&*i.source, None, until).await;
    assert_eq!(all.len(), 120);
    i.clock.advance(Duration::seconds(1));
    let updated = sim_post(&i.sim.base_url, "/_sim/update", json!({ "count": 7 })).await;
    assert_eq!(
        updated["updated"], 7,
        "{}: /_sim/update reports what it changed",
        h.name
    );
    let caps = i.source.capabilities();
    i.clock.advance(caps.settle + Duration::seconds(2));
    let since = until - caps.overlap;
    let next_until = window_end(&*i.source, &i.clock);
    let (next, _) = read_window(&*i.source, Some(since), next_until).await;
    let newer: Vec<_> = next.iter().filter(|o| o.updated_at > until).collect();
    assert_eq!(
        newer.len(),
        7,
        "{}: the next window carries the 7 updated orders",
        h.name
    );
    for o in &next {
        assert!(
            o.updated_at >= since - Duration::seconds(1)
                && o.updated_at <= next_until + Duration::seconds(1),
            "{}: an order outside the requested window came back",
            h.name
        );
    }
}

async fn rate_limits_are_absorbed(h: &SourceHarness) {
    let i = (h.make)().await;
    sim_post(
        &i.sim.base_url,
        "/_sim/seed",
        json!({ "count": 300, "seed": 4 }),
    )
    .await;
    sim_post(
        &i.sim.base_url,
        "/_sim/faults",
        json!({ "rate": 0.3, "kinds": ["429"] }),
    )
    .await;
    let (orders, _) = read_window(&*i.source, None, window_end(&*i.source, &i.clock)).await;
    let mut ids: Vec<_> = orders.iter().map(|o| o.external_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 300, "{}: 429s are retried within budget", h.name);
    let stats = sim_get(&i.sim.base_url, "/_sim/stats").await;
    assert!(
        stats["throttled"].as_u64().unwrap_or(0) > 0,
        "{}: the simulator did throttle",
        h.name
    );
}

async fn malformed_bodies_are_permanent_errors(h: &SourceHarness) {
    let i = (h.make)().await;
    sim_post(
        &i.sim.base_url,
        "/_sim/seed",
        json!({ "count": 10, "seed": 5 }),
    )
    .await;
    sim_post(
        &i.sim.base_url,
        "/_sim/faults",
        json!({ "rate": 1.0, "kinds": ["malformed"] }),
    )
    .await;
    let err = i
        .source
        .pull(&PullCursor {
            since: None,
            until: window_end(&*i.source, &i.clock),
            page_token: None,
        })
        .await
        .expect_err("a truncated body cannot be a page");
    assert_eq!(
        err.class(),
        ErrorClass::Permanent,
        "{}: malformed body → Permanent",
        h.name
    );
    assert_no_canary(&format!("{}: error message", h.name), &err.to_string());
}

async fn bad_credentials_are_auth_errors(h: &SourceHarness) {
    let i = (h.make)().await;
    let err = i
        .bad_auth
        .pull(&PullCursor {
            since: None,
            until: window_end(&*i.source, &i.clock),
            page_token: None,
        })
        .await
        .expect_err("rejected credentials");
    assert_eq!(
        err.class(),
        ErrorClass::Auth,
        "{}: rejected credentials → Auth",
        h.name
    );
}

async fn expired_tokens_are_refreshed(h: &SourceHarness) {
    let i = (h.make)().await;
    let Some(src) = &i.refreshing else { return };
    sim_post(
        &i.sim.base_url,
        "/_sim/seed",
        json!({ "count": 5, "seed": 6 }),
    )
    .await;
    let until = window_end(&**src, &i.clock);
    let (first, _) = read_window(&**src, None, until).await;
    assert_eq!(first.len(), 5, "{}: pull with a refreshed token", h.name);
    // The platform revokes every access token (expiry): the connector refreshes and goes on.
    sim_post(&i.sim.base_url, "/_sim/expire_tokens", json!({})).await;
    let (again, _) = read_window(&**src, None, until).await;
    assert_eq!(
        again.len(),
        5,
        "{}: an expired token is refreshed, not surfaced",
        h.name
    );
}
