//! Tracking webhooks: `aftership-hmac-sha256` = base64(HMAC-SHA256(webhook secret, raw body)),
//! compared in constant time before anything is parsed. A verified webhook is a hint that a
//! tracking changed; its delivery time is read from the tracking itself.

use crate::wire::WebhookBody;
use ordersync_sdk::{WebhookError, WebhookHint, webhooks};
use reqwest::header::HeaderMap;

pub const SIGNATURE_HEADER: &str = "aftership-hmac-sha256";

/// Verifies and reduces a webhook: `dedupe_key` = `event_id` (AfterShip retries a delivery
/// with the same id), `external_id` = the tracking id (our `external_ref`).
pub fn verify(
    headers: &HeaderMap,
    raw_body: &[u8],
    secret: &[u8],
) -> Result<WebhookHint, WebhookError> {
    if secret.is_empty() {
        return Err(WebhookError::BadSignature);
    }
    let sig = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(WebhookError::BadSignature)?;
    if !webhooks::verify_base64(secret, raw_body, sig) {
        return Err(WebhookError::BadSignature);
    }
    let body: WebhookBody = serde_json::from_slice(raw_body)
        .map_err(|_| WebhookError::Malformed("body is not an AfterShip webhook".into()))?;
    let event_id = body
        .event_id
        .filter(|s| is_token(s))
        .ok_or_else(|| WebhookError::Malformed("missing event_id".into()))?;
    let topic = body
        .event
        .filter(|s| is_token(s))
        .unwrap_or_else(|| "tracking_update".into());
    Ok(WebhookHint {
        dedupe_key: event_id,
        topic,
        external_id: body.msg.and_then(|m| m.id).filter(|s| is_token(s)),
        privacy: None,
    })
}

/// Ids and event names: short, printable, no spaces (nothing a body could smuggle into logs).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    const BODY: &[u8] = br#"{"ts":1700000000,"event":"tracking_update","event_id":"7f0a2e1c-3c5b-4b9e-9a51-2f1d1c8e9b00","is_tracking_first_tag":false,"msg":{"id":"a5000000000000000000000000000001","tag":"Delivered"}}"#;

    fn signed(secret: &[u8], body: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            SIGNATURE_HEADER,
            HeaderValue::from_str(&webhooks::sign_base64(secret, body)).unwrap(),
        );
        h
    }

    #[test]
    fn good_signature_gives_a_hint() {
        let hint = verify(&signed(b"whsec", BODY), BODY, b"whsec").unwrap();
        assert_eq!(hint.dedupe_key, "7f0a2e1c-3c5b-4b9e-9a51-2f1d1c8e9b00");
        assert_eq!(hint.topic, "tracking_update");
        assert_eq!(
            hint.external_id.as_deref(),
            Some("a5000000000000000000000000000001")
        );
    }

    #[test]
    fn forged_signature_is_refused() {
        assert_eq!(
            verify(&signed(b"other", BODY), BODY, b"whsec"),
            Err(WebhookError::BadSignature)
        );
        // Signed body, tampered bytes.
        let mut tampered = BODY.to_vec();
        tampered[10] = b'9';
        assert_eq!(
            verify(&signed(b"whsec", BODY), &tampered, b"whsec"),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn missing_signature_is_refused() {
        assert_eq!(
            verify(&HeaderMap::new(), BODY, b"whsec"),
            Err(WebhookError::BadSignature)
        );
        let mut h = HeaderMap::new();
        h.insert(SIGNATURE_HEADER, HeaderValue::from_static(""));
        assert_eq!(verify(&h, BODY, b"whsec"), Err(WebhookError::BadSignature));
    }

    #[test]
    fn empty_secret_is_refused() {
        // Even a body "signed" with the empty key.
        assert_eq!(
            verify(&signed(b"", BODY), BODY, b""),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn signed_but_malformed_is_malformed() {
        let body = br#"{"event":"tracking_update"}"#;
        assert!(matches!(
            verify(&signed(b"whsec", body), body, b"whsec"),
            Err(WebhookError::Malformed(_))
        ));
    }
}
