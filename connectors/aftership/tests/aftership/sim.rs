//! The simulator over raw HTTP: version and key checks, create / 4003 / validation, get / put
//! / delete, list filters and cursor pages, per-endpoint buckets and 429s, the clock-driven
//! tag progression, and the control routes.

use crate::received;
use ordersync_aftership::sim::{SimOptions, spawn};
use ordersync_conformance::{sim_get, sim_post};
use ordersync_sdk::{Clock, ManualClock};
use serde_json::{Value, json};
use std::sync::Arc;
use time::Duration;

pub struct Raw {
    http: reqwest::Client,
    pub base: String,
}

pub type Answer = (u16, reqwest::header::HeaderMap, Value);

impl Raw {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut b = self.http.request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            b = b.header("as-api-key", k);
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
    pub async fn post(&self, body: Value) -> (u16, Value) {
        let (s, _, v) = self
            .send(reqwest::Method::POST, PATH, Some("k"), Some(body))
            .await;
        (s, v)
    }
    pub async fn get(&self, path_and_query: &str) -> (u16, Value) {
        let (s, _, v) = self
            .send(reqwest::Method::GET, path_and_query, Some("k"), None)
            .await;
        (s, v)
    }
}

pub fn raw_for(base: &str) -> Raw {
    Raw {
        http: reqwest::Client::new(),
        base: base.to_string(),
    }
}

pub const PATH: &str = "/tracking/2026-07/trackings";

pub async fn start(opts: SimOptions) -> (ordersync_sdk::sim::SimServer, Arc<ManualClock>, Raw) {
    let clock = Arc::new(ManualClock::new());
    let sim = spawn(opts, clock.clone()).await.expect("binds");
    let raw = Raw {
        http: reqwest::Client::new(),
        base: sim.base_url.clone(),
    };
    (sim, clock, raw)
}

pub fn create(n: u64, slug: &str) -> Value {
    json!({
        "tracking_number": format!("TN{n:08}"),
        "slug": slug,
        "order_id": format!("order-{n}"),
        "order_number": format!("#{n}"),
        "custom_fields": { "ordersync_key": format!("{n:032x}") },
    })
}

