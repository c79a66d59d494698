//! Webhook verification over the raw body.

use crate::{TOKEN, env};
use ordersync_sdk::WebhookError;
use ordersync_sdk::webhooks::sign_base64;
use ordersync_shopify::sim::SimOptions;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;

fn vector() -> Value {
    let path = format!(
        "{}/fixtures/webhook_hmac_vector.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn headers(sig: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-shopify-hmac-sha256", HeaderValue::from_str(sig).unwrap());
    h.insert(
        "x-shopify-topic",
        HeaderValue::from_static("orders/updated"),
    );
    h.insert("x-shopify-webhook-id", HeaderValue::from_static("wh-1"));
    h
}

#[tokio::test]
async fn good_and_bad_signatures() {
    let e = env(SimOptions::default()).await;
    let src = e.source(250, TOKEN);
    // The research vector uses the same secret as our test source.
    let v = vector();
    let raw = v["raw_body"].as_str().unwrap().as_bytes();
    let sig = v["expected_header_X-Shopify-Hmac-Sha256"].as_str().unwrap();
    let hint = src.parse_webhook(&headers(sig), raw).unwrap();
    assert_eq!(hint.topic, "orders/updated");
    assert_eq!(hint.dedupe_key.len(), 64, "a digest of the signed body");
    assert_eq!(hint.external_id, None, "a compliance body has no order id");

    let mut tampered = raw.to_vec();
    tampered[10] ^= 1;
    assert_eq!(
        src.parse_webhook(&headers(sig), &tampered),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        src.parse_webhook(&HeaderMap::new(), raw),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        src.parse_webhook(&headers("bm90IGl0"), raw),
        Err(WebhookError::BadSignature)
    );
}

#[tokio::test]
async fn order_webhook_keeps_big_ids_exact_and_dedupes_on_the_signed_body() {
    let e = env(SimOptions::default()).await;
    let src = e.source(250, TOKEN);
    let body = br##"{"id":820982911946154508,"name":"#9999","email":"canary@customer.test"}"##;
    let mut h = headers(&sign_base64(b"test-client-secret", body));
    h.insert("x-shopify-event-id", HeaderValue::from_static("evt-42"));
    let hint = src.parse_webhook(&h, body).unwrap();
    assert_eq!(hint.external_id.as_deref(), Some("820982911946154508"));
    // The event id is not signed: a replay under a fresh id is the same webhook.
    h.insert("x-shopify-event-id", HeaderValue::from_static("evt-43"));
    assert_eq!(
        src.parse_webhook(&h, body).unwrap().dedupe_key,
        hint.dedupe_key
    );
    let bad = b"not json";
    let h = headers(&sign_base64(b"test-client-secret", bad));
    assert!(matches!(
        src.parse_webhook(&h, bad),
        Err(WebhookError::Malformed(_))
    ));
}
