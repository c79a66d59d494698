//! The calculated query cost: the simulator computes it from the query, refuses what exceeds
//! the single-query maximum, refunds unused page capacity; the connector sizes its pages from
//! what it is told.

use crate::{TOKEN, env, fast, read_all};
use ordersync_shopify::queries::{LINE_PAGE, ORDERS_QUERY};
use ordersync_shopify::sim::SimOptions;
use serde_json::json;
use std::collections::HashSet;

const TOO_BIG: &str = "{ orders(first: 250) { edges { node { id lineItems(first: 100) { edges { node { id quantity originalUnitPriceSet { shopMoney { amount } } } } } } } } }";

#[tokio::test]
async fn sim_refuses_a_query_above_the_single_query_maximum() {
    let e = env(SimOptions::default()).await;
    e.post("/_sim/seed", json!({"count": 3, "seed": 1})).await;
    let v = e.gql("2026-07", TOO_BIG, json!({})).await;
    // One line: 1 + money bag 2 = 3; one order: 1 + 2 + 100·3 = 303; 2 + 250·303.
    let err = &v["errors"][0];
    assert_eq!(err["extensions"]["code"], "MAX_COST_EXCEEDED");
    assert_eq!(err["extensions"]["cost"], 75_752.0);
    assert_eq!(err["extensions"]["maxCost"], 1000.0);
    assert!(
        err["message"].as_str().unwrap().starts_with(
            "Query cost is 75752, which exceeds the single query max cost limit (1000)"
        )
    );
    assert!(v.get("data").is_none());
    // Refused before it ran: nothing was charged.
    let ok = e
        .gql(
            "2026-07",
            "{ orders(first: 1) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        ok["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"],
        2000.0 - 3.0,
        "the refused query left the bucket full"
    );
}

#[tokio::test]
async fn the_connectors_orders_query_costs_what_its_docs_say() {
    let e = env(SimOptions::default()).await;
    e.post("/_sim/seed", json!({"count": 40, "seed": 2})).await;
    let vars = |first: u32| json!({ "first": first, "query": "updated_at:<='2100-01-01T00:00:00Z'", "lineFirst": LINE_PAGE });
    // 7 orders: 2 + 7 × (86 + 11 × 5) = 989, the page size the connector starts with.
    let v = e.gql("2026-07", ORDERS_QUERY, vars(7)).await;
    let cost = &v["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 989.0);
    // Unused capacity is refunded: an order returns at least one line and one shipping line
    // (141 − 44 − 10 − 10 − 4 fulfillments = 73 at least).
    let actual = cost["actualQueryCost"].as_f64().unwrap();
    assert!((2.0 + 7.0 * 73.0..989.0).contains(&actual), "{actual}");
    // 8 would be 1,130: refused.
    let v = e.gql("2026-07", ORDERS_QUERY, vars(8)).await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED");
    assert_eq!(v["errors"][0]["extensions"]["cost"], 1130.0);
}

#[tokio::test]
async fn connector_shrinks_pages_on_max_cost_exceeded() {
    // A stricter server: the connector's first page (989) is refused, it learns the cost per
    // order from the refusal and reads everything in pages that fit.
    let e = env(SimOptions {
        max_query_cost: 400.0,
        ..fast()
    })
    .await;
    e.post("/_sim/seed", json!({"count": 50, "seed": 3})).await;
    let src = e.source(250, TOKEN);
    let (orders, pages) = read_all(&*src, None, e.until()).await;
    let ids: HashSet<_> = orders.iter().map(|o| o.external_id.clone()).collect();
    assert_eq!(ids.len(), 50);
    // ⌊(400 − 2) / 141⌋ = 2 orders per page.
    assert_eq!(pages, 25);
}

#[tokio::test]
async fn page_size_config_stays_the_upper_bound() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 20, "seed": 4})).await;
    let src = e.source(7, TOKEN);
    let (orders, pages) = read_all(&*src, None, e.until()).await;
    assert_eq!((orders.len(), pages), (20, 3));
}
