//! Pulling windows: the live-set trap of offset paging, crowded milliseconds, the call budget,
//! the modification filter (never `creationdate`), page tokens.

use crate::{Env, env, opts, read_all};
use ordersync_ebay::client::{ebay_time, millis};
use ordersync_sdk::{Clock, ErrorClass, PullCursor};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use time::Duration;

/// Every order of the simulator with its lastModifiedDate (ms), read over raw HTTP.
async fn modified_dates(e: &Env) -> BTreeMap<String, i64> {
    let from = ebay_time(millis(e.clock.now() - Duration::days(700)));
    let mut out = BTreeMap::new();
    let mut offset = 0;
    loop {
        let v: Value = e
            .api(&format!(
                "/sell/fulfillment/v1/order?filter=lastmodifieddate:%5B{from}..%5D&limit=200&offset={offset}"
            ))
            .await
            .json()
            .await
            .unwrap();
        let orders = v["orders"].as_array().unwrap();
        for o in orders {
            let m = ordersync_ebay::client::parse_millis(o["lastModifiedDate"].as_str().unwrap())
                .unwrap();
            out.insert(o["orderId"].as_str().unwrap().to_string(), m);
        }
        if orders.is_empty() {
            return out;
        }
        offset += orders.len();
    }
}

async fn naive_page(e: &Env, filter: &str, offset: usize) -> Vec<String> {
    let q = format!("/sell/fulfillment/v1/order?{filter}&limit=100&offset={offset}");
    let v: Value = e.api(&q).await.json().await.unwrap();
    v["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["orderId"].as_str().unwrap().to_string())
        .collect()
}

/// Orders modified while a window is being read leave the result set. A naive offset pager
/// (sorted by creation, as eBay sorts) then skips orders that are never read again; the
/// connector's slices lose none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_modified_during_paging_are_not_lost() {
    let e = env(opts()).await;
    e.seed(600, 31).await;
    let until = e.until();
    let src = e.source(100);
    let window = |token| PullCursor {
        since: None,
        until,
        page_token: token,
    };
    let first = src.pull(&window(None)).await.unwrap();
    let mut seen: BTreeSet<String> = first.orders.iter().map(|o| o.external_id.clone()).collect();
    let mut token = first.next_page_token;
    // The naive pager reads its first page too.
    let from = ebay_time(millis(until) - 730 * 86_400_000 + 1);
    let filter = format!(
        "filter=lastmodifieddate:%5B{from}..{}%5D",
        ebay_time(millis(until))
    );
    let mut naive: BTreeSet<String> = naive_page(&e, &filter, 0).await.into_iter().collect();
    // A merchant ships 60 orders meanwhile (the least recently modified ones).
    e.clock.advance(Duration::seconds(5));
    let touched = e.post("/_sim/update", json!({ "count": 60 })).await;
    let touched: BTreeSet<String> = serde_json::from_value(touched["ids"].clone()).unwrap();
    while let Some(t) = token {
        let p = src.pull(&window(Some(t))).await.unwrap();
        seen.extend(p.orders.iter().map(|o| o.external_id.clone()));
        token = p.next_page_token;
    }
    let mut offset = 100;
    loop {
        let got = naive_page(&e, &filter, offset).await;
        if got.is_empty() {
            break;
        }
        offset += got.len();
        naive.extend(got);
    }
    let all = modified_dates(&e).await;
    let unmodified: BTreeSet<String> = all
        .keys()
        .filter(|id| !touched.contains(*id))
        .cloned()
        .collect();
    let naive_missed = unmodified.difference(&naive).count();
    assert!(
        naive_missed > 0,
        "the simulator reproduces the shifting rows (naive pager missed {naive_missed})"
    );
    let missed: Vec<&String> = unmodified.difference(&seen).collect();
    assert!(
        missed.is_empty(),
        "the connector lost unmodified orders: {missed:?}"
    );
    // The modified ones are in the next window.
    e.clock.advance(Duration::seconds(200));
    let since = until - src.capabilities().overlap;
    let (next, _, _) = read_all(&*src, Some(since), e.until()).await;
    let next: BTreeSet<String> = next.into_iter().map(|o| o.external_id).collect();
    assert!(touched.is_subset(&next));
}

