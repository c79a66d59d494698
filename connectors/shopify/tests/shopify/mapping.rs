//! Pure mapping against the copied fixtures and hand-made edge cases.

use ordersync_sdk::{Decimal, FinancialStatus, FulfillmentStatus, LineKind, OrderStatus};
use ordersync_shopify::mapping::{order_from_graphql, order_from_rest};
use serde_json::{Value, json};
use std::str::FromStr;

fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[test]
fn rest_single_order_fixture_maps_money_status_and_pii() {
    let v = fixture("GET_order_450789469.response.json");
    let o = order_from_rest(&v["order"]).unwrap();
    assert_eq!(o.external_id, "450789469");
    assert_eq!(o.order_number, "#1001");
    assert_eq!(o.status, OrderStatus::Open);
    assert_eq!(o.fulfillment_status, FulfillmentStatus::Unfulfilled);
    assert_eq!(o.currency, "USD");
    assert_eq!(o.lines.len(), 3);
    assert_eq!(o.lines[0].unit_price, d("199.00"));
    assert_eq!(o.lines[0].discount(), Some(d("3.34")));
    assert_eq!(o.lines[0].tax(), Some(d("3.98")));
    assert_eq!(o.lines[0].tax_rate(), Some(d("0.06")));
    assert!(!o.taxes_included);
    assert_eq!(o.financial_status, FinancialStatus::PartiallyRefunded);
    // Two of the three units were refunded: only one is left to ship.
    let current: Vec<u32> = o.lines.iter().map(|l| l.current_quantity).collect();
    assert_eq!(current, [0, 1, 0]);
    assert_eq!(o.current.subtotal, d("195.67"));
    assert_eq!(o.current.tax, d("3.98"));
    assert_eq!(o.current.total, d("199.65"));
    assert_eq!(o.refunds.len(), 1);
    assert_eq!(o.refunds[0].lines.len(), 2);
    assert_eq!(o.refunds[0].total, d("209.00"));
    assert_eq!(o.discount_applications[0].code.as_deref(), Some("TENOFF"));
    assert_eq!(o.lines[0].sku.as_deref(), Some("IPOD2008GREEN"));
    assert_eq!(o.totals.subtotal, d("597.00"));
    assert_eq!(o.totals.discounts, d("10.00"));
    assert_eq!(o.totals.tax, d("11.94"));
    assert_eq!(o.totals.total, d("598.94"));
    assert_eq!(o.totals.rounding, Decimal::ZERO);
    assert_eq!(o.shipping_method.as_deref(), Some("Free Shipping"));
    // -05:00 in the payload, UTC in the model.
    assert_eq!(o.created_at.unix_timestamp(), 1_199_980_800);
    assert_eq!(o.pii.email.as_deref(), Some("bob.norman@mail.example.com"));
    assert_eq!(o.pii.buyer_name.as_deref(), Some("Bob Norman"));
    let ship = o.pii.shipping_address.as_ref().unwrap();
    assert_eq!(ship.line1.as_deref(), Some("Chestnut Street 92"));
    assert_eq!(ship.region.as_deref(), Some("KY"));
    let dbg = format!("{o:?}");
    for pii in ["Bob", "Norman", "bob.norman", "Chestnut", "+557734881234"] {
        assert!(!dbg.contains(pii), "{pii} leaked into Debug");
    }
}

#[test]
fn rest_list_fixture_maps_every_order() {
    let v = fixture("GET_orders_status_any.response.json");
    let orders = v["orders"].as_array().unwrap();
    assert!(!orders.is_empty());
    for o in orders {
        let m = order_from_rest(o).unwrap();
        assert_eq!(m.marketplace, "shopify");
        assert_eq!(m.totals.rounding, Decimal::ZERO);
    }
}

#[test]
fn ids_above_2_pow_53_stay_exact() {
    let mut v = fixture("GET_order_450789469.response.json")["order"].clone();
    // Spliced in as raw JSON text so no f64 is involved anywhere.
    let text = serde_json::to_string(&v).unwrap().replacen(
        "\"id\":450789469",
        "\"id\":820982911946154509",
        1,
    );
    v = serde_json::from_str(&text).unwrap();
    assert_eq!(
        order_from_rest(&v).unwrap().external_id,
        "820982911946154509"
    );
    let mut g = gql_node();
    g["legacyResourceId"] = json!("820982911946154509");
    assert_eq!(
        order_from_graphql(&g).unwrap().external_id,
        "820982911946154509"
    );
    g.as_object_mut().unwrap().remove("legacyResourceId");
    g["id"] = json!("gid://shopify/Order/820982911946154511");
    assert_eq!(
        order_from_graphql(&g).unwrap().external_id,
        "820982911946154511"
    );
}

