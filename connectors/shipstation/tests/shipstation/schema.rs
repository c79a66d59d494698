//! Every V2 route the simulator serves, its answers validated against the spec's response
//! schemas (`fixtures/v2-responses.openapi.json`, copied verbatim from the spec).
//!
//! Two spec idioms draft-4 JSON Schema cannot read are translated first, in [`readable`]:
//! `additionalProperties: false` next to an `allOf` (meant for the merged shape, but draft 4
//! would refuse every property) — the `allOf` members are merged into the schema; and 3.1's
//! numeric `exclusiveMinimum` — it becomes draft 4's `minimum` + `exclusiveMinimum: true`.

use crate::key;
use ordersync_conformance::openapi::Spec;
use ordersync_conformance::{sample_order, sim_post};
use ordersync_sdk::ManualClock;
use ordersync_shipstation::mapping::shipment_body;
use ordersync_shipstation::sim::{SimOptions, spawn};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use time::Duration;

fn spec() -> Spec {
    let raw = include_str!("../../fixtures/v2-responses.openapi.json");
    let doc: Value = serde_json::from_str(raw).expect("fixture parses");
    Spec::from_value(readable(doc), "shipstation v2 responses")
}

/// The document with `allOf`s merged and numeric `exclusiveMinimum`s translated.
fn readable(mut doc: Value) -> Value {
    let schemas = doc["components"]["schemas"]
        .as_object()
        .cloned()
        .expect("components.schemas");
    let out: Map<String, Value> = schemas
        .iter()
        .map(|(k, v)| (k.clone(), merge_all_of(v.clone(), &schemas, 0)))
        .collect();
    doc["components"]["schemas"] = Value::Object(out);
    doc
}

fn resolve(v: Value, schemas: &Map<String, Value>) -> Value {
    let Some(r) = v.get("$ref").and_then(Value::as_str) else {
        return v;
    };
    let name = r.trim_start_matches("#/components/schemas/");
    let mut target = schemas
        .get(name)
        .cloned()
        .unwrap_or_else(|| panic!("unresolved {r}"));
    // Siblings of a `$ref` (readOnly, …) stay.
    if let (Some(t), Some(m)) = (target.as_object_mut(), v.as_object()) {
        for (k, x) in m {
            if k != "$ref" {
                t.entry(k.clone()).or_insert_with(|| x.clone());
            }
        }
    }
    target
}

