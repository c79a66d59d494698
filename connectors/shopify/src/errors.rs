//! Classifies every Shopify answer once into a [`ConnectorError`]. Reasons carry a status or an
//! error code, never a response body (bodies may echo buyer data).

use crate::wire::{Cost, Extensions, GqlError, GqlResponse};
use ordersync_sdk::ConnectorError;
use ordersync_sdk::error::parse_retry_after;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

impl Cost {
    /// How long until the bucket holds `needed` points (None when it already does).
    pub fn wait_for(&self, needed: f64) -> Option<Duration> {
        let t = &self.throttle_status;
        let missing = needed - t.currently_available;
        if missing.is_nan() || missing <= 0.0 || t.restore_rate.is_nan() || t.restore_rate <= 0.0 {
            return None;
        }
        let secs = (missing / t.restore_rate).min(600.0);
        Some(Duration::from_secs_f64(secs))
    }

    /// The wait before retrying a throttled query: its requested cost must be back in the bucket.
    pub fn throttled_wait(&self) -> Duration {
        self.requested_query_cost
            .and_then(|c| self.wait_for(c))
            .unwrap_or(Duration::from_secs(1))
    }
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    #[serde(default)]
    errors: Option<serde_json::Value>,
    #[serde(default)]
    extensions: Option<Extensions>,
}

/// Classifies a non-2xx HTTP answer of any Shopify endpoint.
pub fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ConnectorError {
    let envelope: Option<ErrorEnvelope> = serde_json::from_slice(body).ok();
    let retry_after = parse_retry_after(headers.get("retry-after"));
    match status {
        429 => {
            // Prefer the bucket arithmetic when the body carries it; then Retry-After; then 1 s.
            let from_cost = envelope
                .as_ref()
                .and_then(|e| e.extensions.as_ref())
                .and_then(|x| x.cost)
                .map(|c| c.throttled_wait());
            ConnectorError::RateLimited {
                retry_after: Some(from_cost.or(retry_after).unwrap_or(Duration::from_secs(1))),
            }
        }
        400 if envelope
            .as_ref()
            .and_then(|e| e.errors.as_ref())
            .and_then(|e| e.as_str())
            .is_none()
            && body_has(body, b"invalid_grant") =>
        {
            ConnectorError::auth("refresh token rejected (invalid_grant)")
        }
        401 => ConnectorError::auth("http 401: invalid or expired access token"),
        403 => ConnectorError::auth("http 403: access denied (missing scope or protected data)"),
        _ => ConnectorError::from_status(status, retry_after, format!("http {status}")),
    }
}

fn body_has(body: &[u8], needle: &[u8]) -> bool {
    body.windows(needle.len()).any(|w| w == needle)
}

/// Shopify's single-query maximum when an answer does not say (`extensions.maxCost`).
pub const DEFAULT_MAX_QUERY_COST: f64 = 1000.0;

/// A GraphQL answer, classified.
#[derive(Debug)]
pub enum Answer<T> {
    Data {
        data: T,
        cost: Option<Cost>,
    },
    /// The query asks for more points than one query may cost (`MAX_COST_EXCEEDED`), or more
    /// than the bucket can ever hold (a `THROTTLED` whose requested cost exceeds
    /// `maximumAvailable`): the same query will never pass, a smaller one will. Not an error
    /// of the connection; the caller shrinks the query.
    TooCostly {
        requested: f64,
        limit: f64,
    },
}

/// A non-2xx GraphQL answer that says the query can never fit (a 429 whose requested cost
/// exceeds the bucket): `(requested, limit)`. Other non-2xx answers go through [`parse_error`].
pub fn too_costly_status(status: u16, body: &[u8]) -> Option<(f64, f64)> {
    if status != 429 {
        return None;
    }
    let cost = serde_json::from_slice::<ErrorEnvelope>(body)
        .ok()?
        .extensions?
        .cost?;
    match too_big_for_bucket::<()>(&cost)? {
        Answer::TooCostly { requested, limit } => Some((requested, limit)),
        Answer::Data { .. } => None,
    }
}

/// Classifies the body of a 2xx GraphQL answer. Errors name a code only.
pub fn graphql_answer<T: DeserializeOwned>(body: &[u8]) -> Result<Answer<T>, ConnectorError> {
    let parsed: GqlResponse<T> = serde_json::from_slice(body).map_err(|e| {
        ConnectorError::permanent(format!(
            "malformed GraphQL response ({})",
            if e.is_eof() {
                "truncated"
            } else {
                "unexpected shape"
            }
        ))
    })?;
    let cost = parsed.extensions.and_then(|x| x.cost);
    if let Some(errors) = parsed.errors.filter(|e| !e.is_empty()) {
        if let Some(t) = too_costly(&errors, cost.as_ref()) {
            return Ok(t);
        }
        return Err(graphql_errors(&errors, cost.as_ref()));
    }
    let data = parsed
        .data
        .ok_or_else(|| ConnectorError::permanent("GraphQL response without data"))?;
    Ok(Answer::Data { data, cost })
}

fn too_costly<T>(errors: &[GqlError], cost: Option<&Cost>) -> Option<Answer<T>> {
    for e in errors {
        let Some(x) = &e.extensions else { continue };
        match x.code.as_deref() {
            Some("MAX_COST_EXCEEDED") => {
                let requested = x
                    .cost
                    .as_ref()
                    .and_then(serde_json::Value::as_f64)
                    .or(cost.and_then(|c| c.requested_query_cost))
                    .filter(|c| c.is_finite() && *c > 0.0)?;
                let limit = x
                    .max_cost
                    .as_ref()
                    .and_then(serde_json::Value::as_f64)
                    .filter(|m| m.is_finite() && *m > 0.0)
                    .unwrap_or(DEFAULT_MAX_QUERY_COST);
                return Some(Answer::TooCostly { requested, limit });
            }
            Some("THROTTLED") => return cost.and_then(too_big_for_bucket),
            _ => {}
        }
    }
    None
}