fn money(a: &str) -> Value {
    json!({ "shopMoney": { "amount": a, "currencyCode": "EUR" } })
}

fn gql_node() -> Value {
    json!({
        "id": "gid://shopify/Order/5", "legacyResourceId": "5", "name": "#1005",
        "createdAt": "2026-11-01T10:00:00Z", "updatedAt": "2026-11-02T10:00:00Z",
        "cancelledAt": null, "closed": false, "displayFulfillmentStatus": "PARTIALLY_FULFILLED",
        "currencyCode": "EUR", "presentmentCurrencyCode": "EUR", "taxesIncluded": false,
        "displayFinancialStatus": "PAID",
        "email": "canary.x@customer.test", "phone": null, "note": "Canary note",
        "customer": { "firstName": "CanaryAda", "lastName": "CanaryWren" },
        "shippingAddress": { "address1": "1 Canary Street", "city": "Canaryville", "countryCodeV2": "DE" },
        "billingAddress": null,
        "lineItems": { "nodes": [{
            "id": "gid://shopify/LineItem/9", "sku": "", "title": "Mug", "quantity": 2,
            "currentQuantity": 2, "isGiftCard": false, "requiresShipping": true, "taxable": true,
            "product": { "id": "gid://shopify/Product/1" },
            "originalUnitPriceSet": money("10.00"),
            "discountAllocations": [{ "allocatedAmountSet": money("1.00"), "discountApplication": { "index": 0 } }],
            "taxLines": [{ "title": "VAT", "rate": 0.19, "channelLiable": null, "priceSet": money("3.61") }],
        }], "pageInfo": { "hasNextPage": false } },
        "shippingLines": { "nodes": [{
            "title": "DHL", "code": "dhl", "originalPriceSet": money("4.90"),
            "discountAllocations": [], "taxLines": [],
        }], "pageInfo": { "hasNextPage": false } },
        "discountApplications": { "nodes": [{
            "__typename": "DiscountCodeApplication", "index": 0, "targetType": "LINE_ITEM",
            "allocationMethod": "ACROSS", "code": "ONEOFF",
            "value": { "__typename": "MoneyV2", "amount": "1.0", "currencyCode": "EUR" },
        }], "pageInfo": { "hasNextPage": false } },
        "refunds": [], "additionalFees": [],
        "totalShippingPriceSet": money("4.90"), "totalDiscountsSet": money("1.00"),
        "totalTaxSet": money("3.61"), "totalPriceSet": money("27.51"),
        "currentSubtotalPriceSet": money("19.00"), "currentTotalDiscountsSet": money("1.00"),
        "currentShippingPriceSet": money("4.90"), "currentTotalTaxSet": money("3.61"),
        "currentTotalPriceSet": money("27.51"), "totalTipReceivedSet": money("0.00"),
        "originalTotalDutiesSet": null, "currentTotalDutiesSet": null,
        "currentTotalAdditionalFeesSet": null,
        "totalCashRoundingAdjustment": { "paymentSet": money("0.00"), "refundSet": money("0.00") },
    })
}

#[test]
fn graphql_node_maps() {
    let o = order_from_graphql(&gql_node()).unwrap();
    assert_eq!(o.external_id, "5");
    assert_eq!(o.fulfillment_status, FulfillmentStatus::Partial);
    assert_eq!(o.lines[0].external_line_id, "9");
    assert_eq!(o.lines[0].sku, None, "empty sku is absent");
    assert_eq!(
        o.totals.subtotal,
        d("20.00"),
        "canonical subtotal is before discounts"
    );
    assert_eq!(o.totals.total, d("27.51"));
    assert_eq!(o.current.total, d("27.51"));
    assert_eq!(o.lines[0].kind, LineKind::Product);
    assert_eq!(o.discount_applications[0].code.as_deref(), Some("ONEOFF"));
    assert_eq!(o.lines[0].discounts[0].application, Some(0));
    assert_eq!(o.shipping_method.as_deref(), Some("DHL"));
    assert_eq!(o.pii.buyer_name.as_deref(), Some("CanaryAda CanaryWren"));
    assert_eq!(o.pii.notes.as_deref(), Some("Canary note"));
    assert!(!format!("{o:?}").contains("Canary"));
}

