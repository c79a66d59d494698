//! The simulator's answers have the shape of the copied 2026-07 `get-trackings` example (which
//! validates against the official SDK models): every field of the example exists in the answer
//! with the same JSON type, checked by a small structural comparator.

use crate::fixture;
use crate::sim::{PATH, start};
use ordersync_aftership::sim::SimOptions;
use serde_json::{Value, json};
use time::Duration;

/// Fields the example fills that the simulator leaves `null` for a reason.
const MAY_BE_NULL: &[&str] = &[
    // A forward shipment has no return leg.
    "/data/trackings/0/return_shipment",
];

/// Where `ours` lacks a field of `example` or holds another JSON type. `null` in the example
/// accepts anything; arrays compare every element of ours with the example's first one.
fn mismatches(at: &str, example: &Value, ours: &Value, out: &mut Vec<String>) {
    match (example, ours) {
        (Value::Null, _) => {}
        (_, Value::Null) if MAY_BE_NULL.contains(&at) => {}
        (Value::Object(e), Value::Object(o)) => {
            for (k, ev) in e {
                let at = format!("{at}/{k}");
                match o.get(k) {
                    Some(ov) => mismatches(&at, ev, ov, out),
                    None => out.push(format!("{at}: missing")),
                }
            }
        }
        (Value::Array(e), Value::Array(o)) => {
            if let Some(first) = e.first() {
                if o.is_empty() {
                    out.push(format!("{at}: empty where the example has elements"));
                }
                for (i, ov) in o.iter().enumerate() {
                    mismatches(&format!("{at}/{i}"), first, ov, out);
                }
            }
        }
        (e, o) if std::mem::discriminant(e) == std::mem::discriminant(o) => {}
        (e, o) => out.push(format!("{at}: example {} vs ours {}", kind(e), kind(o))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check(example: &Value, ours: &Value) {
    let mut out = vec![];
    mismatches("", example, ours, &mut out);
    assert!(
        out.is_empty(),
        "shape differs from the example:\n{}",
        out.join("\n")
    );
}

#[test]
fn the_comparator_catches_missing_fields_and_type_changes() {
    let example = json!({ "a": 1, "b": { "c": "x" }, "l": [{ "d": true }], "n": null });
    let mut out = vec![];
    mismatches(
        "",
        &example,
        &json!({ "a": 1, "b": { "c": "y" }, "l": [{ "d": false }], "n": 3 }),
        &mut out,
    );
    assert!(out.is_empty(), "{out:?}");
    mismatches(
        "",
        &example,
        &json!({ "a": "1", "b": {}, "l": [], "n": null }),
        &mut out,
    );
    assert_eq!(
        out,
        [
            "/a: example number vs ours string",
            "/b/c: missing",
            "/l: empty where the example has elements"
        ]
    );
}

fn full_create(n: u64) -> Value {
    json!({
        "tracking_number": format!("61293150000079650{n:03}"),
        "slug": "fedex",
        "title": format!("Order #{n}"),
        "order_id": format!("order-{n}"),
        "order_number": format!("{n}"),
        // Merchant-defined keys: the example's own one.
        "custom_fields": { "ordersync_key": format!("{n:032x}"), "store_name": "my-store" },
        "customers": [{ "role": "buyer", "name": "Canary Buyer", "email": "buyer@customer.test",
                        "phone_number": "+18555072501", "language": "en" }],
    })
}

#[tokio::test]
async fn a_delivered_list_page_has_the_example_shape() {
    let (_sim, clock, raw) = start(SimOptions::relaxed()).await;
    for n in 0..2 {
        assert_eq!(raw.post(full_create(n)).await.0, 201);
    }
    clock.advance(Duration::days(5));
    let (s, page) = raw.get(&format!("{PATH}?tag=Delivered&limit=1")).await;
    assert_eq!(s, 200);
    assert_eq!(page["data"]["pagination"]["has_next_page"], true);
    check(&fixture("get-trackings.response.delivered.json"), &page);
}

#[tokio::test]
async fn get_and_update_answers_carry_the_example_tracking_shape() {
    let (_sim, clock, raw) = start(SimOptions::relaxed()).await;
    let (_, created) = raw.post(full_create(7)).await;
    let id = created["data"]["id"].as_str().unwrap().to_string();
    clock.advance(Duration::days(5));
    let example = fixture("get-trackings.response.delivered.json");
    let tracking = json!({ "meta": example["meta"], "data": { "trackings": [example["data"]["trackings"][0]] } });
    let (s, one) = raw.get(&format!("{PATH}/{id}")).await;
    assert_eq!(s, 200);
    check(
        &tracking,
        &json!({ "meta": one["meta"], "data": { "trackings": [one["data"]] } }),
    );
    let (s, _, put) = raw
        .send(
            reqwest::Method::PUT,
            &format!("{PATH}/{id}"),
            Some("k"),
            Some(json!({ "title": "x" })),
        )
        .await;
    assert_eq!(s, 200);
    check(
        &tracking,
        &json!({ "meta": put["meta"], "data": { "trackings": [put["data"]] } }),
    );
}

#[tokio::test]
async fn errors_have_the_legacy_envelope_shape() {
    let (_sim, _c, raw) = start(SimOptions::relaxed()).await;
    let example = fixture("legacy-Error.json");
    let (s, _, unauthorized) = raw.send(reqwest::Method::GET, PATH, None, None).await;
    assert_eq!(s, 401);
    check(&example, &unauthorized);
    assert_eq!(unauthorized, example, "AfterShip's own 401 body");
    let (_, dup) = {
        raw.post(full_create(1)).await;
        raw.post(full_create(1)).await
    };
    check(&example, &dup);
}
