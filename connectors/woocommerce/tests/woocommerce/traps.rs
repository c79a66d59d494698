//! WooCommerce's traps, each reproduced by the simulator and handled by the connector.

use crate::{env, read_all};
use ordersync_sdk::{Clock, OrderStatus, PullCursor};
use ordersync_woocommerce::WooConfig;
use ordersync_woocommerce::paging::{list_query, wp_time};
use ordersync_woocommerce::sim::SimOptions;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use time::Duration;

/// Ids and `date_modified_gmt` seconds of every order a raw query returns, page by page.
async fn raw_ids(e: &crate::Env, query: &[(&str, String)]) -> BTreeMap<u64, i64> {
    let mut out = BTreeMap::new();
    for page in 1..=100u32 {
        let mut q: Vec<(&str, String)> = query
            .iter()
            .filter(|(k, _)| *k != "page")
            .cloned()
            .collect();
        q.push(("page", page.to_string()));
        q.push(("per_page", "100".into()));
        let qs = serde_urlencoded(&q);
        let r = e.api(&format!("/orders?{qs}")).await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        let items = v.as_array().unwrap();
        if items.is_empty() {
            return out;
        }
        for o in items {
            let t = ordersync_woocommerce::mapping::modified_at(o)
                .unwrap()
                .unix_timestamp();
            out.insert(o["id"].as_u64().unwrap(), t);
        }
    }
    out
}