#[test]
fn statuses_and_unknown_enums() {
    let mut n = gql_node();
    n["closed"] = json!(true);
    assert_eq!(order_from_graphql(&n).unwrap().status, OrderStatus::Closed);
    n["cancelledAt"] = json!("2026-11-02T10:00:00Z");
    assert_eq!(
        order_from_graphql(&n).unwrap().status,
        OrderStatus::Cancelled
    );
    n["displayFulfillmentStatus"] = json!("TELEPORTED");
    assert_eq!(
        order_from_graphql(&n).unwrap().fulfillment_status,
        FulfillmentStatus::Unknown
    );
    let mut r = fixture("GET_order_450789469.response.json")["order"].clone();
    r["fulfillment_status"] = json!("teleported");
    r["closed_at"] = json!("2008-01-10T12:00:00-05:00");
    let o = order_from_rest(&r).unwrap();
    assert_eq!(o.fulfillment_status, FulfillmentStatus::Unknown);
    assert_eq!(o.status, OrderStatus::Closed);
}

#[test]
fn bad_payloads_are_reasons_without_pii() {
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "negative quantity",
            Box::new(|n| n["lineItems"]["nodes"][0]["quantity"] = json!(-1)),
        ),
        (
            "currency mismatch",
            Box::new(|n| n["totalTaxSet"]["shopMoney"]["currencyCode"] = json!("USD")),
        ),
        ("totals", Box::new(|n| n["totalPriceSet"] = money("99.00"))),
        (
            "unparseable amount",
            Box::new(|n| n["totalPriceSet"] = money("12,50")),
        ),
        (
            "unparseable updatedAt",
            Box::new(|n| n["updatedAt"] = json!("yesterday")),
        ),
        (
            "unexpected order shape",
            Box::new(|n| n["lineItems"] = json!("canary.x@customer.test")),
        ),
        (
            "missing currencyCode",
            Box::new(|n| n["currencyCode"] = Value::Null),
        ),
        (
            "more decimals than the currency allows",
            Box::new(|n| {
                n["totalPriceSet"] = money("27.505");
                n["currentTotalPriceSet"] = money("27.505");
            }),
        ),
        (
            "line + shipping discounts differs",
            Box::new(|n| n["totalDiscountsSet"] = money("2.00")),
        ),
        (
            "current total differs",
            Box::new(|n| n["currentTotalPriceSet"] = money("30.00")),
        ),
        (
            "more current than ordered units",
            Box::new(|n| n["lineItems"]["nodes"][0]["currentQuantity"] = json!(3)),
        ),
        (
            "refunds exceed what was paid",
            Box::new(|n| {
                n["lineItems"]["nodes"][0]["currentQuantity"] = json!(1);
                n["refunds"] = json!([{
                    "id": "gid://shopify/Refund/1", "createdAt": "2026-11-02T10:00:00Z",
                    "totalRefundedSet": money("50.00"),
                    "refundLineItems": { "nodes": [{
                        "lineItem": { "id": "gid://shopify/LineItem/9" }, "quantity": 1,
                        "restockType": "RETURN", "subtotalSet": money("9.50"), "totalTaxSet": money("1.81"),
                    }], "pageInfo": { "hasNextPage": false } },
                    "refundShippingLines": { "nodes": [] }, "orderAdjustments": { "nodes": [] }, "duties": [],
                }]);
                n["currentSubtotalPriceSet"] = money("9.50");
                n["currentTotalTaxSet"] = money("1.80");
                n["currentTotalPriceSet"] = money("16.20");
            }),
        ),
        (
            "more nested pages",
            Box::new(|n| n["shippingLines"]["pageInfo"]["hasNextPage"] = json!(true)),
        ),
    ];
    for (want, mutate) in cases {
        let mut n = gql_node();
        mutate(&mut n);
        let reason = order_from_graphql(&n).unwrap_err();
        assert!(reason.contains(want), "{want}: got {reason}");
        assert!(!reason.contains("Canary") && !reason.contains("customer.test"));
    }
}

#[test]
fn overflowing_prices_and_far_dates_never_panic() {
    // 7e28 × 2 overflows `Decimal`: refused at parse time, before any multiplication.
    let mut n = gql_node();
    n["lineItems"]["nodes"][0]["originalUnitPriceSet"] = money("70000000000000000000000000000");
    let reason = order_from_graphql(&n).unwrap_err();
    assert_eq!(reason, "amount out of range in unit price");
    let mut r = fixture("GET_order_450789469.response.json")["order"].clone();
    r["line_items"][0]["price"] = json!("70000000000000000000000000000");
    assert_eq!(
        order_from_rest(&r).unwrap_err(),
        "amount out of range in unit price"
    );
    // The largest amount times the largest quantity still fits; the totals then disagree.
    let mut n = gql_node();
    n["lineItems"]["nodes"][0]["originalUnitPriceSet"] = money("1000000000000000");
    n["lineItems"]["nodes"][0]["quantity"] = json!(u32::MAX);
    assert!(
        order_from_graphql(&n)
            .unwrap_err()
            .starts_with("totals: total differs")
    );
    // Year 9999 is a valid timestamp (the engine refuses what it cannot schedule); a UTC
    // offset that pushes it into year 10000 is not.
    let mut n = gql_node();
    n["createdAt"] = json!("9999-12-30T00:00:00Z");
    assert_eq!(order_from_graphql(&n).unwrap().created_at.year(), 9999);
    n["createdAt"] = json!("9999-12-31T23:30:00-05:00");
    assert_eq!(order_from_graphql(&n).unwrap_err(), "unparseable createdAt");
}

