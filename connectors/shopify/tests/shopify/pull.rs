//! Shopify specifics of pulling (the conformance kit covers the common contract): the cost
//! bucket's throttling, the default sort and `first` cap, ids in `fetch`.

use crate::{TOKEN, env, read_all};
use ordersync_sdk::{Clock, ErrorClass, PullCursor};
use ordersync_shopify::sim::SimOptions;
use serde_json::{Value, json};
use std::collections::HashSet;
use time::Duration;

/// Ids are numeric; a GraphQL gid (what the API's `id` field holds) is refused, not looked up.
#[tokio::test]
async fn fetch_refuses_a_gid_as_id() {
    let e = env(SimOptions::default()).await;
    let src = e.source(250, TOKEN);
    assert_eq!(
        src.fetch("gid://shopify/Order/1")
            .await
            .unwrap_err()
            .class(),
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
    // Bucket 600: a page of 7 orders (989 points) can never pass, so the connector shrinks it
    // to 4 (566) from the throttled answer's maximumAvailable, then waits for the refill.
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
    let by_default = e
        .gql(
            "2026-07",
            "query($n: Int!) { orders(first: $n) { edges { node { updatedAt processedAt } } } }",
            json!({"n": 50}),
        )
        .await;
    let by_updated = e.gql("2026-07", "query($n: Int!) { orders(first: $n, sortKey: UPDATED_AT) { edges { node { updatedAt } } } }", json!({"n": 50})).await;
    let (d, u) = (updated(&by_default), updated(&by_updated));
    assert!(u.windows(2).all(|w| w[0] <= w[1]));
    assert!(
        !d.windows(2).all(|w| w[0] <= w[1]),
        "default sort is not by updated_at"
    );
    let reversed = e.gql("2026-07", "query($n: Int!) { orders(first: $n, sortKey: UPDATED_AT, reverse: true) { edges { node { updatedAt } } } }", json!({"n": 50})).await;
    assert!(updated(&reversed).windows(2).all(|w| w[0] >= w[1]));
    let too_big = e
        .gql(
            "2026-07",
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
    let recent = e.gql("2026-07", "query($n: Int!, $q: String) { orders(first: $n, query: $q, sortKey: UPDATED_AT) { edges { cursor } } }", json!({"n": 50, "q": q})).await;
    assert_eq!(
        recent["data"]["orders"]["edges"].as_array().unwrap().len(),
        10,
        "the search query filters"
    );
}

#[tokio::test]
async fn poisoned_orders_are_rejected_while_the_page_maps_the_rest() {
    let e = env(SimOptions::default()).await;
    e.post("/_sim/seed", json!({"count": 20, "seed": 3})).await;
    let huge = e
        .post("/_sim/poison", json!({"kind": "huge_price", "count": 2}))
        .await;
    let bad = e
        .post("/_sim/poison", json!({"kind": "unmappable", "count": 1}))
        .await;
    let far = e
        .post("/_sim/poison", json!({"kind": "far_date", "count": 1}))
        .await;
    let ids = |v: &Value| -> Vec<String> {
        v["external_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_str().unwrap().to_string())
            .collect()
    };
    let src = e.source(250, TOKEN);
    // Pages are sized to the query-cost budget, so the window may take several.
    let until = e.until();
    let mut p = ordersync_sdk::Page::default();
    let mut token = None;
    loop {
        let page = src
            .pull(&PullCursor {
                since: None,
                until,
                page_token: token.take(),
            })
            .await
            .unwrap();
        p.orders.extend(page.orders);
        p.rejected.extend(page.rejected);
        match page.next_page_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let mut rejected: Vec<(String, String)> = p
        .rejected
        .iter()
        .map(|r| (r.external_id.clone(), r.reason.clone()))
        .collect();
    rejected.sort();
    let mut want: Vec<(String, String)> = ids(&huge)
        .into_iter()
        .map(|i| (i, "amount out of range in unit price".to_string()))
        .chain(
            ids(&bad)
                .into_iter()
                .map(|i| (i, "missing totalPriceSet".to_string())),
        )
        .collect();
    want.sort();
    assert_eq!(rejected, want);
    // The far-dated order maps (its date is valid); the 20 seeded ones too.
    assert_eq!(p.orders.len(), 21);
    let far_id = &ids(&far)[0];
    let o = p.orders.iter().find(|o| &o.external_id == far_id).unwrap();
    assert_eq!(o.created_at.year(), 9999);
}
