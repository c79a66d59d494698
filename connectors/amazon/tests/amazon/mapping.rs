//! Pure mapping: the copied spec examples (snapshots of their canonical orders, with the
//! figures that matter checked by hand), and hostile or broken payloads (a rejection reason,
//! never a panic).

use ordersync_amazon::mapping::{order_from_value, order_from_wire};
use ordersync_sdk::{Collector, Decimal, FeeKind, FinancialStatus, FulfillmentStatus, OrderStatus};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The orders of an example file (`{"response": {"order"}}` or `{"response": {"orders"}}`).
fn orders_of(name: &str) -> Vec<Value> {
    let v = fixture(name);
    let r = &v["response"];
    match r.get("order") {
        Some(o) => vec![o.clone()],
        None => r["orders"].as_array().cloned().unwrap_or_default(),
    }
}

fn snapshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/amazon/snapshots")
        .join(format!("{name}.json"))
}

/// Compares with `tests/amazon/snapshots/<name>.json` (`ORDERSYNC_BLESS_GOLDEN=1` rewrites it).
fn snapshot(name: &str, got: &Value) {
    ordersync_conformance::snapshot::assert_snapshot(&snapshot_path(name), got);
}

/// Which PII fields an order carries (the values stay out of snapshots).
fn pii_fields(o: &ordersync_sdk::Order) -> Value {
    let p = &o.pii;
    json!({
        "buyer_name": p.buyer_name.is_some(),
        "email": p.email.is_some(),
        "phone": p.phone.is_some(),
        "shipping_address": p.shipping_address.is_some(),
        "notes": p.notes.is_some(),
    })
}

/// Every example order, mapped (or its rejection), as one snapshot per file.
#[test]
fn spec_examples_map_as_snapshotted() {
    for file in [
        "getOrder.200.example.json",
        "getOrder.200.sandbox1.json",
        "getOrder.200.sandbox2.json",
        "getOrder.200.sandbox3.json",
        "searchOrders.200.example.json",
        "searchOrders.200.sandbox1.json",
        "searchOrders.200.sandbox2.json",
        "searchOrders.200.sandbox3.json",
    ] {
        let got: Vec<Value> = orders_of(file)
            .iter()
            .map(|v| match order_from_value(v) {
                Ok(o) => {
                    let dbg = format!("{o:?}");
                    for pii in [
                        "John Smith",
                        "James Wilson",
                        "Mehmet",
                        "buyer-email@",
                        "123 Main",
                    ] {
                        assert!(!dbg.contains(pii), "{file}: {pii} in Debug");
                    }
                    json!({ "order": o, "pii": pii_fields(&o) })
                }
                Err(reason) => json!({ "rejected": reason }),
            })
            .collect();
        snapshot(file.trim_end_matches(".json"), &Value::Array(got));
    }
}

/// The US example by hand: two items (49.99 × 2 with 0.02 tax, 49.99), a 5.00 delivery tip
/// charged apart, 154.99 in all; tax on top (Amazon.com).
#[test]
fn us_example_by_hand() {
    let v = &orders_of("searchOrders.200.example.json")[0];
    let o = order_from_value(v).unwrap();
    assert_eq!(o.external_id, "123-4567890-1234567");
    assert_eq!(o.currency, "USD");
    assert!(!o.taxes_included);
    assert_eq!(o.status, OrderStatus::Closed);
    assert_eq!(o.financial_status, FinancialStatus::Paid);
    assert_eq!(o.fulfillment_status, FulfillmentStatus::Fulfilled);
    assert_eq!(o.lines.len(), 2);
    assert_eq!(o.lines[0].unit_price, d("49.99"));
    assert_eq!((o.lines[0].quantity, o.lines[0].current_quantity), (2, 2));
    assert_eq!(o.lines[0].tax(), Some(d("0.02")));
    assert_eq!(o.lines[0].sku.as_deref(), Some("ECHO-DOT-4-CHARCOAL"));
    assert!(o.lines.iter().all(|l| l.requires_shipping));
    assert_eq!(o.fees.len(), 1);
    assert_eq!(
        (o.fees[0].kind, o.fees[0].amount),
        (FeeKind::Tip, d("5.00"))
    );
    assert_eq!(o.totals.subtotal, d("149.97"));
    assert_eq!(o.totals.tax, d("0.02"));
    assert_eq!(o.totals.total, d("154.99"));
    assert_eq!(o.totals.rounding, Decimal::ZERO);
    assert_eq!(o.current.total, d("154.99"));
    assert_eq!(o.discount_applications.len(), 1);
    assert_eq!(
        o.discount_applications[0].title.as_deref(),
        Some("PROMO-HOLIDAY-2024")
    );
    assert_eq!(o.pii.buyer_name.as_deref(), Some("John Smith"));
    assert_eq!(
        o.pii.email.as_deref(),
        Some("buyer-email@marketplace.amazon.com")
    );
    let a = o.pii.shipping_address.as_ref().unwrap();
    assert_eq!(a.line2.as_deref(), Some("Suite 456"));
    assert_eq!(a.region.as_deref(), Some("WA"));
    assert_eq!(
        o.pii.notes.as_deref(),
        Some("Happy Holidays! Enjoy your new smart speakers.")
    );
}

