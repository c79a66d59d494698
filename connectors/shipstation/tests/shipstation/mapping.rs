//! Order → V2 shipment JSON, checked against the spec's schemas (fixtures/v2-schemas.json).

use crate::orders::{d, gbp_fully_refunded, gbp_partly_refunded};
use ordersync_conformance::{assert_no_canary, sample_order};
use ordersync_sdk::{Decimal, ErrorClass, LineKind, Order, OrderStatus};
use ordersync_shipstation::mapping::{NOTHING_TO_SHIP, delivered, shipment_body, shipment_plan};
use ordersync_shipstation::wire::{ShipmentBody, TrackingInfo};
use serde_json::{Value, json};

fn schemas() -> Value {
    let raw = include_str!("../../fixtures/v2-schemas.json");
    serde_json::from_str::<Value>(raw).expect("fixture parses")["schemas"].clone()
}

fn props(s: &Value, name: &str) -> Vec<String> {
    s[name]["properties"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn order_maps_to_a_spec_shaped_shipment() {
    // USD, tax exclusive: 3 × 20.99 = 62.97 with state + county tax (4.57 + 0.87), 4.99 shipping.
    let o = sample_order(8);
    let key = "0123456789abcdef0123456789abcdef";
    let body = shipment_body(&o, key, Some("se-77")).expect("maps");
    let v = serde_json::to_value(&body).unwrap();
    let s = schemas();
    // The 2025-07 create schema omits three fields of the `shipment` schema that the V2 guide
    // documents for create (and our `/_sim/received` accounting relies on).
    let from_shipment = ["external_order_id", "shipment_number", "warehouse_id"];
    for k in v.as_object().unwrap().keys() {
        assert!(
            props(&s, "create_shipment_request").contains(k) || from_shipment.contains(&k.as_str()),
            "unknown field {k}"
        );
    }
    assert_eq!(v["external_shipment_id"], key);
    assert_eq!(v["external_order_id"], o.external_id);
    assert_eq!(v["shipment_number"], o.order_number);
    assert_eq!(v["warehouse_id"], "se-77");
    let to = &v["ship_to"];
    let allowed = props(&s, "partial_address");
    for req in s["address"]["required"].as_array().unwrap() {
        let f = req.as_str().unwrap();
        assert!(
            to[f].as_str().is_some_and(|x| !x.is_empty()),
            "ship_to.{f} is required"
        );
    }
    for k in to.as_object().unwrap().keys() {
        assert!(allowed.contains(k), "ship_to.{k} is not in the spec");
    }
    assert_eq!(to["email"], "buyer8@customer.test");
    assert_eq!(to["country_code"], "US");
    // Money is a JSON number per `monetary_value.amount: number`, exact to the cent.
    assert_eq!(
        amounts(&body),
        r#""amount_paid":{"currency":"usd","amount":73.4},"shipping_paid":{"currency":"usd","amount":4.99},"tax_paid":{"currency":"usd","amount":5.44}"#
    );
    assert_eq!(
        v["items"],
        json!([{
            "name": "Conformance widget", "sku": "SKU-3", "quantity": 3,
            "unit_price": 20.99, "tax_amount": 5.44,
            "external_order_id": o.external_id, "external_order_item_id": "L8",
        }])
    );
    // `shipment_item.unit_price` / `tax_amount` are bare numbers ≥ 0, without a currency.
    let item_schema = &s["shipment_item"]["properties"];
    for f in ["unit_price", "tax_amount"] {
        assert_eq!(item_schema[f]["type"], "number");
        assert_eq!(item_schema[f]["minimum"], 0);
    }
    for k in v["items"][0].as_object().unwrap().keys() {
        assert!(
            props(&s, "shipment_item").contains(k),
            "items[].{k} is not in the spec"
        );
    }
}

/// The three `monetary_value`s exactly as they go on the wire.
fn amounts(body: &ShipmentBody) -> String {
    let text = serde_json::to_string(body).unwrap();
    let start = text.find("\"amount_paid\"").expect("amount_paid");
    let end = text.find("\"tax_paid\"").expect("tax_paid");
    let tail = &text[end..];
    format!("{}{}", &text[start..end], &tail[..=tail.find('}').unwrap()])
}

#[test]
fn only_what_is_left_to_ship_goes_out_at_prices_after_discounts() {
    // Inclusive GBP: the tip, the gift card, the download and the refunded scarf stay home;
    // the tee ships its 2 remaining units with their 2/3 of its VAT.
    let o = gbp_partly_refunded();
    let body = shipment_body(&o, "k", None).expect("maps");
    let ext = &o.external_id;
    assert_eq!(
        serde_json::to_value(&body.items).unwrap(),
        json!([
            {
                "name": "Item mug", "sku": "SKU-mug", "quantity": 2,
                "unit_price": 10.8, "tax_amount": 3.6,
                "external_order_id": ext, "external_order_item_id": "mug",
            },
            {
                "name": "Item tee", "sku": "SKU-tee", "quantity": 2,
                "unit_price": 15, "tax_amount": 5,
                "external_order_id": ext, "external_order_item_id": "tee",
            },
        ])
    );
    // What is paid now (after the refund), not as placed (114.40 / 14.40).
    assert_eq!(
        amounts(&body),
        r#""amount_paid":{"currency":"gbp","amount":89.4},"shipping_paid":{"currency":"gbp","amount":4.8},"tax_paid":{"currency":"gbp","amount":10.23}"#
    );
}

#[test]
fn a_free_shipping_code_means_no_shipping_paid() {
    // EUR inclusive, 27.90 with 4.45 VAT; FREESHIP takes the whole 4.90 of shipping.
    let o = sample_order(3);
    assert_eq!(o.totals.shipping, d("4.90"));
    let body = shipment_body(&o, "k", None).expect("maps");
    assert_eq!(
        amounts(&body),
        r#""amount_paid":{"currency":"eur","amount":27.9},"shipping_paid":{"currency":"eur","amount":0},"tax_paid":{"currency":"eur","amount":4.45}"#
    );
    assert_eq!(body.items[0].unit_price, Some(d("27.90")));
}

#[test]
fn yen_amounts_have_no_decimals() {
    // 3 × 2180 at 10 % (654) and 648 at 8 % (52), 500 shipping at 10 % (50).
    let o = sample_order(2);
    let body = shipment_body(&o, "k", None).expect("maps");
    assert_eq!(
        amounts(&body),
        r#""amount_paid":{"currency":"jpy","amount":8444},"shipping_paid":{"currency":"jpy","amount":500},"tax_paid":{"currency":"jpy","amount":756}"#
    );
    let text = serde_json::to_string(&body.items).unwrap();
    assert!(
        text.contains(r#""quantity":3,"unit_price":2180,"tax_amount":654"#)
            && text.contains(r#""quantity":1,"unit_price":648,"tax_amount":52"#),
        "{text}"
    );
}

#[test]
fn a_discount_that_does_not_split_evenly_rounds_the_unit_half_even() {
    // 3 × 10.00 with 1.00 off: 29.00 / 3 = 9.666… → 9.67 a unit (the line's figures are exact).
    let mut o = sample_order(1);
    let l = &mut o.lines[0];
    (l.quantity, l.current_quantity, l.unit_price) = (3, 3, d("10.00"));
    l.discounts[0].amount = d("1.00");
    l.tax_lines[0].amount = d("4.83");
    o.totals.subtotal = d("30.00");
    o.totals.discounts = d("1.00");
    o.totals.tax = d("5.63");
    o.totals.total = d("33.80");
    o.current.subtotal = d("29.00");
    o.current.discounts = d("1.00");
    o.current.tax = d("5.63");
    o.current.total = d("33.80");
    o.tax_lines = o.summarise_taxes().unwrap();
    let body = shipment_body(&o, "k", None).expect("maps");
    assert_eq!(body.items[0].unit_price, Some(d("9.67")));
    assert_eq!(body.items[0].tax_amount, Some(d("4.83")));
}

#[test]
fn nothing_left_to_ship_is_a_permanent_pii_free_error() {
    let check = |o: &Order, what: &str| {
        let e = shipment_body(o, "k", None).expect_err(what);
        assert_eq!(e.class(), ErrorClass::Permanent, "{what}");
        assert!(e.to_string().contains(NOTHING_TO_SHIP), "{what}: {e}");
        assert_no_canary(what, &e.to_string());
        assert_eq!(
            shipment_plan(o, "k", None).unwrap().map(|_| ()),
            None,
            "{what}"
        );
    };
    check(&gbp_fully_refunded(1), "fully refunded");
    let mut only_extras = gbp_partly_refunded();
    for l in &mut only_extras.lines {
        if l.kind == LineKind::Product {
            l.requires_shipping = false;
        }
    }
    check(&only_extras, "only a tip, a gift card and downloads");
    let mut cancelled = sample_order(9);
    cancelled.status = OrderStatus::Cancelled;
    check(&cancelled, "cancelled");
    // A refund that leaves one unit still ships that unit.
    let o = gbp_partly_refunded();
    assert!(shipment_plan(&o, "k", None).unwrap().is_some());
}

#[test]
fn missing_address_fields_are_permanent_and_pii_free() {
    let mut o = sample_order(4);
    o.pii.shipping_address.as_mut().unwrap().postal_code = None;
    let e = shipment_body(&o, "k", None).expect_err("no postal code");
    assert_eq!(e.class(), ErrorClass::Permanent);
    assert!(e.to_string().contains("postal_code"));
    assert_no_canary("mapping error", &e.to_string());

    let mut o = sample_order(5);
    o.pii.shipping_address = None;
    let e = shipment_body(&o, "k", None).expect_err("no address");
    assert_eq!(e.class(), ErrorClass::Permanent);
    assert_no_canary("mapping error", &e.to_string());
    assert_no_canary(
        "debug of the body",
        &format!("{:?}", shipment_body(&sample_order(6), "k", None).unwrap()),
    );
}

#[test]
fn bad_money_and_keys_are_refused() {
    let mut o = sample_order(7);
    o.lines[0].unit_price = Decimal::new(-100, 2);
    assert_eq!(
        shipment_body(&o, "k", None).unwrap_err().class(),
        ErrorClass::Permanent
    );
    let mut o = sample_order(8);
    o.currency = "dollars".into();
    assert_eq!(
        shipment_body(&o, "k", None).unwrap_err().class(),
        ErrorClass::Permanent
    );
    let long = "x".repeat(51);
    assert_eq!(
        shipment_body(&sample_order(9), &long, None)
            .unwrap_err()
            .class(),
        ErrorClass::Permanent
    );
}

#[test]
fn tracking_maps_to_delivered_only_when_de() {
    let t = |code: &str, at: Option<&str>| TrackingInfo {
        status_code: Some(code.into()),
        status_detail_code: None,
        actual_delivery_date: at.map(str::to_string),
    };
    assert_eq!(delivered(&t("IT", None)).unwrap(), None);
    // The spec's detail codes count too; a partial delivery does not.
    let at = Some("2026-01-02T03:04:05Z");
    assert!(delivered(&t("DELIVERED", at)).unwrap().is_some());
    assert!(
        delivered(&t("DELIVERED_TO_NEIGHBOUR", at))
            .unwrap()
            .is_some()
    );
    assert_eq!(delivered(&t("DELIVERED_IN_PART", at)).unwrap(), None);
    assert_eq!(delivered(&t("IN_TRANSIT", at)).unwrap(), None);
    assert_eq!(delivered(&t("DE", None)).unwrap(), None);
    let d = delivered(&t("DE", Some("2026-01-02T03:04:05-02:00")))
        .unwrap()
        .unwrap();
    assert_eq!(d.at.unix_timestamp(), 1_767_330_245);
    assert_eq!(d.at.offset(), time::UtcOffset::UTC);
    assert_eq!(
        delivered(&t("DE", Some("yesterday"))).unwrap_err().class(),
        ErrorClass::Permanent
    );
}
