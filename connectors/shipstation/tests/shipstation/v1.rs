//! ShipStation V1: the simulator over raw HTTP (Basic auth, the 40-a-minute window, ModelState
//! 400s, the orderKey upsert and its status lock, answers shaped like the documentation's
//! examples) and the V1 sink end to end.

use crate::orders::gbp_fully_refunded;
use crate::{build_v1, deps, env_v1, key, received, secrets, secrets_v1};
use base64::Engine as _;
use ordersync_conformance::{assert_no_canary, sample_order, sim_get, sim_post};
use ordersync_sdk::{DeliveryRequest, ErrorClass, ManualClock, Order, OutcomeKind};
use ordersync_shipstation::mapping::{NOTHING_TO_SHIP, shipment_body};
use ordersync_shipstation::sim::{SimOptions, spawn};
use ordersync_shipstation::v1::errors::LOCKED;
use ordersync_shipstation::v1::mapping::{order_plan, parse_pacific};
use serde_json::{Value, json};
use std::sync::Arc;
use time::Duration;

fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/v1/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

fn req<'a>(o: &'a Order, obj: &'a str, prev: Option<&'a str>) -> DeliveryRequest<'a> {
    DeliveryRequest {
        order: o,
        idempotency_key: obj,
        object_key: obj,
        previous_ref: prev,
    }
}

/// Where `ours` differs from the example in field names or JSON types (a null on either side
/// matches anything: the examples leave many fields null).
fn shape_diff(path: &str, example: &Value, ours: &Value, out: &mut Vec<String>) {
    match (example, ours) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(e), Value::Object(o)) => {
            for k in e.keys().filter(|k| !o.contains_key(*k)) {
                out.push(format!("{path}.{k}: missing"));
            }
            for k in o.keys().filter(|k| !e.contains_key(*k)) {
                out.push(format!("{path}.{k}: not in the example"));
            }
            for (k, ev) in e {
                if let Some(ov) = o.get(k) {
                    shape_diff(&format!("{path}.{k}"), ev, ov, out);
                }
            }
        }
        (Value::Array(e), Value::Array(o)) => {
            if let (Some(ef), Some(of)) = (e.first(), o.first()) {
                for item in o {
                    shape_diff(&format!("{path}[]"), ef, item, out);
                }
                let _ = of;
            }
        }
        (e, o) => {
            let kind = |v: &Value| match v {
                Value::Bool(_) => "bool",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
                Value::Null => "null",
            };
            if kind(e) != kind(o) {
                out.push(format!(
                    "{path}: {} in the example, {} here",
                    kind(e),
                    kind(o)
                ));
            }
        }
    }
}

fn assert_shape(name: &str, example: &Value, ours: &Value) {
    let mut diffs = Vec::new();
    shape_diff("", example, ours, &mut diffs);
    assert!(diffs.is_empty(), "{name}:\n  {}", diffs.join("\n  "));
}

struct V1Api {
    http: reqwest::Client,
    base: String,
    auth: String,
}

impl V1Api {
    fn new(base: &str, key: &str, secret: &str) -> Self {
        let auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"))
        );
        Self {
            http: reqwest::Client::new(),
            base: base.to_string(),
            auth,
        }
    }
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut b = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", &self.auth);
        if let Some(v) = body {
            b = b.json(&v);
        }
        let r = b.send().await.expect("sim answers");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let (s, _, v) = self.send(reqwest::Method::POST, path, Some(body)).await;
        (s, v)
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        let (s, _, v) = self.send(reqwest::Method::GET, path, None).await;
        (s, v)
    }
}

fn v1_body(i: u64, order_key: &str) -> Value {
    serde_json::to_value(
        order_plan(&sample_order(i), order_key, None)
            .unwrap()
            .unwrap(),
    )
    .unwrap()
}