/// The JP sandbox order: no decimals, prices with consumption tax inside, FBA (Amazon ships
/// it, so nothing is ours to ship).
#[test]
fn jp_sandbox_by_hand() {
    let v = &orders_of("searchOrders.200.sandbox1.json")[0];
    let o = order_from_value(v).unwrap();
    assert_eq!(o.currency, "JPY");
    assert!(o.taxes_included);
    assert_eq!(o.totals.total, d("19940"));
    assert!(o.lines.iter().all(|l| !l.requires_shipping));
    assert_eq!(o.lines_to_ship().count(), 0);
}

/// The Turkish sandbox order: VAT collected by Amazon as marketplace facilitator.
#[test]
fn facilitated_tax_is_the_marketplaces() {
    let mut v = orders_of("getOrder.200.sandbox2.json")[0].clone();
    // The example carries no TAX breakdown; give it one, as a facilitated order has.
    v["orderItems"][0]["proceeds"]["breakdowns"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type":"TAX","subtotal":{"amount":"19.07","currencyCode":"TRY"}}));
    let o = order_from_value(&v).unwrap();
    assert!(o.taxes_included);
    assert_eq!(o.tax_lines.len(), 1);
    assert_eq!(o.tax_lines[0].collector, Collector::Marketplace);
    assert_eq!(o.tax_lines[0].amount, d("19.07"));
    assert_eq!(o.tax_lines[0].rate, None, "Amazon sends no rates");
    assert_eq!(o.totals.total, d("125.00"), "VAT inside the price");
}

/// The UK example adds its `TAX` on top of `ITEM` + `SHIPPING` (89.97 + 10.00 + 4.00 =
/// 103.97). Amazon.co.uk prices contain VAT, so its total cannot be that sum: the order is
/// rejected (a mapper never repairs money), with a reason naming the gap.
#[test]
fn uk_example_with_tax_on_top_is_rejected() {
    let v = &orders_of("getOrder.200.example.json")[0];
    let e = order_from_value(v).unwrap_err();
    assert_eq!(
        e,
        "total differs by 4.00 (beyond the connector's tolerance)"
    );
}

fn minimal() -> Value {
    json!({
        "orderId": "114-0000001-0000001",
        "createdTime": "2026-11-20T10:00:00Z",
        "lastUpdatedTime": "2026-11-20T11:00:00Z",
        "salesChannel": { "channelName": "AMAZON", "marketplaceId": "ATVPDKIKX0DER" },
        "fulfillment": { "fulfillmentStatus": "UNSHIPPED", "fulfilledBy": "MERCHANT" },
        "proceeds": { "grandTotal": { "amount": "10.83", "currencyCode": "USD" } },
        "orderItems": [{
            "orderItemId": "20000000000001",
            "quantityOrdered": 1,
            "product": { "title": "Mug", "price": { "unitPrice": { "amount": "10.00", "currencyCode": "USD" } } },
            "proceeds": {
                "proceedsTotal": { "amount": "10.83", "currencyCode": "USD" },
                "breakdowns": [
                    { "type": "ITEM", "subtotal": { "amount": "10.00", "currencyCode": "USD" } },
                    { "type": "TAX", "subtotal": { "amount": "0.83", "currencyCode": "USD" } }
                ]
            }
        }]
    })
}

#[test]
fn a_minimal_order_maps_and_balances_exactly() {
    let o = order_from_value(&minimal()).unwrap();
    assert_eq!(o.totals.total, d("10.83"));
    assert_eq!(o.tolerance, ordersync_sdk::Tolerance::EXACT);
    assert_eq!(o.tax_lines[0].collector, Collector::Merchant);
}

/// Broken or hostile input: each is a rejection with a PII-free reason.
#[test]
fn bad_input_is_rejected_with_a_reason() {
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "zero lines",
            {
                let mut v = minimal();
                v["orderItems"] = json!([]);
                v
            },
            "no items",
        ),
        (
            "unknown marketplace",
            {
                let mut v = minimal();
                v["salesChannel"]["marketplaceId"] = json!("CANARYMARKET");
                v
            },
            "unknown marketplace",
        ),
        (
            "another currency",
            {
                let mut v = minimal();
                v["orderItems"][0]["product"]["price"]["unitPrice"]["currencyCode"] = json!("EUR");
                v
            },
            "currency mismatch",
        ),
        (
            "unknown currency",
            {
                let mut v = minimal();
                v["proceeds"]["grandTotal"]["currencyCode"] = json!("ZZZ");
                v
            },
            "currency mismatch",
        ),
        (
            "overflowing amount",
            {
                let mut v = minimal();
                v["orderItems"][0]["product"]["price"]["unitPrice"]["amount"] =
                    json!("99999999999999999999999");
                v
            },
            "amount",
        ),
        (
            "overflowing quantity",
            {
                let mut v = minimal();
                v["orderItems"][0]["quantityOrdered"] = json!(9_000_000_000i64);
                v
            },
            "quantity",
        ),
        (
            "too many decimals",
            {
                let mut v = minimal();
                v["orderItems"][0]["product"]["price"]["unitPrice"]["amount"] = json!("10.001");
                v
            },
            "decimals",
        ),
        (
            "a number for an amount",
            {
                let mut v = minimal();
                v["proceeds"]["grandTotal"]["amount"] = json!(10.83);
                v
            },
            "unexpected shape",
        ),
        (
            "no status",
            {
                let mut v = minimal();
                v["fulfillment"] = json!({});
                v
            },
            "fulfillmentStatus",
        ),
        (
            "no price, not pending",
            {
                let mut v = minimal();
                v["orderItems"][0]["product"] = json!({});
                v
            },
            "unitPrice",
        ),
        (
            "no grand total",
            {
                let mut v = minimal();
                v["proceeds"] = json!({});
                v
            },
            "grandTotal",
        ),
        (
            "wrong total",
            {
                let mut v = minimal();
                v["proceeds"]["grandTotal"]["amount"] = json!("12.83");
                v
            },
            "current total differs",
        ),
        (
            "negative price",
            {
                let mut v = minimal();
                v["orderItems"][0]["product"]["price"]["unitPrice"]["amount"] = json!("-10.00");
                v
            },
            "negative",
        ),
        (
            "bad time",
            {
                let mut v = minimal();
                v["createdTime"] = json!("yesterday");
                v
            },
            "createdTime",
        ),
        (
            "items not a list",
            {
                let mut v = minimal();
                v["orderItems"] = json!({"a": 1});
                v
            },
            "unexpected shape",
        ),
        (
            "unknown proceeds type",
            {
                let mut v = minimal();
                v["orderItems"][0]["proceeds"]["breakdowns"][0]["type"] =
                    json!("Canary@customer.test");
                v
            },
            "unknown proceeds type",
        ),
    ];
    for (what, v, want) in cases {
        let e = order_from_value(&v).expect_err(what);
        assert!(e.contains(want), "{what}: {e}");
        ordersync_conformance::assert_no_canary(what, &e);
    }
}

