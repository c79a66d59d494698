//! Orders with more line items than one nested page: the simulator pages `lineItems`, the
//! connector follows up until the order is complete (never rejects it for its size).

use crate::{TOKEN, env, fast, read_all};
use ordersync_sdk::{Decimal, PullCursor};
use serde_json::json;

async fn big_order(e: &crate::Env, lines: u32) -> String {
    let v = e.post("/_sim/order", json!({ "lines": lines })).await;
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn sim_pages_nested_line_items_with_cursors() {
    let e = env(fast()).await;
    let id = big_order(&e, 12).await;
    let q = "query($id: ID!, $after: String) { order(id: $id) { lineItems(first: 5, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }";
    let mut after = None;
    let mut seen = vec![];
    loop {
        let v = e
            .gql(
                "2026-07",
                q,
                json!({ "id": format!("gid://shopify/Order/{id}"), "after": after }),
            )
            .await;
        let li = &v["data"]["order"]["lineItems"];
        for edge in li["edges"].as_array().unwrap() {
            seen.push(edge["node"]["id"].as_str().unwrap().to_string());
        }
        // order 1 + connection 2 + 5 × line 1, refunded on the short last page.
        assert_eq!(v["extensions"]["cost"]["requestedQueryCost"], 8.0);
        if !li["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = Some(li["pageInfo"]["endCursor"].as_str().unwrap().to_string());
    }
    assert_eq!(seen.len(), 12);
    seen.dedup();
    assert_eq!(seen.len(), 12);
    let bad = e
        .gql(
            "2026-07",
            q,
            json!({ "id": format!("gid://shopify/Order/{id}"), "after": "bogus" }),
        )
        .await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_REQUEST");
}

#[tokio::test]
async fn pull_and_fetch_read_every_line_of_a_250_line_order() {
    let e = env(fast()).await;
    e.post("/_sim/seed", json!({"count": 20, "seed": 21})).await;
    let id = big_order(&e, 250).await;
    let src = e.source(250, TOKEN);
    let (orders, _) = read_all(&*src, None, e.until()).await;
    assert_eq!(orders.len(), 21);
    let big = orders.iter().find(|o| o.external_id == id).unwrap();
    assert_eq!(big.lines.len(), 250);
    let ids: std::collections::HashSet<_> = big.lines.iter().map(|l| &l.external_line_id).collect();
    assert_eq!(ids.len(), 250, "no line twice");
    // The totals only balance with every line.
    let lines: Decimal = big
        .lines
        .iter()
        .map(|l| l.gross().expect("no overflow"))
        .sum();
    assert_eq!(lines, big.totals.subtotal);
    let fetched = src.fetch(&id).await.unwrap().unwrap();
    assert_eq!(fetched.lines.len(), 250);
    assert_eq!(fetched.totals, big.totals);
    // Every other order came with its lines in the page itself.
    assert!(orders.iter().all(|o| !o.lines.is_empty()));
}

#[tokio::test]
async fn a_big_order_in_an_incremental_window_is_complete_too() {
    let e = env(fast()).await;
    let id = big_order(&e, 101).await;
    let src = e.source(250, TOKEN);
    let until = e.until();
    let p = src
        .pull(&PullCursor {
            since: Some(until - time::Duration::hours(1)),
            until,
            page_token: None,
        })
        .await
        .unwrap();
    assert!(p.rejected.is_empty());
    assert_eq!(p.orders.len(), 1);
    assert_eq!(p.orders[0].external_id, id);
    assert_eq!(p.orders[0].lines.len(), 101);
}