async fn start(opts: SimOptions) -> (ordersync_sdk::sim::SimServer, Arc<ManualClock>, V1Api) {
    let clock = Arc::new(ManualClock::new());
    let sim = spawn(opts, clock.clone()).await.expect("binds");
    let api = V1Api::new(&sim.base_url, "k", "s");
    (sim, clock, api)
}

#[test]
fn the_order_body_is_the_v2_plan_in_order_model_fields() {
    let o = sample_order(8);
    let k = key("v1m", 8);
    let body = order_plan(&o, &k, Some(4242)).unwrap().unwrap();
    let v = serde_json::to_value(&body).unwrap();
    // Only fields of the documented order (the full model the get example shows) and the
    // JSON types of the OrderModel example (nulls aside).
    let mut diffs = Vec::new();
    shape_diff("", &fixture("GetOrderResponse.json"), &v, &mut diffs);
    let unknown: Vec<_> = diffs
        .iter()
        .filter(|d| d.contains("not in the example"))
        .collect();
    assert!(
        unknown.is_empty(),
        "fields the V1 order does not have: {unknown:?}"
    );
    let mut diffs = Vec::new();
    shape_diff("", &fixture("OrderModel.json"), &v, &mut diffs);
    let wrong: Vec<_> = diffs.iter().filter(|d| d.contains(" here")).collect();
    assert!(wrong.is_empty(), "types differ from OrderModel: {wrong:?}");
    assert_eq!(v["orderKey"], k.as_str());
    assert_eq!(v["orderStatus"], "awaiting_shipment");
    assert_eq!(v["advancedOptions"]["warehouseId"], 4242);
    assert_eq!(v["advancedOptions"]["customField1"], o.external_id.as_str());
    // The same plan as V2: items, unit prices after discounts, tax of the current units.
    let v2 = serde_json::to_value(shipment_body(&o, &k, None).unwrap()).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), v2["items"].as_array().unwrap().len());
    for (a, b) in items.iter().zip(v2["items"].as_array().unwrap()) {
        assert_eq!(a["lineItemKey"], b["external_order_item_id"]);
        assert_eq!(a["quantity"], b["quantity"]);
        assert_eq!(a["unitPrice"], b["unit_price"]);
        assert_eq!(a["taxAmount"], b["tax_amount"]);
        assert_eq!(a["adjustment"], false);
    }
    assert_eq!(v["amountPaid"], v2["amount_paid"]["amount"]);
    assert_eq!(v["taxAmount"], v2["tax_paid"]["amount"]);
    assert_eq!(v["shippingAmount"], v2["shipping_paid"]["amount"]);
    // Naive Pacific time that reads back to the order's instant (to the second).
    let date = v["orderDate"].as_str().unwrap();
    assert_eq!(date.len(), "2015-06-29T08:46:27.0000000".len(), "{date}");
    let back = parse_pacific(date).unwrap();
    assert_eq!(back.unix_timestamp(), o.created_at.unix_timestamp());
    // Nothing to ship → no order; PII never in errors.
    assert!(
        order_plan(&gbp_fully_refunded(1), &k, None)
            .unwrap()
            .is_none()
    );
    let mut no_street = sample_order(9);
    no_street.pii.shipping_address.as_mut().unwrap().line1 = None;
    let e = order_plan(&no_street, &k, None).unwrap_err();
    assert_eq!(e.class(), ErrorClass::Permanent);
    assert!(e.to_string().contains("street1"), "{e}");
    assert_no_canary("error", &e.to_string());
    assert_no_canary("debug", &format!("{body:?}"));
}