fn serde_urlencoded(q: &[(&str, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    let mut seen = BTreeSet::new();
    for (k, v) in q.iter().rev() {
        if seen.insert(*k) {
            s.append_pair(k, v);
        }
    }
    s.finish()
}

/// Every status: `any` leaves the trash out.
const EVERY: &str =
    "pending,processing,on-hold,completed,cancelled,refunded,failed,trash,checkout-draft";

fn cfg(e: &crate::Env) -> WooConfig {
    serde_json::from_value(e.config(json!({}))).unwrap()
}

/// `modified_after`/`modified_before` are read in the site's time (Berlin, +01:00 in
/// December) unless `dates_are_gmt=true`: the same query without it shifts the window by an
/// hour, losing the newest orders and repeating older ones.
#[tokio::test]
async fn dropping_dates_are_gmt_misses_and_duplicates_orders() {
    let e = env(SimOptions::default()).await;
    e.seed(2000, 21).await;
    let now = e.clock.now();
    let (since, until) = (now - Duration::days(3), now - Duration::days(2));
    let all = raw_ids(&e, &[("status", EVERY.into())]).await;
    let want: BTreeSet<u64> = all
        .iter()
        .filter(|(_, t)| **t >= since.unix_timestamp() && **t <= until.unix_timestamp())
        .map(|(id, _)| *id)
        .collect();
    let q = list_query(&cfg(&e), Some(since), until, None);
    let right: BTreeSet<u64> = raw_ids(&e, &q).await.into_keys().collect();
    assert_eq!(right, want, "with dates_are_gmt=true the window is exact");
    let wrong_q: Vec<(&str, String)> = q
        .iter()
        .filter(|(k, _)| *k != "dates_are_gmt")
        .cloned()
        .collect();
    let wrong: BTreeSet<u64> = raw_ids(&e, &wrong_q).await.into_keys().collect();
    let missed = want.difference(&wrong).count();
    let extra = wrong.difference(&want).count();
    assert!(missed > 0, "the last hour of the window is lost");
    assert!(extra > 0, "an hour before the window is read again");
    // An offset is no way out: WordPress converts `…Z` to site time, then compares it with
    // the GMT column.
    let z_q: Vec<(&str, String)> = q
        .iter()
        .map(|(k, v)| match *k {
            "modified_after" | "modified_before" => (*k, format!("{v}Z")),
            _ => (*k, v.clone()),
        })
        .collect();
    let z: BTreeSet<u64> = raw_ids(&e, &z_q).await.into_keys().collect();
    assert_ne!(
        z, want,
        "…Z with dates_are_gmt=true is off by the site's offset"
    );
    // The connector's own pull is exact.
    let (orders, _, _) = read_all(&*e.source(), Some(since), until).await;
    let got: BTreeSet<u64> = orders
        .iter()
        .map(|o| o.external_id.parse().unwrap())
        .collect();
    assert!(want.is_subset(&got), "the connector reads the whole window");
    assert!(
        got.iter().all(
            |id| all[id] >= since.unix_timestamp() - 1 && all[id] <= until.unix_timestamp() + 1
        ),
        "and nothing outside it but its one second of slack"
    );
}

/// `after`/`before` filter the creation date, not the modification date.
#[tokio::test]
async fn after_filters_creation_not_modification() {
    let e = env(SimOptions::default()).await;
    e.seed(300, 22).await;
    let all: Vec<Value> = {
        let r = e.api("/orders?per_page=100&orderby=date&order=asc").await;
        r.json().await.unwrap()
    };
    let oldest = all[0]["id"].as_u64().unwrap();
    let created =
        ordersync_woocommerce::mapping::gmt(all[0]["date_created_gmt"].as_str(), "d").unwrap();
    // Modify the oldest order now: it is recent by modification, old by creation.
    e.post("/_sim/touch", json!({ "ids": [oldest] })).await;
    let since = wp_time((e.clock.now() - Duration::minutes(1)).unix_timestamp());
    let by_created: Vec<Value> = e
        .api(&format!("/orders?after={since}&dates_are_gmt=true"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        by_created.iter().all(|o| o["id"] != oldest),
        "after is the creation date"
    );
    let by_modified: Vec<Value> = e
        .api(&format!(
            "/orders?modified_after={since}&dates_are_gmt=true"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_modified.len(), 1);
    assert_eq!(by_modified[0]["id"], oldest);
    assert!(created < e.clock.now() - Duration::minutes(5));
}

/// `modified_after` is exclusive and whole seconds: an order modified at second T is not
/// after T, but is after T − 1.
#[tokio::test]
async fn modified_after_is_exclusive_and_second_granular() {
    let e = env(SimOptions::default()).await;
    e.seed(5, 23).await;
    let t = e.clock.now().unix_timestamp();
    e.post("/_sim/touch", json!({ "ids": [1001] })).await;
    let count = |after: i64| {
        let e = &e;
        async move {
            let v: Value = e
                .api(&format!(
                    "/orders?dates_are_gmt=true&modified_after={}",
                    wp_time(after)
                ))
                .await
                .json()
                .await
                .unwrap();
            v.as_array().unwrap().len()
        }
    };
    // The touch happened at second t (or t + 1 if the clock ticked in between).
    let touched_at = e
        .api("/orders/1001")
        .await
        .json::<Value>()
        .await
        .map(|v| {
            ordersync_woocommerce::mapping::modified_at(&v)
                .unwrap()
                .unix_timestamp()
        })
        .unwrap();
    assert!(touched_at == t || touched_at == t + 1);
    assert_eq!(count(touched_at).await, 0, "after T excludes T");
    assert_eq!(count(touched_at - 1).await, 1, "after T − 1 includes T");
}

#[tokio::test]
async fn paging_headers_limits_and_pages_past_the_end() {
    let e = env(SimOptions::default()).await;
    e.seed(25, 24).await;
    let r = e.api("/orders?per_page=101").await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "rest_invalid_param");
    assert_eq!(
        v["data"]["params"]["per_page"],
        "per_page must be between 1 (inclusive) and 100 (inclusive)"
    );
    let r = e
        .api(&format!("/orders?per_page=10&page=2&status={EVERY}"))
        .await;
    assert_eq!(r.headers()["x-wp-total"], "25");
    assert_eq!(r.headers()["x-wp-totalpages"], "3");
    let link = r.headers()["link"].to_str().unwrap().to_string();
    assert!(
        link.contains("page=1>; rel=\"prev\"") && link.contains("page=3>; rel=\"next\""),
        "{link}"
    );
    assert_eq!(
        r.json::<Value>().await.unwrap().as_array().unwrap().len(),
        10
    );
    let r = e
        .api(&format!("/orders?per_page=10&page=9&status={EVERY}"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-wp-total"], "25");
    assert!(
        r.json::<Value>()
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The default page is 10 orders, newest first by creation.
    let v: Value = e.api("/orders").await.json().await.unwrap();
    assert_eq!(v.as_array().unwrap().len(), 10);
}

/// The default `status=any` leaves trashed orders out; the connector asks for every status.
#[tokio::test]
async fn trashed_orders_come_only_when_asked_for() {
    let e = env(SimOptions::default()).await;
    e.seed(40, 25).await;
    let before: Value = e.api("/orders?per_page=100").await.json().await.unwrap();
    let trashed_before = before.as_array().unwrap().len();
    e.post("/_sim/trash", json!({ "count": 5 })).await;
    e.clock.advance(Duration::seconds(40));
    let r = e.api("/orders?per_page=100").await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v.as_array().unwrap().len(),
        trashed_before - 5,
        "any leaves the trash out"
    );
    assert!(v.as_array().unwrap().iter().all(|o| o["status"] != "trash"));
    let (orders, _, _) = read_all(&*e.source(), None, e.until()).await;
    assert_eq!(orders.len(), 40, "the connector reads trashed orders too");
    assert!(
        orders
            .iter()
            .filter(|o| o.status == OrderStatus::Cancelled)
            .count()
            >= 5,
        "a trashed order is cancelled"
    );
    // And fetches them by id.
    let id = orders
        .iter()
        .max_by_key(|o| o.updated_at)
        .unwrap()
        .external_id
        .clone();
    let f = e.source().fetch(&id).await.unwrap().unwrap();
    assert_eq!(f.status, OrderStatus::Cancelled);
}

/// Offset pages over a live set shift: an order modified between two pages moves out of the
/// window and the first order of the next page slides onto the page already read. The
/// connector's keyset token loses nothing.
#[tokio::test]
async fn an_order_modified_while_paging_shifts_offsets_but_not_the_connector() {
    let e = env(SimOptions::default()).await;
    e.seed(250, 26).await;
    let until = e.until();
    let q = [
        ("modified_before", wp_time(until.unix_timestamp() + 1)),
        ("dates_are_gmt", "true".to_string()),
        ("orderby", "modified".to_string()),
        ("order", "asc".to_string()),
        ("per_page", "100".to_string()),
    ];
    let page = |n: u32| {
        let e = &e;
        let mut q = q.to_vec();
        q.push(("page", n.to_string()));
        async move {
            let v: Value = e
                .api(&format!("/orders?{}", serde_urlencoded(&q)))
                .await
                .json()
                .await
                .unwrap();
            v.as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_u64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    let first = page(1).await;
    let reference: Vec<u64> = [first.clone(), page(2).await, page(3).await].concat();
    // A merchant edits an order of page 1 while page 2 is being fetched.
    e.post("/_sim/touch", json!({ "ids": [first[10]] })).await;
    let naive: BTreeSet<u64> = [first.clone(), page(2).await, page(3).await]
        .concat()
        .into_iter()
        .collect();
    let lost: Vec<u64> = reference
        .iter()
        .filter(|id| !naive.contains(id))
        .copied()
        .collect();
    assert_eq!(
        lost,
        vec![reference[100]],
        "offset paging skips the order that slid back"
    );

    // The connector, with the same edit between its pages.
    let e2 = env(SimOptions::default()).await;
    e2.seed(250, 26).await;
    let src = e2.source();
    let until = e2.until();
    let cursor = |t: Option<String>| PullCursor {
        since: None,
        until,
        page_token: t,
    };
    let p1 = src.pull(&cursor(None)).await.unwrap();
    e2.post(
        "/_sim/touch",
        json!({ "ids": [p1.orders[10].external_id.parse::<u64>().unwrap()] }),
    )
    .await;
    let mut ids: Vec<String> = p1.orders.iter().map(|o| o.external_id.clone()).collect();
    let mut tok = p1.next_page_token;
    while let Some(t) = tok {
        let p = src.pull(&cursor(Some(t))).await.unwrap();
        ids.extend(p.orders.iter().map(|o| o.external_id.clone()));
        tok = p.next_page_token;
    }
    let set: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(set.len(), ids.len(), "no order twice");
    assert_eq!(ids.len(), 250, "no order lost");
}

/// More orders modified in one second than a page holds: the token excludes the ids read at
/// that second, page after page.
#[tokio::test]
async fn many_orders_in_one_second_are_read_once() {
    let e = env(SimOptions::default()).await;
    e.seed(60, 27).await;
    e.post("/_sim/update", json!({ "count": 35 })).await;
    e.clock.advance(Duration::seconds(40));
    let src = e.source_with(json!({ "page_size": 10 }), crate::CK, crate::CS);
    let (orders, rejected, pages) = read_all(&*src, None, e.until()).await;
    assert!(rejected.is_empty());
    let ids: BTreeSet<&String> = orders.iter().map(|o| &o.external_id).collect();
    assert_eq!((ids.len(), orders.len()), (60, 60));
    assert!(pages >= 6);
    assert!(
        orders
            .windows(2)
            .all(|w| w[0].updated_at <= w[1].updated_at)
    );
}

/// A store whose host strips the `Authorization` header answers Basic auth as if no key was
/// sent; `auth_in_query` gets through.
#[tokio::test]
async fn a_stripped_authorization_header_needs_auth_in_query() {
    let e = env(SimOptions {
        strip_authorization: true,
        ..SimOptions::default()
    })
    .await;
    e.seed(5, 28).await;
    let cursor = PullCursor {
        since: None,
        until: e.until(),
        page_token: None,
    };
    let err = e.source().pull(&cursor).await.unwrap_err();
    assert_eq!(err.class(), ordersync_sdk::ErrorClass::Auth);
    let msg = err.to_string();
    assert!(
        msg.contains("woocommerce_rest_cannot_view") && msg.contains("auth_in_query"),
        "{msg}"
    );
    let src = e.source_with(json!({ "auth_in_query": true }), crate::CK, crate::CS);
    let (orders, _, _) = read_all(&*src, None, e.until()).await;
    assert_eq!(orders.len(), 5);
}

/// Every order of a large generated store maps, negative fees included: a zero-rated order's
/// loyalty discount (taxes of `0` at rates no item carries) and one in a store whose items
/// are at a reduced rate while shipping is at the standard one (the discount's tax split by
/// tax class, as `get_tax_class_costs` does).
#[tokio::test]
async fn a_large_store_maps_without_a_rejection() {
    let e = env(SimOptions::default()).await;
    e.seed(5000, 43).await;
    let (orders, rejected, _) = read_all(&*e.source(), None, e.clock.now()).await;
    let reasons: Vec<_> = rejected
        .iter()
        .map(|r| format!("{}: {}", r.external_id, r.reason))
        .collect();
    assert!(reasons.is_empty(), "{reasons:?}");
    assert_eq!(orders.len(), 5000);
}
