//! The simulator over raw HTTP: auth, rate limit, per-shipment errors, id truncation,
//! lookups, update/cancel rules, and labels/tracking that follow the clock.

use crate::{key, received};
use ordersync_conformance::{sample_order, sim_post};
use ordersync_sdk::{Clock, ManualClock};
use ordersync_shipstation::mapping::shipment_body;
use ordersync_shipstation::sim::{SimOptions, spawn};
use serde_json::{Value, json};
use std::sync::Arc;
use time::Duration;

struct Raw {
    http: reqwest::Client,
    base: String,
}

impl Raw {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut b = self.http.request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            b = b.header("API-Key", k);
        }
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
        let (s, _, v) = self
            .send(reqwest::Method::POST, path, Some("k"), Some(body))
            .await;
        (s, v)
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        let (s, _, v) = self.send(reqwest::Method::GET, path, Some("k"), None).await;
        (s, v)
    }
}

async fn start(opts: SimOptions) -> (ordersync_sdk::sim::SimServer, Arc<ManualClock>, Raw) {
    let clock = Arc::new(ManualClock::new());
    let sim = spawn(opts, clock.clone()).await.expect("binds");
    let raw = Raw {
        http: reqwest::Client::new(),
        base: sim.base_url.clone(),
    };
    (sim, clock, raw)
}

fn shipment(i: u64, ext: &str) -> Value {
    serde_json::to_value(shipment_body(&sample_order(i), "placeholder", None).unwrap())
        .map(|mut v| {
            v["external_shipment_id"] = json!(ext);
            v
        })
        .unwrap()
}

