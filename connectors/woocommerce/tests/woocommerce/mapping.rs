//! Pure mapping against the copied fixtures (with snapshots of the canonical orders) and
//! hand-made edge cases.

use ordersync_sdk::{Decimal, FinancialStatus, LineKind, Order, OrderStatus};
use ordersync_woocommerce::mapping::{external_id, order_from_json};
use serde_json::{Value, json};
use std::str::FromStr;

fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Compares the canonical order (its serialised form, which carries no PII) with
/// `fixtures/snapshots/{name}.json`; `ORDERSYNC_BLESS_GOLDEN=1` rewrites it.
fn snapshot(name: &str, orders: &[Order]) {
    let path = format!(
        "{}/fixtures/snapshots/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let got = serde_json::to_value(orders).unwrap();
    ordersync_conformance::snapshot::assert_snapshot(std::path::Path::new(&path), &got);
}

#[test]
fn the_retrieve_example_maps_money_status_and_pii() {
    let o = order_from_json(&fixture("orders.retrieve.response.json"), &[]).unwrap();
    assert_eq!(
        (o.external_id.as_str(), o.order_number.as_str()),
        ("727", "727")
    );
    assert_eq!(o.status, OrderStatus::Open);
    assert_eq!(o.financial_status, FinancialStatus::Paid);
    assert!(!o.taxes_included);
    assert_eq!(o.currency, "USD");
    assert_eq!(o.lines.len(), 2);
    assert_eq!(o.lines[0].unit_price, d("3.00"));
    assert_eq!(o.lines[0].quantity, 2);
    assert_eq!(o.lines[0].tax(), Some(d("0.45")));
    assert_eq!(o.lines[1].tax(), Some(d("0.90")));
    assert_eq!(
        o.lines[1].title,
        "Ship Your Idea \u{2013} Color: Black, Size: M Test"
    );
    assert_eq!(o.lines[1].sku.as_deref(), Some("Bar3"));
    assert_eq!(o.lines[0].sku, None);
    assert!(
        o.lines
            .iter()
            .all(|l| l.requires_shipping && l.taxable && l.kind == LineKind::Product)
    );
    assert_eq!(o.lines[0].tax_lines[0].title, "State Tax");
    assert_eq!(o.totals.subtotal, d("18.00"));
    assert_eq!(o.totals.shipping, d("10.00"));
    assert_eq!(o.totals.tax, d("1.35"));
    assert_eq!(o.totals.total, d("29.35"));
    assert_eq!(o.totals.rounding, Decimal::ZERO);
    assert_eq!(o.current.total, d("29.35"));
    assert_eq!(o.shipping_method.as_deref(), Some("Flat Rate"));
    // 19:28:08 GMT; the site-local fields (16:28:08, UTC-3) are never read.
    assert_eq!(o.updated_at.unix_timestamp(), 1_490_210_888);
    assert_eq!(o.pii.email.as_deref(), Some("john.doe@example.com"));
    assert_eq!(o.pii.buyer_name.as_deref(), Some("John Doe"));
    assert_eq!(
        o.pii.shipping_address.as_ref().unwrap().line1.as_deref(),
        Some("969 Market")
    );
    let dbg = format!("{o:?}");
    for pii in ["John", "Doe", "969 Market", "john.doe", "(555)"] {
        assert!(!dbg.contains(pii), "{pii} leaked into Debug");
    }
    snapshot("orders.retrieve", &[o]);
}

#[test]
fn the_list_example_maps_every_order() {
    let list = fixture("orders.list.response.json");
    let orders: Vec<Order> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| order_from_json(v, &[]).unwrap())
        .collect();
    assert_eq!(orders.len(), 2);
    assert!(orders.iter().all(|o| o.marketplace == "woocommerce"));
    snapshot("orders.list", &orders);
}

/// The refunds example belongs to order 723 (line 311 refunded once, then 10.00 without
/// items): the retrieve example made into that order.
fn order_723() -> Value {
    let mut v = fixture("orders.retrieve.response.json");
    v["id"] = json!(723);
    v["number"] = json!("723");
    v["line_items"][0] = json!({
        "id": 311, "name": "Woo Album #2", "product_id": 87, "variation_id": 0, "quantity": 2,
        "tax_class": "", "subtotal": "18.00", "subtotal_tax": "0.00", "total": "18.00",
        "total_tax": "0.00", "taxes": [], "meta_data": [], "sku": "", "price": 9
    });
    v["cart_tax"] = json!("0.90");
    v["total_tax"] = json!("0.90");
    v["tax_lines"][0]["tax_total"] = json!("0.90");
    v["total"] = json!("40.90");
    v["refunds"] = json!([
        {"id": 726, "reason": "", "total": "-10.00"},
        {"id": 724, "reason": "", "total": "-9.00"}
    ]);
    v
}