/// A pending order carries no prices: zero money, payment pending, nothing to ship yet.
#[test]
fn pending_orders_map_without_prices() {
    let mut v = minimal();
    v["fulfillment"]["fulfillmentStatus"] = json!("PENDING");
    v.as_object_mut().unwrap().remove("proceeds");
    let item = &mut v["orderItems"][0];
    item.as_object_mut().unwrap().remove("proceeds");
    item["product"].as_object_mut().unwrap().remove("price");
    let o = order_from_value(&v).unwrap();
    assert_eq!(o.financial_status, FinancialStatus::Pending);
    assert_eq!(o.totals.total, Decimal::ZERO);
    assert_eq!(o.lines_to_ship().count(), 0);
    assert_eq!(o.status, OrderStatus::Open);
}

/// No input, however garbled, panics the mapper: every field of the US example replaced in
/// turn by values of every JSON type.
#[test]
fn garbled_fields_never_panic() {
    let base = orders_of("searchOrders.200.example.json")[0].clone();
    let mut pointers = vec![];
    fn walk(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => m
                .iter()
                .for_each(|(k, v)| walk(v, format!("{at}/{k}"), out)),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, v)| walk(v, format!("{at}/{i}"), out)),
            _ => {}
        }
        out.push(at);
    }
    walk(&base, String::new(), &mut pointers);
    let garbage = [
        json!(null),
        json!(-1),
        json!(1e300),
        json!("-99999999999999999999"),
        json!("1e400"),
        json!([]),
        json!({}),
        json!(true),
        json!("0.000001"),
        json!(u64::MAX),
    ];
    for p in pointers.iter().filter(|p| !p.is_empty()) {
        for g in &garbage {
            let mut v = base.clone();
            *v.pointer_mut(p).unwrap() = g.clone();
            let _ = order_from_value(&v);
        }
    }
    let _ = order_from_wire(&Default::default());
}