fn too_big_for_bucket<T>(c: &Cost) -> Option<Answer<T>> {
    let requested = c.requested_query_cost?;
    let max = c.throttle_status.maximum_available;
    (max.is_finite() && max > 0.0 && requested > max).then_some(Answer::TooCostly {
        requested,
        limit: max,
    })
}

/// Classifies the `errors` of an HTTP-200 GraphQL answer.
pub fn graphql_errors(errors: &[GqlError], cost: Option<&Cost>) -> ConnectorError {
    let codes: Vec<&str> = errors
        .iter()
        .filter_map(|e| e.extensions.as_ref()?.code.as_deref())
        .collect();
    if codes.contains(&"THROTTLED") {
        return ConnectorError::RateLimited {
            retry_after: Some(cost.map_or(Duration::from_secs(1), Cost::throttled_wait)),
        };
    }
    if codes.contains(&"ACCESS_DENIED") || codes.contains(&"UNAUTHENTICATED") {
        return ConnectorError::auth("graphql ACCESS_DENIED");
    }
    if codes.contains(&"INTERNAL_SERVER_ERROR") {
        return ConnectorError::retriable("graphql INTERNAL_SERVER_ERROR");
    }
    // Codes are an enum-like vocabulary; keep only safe characters so nothing else leaks.
    let code = codes
        .first()
        .map(|c| {
            c.chars()
                .filter(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
                .take(64)
                .collect::<String>()
        })
        .unwrap_or_else(|| "no code".into());
    ConnectorError::permanent(format!("graphql error ({code})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ThrottleStatus;
    use ordersync_sdk::ErrorClass;

    fn cost(avail: f64, requested: f64) -> Cost {
        Cost {
            requested_query_cost: Some(requested),
            actual_query_cost: None,
            throttle_status: ThrottleStatus {
                maximum_available: 2000.0,
                currently_available: avail,
                restore_rate: 100.0,
            },
        }
    }

    #[test]
    fn throttled_wait_is_bucket_arithmetic() {
        assert_eq!(cost(2.0, 502.0).throttled_wait(), Duration::from_secs(5));
        assert_eq!(cost(900.0, 502.0).wait_for(502.0), None);
    }

    #[test]
    fn statuses() {
        let h = HeaderMap::new();
        assert_eq!(parse_error(401, &h, b"{}").class(), ErrorClass::Auth);
        assert_eq!(parse_error(404, &h, b"{}").class(), ErrorClass::NotFound);
        assert_eq!(parse_error(503, &h, b"").class(), ErrorClass::Retriable);
        assert_eq!(
            parse_error(400, &h, br#"{"error":"invalid_grant"}"#).class(),
            ErrorClass::Auth
        );
        let e = parse_error(
            400,
            &h,
            br#"{"errors":"canary@customer.test cannot be passed"}"#,
        );
        assert_eq!(e.class(), ErrorClass::Permanent);
        assert!(!e.to_string().contains("canary"));
        let mut h = HeaderMap::new();
        h.insert("retry-after", "2.0".parse().unwrap());
        assert_eq!(
            parse_error(429, &h, b"").retry_after(),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn max_cost_exceeded_is_a_shrink_signal_not_an_error() {
        let body = br#"{"errors":[{"message":"Query cost is 23002, which exceeds the single query max cost limit (1000).","extensions":{"code":"MAX_COST_EXCEEDED","cost":23002,"maxCost":1000}}]}"#;
        match graphql_answer::<serde_json::Value>(body).unwrap() {
            Answer::TooCostly { requested, limit } => {
                assert_eq!((requested, limit), (23002.0, 1000.0));
            }
            other => panic!("{other:?}"),
        }
        // A throttled query bigger than the whole bucket can never pass either.
        let body = br#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],"extensions":{"cost":{"requestedQueryCost":947,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":600,"currentlyAvailable":600,"restoreRate":50}}}}"#;
        assert!(matches!(
            graphql_answer::<serde_json::Value>(body).unwrap(),
            Answer::TooCostly { limit: 600.0, .. }
        ));
        assert_eq!(too_costly_status(429, body), Some((947.0, 600.0)));
        assert_eq!(too_costly_status(200, body), None);
        // An ordinary throttle stays a rate limit.
        let body = br#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],"extensions":{"cost":{"requestedQueryCost":500,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":600,"currentlyAvailable":100,"restoreRate":50}}}}"#;
        let err = graphql_answer::<serde_json::Value>(body).unwrap_err();
        assert_eq!(err.class(), ErrorClass::RateLimited);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(8)));
    }

    #[test]
    fn graphql_codes() {
        let e: Vec<GqlError> =
            serde_json::from_str(r#"[{"message":"Throttled","extensions":{"code":"THROTTLED"}}]"#)
                .unwrap();
        let err = graphql_errors(&e, Some(&cost(0.0, 100.0)));
        assert_eq!(err.class(), ErrorClass::RateLimited);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
        let e: Vec<GqlError> =
            serde_json::from_str(r#"[{"message":"canary@customer.test is bad"}]"#).unwrap();
        let err = graphql_errors(&e, None);
        assert_eq!(err.class(), ErrorClass::Permanent);
        assert!(!err.to_string().contains("canary"));
    }
}
