//! `WC_REST_Authentication`: consumer key and secret as HTTP Basic or as `consumer_key` /
//! `consumer_secret` query parameters (the simulator stands for an HTTPS-terminated store),
//! then OAuth 1.0a one-legged signing, the way WooCommerce checks it for plain HTTP: the
//! query's parameters (last of repeated keys) without `oauth_signature`, sorted by key,
//! RFC 3986-encoded, joined `k=v` and encoded again, after `METHOD&encoded(URL)&`; HMAC-SHA1
//! or HMAC-SHA256 under `consumer_secret&`; timestamps within 15 minutes of the store's clock;
//! each nonce once.

use super::query::Params;
use super::wp;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Which keys the store has.
#[derive(Debug, Clone)]
pub enum Keys {
    /// Any `ck_<x>` whose secret is `cs_<x>` (simulators accept any credential unless a test
    /// configures one; the pairing lets OAuth signatures be checked and a wrong secret be
    /// refused).
    Paired,
    /// Exactly these `(consumer_key, consumer_secret)` pairs.
    Only(Vec<(String, String)>),
}

impl Keys {
    fn secret_of(&self, ck: &str) -> Option<String> {
        match self {
            Keys::Paired => ck
                .strip_prefix("ck_")
                .filter(|x| !x.is_empty())
                .map(|x| format!("cs_{x}")),
            Keys::Only(list) => list.iter().find(|(k, _)| k == ck).map(|(_, s)| s.clone()),
        }
    }
}

/// Used OAuth nonces by key, with their timestamps.
#[derive(Default)]
pub struct Nonces(Mutex<BTreeMap<String, Vec<(String, i64)>>>);

/// How a request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Basic,
    Query,
    OAuth,
}

fn err_secret() -> Box<Response> {
    let mut r = wp::error(
        401,
        "woocommerce_rest_authentication_error",
        "Consumer secret is invalid.",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(
            "Basic realm=\"WooCommerce API. Use a consumer key in the username field and a consumer secret in the password field.\"",
        ),
    );
    Box::new(r)
}

fn auth_error(m: &str) -> Box<Response> {
    Box::new(wp::error(401, "woocommerce_rest_authentication_error", m))
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v
        .strip_prefix("Basic ")
        .or_else(|| v.strip_prefix("basic "))?;
    let raw = STANDARD.decode(b64.trim()).ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (k, p) = s.split_once(':')?;
    Some((k.to_string(), p.to_string()))
}

