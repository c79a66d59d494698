//! Pure mapping: which parcel an order is followed by, its slug, and the bodies we send
//! (checked against the 2026-07 CreateTrackingRequest example).

use crate::fixture;
use ordersync_aftership::AfterShipConfig;
use ordersync_aftership::mapping::{Target, create_body, target, update_body};
use ordersync_conformance::{assert_no_canary, sample_order};
use ordersync_sdk::{ErrorClass, Fulfillment, Order};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn slugs(extra: Value) -> BTreeMap<String, String> {
    let c: AfterShipConfig = ordersync_sdk::parse_config(&json!({ "slugs": extra })).unwrap();
    c.slug_map().unwrap()
}

fn with_carrier(carrier: Option<&str>) -> Order {
    let mut o = sample_order(1);
    o.fulfillments = vec![Fulfillment {
        tracking_number: "RR123456785GB".into(),
        carrier: carrier.map(str::to_string),
        shipped_at: None,
    }];
    o
}

#[test]
fn the_first_fulfillment_is_followed() {
    let mut o = sample_order(3);
    o.fulfillments.push(Fulfillment {
        tracking_number: "SECOND".into(),
        carrier: Some("FedEx".into()),
        shipped_at: None,
    });
    let t = target(&o, &slugs(json!({}))).unwrap().unwrap();
    assert_eq!(
        t,
        Target {
            slug: "ups".into(),
            tracking_number: "1ZCONF0000000003".into()
        }
    );
    o.fulfillments.clear();
    assert_eq!(
        target(&o, &slugs(json!({}))).unwrap(),
        None,
        "no parcel yet"
    );
}

#[test]
fn carriers_match_ignoring_case_and_spaces_and_config_wins() {
    let m = slugs(json!({ "Evri": "hermes", "DHL Express": "dhl-express" }));
    for (carrier, slug) in [
        ("Royal Mail", "royal-mail"),
        ("royalmail", "royal-mail"),
        ("  ROYAL  MAIL ", "royal-mail"),
        ("Deutsche Post", "deutsch-post"),
        ("PostNL", "postnl-3s"),
        ("japan post", "japan-post"),
        ("usps", "usps"),
        ("Evri", "hermes"),
        ("dhl express", "dhl-express"),
        ("DHL", "dhl"),
    ] {
        let t = target(&with_carrier(Some(carrier)), &m).unwrap().unwrap();
        assert_eq!(t.slug, slug, "{carrier}");
    }
}

#[test]
fn an_unknown_or_missing_carrier_is_permanent_and_says_what_to_do() {
    let e = target(&with_carrier(Some("Pigeon Post")), &slugs(json!({}))).unwrap_err();
    assert_eq!(e.class(), ErrorClass::Permanent);
    let s = e.to_string();
    assert!(s.contains("Pigeon Post") && s.contains("`slugs`"), "{s}");
    let e = target(&with_carrier(None), &slugs(json!({}))).unwrap_err();
    assert_eq!(e.class(), ErrorClass::Permanent);
    let mut o = with_carrier(Some("UPS"));
    o.fulfillments[0].tracking_number = "x".repeat(65);
    assert_eq!(
        target(&o, &slugs(json!({}))).unwrap_err().class(),
        ErrorClass::Permanent
    );
}

#[test]
fn the_create_body_minimises_data() {
    let o = sample_order(5);
    let t = target(&o, &slugs(json!({}))).unwrap().unwrap();
    let key = "0123456789abcdef0123456789abcdef";
    let v = serde_json::to_value(create_body(&o, &t, key, false)).unwrap();
    assert_eq!(
        v,
        json!({
            "tracking_number": "1ZCONF0000000005",
            "slug": "ups",
            "title": "Order #C5",
            "order_id": o.external_id,
            "order_number": "#C5",
            "custom_fields": { "ordersync_key": key },
        })
    );
    assert_no_canary("default create body", &v.to_string());
    let with = serde_json::to_value(create_body(&o, &t, key, true)).unwrap();
    assert_eq!(
        with["customers"],
        json!([{ "role": "buyer", "name": "Canary Buyer5", "email": "buyer5@customer.test" }]),
        "send_customers: name and email only (no phone, no address)"
    );
    let up = serde_json::to_value(update_body(&o, key, false)).unwrap();
    assert!(up.get("tracking_number").is_none() && up.get("slug").is_none());
    assert_eq!(up["custom_fields"]["ordersync_key"], key);
}

#[test]
fn debug_of_bodies_is_redacted() {
    let o = sample_order(6);
    let t = target(&o, &slugs(json!({}))).unwrap().unwrap();
    let b = create_body(&o, &t, "k", true);
    assert_no_canary("TrackingBody Debug", &format!("{b:?}"));
    assert_no_canary("Customer Debug", &format!("{:?}", b.customers));
}

/// Every field we send is a field of the 2026-07 CreateTrackingRequest example, with the same
/// JSON type (the example validates against the official SDK model).
#[test]
fn create_body_fields_are_in_the_2026_07_request_example() {
    let example = fixture("create-tracking.request.json");
    let o = sample_order(9);
    let t = target(&o, &slugs(json!({}))).unwrap().unwrap();
    let ours = serde_json::to_value(create_body(&o, &t, "k", true)).unwrap();
    for (k, v) in ours.as_object().unwrap() {
        let want = example
            .get(k)
            .unwrap_or_else(|| panic!("{k} is not a CreateTrackingRequest field"));
        assert_eq!(
            std::mem::discriminant(v),
            std::mem::discriminant(want),
            "{k}: JSON type"
        );
    }
    for (k, _) in ours["customers"][0].as_object().unwrap() {
        assert!(example["customers"][0].get(k).is_some(), "customers[].{k}");
    }
}

/// The descriptor wires the webhook verifier to the `webhook_secret` secret.
#[test]
fn the_descriptor_verifies_webhooks_with_webhook_secret() {
    let d = ordersync_aftership::DESCRIPTOR;
    let spec = d.webhook.expect("AfterShip has webhooks");
    assert_eq!(spec.secret, "webhook_secret");
    assert!(d.secret_names().any(|s| s == "webhook_secret"));
    let body = br#"{"event":"tracking_update","event_id":"e-1","msg":{"id":"a5000000000000000000000000000007"}}"#;
    let mut h = http::HeaderMap::new();
    let sig = ordersync_sdk::webhooks::sign_base64(b"whsec", body);
    h.insert("aftership-hmac-sha256", sig.parse().unwrap());
    let hint = (spec.verify)(&h, body, b"whsec").unwrap();
    assert_eq!(
        (hint.dedupe_key.as_str(), hint.topic.as_str()),
        ("e-1", "tracking_update")
    );
    assert!((spec.verify)(&h, body, b"other").is_err());
    assert!(d.sensitive_headers.contains(&"aftership-hmac-sha256"));
}
