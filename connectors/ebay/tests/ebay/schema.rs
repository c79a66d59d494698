//! The simulator's bodies (pages, single orders of every money case, aged orders, orders
//! without the tax breakdown, error bodies) and the fixtures validate against the copied
//! `sell_fulfillment_v1_oas3.json`, and use no property the schema does not define.

use crate::mapping::fixture;
use crate::{env, opts};
use ordersync_conformance::openapi::Spec;
use serde_json::{Value, json};

fn spec() -> Spec {
    Spec::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/sell_fulfillment_v1_oas3.json"
    ))
}

/// Every property of `v` is one the schema names (the validator lets unknown ones through).
fn strict(doc: &Value, schema: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    };
    match v {
        Value::Object(m) => {
            let Some(props) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            for (k, x) in m {
                match props.get(k) {
                    Some(s) => strict(doc, s, x, &format!("{at}/{k}"), out),
                    None => out.push(format!("{at}/{k}")),
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = schema.get("items") {
                for (i, x) in a.iter().enumerate() {
                    strict(doc, items, x, &format!("{at}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

fn check(spec: &Spec, doc: &Value, schema: &str, v: &Value) {
    spec.assert_valid(schema, v);
    let mut unknown = vec![];
    let root = json!({ "$ref": format!("#/components/schemas/{schema}") });
    strict(doc, &root, v, "", &mut unknown);
    assert!(
        unknown.is_empty(),
        "{schema}: properties the spec does not define: {unknown:?}"
    );
}

fn doc() -> Value {
    fixture("sell_fulfillment_v1_oas3.json")
}

#[test]
fn fixtures_validate() {
    let (spec, doc) = (spec(), doc());
    check(
        &spec,
        &doc,
        "OrderSearchPagedCollection",
        &fixture("getOrders.lastmodifieddate.response.json"),
    );
    for case in [
        "ca_gst_pst_promotion",
        "us_listing_gbp_buyer_vat",
        "us_sales_tax_refunds",
        "us_cancelled_with_fee",
        "de_domestic_adjustment",
    ] {
        check(
            &spec,
            &doc,
            "Order",
            &fixture(&format!("cases/{case}.json")),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_bodies_validate() {
    let (spec, doc) = (spec(), doc());
    let e = env(opts()).await;
    e.seed(400, 21).await;
    e.post("/_sim/cancel", json!({ "count": 5 })).await;
    let mut seen_cancel = false;
    for query in [
        "?limit=200&fieldGroups=TAX_BREAKDOWN",
        "?limit=200&offset=200&fieldGroups=TAX_BREAKDOWN",
        "?limit=200",
    ] {
        let page: Value = e
            .api(&format!("/sell/fulfillment/v1/order{query}"))
            .await
            .json()
            .await
            .unwrap();
        check(&spec, &doc, "OrderSearchPagedCollection", &page);
        let orders = page["orders"].as_array().unwrap();
        assert!(!orders.is_empty(), "{query}");
        // getOrder of every order of the page: the real cancelStatus, every money case.
        if query.contains("TAX_BREAKDOWN") {
            // Every fourth order, and every refunded one (cancellations among them).
            let picked = orders
                .iter()
                .enumerate()
                .filter(|(i, o)| i % 4 == 0 || o["orderPaymentStatus"] == "FULLY_REFUNDED");
            for (_, o) in picked {
                let id = o["orderId"].as_str().unwrap();
                let one: Value = e
                    .api(&format!(
                        "/sell/fulfillment/v1/order/{id}?fieldGroups=TAX_BREAKDOWN"
                    ))
                    .await
                    .json()
                    .await
                    .unwrap();
                seen_cancel |= one["cancelStatus"]["cancelState"] == "CANCELED";
                check(&spec, &doc, "Order", &one);
            }
        }
    }
    assert!(seen_cancel, "cancelled orders were among those validated");
    // Aged: no email, name, phone or street any more.
    e.clock.advance(time::Duration::days(100));
    let from = ordersync_ebay::client::ebay_time(ordersync_ebay::client::millis(
        ordersync_sdk::Clock::now(&*e.clock) - time::Duration::days(200),
    ));
    let page: Value = e
        .api(&format!(
            "/sell/fulfillment/v1/order?limit=50&filter=creationdate:%5B{from}..%5D"
        ))
        .await
        .json()
        .await
        .unwrap();
    check(&spec, &doc, "OrderSearchPagedCollection", &page);
    assert_eq!(page["orders"].as_array().map(Vec::len), Some(50));
    assert!(
        page["orders"][0]["buyer"]["buyerRegistrationAddress"]
            .get("fullName")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_bodies_validate() {
    let (spec, doc) = (spec(), doc());
    let mut o = opts();
    o.daily_quota = Some(3);
    let e = env(o).await;
    let token = e.user_token().await;
    let get = |path: &'static str, token: String| {
        let base = e.sim.base_url.clone();
        async move {
            let r = reqwest::Client::new()
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let mut answers = vec![
        get("/sell/fulfillment/v1/order?limit=201", token.clone()).await,
        get("/sell/fulfillment/v1/order/27-99999-99999", token.clone()).await,
        get("/sell/fulfillment/v1/order", "not-a-token".into()).await,
    ];
    answers.push(get("/sell/fulfillment/v1/order", token.clone()).await);
    answers.push(get("/sell/fulfillment/v1/order", token).await);
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert_eq!(
        statuses,
        [400, 404, 401, 200, 429],
        "the quota of 3 calls is used up by the fourth"
    );
    for (status, body) in answers.iter().filter(|a| a.0 != 200) {
        let errors = body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{status}: {body}"));
        assert!(!errors.is_empty());
        for err in errors {
            check(&spec, &doc, "Error", err);
        }
    }
    assert_eq!(answers[0].1["errors"][0]["errorId"], 31100);
    assert_eq!(answers[1].1["errors"][0]["errorId"], 32100);
    assert_eq!(answers[4].1["errors"][0]["errorId"], 2001);
}
