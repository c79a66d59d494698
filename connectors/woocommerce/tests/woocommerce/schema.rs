//! The simulator's bodies against the JSON Schema derived from the copied order properties
//! (`fixtures/order.schema.json`; WooCommerce publishes no OpenAPI document): lists, single
//! orders, refunds and error bodies — and the spec's own examples, which the schema must take.

use crate::env;
use ordersync_conformance::openapi::Spec;
use ordersync_woocommerce::sim::{CASES, SimOptions};
use serde_json::{Value, json};

fn spec() -> Spec {
    Spec::load(format!(
        "{}/fixtures/order.schema.json",
        env!("CARGO_MANIFEST_DIR")
    ))
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_spec_examples_fit_the_schema() {
    let s = spec();
    s.assert_valid("Order", &fixture("orders.retrieve.response.json"));
    s.assert_valid("OrderList", &fixture("orders.list.response.json"));
    s.assert_valid("RefundList", &fixture("order-refunds.list.response.json"));
    assert!(
        !s.errors("Order", &json!({ "id": 1, "status": "shipped" }))
            .is_empty()
    );
}

#[tokio::test]
async fn simulator_bodies_validate() {
    let s = spec();
    let e = env(SimOptions::default()).await;
    e.seed(400, 51).await;
    for c in CASES {
        e.case(c).await;
    }
    let statuses =
        "pending,processing,on-hold,completed,cancelled,refunded,failed,trash,checkout-draft";
    let mut with_refunds = vec![];
    for page in 1..=5 {
        let v: Value = e
            .api(&format!(
                "/orders?per_page=100&page={page}&status={statuses}"
            ))
            .await
            .json()
            .await
            .unwrap();
        s.assert_valid("OrderList", &v);
        for o in v.as_array().unwrap() {
            if !o["refunds"].as_array().unwrap().is_empty() {
                with_refunds.push(o["id"].as_u64().unwrap());
            }
        }
    }
    assert!(!with_refunds.is_empty());
    for id in with_refunds.iter().take(30) {
        let r: Value = e
            .api(&format!("/orders/{id}/refunds"))
            .await
            .json()
            .await
            .unwrap();
        s.assert_valid("RefundList", &r);
    }
    let one: Value = e.api("/orders/1001").await.json().await.unwrap();
    s.assert_valid("Order", &one);
    for (path, status) in [
        ("/orders/999", 404),
        ("/orders?per_page=500", 400),
        ("/nope", 404),
    ] {
        let r = e.api(path).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
        s.assert_valid("Error", &r.json::<Value>().await.unwrap());
    }
    let unauth: Value = reqwest::get(format!("{}/wp-json/wc/v3/orders", e.sim.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    s.assert_valid("Error", &unauth);
}