#[tokio::test]
async fn answers_have_the_documented_shape() {
    let (_sim, clock, api) = start(SimOptions::relaxed()).await;
    let (st, created) = api.post("/orders/createorder", v1_body(1, "shape-1")).await;
    assert_eq!(st, 200);
    assert_shape(
        "createorder",
        &fixture("CreateOrderResponse.json"),
        &created,
    );
    let id = created["orderId"].as_u64().unwrap();
    let (st, got) = api.get(&format!("/orders/{id}")).await;
    assert_eq!(st, 200);
    assert_shape("GET /orders/{id}", &fixture("GetOrderResponse.json"), &got);
    let (st, bulk) = api
        .post(
            "/orders/createorders",
            json!([v1_body(2, "shape-2"), v1_body(3, "shape-3")]),
        )
        .await;
    assert_eq!(st, 200);
    assert_shape("createorders", &fixture("CreateOrdersResponse.json"), &bulk);
    let list_example = fixture("ListOrdersResponse.json");
    let (st, list) = api.get("/orders?page=1&pageSize=2").await;
    assert_eq!(st, 200);
    assert_eq!(list["total"], 3);
    assert_eq!(list["pages"], 2);
    let envelope = |v: &Value| {
        let mut v = v.clone();
        v["orders"] = json!([]);
        v
    };
    assert_shape("GET /orders", &envelope(&list_example), &envelope(&list));
    for o in list["orders"].as_array().unwrap() {
        assert_shape("GET /orders order", &list_example["orders"][1], o);
    }
    // Shipped a day later: the status, the ship date and a shipment.
    clock.advance(Duration::hours(25));
    let (_, shipped) = api.get(&format!("/orders/{id}")).await;
    assert_shape("shipped order", &fixture("GetOrderResponse.json"), &shipped);
    assert_eq!(shipped["orderStatus"], "shipped");
    let (_, ships) = api.get(&format!("/shipments?orderId={id}")).await;
    assert_eq!(ships["shipments"][0]["orderId"], id);
    assert!(ships["shipments"][0]["trackingNumber"].is_string());
    let (_, filtered) = api
        .get("/orders?orderStatus=shipped&orderNumber=%23C1")
        .await;
    assert_eq!(filtered["total"], 1);
}

fn clock_secs(t: &time::OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

#[tokio::test]
async fn basic_auth_plans_and_the_forty_a_minute_window() {
    let (sim, _c, _) = start(SimOptions {
        v1_credentials: Some(vec![("k".into(), "s".into()), ("poor".into(), "p".into())]),
        v1_without_api_access: vec!["poor".into()],
        ..SimOptions::default()
    })
    .await;
    let base = &sim.base_url;
    assert_eq!(V1Api::new(base, "k", "wrong").get("/orders").await.0, 401);
    let anon = reqwest::get(format!("{base}/orders")).await.unwrap();
    assert_eq!(anon.status().as_u16(), 401);
    assert_eq!(V1Api::new(base, "poor", "p").get("/orders").await.0, 403);
    // Start just after a window boundary (windows follow the clock): 41 requests fit in one.
    use ordersync_sdk::Clock;
    let into_window = clock_secs(&_c.now()) % 60;
    _c.advance(Duration::seconds(60 - into_window));
    let api = V1Api::new(base, "k", "s");
    let mut remaining = Vec::new();
    for _ in 0..40 {
        let (s, h, _) = api.send(reqwest::Method::GET, "/orders", None).await;
        assert_eq!(s, 200);
        assert_eq!(h["x-rate-limit-limit"], "40");
        remaining.push(
            h["x-rate-limit-remaining"]
                .to_str()
                .unwrap()
                .parse::<u32>()
                .unwrap(),
        );
    }
    assert_eq!(remaining.first(), Some(&39));
    assert_eq!(remaining.last(), Some(&0));
    let (s, h, _) = api.send(reqwest::Method::GET, "/orders", None).await;
    assert_eq!(s, 429);
    let reset: u64 = h["x-rate-limit-reset"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&reset));
    assert!(
        sim_get(base, "/_sim/stats").await["throttled"]
            .as_u64()
            .unwrap()
            >= 1
    );

    // The sink's classes for the same answers (its own clock: the window is spent).
    let clock = Arc::new(ManualClock::new());
    let o = sample_order(1);
    let k = key("v1a", 1);
    for (secret, key_name) in [("wrong", "k"), ("p", "poor")] {
        let sink = build_v1(base, key_name, secret, 1000, &clock);
        let e = sink.deliver(req(&o, &k, None)).await.unwrap_err();
        assert_eq!(e.class(), ErrorClass::Auth, "{e}");
    }
    let e = build_v1(base, "poor", "p", 1000, &clock)
        .deliver(req(&o, &k, None))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("plan lacks API access"), "{e}");
}

