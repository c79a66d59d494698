//! eBay Marketplace Account Deletion/Closure notifications, which every app that keeps eBay
//! data must subscribe to (`GET|POST /webhooks/ebay/account-deletion`).
//!
//! - Endpoint validation: `GET ?challenge_code=c` is answered with
//!   `{"challengeResponse": hex(SHA-256(c ‖ verification token ‖ endpoint URL))}`.
//! - Notices: `POST` with `X-EBAY-SIGNATURE` = base64 of `{"alg":"ecdsa","kid",
//!   "signature":<base64 DER>,"digest":"SHA1"}`: ECDSA P-256 with SHA-1 over the body, with
//!   the public key `GET /commerce/notification/v1/public_key/{kid}` returns (an application
//!   token: the client-credentials grant). Keys are cached an hour per `kid`, as eBay asks:
//!   a fetch per notice would spend the app's call limit, and eBay sends every account
//!   deletion of the whole site to every app.
//! - The raw body is verified first; eBay's SDKs re-serialise the parsed message compactly,
//!   so a body that arrives with whitespace is verified again with it removed (outside
//!   strings; key order and escapes stay as sent).

use crate::errors::parse_error;
use crate::wire::TokenResponse;
use aws_lc_rs::signature::{ECDSA_P256_SHA1_ASN1, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ordersync_sdk::http::{HttpClient, success_body};
use ordersync_sdk::{ConnectorError, NotificationSpec, PrivacyAction, WebhookError, WebhookHint};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The only topic of this endpoint.
pub const TOPIC: &str = "MARKETPLACE_ACCOUNT_DELETION";
/// getPublicKey of the Notification API, below the API base URL.
pub const PUBLIC_KEY_PATH: &str = "/commerce/notification/v1/public_key";
/// The application scope getPublicKey needs.
pub const APP_SCOPE: &str = "https://api.ebay.com/oauth/api_scope";
/// How long a fetched key is used (eBay recommends about an hour).
const KEY_TTL: Duration = Duration::from_secs(3600);
/// Keys kept at most; eBay rotates them rarely.
const MAX_KEYS: usize = 64;

/// The endpoint in the descriptor.
pub const SPEC: NotificationSpec = NotificationSpec {
    path: "account-deletion",
    token_env: "ORDERSYNC_EBAY_VERIFICATION_TOKEN",
    challenge_param: "challenge_code",
    challenge: |code, token, endpoint| serde_json::json!({ "challengeResponse": challenge_response(code, token, endpoint) }),
    signature_well_formed: |h| signature_header(h).is_some(),
    accepted_status: 204,
    rejected_status: 412,
};

/// `hex(SHA-256(code ‖ token ‖ endpoint))`, the UTF-8 bytes in this order.
pub fn challenge_response(code: &str, token: &str, endpoint: &str) -> String {
    let mut h = Sha256::new();
    h.update(code.as_bytes());
    h.update(token.as_bytes());
    h.update(endpoint.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The decoded `X-EBAY-SIGNATURE` header.
#[derive(Debug, Clone, Deserialize)]
pub struct SignatureHeader {
    pub alg: String,
    pub kid: String,
    pub signature: String,
    pub digest: String,
}

impl SignatureHeader {
    /// The DER signature.
    pub fn der(&self) -> Option<Vec<u8>> {
        STANDARD.decode(self.signature.trim()).ok()
    }
}

/// The header, if it is what eBay sends: base64 JSON naming ECDSA with SHA-1, a key id and
/// a base64 signature.
pub fn signature_header(headers: &http::HeaderMap) -> Option<SignatureHeader> {
    let raw = headers.get("x-ebay-signature")?.to_str().ok()?;
    let json = STANDARD.decode(raw.trim()).ok()?;
    let h: SignatureHeader = serde_json::from_slice(&json).ok()?;
    let kid_ok = !h.kid.is_empty()
        && h.kid.len() <= 128
        && h.kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (h.alg.eq_ignore_ascii_case("ecdsa")
        && h.digest.eq_ignore_ascii_case("sha1")
        && kid_ok
        && h.der().is_some_and(|d| !d.is_empty()))
    .then_some(h)
}

/// The body without whitespace outside strings; `None` if it is not balanced JSON text.
pub fn compact(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in body {
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if !b.is_ascii_whitespace() {
            in_string = b == b'"';
            out.push(b);
        }
    }
    (!in_string).then_some(out)
}

/// ECDSA P-256/SHA-1 over the raw body, then over its compact form.
pub fn verify_signature(spki_der: &[u8], body: &[u8], sig_der: &[u8]) -> bool {
    let key = UnparsedPublicKey::new(&ECDSA_P256_SHA1_ASN1, spki_der);
    if key.verify(body, sig_der).is_ok() {
        return true;
    }
    compact(body).is_some_and(|c| c != body && key.verify(&c, sig_der).is_ok())
}

/// The DER SubjectPublicKeyInfo inside eBay's one-line PEM.
pub fn spki_from_pem(pem: &str) -> Option<Vec<u8>> {
    let inner = pem
        .trim()
        .strip_prefix("-----BEGIN PUBLIC KEY-----")?
        .strip_suffix("-----END PUBLIC KEY-----")?;
    let b64: String = inner.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(b64).ok().filter(|d| !d.is_empty())
}

/// What a verified notice asks.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub notification_id: String,
    pub topic: String,
    /// The closed account's user name (PII: never logged).
    pub username: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    metadata: Metadata,
    notification: Notification,
}

#[derive(Deserialize)]
struct Metadata {
    topic: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    notification_id: String,
    #[serde(default)]
    data: Option<NoticeData>,
}

#[derive(Deserialize)]
struct NoticeData {
    #[serde(default)]
    username: Option<String>,
}

pub fn parse_notice(body: &[u8]) -> Result<Notice, WebhookError> {
    let m: Message = serde_json::from_slice(body)
        .map_err(|_| WebhookError::Malformed("not an eBay notification".into()))?;
    if m.notification.notification_id.trim().is_empty() {
        return Err(WebhookError::Malformed("notificationId is empty".into()));
    }
    Ok(Notice {
        notification_id: m.notification.notification_id,
        topic: m.metadata.topic,
        username: m
            .notification
            .data
            .and_then(|d| d.username)
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty()),
    })
}

/// The hint a verified notice becomes: an account deletion erases that buyer; another
/// topic (none is sent here today) is acknowledged and does nothing.
pub fn hint(n: Notice) -> WebhookHint {
    let privacy = (n.topic == TOPIC)
        .then_some(n.username)
        .flatten()
        .map(|account| PrivacyAction::RedactBuyer { account });
    WebhookHint {
        dedupe_key: n.notification_id,
        topic: n.topic,
        external_id: None,
        privacy,
    }
}

type KeyCache = Mutex<HashMap<(String, String), (Vec<u8>, Instant)>>;

/// Public keys by (API base, kid), shared by every connection of the process.
fn keys() -> &'static KeyCache {
    static KEYS: OnceLock<KeyCache> = OnceLock::new();
    KEYS.get_or_init(Default::default)
}

