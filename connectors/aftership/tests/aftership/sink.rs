//! The sink end to end against the simulator: what lands, 4003 adoption, updates and parcel
//! changes, cancellations, delivery status and feed, throttling, and PII in errors.

use crate::sim::{PATH, Raw};
use crate::{build_with, env, env_with, key, received};
use ordersync_aftership::sim::SimOptions;
use ordersync_conformance::{assert_no_canary, sample_order, sim_get, sim_post};
use ordersync_sdk::{
    Clock, DeliveryRequest, ErrorClass, FeedCursor, Fulfillment, Order, OrderStatus, OutcomeKind,
};
use serde_json::json;
use time::Duration;
use time::format_description::well_known::Rfc3339;

fn req<'a>(o: &'a Order, k: &'a str, obj: &'a str, prev: Option<&'a str>) -> DeliveryRequest<'a> {
    DeliveryRequest {
        order: o,
        idempotency_key: k,
        object_key: obj,
        previous_ref: prev,
    }
}

fn raw(base: &str) -> Raw {
    crate::sim::raw_for(base)
}

#[tokio::test]
async fn a_shipped_order_becomes_one_tracking_without_buyer_data() {
    let e = env().await;
    let o = sample_order(11);
    let obj = key("o", 11);
    let out = e
        .sink
        .deliver(req(&o, &key("k", 1), &obj, None))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Created);
    let r = received(&e.sim.base_url).await;
    assert_eq!(r.count, 1);
    let held = &r.objects[0];
    assert_eq!(held.external_order_id, o.external_id);
    assert_eq!(held.object_key, obj);
    assert_eq!(held.external_ref, out.external_ref);
    assert_eq!(held.extra["slug"], "ups");
    assert_eq!(held.extra["tracking_number"], "1ZCONF0000000011");
    let (_, t) = raw(&e.sim.base_url)
        .get(&format!("{PATH}/{}", out.external_ref))
        .await;
    assert_eq!(t["data"]["customers"], json!([]), "no customers by default");
    assert_no_canary("tracking at AfterShip", &t.to_string());
}

#[tokio::test]
async fn send_customers_sends_name_and_email() {
    let e = env_with(SimOptions::relaxed(), json!({ "send_customers": true })).await;
    let o = sample_order(12);
    let out = e
        .sink
        .deliver(req(&o, &key("k", 2), &key("o", 12), None))
        .await
        .unwrap();
    let (_, t) = raw(&e.sim.base_url)
        .get(&format!("{PATH}/{}", out.external_ref))
        .await;
    assert_eq!(t["data"]["customers"][0]["email"], "buyer12@customer.test");
    assert_eq!(
        t["data"]["subscribed_emails"],
        json!(["buyer12@customer.test"])
    );
}

#[tokio::test]
async fn no_fulfillment_is_skipped_and_sends_nothing() {
    let e = env().await;
    let mut o = sample_order(13);
    o.fulfillments.clear();
    let out = e
        .sink
        .deliver(req(&o, &key("k", 3), &key("o", 13), None))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Skipped);
    assert_eq!(received(&e.sim.base_url).await.count, 0);
    let stats = sim_get(&e.sim.base_url, "/_sim/stats").await;
    assert_eq!(stats["requests"], 0);
    // An earlier tracking stays followed when a refetch shows no parcel.
    let out = e
        .sink
        .deliver(req(
            &o,
            &key("k", 4),
            &key("o", 13),
            Some("a5000000000000000000000000000001"),
        ))
        .await
        .unwrap();
    assert_eq!(
        (out.kind, out.external_ref.as_str()),
        (OutcomeKind::Unchanged, "a5000000000000000000000000000001")
    );
}

#[tokio::test]
async fn an_unknown_carrier_is_permanent_before_any_request() {
    let e = env().await;
    let mut o = sample_order(14);
    o.fulfillments[0].carrier = Some("Pigeon Post".into());
    let err = e
        .sink
        .deliver(req(&o, &key("k", 5), &key("o", 14), None))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains("Pigeon Post"));
    assert_eq!(sim_get(&e.sim.base_url, "/_sim/stats").await["requests"], 0);
    // Mapped in config, it goes through.
    let s = build_with(
        &e.sim.base_url,
        "k",
        json!({ "slugs": { "pigeon post": "pigeon" } }),
        &e.clock,
    );
    s.deliver(req(&o, &key("k", 5), &key("o", 14), None))
        .await
        .unwrap();
    assert_eq!(
        received(&e.sim.base_url).await.objects[0].extra["slug"],
        "pigeon"
    );
}

