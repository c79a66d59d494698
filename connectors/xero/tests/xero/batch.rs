//! Batches: what a batch of new buyers costs, and that one bad element, a lost answer or a
//! buyer twice in a batch never costs a second invoice or contact.

use crate::{env, key, received, stats};
use ordersync_conformance::{sample_order, sim_post};
use ordersync_sdk::{
    ConnectorError, DeliveryOutcome, DeliveryRequest, ErrorClass, Order, OutcomeKind, Sink,
};
use serde_json::{Value, json};
use std::sync::Arc;

fn reqs<'a>(orders: &'a [Order], keys: &'a [(String, String)]) -> Vec<DeliveryRequest<'a>> {
    orders
        .iter()
        .zip(keys)
        .map(|(o, (k, obj))| DeliveryRequest {
            order: o,
            idempotency_key: k,
            object_key: obj,
            previous_ref: None,
        })
        .collect()
}

fn keys(prefix: &str, n: u64) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("{prefix}-k{i}"), key(prefix, i)))
        .collect()
}

async fn batch(
    sink: &Arc<dyn Sink>,
    orders: &[Order],
    keys: &[(String, String)],
) -> Vec<Result<DeliveryOutcome, ConnectorError>> {
    sink.deliver_batch(&reqs(orders, keys)).await
}

fn routes(s: &Value) -> Value {
    s["by_route"].clone()
}

fn calls(before: &Value, after: &Value, route: &str) -> u64 {
    after[route].as_u64().unwrap_or(0) - before[route].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_new_buyers_cost_four_calls() {
    let e = env().await;
    // Warm the per-instance setup (tax rates, currencies) so only the batch is counted.
    let warm = [sample_order(99)];
    batch(&e.sink, &warm, &keys("w", 1)).await[0]
        .as_ref()
        .unwrap();
    let orders: Vec<Order> = (0..10).map(|i| sample_order(100 + i)).collect();
    let ks = keys("b", 10);
    let before = routes(&stats(&e.sim.base_url).await);
    let out = batch(&e.sink, &orders, &ks).await;
    assert!(
        out.iter()
            .all(|r| r.as_ref().unwrap().kind == OutcomeKind::Created),
        "{out:?}"
    );
    let after = routes(&stats(&e.sim.base_url).await);
    let total: u64 = [
        "GET /Invoices",
        "GET /Contacts",
        "PUT /Contacts",
        "PUT /Invoices",
    ]
    .iter()
    .map(|r| {
        let (m, p) = r.split_once(' ').unwrap();
        let n = calls(&before, &after, &format!("{m} /api.xro/2.0{p}"));
        assert_eq!(n, 1, "{r}");
        n
    })
    .sum();
    assert_eq!(total, 4, "{before} → {after}");
    let all: u64 = after
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum::<u64>()
        - before
            .as_object()
            .unwrap()
            .values()
            .filter_map(Value::as_u64)
            .sum::<u64>();
    assert_eq!(all, 4, "nothing else was called: {before} → {after}");
    let s = stats(&e.sim.base_url).await;
    assert_eq!(s["invoices"], 11);
    assert_eq!(s["contacts"], 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_invoice_fails_alone_and_lands_on_replay() {
    let e = env().await;
    let orders: Vec<Order> = (0..4).map(|i| sample_order(200 + i)).collect();
    let ks = keys("r", 4);
    // The next element written is refused: the first contact of the batch.
    sim_post(&e.sim.base_url, "/_sim/reject", json!({"count": 1})).await;
    let out = batch(&e.sink, &orders, &ks).await;
    // A refused contact is retried one by one, so every invoice lands.
    assert!(out.iter().all(Result::is_ok), "{out:?}");
    // Now an invoice is refused: the contacts are cached, so the next write is the invoices.
    let more: Vec<Order> = orders
        .iter()
        .map(|o| {
            let mut o = o.clone();
            o.order_number = format!("{}-2", o.order_number);
            o
        })
        .collect();
    let ks2 = keys("r2", 4);
    sim_post(&e.sim.base_url, "/_sim/reject", json!({"count": 1})).await;
    let out = batch(&e.sink, &more, &ks2).await;
    let err = out[0].as_ref().unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(out[1..].iter().all(Result::is_ok), "{out:?}");
    assert_eq!(stats(&e.sim.base_url).await["invoices"], 7);
    // The replay of the refused one creates it, once.
    let again = batch(&e.sink, &more[..1], &ks2[..1]).await;
    assert_eq!(again[0].as_ref().unwrap().kind, OutcomeKind::Created);
    assert_eq!(stats(&e.sim.base_url).await["invoices"], 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_batch_answer_is_retried_without_a_second_invoice() {
    let e = env().await;
    let orders: Vec<Order> = (0..5).map(|i| sample_order(300 + i)).collect();
    let ks = keys("l", 5);
    let first = batch(&e.sink, &orders, &ks).await;
    assert!(first.iter().all(Result::is_ok));
    // The same batch again (its answer was lost), then in another grouping: every order
    // is found by its number, nothing is created twice.
    let again = batch(&e.sink, &orders, &ks).await;
    assert!(again.iter().all(Result::is_ok), "{again:?}");
    let regroup = batch(&e.sink, &orders[1..4], &ks[1..4]).await;
    assert!(regroup.iter().all(Result::is_ok), "{regroup:?}");
    for (a, b) in first.iter().zip(&again) {
        assert_eq!(
            a.as_ref().unwrap().external_ref,
            b.as_ref().unwrap().external_ref
        );
    }
    let r = received(&e.sim.base_url).await;
    assert_eq!(r.count, 5, "one invoice per order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_buyer_twice_in_a_batch_is_one_contact_and_a_namesake_gets_a_suffix() {
    let e = env().await;
    let a = sample_order(400);
    let mut b = sample_order(401);
    b.pii.email = a.pii.email.clone();
    // Another person with a's name, in the same batch.
    let mut c = sample_order(402);
    c.pii.buyer_name = a.pii.buyer_name.clone();
    let orders = [a, b, c];
    let out = batch(&e.sink, &orders, &keys("n", 3)).await;
    assert!(out.iter().all(Result::is_ok), "{out:?}");
    assert_eq!(stats(&e.sim.base_url).await["contacts"], 2);
    let raw = crate::Raw::new(&e.sim.base_url).await;
    let (_, _, v) = raw.call(reqwest::Method::GET, "/Contacts", None).await;
    let names: Vec<&str> = v["Contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["Name"].as_str().unwrap())
        .collect();
    let name = orders[0].pii.buyer_name.clone().unwrap();
    assert!(names.contains(&name.as_str()), "{names:?}");
    assert!(
        names.iter().any(|n| n.starts_with(&format!("{name} ("))),
        "{names:?}"
    );
}