#[tokio::test]
async fn wrong_shapes_get_model_state_400s() {
    let (sim, _c, api) = start(SimOptions::relaxed()).await;
    let (s, v) = api
        .post("/orders/createorder", json!([v1_body(1, "a")]))
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["Message"], "The request is invalid.");
    assert!(v["ModelState"]["apiOrder"].is_array());
    let (s, v) = api.post("/orders/createorders", v1_body(1, "a")).await;
    assert_eq!(s, 400);
    assert!(v["ModelState"]["apiOrders"].is_array());
    let mut ones = v1_body(1, "b");
    ones["gift"] = json!(1);
    ones["items"][0]["adjustment"] = json!(0);
    let (s, v) = api.post("/orders/createorder", ones).await;
    assert_eq!(s, 400);
    assert!(v["ModelState"]["apiOrder.gift"].is_array(), "{v}");
    assert!(
        v["ModelState"]["apiOrder.items.0.adjustment"].is_array(),
        "{v}"
    );
    let mut missing = v1_body(1, "c");
    missing.as_object_mut().unwrap().remove("orderNumber");
    missing["orderStatus"] = json!("lost");
    let (s, v) = api.post("/orders/createorder", missing).await;
    assert_eq!(s, 400);
    assert!(v["ModelState"]["apiOrder.orderNumber"].is_array());
    assert!(v["ModelState"]["apiOrder.orderStatus"].is_array());
    let too_many: Vec<Value> = (0..101).map(|i| v1_body(i, &format!("m{i}"))).collect();
    assert_eq!(
        api.post("/orders/createorders", json!(too_many)).await.0,
        400
    );
    // One bad order in a bulk request fails its row only.
    let mut bad = v1_body(2, "d2");
    bad["gift"] = json!(1);
    let (s, v) = api
        .post("/orders/createorders", json!([v1_body(1, "d1"), bad]))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["hasErrors"], true);
    assert_eq!(v["results"][0]["success"], true);
    assert_eq!(v["results"][1]["success"], false);
    assert!(v["results"][1]["orderId"].is_null());
    assert_eq!(received(&sim.base_url).await["count"], 1);
}

#[tokio::test]
async fn the_order_key_upsert_and_the_status_lock() {
    let e = env_v1(SimOptions::relaxed()).await;
    let mut o = sample_order(3);
    let k = key("v1u", 3);
    let first = e.sink.deliver(req(&o, &k, None)).await.unwrap();
    assert_eq!(first.kind, OutcomeKind::Created);
    // Lost answer, new version, no previous ref: the same order, updated.
    o.shipping_method = Some("Express".into());
    let again = e.sink.deliver(req(&o, &k, None)).await.unwrap();
    assert_eq!(again.external_ref, first.external_ref);
    assert_eq!(again.kind, OutcomeKind::Updated);
    let with_ref = e
        .sink
        .deliver(req(&o, &k, Some(&first.external_ref)))
        .await
        .unwrap();
    assert_eq!(with_ref.kind, OutcomeKind::Updated);
    let r = received(&e.sim.base_url).await;
    assert_eq!(r["count"], 1);
    assert_eq!(r["objects"][0]["updates"], 2);
    assert_eq!(r["objects"][0]["object_key"], k.as_str());
    assert_eq!(r["objects"][0]["external_order_id"], o.external_id.as_str());
    assert_eq!(r["objects"][0]["status"], "awaiting_shipment");
    let units: u64 = r["objects"][0]["units"]
        .as_object()
        .unwrap()
        .values()
        .map(|u| u.as_u64().unwrap())
        .sum();
    assert_eq!(
        units,
        o.lines_to_ship()
            .map(|l| u64::from(l.current_quantity))
            .sum::<u64>()
    );
    // Shipped a day later: V1 locks it.
    e.clock.advance(Duration::hours(25));
    let err = e
        .sink
        .deliver(req(&o, &k, Some(&first.external_ref)))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains(LOCKED), "{err}");
    assert_eq!(
        received(&e.sim.base_url).await["objects"][0]["status"],
        "shipped"
    );
    // Without an orderKey every call creates (the pitfall the key avoids).
    let api = V1Api::new(&e.sim.base_url, "x", "y");
    let mut keyless = v1_body(4, "unused");
    keyless.as_object_mut().unwrap().remove("orderKey");
    api.post("/orders/createorder", keyless.clone()).await;
    api.post("/orders/createorder", keyless).await;
    assert_eq!(received(&e.sim.base_url).await["count"], 3);
}

