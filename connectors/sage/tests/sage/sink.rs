//! The sink end to end against the simulator: lifecycle (edit while unpaid, edit after
//! payment, void before payment, skip), credit notes once, reference clashes, the business
//! header, the line cap, PII-free errors.

use crate::golden::order;
use crate::mapping::many_lines;
use crate::{Keep, build_with, env, env_with, key, received};
use ordersync_conformance::{assert_no_canary, sample_order, sim_post};
use ordersync_sage::sim::SimOptions;
use ordersync_sdk::{
    DeliveryOutcome, DeliveryRequest, ErrorClass, FinancialStatus, Order, OrderStatus, OutcomeKind,
    Sink,
};
use serde_json::json;
use std::sync::Arc;

async fn send(
    sink: &Arc<dyn Sink>,
    o: &Order,
    version: u64,
    obj: &str,
    prev: Option<&str>,
) -> Result<DeliveryOutcome, ordersync_sdk::ConnectorError> {
    sink.deliver(DeliveryRequest {
        order: o,
        idempotency_key: &key("ver", version),
        object_key: obj,
        previous_ref: prev,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_update_while_unpaid_and_are_refused_after_payment() {
    let e = env().await;
    let mut o = order("uk_vat_inclusive");
    let obj = key("obj", 1);
    let first = send(&e.sink, &o, 1, &obj, None).await.unwrap();
    assert_eq!(first.kind, OutcomeKind::Created);
    // A new version that changes nothing Sage holds (fulfilment moved on): unchanged.
    o.fulfillment_status = ordersync_sdk::FulfillmentStatus::Fulfilled;
    let same = send(&e.sink, &o, 2, &obj, Some(&first.external_ref))
        .await
        .unwrap();
    assert_eq!(same.kind, OutcomeKind::Unchanged);
    o.shipping_method = Some("Express".into());
    let upd = send(&e.sink, &o, 3, &obj, Some(&first.external_ref))
        .await
        .unwrap();
    assert_eq!(
        (upd.kind, upd.external_ref.clone()),
        (OutcomeKind::Updated, first.external_ref.clone())
    );
    sim_post(
        &e.sim.base_url,
        "/_sim/pay",
        json!({"id": first.external_ref}),
    )
    .await;
    // Paid and unchanged is still fine; paid and edited is Permanent, saying what to do.
    let again = send(&e.sink, &o, 4, &obj, Some(&first.external_ref))
        .await
        .unwrap();
    assert_eq!(again.kind, OutcomeKind::Unchanged);
    o.shipping_method = Some("Overnight".into());
    let err = send(&e.sink, &o, 5, &obj, Some(&first.external_ref))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains("credit note"), "{err}");
    let r = received(&e.sim.base_url).await;
    assert_eq!((r.count, r.objects[0].updates), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_before_payment_voids_or_skips() {
    let e = env().await;
    let mut o = order("uk_vat_inclusive");
    o.status = OrderStatus::Cancelled;
    o.financial_status = FinancialStatus::Voided;
    let skipped = send(&e.sink, &o, 1, &key("obj", 1), None).await.unwrap();
    assert_eq!(skipped.kind, OutcomeKind::Skipped);
    assert_eq!(received(&e.sim.base_url).await.count, 0);
    // Invoiced while open, then cancelled unpaid: voided (found by reference, no prev ref).
    let mut open = order("tax_exempt");
    let obj = key("obj", 2);
    let made = send(&e.sink, &open, 2, &obj, None).await.unwrap();
    open.status = OrderStatus::Cancelled;
    open.financial_status = FinancialStatus::Voided;
    let voided = send(&e.sink, &open, 3, &obj, None).await.unwrap();
    assert_eq!(
        (voided.kind, voided.external_ref.clone()),
        (OutcomeKind::Updated, made.external_ref.clone())
    );
    let again = send(&e.sink, &open, 4, &obj, Some(&made.external_ref))
        .await
        .unwrap();
    assert_eq!(again.kind, OutcomeKind::Unchanged);
    let r = received(&e.sim.base_url).await;
    assert_eq!(r.objects[0].status.as_deref(), Some("VOID"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_become_credit_notes_once() {
    let e = env().await;
    let mut o = order("partial_refund_exclusive");
    let refunds = std::mem::take(&mut o.refunds);
    let (cur, fin) = (o.current.clone(), o.financial_status);
    // First as placed, without the refund yet.
    o.current.total = o.totals.total;
    o.current.subtotal = o.totals.subtotal - o.totals.discounts;
    o.current.tax = o.totals.tax;
    o.current.discounts = o.totals.discounts;
    o.financial_status = FinancialStatus::Paid;
    let lines = o.lines.clone();
    for l in o.lines.iter_mut() {
        l.current_quantity = l.quantity;
    }
    let obj = key("obj", 1);
    let first = send(&e.sink, &o, 1, &obj, None).await.unwrap();
    // Then refunded: the invoice stays as placed, a credit note is added.
    o.refunds = refunds;
    o.current = cur;
    o.financial_status = fin;
    o.lines = lines;
    let second = send(&e.sink, &o, 2, &obj, Some(&first.external_ref))
        .await
        .unwrap();
    assert_eq!(second.kind, OutcomeKind::Updated);
    let third = send(&e.sink, &o, 3, &obj, Some(&first.external_ref))
        .await
        .unwrap();
    assert_eq!(third.kind, OutcomeKind::Unchanged);
    let r = received(&e.sim.base_url).await;
    let held = &r.objects[0];
    assert_eq!(held.updates, 0, "the invoice is not edited down");
    assert_eq!(held.extra["credit_notes"].as_array().unwrap().len(), 1);
    assert_eq!(held.extra["credited_amount"], "399.29");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_held_by_another_order_is_permanent() {
    let e = env().await;
    let a = order("uk_vat_inclusive");
    send(&e.sink, &a, 1, &key("obj", 1), None).await.unwrap();
    let mut b = order("uk_vat_inclusive");
    b.external_id = "another-order".into();
    let err = send(&e.sink, &b, 2, &key("obj", 2), None)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains("reference_prefix"), "{err}");
    // With a prefix for the marketplace the two orders no longer share a reference.
    let prefixed = build_with(
        &e.sim.base_url,
        "rt-second",
        &e.clock,
        Arc::new(Keep::default()),
        json!({"reference_prefix": {"shopify": "SH-"}}),
    );
    send(&prefixed, &b, 3, &key("obj", 2), None).await.unwrap();
    assert_eq!(received(&e.sim.base_url).await.count, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_business_is_always_sent() {
    let e = env_with(SimOptions {
        businesses: Some(vec!["lead".into(), "books-2".into()]),
        ..SimOptions::relaxed()
    })
    .await;
    let sink = build_with(
        &e.sim.base_url,
        "rt-b2",
        &e.clock,
        Arc::new(Keep::default()),
        json!({"business_id": "books-2"}),
    );
    send(&sink, &order("tax_exempt"), 1, &key("obj", 1), None)
        .await
        .unwrap();
    let r = received(&e.sim.base_url).await;
    assert_eq!(r.objects[0].extra["business"], "books-2");
    let unknown = build_with(
        &e.sim.base_url,
        "rt-b3",
        &e.clock,
        Arc::new(Keep::default()),
        json!({"business_id": "not-mine"}),
    );
    let err = send(&unknown, &order("tax_exempt"), 2, &key("obj", 2), None)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Auth);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_orders_write_nothing() {
    let e = env().await;
    let err = send(&e.sink, &many_lines(500), 1, &key("obj", 1), None)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    let mut odd = sample_order(1);
    for t in odd.lines.iter_mut().flat_map(|l| l.tax_lines.iter_mut()) {
        t.rate = Some(ordersync_sdk::Decimal::new(135, 3));
    }
    let err = send(&e.sink, &odd, 2, &key("obj", 2), None)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_no_canary("error", &err.to_string());
    let stats = ordersync_conformance::sim_get(&e.sim.base_url, "/_sim/stats").await;
    assert_eq!(
        (stats["sales_invoices"].clone(), stats["contacts"].clone()),
        (json!(0), json!(0))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_contact_per_buyer_email() {
    let e = env().await;
    let a = sample_order(1);
    let mut b = sample_order(5);
    b.pii.email = a.pii.email.clone();
    send(&e.sink, &a, 1, &key("obj", 1), None).await.unwrap();
    send(&e.sink, &b, 2, &key("obj", 2), None).await.unwrap();
    let stats = ordersync_conformance::sim_get(&e.sim.base_url, "/_sim/stats").await;
    assert_eq!(
        (stats["sales_invoices"].clone(), stats["contacts"].clone()),
        (json!(2), json!(1))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_reference_held_by_another_buyer_is_not_reused() {
    let e = env().await;
    let a = sample_order(1);
    // Someone else's contact already has the reference this buyer's email hashes to.
    let reference = ordersync_sage::mapping::contact_reference(&a.pii, "unused");
    let other = {
        let mut o = sample_order(2);
        o.pii.email = Some("someone.else@example.org".into());
        o
    };
    let mut body = ordersync_sage::mapping::contact_body(&other, &reference);
    body.idempotency_id = None;
    // Made through the API, as a merchant (or a hash collision) would.
    let token: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/token", e.sim.base_url))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "rt-raw2"),
            ("client_id", "c"),
            ("client_secret", "s"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/v3.1/contacts", e.sim.base_url))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&json!({"contact": body}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    send(&e.sink, &a, 1, &key("obj", 1), None).await.unwrap();
    let stats = ordersync_conformance::sim_get(&e.sim.base_url, "/_sim/stats").await;
    assert_eq!(
        stats["contacts"],
        json!(2),
        "the buyer got a contact of their own"
    );
}
