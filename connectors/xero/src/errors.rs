//! Classifies every non-success Xero answer into a [`ConnectorError`], once, and reads the
//! rate-limit headers of every answer.
//!
//! Validation messages echo what was sent (a contact's name, an invoice's reference), so they
//! never reach our errors: known messages map to fixed reasons, others to a count.

use crate::wire::{ErrorBody, ValidationError};
use ordersync_sdk::ConnectorError;
use ordersync_sdk::error::parse_retry_after;
use reqwest::header::HeaderMap;
use std::time::Duration;

/// The reason of a 401 whose `Detail` says `TokenExpired`: the client refreshes once.
pub const TOKEN_EXPIRED: &str = "xero 401 TokenExpired";

/// Known validation messages (matched case-insensitively on a fragment) → fixed reasons.
const KNOWN: &[(&str, &str)] = &[
    (
        "is already assigned to another contact",
        "Xero: the contact name is already used by another active contact",
    ),
    (
        "account code",
        "Xero: an account code is not valid for this document (check accounts in the config)",
    ),
    (
        "taxtype",
        "Xero: a tax type does not exist or cannot be used with its account (check tax_types)",
    ),
    (
        "tax type",
        "Xero: a tax type does not exist or cannot be used with its account (check tax_types)",
    ),
    (
        "currency",
        "Xero: the order's currency is not enabled in this organisation",
    ),
    (
        "lock date",
        "Xero: the document date is before the organisation's period lock date",
    ),
    (
        "must be unique",
        "Xero: the invoice number is already used (set invoice_prefix)",
    ),
    (
        "cannot be edited",
        "Xero: the document has payments or credit allocated and cannot be edited",
    ),
    (
        "not of valid status",
        "Xero: the document's status does not allow this change",
    ),
];

/// A PII-free reason for a list of validation errors.
pub fn validation_reason(errors: &[&ValidationError]) -> String {
    for e in errors {
        let m = e.message.to_lowercase();
        if let Some((_, reason)) = KNOWN.iter().find(|(frag, _)| m.contains(frag)) {
            return (*reason).to_string();
        }
    }
    format!("Xero validation failed ({} errors)", errors.len())
}

/// Turns a non-2xx answer into a classified error.
pub fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ConnectorError {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let retry_after = parse_retry_after(headers.get("retry-after"));
    match status {
        429 => {
            let problem = headers
                .get("x-rate-limit-problem")
                .and_then(|v| v.to_str().ok())
                .filter(|p| p.len() <= 16 && p.bytes().all(|b| b.is_ascii_lowercase()))
                .unwrap_or("unknown");
            tracing::debug!(problem, "Xero rate limit.");
            // The day cap answers hours; longer than a lease, so it goes back to the engine.
            ConnectorError::RateLimited {
                retry_after: retry_after.or(Some(Duration::from_secs(1))),
            }
        }
        400 => {
            let p = parsed.unwrap_or_default();
            let errs: Vec<&ValidationError> = p
                .elements
                .iter()
                .flat_map(|e| &e.validation_errors)
                .collect();
            if p.kind.as_deref() == Some("ValidationException") || !errs.is_empty() {
                ConnectorError::permanent(validation_reason(&errs))
            } else {
                ConnectorError::permanent("xero 400 bad request")
            }
        }
        401 => {
            let expired = parsed
                .and_then(|p| p.detail)
                .is_some_and(|d| d.contains("TokenExpired"));
            if expired {
                ConnectorError::auth(TOKEN_EXPIRED)
            } else {
                ConnectorError::auth("xero 401 unauthorized")
            }
        }
        403 => ConnectorError::auth(
            "xero 403: the organisation (tenant_id) is unknown or disconnected from the app",
        ),
        404 => ConnectorError::NotFound,
        _ => ConnectorError::from_status(status, retry_after, format!("xero {status}")),
    }
}

/// Limits Xero announces on every answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub minute_remaining: Option<u64>,
    pub day_remaining: Option<u64>,
    pub app_minute_remaining: Option<u64>,
}

pub fn limits(headers: &HeaderMap) -> Limits {
    Limits {
        minute_remaining: header_u64(headers, "x-minlimit-remaining"),
        day_remaining: header_u64(headers, "x-daylimit-remaining"),
        app_minute_remaining: header_u64(headers, "x-appminlimit-remaining"),
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ordersync_sdk::ErrorClass;
    use reqwest::header::HeaderValue;

    fn validation(msg: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "ErrorNumber": 10, "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [{"ValidationErrors": [{"Message": msg}]}]
        }))
        .unwrap()
    }

    #[test]
    fn classes_and_pii_free_reasons() {
        let h = HeaderMap::new();
        let e = parse_error(
            400,
            &h,
            &validation(
                "The contact name Canary Buyer is already assigned to another contact. The contact name must be unique across all active contacts.",
            ),
        );
        assert_eq!(e.class(), ErrorClass::Permanent);
        assert!(!e.to_string().contains("Canary"), "{e}");
        assert!(e.to_string().contains("contact name"));
        let e = parse_error(400, &h, &validation("Canary's note is odd"));
        assert_eq!(
            e.to_string(),
            "permanent: Xero validation failed (1 errors)"
        );
        assert_eq!(
            parse_error(500, &h, b"<html>").class(),
            ErrorClass::Retriable
        );
        assert_eq!(parse_error(503, &h, b"").class(), ErrorClass::Retriable);
        assert_eq!(parse_error(404, &h, b"").class(), ErrorClass::NotFound);
        assert_eq!(parse_error(403, &h, b"{}").class(), ErrorClass::Auth);
        let e = parse_error(
            401,
            &h,
            br#"{"Detail":"TokenExpired: token expired at 01/01/2026"}"#,
        );
        assert_eq!(
            e.to_string(),
            format!("authentication failed: {TOKEN_EXPIRED}")
        );
    }

    #[test]
    fn rate_limits_carry_retry_after() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("17"));
        h.insert("x-rate-limit-problem", HeaderValue::from_static("minute"));
        let e = parse_error(429, &h, b"");
        assert_eq!(e.class(), ErrorClass::RateLimited);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(17)));
        h.insert("x-daylimit-remaining", HeaderValue::from_static("0"));
        assert_eq!(limits(&h).day_remaining, Some(0));
    }
}
