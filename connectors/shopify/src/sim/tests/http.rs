//! The connector's own GraphQL documents (`queries.rs`) against the served simulator: named
//! cases seeded through `/_sim/case`, the page query, the extras follow-up and their costs.

use crate::queries::{LINE_PAGE, ORDER_EXTRAS_QUERY, ORDERS_QUERY};
use crate::sim::{SimOptions, spawn};
use ordersync_sdk::ManualClock;
use ordersync_sdk::sim::SimServer;
use serde_json::{Value, json};
use std::sync::Arc;

async fn post(sim: &SimServer, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", sim.base_url))
        .header("X-Shopify-Access-Token", "shpat_test")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn gql(sim: &SimServer, query: &str, vars: Value) -> Value {
    let path = "/admin/api/2026-07/graphql.json";
    post(sim, path, json!({ "query": query, "variables": vars }))
        .await
        .1
}

#[tokio::test]
async fn the_page_and_the_extras_follow_up_answer_the_connectors_documents() {
    let clock = Arc::new(ManualClock::new());
    let sim = spawn(SimOptions::default(), clock.clone()).await.unwrap();
    let mut ids = Vec::new();
    for case in [
        "multiple_shipping_lines",
        "shipping_refund",
        "many_discounts",
    ] {
        let (status, v) = post(&sim, "/_sim/case", json!({ "case": case })).await;
        assert_eq!(status, 200, "{v}");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let (status, v) = post(&sim, "/_sim/case", json!({ "case": "nope" })).await;
    assert_eq!(status, 404);
    assert!(v["cases"].as_array().unwrap().len() == crate::sim::CASES.len());

    let vars = json!({ "first": 7, "query": "updated_at:<='2100-01-01T00:00:00Z'", "lineFirst": LINE_PAGE });
    let v = gql(&sim, ORDERS_QUERY, vars).await;
    let cost = &v["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 989.0, "{v}");
    let actual = cost["actualQueryCost"].as_f64().unwrap();
    // Three orders of 2–6 lines, 1–3 shipping lines and 0–6 discounts: 2 + Σ of what came.
    assert!(actual < 989.0 && actual > 2.0 + 3.0 * 60.0, "{actual}");
    let edges = v["data"]["orders"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 3);
    let by_id = |id: &str| {
        edges
            .iter()
            .find(|e| e["node"]["legacyResourceId"] == id)
            .unwrap()["node"]
            .clone()
    };
    let multi = by_id(&ids[0]);
    assert_eq!(multi["shippingLines"]["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(multi["shippingLines"]["pageInfo"]["hasNextPage"], true);
    let many = by_id(&ids[2]);
    assert_eq!(
        many["discountApplications"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        many["discountApplications"]["pageInfo"]["hasNextPage"],
        true
    );
    let refunded = by_id(&ids[1]);
    assert_eq!(
        refunded["refunds"],
        json!([{ "id": refunded["refunds"][0]["id"] }])
    );
    assert_eq!(refunded["displayFinancialStatus"], "PARTIALLY_REFUNDED");

    let gid = |id: &str| format!("gid://shopify/Order/{id}");
    let v = gql(
        &sim,
        ORDER_EXTRAS_QUERY,
        json!({ "id": gid(&ids[1]), "first": 130 }),
    )
    .await;
    assert_eq!(v["extensions"]["cost"]["requestedQueryCost"], 992.0, "{v}");
    let o = &v["data"]["order"];
    let r = &o["refunds"][0];
    assert_eq!(r["refundLineItems"]["nodes"][0]["quantity"], 1);
    assert_eq!(r["refundLineItems"]["nodes"][0]["restockType"], "RETURN");
    assert_eq!(r["refundLineItems"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(
        r["refundShippingLines"]["nodes"][0]["subtotalAmountSet"]["shopMoney"]["amount"],
        "4.99"
    );
    assert_eq!(r["totalRefundedSet"]["shopMoney"]["amount"], "14.73");
    assert_eq!(r["orderAdjustments"]["nodes"], json!([]));
    assert_eq!(r["duties"], json!([]));
    assert!(o.get("lineItems").is_none());
    // The bucket (restore 100/s) refills before the next 992-point query.
    clock.advance(time::Duration::seconds(10));
    let v = gql(
        &sim,
        ORDER_EXTRAS_QUERY,
        json!({ "id": gid(&ids[0]), "first": 130 }),
    )
    .await;
    let o = &v["data"]["order"];
    assert!(o.is_object(), "{v}");
    assert_eq!(o["shippingLines"]["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(o["shippingLines"]["pageInfo"]["hasNextPage"], false);
    // No refunds: the list's selection is not charged.
    let actual = v["extensions"]["cost"]["actualQueryCost"].as_f64().unwrap();
    assert_eq!(actual, 1.0 + (2.0 + 3.0 * 10.0) + 2.0 + 1.0);
}
