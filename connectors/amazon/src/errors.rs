//! Classifies every SP-API and LWA answer once into a [`ConnectorError`]. Reasons carry a
//! status and Amazon's error code, never a body: `details` may echo request values.

use crate::wire::{ErrorList, LwaError};
use ordersync_sdk::ConnectorError;
use ordersync_sdk::error::parse_retry_after;
use reqwest::header::HeaderMap;
use std::time::Duration;

/// A 403 for data the app may not read: v2026 needs no Restricted Data Token, but still the
/// restricted roles (developer docs, sources.md §3).
pub const MISSING_ROLE: &str = "http 403 Unauthorized: the app lacks a restricted role for the buyer and recipient data it requests \
     (Direct-to-Consumer Delivery for address and email; Tax Invoicing/Remittance for buyer info): \
     add the role to the app and have the seller re-authorize it";
pub const TOKEN_EXPIRED: &str = "http 403 Unauthorized: the access token has expired";
pub const TOKEN_REJECTED: &str =
    "http 403 Unauthorized: the access token is revoked, malformed or invalid";

/// Amazon's error codes are an enum-like vocabulary: keep safe characters only.
pub fn safe_code(c: &str) -> String {
    c.chars()
        .filter(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
        .take(64)
        .collect()
}

fn first_error(body: &[u8]) -> Option<(String, String)> {
    let list: ErrorList = serde_json::from_slice(body).ok()?;
    let e = list.errors.into_iter().next()?;
    Some((
        safe_code(e.code.as_deref().unwrap_or("")),
        e.details.unwrap_or_default().to_ascii_lowercase(),
    ))
}

/// Classifies a non-2xx answer of the Orders API. A 429 carries no `Retry-After`: the
/// caller fills in its bucket's refill time ([`ConnectorError::RateLimited`] without a hint).
pub fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ConnectorError {
    let retry_after = parse_retry_after(headers.get("retry-after"));
    let Some((code, details)) = first_error(body) else {
        // Not an SP-API error list: an HTML maintenance page, a WAF or proxy answer.
        return match status {
            429 => ConnectorError::RateLimited { retry_after },
            // An edge that blocks us is not a verdict on our credentials; try again later.
            401 | 403 => ConnectorError::Retriable {
                reason: format!("http {status} without an SP-API error body (edge or firewall)"),
                retry_after,
            },
            500..=599 => ConnectorError::Retriable {
                reason: format!("http {status} without an SP-API error body"),
                retry_after,
            },
            _ => ConnectorError::from_status(status, retry_after, format!("http {status}")),
        };
    };
    match status {
        429 => ConnectorError::RateLimited { retry_after },
        401 | 403 => {
            if details.contains("expired") {
                ConnectorError::auth(TOKEN_EXPIRED)
            } else if details.contains("revoked") || details.contains("malformed") {
                ConnectorError::auth(TOKEN_REJECTED)
            } else {
                // A valid token refused for the data asked (the connector always asks for
                // BUYER and RECIPIENT): the restricted role is missing.
                ConnectorError::auth(MISSING_ROLE)
            }
        }
        404 => ConnectorError::NotFound,
        _ => ConnectorError::from_status(
            status,
            retry_after,
            format!(
                "http {status} {}",
                if code.is_empty() { "(no code)" } else { &code }
            ),
        ),
    }
}

/// Whether a 400 says the pagination token is no longer valid (Amazon's tokens live 24 h).
pub fn is_expired_token_400(status: u16, body: &[u8]) -> bool {
    status == 400
        && first_error(body).is_some_and(|(code, details)| {
            code == "InvalidInput" && details.contains("token") && details.contains("expired")
        })
}

/// Classifies a non-2xx answer of the LWA token endpoint.
pub fn parse_lwa_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ConnectorError {
    let retry_after = parse_retry_after(headers.get("retry-after"));
    let code = serde_json::from_slice::<LwaError>(body)
        .ok()
        .and_then(|e| e.error)
        .map(|c| safe_code(&c))
        .unwrap_or_default();
    match (status, code.as_str()) {
        (_, "invalid_grant") => ConnectorError::auth(
            "LWA refused the refresh token (invalid_grant): the seller must re-authorize the app \
             (authorizations expire after 365 days)",
        ),
        (_, "invalid_client" | "unauthorized_client") => ConnectorError::auth(format!(
            "LWA refused the app's client credentials ({code}): check lwa_client_id and \
             lwa_client_secret (secrets are rotated every 180 days)"
        )),
        (429, _) => ConnectorError::RateLimited {
            retry_after: Some(retry_after.unwrap_or(Duration::from_secs(1))),
        },
        (500..=599, _) => ConnectorError::Retriable {
            reason: format!("LWA http {status}"),
            retry_after,
        },
        (401 | 403, _) => ConnectorError::auth(format!("LWA http {status}")),
        _ => ConnectorError::permanent(format!(
            "LWA http {status} ({})",
            if code.is_empty() { "no code" } else { &code }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ordersync_sdk::ErrorClass;

    fn err(code: &str, details: &str) -> Vec<u8> {
        serde_json::to_vec(
            &serde_json::json!({"errors":[{"code":code,"message":"m","details":details}]}),
        )
        .unwrap()
    }

    #[test]
    fn statuses_and_codes() {
        let h = HeaderMap::new();
        assert_eq!(
            parse_error(429, &h, &err("QuotaExceeded", "")).class(),
            ErrorClass::RateLimited
        );
        assert_eq!(
            parse_error(429, &h, &err("QuotaExceeded", "")).retry_after(),
            None
        );
        assert_eq!(
            parse_error(404, &h, &err("NotFound", "")).class(),
            ErrorClass::NotFound
        );
        assert_eq!(
            parse_error(500, &h, &err("InternalFailure", "")).class(),
            ErrorClass::Retriable
        );
        assert_eq!(
            parse_error(503, &h, &err("ServiceUnavailable", "")).class(),
            ErrorClass::Retriable
        );
        let e = parse_error(
            400,
            &h,
            &err("InvalidInput", "canary@customer.test is not valid"),
        );
        assert_eq!(e.class(), ErrorClass::Permanent);
        assert_eq!(e.to_string(), "permanent: http 400 InvalidInput");
        let expired = parse_error(
            403,
            &h,
            &err("Unauthorized", "The access token you provided has expired."),
        );
        assert_eq!(
            expired.to_string(),
            format!("authentication failed: {TOKEN_EXPIRED}")
        );
        let role = parse_error(
            403,
            &h,
            &err("Unauthorized", "missing role for the requested data"),
        );

        assert!(role.to_string().contains("Direct-to-Consumer Delivery"));
    }

    #[test]
    fn html_pages_are_classified_not_parsed() {
        let h = HeaderMap::new();
        let page = b"<html><body>Service Unavailable</body></html>";
        assert_eq!(parse_error(503, &h, page).class(), ErrorClass::Retriable);
        let waf = parse_error(403, &h, b"<html>Request blocked</html>");
        assert_eq!(waf.class(), ErrorClass::Retriable);
        assert_eq!(parse_error(400, &h, page).class(), ErrorClass::Permanent);
    }

    #[test]
    fn expired_pagination_tokens_are_recognised() {
        assert!(is_expired_token_400(
            400,
            &err("InvalidInput", "The pagination token has expired.")
        ));
        assert!(!is_expired_token_400(
            400,
            &err("InvalidInput", "lastUpdatedBefore too late")
        ));
        assert!(!is_expired_token_400(
            403,
            &err("InvalidInput", "token expired")
        ));
    }

    #[test]
    fn lwa_errors() {
        let h = HeaderMap::new();
        let e = parse_lwa_error(
            400,
            &h,
            br#"{"error":"invalid_grant","error_description":"x"}"#,
        );
        assert_eq!(e.class(), ErrorClass::Auth);
        assert!(e.to_string().contains("re-authorize"));
        let e = parse_lwa_error(401, &h, br#"{"error":"invalid_client"}"#);
        assert!(e.to_string().contains("lwa_client_secret"));
        assert_eq!(
            parse_lwa_error(503, &h, b"<html>").class(),
            ErrorClass::Retriable
        );
        assert_eq!(
            parse_lwa_error(400, &h, br#"{"error":"invalid_request"}"#).class(),
            ErrorClass::Permanent
        );
    }
}