#[tokio::test]
async fn nothing_left_to_ship_is_skipped_and_cancels_a_held_order() {
    let e = env_v1(SimOptions::relaxed()).await;
    // Never delivered: skipped, nothing created.
    let k1 = key("v1r", 1);
    let out = e
        .sink
        .deliver(req(&gbp_fully_refunded(1), &k1, None))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Skipped);
    assert_eq!(received(&e.sim.base_url).await["count"], 0);
    // Delivered, then fully refunded: the order is cancelled through createorder.
    let k5 = key("v1r", 5);
    let made = e
        .sink
        .deliver(req(&sample_order(5), &k5, None))
        .await
        .unwrap();
    let out = e
        .sink
        .deliver(req(&gbp_fully_refunded(5), &k5, Some(&made.external_ref)))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Skipped);
    // A lost create, then the refund (no previous ref): found by orderNumber + orderKey.
    let k9 = key("v1r", 9);
    e.sink
        .deliver(req(&sample_order(9), &k9, None))
        .await
        .unwrap();
    let out = e
        .sink
        .deliver(req(&gbp_fully_refunded(9), &k9, None))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Skipped);
    let r = received(&e.sim.base_url).await;
    assert_eq!(r["count"], 2);
    for obj in r["objects"].as_array().unwrap() {
        assert_eq!(obj["status"], "cancelled", "{obj}");
        assert_eq!(obj["updates"], 1);
    }
    // Cancelling again is done already.
    let out = e
        .sink
        .deliver(req(&gbp_fully_refunded(5), &k5, Some(&made.external_ref)))
        .await
        .unwrap();
    assert_eq!(out.kind, OutcomeKind::Skipped);
    // Shipped before the refund: too late, and the reason says so.
    let k13 = key("v1r", 13);
    let shipped = e
        .sink
        .deliver(req(&sample_order(13), &k13, None))
        .await
        .unwrap();
    e.clock.advance(Duration::hours(25));
    let refunded = {
        // sample_order(13) is GBP like 1, 5 and 9.
        gbp_fully_refunded(13)
    };
    let err = e
        .sink
        .deliver(req(&refunded, &k13, Some(&shipped.external_ref)))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains(NOTHING_TO_SHIP), "{err}");
    assert!(err.to_string().contains("shipped already"), "{err}");
}