#[test]
fn the_refunds_example_gives_lines_and_an_adjustment() {
    let refunds = fixture("order-refunds.list.response.json");
    let o = order_from_json(&order_723(), refunds.as_array().unwrap()).unwrap();
    assert_eq!(o.refunds.len(), 2);
    // Oldest first: 724 (one unit of line 311), then 726 (10.00 without items).
    assert_eq!(o.refunds[0].external_id, "724");
    assert_eq!(o.refunds[0].lines[0].line_id, "311");
    assert_eq!(o.refunds[0].lines[0].quantity, 1);
    assert_eq!(o.refunds[0].lines[0].subtotal, d("9.00"));
    assert!(o.refunds[0].adjustments.is_empty());
    assert_eq!(o.refunds[1].adjustments[0].amount, d("10.00"));
    assert_eq!(o.lines[0].current_quantity, 1);
    assert_eq!(o.lines[1].current_quantity, 1);
    assert_eq!(o.financial_status, FinancialStatus::PartiallyRefunded);
    assert_eq!(o.current.total, d("21.90"));
    assert_eq!(o.current.subtotal, d("11.00"));
    snapshot("order-723.refunds", &[o]);
}

#[test]
fn refunds_without_their_item_id_or_taking_money_are_refused() {
    let mut refunds = fixture("order-refunds.list.response.json");
    refunds[1]["line_items"][0]["meta_data"] = json!([]);
    let e = order_from_json(&order_723(), refunds.as_array().unwrap()).unwrap_err();
    assert!(e.contains("_refunded_item_id"), "{e}");
    let mut refunds = fixture("order-refunds.list.response.json");
    refunds[1]["line_items"][0]["total"] = json!("9.00");
    let e = order_from_json(&order_723(), refunds.as_array().unwrap()).unwrap_err();
    assert!(e.contains("takes money"), "{e}");
    // Refunding three units of a line of two.
    let mut refunds = fixture("order-refunds.list.response.json");
    refunds[1]["line_items"][0]["quantity"] = json!(-3);
    assert!(order_from_json(&order_723(), refunds.as_array().unwrap()).is_err());
}

/// A change to a good order that makes it bad.
type Edit = Box<dyn Fn(&mut Value)>;

#[test]
fn bad_orders_give_reasons_never_panics() {
    let base = fixture("orders.retrieve.response.json");
    let cases: Vec<(Edit, &str)> = vec![
        (Box::new(|v| v["line_items"] = json!([])), "no line items"),
        (
            Box::new(|v| v["currency"] = json!("XBT")),
            "unknown currency",
        ),
        (
            Box::new(|v| v["currency"] = json!("usd")),
            "unknown currency",
        ),
        (
            Box::new(|v| v["total"] = json!("12,34")),
            "unparseable amount in total",
        ),
        (
            Box::new(|v| v["line_items"][0]["subtotal"] = json!("70000000000000000000000000000")),
            "out of range",
        ),
        (
            Box::new(|v| v["line_items"][0]["quantity"] = json!(-1)),
            "quantity",
        ),
        (
            Box::new(|v| v["line_items"][0]["quantity"] = json!(1.5)),
            "quantity",
        ),
        (
            Box::new(|v| v["date_modified_gmt"] = json!("soon")),
            "date_modified_gmt",
        ),
        (Box::new(|v| v["id"] = json!(null)), "no id"),
        (Box::new(|v| v["status"] = json!("")), "no status"),
        (Box::new(|v| v["line_items"] = json!("lots")), "shape"),
        (Box::new(|v| v["total"] = json!("99.00")), "totals"),
        (
            Box::new(|v| v["line_items"][0]["taxes"][0]["total"] = json!("1e9")),
            "tax",
        ),
    ];
    for (edit, why) in cases {
        let mut v = base.clone();
        edit(&mut v);
        let e = order_from_json(&v, &[]).unwrap_err();
        assert!(e.contains(why), "{why}: {e}");
        assert!(!e.contains("John") && !e.contains("969"), "{e}");
    }
    for v in [json!(null), json!([1]), json!("x"), json!({})] {
        assert!(order_from_json(&v, &[]).is_err());
    }
    assert_eq!(external_id(&json!({"id": 5})), "5");
    assert_eq!(external_id(&json!({})), "unknown");
}

