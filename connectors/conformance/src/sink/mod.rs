//! Sink checks: idempotent re-delivery (same key twice → one object), batches land whole,
//! updates keep one object, 429s absorbed, malformed answers classified without a panic or a
//! second object, `delivery_status` round trip, no PII in errors. Each is a public async fn
//! taking the connector's [`SinkHarness`]; [`sink_tests!`](crate::sink_tests) makes one test
//! of each.

use crate::{assert_no_canary, sample_order, sim_get, sim_post};
use futures::future::BoxFuture;
use ordersync_sdk::sim::SimServer;
use ordersync_sdk::{Clock, DeliveryRequest, Descriptor, ManualClock, Order, OutcomeKind, Sink};
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

/// What the kit needs from a sink connector's tests.
pub struct SinkHarness {
    /// The connector's descriptor (its line in the service's registry).
    pub descriptor: Descriptor,
    /// A fresh simulator and connectors; called once per check.
    pub make: Box<dyn Fn() -> BoxFuture<'static, SinkInstance> + Send + Sync>,
}

impl SinkHarness {
    fn name(&self) -> &'static str {
        self.descriptor.kind
    }
}

/// The optional capabilities a connector's `sink_tests!` line lists must be the ones it has:
/// a capability left off would silently drop its checks.
pub async fn declared_capabilities_match(h: &SinkHarness, declared: &[&str]) {
    let name = h.name();
    for cap in declared {
        assert!(
            ["updates", "tracks_delivery"].contains(cap),
            "{name}: unknown capability {cap}"
        );
    }
    let i = (h.make)().await;
    assert_eq!(i.sink.kind(), h.descriptor.kind, "{name}: descriptor kind");
    assert!(!h.descriptor.is_source(), "{name}: descriptor role");
    let caps = i.sink.capabilities();
    assert_eq!(
        caps.updates,
        declared.contains(&"updates"),
        "{name}: SinkCaps.updates vs `updates` in sink_tests!"
    );
    assert_eq!(
        caps.tracks_delivery,
        declared.contains(&"tracks_delivery"),
        "{name}: SinkCaps.tracks_delivery vs `tracks_delivery` in sink_tests!"
    );
    assert!(caps.batch_size >= 1, "{name}: batch_size is at least 1");
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

pub async fn same_key_twice_is_one_object(h: &SinkHarness) {
    let name = h.name();
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
        "{name}: the repeat resolves to the same object"
    );
    assert_eq!(
        received(&i.sim.base_url).await,
        1,
        "{name}: same key twice → one object"
    );
}

pub async fn batches_land_whole(h: &SinkHarness) {
    let name = h.name();
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
        assert_eq!(res.len(), reqs.len(), "{name}: one result per request");
        assert!(
            res.iter().all(|r| r.is_ok()),
            "{name}: valid orders are accepted"
        );
    }
    assert_eq!(
        received(&i.sim.base_url).await,
        120,
        "{name}: every order of the batches arrived once"
    );
}

pub async fn updates_keep_one_object(h: &SinkHarness) {
    let name = h.name();
    let i = (h.make)().await;
    assert!(
        i.sink.capabilities().updates,
        "{name}: `updates` needs SinkCaps.updates"
    );
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
        "{name}: a previous ref means update"
    );
    assert_eq!(
        second.external_ref, first.external_ref,
        "{name}: the update names the same object"
    );
    assert_eq!(
        received(&i.sim.base_url).await,
        1,
        "{name}: an update keeps one object"
    );
}

pub async fn rate_limits_are_absorbed(h: &SinkHarness) {
    let name = h.name();
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
            .unwrap_or_else(|e| panic!("{name}: 429s are retried within budget: {e}"));
    }
    assert_eq!(
        received(&i.sim.base_url).await,
        20,
        "{name}: throttled deliveries all land once"
    );
}

pub async fn malformed_answers_never_duplicate(h: &SinkHarness) {
    let name = h.name();
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
        assert_no_canary(&format!("{name}: error message"), &e.to_string());
    }
    sim_post(&i.sim.base_url, "/_sim/faults", json!({ "rate": 0.0 })).await;
    i.sink
        .deliver(req(&o, &k, &obj, None))
        .await
        .expect("delivery after the fault clears");
    assert!(
        received(&i.sim.base_url).await <= 1,
        "{name}: a garbled answer followed by a retry makes no second object"
    );
}

pub async fn bad_credentials_are_auth_errors(h: &SinkHarness) {
    let name = h.name();
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
        "{name}: rejected credentials → Auth"
    );
    assert_no_canary(&format!("{name}: error message"), &e.to_string());
}

pub async fn delivery_status_round_trip(h: &SinkHarness) {
    let name = h.name();
    let i = (h.make)().await;
    assert!(
        i.sink.capabilities().tracks_delivery,
        "{name}: `tracks_delivery` needs SinkCaps.tracks_delivery"
    );
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
        "{name}: not delivered right after shipping"
    );
    i.clock.advance(Duration::days(7));
    let d = i
        .sink
        .delivery_status(&out.external_ref)
        .await
        .expect("status")
        .unwrap_or_else(|| panic!("{name}: delivered after a week"));
    assert!(
        d.at <= i.clock.now(),
        "{name}: delivery time is not in the future"
    );
}