#[tokio::test]
async fn a_lost_create_is_adopted_through_4003_and_updated() {
    let e = env().await;
    let mut o = sample_order(15);
    let obj = key("o", 15);
    let first = e
        .sink
        .deliver(req(&o, &key("v1", 15), &obj, None))
        .await
        .unwrap();
    o.order_number = "#C15-edited".into();
    let second = e
        .sink
        .deliver(req(&o, &key("v2", 15), &obj, None))
        .await
        .unwrap();
    assert_eq!(second.kind, OutcomeKind::Updated);
    assert_eq!(second.external_ref, first.external_ref);
    let r = received(&e.sim.base_url).await;
    assert_eq!((r.count, r.objects[0].updates), (1, 1));
    let (_, t) = raw(&e.sim.base_url)
        .get(&format!("{PATH}/{}", first.external_ref))
        .await;
    assert_eq!(t["data"]["order_number"], "#C15-edited");
}

#[tokio::test]
async fn a_tracking_of_another_order_is_not_adopted() {
    let e = env().await;
    let a = sample_order(16);
    let mut b = sample_order(17);
    b.fulfillments = a.fulfillments.clone();
    e.sink
        .deliver(req(&a, &key("k", 16), &key("o", 16), None))
        .await
        .unwrap();
    let err = e
        .sink
        .deliver(req(&b, &key("k", 17), &key("o", 17), None))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent, "{err}");
    let r = received(&e.sim.base_url).await;
    assert_eq!(
        (r.count, r.objects[0].external_order_id.as_str()),
        (1, a.external_id.as_str())
    );
    // A tracking the merchant made by hand (no ordersync_key) is adopted.
    let mut c = sample_order(18);
    c.fulfillments[0].tracking_number = "HANDMADE1".into();
    let (s, _) = raw(&e.sim.base_url)
        .post(json!({ "tracking_number": "HANDMADE1", "slug": "ups" }))
        .await;
    assert_eq!(s, 201);
    let out = e
        .sink
        .deliver(req(&c, &key("k", 18), &key("o", 18), None))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Updated);
    assert_eq!(received(&e.sim.base_url).await.count, 2);
}

#[tokio::test]
async fn a_changed_parcel_replaces_the_tracking_and_a_vanished_one_is_recreated() {
    let e = env().await;
    let mut o = sample_order(19);
    let obj = key("o", 19);
    let first = e
        .sink
        .deliver(req(&o, &key("v1", 19), &obj, None))
        .await
        .unwrap();
    o.fulfillments[0] = Fulfillment {
        tracking_number: "9400111899223100001".into(),
        carrier: Some("USPS".into()),
        shipped_at: None,
    };
    let second = e
        .sink
        .deliver(req(&o, &key("v2", 19), &obj, Some(&first.external_ref)))
        .await
        .unwrap();
    assert_eq!(second.kind, OutcomeKind::Created);
    assert_ne!(second.external_ref, first.external_ref);
    let r = received(&e.sim.base_url).await;
    assert_eq!(r.count, 1, "the old tracking is deleted");
    assert_eq!(r.objects[0].extra["slug"], "usps");
    // Deleted at AfterShip behind our back: the update makes it again.
    raw(&e.sim.base_url)
        .send(
            reqwest::Method::DELETE,
            &format!("{PATH}/{}", second.external_ref),
            Some("k"),
            None,
        )
        .await;
    let third = e
        .sink
        .deliver(req(&o, &key("v3", 19), &obj, Some(&second.external_ref)))
        .await
        .unwrap();
    assert_eq!(third.kind, OutcomeKind::Created);
    assert_eq!(received(&e.sim.base_url).await.count, 1);
}

#[tokio::test]
async fn a_cancelled_order_withdraws_its_tracking() {
    let e = env().await;
    let mut o = sample_order(20);
    let obj = key("o", 20);
    let first = e
        .sink
        .deliver(req(&o, &key("v1", 20), &obj, None))
        .await
        .unwrap();
    o.status = OrderStatus::Cancelled;
    let out = e
        .sink
        .deliver(req(&o, &key("v2", 20), &obj, Some(&first.external_ref)))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Skipped);
    assert_eq!(received(&e.sim.base_url).await.count, 0);
    // Again (already gone) and without a previous ref: still Skipped.
    let again = e
        .sink
        .deliver(req(&o, &key("v2", 20), &obj, Some(&first.external_ref)))
        .await
        .unwrap();
    assert_eq!(again.kind, OutcomeKind::Skipped);
    // A create whose answer was lost, then the cancellation: found by number and removed.
    let mut p = sample_order(21);
    let pobj = key("o", 21);
    e.sink
        .deliver(req(&p, &key("v1", 21), &pobj, None))
        .await
        .unwrap();
    p.status = OrderStatus::Cancelled;
    let out = e
        .sink
        .deliver(req(&p, &key("v2", 21), &pobj, None))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Skipped);
    assert_eq!(received(&e.sim.base_url).await.count, 0);
}

