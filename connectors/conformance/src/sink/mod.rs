//! Sink checks: idempotent re-delivery (same key twice → one object), batches land whole,
//! updates keep one object, 429s absorbed, malformed answers classified without a panic or a
//! second object, `delivery_status` round trip, no PII in errors; a lost create followed by an
//! update leaves one updated object; a permanent rejection is dead and replayable; the delivery
//! feed costs pages. Each is a public async fn
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
            ["updates", "tracks_delivery", "delivery_feed"].contains(cap),
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
    assert_eq!(
        caps.delivery_feed,
        declared.contains(&"delivery_feed"),
        "{name}: SinkCaps.delivery_feed vs `delivery_feed` in sink_tests!"
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

async fn object_of<'a>(
    r: &'a ordersync_sdk::sim::Received,
    external_ref: &str,
) -> Option<&'a ordersync_sdk::sim::ReceivedObject> {
    r.objects.iter().find(|o| o.external_ref == external_ref)
}

async fn received_objects(base: &str) -> ordersync_sdk::sim::Received {
    serde_json::from_value(sim_get(base, "/_sim/received").await)
        .expect("/_sim/received has the shape of ordersync_sdk::sim::Received")
}

/// The hard case of exactly-once: the create reached the target but its answer was lost (so
/// the engine has no `previous_ref`), then the order changed. The next delivery carries the new
/// version and no previous ref; the target must end with one object that carries the update,
/// not adopt the old object unchanged.
pub async fn lost_create_then_update_is_one_updated_object(h: &SinkHarness) {
    let name = h.name();
    let i = (h.make)().await;
    let mut o = sample_order(8);
    let obj = key("l", 8);
    let first = i
        .sink
        .deliver(req(&o, &key("w1", 8), &obj, None))
        .await
        .expect("create");
    o.shipping_method = Some("Express".into());
    o.updated_at += Duration::minutes(5);
    // The answer of the first call never reached us: same object key, no previous ref.
    let second = i
        .sink
        .deliver(req(&o, &key("w2", 8), &obj, None))
        .await
        .expect("second version");
    assert_eq!(
        second.external_ref, first.external_ref,
        "{name}: the second version resolves to the object the lost create made"
    );
    assert_ne!(
        second.kind,
        OutcomeKind::Unchanged,
        "{name}: a changed order is not reported unchanged"
    );
    let r = received_objects(&i.sim.base_url).await;
    assert_eq!(r.objects.len(), 1, "{name}: one object");
    let held = object_of(&r, &first.external_ref)
        .await
        .unwrap_or_else(|| panic!("{name}: /_sim/received lists the object by external_ref"));
    assert!(
        held.updates >= 1,
        "{name}: the object was updated with the second version (updates = {})",
        held.updates
    );
}

/// A write the target refuses for good (`POST /_sim/reject {"count": 1}` makes the next write
/// fail with the platform's own validation error) is Permanent with a PII-free reason; other
/// orders go on, and the same delivery replayed later lands once.
pub async fn permanent_rejection_is_dead_and_replayable(h: &SinkHarness) {
    let name = h.name();
    let i = (h.make)().await;
    let (a, b) = (sample_order(600), sample_order(601));
    let (ka, oa, kb, ob) = (key("j", 1), key("k", 1), key("j", 2), key("k", 2));
    sim_post(&i.sim.base_url, "/_sim/reject", json!({ "count": 1 })).await;
    let e = i
        .sink
        .deliver(req(&a, &ka, &oa, None))
        .await
        .expect_err("the target rejects the order");
    assert_eq!(
        e.class(),
        ordersync_sdk::ErrorClass::Permanent,
        "{name}: a validation rejection is Permanent (dead-lettered, not retried): {e}"
    );
    assert_no_canary(&format!("{name}: rejection reason"), &e.to_string());
    i.sink
        .deliver(req(&b, &kb, &ob, None))
        .await
        .unwrap_or_else(|e| panic!("{name}: the next order goes on: {e}"));
    // Replay of the dead delivery (same keys) after the merchant fixed the cause.
    i.sink
        .deliver(req(&a, &ka, &oa, None))
        .await
        .unwrap_or_else(|e| panic!("{name}: the replayed delivery lands: {e}"));
    assert_eq!(
        received(&i.sim.base_url).await,
        2,
        "{name}: two orders, two objects"
    );
}