/// `wc_rest_urlencode_rfc3986`: PHP's `rawurlencode` (everything but `A-Za-z0-9-_.~`).
pub fn rfc3986(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The OAuth 1.0a string to sign of a request (`check_oauth_signature`).
pub fn base_string(method: &str, url: &str, params: &BTreeMap<String, String>) -> String {
    let joined: Vec<String> = params
        .iter()
        .filter(|(k, _)| *k != "oauth_signature")
        .map(|(k, v)| rfc3986(&format!("{}={}", rfc3986(k), rfc3986(v))))
        .collect();
    format!("{method}&{}&{}", rfc3986(url), joined.join("%26"))
}

/// `base64(HMAC(secret&, base))` with SHA-1 or SHA-256; `None` for another method.
pub fn signature(method: &str, secret: &str, base: &str) -> Option<String> {
    let key = format!("{secret}&");
    let bytes = match method {
        "HMAC-SHA1" => {
            let mut m = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).ok()?;
            m.update(base.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        "HMAC-SHA256" => {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).ok()?;
            m.update(base.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        _ => return None,
    };
    Some(STANDARD.encode(bytes))
}

/// The OAuth parameters of the `Authorization: OAuth …` header.
fn header_params(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return m;
    };
    let Some(rest) = v.trim().strip_prefix("OAuth ") else {
        return m;
    };
    for part in rest.split(',') {
        if let Some((k, v)) = part.trim().split_once('=') {
            let v = v.trim().trim_matches('"');
            if k.starts_with("oauth_") {
                let decoded = url::form_urlencoded::parse(format!("x={v}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                m.insert(k.to_string(), decoded);
            }
        }
    }
    m
}

const OAUTH_PARAMS: [&str; 5] = [
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
];

/// Authenticates a request; `Err` is WooCommerce's answer. `single` picks the wording of the
/// unauthenticated 401 (a list or one resource).
#[allow(clippy::too_many_arguments)]
pub fn check(
    keys: &Keys,
    nonces: &Nonces,
    now: i64,
    method: &Method,
    url: &str,
    params: &Params,
    headers: &HeaderMap,
    single: bool,
    strip_authorization: bool,
) -> Result<Via, Box<Response>> {
    let unauthenticated = || {
        if single {
            wp::cannot_view()
        } else {
            wp::cannot_list()
        }
    };
    // Basic authentication: query parameters first, then the header.
    let (via, creds) = match (params.get("consumer_key"), params.get("consumer_secret")) {
        (Some(k), Some(s)) if !k.is_empty() && !s.is_empty() => {
            (Via::Query, Some((k.to_string(), s.to_string())))
        }
        // Apache with CGI/FastCGI drops the header before PHP sees it.
        _ if strip_authorization => (Via::Basic, None),
        _ => (
            Via::Basic,
            basic(headers).filter(|(k, s)| !k.is_empty() && !s.is_empty()),
        ),
    };
    if let Some((ck, cs)) = creds
        && let Some(secret) = keys.secret_of(&ck)
    {
        return if secret == cs {
            Ok(via)
        } else {
            Err(err_secret())
        };
    }
    // OAuth 1.0a.
    let mut all = params.flat();
    if !strip_authorization {
        all.extend(header_params(headers));
    }
    let present: Vec<&str> = OAUTH_PARAMS
        .iter()
        .copied()
        .filter(|k| all.get(*k).is_some_and(|v| !v.is_empty()))
        .collect();
    if present.is_empty() {
        return Err(Box::new(unauthenticated()));
    }
    if present.len() < OAUTH_PARAMS.len() {
        let missing: Vec<&str> = OAUTH_PARAMS
            .iter()
            .copied()
            .filter(|k| !present.contains(k))
            .collect();
        let m = if missing.len() == 1 {
            format!("Missing OAuth parameter {}", missing[0])
        } else {
            format!("Missing OAuth parameters {}", missing.join(", "))
        };
        return Err(Box::new(wp::error(
            401,
            "woocommerce_rest_authentication_missing_parameter",
            &m,
        )));
    }
    let get = |k: &str| all.get(k).cloned().unwrap_or_default();
    let Some(secret) = keys.secret_of(&get("oauth_consumer_key")) else {
        return Err(auth_error("Consumer key is invalid."));
    };
    let sig_method = get("oauth_signature_method");
    let base = base_string(method.as_str(), url, &all);
    let Some(expected) = signature(&sig_method, &secret, &base) else {
        return Err(auth_error(
            "Invalid signature - signature method is invalid.",
        ));
    };
    let given = get("oauth_signature").replace(' ', "+");
    if !constant_eq(expected.as_bytes(), given.as_bytes()) {
        return Err(auth_error(
            "Invalid signature - provided signature does not match.",
        ));
    }
    let ts: i64 = get("oauth_timestamp").parse().unwrap_or(i64::MIN);
    const WINDOW: i64 = 15 * 60;
    if ts < now - WINDOW || ts > now + WINDOW {
        return Err(auth_error("Invalid timestamp."));
    }
    let nonce = get("oauth_nonce");
    let mut used = nonces.0.lock().unwrap_or_else(|e| e.into_inner());
    let list = used.entry(get("oauth_consumer_key")).or_default();
    list.retain(|(_, t)| *t >= now - WINDOW);
    if list.iter().any(|(n, _)| *n == nonce) {
        return Err(auth_error("Invalid nonce - nonce has already been used."));
    }
    list.push((nonce, ts));
    Ok(Via::OAuth)
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_string_is_woocommerces() {
        let mut p = BTreeMap::new();
        p.insert("per_page".to_string(), "5".to_string());
        p.insert("oauth_consumer_key".to_string(), "ck_1".to_string());
        p.insert(
            "modified_after".to_string(),
            "2026-12-01T10:00:00".to_string(),
        );
        p.insert("oauth_signature".to_string(), "ignored".to_string());
        let b = base_string("GET", "http://127.0.0.1:8080/wp-json/wc/v3/orders", &p);
        assert_eq!(
            b,
            "GET&http%3A%2F%2F127.0.0.1%3A8080%2Fwp-json%2Fwc%2Fv3%2Forders&\
             modified_after%3D2026-12-01T10%253A00%253A00%26oauth_consumer_key%3Dck_1%26per_page%3D5"
        );
        assert!(signature("HMAC-SHA256", "cs_1", &b).is_some());
        assert!(signature("HMAC-SHA1", "cs_1", &b).is_some());
        assert!(signature("PLAINTEXT", "cs_1", &b).is_none());
    }

    /// Computed with the official Python client (`woocommerce` 3.0.0, `OAuth.generate_oauth_signature`).
    #[test]
    fn the_official_python_clients_signature_verifies() {
        let mut p = BTreeMap::new();
        for (k, v) in [
            ("per_page", "5"),
            ("status", "any"),
            ("oauth_consumer_key", "ck_test"),
            ("oauth_timestamp", "1796000000"),
            ("oauth_nonce", "7f3ab0f4a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6"),
            ("oauth_signature_method", "HMAC-SHA256"),
        ] {
            p.insert(k.to_string(), v.to_string());
        }
        let b = base_string("GET", "http://127.0.0.1:8080/wp-json/wc/v3/orders", &p);
        assert_eq!(
            signature("HMAC-SHA256", "cs_test", &b).as_deref(),
            Some("kwnhXxJg9ycGplhYuofZl4wpZZJtDjN+Z9AgGtIhd54=")
        );
    }

    #[test]
    fn paired_keys() {
        assert_eq!(Keys::Paired.secret_of("ck_abc").as_deref(), Some("cs_abc"));
        assert_eq!(Keys::Paired.secret_of("ck_"), None);
        assert_eq!(Keys::Paired.secret_of("abc"), None);
    }
}
