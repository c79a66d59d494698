//! Classifies every non-success ShipStation V2 answer into a [`ConnectorError`], once.
//!
//! Body: `{"request_id", "errors": [{"error_source", "error_type", "error_code", "message"}]}`.
//! `message` may echo buyer data (an address), so only `error_code` ever reaches our errors.

use crate::wire::ErrorBody;
use ordersync_sdk::error::parse_retry_after;
use ordersync_sdk::http::RateGate;
use ordersync_sdk::{ConnectorError, ErrorClass};
use reqwest::header::HeaderMap;
use std::time::Duration;

/// Turns a non-2xx answer into a classified error.
pub fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ConnectorError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let first = parsed.errors.first();
    let error_type = first.and_then(|e| e.error_type.as_deref()).unwrap_or("");
    let code = first
        .and_then(|e| e.error_code.as_deref())
        .filter(|c| is_code(c))
        .unwrap_or("unspecified");
    let reason = format!("shipstation {status} {code}");
    let retry_after =
        parse_retry_after(headers.get("retry-after")).or_else(|| reset_after(headers));
    if status == 429 || code == "rate_limit_exceeded" {
        return ConnectorError::RateLimited {
            retry_after: retry_after.or(Some(Duration::from_secs(1))),
        };
    }
    match (status, error_type) {
        (401 | 403, _) | (_, "security") => ConnectorError::auth(reason),
        (404, _) => ConnectorError::NotFound,
        (_, "system") => ConnectorError::Retriable {
            reason,
            retry_after,
        },
        (400..=499, "validation" | "business_rules" | "account_status" | "integrations") => {
            ConnectorError::permanent(reason)
        }
        _ => ConnectorError::from_status(status, retry_after, reason),
    }
}

/// Reads `X-Rate-Limit-*` from any answer: with nothing left in the window, the gate waits
/// until the window resets instead of spending a request on a certain 429.
pub fn observe_rate_headers(headers: &HeaderMap, gate: &RateGate) {
    let remaining = header_u64(headers, "x-rate-limit-remaining");
    if remaining == Some(0)
        && let Some(d) = reset_after(headers)
    {
        gate.pause_for(d);
    }
}

fn reset_after(headers: &HeaderMap) -> Option<Duration> {
    header_u64(headers, "x-rate-limit-reset").map(|s| Duration::from_secs(s.clamp(1, 600)))
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// A platform code is `snake_case` and short; anything else is not echoed.
fn is_code(c: &str) -> bool {
    !c.is_empty() && c.len() <= 48 && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// For tests: the class a status/body pair maps to.
pub fn class_of(status: u16, body: &[u8]) -> ErrorClass {
    parse_error(status, &HeaderMap::new(), body).class()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn body(t: &str, c: &str) -> Vec<u8> {
        format!(
            r#"{{"request_id":"x","errors":[{{"error_source":"ShipStation","error_type":"{t}","error_code":"{c}","message":"1 Canary Street is invalid"}}]}}"#
        )
        .into_bytes()
    }

    #[test]
    fn classifies_by_status_type_and_code() {
        assert_eq!(
            class_of(400, &body("validation", "invalid_field_value")),
            ErrorClass::Permanent
        );
        assert_eq!(
            class_of(400, &body("business_rules", "invalid_status")),
            ErrorClass::Permanent
        );
        assert_eq!(
            class_of(500, &body("system", "unspecified")),
            ErrorClass::Retriable
        );
        assert_eq!(
            class_of(400, &body("system", "unspecified")),
            ErrorClass::Retriable
        );
        assert_eq!(
            class_of(401, &body("security", "unauthorized")),
            ErrorClass::Auth
        );
        assert_eq!(
            class_of(400, &body("security", "forbidden")),
            ErrorClass::Auth
        );
        assert_eq!(
            class_of(429, &body("system", "rate_limit_exceeded")),
            ErrorClass::RateLimited
        );
        assert_eq!(
            class_of(404, &body("validation", "invalid_identifier")),
            ErrorClass::NotFound
        );
        assert_eq!(
            class_of(502, b"<html>bad gateway</html>"),
            ErrorClass::Retriable
        );
        assert_eq!(class_of(400, b"{\"errors\": [tru"), ErrorClass::Permanent);
    }

    #[test]
    fn reason_has_the_code_never_the_message() {
        let e = parse_error(
            400,
            &HeaderMap::new(),
            &body("validation", "invalid_address"),
        );
        let s = e.to_string();
        assert!(
            s.contains("invalid_address") && !s.contains("Canary"),
            "{s}"
        );
        let odd = parse_error(400, &HeaderMap::new(), &body("validation", "Canary Street"));
        assert!(!odd.to_string().contains("Canary"));
    }

    #[test]
    fn retry_after_and_reset_headers() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("7"));
        let e = parse_error(429, &h, b"");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-reset", HeaderValue::from_static("3"));
        assert_eq!(
            parse_error(429, &h, b"").retry_after(),
            Some(Duration::from_secs(3))
        );
    }
}
