//! The simulator's legacy REST surface and its traps.

use crate::{TOKEN, env};
use ordersync_shopify::mapping::order_from_rest;
use ordersync_shopify::sim::SimOptions;
use serde_json::{Value, json};
use std::collections::HashSet;

fn next_link(r: &reqwest::Response) -> Option<String> {
    let link = r.headers().get("link")?.to_str().ok()?.to_string();
    let url = link.strip_prefix('<')?.split('>').next()?.to_string();
    assert!(link.ends_with("rel=\"next\""));
    Some(url)
}

#[tokio::test]
async fn status_defaults_to_open_and_link_pagination_covers_any() {
    let e = env(SimOptions::default()).await;
    e.post("/_sim/seed", json!({"count": 120, "seed": 11}))
        .await;
    let count = |q: &'static str| {
        let e = &e;
        async move {
            e.get(&format!("/admin/api/2026-07/orders/count.json{q}"))
                .await
                .json::<Value>()
                .await
                .unwrap()["count"]
                .as_u64()
                .unwrap()
        }
    };
    let (open, any) = (count("").await, count("?status=any").await);
    assert_eq!(any, 120);
    assert!(
        open < any,
        "closed/cancelled orders are hidden by default ({open} of {any})"
    );

    let r = e.get("/admin/api/2026-07/orders.json?limit=250").await;
    let default: Vec<Value> = r.json::<Value>().await.unwrap()["orders"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(default.len() as u64, open);

    let mut ids = HashSet::new();
    let r = e.get("/admin/api/2026-07/orders.json?status=any&limit=50&order=updated_at+asc&updated_at_min=2000-01-01").await;
    assert!(r.headers().get("x-shopify-shop-api-call-limit").is_some());
    let mut next = next_link(&r);
    let mut prev = None;
    let mut collect = |v: Value| {
        for o in v["orders"].as_array().unwrap() {
            let m = order_from_rest(o).expect("sim REST orders map");
            assert!(
                prev.is_none_or(|p| p <= m.updated_at),
                "order=updated_at asc"
            );
            prev = Some(m.updated_at);
            assert!(ids.insert(m.external_id));
        }
    };
    collect(r.json().await.unwrap());
    while let Some(url) = next {
        let path = url
            .split_once("/admin/")
            .map(|(_, p)| format!("/admin/{p}"))
            .unwrap();
        let r = e.get(&path).await;
        assert_eq!(r.status(), 200);
        next = next_link(&r);
        collect(r.json().await.unwrap());
    }
    assert_eq!(ids.len(), 120);
}

#[tokio::test]
async fn page_info_with_a_filter_and_oversized_limit_are_400() {
    let e = env(SimOptions::default()).await;
    e.post("/_sim/seed", json!({"count": 30, "seed": 12})).await;
    let r = e
        .get("/admin/api/2026-07/orders.json?status=any&limit=10")
        .await;
    let url = next_link(&r).unwrap();
    let token = url.split("page_info=").nth(1).unwrap().to_string();
    let r = e
        .get(&format!(
            "/admin/api/2026-07/orders.json?page_info={token}&status=any"
        ))
        .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["errors"],
        "status cannot be passed when page_info is present"
    );
    let r = e.get("/admin/api/2026-07/orders.json?limit=251").await;
    assert_eq!(r.status(), 400);
    let r = e
        .get(&format!(
            "/admin/api/2026-07/orders.json?page_info={token}&limit=10"
        ))
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn rest_call_limit_bucket_answers_429_with_retry_after() {
    // A leak slow enough that a loaded machine cannot drain the bucket between calls.
    let e = env(SimOptions {
        rest_leak_rate: 0.01,
        ..SimOptions::default()
    })
    .await;
    let mut last = None;
    // Calls outpace the 2/s leak by far, however loaded the machine: the bucket overflows.
    for _ in 0..400 {
        let r = e.get("/admin/api/2026-07/shop.json").await;
        if r.status() == 429 {
            last = Some(r);
            break;
        }
        assert_eq!(r.status(), 200);
    }
    let r = last.expect("the 40-call bucket overflows");
    assert_eq!(r.headers()["retry-after"], "2.0");
    assert_eq!(r.headers()["x-shopify-shop-api-call-limit"], "40/40");
    assert!(e.stats().await["throttled"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn single_order_and_auth() {
    let e = env(SimOptions::default()).await;
    e.post("/_sim/seed", json!({"count": 2, "seed": 13})).await;
    let id = ordersync_shopify::sim::FIRST_ID;
    let v: Value = e
        .get(&format!("/admin/api/2026-07/orders/{id}.json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        order_from_rest(&v["order"]).unwrap().external_id,
        id.to_string()
    );
    assert_eq!(
        e.get("/admin/api/2026-07/orders/1.json").await.status(),
        404
    );
    let r = reqwest::Client::new()
        .get(format!("{}/admin/api/2026-07/orders.json", e.sim.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["errors"]
            .as_str()
            .unwrap()
            .contains("Invalid API key or access token")
    );
    let _ = TOKEN;
}
