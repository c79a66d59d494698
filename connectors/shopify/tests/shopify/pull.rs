//! Pulling through a spawned simulator: pagination, windows, throttling, malformed bodies.

use crate::{TOKEN, env, fast, read_all};
use ordersync_sdk::{Clock, ErrorClass, PullCursor};
use ordersync_shopify::sim::SimOptions;
use serde_json::{Value, json};
use std::collections::HashSet;
use time::Duration;

#[tokio::test]
async fn pages_to_the_end_without_duplicates_or_gaps() {
    let e = env(fast()).await;
    assert_eq!(
        e.post("/_sim/seed", json!({"count": 600, "seed": 1})).await["created"],
        600
    );
    let src = e.source(250, TOKEN);
    let (orders, pages) = read_all(&*src, None, e.until()).await;
    // 15 orders per page: what fits the 1,000-point maximum (queries.rs), not page_size.
    assert_eq!(pages, 40);
    let ids: HashSet<_> = orders.iter().map(|o| o.external_id.clone()).collect();
    assert_eq!(ids.len(), 600);
    assert_eq!(orders.len(), 600);
    // Oldest updated_at first (the watermark depends on it).
    assert!(
        orders
            .windows(2)
            .all(|w| w[0].updated_at <= w[1].updated_at)
    );
    for o in &orders {
        assert!(o.external_id.parse::<u64>().unwrap() > 1 << 53);
        assert!(o.pii.email.as_deref().unwrap().ends_with("@customer.test"));
        assert!(!format!("{o:?}").contains("Canary"));
    }
}

#[tokio::test]
async fn windows_are_bounded_and_updates_show_up() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 300, "seed": 2})).await;
    let src = e.source(100, TOKEN);
    let until = e.until();
    let since = until - Duration::days(2);
    let (part, _) = read_all(&*src, Some(since), until).await;
    assert!(!part.is_empty() && part.len() < 300);
    let slack = Duration::seconds(1); // the query has second precision
    assert!(
        part.iter()
            .all(|o| o.updated_at >= since - slack && o.updated_at <= until)
    );
    e.clock.advance(Duration::seconds(5));
    assert_eq!(
        e.post("/_sim/update", json!({"count": 9})).await["updated"],
        9
    );
    e.clock.advance(Duration::seconds(70));
    let (next, _) = read_all(&*src, Some(until - Duration::minutes(5)), e.until()).await;
    assert_eq!(next.iter().filter(|o| o.updated_at > until).count(), 9);
}

#[tokio::test]
async fn fetch_by_id() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 3, "seed": 3})).await;
    let src = e.source(250, TOKEN);
    let id = (ordersync_shopify::sim::FIRST_ID + 1).to_string();
    let o = src.fetch(&id).await.unwrap().expect("exists");
    assert_eq!(o.external_id, id);
    assert!(src.fetch("999").await.unwrap().is_none());
    assert_eq!(
        src.fetch("gid://x").await.unwrap_err().class(),
        ErrorClass::Permanent
    );
}

