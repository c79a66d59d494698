//! The sink end to end against the simulator: contacts, lifecycle, refunds, refusals.

use crate::mapping::d;
use crate::{env, env_with, key, received, stats};
use ordersync_conformance::sample_order;
use ordersync_sdk::{
    ConnectorError, Decimal, DeliveryOutcome, DeliveryRequest, ErrorClass, FinancialStatus, Order,
    OrderStatus, OutcomeKind, Refund, RefundLine, Sink,
};
use ordersync_xero::sim::SimOptions;
use serde_json::json;
use std::sync::Arc;

async fn deliver(
    sink: &Arc<dyn Sink>,
    o: &Order,
    k: &str,
    obj: &str,
) -> Result<DeliveryOutcome, ConnectorError> {
    sink.deliver(DeliveryRequest {
        order: o,
        idempotency_key: k,
        object_key: obj,
        previous_ref: None,
    })
    .await
}

fn refund_all(o: &mut Order) {
    let lines: Vec<RefundLine> = o
        .lines
        .iter()
        .map(|l| RefundLine {
            line_id: l.external_line_id.clone(),
            quantity: l.quantity,
            restock: true,
            subtotal: l.discounted().unwrap(),
            tax: l.tax().unwrap(),
        })
        .collect();
    let shipping: Decimal = o
        .shipping_lines
        .iter()
        .map(|s| s.discounted().unwrap())
        .sum();
    let shipping_tax: Decimal = o.shipping_lines.iter().map(|s| s.tax().unwrap()).sum();
    o.refunds.push(Refund {
        external_id: "r-all".into(),
        created_at: o.created_at,
        lines,
        shipping,
        shipping_tax,
        duties: Decimal::ZERO,
        adjustments: vec![],
        total: o.totals.total,
    });
    for l in &mut o.lines {
        l.current_quantity = 0;
    }
    o.current = Default::default();
    o.financial_status = FinancialStatus::Refunded;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_buyer_one_contact_and_name_clashes_get_a_suffix() {
    let e = env().await;
    let a = sample_order(1);
    let mut b = sample_order(5);
    b.pii.email = a.pii.email.clone();
    deliver(&e.sink, &a, "k1", &key("o", 1)).await.unwrap();
    deliver(&e.sink, &b, "k2", &key("o", 2)).await.unwrap();
    assert_eq!(
        stats(&e.sim.base_url).await["contacts"],
        1,
        "same email, same contact"
    );
    // Another person with the same name.
    let mut c = sample_order(9);
    c.pii.buyer_name = a.pii.buyer_name.clone();
    deliver(&e.sink, &c, "k3", &key("o", 3)).await.unwrap();
    assert_eq!(stats(&e.sim.base_url).await["contacts"], 2);
    // No name: a Marketplace customer contact.
    let mut anon = sample_order(13);
    anon.pii.buyer_name = None;
    anon.pii.email = None;
    deliver(&e.sink, &anon, "k4", &key("o", 4)).await.unwrap();
    let raw = crate::Raw::new(&e.sim.base_url).await;
    let (_, _, v) = raw.call(reqwest::Method::GET, "/Contacts", None).await;
    let names: Vec<&str> = v["Contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["Name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Canary Buyer1"));
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("Canary Buyer1 (") && n.len() == "Canary Buyer1 (xxxx)".len()),
        "{names:?}"
    );
    assert!(names.contains(&"Marketplace customer #C13"), "{names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_update_the_unpaid_invoice_and_refunds_become_allocated_credit_notes() {
    let e = env().await;
    let mut o = sample_order(4);
    let obj = key("e", 4);
    let first = deliver(&e.sink, &o, "v1", &obj).await.unwrap();
    assert_eq!(first.kind, OutcomeKind::Created);
    o.lines[0].title = "Renamed widget".into();
    let second = deliver(&e.sink, &o, "v2", &obj).await.unwrap();
    assert_eq!(
        (second.kind, second.external_ref.as_str()),
        (OutcomeKind::Updated, first.external_ref.as_str())
    );
    refund_all(&mut o);
    let third = deliver(&e.sink, &o, "v3", &obj).await.unwrap();
    assert_eq!(third.external_ref, first.external_ref);
    let r = received(&e.sim.base_url).await;
    assert_eq!(r.count, 1);
    let held = &r.objects[0];
    assert_eq!(
        d(held.extra["credit_notes"].as_str().unwrap()),
        o.totals.total
    );
    assert_eq!(held.status.as_deref(), Some("PAID"), "fully credited");
    // Replaying the same version creates nothing more.
    let again = deliver(&e.sink, &o, "v3", &obj).await.unwrap();
    assert_eq!(again.kind, OutcomeKind::Unchanged);
    assert_eq!(stats(&e.sim.base_url).await["credit_notes"], 1);
    // An edit of the money after credit: refused, explaining.
    let q = Decimal::from(o.lines[0].quantity);
    o.lines[0].unit_price += d("1.00");
    o.totals.subtotal += q;
    o.totals.total += q;
    let err = deliver(&e.sink, &o, "v4", &obj).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains("cannot be edited"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellations_void_or_skip() {
    let e = env().await;
    let mut o = sample_order(2);
    o.status = OrderStatus::Cancelled;
    o.financial_status = FinancialStatus::Voided;
    let skipped = deliver(&e.sink, &o, "c1", &key("c", 1)).await.unwrap();
    assert_eq!(skipped.kind, OutcomeKind::Skipped);
    assert_eq!(received(&e.sim.base_url).await.count, 0);
    let mut p = sample_order(6);
    let made = deliver(&e.sink, &p, "c2", &key("c", 2)).await.unwrap();
    p.status = OrderStatus::Cancelled;
    p.financial_status = FinancialStatus::Voided;
    let voided = deliver(&e.sink, &p, "c3", &key("c", 2)).await.unwrap();
    assert_eq!(
        (voided.kind, &voided.external_ref),
        (OutcomeKind::Updated, &made.external_ref)
    );
    let r = received(&e.sim.base_url).await;
    assert_eq!(r.objects[0].status.as_deref(), Some("VOIDED"));
    // Cancelled after payment: the invoice stays and the refund is credited.
    let mut q = sample_order(10);
    q.status = OrderStatus::Cancelled;
    refund_all(&mut q);
    deliver(&e.sink, &q, "c4", &key("c", 4)).await.unwrap();
    let r = received(&e.sim.base_url).await;
    let held = r
        .objects
        .iter()
        .find(|x| x.object_key == key("c", 4))
        .unwrap();
    assert_eq!(
        d(held.extra["credit_notes"].as_str().unwrap()),
        q.totals.total
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_number_of_another_order_is_refused_naming_invoice_prefix() {
    let e = env().await;
    let a = sample_order(1);
    let mut b = sample_order(1);
    b.marketplace = "other".into();
    b.external_id = "other-1".into();
    deliver(&e.sink, &a, "p1", &key("p", 1)).await.unwrap();
    let err = deliver(&e.sink, &b, "p2", &key("p", 2)).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains("invoice_prefix"), "{err}");
    // With a prefix for the other marketplace both orders have their invoice.
    let e2 = env_with(
        SimOptions::relaxed(),
        json!({"invoice_prefix": {"other": "OT-"}}),
    )
    .await;
    deliver(&e2.sink, &a, "p1", &key("p", 1)).await.unwrap();
    deliver(&e2.sink, &b, "p2", &key("p", 2)).await.unwrap();
    let r = received(&e2.sim.base_url).await;
    let numbers: Vec<&str> = r
        .objects
        .iter()
        .map(|o| o.extra["invoice_number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["#C1", "OT-#C1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_classified_without_posting() {
    let opts = SimOptions {
        currencies: vec!["GBP".into(), "USD".into()],
        ..SimOptions::relaxed()
    };
    let e = env_with(opts, json!({})).await;
    let jpy = sample_order(2);
    let err = deliver(&e.sink, &jpy, "b1", &key("b", 1))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains("JPY is not enabled"), "{err}");
    let mut neg = sample_order(0);
    neg.lines[0].unit_price = d("-5.00");
    assert_eq!(
        deliver(&e.sink, &neg, "b2", &key("b", 2))
            .await
            .unwrap_err()
            .class(),
        ErrorClass::Permanent
    );
    let mut odd = sample_order(0);
    for l in &mut odd.lines {
        for t in &mut l.tax_lines {
            t.rate = Some(d("0.045"));
        }
    }
    let err = deliver(&e.sink, &odd, "b3", &key("b", 3))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no Xero tax rate of 9 %"), "{err}");
    assert_eq!(received(&e.sim.base_url).await.count, 0, "nothing posted");
    let text = format!("{err} {err:?}");
    ordersync_conformance::assert_no_canary("error", &text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_lines_are_one_invoice() {
    let e = env().await;
    let mut o = sample_order(0);
    let template = o.lines[0].clone();
    o.lines = (0..500)
        .map(|i| {
            let mut l = template.clone();
            l.external_line_id = format!("line-{i}");
            l
        })
        .collect();
    let n = Decimal::from(500);
    o.totals.subtotal = template.gross().unwrap() * n;
    o.totals.discounts = template.discount().unwrap() * n
        + o.shipping_lines
            .iter()
            .map(|s| s.discount().unwrap())
            .sum::<Decimal>();
    let line_tax = template.tax().unwrap() * n;
    let ship_tax: Decimal = o.shipping_lines.iter().map(|s| s.tax().unwrap()).sum();
    o.totals.tax = line_tax + ship_tax;
    o.totals.total = o.totals.subtotal - o.totals.discounts + o.totals.shipping + o.totals.tax;
    o.current.subtotal = template.discounted().unwrap() * n;
    o.current.tax = o.totals.tax;
    o.current.total = o.totals.total;
    o.tax_lines = o.summarise_taxes().unwrap();
    o.balance().expect("the big order balances");
    deliver(&e.sink, &o, "big", &key("big", 1)).await.unwrap();
    let r = received(&e.sim.base_url).await;
    assert_eq!(r.count, 1);
    assert_eq!(
        d(r.objects[0].extra["total"].as_str().unwrap()),
        o.totals.total
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_rejections_are_pii_free_and_day_limits_stop_calls() {
    let e = env().await;
    ordersync_conformance::sim_post(&e.sim.base_url, "/_sim/reject", json!({"count": 1})).await;
    let o = sample_order(3);
    let err = deliver(&e.sink, &o, "r1", &key("r", 1)).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    ordersync_conformance::assert_no_canary("reason", &err.to_string());
    // A tenant with its day spent answers RateLimited without calling.
    let opts = SimOptions {
        per_day: 4,
        ..SimOptions::relaxed()
    };
    let e = env_with(opts, json!({})).await;
    let err = deliver(&e.sink, &sample_order(1), "d1", &key("d", 1))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::RateLimited, "{err}");
    let before = stats(&e.sim.base_url).await["requests"].as_u64().unwrap();
    let err = deliver(&e.sink, &sample_order(2), "d2", &key("d", 2))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::RateLimited);
    assert!(err.retry_after().is_some_and(|d| d.as_secs() > 60));
    assert_eq!(
        stats(&e.sim.base_url).await["requests"].as_u64().unwrap(),
        before,
        "no call spent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xero_validation_errors_map_to_fixed_reasons() {
    let opts = SimOptions {
        period_lock: Some("2100-01-01".into()),
        ..SimOptions::relaxed()
    };
    let e = env_with(opts, json!({})).await;
    let err = deliver(&e.sink, &sample_order(1), "l1", &key("l", 1))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains("period lock date"), "{err}");
    let e = env_with(SimOptions::relaxed(), json!({"accounts": {"sales": "999"}})).await;
    let err = deliver(&e.sink, &sample_order(1), "l2", &key("l", 2))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("account code"), "{err}");
    ordersync_conformance::assert_no_canary("reason", &format!("{err:?}"));
    assert_eq!(received(&e.sim.base_url).await.count, 0);
}
