//! Classifies every non-success AfterShip answer into a [`ConnectorError`], once.
//!
//! Body: `{"meta": {"code", "message", "type"}, "data": {}}`. `message` can echo what we sent
//! (a title, a customer), so only the numeric meta code and a fixed text of ours ever reach an
//! error.

use crate::wire::ErrorEnvelope;
use ordersync_sdk::error::parse_retry_after;
use ordersync_sdk::http::RateGate;
use ordersync_sdk::{ConnectorError, ErrorClass};
use reqwest::header::HeaderMap;
use std::time::Duration;
use time::OffsetDateTime;

/// `TRACKING_ALREADY_EXIST`: the (slug, tracking_number) pair is taken.
pub const ALREADY_EXISTS: i64 = 4003;

/// The meta code of an error body, if it has one.
pub fn meta_code(body: &[u8]) -> Option<i64> {
    serde_json::from_slice::<ErrorEnvelope>(body)
        .ok()?
        .meta
        .code
}

/// Our fixed text for the meta codes AfterShip documents as permanent (SDK error table).
fn permanent_text(code: i64) -> Option<&'static str> {
    Some(match code {
        4001 => "invalid JSON body",
        4005 => "invalid tracking number",
        4007 => "tracking_number is required",
        4008 => "a field value is invalid",
        4009 => "a required field is missing",
        4010 => "invalid slug",
        4011 => "a field the courier requires is missing",
        4012 => "courier cannot be detected or is not enabled on the account",
        4013 | 4016 => "retrack is not allowed",
        4017 => "invalid tracking number format",
        _ => return None,
    })
}

/// Turns a non-2xx answer into a classified error; `now` reads `X-RateLimit-Reset` (a Unix
/// time).
pub fn parse_error(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    now: OffsetDateTime,
) -> ConnectorError {
    let code = meta_code(body);
    let retry_after =
        parse_retry_after(headers.get("retry-after")).or_else(|| reset_in(headers, now));
    if status == 429 || code == Some(429) {
        return ConnectorError::RateLimited {
            retry_after: retry_after.or(Some(Duration::from_secs(1))),
        };
    }
    let named = |what: &str| match code {
        Some(c) => format!("aftership {status} meta {c}: {what}"),
        None => format!("aftership {status}: {what}"),
    };
    match (status, code) {
        (401, _) => ConnectorError::auth(named("invalid API key")),
        (403, _) => ConnectorError::auth(named("forbidden (plan or key scope)")),
        // 4015: the id names no tracking, the same as a missing one for us.
        (404, _) | (_, Some(4004 | 4015)) => ConnectorError::NotFound,
        (500..=599, _) => ConnectorError::Retriable {
            reason: named("server error"),
            retry_after,
        },
        (_, Some(c)) if permanent_text(c).is_some() => {
            ConnectorError::permanent(named(permanent_text(c).unwrap_or("rejected")))
        }
        (_, Some(ALREADY_EXISTS)) => ConnectorError::permanent(named("tracking already exists")),
        _ => ConnectorError::from_status(status, retry_after, named("rejected")),
    }
}

/// With nothing left of an endpoint's per-second allowance, its gate waits for the reset
/// instead of spending a request on a certain 429.
pub fn observe_rate_headers(headers: &HeaderMap, gate: &RateGate, now: OffsetDateTime) {
    if header_i64(headers, "x-ratelimit-remaining") == Some(0)
        && let Some(d) = reset_in(headers, now)
    {
        gate.pause_for(d);
    }
}

/// `X-RateLimit-Reset` is a Unix timestamp (seconds): the wait until then, at least 100 ms and
/// at most ten minutes (a skewed clock must not stall a connection for long).
fn reset_in(headers: &HeaderMap, now: OffsetDateTime) -> Option<Duration> {
    let reset = header_i64(headers, "x-ratelimit-reset")?;
    let now_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).ok()?;
    let wait_ms = reset.checked_mul(1000)?.checked_sub(now_ms)?;
    let ms = u64::try_from(wait_ms.clamp(100, 600_000)).ok()?;
    Some(Duration::from_millis(ms))
}

fn header_i64(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// For tests: the class a status/body pair maps to.
pub fn class_of(status: u16, body: &[u8]) -> ErrorClass {
    parse_error(status, &HeaderMap::new(), body, OffsetDateTime::now_utc()).class()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn body(code: i64) -> Vec<u8> {
        format!(
            r#"{{"meta":{{"code":{code},"message":"Canary Buyer <buyer1@customer.test> is invalid","type":"BadRequest"}},"data":{{}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn classifies_by_status_and_meta_code() {
        for c in [4001, 4005, 4007, 4008, 4009, 4010, 4011, 4012, 4017] {
            let e = parse_error(400, &HeaderMap::new(), &body(c), OffsetDateTime::now_utc());
            assert_eq!(e.class(), ErrorClass::Permanent, "{c}");
            let s = e.to_string();
            assert!(s.contains(&c.to_string()), "{s}");
            assert!(!s.contains("Canary") && !s.contains("customer.test"), "{s}");
        }
        assert_eq!(class_of(401, &body(401)), ErrorClass::Auth);
        assert_eq!(class_of(403, &body(403)), ErrorClass::Auth);
        assert_eq!(class_of(404, &body(4004)), ErrorClass::NotFound);
        assert_eq!(class_of(400, &body(4004)), ErrorClass::NotFound);
        assert_eq!(class_of(429, &body(429)), ErrorClass::RateLimited);
        assert_eq!(class_of(500, &body(500)), ErrorClass::Retriable);
        assert_eq!(class_of(503, b"<html>busy</html>"), ErrorClass::Retriable);
        assert_eq!(class_of(400, b"{\"meta\": {\"co"), ErrorClass::Permanent);
        assert_eq!(class_of(400, &body(4003)), ErrorClass::Permanent);
    }

    #[test]
    fn reset_header_is_a_unix_time() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1700000003"));
        let e = parse_error(429, &h, &body(429), now);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        // A reset in the past still waits a little; a far one is capped.
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1600000000"));
        assert_eq!(
            parse_error(429, &h, b"", now).retry_after(),
            Some(Duration::from_millis(100))
        );
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1800000000"));
        assert_eq!(
            parse_error(429, &h, b"", now).retry_after(),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            parse_error(429, &HeaderMap::new(), b"", now).retry_after(),
            Some(Duration::from_secs(1))
        );
    }
}
