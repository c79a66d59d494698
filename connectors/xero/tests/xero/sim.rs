//! The simulator's Xero rules over raw HTTP, and its bodies against the copied spec.

use crate::{Raw, invoice_json};
use ordersync_conformance::openapi::Spec;
use ordersync_sdk::ManualClock;
use ordersync_xero::sim::{DEMO_TENANT, SimOptions, spawn};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use time::Duration;

fn spec() -> Spec {
    Spec::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/xero_accounting.schemas.json"
    ))
}

async fn sim(opts: SimOptions) -> (ordersync_sdk::sim::SimServer, Arc<ManualClock>, Raw) {
    let clock = Arc::new(ManualClock::new());
    let s = spawn(opts, clock.clone()).await.unwrap();
    let raw = Raw::new(&s.base_url).await;
    (s, clock, raw)
}

#[tokio::test]
async fn answers_validate_against_the_spec() {
    let (_s, _c, raw) = sim(SimOptions::relaxed()).await;
    let spec = spec();
    let contact = raw.contact("Spec Buyer").await;
    let (st, _, v) = raw
        .call(
            Method::PUT,
            "/Invoices?unitdp=4",
            Some(invoice_json(&contact, "S-1")),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    spec.assert_valid("Invoices", &v);
    let id = v["Invoices"][0]["InvoiceID"].as_str().unwrap().to_string();
    assert!(
        v["Invoices"][0]["Date"]
            .as_str()
            .unwrap()
            .starts_with("/Date(")
    );
    assert_eq!(v["Invoices"][0]["DateString"], "2026-11-02T00:00:00");
    for (path, schema) in [
        ("/Invoices?InvoiceNumbers=S-1", "Invoices"),
        ("/Contacts", "Contacts"),
        ("/TaxRates", "TaxRates"),
        ("/Accounts", "Accounts"),
        ("/Currencies", "Currencies"),
    ] {
        let (st, _, v) = raw.call(Method::GET, path, None).await;
        assert_eq!(st, 200, "{path}");
        spec.assert_valid(schema, &v);
    }
    let cn = json!({"CreditNotes": [{
        "Type": "ACCRECCREDIT", "Contact": {"ContactID": contact}, "CreditNoteNumber": "S-1-R1",
        "Date": "2026-11-03", "LineAmountTypes": "Exclusive", "CurrencyCode": "GBP", "Status": "AUTHORISED",
        "LineItems": [{"Description": "Refund", "Quantity": 1, "UnitAmount": 5, "AccountCode": "200",
                       "TaxType": "OUTPUT2", "TaxAmount": 1, "LineAmount": 5}]
    }]});
    let (st, _, v) = raw.call(Method::PUT, "/CreditNotes", Some(cn)).await;
    assert_eq!(st, 200, "{v}");
    spec.assert_valid("CreditNotes", &v);
    let cn_id = v["CreditNotes"][0]["CreditNoteID"]
        .as_str()
        .unwrap()
        .to_string();
    let alloc =
        json!({"Allocations": [{"Amount": 6, "Invoice": {"InvoiceID": id}, "Date": "2026-11-03"}]});
    let (st, _, v) = raw
        .call(
            Method::PUT,
            &format!("/CreditNotes/{cn_id}/Allocations"),
            Some(alloc),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    spec.assert_valid("Allocations", &v);
    let (_, _, v) = raw
        .call(Method::GET, "/Invoices?InvoiceNumbers=S-1", None)
        .await;
    assert_eq!(v["Invoices"][0]["AmountCredited"], 6.0);
    assert_eq!(v["Invoices"][0]["AmountDue"], 19.2);
    // A duplicate number: 400 ValidationException, which validates as Error.
    let (st, _, v) = raw
        .call(
            Method::PUT,
            "/Invoices",
            Some(invoice_json(&contact, "S-1")),
        )
        .await;
    assert_eq!(st, 400);
    spec.assert_valid("Error", &v);
    assert_eq!(
        v["Elements"][0]["ValidationErrors"][0]["Message"],
        "Invoice # must be unique."
    );
}

#[tokio::test]
async fn contact_names_are_unique_among_active_contacts() {
    let (_s, _c, raw) = sim(SimOptions::relaxed()).await;
    raw.contact("Ann Example").await;
    let (st, _, v) = raw
        .call(
            Method::PUT,
            "/Contacts",
            Some(json!({"Contacts": [{"Name": "ann example"}]})),
        )
        .await;
    assert_eq!(st, 400);
    let msg = v["Elements"][0]["ValidationErrors"][0]["Message"]
        .as_str()
        .unwrap();
    assert!(
        msg.contains("is already assigned to another contact"),
        "{msg}"
    );
    // With summarizeErrors=false the batch answers 200 and the element carries the error.
    let (st, _, v) = raw
        .call(
            Method::PUT,
            "/Contacts?summarizeErrors=false",
            Some(json!({"Contacts": [{"Name": "Ann Example"}, {"Name": "Bob Example"}]})),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(v["Contacts"][0]["HasErrors"], true);
    assert_eq!(v["Contacts"][1]["Name"], "Bob Example");
    let (_, _, v) = raw
        .call(
            Method::GET,
            "/Contacts?where=Name%3D%3D%22Bob%20Example%22",
            None,
        )
        .await;
    assert_eq!(v["Contacts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn invoice_numbers_post_updates_and_void_rules() {
    let (_s, _c, raw) = sim(SimOptions::relaxed()).await;
    let contact = raw.contact("Void Buyer").await;
    let (_, _, v) = raw
        .call(
            Method::PUT,
            "/Invoices",
            Some(invoice_json(&contact, "V-1")),
        )
        .await;
    let id = v["Invoices"][0]["InvoiceID"].as_str().unwrap().to_string();
    // POST by number updates the same invoice.
    let mut body = invoice_json(&contact, "V-1");
    body["Invoices"][0]["Reference"] = json!("edited");
    let (st, _, v) = raw.call(Method::POST, "/Invoices", Some(body)).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["Invoices"][0]["InvoiceID"], id.as_str());
    // A line amount that is not Q × U − D is refused.
    let mut bad = invoice_json(&contact, "V-2");
    bad["Invoices"][0]["LineItems"][0]["LineAmount"] = json!(20.99);
    let (st, _, _) = raw.call(Method::PUT, "/Invoices", Some(bad)).await;
    assert_eq!(st, 400);
    // A tax type that cannot apply to revenue is refused.
    let mut bad = invoice_json(&contact, "V-3");
    bad["Invoices"][0]["LineItems"][0]["TaxType"] = json!("INPUT2");
    let (st, _, v) = raw.call(Method::PUT, "/Invoices", Some(bad)).await;
    assert_eq!(st, 400);
    assert!(v.to_string().contains("TaxType"));
    // A currency the organisation does not have.
    let mut bad = invoice_json(&contact, "V-4");
    bad["Invoices"][0]["CurrencyCode"] = json!("SEK");
    let (st, _, _) = raw.call(Method::PUT, "/Invoices", Some(bad)).await;
    assert_eq!(st, 400);
    // Void, then no more edits.
    let (st, _, v) = raw
        .call(
            Method::POST,
            &format!("/Invoices/{id}"),
            Some(json!({"Invoices": [{"Status": "VOIDED"}]})),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["Invoices"][0]["Status"], "VOIDED");
    let (st, _, _) = raw
        .call(
            Method::POST,
            "/Invoices",
            Some(invoice_json(&contact, "V-1")),
        )
        .await;
    assert_eq!(st, 400);
}

#[tokio::test]
async fn idempotency_keys_replay_the_stored_answer() {
    let (s, _c, raw) = sim(SimOptions::relaxed()).await;
    let contact = raw.contact("Idem Buyer").await;
    let put = |n: &str, k: &str| {
        raw.req(Method::PUT, "/Invoices")
            .header("Idempotency-Key", k)
            .json(&invoice_json(&contact, n))
    };
    let a: Value = put("I-1", "key-1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b = put("I-1", "key-1").send().await.unwrap();
    assert_eq!(
        b.status(),
        200,
        "the replay is the stored answer, not a duplicate error"
    );
    let b: Value = b.json().await.unwrap();
    assert_eq!(a["Invoices"][0]["InvoiceID"], b["Invoices"][0]["InvoiceID"]);
    assert_eq!(put("I-1", "key-2").send().await.unwrap().status(), 400);
    assert_eq!(crate::received(&s.base_url).await.count, 1);
}

#[tokio::test]
async fn limits_headers_429s_and_the_day_cap() {
    let opts = SimOptions {
        per_minute: 3,
        per_day: 5,
        ..SimOptions::default()
    };
    let (_s, clock, raw) = sim(opts).await;
    let mut last = None;
    for i in 0..3 {
        let (st, h, _) = raw.call(Method::GET, "/TaxRates", None).await;
        assert_eq!(st, 200);
        assert_eq!(h["x-minlimit-remaining"], (2 - i).to_string().as_str());
        assert!(
            h.contains_key("x-daylimit-remaining") && h.contains_key("x-appminlimit-remaining")
        );
        last = Some(h);
    }
    assert_eq!(last.unwrap()["x-daylimit-remaining"], "2");
    let (st, h, _) = raw.call(Method::GET, "/TaxRates", None).await;
    assert_eq!(st, 429);
    assert_eq!(h["x-rate-limit-problem"], "minute");
    let ra: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&ra), "{ra}");
    clock.advance(Duration::seconds(61));
    for _ in 0..2 {
        assert_eq!(raw.call(Method::GET, "/TaxRates", None).await.0, 200);
    }
    let (st, h, _) = raw.call(Method::GET, "/TaxRates", None).await;
    assert_eq!(st, 429);
    assert_eq!(h["x-rate-limit-problem"], "day");
    assert_eq!(h["x-daylimit-remaining"], "0");
}

#[tokio::test]
async fn tenant_accept_and_token_rules() {
    let (s, clock, raw) = sim(SimOptions::relaxed()).await;
    let r = raw
        .http
        .get(format!("{}/api.xro/2.0/TaxRates", s.base_url))
        .bearer_auth(&raw.token)
        .header("xero-tenant-id", "00000000-dead-4000-8000-000000000000")
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "unknown tenant");
    let r = raw
        .http
        .get(format!("{}/api.xro/2.0/TaxRates", s.base_url))
        .bearer_auth(&raw.token)
        .header("xero-tenant-id", DEMO_TENANT)
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml"),
        "XML without Accept"
    );
    // Access tokens last 1800 s.
    clock.advance(Duration::seconds(1801));
    let (st, _, v) = raw.call(Method::GET, "/TaxRates", None).await;
    assert_eq!(st, 401);
    assert!(
        v["Detail"].as_str().unwrap().starts_with("TokenExpired"),
        "{v}"
    );
    // The refresh token rotates; the used one works for 30 minutes more, then invalid_grant.
    let refresh = |rt: String| {
        let http = raw.http.clone();
        let url = format!("{}/connect/token", s.base_url);
        async move {
            let r = http
                .post(url)
                .basic_auth("id", Some("secret"))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", rt.as_str()),
                ])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (st, first) = refresh(raw.refresh.clone()).await;
    assert_eq!(st, 200);
    assert_eq!(first["expires_in"], 1800);
    assert_ne!(first["refresh_token"], raw.refresh.as_str());
    clock.advance(Duration::seconds(600));
    let (st, _) = refresh(raw.refresh.clone()).await;
    assert_eq!(st, 200, "within the grace");
    clock.advance(Duration::seconds(1300));
    let (st, v) = refresh(raw.refresh.clone()).await;
    assert_eq!((st, v["error"].as_str()), (400, Some("invalid_grant")));
    let (st, _) = refresh(first["refresh_token"].as_str().unwrap().to_string()).await;
    assert_eq!(st, 200, "the rotated token works");
    let r = raw
        .http
        .post(format!("{}/connect/token", s.base_url))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "no client credentials");
}

#[tokio::test]
async fn more_than_the_concurrent_limit_is_a_429_concurrent() {
    let opts = SimOptions {
        concurrent: 0,
        ..SimOptions::relaxed()
    };
    let (_s, _c, raw) = sim(opts).await;
    let (st, h, _) = raw.call(Method::GET, "/TaxRates", None).await;
    assert_eq!(st, 429);
    assert_eq!(h["x-rate-limit-problem"], "concurrent");
    assert_eq!(h["retry-after"], "1");
}