fn merge_all_of(v: Value, schemas: &Map<String, Value>, depth: usize) -> Value {
    assert!(depth < 64, "allOf nesting too deep");
    match v {
        Value::Object(mut m) => {
            if let Some(Value::Number(n)) = m.get("exclusiveMinimum").cloned() {
                m.insert("minimum".into(), Value::Number(n));
                m.insert("exclusiveMinimum".into(), Value::Bool(true));
            }
            if let Some(Value::Array(members)) = m.remove("allOf") {
                for member in members {
                    let member = merge_all_of(resolve(member, schemas), schemas, depth + 1);
                    let Value::Object(member) = member else {
                        continue;
                    };
                    for (k, x) in member {
                        match (k.as_str(), m.get_mut(&k)) {
                            ("properties", Some(Value::Object(props))) => {
                                for (pk, pv) in x.as_object().cloned().unwrap_or_default() {
                                    props.entry(pk).or_insert(pv);
                                }
                            }
                            ("required", Some(Value::Array(req))) => {
                                for r in x.as_array().cloned().unwrap_or_default() {
                                    if !req.contains(&r) {
                                        req.push(r);
                                    }
                                }
                            }
                            ("title" | "description" | "example", _) => {}
                            (_, Some(_)) => {}
                            (_, None) => {
                                m.insert(k, x);
                            }
                        }
                    }
                }
            }
            Value::Object(
                m.into_iter()
                    .map(|(k, x)| (k, merge_all_of(x, schemas, depth + 1)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|x| merge_all_of(x, schemas, depth + 1))
                .collect(),
        ),
        other => other,
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut b = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("API-Key", "k");
        if let Some(v) = body {
            b = b.json(&v);
        }
        let r = b.send().await.expect("sim answers");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }
}

fn shipment(i: u64, ext: &str) -> Value {
    let mut v =
        serde_json::to_value(shipment_body(&sample_order(i), ext, Some("se-77")).unwrap()).unwrap();
    v["external_shipment_id"] = json!(ext);
    v
}

/// A refused row of a batch has no `shipment_id`, `created_at` or `modified_at` (nothing was
/// made), which the spec's `create_shipment_response` still lists as required; anything else
/// must validate (its `ship_to` is the refused input, echoed as sent).
fn refused_row_errors(s: &Spec, row: &Value) -> Vec<String> {
    s.errors("create_shipment_response", row)
        .into_iter()
        .filter(|e| {
            let missing_id = e.starts_with(": ")
                && e.contains("required property")
                && ["shipment_id", "created_at", "modified_at"]
                    .iter()
                    .any(|f| e.contains(&format!("\"{f}\"")));
            // The refused input, echoed as sent.
            !missing_id && !e.starts_with("/ship_to")
        })
        .collect()
}

#[tokio::test]
async fn every_route_answers_the_spec_shape() {
    let s = spec();
    let clock = Arc::new(ManualClock::new());
    let sim = spawn(SimOptions::relaxed(), clock.clone())
        .await
        .expect("binds");
    let api = Api {
        http: reqwest::Client::new(),
        base: sim.base_url.clone(),
    };
    let t0 = clock.now_rfc3339();

    // Batch create: created rows, a refused row, a conflict, a rejected row.
    let mut bad = shipment(2, &key("sb", 2));
    bad["ship_to"].as_object_mut().unwrap().remove("phone");
    let (st, created) = api
        .call(
            reqwest::Method::POST,
            "/v2/shipments",
            Some(
                json!({"shipments": [shipment(1, &key("sa", 1)), bad, shipment(3, &key("sa", 3))]}),
            ),
        )
        .await;
    assert_eq!(st, 200);
    s.assert_valid(
        "create_shipments_response_body",
        &json!({
            "has_errors": created["has_errors"],
            "shipments": [created["shipments"][0], created["shipments"][2]],
        }),
    );
    let refused = &created["shipments"][1];
    assert!(refused["errors"].as_array().is_some_and(|e| !e.is_empty()));
    let errs = refused_row_errors(&s, refused);
    assert!(errs.is_empty(), "refused row: {errs:?}");
    sim_post(&sim.base_url, "/_sim/reject", json!({"count": 1})).await;
    let (_, again) = api
        .call(
            reqwest::Method::POST,
            "/v2/shipments",
            Some(json!({"shipments": [shipment(1, &key("sa", 1)), shipment(4, &key("sa", 4))]})),
        )
        .await;
    for row in again["shipments"].as_array().unwrap() {
        let errs = refused_row_errors(&s, row);
        assert!(errs.is_empty(), "conflict / rejected row: {errs:?}");
    }
    let id = created["shipments"][0]["shipment_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Lookups and the update.
    let (_, one) = api.get(&format!("/v2/shipments/{id}")).await;
    s.assert_valid("get_shipment_by_id_response_body", &one);
    for field in [
        "advanced_options",
        "confirmation",
        "insurance_provider",
        "packages",
        "return_to",
        "ship_from",
        "tags",
        "total_weight",
    ] {
        assert!(!one[field].is_null(), "{field} is present");
    }
    // The translated spec still has teeth: what the simulator used to answer fails it.
    for (field, broken) in [
        ("packages", Value::Null),
        ("shipping_paid", Value::Null),
        ("unknown_field", json!(1)),
    ] {
        let mut v = one.clone();
        if broken.is_null() {
            v.as_object_mut().unwrap().remove(field);
            v[field] = broken;
        } else {
            v[field] = broken;
        }
        assert!(
            !s.errors("get_shipment_by_id_response_body", &v).is_empty(),
            "{field}: {v}"
        );
    }
    let mut no_from = one.clone();
    no_from.as_object_mut().unwrap().remove("ship_from");
    assert!(
        !s.errors("get_shipment_by_id_response_body", &no_from)
            .is_empty()
    );
    assert!(one["shipping_paid"]["amount"].is_number());
    assert!(one["tax_paid"]["amount"].is_number());
    let (_, by_ext) = api
        .get(&format!(
            "/v2/shipments/external_shipment_id/{}",
            key("sa", 1)
        ))
        .await;
    s.assert_valid("get_shipment_by_external_id_response_body", &by_ext);
    let (st, put) = api
        .call(
            reqwest::Method::PUT,
            &format!("/v2/shipments/{id}"),
            Some(shipment(1, &key("sa", 1))),
        )
        .await;
    assert_eq!(st, 200);
    s.assert_valid("get_shipment_by_id_response_body", &put);

    // Listings: everything, filtered, paged, empty.
    for q in [
        String::new(),
        format!("?external_shipment_id={}", key("sa", 3)),
        "?shipment_status=pending&sort_by=created_at&sort_dir=asc".to_string(),
        format!("?modified_at_start={t0}&sort_by=modified_at&page_size=1&page=2"),
        "?shipment_status=cancelled".to_string(),
        "?page=9".to_string(),
    ] {
        let (st, list) = api.get(&format!("/v2/shipments{q}")).await;
        assert_eq!(st, 200, "{q}");
        s.assert_valid("list_shipments_response_body", &list);
    }

    // Labels and tracking, before and after delivery.
    let (_, none) = api.get(&format!("/v2/labels?shipment_id={id}")).await;
    s.assert_valid("list_labels_response_body", &none);
    clock.advance(Duration::hours(26));
    let (_, labels) = api.get(&format!("/v2/labels?shipment_id={id}")).await;
    s.assert_valid("list_labels_response_body", &labels);
    let label = labels["labels"][0]["label_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, moving) = api.get(&format!("/v2/labels/{label}/track")).await;
    s.assert_valid("get_tracking_log_from_label_response_body", &moving);
    clock.advance(Duration::days(4));
    let (_, arrived) = api.get(&format!("/v2/labels/{label}/track")).await;
    s.assert_valid("get_tracking_log_from_label_response_body", &arrived);
    assert!(arrived["actual_delivery_date"].is_string());
    let (_, list) = api.get("/v2/shipments?sort_by=modified_at").await;
    s.assert_valid("list_shipments_response_body", &list);

    // Error answers: unknown ids, refused writes, bad queries, throttling, bad keys.
    let mut errors = vec![
        api.get("/v2/shipments/se-999").await,
        api.get("/v2/shipments/external_shipment_id/nope").await,
        api.get("/v2/labels/se-l999/track").await,
        api.get("/v2/shipments?sort_dir=up").await,
        api.call(
            reqwest::Method::PUT,
            &format!("/v2/shipments/{id}"),
            Some(shipment(1, &key("sa", 1))),
        )
        .await,
        api.call(
            reqwest::Method::PUT,
            &format!("/v2/shipments/{id}/cancel"),
            None,
        )
        .await,
        api.call(
            reqwest::Method::POST,
            "/v2/shipments",
            Some(json!({"shipments": []})),
        )
        .await,
    ];
    let anon = reqwest::Client::new()
        .get(format!("{}/v2/shipments", sim.base_url))
        .send()
        .await
        .unwrap();
    errors.push((anon.status().as_u16(), anon.json().await.unwrap()));
    sim_post(
        &sim.base_url,
        "/_sim/faults",
        json!({"rate": 1.0, "kinds": ["429"]}),
    )
    .await;
    errors.push(api.get("/v2/shipments").await);
    for (st, body) in errors {
        assert!(st >= 400, "{st}");
        s.assert_valid("error_response_body", &body);
    }
}

trait NowText {
    fn now_rfc3339(&self) -> String;
}

impl NowText for ManualClock {
    fn now_rfc3339(&self) -> String {
        use ordersync_sdk::Clock;
        self.now()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    }
}