/// More orders than a page in one millisecond (a bulk edit) are read by offset; when some of
/// them are modified meanwhile the offset steps back: none is skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowded_millisecond_is_read_by_offset_without_gaps() {
    let e = env(opts()).await;
    e.seed(250, 32).await;
    e.clock.advance(Duration::seconds(1));
    // All 250 get one and the same lastModifiedDate.
    e.post("/_sim/update", json!({ "count": 250 })).await;
    let dates = modified_dates(&e).await;
    assert_eq!(dates.values().collect::<BTreeSet<_>>().len(), 1);
    e.clock.advance(Duration::seconds(200));
    let until = e.until();
    let src = e.source(100);
    let window = |token| PullCursor {
        since: None,
        until,
        page_token: token,
    };
    let first = src.pull(&window(None)).await.unwrap();
    assert_eq!(first.orders.len(), 100);
    assert!(
        first
            .next_page_token
            .as_deref()
            .is_some_and(|t| t.starts_with("o1:"))
    );
    let mut seen: BTreeSet<String> = first.orders.iter().map(|o| o.external_id.clone()).collect();
    // 30 of them are modified again: they leave the millisecond, the rest move up.
    e.clock.advance(Duration::seconds(1));
    let touched = e.post("/_sim/update", json!({ "count": 30 })).await;
    let touched: BTreeSet<String> = serde_json::from_value(touched["ids"].clone()).unwrap();
    let mut token = first.next_page_token;
    while let Some(t) = token {
        let p = src.pull(&window(Some(t))).await.unwrap();
        seen.extend(p.orders.iter().map(|o| o.external_id.clone()));
        token = p.next_page_token;
    }
    let missed: Vec<&String> = dates
        .keys()
        .filter(|id| !touched.contains(*id) && !seen.contains(*id))
        .collect();
    assert!(missed.is_empty(), "skipped: {missed:?}");
}

/// An incremental window costs one call; a backfill of 600 orders a handful per page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slices_keep_the_call_count_small() {
    let e = env(opts()).await;
    e.seed(600, 33).await;
    let src = e.source(200);
    let until = e.until();
    let before = e.calls("getOrders").await;
    let (orders, rejected, pages) = read_all(&*src, None, until).await;
    let backfill = e.calls("getOrders").await - before;
    assert_eq!((orders.len(), rejected.len()), (600, 0));
    assert!(pages >= 3, "{pages} pages");
    assert!(
        backfill <= 3 * pages as u64,
        "{backfill} calls for {pages} pages"
    );
    e.clock.advance(Duration::seconds(30));
    e.post("/_sim/update", json!({ "count": 3 })).await;
    e.clock.advance(Duration::seconds(200));
    let before = e.calls("getOrders").await;
    let (next, _, pages) = read_all(&*src, Some(until - Duration::minutes(5)), e.until()).await;
    assert_eq!((next.len(), pages), (3, 1));
    assert_eq!(
        e.calls("getOrders").await - before,
        1,
        "one call for a small window"
    );
}

/// The window is asked with `lastmodifieddate` only: orders created a month ago and modified
/// now are found (with `creationdate` in the query eBay would ignore the modification).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_filter_on_modification_only() {
    let e = env(opts()).await;
    e.seed(40, 34).await;
    e.clock.advance(Duration::days(30));
    let touched = e.post("/_sim/update", json!({ "count": 5 })).await;
    let touched: BTreeSet<String> = serde_json::from_value(touched["ids"].clone()).unwrap();
    e.clock.advance(Duration::seconds(200));
    let src = e.source(200);
    let (got, _, _) = read_all(&*src, Some(e.clock.now() - Duration::hours(1)), e.until()).await;
    let got: BTreeSet<String> = got.into_iter().map(|o| o.external_id).collect();
    assert_eq!(got, touched);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_of_another_connector_is_refused() {
    let e = env(opts()).await;
    let err = e
        .source(200)
        .pull(&PullCursor {
            since: None,
            until: e.until(),
            page_token: Some("eyJlbmRDdXJzb3IiOjF9".into()),
        })
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
}