/// (number, carrier, shipped at) of each canonical fulfillment.
fn parcels(o: &ordersync_sdk::Order) -> Vec<(String, Option<String>, Option<String>)> {
    let fmt = &time::format_description::well_known::Rfc3339;
    o.fulfillments
        .iter()
        .map(|f| {
            (
                f.tracking_number.clone(),
                f.carrier.clone(),
                f.shipped_at.map(|t| t.format(fmt).unwrap()),
            )
        })
        .collect()
}

fn p(n: &str, c: Option<&str>, at: Option<&str>) -> (String, Option<String>, Option<String>) {
    (n.into(), c.map(Into::into), at.map(Into::into))
}

#[test]
fn rest_fulfillments_give_one_parcel_per_tracking_number_of_live_fulfillments() {
    // The example's only fulfillment failed: nothing was sent.
    let mut r = fixture("GET_order_450789469.response.json")["order"].clone();
    assert!(order_from_rest(&r).unwrap().fulfillments.is_empty());
    r["fulfillments"] = fixture("rest_fulfillments.json");
    let o = order_from_rest(&r).unwrap();
    assert_eq!(
        parcels(&o),
        vec![
            p(
                "1Z9V74E80300010011",
                Some("UPS"),
                Some("2025-07-03T14:15:00Z")
            ),
            p(
                "1Z9V74E80300010012",
                Some("UPS"),
                Some("2025-07-03T14:15:00Z")
            ),
            // Only the older single field.
            p(
                "9400100000000000010011",
                Some("USPS"),
                Some("2025-07-04T13:00:00Z")
            ),
            // No company and an unparseable date: the parcel without them.
            p("RM000100115GB", None, None),
        ]
    );
    // The rest of the order is as without them.
    r["fulfillments"] = json!([]);
    let mut plain = order_from_rest(&r).unwrap();
    plain.fulfillments = o.fulfillments.clone();
    assert_eq!(plain, o);
}

#[test]
fn graphql_fulfillments_give_one_parcel_per_tracking_info_of_live_fulfillments() {
    let mut n = gql_node();
    assert!(order_from_graphql(&n).unwrap().fulfillments.is_empty());
    n["fulfillments"] = fixture("graphql_fulfillments.json");
    let o = order_from_graphql(&n).unwrap();
    assert_eq!(
        parcels(&o),
        vec![
            p(
                "1Z9V74E80300010051",
                Some("UPS"),
                Some("2026-11-02T09:00:00Z")
            ),
            p(
                "1Z9V74E80300010052",
                Some("UPS"),
                Some("2026-11-02T09:00:00Z")
            ),
            p("9400100000000000010051", None, Some("2026-11-02T11:00:00Z")),
            p("RM000100515GB", Some("Royal Mail"), None),
        ]
    );
}

#[test]
fn malformed_fulfillments_never_reject_the_order() {
    let mut r = fixture("GET_order_450789469.response.json")["order"].clone();
    let mut n = gql_node();
    for bad in [
        json!("nope"),
        json!(7),
        json!({ "status": "success" }),
        json!([null, [], { "tracking_numbers": { "a": 1 } }, { "trackingInfo": [[]] }]),
        json!([{ "status": 5, "tracking_number": "1Z1", "trackingInfo": [{ "number": 9 }] }]),
    ] {
        r["fulfillments"] = bad.clone();
        n["fulfillments"] = bad;
        assert!(order_from_rest(&r).unwrap().fulfillments.is_empty());
        assert!(order_from_graphql(&n).unwrap().fulfillments.is_empty());
    }
    // Absurd text is not a parcel.
    r["fulfillments"] =
        json!([{ "status": "success", "tracking_numbers": ["x".repeat(500), "a\u{0}b"] }]);
    assert!(order_from_rest(&r).unwrap().fulfillments.is_empty());
}
