//! `orders/*` webhooks: base64 HMAC-SHA256 of the raw body under the webhook secret (custom
//! apps) or the app secret (app-level route). A verified webhook becomes a hint; the three
//! mandatory compliance topics (`customers/data_request`, `customers/redact`, `shop/redact`)
//! carry their privacy action.

use ordersync_sdk::{PrivacyAction, WebhookError, WebhookHint, webhooks};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
struct WebhookBody {
    #[serde(default)]
    id: Option<serde_json::Number>,
    #[serde(default)]
    customer: Option<Customer>,
    /// `customers/redact`'s orders; `customers/data_request` calls them `orders_requested`.
    #[serde(default)]
    orders_to_redact: Vec<serde_json::Number>,
    #[serde(default)]
    orders_requested: Vec<serde_json::Number>,
}

#[derive(Deserialize)]
struct Customer {
    #[serde(default)]
    email: Option<String>,
}

/// The compliance topic's action (`None` for every other topic).
fn privacy_of(topic: &str, body: &WebhookBody) -> Option<PrivacyAction> {
    let email = || {
        body.customer
            .as_ref()
            .and_then(|c| c.email.clone())
            .filter(|e| !e.trim().is_empty())
    };
    let ids = |v: &[serde_json::Number]| v.iter().map(|n| n.to_string()).collect();
    match topic {
        "customers/redact" => Some(PrivacyAction::RedactCustomer {
            email: email(),
            order_ids: ids(&body.orders_to_redact),
        }),
        "customers/data_request" => Some(PrivacyAction::DataRequest {
            email: email(),
            order_ids: ids(&body.orders_requested),
        }),
        "shop/redact" => Some(PrivacyAction::RedactAccount),
        _ => None,
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Verifies over the raw bytes before parsing anything. The dedupe key is a digest of the
/// signed body and topic: `X-Shopify-Event-Id` is not signed, so a replay with a fresh id
/// must not count as new.
pub fn verify(
    headers: &HeaderMap,
    raw_body: &[u8],
    secret: &[u8],
) -> Result<WebhookHint, WebhookError> {
    if secret.is_empty() {
        return Err(WebhookError::BadSignature);
    }
    let sig = header(headers, "x-shopify-hmac-sha256").ok_or(WebhookError::BadSignature)?;
    if !webhooks::verify_base64(secret, raw_body, sig) {
        return Err(WebhookError::BadSignature);
    }
    let topic = header(headers, "x-shopify-topic")
        .ok_or_else(|| WebhookError::Malformed("missing X-Shopify-Topic".into()))?;
    // `id` read as a JSON number's own text: ids exceed 2^53 and must not pass through f64.
    let body: WebhookBody = serde_json::from_slice(raw_body)
        .map_err(|_| WebhookError::Malformed("body is not a JSON object".into()))?;
    let mut h = Sha256::new();
    h.update(topic.as_bytes());
    h.update([0]);
    h.update(raw_body);
    let dedupe_key = h
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    Ok(WebhookHint {
        dedupe_key,
        topic: topic.to_string(),
        privacy: privacy_of(topic, &body),
        external_id: body.id.map(|n| n.to_string()),
    })
}