/// Fetches eBay's notification keys with the app's client credentials.
pub struct KeyFetcher {
    pub http: HttpClient,
    pub api_base: String,
    pub token_url: String,
    pub client_id: SecretString,
    pub client_secret: SecretString,
}

#[derive(Deserialize)]
struct PublicKey {
    key: String,
    #[serde(default)]
    algorithm: Option<String>,
    #[serde(default)]
    digest: Option<String>,
}

impl KeyFetcher {
    /// An application token (client-credentials grant). One attempt: a failure answers the
    /// notice with a 500 and eBay retries it later.
    async fn app_token(&self) -> Result<SecretString, ConnectorError> {
        let pair = format!(
            "{}:{}",
            self.client_id.expose_secret(),
            self.client_secret.expose_secret()
        );
        let resp = self
            .http
            .reqwest()
            .post(&self.token_url)
            .header("Authorization", format!("Basic {}", STANDARD.encode(pair)))
            .form(&[("grant_type", "client_credentials"), ("scope", APP_SCOPE)])
            .send()
            .await
            .map_err(|e| ConnectorError::retriable(format!("token request failed: {e}")))?;
        let bytes = success_body(resp, parse_error).await?;
        let t: TokenResponse = serde_json::from_slice(&bytes)
            .map_err(|_| ConnectorError::permanent("malformed token response"))?;
        if t.access_token.is_empty() {
            return Err(ConnectorError::permanent("token response without a token"));
        }
        Ok(t.access_token.into())
    }

