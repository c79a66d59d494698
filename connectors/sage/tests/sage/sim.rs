//! The simulator over raw HTTP: answers validate against Sage's swagger (list items per
//! definition, inside the `$`-envelope), and Sage's rules hold: v3.1 `tax_amount`, 422
//! arrays, `idempotency_id` replay, `X-Business`, the per-business window, single-use
//! refresh tokens, void and `deleted_since`.

use crate::golden::{chart, order};
use crate::{env, key};
use ordersync_conformance::openapi::Spec;
use ordersync_sage::mapping::{self, Keys};
use ordersync_sage::sim::{SimOptions, spawn};
use ordersync_sdk::sim::SimServer;
use ordersync_sdk::{DeliveryRequest, ManualClock};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

fn spec() -> Spec {
    Spec::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/swagger-v3.1.json"
    ))
}

/// Raw API access with a token from the simulator's own token endpoint.
struct Raw {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Raw {
    async fn new(base: &str, refresh: &str) -> Raw {
        let http = reqwest::Client::new();
        let t: Value = http
            .post(format!("{base}/token"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("client_id", "c"),
                ("client_secret", "s"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Raw {
            base: base.to_string(),
            token: t["access_token"].as_str().expect("token").to_string(),
            http,
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        business: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut b = self
            .http
            .request(method, format!("{}/v3.1{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(biz) = business {
            b = b.header("X-Business", biz);
        }
        if let Some(body) = body {
            b = b.json(&body);
        }
        let r = b.send().await.unwrap();
        let st = r.status();
        (st, r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let (st, v) = self
            .call(reqwest::Method::GET, path, Some("lead"), None)
            .await;
        assert_eq!(st, StatusCode::OK, "GET {path}: {v}");
        v
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some("lead"), Some(body))
            .await
    }
}

async fn sim(opts: SimOptions) -> (SimServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    (spawn(opts, clock.clone()).await.unwrap(), clock)
}

fn assert_envelope(v: &Value) {
    for k in [
        "$total",
        "$page",
        "$next",
        "$back",
        "$itemsPerPage",
        "$items",
    ] {
        assert!(v.get(k).is_some(), "envelope has {k}: {v}");
    }
    assert!(v["$itemsPerPage"].as_u64().unwrap() <= 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_validate_against_the_swagger() {
    let e = env().await;
    let o = order("partial_refund_exclusive");
    e.sink
        .deliver(DeliveryRequest {
            order: &o,
            idempotency_key: &key("v", 1),
            object_key: &key("o", 1),
            previous_ref: None,
        })
        .await
        .unwrap();
    let raw = Raw::new(&e.sim.base_url, "raw-refresh").await;
    let spec = spec();
    for (path, schema) in [
        ("/sales_invoices?attributes=all", "SalesInvoice"),
        ("/sales_credit_notes?attributes=all", "SalesCreditNote"),
        ("/contacts?attributes=all", "Contact"),
        ("/tax_rates?attributes=all", "TaxRate"),
        ("/ledger_accounts?attributes=all", "LedgerAccount"),
        ("/currencies", "Base"),
        ("/sales_invoices", "SalesInvoice"),
    ] {
        let v = raw.get(path).await;
        assert_envelope(&v);
        let items = v["$items"].as_array().unwrap();
        assert!(!items.is_empty(), "{path} lists something");
        for item in items {
            spec.assert_valid(schema, item);
        }
        let one_path = items[0]["$path"].as_str().unwrap().to_string();
        if !path.starts_with("/currencies")
            && !path.starts_with("/tax_rates")
            && !path.starts_with("/ledger")
        {
            spec.assert_valid(schema, &raw.get(&one_path).await);
        }
    }
    // What the sink sends fits Sage's post definitions too.
    let p = crate::golden::plan("partial_refund_exclusive");
    spec.assert_valid(
        "postSalesInvoices",
        &json!({"sales_invoice": serde_json::to_value(&p.invoice).unwrap()}),
    );
    spec.assert_valid(
        "postSalesCreditNotes",
        &json!({"sales_credit_note": serde_json::to_value(&p.credit_notes[0]).unwrap()}),
    );
    let c = mapping::contact_body(&o, "O123456789");
    spec.assert_valid(
        "postContacts",
        &json!({"contact": serde_json::to_value(&c).unwrap()}),
    );
}

async fn a_contact(raw: &Raw) -> String {
    let (st, c) = raw
        .post(
            "/contacts",
            json!({"contact": {"name": "Canary Buyer", "contact_type_ids": ["CUSTOMER"], "reference": "OX"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    c["id"].as_str().unwrap().to_string()
}

fn invoice_json(contact: &str, idem: &str) -> Value {
    let p = mapping::plan(
        &order("uk_vat_inclusive"),
        &chart(),
        contact,
        "#G101",
        Keys {
            object_key: "00000000000000000000000000000001",
            idempotency_key: idem,
        },
    )
    .unwrap();
    json!({"sales_invoice": serde_json::to_value(&p.invoice).unwrap()})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v31_rules_422_arrays_and_idempotent_replay() {
    let (s, _c) = sim(SimOptions::relaxed()).await;
    let raw = Raw::new(&s.base_url, "r1").await;
    let contact = a_contact(&raw).await;
    // The contact reference is unique.
    let (st, dup) = raw
        .post(
            "/contacts",
            json!({"contact": {"name": "Other", "contact_type_ids": ["CUSTOMER"], "reference": "OX"}}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(dup[0]["$source"], "reference");
    // tax_amount is required on a standard-rated line...
    let mut body = invoice_json(&contact, "k1");
    body["sales_invoice"]["invoice_lines"][0]
        .as_object_mut()
        .unwrap()
        .remove("tax_amount");
    let (st, err) = raw.post("/sales_invoices", body).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err[0]["$dataCode"], "RecordInvalid");
    assert_eq!(err[0]["$source"], "invoice_lines.0.tax_amount");
    assert_eq!(err[0]["$severity"], "error");
    // ...but not on an exempt one.
    let mut ex = invoice_json(&contact, "k2");
    let l = &mut ex["sales_invoice"]["invoice_lines"][0];
    l["tax_rate_id"] = json!("GB_EXEMPT");
    l["net_amount"] = json!(21.6);
    l.as_object_mut().unwrap().remove("tax_amount");
    l.as_object_mut().unwrap().remove("total_amount");
    let (st, v) = raw.post("/sales_invoices", ex).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // A net that is not quantity × price − discount is refused.
    let mut wrong = invoice_json(&contact, "k3");
    wrong["sales_invoice"]["invoice_lines"][0]["net_amount"] = json!(99);
    let (st, err) = raw.post("/sales_invoices", wrong).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err[0]["$source"], "invoice_lines.0.net_amount");
    // The same idempotency_id twice: the stored answer, one invoice.
    let (a, first) = raw
        .post("/sales_invoices", invoice_json(&contact, "k4"))
        .await;
    let (b, again) = raw
        .post("/sales_invoices", invoice_json(&contact, "k4"))
        .await;
    assert_eq!((a, b), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(first, again);
    assert_eq!(first["total_amount"], json!(26.4));
    let list = raw.get("/sales_invoices?search=%23G101").await;
    assert_eq!(list["$total"], 2);
    // /_sim/reject: the next write is refused with a 422 array.
    ordersync_conformance::sim_post(&s.base_url, "/_sim/reject", json!({"count": 1})).await;
    let (st, err) = raw
        .post("/sales_invoices", invoice_json(&contact, "k5"))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(err[0]["$dataCode"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_business_selects_the_books() {
    let (s, _c) = sim(SimOptions {
        businesses: Some(vec!["lead-biz".into(), "second".into()]),
        ..SimOptions::relaxed()
    })
    .await;
    let raw = Raw::new(&s.base_url, "r1").await;
    let body =
        json!({"contact": {"name": "N", "contact_type_ids": ["CUSTOMER"], "reference": "O1"}});
    // Without X-Business the lead business is written: the silent wrong-books risk.
    let (st, _) = raw
        .call(reqwest::Method::POST, "/contacts", None, Some(body.clone()))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, lead) = raw
        .call(reqwest::Method::GET, "/contacts", Some("lead-biz"), None)
        .await;
    let (_, second) = raw
        .call(reqwest::Method::GET, "/contacts", Some("second"), None)
        .await;
    assert_eq!(
        (lead["$total"].clone(), second["$total"].clone()),
        (json!(1), json!(0))
    );
    let (st, err) = raw
        .call(
            reqwest::Method::GET,
            "/contacts",
            Some("someone-else"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(err[0]["$dataCode"], "AccessDenied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_per_business() {
    let (s, clock) = sim(SimOptions::default()).await;
    let raw = Raw::new(&s.base_url, "r1").await;
    // Windows are aligned to the clock: start just after one opens, so 201 quick calls
    // stay inside it.
    let t = ordersync_sdk::Clock::now(&*clock).unix_timestamp();
    clock.advance(time::Duration::seconds(60 - t.rem_euclid(60) + 1));
    for _ in 0..200 {
        let (st, _) = raw
            .call(reqwest::Method::GET, "/currencies", Some("a"), None)
            .await;
        assert_eq!(st, StatusCode::OK);
    }
    let r = raw
        .http
        .get(format!("{}/v3.1/currencies", s.base_url))
        .bearer_auth(&raw.token)
        .header("X-Business", "a")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let ra: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&ra));
    // Another business has its own window; the next window admits again.
    let (st, _) = raw
        .call(reqwest::Method::GET, "/currencies", Some("b"), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    clock.advance(time::Duration::seconds(60));
    let (st, _) = raw
        .call(reqwest::Method::GET, "/currencies", Some("a"), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let stats: ordersync_sdk::sim::SimStats =
        serde_json::from_value(ordersync_conformance::sim_get(&s.base_url, "/_sim/stats").await)
            .unwrap();
    assert_eq!(stats.throttled, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_are_enveloped_and_paged() {
    let (s, _c) = sim(SimOptions::relaxed()).await;
    let raw = Raw::new(&s.base_url, "r1").await;
    let v = raw.get("/tax_rates?items_per_page=500").await;
    assert_envelope(&v);
    assert_eq!(v["$itemsPerPage"], 200);
    let p1 = raw.get("/tax_rates?items_per_page=5").await;
    assert_eq!(p1["$items"].as_array().unwrap().len(), 5);
    let next = p1["$next"].as_str().expect("a next page");
    assert!(next.contains("page=2"));
    assert!(p1["$back"].is_null());
    // Lists show the base fields unless attributes are asked for.
    let item = &p1["$items"][0];
    assert!(item.get("percentage").is_none() && item.get("$path").is_some());
    let p2 = raw.get(next).await;
    assert_eq!(p2["$page"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_are_single_use_and_access_tokens_expire() {
    let (s, clock) = sim(SimOptions {
        refresh_tokens: Some(vec!["granted".into()]),
        ..SimOptions::relaxed()
    })
    .await;
    let http = reqwest::Client::new();
    let grant = |rt: String| {
        let http = http.clone();
        let url = format!("{}/token", s.base_url);
        async move {
            let r = http
                .post(url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", rt.as_str()),
                    ("client_id", "c"),
                    ("client_secret", "s"),
                ])
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let (st, t1) = grant("granted".into()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(t1["expires_in"], 300);
    assert_eq!(t1["refresh_token_expires_in"], 31 * 24 * 3600);
    let (st, again) = grant("granted".into()).await;
    assert_eq!(
        (st, again["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    let rt1 = t1["refresh_token"].as_str().unwrap().to_string();
    let (st, t2) = grant(rt1.clone()).await;
    assert_eq!(st, StatusCode::OK);
    assert_ne!(t2["refresh_token"], t1["refresh_token"]);
    let (st, _) = grant(rt1).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a used refresh token is dead");
    let (st, _) = grant("never-granted".into()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let at = t2["access_token"].as_str().unwrap();
    let call = || {
        http.get(format!("{}/v3.1/currencies", s.base_url))
            .bearer_auth(at)
            .send()
    };
    assert_eq!(call().await.unwrap().status(), StatusCode::OK);
    clock.advance(time::Duration::seconds(300));
    assert_eq!(call().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn void_and_polling_filters() {
    let (s, clock) = sim(SimOptions::relaxed()).await;
    let raw = Raw::new(&s.base_url, "r1").await;
    let contact = a_contact(&raw).await;
    let (_, inv) = raw
        .post("/sales_invoices", invoice_json(&contact, "k1"))
        .await;
    let id = inv["id"].as_str().unwrap().to_string();
    let t0 = time::OffsetDateTime::from_unix_timestamp(0).unwrap();
    let since = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
            .replace('+', "%2B")
    };
    let changed = raw
        .get(&format!(
            "/sales_invoices?updated_or_created_since={}",
            since(t0)
        ))
        .await;
    assert_eq!(changed["$total"], 1);
    clock.advance(time::Duration::seconds(60));
    let (st, err) = raw
        .call(
            reqwest::Method::DELETE,
            &format!("/sales_invoices/{id}"),
            Some("lead"),
            None,
        )
        .await;
    assert_eq!(
        (st, err[0]["$source"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("void_reason"))
    );
    let (st, v) = raw
        .call(
            reqwest::Method::DELETE,
            &format!("/sales_invoices/{id}?void_reason=cancelled"),
            Some("lead"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["status"]["id"], "VOID");
    // deleted_since is exclusive.
    let later = time::OffsetDateTime::parse(
        v["deleted_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let at = raw
        .get(&format!("/sales_invoices?deleted_since={}", since(later)))
        .await;
    assert_eq!(at["$total"], 0);
    let before = raw
        .get(&format!(
            "/sales_invoices?deleted_since={}",
            since(later - time::Duration::seconds(1))
        ))
        .await;
    assert_eq!(before["$total"], 1);
    // A void invoice cannot be edited.
    let (st, _) = raw
        .call(
            reqwest::Method::PUT,
            &format!("/sales_invoices/{id}"),
            Some("lead"),
            Some(invoice_json(&contact, "k2")),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
}
