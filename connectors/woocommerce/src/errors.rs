//! Classifies every WooCommerce answer once into a [`ConnectorError`]. Reasons carry a status
//! and WordPress's error `code` (reduced to safe characters), never a body: bodies echo
//! addresses and notes.
//!
//! Hosts answer for WordPress as often as WordPress does: a WAF's HTML 403, a maintenance
//! page's 503 with `Retry-After`, a 429 from the host's limiter. A non-JSON error body is
//! never an auth verdict: an HTML 403 is retried with backoff, like a 5xx.

use crate::wire::WpError;
use ordersync_sdk::ConnectorError;
use ordersync_sdk::error::parse_retry_after;
use reqwest::header::HeaderMap;
use std::time::Duration;

/// Wait after a host's 429 that does not say how long.
const DEFAULT_429_WAIT: Duration = Duration::from_secs(2);

/// What every 401 says: the usual causes, in the order they are met.
pub const AUTH_HINT: &str = "check the consumer key and secret (read permission), or set \
     auth_in_query if the host strips the Authorization header";

/// An enum-like code from the platform, reduced to safe characters.
pub fn safe_code(c: Option<&str>) -> String {
    let s: String = c
        .unwrap_or("")
        .chars()
        .filter(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
        .take(64)
        .collect();
    if s.is_empty() { "no code".into() } else { s }
}

/// Whether a body is an HTML page (a WAF, a host's error page, WordPress's maintenance page)
/// rather than the API's JSON.
pub fn is_html(headers: &HeaderMap, body: &[u8]) -> bool {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ct.contains("text/html") {
        return true;
    }
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&[][..], |i| &body[i..]);
    start.first() == Some(&b'<')
}

fn wp_error(body: &[u8]) -> Option<WpError> {
    serde_json::from_slice::<WpError>(body)
        .ok()
        .filter(|e| e.code.is_some())
}

/// Classifies a non-2xx answer of any WooCommerce endpoint.
pub fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ConnectorError {
    let retry_after = parse_retry_after(headers.get("retry-after"));
    let wp = wp_error(body);
    let html = wp.is_none() && is_html(headers, body);
    let code = safe_code(wp.as_ref().and_then(|e| e.code.as_deref()));
    match status {
        429 => ConnectorError::RateLimited {
            retry_after: Some(retry_after.unwrap_or(DEFAULT_429_WAIT)),
        },
        401 => ConnectorError::auth(format!("http 401 {code}: {AUTH_HINT}")),
        403 if wp.is_some() => ConnectorError::auth(format!(
            "http 403 {code}: the key's user may not read orders"
        )),
        // No JSON: not WordPress speaking but a WAF or the host; it passes.
        403 => ConnectorError::Retriable {
            reason: if html {
                "http 403 HTML page instead of JSON (a WAF or the host blocked the request)".into()
            } else {
                "http 403 without a WordPress error body (a WAF or the host)".into()
            },
            retry_after,
        },
        404 if code.ends_with("_invalid_id") => ConnectorError::NotFound,
        404 if html || wp.is_none() => ConnectorError::permanent(
            "http 404 HTML page: no WordPress REST API at store_url/wp-json (check store_url and the permalinks)",
        ),
        404 if code == "rest_no_route" => ConnectorError::permanent(
            "http 404 rest_no_route: no WooCommerce REST API v3 (is WooCommerce active?)",
        ),
        400 => {
            let params: Vec<String> = wp
                .as_ref()
                .map(|e| {
                    e.param_names()
                        .iter()
                        .map(|k| safe_code(Some(k)))
                        .take(8)
                        .collect()
                })
                .unwrap_or_default();
            if params.is_empty() {
                ConnectorError::permanent(format!("http 400 {code}"))
            } else {
                ConnectorError::permanent(format!("http 400 {code} ({})", params.join(", ")))
            }
        }
        500..=599 | 408 | 425 => ConnectorError::Retriable {
            reason: if html {
                format!("http {status} HTML page (maintenance or a host error)")
            } else {
                format!("http {status} {code}")
            },
            retry_after,
        },
        _ => ConnectorError::from_status(status, retry_after, format!("http {status} {code}")),
    }
}

/// Classifies a 2xx body that is not the JSON it should be: the outcome is known (the request
/// was answered), the body cannot become a page, so the window is dead-lettered.
pub fn malformed(headers: &HeaderMap, body: &[u8], e: &serde_json::Error) -> ConnectorError {
    if is_html(headers, body) {
        return ConnectorError::permanent("HTML page instead of JSON in a 2xx answer");
    }
    ConnectorError::permanent(format!(
        "malformed JSON body ({} at line {} column {})",
        match e.classify() {
            serde_json::error::Category::Eof => "truncated",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "unexpected shape",
            serde_json::error::Category::Io => "io",
        },
        e.line(),
        e.column()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ordersync_sdk::ErrorClass;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn wordpress_codes_and_host_pages() {
        let none = HeaderMap::new();
        let e = parse_error(
            401,
            &none,
            br#"{"code":"woocommerce_rest_cannot_view","message":"Sorry, you cannot list resources.","data":{"status":401}}"#,
        );
        assert_eq!(e.class(), ErrorClass::Auth);
        assert!(e.to_string().contains("auth_in_query"), "{e}");
        assert!(
            e.to_string().contains("woocommerce_rest_cannot_view"),
            "{e}"
        );
        let e = parse_error(
            403,
            &h(&[("content-type", "text/html; charset=UTF-8")]),
            b"<!DOCTYPE html><title>Attention Required! | Cloudflare</title>",
        );
        assert_eq!(e.class(), ErrorClass::Retriable);
        assert!(e.to_string().contains("HTML"), "{e}");
        let e = parse_error(
            503,
            &h(&[("retry-after", "600")]),
            b"<html>Briefly unavailable for scheduled maintenance.</html>",
        );
        assert_eq!(e.class(), ErrorClass::Retriable);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(600)));
        assert_eq!(
            parse_error(429, &none, b"").retry_after(),
            Some(DEFAULT_429_WAIT)
        );
        assert_eq!(
            parse_error(
                404,
                &none,
                br#"{"code":"woocommerce_rest_shop_order_invalid_id","message":"Invalid ID.","data":{"status":404}}"#
            )
            .class(),
            ErrorClass::NotFound
        );
        assert_eq!(
            parse_error(404, &none, b"<html>Not Found</html>").class(),
            ErrorClass::Permanent
        );
        let e = parse_error(
            400,
            &none,
            br#"{"code":"rest_invalid_param","message":"Invalid parameter(s): per_page","data":{"status":400,"params":{"per_page":"per_page must be between 1 (inclusive) and 100 (inclusive)"}}}"#,
        );
        assert_eq!(e.class(), ErrorClass::Permanent);
        assert!(
            e.to_string().contains("rest_invalid_param (per_page)"),
            "{e}"
        );
    }

    #[test]
    fn reasons_never_echo_bodies() {
        let none = HeaderMap::new();
        for (s, body) in [
            (
                400,
                &br#"{"code":"canary@customer.test","message":"Canary"}"#[..],
            ),
            (500, b"{\"message\":\"Canary Street 1\"}"),
            (403, b"<p>Canary</p>"),
        ] {
            let e = parse_error(s, &none, body);
            assert!(!e.to_string().contains("Canary"), "{e}");
            assert!(!e.to_string().contains("customer.test"), "{e}");
        }
    }
}
