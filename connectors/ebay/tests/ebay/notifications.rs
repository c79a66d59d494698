//! Marketplace Account Deletion notices: eBay's own signed test vectors verified with the
//! key the simulated Notification API publishes (cached per key id), tampered ones refused,
//! a key service outage reported as retriable, never as a bad signature.

use crate::{Env, env, opts};
use ordersync_ebay::account_deletion::{self, compact, verify_signature};
use ordersync_sdk::{PrivacyAction, WebhookError};
use serde_json::json;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/notifications/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn signed(vector: &str) -> (http::HeaderMap, Vec<u8>) {
    let sig = String::from_utf8(fixture(&format!("{vector}.signature"))).unwrap();
    let mut h = http::HeaderMap::new();
    h.insert("x-ebay-signature", sig.trim().parse().unwrap());
    (h, fixture(&format!("{vector}.body.json")))
}

fn test_key() -> Vec<u8> {
    account_deletion::spki_from_pem(ordersync_ebay::sim::TEST_KEY_PEM).unwrap()
}

#[test]
fn the_sdk_vectors_verify_and_tampering_does_not() {
    let key = test_key();
    let sig = |v: &str| {
        let (h, _) = signed(v);
        account_deletion::signature_header(&h)
            .unwrap()
            .der()
            .unwrap()
    };
    let (_, valid) = signed("valid");
    assert!(verify_signature(&key, &valid, &sig("valid")));
    for v in ["invalid", "signature_mismatch"] {
        let (_, body) = signed(v);
        assert!(!verify_signature(&key, &body, &sig(v)), "{v}");
    }
    // The same message pretty-printed still verifies (compared compactly) ...
    let pretty = String::from_utf8(valid.clone())
        .unwrap()
        .replace(",\"", ",\n  \"")
        .replace("\":", "\": ");
    assert_ne!(pretty.as_bytes(), valid.as_slice());
    assert_eq!(compact(pretty.as_bytes()).unwrap(), valid);
    assert!(verify_signature(&key, pretty.as_bytes(), &sig("valid")));
    // ... but one changed character inside a string does not.
    let renamed = String::from_utf8(valid)
        .unwrap()
        .replace("test_user", "test_usex");
    assert!(!verify_signature(&key, renamed.as_bytes(), &sig("valid")));
}

async fn verify(e: &Env, vector: &str) -> Result<ordersync_sdk::WebhookHint, WebhookError> {
    let (h, body) = signed(vector);
    e.source(200).verify_notification(&h, &body).await
}

#[tokio::test]
async fn notices_are_verified_with_the_published_key_fetched_once() {
    let e = env(opts()).await;
    let hint = verify(&e, "valid")
        .await
        .expect("eBay's signed test notice");
    assert_eq!(
        hint.privacy,
        Some(PrivacyAction::RedactBuyer {
            account: "test_user".into()
        })
    );
    assert_eq!(
        hint.dedupe_key,
        "49feeaeb-4982-42d9-a377-9645b8479411_33f7e043-fed8-442b-9d44-791923bd9a6d"
    );
    for v in ["invalid", "signature_mismatch"] {
        assert_eq!(
            verify(&e, v).await.unwrap_err(),
            WebhookError::BadSignature,
            "{v}"
        );
    }
    assert_eq!(
        verify(&e, "valid").await.unwrap().topic,
        account_deletion::TOPIC
    );
    // One key fetch for four notices: the key is cached per key id.
    assert_eq!(e.calls("getPublicKey").await, 1);
    // An application token, never the seller's user token.
    assert_eq!(e.calls("token").await, 1);
}

#[tokio::test]
async fn a_key_service_outage_is_retriable_and_an_unknown_key_is_refused() {
    let e = env(opts()).await;
    e.post("/_sim/public_key_outage", json!({ "on": true }))
        .await;
    // Nothing cached for this simulator's base URL yet: the fetch fails.
    assert!(matches!(
        verify(&e, "valid").await.unwrap_err(),
        WebhookError::Unavailable(_)
    ));
    e.post("/_sim/public_key_outage", json!({ "on": false }))
        .await;
    assert!(verify(&e, "valid").await.is_ok());

    // A well-formed header naming a key eBay never published (404 195001).
    let forged = base64_json(json!({
        "alg": "ecdsa",
        "kid": "00000000-0000-0000-0000-000000000000",
        "signature": "MEUCIQDn",
        "digest": "SHA1"
    }));
    let mut h = http::HeaderMap::new();
    h.insert("x-ebay-signature", forged.parse().unwrap());
    let (_, body) = signed("valid");
    assert_eq!(
        e.source(200)
            .verify_notification(&h, &body)
            .await
            .unwrap_err(),
        WebhookError::BadSignature
    );
    // Garbage headers never reach eBay.
    let before = e.calls("getPublicKey").await;
    h.insert("x-ebay-signature", "bm90LWEtc2lnbmF0dXJl".parse().unwrap());
    assert_eq!(
        e.source(200)
            .verify_notification(&h, &body)
            .await
            .unwrap_err(),
        WebhookError::BadSignature
    );
    assert_eq!(e.calls("getPublicKey").await, before);
}

#[tokio::test]
async fn get_public_key_takes_only_an_application_token() {
    let e = env(opts()).await;
    let user = e.user_token().await;
    let url = format!(
        "{}/commerce/notification/v1/public_key/{}",
        e.sim.base_url,
        ordersync_ebay::sim::TEST_KEY_ID
    );
    let r = reqwest::Client::new()
        .get(&url)
        .bearer_auth(user)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["errorId"], 1001);
}

fn base64_json(v: serde_json::Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(v.to_string())
}