    /// The SPKI of `kid` (cached), or `None` when eBay does not know it.
    pub async fn public_key(&self, kid: &str) -> Result<Option<Vec<u8>>, ConnectorError> {
        let cache_key = (self.api_base.clone(), kid.to_string());
        if let Some((k, at)) = keys()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&cache_key)
            && at.elapsed() < KEY_TTL
        {
            return Ok(Some(k.clone()));
        }
        let token = self.app_token().await?;
        let url = format!("{}{PUBLIC_KEY_PATH}/{kid}", self.api_base);
        let resp = self
            .http
            .reqwest()
            .get(&url)
            .bearer_auth(token.expose_secret())
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| ConnectorError::retriable(format!("public key request failed: {e}")))?;
        let bytes = match success_body(resp, parse_error).await {
            Ok(b) => b,
            Err(ConnectorError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let k: PublicKey = serde_json::from_slice(&bytes)
            .map_err(|_| ConnectorError::permanent("malformed public key response"))?;
        let supported = k
            .algorithm
            .as_deref()
            .is_none_or(|a| a.eq_ignore_ascii_case("ecdsa"))
            && k.digest
                .as_deref()
                .is_none_or(|d| d.eq_ignore_ascii_case("sha1"));
        let Some(spki) = spki_from_pem(&k.key).filter(|_| supported) else {
            return Err(ConnectorError::permanent("unsupported public key"));
        };
        let mut cache = keys().lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_KEYS {
            cache.retain(|_, (_, at)| at.elapsed() < KEY_TTL);
            if cache.len() >= MAX_KEYS {
                cache.clear();
            }
        }
        cache.insert(cache_key, (spki.clone(), Instant::now()));
        Ok(Some(spki))
    }

    /// Verifies a notice and reduces it to a hint: a bad or unknown-key signature is
    /// `BadSignature` (412), a key that cannot be fetched now is `Unavailable` (500).
    pub async fn verify(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<WebhookHint, WebhookError> {
        let h = signature_header(headers).ok_or(WebhookError::BadSignature)?;
        let sig = h.der().ok_or(WebhookError::BadSignature)?;
        let spki = match self.public_key(&h.kid).await {
            Ok(Some(k)) => k,
            // eBay signs only with keys it publishes.
            Ok(None) => return Err(WebhookError::BadSignature),
            Err(e) => return Err(WebhookError::Unavailable(e.to_string())),
        };
        if !verify_signature(&spki, body, &sig) {
            return Err(WebhookError::BadSignature);
        }
        parse_notice(body).map(hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_keeps_strings() {
        let body = br#"{ "a" : "x y\" z", "b": [1, 2] }"#;
        assert_eq!(compact(body).unwrap(), br#"{"a":"x y\" z","b":[1,2]}"#);
        assert_eq!(compact(br#"{"a":"open"#), None);
    }

    #[test]
    fn challenge_matches_the_computed_vector() {
        // shared/api-specs/ebay/notification-examples/challenge-vector.computed.json
        assert_eq!(
            challenge_response(
                "a8628072-3d33-45ee-9004-bee86830a22d",
                "71745723-d031-455c-bfa5-f90d11b4f20a_test_token_00",
                "https://hooks.example.com/ebay/account-deletion"
            ),
            "d45dfcfbb3bd72dd6bc8ff21f422455c931b908c904cbc3a76df17d98c923d22"
        );
    }

    #[test]
    fn header_shape() {
        let mut h = http::HeaderMap::new();
        assert!(signature_header(&h).is_none());
        h.insert("x-ebay-signature", "bm90LWEtc2lnbmF0dXJl".parse().unwrap());
        assert!(signature_header(&h).is_none());
        let ok =
            STANDARD.encode(r#"{"alg":"ecdsa","kid":"k-1","signature":"MEUC","digest":"SHA1"}"#);
        h.insert("x-ebay-signature", ok.parse().unwrap());
        assert_eq!(signature_header(&h).unwrap().kid, "k-1");
        let sha256 =
            STANDARD.encode(r#"{"alg":"ecdsa","kid":"k-1","signature":"MEUC","digest":"SHA256"}"#);
        h.insert("x-ebay-signature", sha256.parse().unwrap());
        assert!(signature_header(&h).is_none());
        let path =
            STANDARD.encode(r#"{"alg":"ecdsa","kid":"../x","signature":"MEUC","digest":"SHA1"}"#);
        h.insert("x-ebay-signature", path.parse().unwrap());
        assert!(signature_header(&h).is_none(), "a kid goes into a URL path");
    }
}
