//! What a WooCommerce webhook delivery carries (`WC_Webhook::deliver`), for tests and the
//! demo: the signed body's headers, and the unsigned creation ping.

use reqwest::header::{HeaderMap, HeaderValue};

/// The headers of a delivery of `body` on `topic` (`order.updated`, …) under `secret`.
pub fn headers(secret: &str, topic: &str, body: &[u8]) -> HeaderMap {
    let mut h = HeaderMap::new();
    let mut put = |k: &'static str, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    };
    put("content-type", "application/json");
    put("x-wc-webhook-source", "https://shop.example.com/");
    put("x-wc-webhook-topic", topic);
    let (resource, event) = topic.split_once('.').unwrap_or((topic, ""));
    put("x-wc-webhook-resource", resource);
    put("x-wc-webhook-event", event);
    put(
        "x-wc-webhook-signature",
        &crate::webhooks::sign(secret, body),
    );
    put("x-wc-webhook-id", "142");
    put(
        "x-wc-webhook-delivery-id",
        "8f3a0c2e1b7d4e5fa9c6b3d2e1f0a9b8",
    );
    h
}

/// The ping WooCommerce sends when a webhook is created: form-encoded, unsigned.
pub fn ping(webhook_id: u64) -> (HeaderMap, Vec<u8>) {
    let mut h = HeaderMap::new();
    h.insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    (h, format!("webhook_id={webhook_id}").into_bytes())
}