#[test]
fn a_negative_fee_is_a_discount_spread_over_the_lines() {
    let mut v = fixture("orders.retrieve.response.json");
    // 2.00 off (0.15 of its tax at 7.5 %), as WooCommerce stores a negative fee.
    v["fee_lines"] = json!([{
        "id": 400, "name": "Loyalty discount", "tax_class": "", "tax_status": "taxable",
        "total": "-2.00", "total_tax": "-0.15", "taxes": [{"id": 75, "total": "-0.15", "subtotal": ""}],
        "meta_data": []
    }]);
    v["cart_tax"] = json!("1.20");
    v["total_tax"] = json!("1.20");
    v["total"] = json!("27.20");
    let o = order_from_json(&v, &[]).unwrap();
    assert!(o.fees.is_empty(), "a negative fee is not a fee");
    let app = o.discount_applications.last().unwrap();
    assert_eq!(app.title.as_deref(), Some("Loyalty discount"));
    assert_eq!(o.totals.discounts, d("2.00"));
    // 6.00 and 12.00 share 2.00 as 0.67 and 1.33; the tax comes off in proportion.
    assert_eq!(o.lines[0].discount(), Some(d("0.67")));
    assert_eq!(o.lines[1].discount(), Some(d("1.33")));
    assert_eq!(
        o.lines[0].tax().unwrap() + o.lines[1].tax().unwrap(),
        d("1.20")
    );
    assert_eq!(o.totals.rounding, Decimal::ZERO);
}

#[test]
fn shipment_tracking_meta_gives_the_orders_parcels() {
    let mut v = fixture("orders.retrieve.response.json");
    assert!(order_from_json(&v, &[]).unwrap().fulfillments.is_empty());
    v["meta_data"] = fixture("shipment-tracking.meta_data.json");
    let o = order_from_json(&v, &[]).unwrap();
    let got: Vec<(&str, Option<&str>, Option<i64>)> = o
        .fulfillments
        .iter()
        .map(|f| {
            (
                f.tracking_number.as_str(),
                f.carrier.as_deref(),
                f.shipped_at.map(|t| t.unix_timestamp()),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("9400100000000000007271", Some("usps"), Some(1_490_313_600)),
            // An unlisted carrier is named by `custom_tracking_provider`; the date a number.
            ("0000007272", Some("DHL Express"), Some(1_490_400_000)),
            // No date: the parcel without it.
            // The plugin's slug with its spaces back.
            ("RM000072725GB", Some("royal mail"), None),
        ]
    );
    // The rest of the order is as without the meta.
    let mut plain = order_from_json(&fixture("orders.retrieve.response.json"), &[]).unwrap();
    plain.fulfillments = o.fulfillments.clone();
    assert_eq!(plain, o);
}

#[test]
fn malformed_tracking_meta_never_rejects_the_order() {
    let mut v = fixture("orders.retrieve.response.json");
    for bad in [
        json!("nope"),
        json!({ "key": "_wc_shipment_tracking_items" }),
        json!([7, null, { "key": 5, "value": [] }]),
        json!([{ "key": "_wc_shipment_tracking_items", "value": "a:1:{i:0;a:0:{}}" }]),
        json!([{ "key": "_wc_shipment_tracking_items", "value": [[], 3, { "tracking_number": ["x"] }] }]),
        json!([{ "key": "_wc_shipment_tracking_items", "value": [{ "tracking_number": "x".repeat(300) }] }]),
    ] {
        v["meta_data"] = bad;
        assert!(order_from_json(&v, &[]).unwrap().fulfillments.is_empty());
    }
    // A PHP array with gaps comes as an object; a nonsense date is no date.
    v["meta_data"] = json!([{ "key": "_wc_shipment_tracking_items", "value": {
        "2": { "tracking_provider": "ups", "tracking_number": "1Z9V74E80300007270", "date_shipped": "soon" }
    } }]);
    let f = &order_from_json(&v, &[]).unwrap().fulfillments;
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].carrier.as_deref(), f[0].shipped_at),
        (Some("ups"), None)
    );
}