#[tokio::test]
async fn batches_go_through_createorders_and_fail_row_by_row() {
    let e = env_v1(SimOptions::relaxed()).await;
    let orders: Vec<Order> = (0..250).map(sample_order).collect();
    let keys: Vec<String> = (0..250).map(|i| key("v1b", i)).collect();
    let reqs: Vec<_> = orders
        .iter()
        .zip(&keys)
        .map(|(o, k)| req(o, k, None))
        .collect();
    let out = e.sink.deliver_batch(&reqs).await;
    assert!(
        out.iter()
            .all(|r| matches!(r, Ok(o) if o.kind == OutcomeKind::Created))
    );
    assert_eq!(received(&e.sim.base_url).await["count"], 250);
    let stats = sim_get(&e.sim.base_url, "/_sim/stats").await;
    assert_eq!(stats["by_route"]["POST /orders/createorders"], 3);
    // A rejected row is Permanent for that order only; the batch goes on.
    sim_post(&e.sim.base_url, "/_sim/reject", json!({"count": 1})).await;
    let more: Vec<Order> = (300..303).map(sample_order).collect();
    let mk: Vec<String> = (300..303).map(|i| key("v1b", i)).collect();
    let reqs: Vec<_> = more.iter().zip(&mk).map(|(o, k)| req(o, k, None)).collect();
    let out = e.sink.deliver_batch(&reqs).await;
    let err = out[0].as_ref().unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_no_canary("error", &err.to_string());
    assert!(out[1].is_ok() && out[2].is_ok());
    assert_eq!(received(&e.sim.base_url).await["count"], 252);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_server_errors() {
    // 4 requests a second for V1 at the sim; the sink's own gate is wide open.
    let e = env_v1(SimOptions {
        v1_requests_per_minute: 4,
        rate_window_secs: 1,
        ..SimOptions::relaxed()
    })
    .await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10u64 {
        let sink = e.sink.clone();
        tasks.spawn(async move {
            let o = sample_order(10 + i);
            let k = key("v1t", i);
            sink.deliver(req(&o, &k, None)).await.map(|_| ())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap()
            .expect("throttled deliveries are retried after the reset");
    }
    assert_eq!(received(&e.sim.base_url).await["count"], 10);
    let stats = sim_get(&e.sim.base_url, "/_sim/stats").await;
    assert!(stats["throttled"].as_u64().unwrap() >= 1, "{stats}");
    // 500s and garbled answers: retriable, and the retry lands one order.
    for kind in ["500", "malformed"] {
        sim_post(
            &e.sim.base_url,
            "/_sim/faults",
            json!({"rate": 1.0, "kinds": [kind]}),
        )
        .await;
        let o = sample_order(40);
        let k = key("v1e", 40);
        let err = e.sink.deliver(req(&o, &k, None)).await.unwrap_err();
        assert_eq!(err.class(), ErrorClass::Retriable, "{kind}: {err}");
        assert_no_canary("error", &err.to_string());
        sim_post(&e.sim.base_url, "/_sim/faults", json!({"rate": 0.0})).await;
        e.sink.deliver(req(&o, &k, None)).await.unwrap();
    }
    assert_eq!(received(&e.sim.base_url).await["count"], 11);
}

#[tokio::test]
async fn v1_needs_its_secret_and_a_numeric_warehouse() {
    let clock = Arc::new(ManualClock::new());
    let no_secret = ordersync_shipstation::build_sink(
        &json!({"api_version": "v1"}),
        &secrets("k"),
        &deps(&clock),
    );
    assert_eq!(
        no_secret.err().expect("needs api_secret").class(),
        ErrorClass::Permanent
    );
    let bad_wh = ordersync_shipstation::build_sink(
        &json!({"api_version": "v1", "warehouse_id": "se-1"}),
        &secrets_v1("k", "s"),
        &deps(&clock),
    );
    assert!(
        bad_wh
            .err()
            .expect("numeric")
            .to_string()
            .contains("warehouseId")
    );
    let ok = ordersync_shipstation::build_sink(
        &json!({"api_version": "v1", "warehouse_id": "123"}),
        &secrets_v1("k", "s"),
        &deps(&clock),
    )
    .expect("v1 builds");
    let caps = ok.capabilities();
    assert!(caps.updates && !caps.tracks_delivery && !caps.delivery_feed);
}