#[tokio::test]
async fn missing_or_unknown_key_is_401_with_a_v2_error_body() {
    let (_sim, _c, raw) = start(SimOptions {
        api_keys: Some(vec!["right".into()]),
        ..SimOptions::default()
    })
    .await;
    for k in [None, Some(""), Some("wrong")] {
        let (status, _, body) = raw
            .send(reqwest::Method::GET, "/v2/shipments/se-1", k, None)
            .await;
        assert_eq!(status, 401, "{k:?}");
        assert_eq!(body["errors"][0]["error_type"], "security");
        assert_eq!(body["errors"][0]["error_code"], "unauthorized");
        assert!(body["request_id"].is_string());
    }
    let (status, _, _) = raw
        .send(
            reqwest::Method::GET,
            "/v2/shipments/se-1",
            Some("right"),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn fixed_window_limit_sends_429_with_retry_after_and_headers() {
    let (sim, _c, raw) = start(SimOptions {
        requests_per_minute: 3,
        ..SimOptions::default()
    })
    .await;
    let mut remaining = vec![];
    for _ in 0..3 {
        let (s, h, _) = raw
            .send(reqwest::Method::GET, "/v2/shipments/se-9", Some("a"), None)
            .await;
        assert_eq!(s, 404);
        assert_eq!(h["x-rate-limit-limit"], "3");
        remaining.push(h["x-rate-limit-remaining"].to_str().unwrap().to_string());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let (s, h, body) = raw
        .send(reqwest::Method::GET, "/v2/shipments/se-9", Some("a"), None)
        .await;
    assert_eq!(s, 429);
    let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(body["errors"][0]["error_code"], "rate_limit_exceeded");
    // Windows are per key.
    let (s, _, _) = raw
        .send(reqwest::Method::GET, "/v2/shipments/se-9", Some("b"), None)
        .await;
    assert_eq!(s, 404);
    let stats = ordersync_conformance::sim_get(&sim.base_url, "/_sim/stats").await;
    assert_eq!(stats["throttled"], 1);
    assert_eq!(stats["requests"], 5);
}

#[tokio::test]
async fn batch_create_reports_per_shipment_errors_and_never_duplicates() {
    let (sim, _c, raw) = start(SimOptions::relaxed()).await;
    let mut bad = shipment(2, &key("bad", 2));
    bad["ship_to"]
        .as_object_mut()
        .unwrap()
        .remove("city_locality");
    let long = "L".repeat(60);
    let (s, body) = raw
        .post(
            "/v2/shipments",
            json!({"shipments": [shipment(1, &key("a", 1)), bad, shipment(3, &long)]}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(body["has_errors"], true);
    let res = body["shipments"].as_array().unwrap();
    assert!(res[0]["shipment_id"].as_str().unwrap().starts_with("se-"));
    assert_eq!(res[0]["shipment_status"], "pending");
    assert!(res[1]["shipment_id"].is_null());
    assert!(
        res[1]["errors"][0]
            .as_str()
            .unwrap()
            .contains("city_locality")
    );
    assert_eq!(
        res[2]["external_shipment_id"].as_str().unwrap().len(),
        50,
        "silently truncated"
    );

    let (_, again) = raw
        .post(
            "/v2/shipments",
            json!({"shipments": [shipment(1, &key("a", 1))]}),
        )
        .await;
    assert!(
        again["shipments"][0]["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("identifier_conflict")
    );
    // A different long id sharing the first 50 chars collides, as on the real API.
    let (_, clash) = raw
        .post(
            "/v2/shipments",
            json!({"shipments": [shipment(4, &format!("{long}-other"))]}),
        )
        .await;
    assert!(
        clash["shipments"][0]["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("identifier_conflict")
    );
    assert_eq!(received(&sim.base_url).await["count"], 2);

    let (s, found) = raw
        .get(&format!(
            "/v2/shipments/external_shipment_id/{}",
            key("a", 1)
        ))
        .await;
    assert_eq!(s, 200);
    assert_eq!(found["shipment_id"], res[0]["shipment_id"]);
    assert_eq!(
        raw.get("/v2/shipments/external_shipment_id/nope").await.0,
        404
    );

    let (s, garbled) = raw.post("/v2/shipments", json!({"shipments": "x"})).await;
    assert_eq!(s, 400);
    assert_eq!(garbled["errors"][0]["error_type"], "validation");
    assert_eq!(
        raw.post("/v2/shipments", json!({"shipments": []})).await.0,
        400
    );
}

#[tokio::test]
async fn update_and_cancel_rules() {
    let (sim, clock, raw) = start(SimOptions::relaxed()).await;
    let ext = key("u", 1);
    let (_, body) = raw
        .post("/v2/shipments", json!({"shipments": [shipment(1, &ext)]}))
        .await;
    let id = body["shipments"][0]["shipment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut changed = shipment(1, &ext);
    changed["shipment_number"] = json!("#NEW");
    let (s, _, v) = raw
        .send(
            reqwest::Method::PUT,
            &format!("/v2/shipments/{id}"),
            Some("k"),
            Some(changed.clone()),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["shipment_number"], "#NEW");
    let mut other = changed.clone();
    other["external_shipment_id"] = json!("another");
    let (s, _, _) = raw
        .send(
            reqwest::Method::PUT,
            &format!("/v2/shipments/{id}"),
            Some("k"),
            Some(other),
        )
        .await;
    assert_eq!(s, 400, "external_shipment_id is immutable");
    let r = received(&sim.base_url).await;
    assert_eq!(r["objects"][0]["updates"], 1);
    assert_eq!(r["objects"][0]["creates"], 1);
    assert_eq!(r["objects"][0]["object_key"], ext.as_str());

    let (s, _, _) = raw
        .send(
            reqwest::Method::PUT,
            &format!("/v2/shipments/{id}/cancel"),
            Some("k"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _, v) = raw
        .send(
            reqwest::Method::PUT,
            &format!("/v2/shipments/{id}"),
            Some("k"),
            Some(changed),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["errors"][0]["error_code"], "invalid_status");
    // A cancelled shipment never gets a label.
    clock.advance(Duration::days(5));
    let (_, labels) = raw.get(&format!("/v2/labels?shipment_id={id}")).await;
    assert_eq!(labels["labels"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn labels_and_tracking_follow_the_clock() {
    let (_sim, clock, raw) = start(SimOptions::relaxed()).await;
    let created = clock.now();
    let (_, body) = raw
        .post(
            "/v2/shipments",
            json!({"shipments": [shipment(1, &key("t", 1))]}),
        )
        .await;
    let id = body["shipments"][0]["shipment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let labels = |v: &Value| v["labels"].as_array().unwrap().clone();
    assert!(labels(&raw.get(&format!("/v2/labels?shipment_id={id}")).await.1).is_empty());

    clock.advance(Duration::hours(25));
    let (_, l) = raw.get(&format!("/v2/labels?shipment_id={id}")).await;
    let label_id = labels(&l)[0]["label_id"].as_str().unwrap().to_string();
    let (s, t) = raw.get(&format!("/v2/labels/{label_id}/track")).await;
    assert_eq!(s, 200);
    assert_eq!(t["status_code"], "IN_TRANSIT");
    assert!(t.get("actual_delivery_date").is_none());
    assert_eq!(
        raw.get(&format!("/v2/shipments/{id}")).await.1["shipment_status"],
        "label_purchased"
    );

    clock.advance(Duration::days(4));
    let (_, t) = raw.get(&format!("/v2/labels/{label_id}/track")).await;
    assert_eq!(t["status_code"], "DELIVERED");
    let at = time::OffsetDateTime::parse(
        t["actual_delivery_date"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(at <= clock.now());
    assert!(
        at - created >= Duration::days(2)
            && at - created <= Duration::days(4) + Duration::seconds(1)
    );
    assert_eq!(raw.get("/v2/labels/se-l999/track").await.0, 404);
}

#[tokio::test]
async fn injected_faults_and_reset() {
    let (sim, _c, raw) = start(SimOptions::relaxed()).await;
    sim_post(
        &sim.base_url,
        "/_sim/faults",
        json!({"rate": 1.0, "kinds": ["429"]}),
    )
    .await;
    let (s, h, v) = raw
        .send(reqwest::Method::GET, "/v2/shipments/se-1", Some("k"), None)
        .await;
    assert_eq!(s, 429);
    assert!(h.contains_key("retry-after"));
    assert_eq!(
        v["errors"][0]["error_code"], "rate_limit_exceeded",
        "shaped like ShipStation's own 429"
    );
    let stats = ordersync_conformance::sim_get(&sim.base_url, "/_sim/stats").await;
    assert_eq!(stats["faults_injected"], 1);
    assert_eq!(stats["throttled"], 1);
    sim_post(&sim.base_url, "/_sim/reset", json!({})).await;
    raw.post(
        "/v2/shipments",
        json!({"shipments": [shipment(1, &key("r", 1))]}),
    )
    .await;
    assert_eq!(received(&sim.base_url).await["count"], 1);
    sim_post(&sim.base_url, "/_sim/reset", json!({})).await;
    assert_eq!(received(&sim.base_url).await["count"], 0);
    let stats = ordersync_conformance::sim_get(&sim.base_url, "/_sim/stats").await;
    assert_eq!(stats["requests"], 0);
}

#[tokio::test]
async fn listing_filters_sorts_pages_and_follows_tracking_changes() {
    let (_sim, clock, raw) = start(SimOptions::relaxed()).await;
    let t0 = clock.now();
    let mut ids = Vec::new();
    for i in 0..5u64 {
        let (_, b) = raw
            .post(
                "/v2/shipments",
                json!({"shipments": [shipment(i, &key("ls", i))]}),
            )
            .await;
        ids.push(
            b["shipments"][0]["shipment_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        clock.advance(Duration::minutes(10));
    }
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let listed = |v: &Value| -> Vec<String> {
        v["shipments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["shipment_id"].as_str().unwrap().to_string())
            .collect()
    };
    // Default: newest created first, 25 a page, the paged envelope.
    let (s, all) = raw.get("/v2/shipments").await;
    assert_eq!(s, 200);
    assert_eq!(listed(&all), ids.iter().rev().cloned().collect::<Vec<_>>());
    assert_eq!(
        (
            all["total"].clone(),
            all["page"].clone(),
            all["pages"].clone()
        ),
        (json!(5), json!(1), json!(1))
    );
    assert!(
        all["links"]["first"]["href"]
            .as_str()
            .unwrap()
            .starts_with("http://")
    );
    let (_, asc) = raw
        .get("/v2/shipments?sort_dir=asc&page_size=2&page=2")
        .await;
    assert_eq!(listed(&asc), ids[2..4].to_vec());
    assert_eq!(asc["pages"], 3);
    assert!(
        asc["links"]["next"]["href"]
            .as_str()
            .unwrap()
            .contains("page=3")
    );
    let (_, one) = raw
        .get(&format!(
            "/v2/shipments?external_shipment_id={}",
            key("ls", 3)
        ))
        .await;
    assert_eq!(listed(&one), vec![ids[3].clone()]);
    let mid = fmt(t0 + Duration::minutes(15));
    let (_, early) = raw
        .get(&format!("/v2/shipments?created_at_end={mid}&sort_dir=asc"))
        .await;
    assert_eq!(listed(&early), ids[..2].to_vec());
    // Cancel one: it moves to the front by modified_at and drops out of `pending`.
    raw.send(
        reqwest::Method::PUT,
        &format!("/v2/shipments/{}/cancel", ids[1]),
        Some("k"),
        None,
    )
    .await;
    let since = fmt(clock.now() - Duration::seconds(1));
    let (_, changed) = raw
        .get(&format!(
            "/v2/shipments?modified_at_start={since}&sort_by=modified_at"
        ))
        .await;
    assert_eq!(listed(&changed), vec![ids[1].clone()]);
    let (_, pending) = raw.get("/v2/shipments?shipment_status=pending").await;
    assert_eq!(pending["total"], 4);
    // A day on, labels move `modified_at`: every live shipment changed since then.
    let before_labels = fmt(clock.now());
    clock.advance(Duration::hours(25));
    let (_, labelled) = raw
        .get(&format!(
            "/v2/shipments?modified_at_start={before_labels}&shipment_status=label_purchased"
        ))
        .await;
    assert_eq!(labelled["total"], 4);
    let after = fmt(clock.now());
    let (_, quiet) = raw
        .get(&format!("/v2/shipments?modified_at_start={after}"))
        .await;
    assert_eq!(quiet["total"], 0);
    assert_eq!(quiet["pages"], 1);
    // Bad parameters are the spec's validation errors.
    for q in [
        "sort_by=name",
        "page=0",
        "modified_at_start=yesterday",
        "color=red",
    ] {
        let (s, v) = raw.get(&format!("/v2/shipments?{q}")).await;
        assert_eq!(s, 400, "{q}");
        assert_eq!(v["errors"][0]["error_code"], "invalid_field_value");
    }
}
