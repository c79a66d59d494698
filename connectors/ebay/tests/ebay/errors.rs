//! Answers that are not orders: HTML maintenance pages, the daily quota, unknown ids.

use crate::{env, opts};
use ordersync_conformance::assert_no_canary;
use ordersync_sdk::{ErrorClass, PullCursor};
use serde_json::json;
use time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_pages_are_classified() {
    let e = env(opts()).await;
    e.seed(5, 51).await;
    let src = e.source(200);
    let cursor = PullCursor {
        since: None,
        until: e.until(),
        page_token: None,
    };
    e.post("/_sim/maintenance", json!({ "mode": "unavailable" }))
        .await;
    let err = src.pull(&cursor).await.unwrap_err();
    assert_eq!(
        err.class(),
        ErrorClass::Retriable,
        "503 maintenance: try again later"
    );
    assert!(err.to_string().contains("HTML"), "{err}");
    e.post("/_sim/maintenance", json!({ "mode": "page_with_ok" }))
        .await;
    let err = src.pull(&cursor).await.unwrap_err();
    assert_eq!(
        err.class(),
        ErrorClass::Permanent,
        "an HTML page is no page of orders"
    );
    assert!(err.to_string().contains("HTML"), "{err}");
    e.post("/_sim/maintenance", json!({ "mode": "off" })).await;
    assert_eq!(src.pull(&cursor).await.unwrap().orders.len(), 5);
}

/// The app's daily quota: 429 errorId 2001 is `RateLimited`; the next day it works again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_quota_is_rate_limited_until_the_next_day() {
    let mut o = opts();
    o.daily_quota = Some(4);
    let e = env(o).await;
    e.seed(5, 52).await;
    let src = e.source(200);
    let cursor = PullCursor {
        since: None,
        until: e.until(),
        page_token: None,
    };
    // A pull is one getOrders call (plus getOrder for refunded orders, once): a few pulls
    // go through, then the quota is used up.
    let mut results = vec![];
    for _ in 0..5 {
        results.push(src.pull(&cursor).await.map(|p| p.orders.len()));
    }
    assert!(matches!(results[0], Ok(5)));
    let err = results
        .into_iter()
        .find_map(Result::err)
        .expect("the quota ends");
    assert_eq!(err.class(), ErrorClass::RateLimited);
    assert!(e.stats().await["throttled"].as_u64().unwrap() > 0);
    e.clock.advance(Duration::days(1));
    let cursor = PullCursor {
        since: None,
        until: e.until(),
        page_token: None,
    };
    assert_eq!(src.pull(&cursor).await.unwrap().orders.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_refuses_ids_that_are_not_ebays() {
    let e = env(opts()).await;
    let src = e.source(200);
    for bad in ["", "../order", "12-34567-89012?x=1", "canary@customer.test"] {
        let err = src.fetch(bad).await.unwrap_err();
        assert_eq!(err.class(), ErrorClass::Permanent, "{bad:?}");
        assert_no_canary("fetch error", &err.to_string());
    }
    assert!(src.fetch("27-99999-99999").await.unwrap().is_none());
}
