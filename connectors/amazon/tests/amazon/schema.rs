//! The simulator's bodies validate against the copied `orders_2026-01-01.json`: lists and
//! single orders with every dataset of `includedData` (and with none), every named case and
//! a seeded store, and the error lists of 400, 403, 404, 429 and 500.

use crate::env;
use ordersync_amazon::sim::{CASES, DATASETS, SimOptions};
use ordersync_conformance::openapi::Spec;
use serde_json::{Value, json};

const SEARCH: &str = "/orders/2026-01-01/orders";
const ALL_MARKETS: &str =
    "ATVPDKIKX0DER,A2EUQ1WTGCTBG2,A1F83G8C2ARO7P,A1PA6795UKMFR9,A1VC38T7YXB528";

fn spec() -> Spec {
    let spec = Spec::load(format!(
        "{}/fixtures/orders_2026-01-01.json",
        env!("CARGO_MANIFEST_DIR")
    ));
    // The check bites: a number for an id, a missing required field.
    assert!(
        !spec
            .errors("GetOrderResponse", &json!({ "order": { "orderId": 5 } }))
            .is_empty()
    );
    assert!(
        !spec
            .errors("ErrorList", &json!({ "errors": [{ "code": "X" }] }))
            .is_empty()
    );
    spec
}

#[tokio::test]
async fn list_and_single_orders_validate() {
    let spec = spec();
    let e = env(SimOptions::relaxed()).await;
    e.post("/_sim/seed", json!({ "count": 400, "seed": 21 }))
        .await;
    for c in CASES {
        e.case(c).await;
    }
    // The page tokens of one search, with every dataset and with none.
    for included in [DATASETS.join(","), String::new()] {
        let mut token: Option<String> = None;
        let mut n = 0;
        loop {
            let mut q = format!(
                "{SEARCH}?lastUpdatedAfter=2026-01-01T00:00:00Z&marketplaceIds={ALL_MARKETS}&maxResultsPerPage=100"
            );
            if !included.is_empty() {
                q.push_str(&format!("&includedData={included}"));
            }
            if let Some(t) = &token {
                q.push_str(&format!("&paginationToken={t}"));
            }
            let r = e.api(&q).await;
            assert_eq!(r.status(), 200);
            let v: Value = r.json().await.unwrap();
            spec.assert_valid("SearchOrdersResponse", &v);
            n += v["orders"].as_array().unwrap().len();
            match v["pagination"]["nextToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        assert_eq!(n, 400 + CASES.len());
    }
    let list: Value = e
        .api(&format!(
            "{SEARCH}?lastUpdatedAfter=2026-01-01T00:00:00Z&marketplaceIds={ALL_MARKETS}&maxResultsPerPage=30"
        ))
        .await
        .json()
        .await
        .unwrap();
    for o in list["orders"].as_array().unwrap() {
        let id = o["orderId"].as_str().unwrap();
        let v: Value = e
            .api(&format!(
                "{SEARCH}/{id}?includedData={}",
                DATASETS.join(",")
            ))
            .await
            .json()
            .await
            .unwrap();
        spec.assert_valid("GetOrderResponse", &v);
    }
}

#[tokio::test]
async fn error_bodies_validate() {
    let spec = spec();
    let e = env(SimOptions::default()).await;
    let mut bodies = vec![];
    // 400: the two-minute rule; 404: an unknown order.
    for (q, status) in [
        (
            format!(
                "{SEARCH}?lastUpdatedAfter=2026-01-01T00:00:00Z&lastUpdatedBefore=2999-01-01T00:00:00Z&marketplaceIds=ATVPDKIKX0DER"
            ),
            400,
        ),
        (format!("{SEARCH}/999-0000000-0000000"), 404),
    ] {
        let r = e.api(&q).await;
        assert_eq!(r.status(), status);
        bodies.push(r.json::<Value>().await.unwrap());
    }
    // 403: no token, and the role withdrawn.
    let r = reqwest::get(format!("{}{SEARCH}/1", e.sim.base_url))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    bodies.push(r.json().await.unwrap());
    e.post("/_sim/roles", json!({ "pii": false })).await;
    let r = e.api(&format!("{SEARCH}/1?includedData=BUYER")).await;
    assert_eq!(r.status(), 403);
    bodies.push(r.json().await.unwrap());
    // 500 and 429 as the fault layer answers them (the token fetched before: LWA is
    // faulted too).
    let token = e.access_token().await;
    for kind in ["500", "429"] {
        e.post("/_sim/faults", json!({ "rate": 1.0, "kinds": [kind] }))
            .await;
        let r = reqwest::Client::new()
            .get(format!("{}{SEARCH}/1", e.sim.base_url))
            .header("x-amz-access-token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16().to_string(), kind);
        bodies.push(r.json().await.unwrap());
    }
    for b in &bodies {
        spec.assert_valid("ErrorList", b);
    }
}
