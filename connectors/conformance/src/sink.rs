//! Sink checks: idempotent re-delivery (same key twice → one object), batches land whole,
//! updates keep one object, 429s absorbed, malformed answers classified without a panic or a
//! second object, `delivery_status` round trip, no PII in errors.

use crate::{assert_no_canary, sample_order, sim_get, sim_post};
use futures::future::BoxFuture;
use ordersync_sdk::sim::SimServer;
use ordersync_sdk::{Clock, DeliveryRequest, ManualClock, Order, OutcomeKind, Sink};
use serde_json::json;
use std::sync::Arc;
use time::Duration;

pub struct SinkInstance {
    pub sim: SimServer,
    pub clock: Arc<ManualClock>,
    pub sink: Arc<dyn Sink>,
    /// The same connector built with credentials the simulator rejects.
    pub bad_auth: Arc<dyn Sink>,
}

pub struct SinkHarness {
    pub name: &'static str,
    pub make: Box<dyn Fn() -> BoxFuture<'static, SinkInstance> + Send + Sync>,
}

fn key(prefix: &str, i: u64) -> String {
    format!("{:0>32}", format!("{prefix}{i:x}"))
}

fn req<'a>(o: &'a Order, k: &'a str, obj: &'a str, prev: Option<&'a str>) -> DeliveryRequest<'a> {
    DeliveryRequest {
        order: o,
        idempotency_key: k,
        object_key: obj,
        previous_ref: prev,
    }
}

async fn received(base: &str) -> usize {
    let r = sim_get(base, "/_sim/received").await;
    r["count"]
        .as_u64()
        .or_else(|| r["objects"].as_array().map(|a| a.len() as u64))
        .unwrap_or(0) as usize
}

pub async fn sink_suite(h: &SinkHarness) {
    same_key_twice_is_one_object(h).await;
    batches_land_whole(h).await;
    updates_keep_one_object(h).await;
    rate_limits_are_absorbed(h).await;
    malformed_answers_never_duplicate(h).await;
    bad_credentials_are_auth_errors(h).await;
    delivery_status_round_trip(h).await;
}

async fn same_key_twice_is_one_object(h: &SinkHarness) {
    let i = (h.make)().await;
    let o = sample_order(1);
    let (k, obj) = (key("a", 1), key("o", 1));
    let first = i
        .sink
        .deliver(req(&o, &k, &obj, None))
        .await
        .expect("first delivery");
    // Our record of the first answer was lost: the engine sends the same request again.
    let second = i
        .sink
        .deliver(req(&o, &k, &obj, None))
        .await
        .expect("repeated delivery");
    assert_eq!(
        first.external_ref, second.external_ref,
        "{}: the repeat resolves to the same object",
        h.name
    );
    assert_eq!(
        received(&i.sim.base_url).await,
        1,
        "{}: same key twice → one object",
        h.name
    );
}

async fn batches_land_whole(h: &SinkHarness) {
    let i = (h.make)().await;
    let orders: Vec<Order> = (0..120).map(sample_order).collect();
    let keys: Vec<(String, String)> = (0..120).map(|n| (key("b", n), key("p", n))).collect();
    let batch = i.sink.capabilities().batch_size.max(1);
    for (os, ks) in orders.chunks(batch).zip(keys.chunks(batch)) {
        let reqs: Vec<_> = os
            .iter()
            .zip(ks)
            .map(|(o, (k, obj))| req(o, k, obj, None))
            .collect();
        let res = i.sink.deliver_batch(&reqs).await;
        assert_eq!(res.len(), reqs.len(), "{}: one result per request", h.name);
        assert!(
            res.iter().all(|r| r.is_ok()),
            "{}: valid orders are accepted",
            h.name
        );
    }
    assert_eq!(
        received(&i.sim.base_url).await,
        120,
        "{}: every order of the batches arrived once",
        h.name
    );
}

async fn updates_keep_one_object(h: &SinkHarness) {
    let i = (h.make)().await;
    if !i.sink.capabilities().updates {
        return;
    }
    let mut o = sample_order(7);
    let obj = key("u", 7);
    let first = i
        .sink
        .deliver(req(&o, &key("v1", 7), &obj, None))
        .await
        .expect("create");
    o.shipping_method = Some("Express".into());
    let second = i
        .sink
        .deliver(req(&o, &key("v2", 7), &obj, Some(&first.external_ref)))
        .await
        .expect("update");
    assert_eq!(
        second.kind,
        OutcomeKind::Updated,
        "{}: a previous ref means update",
        h.name
    );
    assert_eq!(
        received(&i.sim.base_url).await,
        1,
        "{}: an update keeps one object",
        h.name
    );
}

async fn rate_limits_are_absorbed(h: &SinkHarness) {
    let i = (h.make)().await;
    sim_post(
        &i.sim.base_url,
        "/_sim/faults",
        json!({ "rate": 0.3, "kinds": ["429"] }),
    )
    .await;
    for n in 0..20 {
        let o = sample_order(100 + n);
        i.sink
            .deliver(req(&o, &key("r", n), &key("q", n), None))
            .await
            .unwrap_or_else(|e| panic!("{}: 429s are retried within budget: {e}", h.name));
    }
    assert_eq!(
        received(&i.sim.base_url).await,
        20,
        "{}: throttled deliveries all land once",
        h.name
    );
}

async fn malformed_answers_never_duplicate(h: &SinkHarness) {
    let i = (h.make)().await;
    let o = sample_order(300);
    let (k, obj) = (key("m", 1), key("n", 1));
    sim_post(
        &i.sim.base_url,
        "/_sim/faults",
        json!({ "rate": 1.0, "kinds": ["malformed"] }),
    )
    .await;
    if let Err(e) = i.sink.deliver(req(&o, &k, &obj, None)).await {
        assert_no_canary(&format!("{}: error message", h.name), &e.to_string());
    }
    sim_post(&i.sim.base_url, "/_sim/faults", json!({ "rate": 0.0 })).await;
    i.sink
        .deliver(req(&o, &k, &obj, None))
        .await
        .expect("delivery after the fault clears");
    assert!(
        received(&i.sim.base_url).await <= 1,
        "{}: a garbled answer followed by a retry makes no second object",
        h.name
    );
}

async fn bad_credentials_are_auth_errors(h: &SinkHarness) {
    let i = (h.make)().await;
    let o = sample_order(400);
    let e = i
        .bad_auth
        .deliver(req(&o, &key("x", 1), &key("y", 1), None))
        .await
        .expect_err("rejected credentials");
    assert_eq!(
        e.class(),
        ordersync_sdk::ErrorClass::Auth,
        "{}: rejected credentials → Auth",
        h.name
    );
    assert_no_canary(&format!("{}: error message", h.name), &e.to_string());
}

async fn delivery_status_round_trip(h: &SinkHarness) {
    let i = (h.make)().await;
    if !i.sink.capabilities().tracks_delivery {
        return;
    }
    let o = sample_order(500);
    let out = i
        .sink
        .deliver(req(&o, &key("t", 1), &key("s", 1), None))
        .await
        .expect("delivery");
    assert_eq!(
        i.sink
            .delivery_status(&out.external_ref)
            .await
            .expect("status"),
        None,
        "{}: not delivered right after shipping",
        h.name
    );
    i.clock.advance(Duration::days(7));
    let d = i
        .sink
        .delivery_status(&out.external_ref)
        .await
        .expect("status")
        .unwrap_or_else(|| panic!("{}: delivered after a week", h.name));
    assert!(
        d.at <= i.clock.now(),
        "{}: delivery time is not in the future",
        h.name
    );
}