/// `delivery_feed`: after the parcels arrive, reading the feed from the start reports every
/// delivered object with a time not in the future; a later pass from a cursor after those
/// changes costs a page, not one call per shipped object, and reports nothing new.
pub async fn delivery_feed_costs_pages(h: &SinkHarness) {
    let name = h.name();
    let i = (h.make)().await;
    assert!(
        i.sink.capabilities().delivery_feed,
        "{name}: `delivery_feed` needs SinkCaps.delivery_feed"
    );
    let n = 120u64;
    let orders: Vec<Order> = (0..n).map(|k| sample_order(700 + k)).collect();
    let keys: Vec<(String, String)> = (0..n).map(|k| (key("f", k), key("g", k))).collect();
    let mut refs = std::collections::BTreeSet::new();
    let batch = i.sink.capabilities().batch_size.max(1);
    for (os, ks) in orders.chunks(batch).zip(keys.chunks(batch)) {
        let reqs: Vec<_> = os
            .iter()
            .zip(ks)
            .map(|(o, (k, obj))| req(o, k, obj, None))
            .collect();
        for r in i.sink.deliver_batch(&reqs).await {
            refs.insert(r.expect("delivery").external_ref);
        }
    }
    let read_all = |since| {
        let sink = i.sink.clone();
        async move {
            let mut cursor = ordersync_sdk::FeedCursor {
                since,
                oldest_pending: None,
                page_token: None,
            };
            let mut got = Vec::new();
            for _ in 0..10_000 {
                let page = sink.delivery_feed(&cursor).await.expect("feed page");
                got.extend(page.delivered);
                match page.next_page_token {
                    Some(t) => cursor.page_token = Some(t),
                    None => return got,
                }
            }
            panic!("{name}: the feed never ends");
        }
    };
    assert!(
        read_all(None).await.is_empty(),
        "{name}: nothing is delivered right after shipping"
    );
    i.clock.advance(Duration::days(7));
    let got = read_all(None).await;
    let reported: std::collections::BTreeSet<String> =
        got.iter().map(|d| d.external_ref.clone()).collect();
    assert_eq!(
        reported, refs,
        "{name}: every delivered object is reported, and only those"
    );
    assert!(
        got.iter().all(|d| d.at <= i.clock.now()),
        "{name}: delivery times are not in the future"
    );
    // The next pass starts where this one did: nothing changed since, so it costs a page
    // or two whatever the number of objects shipped, not a call per object.
    i.clock.advance(Duration::hours(1));
    let since = i.clock.now();
    i.clock.advance(Duration::hours(1));
    let before = stats_requests(&i.sim.base_url).await;
    let again = read_all(Some(since)).await;
    let cost = stats_requests(&i.sim.base_url).await - before;
    // A target that lists by creation (no modification filter) reports delivered objects
    // again; nothing new may appear.
    assert!(
        again.iter().all(|d| reported.contains(&d.external_ref)),
        "{name}: nothing changed after the cursor, yet a new delivery was reported"
    );
    assert!(
        cost <= 2,
        "{name}: a pass with nothing new cost {cost} requests for {n} shipped objects: the \
         feed must be filtered by modification time"
    );
}

async fn stats_requests(base: &str) -> u64 {
    let s: ordersync_sdk::sim::SimStats =
        serde_json::from_value(sim_get(base, "/_sim/stats").await).expect("/_sim/stats shape");
    s.requests
}
