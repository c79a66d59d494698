//! The sink end to end against the simulator.

use crate::orders::gbp_fully_refunded;
use crate::{build, deps, env, env_with, key, received, secrets};
use ordersync_conformance::{assert_no_canary, sample_order, sim_get, sim_post};
use ordersync_sdk::{Clock, DeliveryRequest, ErrorClass, Order, OutcomeKind};
use ordersync_shipstation::mapping::NOTHING_TO_SHIP;
use ordersync_shipstation::sim::SimOptions;
use serde_json::json;
use std::collections::HashMap;
use time::Duration;

fn req<'a>(o: &'a Order, obj: &'a str, prev: Option<&'a str>) -> DeliveryRequest<'a> {
    DeliveryRequest {
        order: o,
        idempotency_key: obj,
        object_key: obj,
        previous_ref: prev,
    }
}

#[tokio::test]
async fn a_batch_of_250_lands_as_250_objects() {
    let e = env().await;
    let orders: Vec<Order> = (0..250).map(sample_order).collect();
    let keys: Vec<String> = (0..250).map(|i| key("b", i)).collect();
    let reqs: Vec<_> = orders
        .iter()
        .zip(&keys)
        .map(|(o, k)| req(o, k, None))
        .collect();
    let out = e.sink.deliver_batch(&reqs).await;
    assert_eq!(out.len(), 250);
    assert!(
        out.iter()
            .all(|r| matches!(r, Ok(o) if o.kind == OutcomeKind::Created))
    );
    let r = received(&e.sim.base_url).await;
    assert_eq!(r["count"], 250);
    // Each order once, under its own key; three POSTs of at most 100.
    let mut per_order: HashMap<String, usize> = HashMap::new();
    for o in r["objects"].as_array().unwrap() {
        *per_order
            .entry(o["external_order_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(per_order.len(), 250);
    let stats = sim_get(&e.sim.base_url, "/_sim/stats").await;
    assert_eq!(stats["by_route"]["POST /v2/shipments"], 3);
}

#[tokio::test]
async fn a_lost_response_resolves_to_the_existing_object() {
    let e = env().await;
    let o = sample_order(1);
    let k = key("lost", 1);
    let first = e.sink.deliver(req(&o, &k, None)).await.unwrap();
    assert_eq!(first.kind, OutcomeKind::Created);
    // The engine never saw `first` (response lost) and delivers again with the same key.
    // The existing shipment gets the current body (it may be an older version).
    let again = e.sink.deliver(req(&o, &k, None)).await.unwrap();
    assert_eq!(again.kind, OutcomeKind::Updated);
    assert_eq!(again.external_ref, first.external_ref);
    // Same key twice inside one batch: still one object, both resolve to it.
    let k2 = key("lost", 2);
    let o2 = sample_order(2);
    let out = e
        .sink
        .deliver_batch(&[req(&o2, &k2, None), req(&o2, &k2, None)])
        .await;
    let refs: Vec<_> = out.into_iter().map(|r| r.unwrap().external_ref).collect();
    assert_eq!(refs[0], refs[1]);
    assert_eq!(received(&e.sim.base_url).await["count"], 2);
}

#[tokio::test]
async fn previous_ref_updates_the_same_object() {
    let e = env().await;
    let mut o = sample_order(3);
    let k = key("upd", 3);
    let created = e.sink.deliver(req(&o, &k, None)).await.unwrap();
    o.order_number = "#C3-b".into();
    let updated = e
        .sink
        .deliver(req(&o, &k, Some(&created.external_ref)))
        .await
        .unwrap();
    assert_eq!(updated.kind, OutcomeKind::Updated);
    assert_eq!(updated.external_ref, created.external_ref);
    let r = received(&e.sim.base_url).await;
    assert_eq!(r["count"], 1);
    assert_eq!(r["objects"][0]["updates"], 1);
    assert_eq!(r["objects"][0]["shipment_number"], "#C3-b");
    let gone = e
        .sink
        .deliver(req(&o, &k, Some("se-424242")))
        .await
        .unwrap_err();
    assert_eq!(gone.class(), ErrorClass::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_absorbed_and_every_delivery_lands() {
    // 4 requests a second at the sim; the connector's own gate is wide open so it meets 429s.
    let e = env_with(SimOptions {
        requests_per_minute: 4,
        rate_window_secs: 1,
        ..SimOptions::default()
    })
    .await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10u64 {
        let sink = e.sink.clone();
        tasks.spawn(async move {
            let o = sample_order(10 + i);
            let k = key("thr", i);
            sink.deliver(req(&o, &k, None)).await.map(|_| ())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap()
            .expect("throttled deliveries are retried after Retry-After");
    }
    assert_eq!(received(&e.sim.base_url).await["count"], 10);
    let stats = sim_get(&e.sim.base_url, "/_sim/stats").await;
    assert!(
        stats["throttled"].as_u64().unwrap() >= 1,
        "the sim did throttle: {stats}"
    );
}

#[tokio::test]
async fn a_missing_address_fails_only_that_order() {
    let e = env().await;
    let good = sample_order(20);
    let mut bad = sample_order(21);
    bad.pii.shipping_address.as_mut().unwrap().line1 = None;
    let mut no_addr = sample_order(22);
    no_addr.pii.shipping_address = None;
    let (k1, k2, k3, k4) = (key("m", 1), key("m", 2), key("m", 3), key("m", 4));
    let out = e
        .sink
        .deliver_batch(&[
            req(&good, &k1, None),
            req(&bad, &k2, None),
            req(&sample_order(23), &k3, None),
            req(&no_addr, &k4, None),
        ])
        .await;
    assert!(out[0].is_ok() && out[2].is_ok());
    for r in [&out[1], &out[3]] {
        let err = r.as_ref().unwrap_err();
        assert_eq!(err.class(), ErrorClass::Permanent);
        assert_no_canary("error", &err.to_string());
        assert_no_canary("debug", &format!("{err:?}"));
    }
    assert_eq!(received(&e.sim.base_url).await["count"], 2);
}

#[tokio::test]
async fn a_malformed_answer_is_retriable_and_never_duplicates() {
    let e = env().await;
    let o = sample_order(30);
    let k = key("mal", 1);
    sim_post(
        &e.sim.base_url,
        "/_sim/faults",
        json!({"rate": 1.0, "kinds": ["malformed"]}),
    )
    .await;
    // The outcome of a garbled 2xx is unknown: retriable, and safe to retry (stable key).
    let err = e.sink.deliver(req(&o, &k, None)).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Retriable);
    assert_no_canary("error", &err.to_string());
    let status = e.sink.delivery_status("se-1").await.unwrap_err();
    assert_eq!(status.class(), ErrorClass::Retriable);
    sim_post(&e.sim.base_url, "/_sim/faults", json!({"rate": 0.0})).await;
    e.sink.deliver(req(&o, &k, None)).await.unwrap();
    assert_eq!(received(&e.sim.base_url).await["count"], 1);
}

#[tokio::test]
async fn bad_key_is_auth_and_v1_needs_its_secret() {
    let e = env_with(SimOptions {
        api_keys: Some(vec!["right".into()]),
        ..SimOptions::relaxed()
    })
    .await;
    let wrong = build(&e.sim.base_url, "wrong", 1000, &e.clock);
    let o = sample_order(40);
    let k = key("auth", 1);
    let err = wrong.deliver(req(&o, &k, None)).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Auth);
    assert_no_canary("error", &err.to_string());
    assert_eq!(received(&e.sim.base_url).await["count"], 0);

    let v1 = ordersync_shipstation::build_sink(
        &json!({"api_version": "v1"}),
        &secrets("k"),
        &deps(&e.clock),
    );
    let msg = v1.err().expect("v1 without api_secret").to_string();
    assert!(msg.contains("api_secret"), "{msg}");
    let no_key =
        ordersync_shipstation::build_sink(&json!({}), &Default::default(), &deps(&e.clock));
    assert_eq!(
        no_key.err().expect("needs api_key").class(),
        ErrorClass::Permanent
    );
}

#[tokio::test]
async fn delivery_status_appears_after_five_days() {
    let e = env().await;
    let o = sample_order(50);
    let k = key("st", 1);
    let out = e.sink.deliver(req(&o, &k, None)).await.unwrap();
    assert_eq!(
        e.sink.delivery_status(&out.external_ref).await.unwrap(),
        None,
        "no label yet"
    );
    e.clock.advance(Duration::hours(30));
    assert_eq!(
        e.sink.delivery_status(&out.external_ref).await.unwrap(),
        None,
        "labelled, in transit"
    );
    e.clock.advance(Duration::days(4));
    let d = e
        .sink
        .delivery_status(&out.external_ref)
        .await
        .unwrap()
        .expect("delivered by day 5");
    assert!(d.at <= e.clock.now());
    assert!(e.clock.now() - d.at < Duration::days(4));
    assert_eq!(
        e.sink.delivery_status("se-99999").await.unwrap(),
        None,
        "no such shipment, no label"
    );
}

#[tokio::test]
async fn a_fully_refunded_order_is_skipped_and_its_shipment_is_withdrawn() {
    let e = env().await;
    // Never shipped: skipped in the batch (nothing for a warehouse to do), the others land.
    let (k1, k2) = (key("ref", 1), key("ref", 2));
    let gone = gbp_fully_refunded(1);
    let out = e
        .sink
        .deliver_batch(&[req(&gone, &k1, None), req(&sample_order(60), &k2, None)])
        .await;
    let skipped = out[0].as_ref().unwrap();
    assert_eq!(skipped.kind, OutcomeKind::Skipped);
    assert!(skipped.external_ref.is_empty());
    assert!(out[1].is_ok());
    assert_eq!(received(&e.sim.base_url).await["count"], 1);

    // Shipped before the refund: the pending shipment is cancelled, so it never goes out.
    let placed = sample_order(5);
    let k3 = key("ref", 3);
    let made = e.sink.deliver(req(&placed, &k3, None)).await.unwrap();
    let out = e
        .sink
        .deliver(req(&gbp_fully_refunded(5), &k3, Some(&made.external_ref)))
        .await
        .unwrap();
    assert_eq!(
        out.kind,
        OutcomeKind::Skipped,
        "cancelled: nothing left to track"
    );
    let r = received(&e.sim.base_url).await;
    let obj = r["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["external_ref"] == made.external_ref.as_str())
        .expect("the shipment");
    assert_eq!(obj["status"], "cancelled");
    assert_eq!(obj["updates"], 0, "withdrawn, not rewritten");

    // Labelled already: it cannot be cancelled here; the reason says what to do.
    let placed = sample_order(9);
    let k4 = key("ref", 4);
    let made = e.sink.deliver(req(&placed, &k4, None)).await.unwrap();
    e.clock.advance(Duration::hours(25));
    let err = e
        .sink
        .deliver(req(&gbp_fully_refunded(9), &k4, Some(&made.external_ref)))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains("void its label"), "{err}");
    assert!(err.to_string().contains(NOTHING_TO_SHIP), "{err}");
    assert_no_canary("error", &err.to_string());
}