#[tokio::test]
async fn delivery_status_reports_the_checkpoint_time_in_utc() {
    let e = env().await;
    let o = sample_order(22);
    let out = e
        .sink
        .deliver(req(&o, &key("k", 22), &key("o", 22), None))
        .await
        .unwrap();
    assert_eq!(
        e.sink.delivery_status(&out.external_ref).await.unwrap(),
        None
    );
    e.clock.advance(Duration::days(4));
    let d = e
        .sink
        .delivery_status(&out.external_ref)
        .await
        .unwrap()
        .expect("delivered");
    let (_, t) = raw(&e.sim.base_url)
        .get(&format!("{PATH}/{}", out.external_ref))
        .await;
    let cp = t["data"]["checkpoints"].as_array().unwrap().last().unwrap()["checkpoint_time"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(cp.ends_with("-05:00"), "UPS delivers in the US: {cp}");
    assert_eq!(d.at, time::OffsetDateTime::parse(&cp, &Rfc3339).unwrap());
    assert!(d.at <= e.clock.now());
    let err = e
        .sink
        .delivery_status("a5000000000000000000000000000999")
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotFound);
}

#[tokio::test]
async fn the_delivery_feed_pages_with_cursors() {
    let e = env().await;
    let mut refs = std::collections::BTreeSet::new();
    for n in 0..230 {
        let o = sample_order(1000 + n);
        let out = e
            .sink
            .deliver(req(&o, &key("f", n), &key("g", n), None))
            .await
            .unwrap();
        refs.insert(out.external_ref);
    }
    e.clock.advance(Duration::days(5));
    let before = sim_get(&e.sim.base_url, "/_sim/stats").await["requests"]
        .as_u64()
        .unwrap();
    let mut cursor = FeedCursor {
        since: None,
        oldest_pending: None,
        page_token: None,
    };
    let mut got = std::collections::BTreeSet::new();
    let mut pages = 0;
    loop {
        let p = e.sink.delivery_feed(&cursor).await.unwrap();
        pages += 1;
        for d in p.delivered {
            assert!(d.at <= e.clock.now());
            assert!(got.insert(d.external_ref), "reported once");
        }
        match p.next_page_token {
            Some(t) => cursor.page_token = Some(t),
            None => break,
        }
    }
    let after = sim_get(&e.sim.base_url, "/_sim/stats").await["requests"]
        .as_u64()
        .unwrap();
    assert_eq!(got, refs);
    assert_eq!(
        (pages, after - before),
        (2, 2),
        "230 trackings in pages of 200, no per-tracking calls"
    );
}

#[tokio::test]
async fn real_429s_are_absorbed_through_the_reset_header() {
    // The sink believes it may send 50/s; the account allows 5.
    let e = env_with(
        SimOptions {
            create_per_second: 5,
            ..SimOptions::default()
        },
        json!({ "create_per_second": 50 }),
    )
    .await;
    for n in 0..12 {
        let o = sample_order(2000 + n);
        e.sink
            .deliver(req(&o, &key("r", n), &key("s", n), None))
            .await
            .unwrap();
    }
    assert_eq!(received(&e.sim.base_url).await.count, 12);
}

#[tokio::test]
async fn a_garbled_create_answer_is_retried_without_a_second_tracking() {
    let e = env().await;
    let o = sample_order(23);
    sim_post(
        &e.sim.base_url,
        "/_sim/faults",
        json!({ "rate": 1.0, "kinds": ["malformed"] }),
    )
    .await;
    let err = e
        .sink
        .deliver(req(&o, &key("k", 23), &key("o", 23), None))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Retriable);
    sim_post(&e.sim.base_url, "/_sim/faults", json!({ "rate": 0.0 })).await;
    let out = e
        .sink
        .deliver(req(&o, &key("k", 23), &key("o", 23), None))
        .await
        .unwrap();
    assert!(matches!(
        out.kind,
        OutcomeKind::Created | OutcomeKind::Updated
    ));
    assert_eq!(received(&e.sim.base_url).await.count, 1);
}

#[tokio::test]
async fn rejections_and_bad_keys_carry_no_platform_text() {
    let e = env().await;
    let o = sample_order(24);
    sim_post(&e.sim.base_url, "/_sim/reject", json!({ "count": 1 })).await;
    let err = e
        .sink
        .deliver(req(&o, &key("k", 24), &key("o", 24), None))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    let s = err.to_string();
    assert!(
        s.contains("4008") && !s.contains("title"),
        "our text, not theirs: {s}"
    );
    assert_no_canary("rejection", &s);
    let r = ordersync_aftership::build_sink(
        &json!({ "api_base_url": e.sim.base_url }),
        &crate::secrets(""),
        &crate::deps(&e.clock),
    );
    assert!(r.is_err(), "an empty api_key is refused");
}

#[tokio::test]
async fn a_bad_api_version_is_refused_at_build_time() {
    let e = env().await;
    for v in ["2026-7", "latest", "2023-10"] {
        let r = ordersync_aftership::build_sink(
            &json!({ "api_base_url": e.sim.base_url, "api_version": v }),
            &crate::secrets("k"),
            &crate::deps(&e.clock),
        );
        assert!(r.is_err(), "{v}");
    }
}