#[tokio::test]
async fn missing_or_unknown_key_is_401_with_the_meta_envelope() {
    let (_sim, _c, raw) = start(SimOptions {
        api_keys: Some(vec!["right".into()]),
        ..SimOptions::default()
    })
    .await;
    for k in [None, Some(""), Some("wrong")] {
        let (status, _, body) = raw.send(reqwest::Method::GET, PATH, k, None).await;
        assert_eq!(status, 401, "{k:?}");
        assert_eq!(body["meta"]["code"], 401);
        assert_eq!(body["meta"]["type"], "Unauthorized");
        assert_eq!(body["data"], json!({}));
    }
    let (status, _, _) = raw
        .send(reqwest::Method::GET, PATH, Some("right"), None)
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn other_versions_and_the_legacy_header_are_refused() {
    let (_sim, _c, raw) = start(SimOptions::default()).await;
    let (s, _, body) = raw
        .send(
            reqwest::Method::GET,
            "/tracking/2023-10/trackings",
            Some("k"),
            None,
        )
        .await;
    assert_eq!((s, body["meta"]["code"].clone()), (404, json!(404)));
    let r = reqwest::Client::new()
        .get(format!("{}{PATH}", raw.base))
        .header("aftership-api-key", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "only as-api-key authenticates");
}

#[tokio::test]
async fn create_answers_201_and_a_duplicate_pair_is_4003() {
    let (sim, _c, raw) = start(SimOptions::default()).await;
    let (s, body) = raw.post(create(1, "ups")).await;
    assert_eq!(s, 201);
    assert_eq!(body["meta"]["code"], 201);
    let t = &body["data"];
    assert_eq!(t["tracking_number"], "TN00000001");
    assert_eq!(t["slug"], "ups");
    assert_eq!(t["tag"], "InfoReceived");
    assert_eq!(t["id"].as_str().unwrap().len(), 32);
    let (s, dup) = raw.post(create(1, "ups")).await;
    assert_eq!((s, dup["meta"]["code"].clone()), (400, json!(4003)));
    assert_eq!(dup["meta"]["type"], "BadRequest");
    // Same number, other courier: another tracking.
    let (s, _) = raw.post(create(1, "fedex")).await;
    assert_eq!(s, 201);
    assert_eq!(received(&sim.base_url).await.count, 2);
}

#[tokio::test]
async fn validation_errors_carry_their_meta_codes() {
    let (_sim, _c, raw) = start(SimOptions::default()).await;
    let (s, _, b) = raw.send(reqwest::Method::POST, PATH, Some("k"), None).await;
    assert_eq!(
        (s, b["meta"]["code"].clone()),
        (400, json!(4001)),
        "no body"
    );
    for (body, code) in [
        (json!({ "slug": "ups" }), 4007),
        (
            json!({ "tracking_number": "X1", "slug": "Not A Slug" }),
            4010,
        ),
        (json!({ "tracking_number": "X1" }), 4012),
        (
            json!({ "tracking_number": "9".repeat(65), "slug": "ups" }),
            4005,
        ),
        (json!({ "tracking_number": 5, "slug": "ups" }), 4008),
    ] {
        let (s, b) = raw.post(body.clone()).await;
        assert_eq!((s, b["meta"]["code"].clone()), (400, json!(code)), "{body}");
    }
}

#[tokio::test]
async fn get_put_delete_by_id() {
    let (sim, _c, raw) = start(SimOptions::relaxed()).await;
    let (_, body) = raw.post(create(2, "usps")).await;
    let id = body["data"]["id"].as_str().unwrap().to_string();
    let one = format!("{PATH}/{id}");
    let (s, got) = raw.get(&one).await;
    assert_eq!((s, got["data"]["id"].as_str()), (200, Some(id.as_str())));
    let (s, _, put) = raw
        .send(
            reqwest::Method::PUT,
            &one,
            Some("k"),
            Some(json!({ "title": "Order #2b", "tracking_number": "IGNORED" })),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(put["data"]["title"], "Order #2b");
    assert_eq!(
        put["data"]["tracking_number"], "TN00000002",
        "number cannot change"
    );
    assert_eq!(received(&sim.base_url).await.objects[0].updates, 1);
    let (s, _, _) = raw
        .send(reqwest::Method::DELETE, &one, Some("k"), None)
        .await;
    assert_eq!(s, 200);
    for m in [
        reqwest::Method::GET,
        reqwest::Method::DELETE,
        reqwest::Method::PUT,
    ] {
        let (s, _, b) = raw.send(m.clone(), &one, Some("k"), Some(json!({}))).await;
        assert_eq!((s, b["meta"]["code"].clone()), (404, json!(4004)), "{m}");
    }
    assert_eq!(received(&sim.base_url).await.count, 0, "deleted is gone");
    // The pair is free again.
    assert_eq!(raw.post(create(2, "usps")).await.0, 201);
}

#[tokio::test]
async fn list_filters_and_cursor_pages_sorted_by_updated_at() {
    let (_sim, clock, raw) = start(SimOptions::relaxed()).await;
    let mut ids = vec![];
    for n in 0..7 {
        let (_, b) = raw
            .post(create(n, if n % 2 == 0 { "ups" } else { "dhl" }))
            .await;
        ids.push(b["data"]["id"].as_str().unwrap().to_string());
        clock.advance(Duration::minutes(1));
    }
    // Touch the first one: it moves to the end of the updated_at order.
    raw.send(
        reqwest::Method::PUT,
        &format!("{PATH}/{}", ids[0]),
        Some("k"),
        Some(json!({ "title": "again" })),
    )
    .await;
    let mut seen = vec![];
    let mut url = format!("{PATH}?limit=3");
    let mut pages = 0;
    loop {
        let (s, b) = raw.get(&url).await;
        assert_eq!(s, 200, "{b}");
        pages += 1;
        let p = &b["data"]["pagination"];
        assert_eq!(p["total"], 7);
        for t in b["data"]["trackings"].as_array().unwrap() {
            seen.push((
                t["updated_at"].as_str().unwrap().to_string(),
                t["id"].as_str().unwrap().to_string(),
            ));
        }
        if p["has_next_page"] == true {
            url = format!(
                "{PATH}?limit=3&cursor={}",
                p["next_cursor"].as_str().unwrap()
            );
        } else {
            assert!(p["next_cursor"].is_null());
            break;
        }
    }
    assert_eq!(pages, 3);
    let got: Vec<&str> = seen.iter().map(|(_, id)| id.as_str()).collect();
    let mut want: Vec<&str> = ids[1..].iter().map(String::as_str).collect();
    want.push(&ids[0]);
    assert_eq!(got, want, "each once, by updated_at ascending");
    let (_, b) = raw.get(&format!("{PATH}?slug=dhl")).await;
    assert_eq!(b["data"]["pagination"]["total"], 3);
    let (_, b) = raw
        .get(&format!(
            "{PATH}?tracking_numbers=TN00000003,TN00000004&slug=ups"
        ))
        .await;
    assert_eq!(b["data"]["trackings"][0]["tracking_number"], "TN00000004");
    assert_eq!(b["data"]["pagination"]["total"], 1);
    let since =
        time::OffsetDateTime::parse(&seen[5].0, &time::format_description::well_known::Rfc3339)
            .unwrap();
    let since = since
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (_, b) = raw
        .get(&format!(
            "{PATH}?updated_at_min={}",
            since.replace('+', "%2B")
        ))
        .await;
    assert_eq!(b["data"]["pagination"]["total"], 2);
    for bad in [
        "?limit=0",
        "?limit=201",
        "?cursor=nope",
        "?updated_at_min=yesterday",
    ] {
        let (s, b) = raw.get(&format!("{PATH}{bad}")).await;
        assert_eq!((s, b["meta"]["code"].clone()), (400, json!(4008)), "{bad}");
    }
}

#[tokio::test]
async fn tags_follow_the_clock_and_updated_at_moves_with_them() {
    let (sim, clock, raw) = start(SimOptions::default()).await;
    let (_, b) = raw.post(create(3, "japan-post")).await;
    let id = b["data"]["id"].as_str().unwrap().to_string();
    let created = b["data"]["updated_at"].as_str().unwrap().to_string();
    let tag = |v: &Value| v["data"]["tag"].as_str().unwrap().to_string();
    clock.advance(Duration::hours(25));
    let (_, b) = raw.get(&format!("{PATH}/{id}")).await;
    assert_eq!(tag(&b), "InTransit");
    assert_ne!(b["data"]["updated_at"].as_str().unwrap(), created);
    assert!(b["data"]["shipment_delivery_date"].is_null());
    let (_, b) = raw.get(&format!("{PATH}?tag=Delivered")).await;
    assert_eq!(b["data"]["pagination"]["total"], 0);
    clock.advance(Duration::days(3));
    let (_, b) = raw.get(&format!("{PATH}/{id}")).await;
    assert_eq!(tag(&b), "Delivered");
    let t = &b["data"];
    let last = t["checkpoints"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["tag"], "Delivered");
    let cp = last["checkpoint_time"].as_str().unwrap();
    assert!(cp.ends_with("+09:00"), "Japan Post delivers in Japan: {cp}");
    let sdd = t["shipment_delivery_date"].as_str().unwrap();
    assert_eq!(sdd, &cp[..19], "naive local time of the same instant");
    assert!(t["updated_at"].as_str().unwrap().ends_with("+00:00"));
    let (_, b) = raw.get(&format!("{PATH}?tag=Delivered")).await;
    assert_eq!(b["data"]["pagination"]["total"], 1);
    assert_eq!(
        received(&sim.base_url).await.objects[0].status.as_deref(),
        Some("Delivered")
    );
}

#[tokio::test]
async fn per_endpoint_buckets_send_rate_headers_and_429() {
    let (sim, clock, raw) = start(SimOptions {
        create_per_second: 3,
        list_per_second: 2,
        ..SimOptions::default()
    })
    .await;
    let mut remaining = vec![];
    for n in 0..3 {
        let (s, h, _) = raw
            .send(
                reqwest::Method::POST,
                PATH,
                Some("a"),
                Some(create(n, "ups")),
            )
            .await;
        assert_eq!(s, 201);
        assert_eq!(h["x-ratelimit-limit"], "3");
        remaining.push(h["x-ratelimit-remaining"].to_str().unwrap().to_string());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let (s, h, body) = raw
        .send(
            reqwest::Method::POST,
            PATH,
            Some("a"),
            Some(create(9, "ups")),
        )
        .await;
    assert_eq!(s, 429);
    assert_eq!(body["meta"]["code"], 429);
    let reset: i64 = h["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    let now = clock.now().unix_timestamp();
    assert!(
        reset >= now && reset <= now + 2,
        "a Unix time about a second away: {reset} vs {now}"
    );
    // Other endpoints and other keys have their own buckets.
    let (s, h, _) = raw.send(reqwest::Method::GET, PATH, Some("a"), None).await;
    assert_eq!((s, h["x-ratelimit-limit"].to_str().unwrap()), (200, "2"));
    let (s, _, _) = raw
        .send(
            reqwest::Method::POST,
            PATH,
            Some("b"),
            Some(create(9, "ups")),
        )
        .await;
    assert_eq!(s, 201);
    clock.advance(Duration::seconds(1));
    let (s, _, _) = raw
        .send(
            reqwest::Method::POST,
            PATH,
            Some("a"),
            Some(create(10, "ups")),
        )
        .await;
    assert_eq!(s, 201, "the bucket drained");
    let stats = sim_get(&sim.base_url, "/_sim/stats").await;
    assert_eq!(stats["throttled"], 1);
    assert!(
        stats["by_route"]["POST /tracking/{version}/trackings"]
            .as_u64()
            .unwrap()
            >= 5
    );
}

#[tokio::test]
async fn reject_faults_and_reset() {
    let (sim, _c, raw) = start(SimOptions::default()).await;
    sim_post(&sim.base_url, "/_sim/reject", json!({ "count": 1 })).await;
    let (s, b) = raw.post(create(1, "ups")).await;
    assert_eq!((s, b["meta"]["code"].clone()), (400, json!(4008)));
    assert_eq!(raw.post(create(1, "ups")).await.0, 201);
    sim_post(
        &sim.base_url,
        "/_sim/faults",
        json!({ "rate": 1.0, "kinds": ["429"] }),
    )
    .await;
    let (s, h, b) = raw.send(reqwest::Method::GET, PATH, Some("k"), None).await;
    assert_eq!((s, b["meta"]["code"].clone()), (429, json!(429)));
    assert!(h.contains_key("x-ratelimit-reset"));
    sim_post(&sim.base_url, "/_sim/reset", json!({})).await;
    let stats = sim_get(&sim.base_url, "/_sim/stats").await;
    assert_eq!(
        (stats["requests"].as_u64(), stats["trackings"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(raw.get(PATH).await.0, 200, "faults are off after a reset");
    let r = received(&sim.base_url).await;
    assert_eq!(r.count, 0);
}

#[tokio::test]
async fn received_describes_each_tracking() {
    let (sim, _c, raw) = start(SimOptions::default()).await;
    let (_, b) = raw.post(create(4, "dhl")).await;
    let r = received(&sim.base_url).await;
    let o = &r.objects[0];
    assert_eq!(o.external_order_id, "order-4");
    assert_eq!(o.object_key, format!("{:032x}", 4));
    assert_eq!(o.external_ref, b["data"]["id"].as_str().unwrap());
    assert_eq!((o.creates, o.updates), (1, 0));
    assert_eq!(o.status.as_deref(), Some("InfoReceived"));
    assert_eq!(o.extra["tracking_number"], "TN00000004");
}