/// Drains the shop's cost bucket with a raw query, as another app of the same shop would:
/// 2 + 250 × (node 1 + customer 1) = 502 points.
async fn drain(base: &str) -> Value {
    let body = json!({
        "query": "query($n: Int!) { orders(first: $n, sortKey: UPDATED_AT) { edges { node { customer { firstName } } } } }",
        "variables": { "n": 250 }
    });
    reqwest::Client::new()
        .post(format!("{base}/admin/api/2026-07/graphql.json"))
        .header("X-Shopify-Access-Token", TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn throttled_pull_still_gets_everything(opts: SimOptions) {
    let e = env(opts).await;
    // Enough orders that the drain's actual cost is not refunded.
    e.post("/_sim/seed", json!({"count": 260, "seed": 4})).await;
    let first = drain(&e.sim.base_url).await;
    assert!(
        first["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
            .as_f64()
            .unwrap()
            < 502.0
    );
    let src = e.source(250, TOKEN);
    let (orders, _) = read_all(&*src, None, e.until()).await;
    let ids: HashSet<_> = orders.iter().map(|o| o.external_id.clone()).collect();
    assert_eq!(ids.len(), 260);
    assert!(
        e.stats().await["throttled"].as_u64().unwrap() >= 1,
        "the sim did throttle"
    );
}

#[tokio::test]
async fn throttled_on_http_200_is_retried_after_the_bucket_refills() {
    // Bucket 600: a page of 15 orders (947 points) can never pass, so the connector shrinks it
    // to 9 (569) from the throttled answer's maximumAvailable, then waits for the refill.
    throttled_pull_still_gets_everything(SimOptions {
        bucket_size: 600.0,
        restore_rate: 20_000.0,
        ..Default::default()
    })
    .await;
}

#[tokio::test]
async fn throttled_as_429_is_retried_too() {
    throttled_pull_still_gets_everything(SimOptions {
        bucket_size: 600.0,
        restore_rate: 20_000.0,
        throttle_status_429: true,
        ..Default::default()
    })
    .await;
}

#[tokio::test]
async fn throttled_answer_carries_cost_extensions() {
    let e = env(SimOptions {
        bucket_size: 600.0,
        restore_rate: 1.0,
        ..Default::default()
    })
    .await;
    // Enough orders that the first query's actual cost is not refunded.
    e.post("/_sim/seed", json!({"count": 300, "seed": 4})).await;
    drain(&e.sim.base_url).await;
    let v = drain(&e.sim.base_url).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "THROTTLED");
    assert_eq!(v["extensions"]["cost"]["requestedQueryCost"], 502.0);
    assert!(v.get("data").is_none());
}

#[tokio::test]
async fn malformed_and_truncated_bodies_are_permanent() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 5, "seed": 5})).await;
    e.post("/_sim/faults", json!({"rate": 1.0, "kinds": ["malformed"]}))
        .await;
    let src = e.source(250, TOKEN);
    let err = src
        .pull(&PullCursor {
            since: None,
            until: e.until(),
            page_token: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(e.stats().await["faults_injected"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn injected_429s_are_absorbed() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 120, "seed": 6})).await;
    e.post(
        "/_sim/faults",
        json!({"rate": 0.3, "kinds": ["429", "500"]}),
    )
    .await;
    let src = e.source(50, TOKEN);
    let (orders, _) = read_all(&*src, None, e.until()).await;
    assert_eq!(
        orders
            .iter()
            .map(|o| &o.external_id)
            .collect::<HashSet<_>>()
            .len(),
        120
    );
}

async fn raw(base: &str, query: &str, vars: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/admin/api/2026-07/graphql.json"))
        .header("X-Shopify-Access-Token", TOKEN)
        .json(&json!({ "query": query, "variables": vars }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn updated(v: &Value) -> Vec<String> {
    v["data"]["orders"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["updatedAt"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn sim_default_sort_is_processed_at_and_first_is_capped() {
    let e = env(SimOptions::default()).await;
    e.post("/_sim/seed", json!({"count": 50, "seed": 7})).await;
    e.clock.advance(Duration::seconds(10));
    // Bumping the oldest-updated orders makes updated order differ from processed order.
    e.post("/_sim/update", json!({"count": 10})).await;
    let by_default = raw(
        &e.sim.base_url,
        "query($n: Int!) { orders(first: $n) { edges { node { updatedAt processedAt } } } }",
        json!({"n": 50}),
    )
    .await;
    let by_updated = raw(&e.sim.base_url, "query($n: Int!) { orders(first: $n, sortKey: UPDATED_AT) { edges { node { updatedAt } } } }", json!({"n": 50})).await;
    let (d, u) = (updated(&by_default), updated(&by_updated));
    assert!(u.windows(2).all(|w| w[0] <= w[1]));
    assert!(
        !d.windows(2).all(|w| w[0] <= w[1]),
        "default sort is not by updated_at"
    );
    let reversed = raw(&e.sim.base_url, "query($n: Int!) { orders(first: $n, sortKey: UPDATED_AT, reverse: true) { edges { node { updatedAt } } } }", json!({"n": 50})).await;
    assert!(updated(&reversed).windows(2).all(|w| w[0] >= w[1]));
    let too_big = raw(
        &e.sim.base_url,
        "query($n: Int!) { orders(first: $n) { edges { cursor } } }",
        json!({"n": 251}),
    )
    .await;
    assert_eq!(too_big["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    assert!(too_big["extensions"].is_null() || too_big.get("data").is_none());
    let until = e.clock.now() - Duration::seconds(5);
    let q = format!(
        "updated_at:>{}",
        (until)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    );
    let recent = raw(&e.sim.base_url, "query($n: Int!, $q: String) { orders(first: $n, query: $q, sortKey: UPDATED_AT) { edges { cursor } } }", json!({"n": 50, "q": q})).await;
    assert_eq!(
        recent["data"]["orders"]["edges"].as_array().unwrap().len(),
        10,
        "the search query filters"
    );
}
