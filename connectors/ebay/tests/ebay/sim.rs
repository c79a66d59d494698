//! The simulator's eBay traps over raw HTTP, as any client of the API meets them.

use crate::{Env, env, opts};
use ordersync_ebay::client::{ebay_time, millis};
use ordersync_sdk::Clock;
use serde_json::{Value, json};
use time::Duration;

fn ago(e: &Env, d: Duration) -> String {
    ebay_time(millis(e.clock.now() - d))
}

async fn page(e: &Env, query: &str) -> Value {
    let r = e.api(&format!("/sell/fulfillment/v1/order?{query}")).await;
    assert_eq!(r.status(), 200, "{query}");
    r.json().await.unwrap()
}

async fn status_and_error(e: &Env, path_and_query: &str) -> (u16, i64) {
    let r = e.api(path_and_query).await;
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (status, v["errors"][0]["errorId"].as_i64().unwrap_or(0))
}

fn ids(p: &Value) -> Vec<String> {
    p["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["orderId"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creationdate_silently_wins_over_lastmodifieddate() {
    let e = env(opts()).await;
    e.seed(50, 1).await;
    e.clock.advance(Duration::days(10));
    e.post("/_sim/update", json!({ "count": 5 })).await;
    let modified = format!("lastmodifieddate:%5B{}..%5D", ago(&e, Duration::hours(1)));
    let created = format!("creationdate:%5B{}..%5D", ago(&e, Duration::days(30)));
    let p = page(&e, &format!("filter={modified}&limit=200")).await;
    assert_eq!(p["total"], 5, "only the modified orders");
    let both = page(&e, &format!("filter={created},{modified}&limit=200")).await;
    assert_eq!(
        both["total"], 50,
        "with creationdate the modification filter is ignored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_filter_means_ninety_days_and_nothing_is_older_than_two_years() {
    let e = env(opts()).await;
    e.seed(10, 2).await;
    e.clock.advance(Duration::days(100));
    e.seed(7, 3).await;
    assert_eq!(
        page(&e, "limit=200").await["total"],
        7,
        "created in the last 90 days"
    );
    let since = format!(
        "filter=creationdate:%5B{}..%5D&limit=200",
        ago(&e, Duration::days(200))
    );
    assert_eq!(page(&e, &since).await["total"], 17);
    e.clock.advance(Duration::days(640));
    // The first ten are modified now, but were created over two years ago.
    e.post("/_sim/update", json!({ "count": 10 })).await;
    let range = format!(
        "filter=lastmodifieddate:%5B{}..%5D&limit=200",
        ago(&e, Duration::days(729))
    );
    assert_eq!(
        page(&e, &range).await["total"],
        7,
        "the first 10 were created over two years ago"
    );
    let too_long = format!(
        "/sell/fulfillment/v1/order?filter=lastmodifieddate:%5B{}..%5D",
        ago(&e, Duration::days(731))
    );
    assert_eq!(status_and_error(&e, &too_long).await, (400, 30830));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_errors_carry_ebays_error_ids() {
    let e = env(opts()).await;
    let from = ago(&e, Duration::hours(1));
    for (q, want) in [
        ("limit=201".to_string(), 31100),
        ("limit=0".into(), 31100),
        ("offset=-1".into(), 31000),
        ("fieldGroups=EVERYTHING".into(), 32800),
        (format!("filter=lastmodifieddate:[{from}..]"), 30800),
        (format!("filter=modifieddate:%5B{from}..%5D"), 30700),
        ("filter=lastmodifieddate:%5Bsoon..%5D".into(), 30810),
    ] {
        let got = status_and_error(&e, &format!("/sell/fulfillment/v1/order?{q}")).await;
        assert_eq!(got, (400, want), "{q}");
    }
    let many = (0..51)
        .map(|i| format!("27-00000-{i:05}"))
        .collect::<Vec<_>>()
        .join(",");
    let got = status_and_error(&e, &format!("/sell/fulfillment/v1/order?orderIds={many}")).await;
    assert_eq!(got, (400, 30900));
    let got = status_and_error(&e, "/sell/fulfillment/v1/order/27-99999-99999").await;
    assert_eq!(got, (404, 32100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_paging_with_total_next_prev_and_an_empty_last_page() {
    let e = env(opts()).await;
    e.seed(40, 4).await;
    let f = format!(
        "filter=lastmodifieddate:%5B{}..%5D",
        ago(&e, Duration::days(8))
    );
    let p0 = page(&e, &format!("{f}&limit=20")).await;
    assert_eq!(
        (
            p0["total"].as_u64(),
            p0["limit"].as_u64(),
            p0["offset"].as_u64()
        ),
        (Some(40), Some(20), Some(0))
    );
    assert!(p0.get("prev").is_none());
    assert!(
        p0["href"]
            .as_str()
            .unwrap()
            .contains("lastmodifieddate:%5B")
    );
    let next = p0["next"].as_str().unwrap();
    assert!(
        next.contains("offset=20") && next.contains("limit=20"),
        "{next}"
    );
    let p1 = page(&e, &format!("{f}&limit=20&offset=20")).await;
    assert!(p1["prev"].as_str().unwrap().contains("offset=0"));
    assert!(
        p1["next"].as_str().unwrap().contains("offset=40"),
        "a full last page still has a next"
    );
    let p2 = page(&e, &format!("{f}&limit=20&offset=40")).await;
    assert_eq!(
        p2["orders"].as_array().map(Vec::len),
        Some(0),
        "... which is empty"
    );
    assert!(p2.get("next").is_none());
    // Sorted by creation date, not by modification.
    let mut all = ids(&p0);
    all.extend(ids(&p1));
    let created: Vec<String> = p0["orders"]
        .as_array()
        .unwrap()
        .iter()
        .chain(p1["orders"].as_array().unwrap())
        .map(|o| o["creationDate"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = created.clone();
    sorted.sort();
    assert_eq!(created, sorted);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 40);
    for id in &all {
        let ok = id.len() == 14
            && id.bytes().enumerate().all(|(i, b)| {
                if i == 2 || i == 8 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        assert!(ok, "{id} has eBay's NN-NNNNN-NNNNN form");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_ids_override_every_other_parameter() {
    let e = env(opts()).await;
    e.seed(5, 5).await;
    let all = ids(&page(&e, "limit=200").await);
    let q = format!(
        "orderIds={},{}&limit=1&offset=3&filter=bogus:1",
        all[0], all[3]
    );
    let p = page(&e, &q).await;
    assert_eq!(ids(&p), [all[0].clone(), all[3].clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collected_tax_is_in_the_totals_only_with_the_tax_breakdown() {
    let e = env(opts()).await;
    e.seed(60, 6).await;
    let with = page(&e, "limit=200&fieldGroups=TAX_BREAKDOWN").await;
    let without = page(&e, "limit=200").await;
    let mut checked = 0;
    for (a, b) in with["orders"]
        .as_array()
        .unwrap()
        .iter()
        .zip(without["orders"].as_array().unwrap())
    {
        let Some(tax) = a["pricingSummary"]["tax"]["value"].as_str() else {
            continue;
        };
        let total = |o: &Value| {
            o["pricingSummary"]["total"]["value"]
                .as_str()
                .unwrap()
                .parse::<f64>()
                .unwrap()
        };
        let fee = a["pricingSummary"]["fee"]["value"]
            .as_str()
            .map_or(0.0, |f| f.parse::<f64>().unwrap());
        let diff = total(a) - total(b) - tax.parse::<f64>().unwrap() - fee;
        assert!(
            diff.abs() < 0.005,
            "{}: the breakdown adds the collected tax and fees",
            a["orderId"]
        );
        assert!(b["pricingSummary"].get("tax").is_none());
        assert_eq!(b["lineItems"][0]["taxes"], json!([]));
        assert!(
            b["lineItems"][0]["ebayCollectAndRemitTaxes"].is_array(),
            "listed either way"
        );
        assert!(a["lineItems"][0]["taxes"][0]["taxType"].is_string());
        checked += 1;
    }
    assert!(checked > 20, "{checked} taxed orders compared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_status_is_empty_in_get_orders_and_real_in_get_order() {
    let e = env(opts()).await;
    e.seed(20, 7).await;
    let cancelled = e.post("/_sim/cancel", json!({ "count": 2 })).await;
    let ids: Vec<String> = serde_json::from_value(cancelled["ids"].clone()).unwrap();
    assert_eq!(ids.len(), 2);
    let p = page(&e, &format!("orderIds={}", ids.join(","))).await;
    for o in p["orders"].as_array().unwrap() {
        assert_eq!(
            o["cancelStatus"],
            json!({ "cancelState": "NONE_REQUESTED", "cancelRequests": [] })
        );
        assert_eq!(o["orderPaymentStatus"], "FULLY_REFUNDED");
    }
    for id in &ids {
        let one: Value = e
            .api(&format!("/sell/fulfillment/v1/order/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(one["cancelStatus"]["cancelState"], "CANCELED");
        assert_eq!(
            one["cancelStatus"]["cancelRequests"][0]["cancelRequestState"],
            "COMPLETED"
        );
    }
}
