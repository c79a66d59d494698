//! `X-WC-Webhook-Signature` against the copied vectors, the creation ping, the entity-decoded
//! secret, and the topics.

use ordersync_sdk::{WebhookError, WebhookHint};
use ordersync_woocommerce::sim::webhook;
use ordersync_woocommerce::webhooks::{sign, verify};
use reqwest::header::HeaderMap;
use serde_json::Value;

fn vectors() -> Value {
    let path = format!(
        "{}/fixtures/verification-vectors.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_signature_vector_verifies() {
    let v = &vectors()["webhook_signature"];
    let secret = v["secret"].as_str().unwrap();
    let body = v["raw_body"].as_str().unwrap().as_bytes();
    let expected = v["expected_header_X-WC-Webhook-Signature"]
        .as_str()
        .unwrap();
    assert_eq!(sign(secret, body), expected);
    let h = webhook::headers(secret, "order.updated", body);
    assert_eq!(h["x-wc-webhook-signature"], expected);
    let hint = verify(&h, body, secret.as_bytes()).unwrap();
    assert_eq!(hint.external_id.as_deref(), Some("123"));
    assert_eq!(hint.topic, "order.updated");
    assert!(!hint.is_ack());
    assert_eq!(verify(&h, body, b"other"), Err(WebhookError::BadSignature));
}

#[test]
fn the_creation_ping_is_acknowledged_with_nothing_to_do() {
    let v = &vectors()["ping_on_creation"];
    let body = v["raw_body"].as_str().unwrap().as_bytes();
    assert_eq!(v["must_answer"], 200);
    let (h, ping) = webhook::ping(42);
    assert_eq!(ping, body);
    let hint = verify(&h, body, b"woo-secret").unwrap();
    assert!(hint.is_ack(), "{hint:?}");
    assert_eq!(hint, WebhookHint::ack("ping:42"));
    assert_eq!(hint.external_id, None);
}

#[test]
fn the_key_is_the_entity_decoded_secret() {
    let body = br#"{"id":7}"#;
    // WordPress stored the typed `a&b<c` as `a&amp;b&lt;c` and signs with the decoded key.
    let sig = ordersync_sdk::webhooks::sign_base64(b"a&b<c", body);
    let mut h = webhook::headers("x", "order.created", body);
    h.insert("x-wc-webhook-signature", sig.parse().unwrap());
    for stored in ["a&b<c", "a&amp;b&lt;c", "a&#038;b&#060;c"] {
        assert!(verify(&h, body, stored.as_bytes()).is_ok(), "{stored}");
    }
    assert!(verify(&h, body, b"a&amp;amp;b&lt;c").is_err());
}

#[test]
fn topics_and_malformed_deliveries() {
    let body = br#"{"id":5}"#;
    let h = webhook::headers("s", "order.deleted", body);
    let hint = verify(&h, body, b"s").unwrap();
    assert_eq!(
        (hint.topic.as_str(), hint.external_id.as_deref()),
        ("order.deleted", Some("5"))
    );
    let mut no_topic = h.clone();
    no_topic.remove("x-wc-webhook-topic");
    assert!(matches!(
        verify(&no_topic, body, b"s"),
        Err(WebhookError::Malformed(_))
    ));
    let text = b"not json";
    let h = webhook::headers("s", "order.updated", text);
    assert!(matches!(
        verify(&h, text, b"s"),
        Err(WebhookError::Malformed(_))
    ));
    // A replay is the same hint; a new change is another.
    let a = verify(&webhook::headers("s", "order.updated", body), body, b"s").unwrap();
    let b2 = br#"{"id":5,"date_modified_gmt":"2026-12-01T10:00:01"}"#;
    let b = verify(&webhook::headers("s", "order.updated", b2), b2, b"s").unwrap();
    assert_ne!(a.dedupe_key, b.dedupe_key);
    assert_eq!(
        verify(&HeaderMap::new(), body, b"s"),
        Err(WebhookError::BadSignature)
    );
}
