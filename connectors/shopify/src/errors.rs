//! Classifies every Shopify answer once into a [`ConnectorError`]. Reasons carry a status or an
//! error code, never a response body (bodies may echo buyer data).

use ordersync_sdk::ConnectorError;
use ordersync_sdk::error::parse_retry_after;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use std::time::Duration;

/// `extensions.cost` of a GraphQL answer.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    #[serde(default)]
    pub requested_query_cost: Option<f64>,
    #[serde(default)]
    pub actual_query_cost: Option<f64>,
    pub throttle_status: ThrottleStatus,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStatus {
    pub maximum_available: f64,
    pub currently_available: f64,
    pub restore_rate: f64,
}

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

/// One entry of a GraphQL `errors` array (the message is never copied into our errors).
#[derive(Debug, Clone, Deserialize)]
pub struct GqlError {
    #[serde(default)]
    pub extensions: Option<GqlErrorExt>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GqlErrorExt {
    #[serde(default)]
    pub code: Option<String>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    #[serde(default)]
    errors: Option<serde_json::Value>,
    #[serde(default)]
    extensions: Option<Extensions>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Extensions {
    #[serde(default)]
    pub cost: Option<Cost>,
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