/// `includedData=PACKAGES`: one parcel per package with a tracking number, cancelled ones
/// left out; the spec's example carries one.
#[test]
fn packages_are_the_orders_parcels() {
    let ex = orders_of("searchOrders.200.example.json");
    let o = order_from_value(&ex[0]).unwrap();
    let f = &o.fulfillments;
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].tracking_number.as_str(), f[0].carrier.as_deref()),
        ("1Z999AA1234567890", Some("UPS"))
    );
    assert_eq!(
        f[0].shipped_at.unwrap().unix_timestamp(),
        1_735_135_200,
        "shipTime 2024-12-25T14:00:00Z"
    );

    let mut v = minimal();
    v["fulfillment"]["fulfillmentStatus"] = json!("SHIPPED");
    v["packages"] = json!([
        { "packageReferenceId": "1", "packageStatus": { "status": "CANCELLED" }, "carrier": "UPS", "trackingNumber": "1Z000000000000001" },
        { "packageReferenceId": "2", "packageStatus": { "status": "IN_TRANSIT" }, "carrier": "USPS", "trackingNumber": " 9400100000000000000001 ", "shipTime": "2026-11-20T10:30:00Z" },
        { "packageReferenceId": "3", "carrier": "USPS", "trackingNumber": "9400100000000000000001" },
        { "packageReferenceId": "4", "packageStatus": { "status": "DELIVERED" }, "trackingNumber": "RR123456785GB", "shipTime": "yesterday" },
        { "packageReferenceId": "5", "trackingNumber": 7 },
        { "packageReferenceId": "6", "carrier": "DHL" },
        "not a package"
    ]);
    let o = order_from_value(&v).unwrap();
    let got: Vec<(&str, Option<&str>, bool)> = o
        .fulfillments
        .iter()
        .map(|f| {
            (
                f.tracking_number.as_str(),
                f.carrier.as_deref(),
                f.shipped_at.is_some(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("9400100000000000000001", Some("USPS"), true),
            ("RR123456785GB", None, false),
        ]
    );
    assert_eq!(o.fulfillment_status, FulfillmentStatus::Fulfilled);
    // A malformed list is no parcels, never a rejection.
    for bad in [json!("x"), json!({ "trackingNumber": "1Z" }), json!(3)] {
        v["packages"] = bad;
        assert!(order_from_value(&v).unwrap().fulfillments.is_empty());
    }
}
