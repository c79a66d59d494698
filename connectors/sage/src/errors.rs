//! Classifies every non-success Sage answer into a [`ConnectorError`], once.
//!
//! Sage's errors are an array `[{"$severity", "$dataCode", "$message", "$source"}]`. `$message`
//! can echo what was sent (a contact's name), so only `$dataCode` and `$source` (field paths)
//! ever reach our reasons, and only when they look like codes and paths.

use crate::wire::SageError;
use ordersync_sdk::ConnectorError;
use ordersync_sdk::error::parse_retry_after;
use reqwest::header::HeaderMap;

/// The reason of a 401 from the API: the client refreshes once on it.
pub const UNAUTHORIZED: &str = "sage 401 unauthorized";

pub fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ConnectorError {
    let retry_after = parse_retry_after(headers.get("retry-after"));
    match status {
        429 => ConnectorError::RateLimited { retry_after },
        401 => ConnectorError::auth(UNAUTHORIZED),
        403 => ConnectorError::auth(
            "sage 403 forbidden: check business_id and the user's access to that business",
        ),
        404 => ConnectorError::NotFound,
        500..=599 => ConnectorError::Retriable {
            reason: format!("sage {status}"),
            retry_after,
        },
        _ => {
            let what = describe(body);
            ConnectorError::from_status(status, retry_after, format!("sage {status} {what}"))
        }
    }
}

/// `RecordInvalid at invoice_lines.0.tax_amount; …` from an error array, codes and paths only.
pub fn describe(body: &[u8]) -> String {
    let errors: Vec<SageError> = serde_json::from_slice(body).unwrap_or_default();
    let mut parts: Vec<String> = Vec::new();
    for e in errors
        .iter()
        .filter(|e| e.severity.as_deref() != Some("warning"))
    {
        let code = e
            .data_code
            .as_deref()
            .filter(|c| is_code(c))
            .unwrap_or("unspecified");
        let part = match e.source.as_deref().filter(|s| is_path(s)) {
            Some(src) => format!("{code} at {src}"),
            None => code.to_string(),
        };
        if !parts.contains(&part) {
            parts.push(part);
        }
        if parts.len() == 5 {
            break;
        }
    }
    if parts.is_empty() {
        "request refused".to_string()
    } else {
        parts.join("; ")
    }
}

/// `RecordInvalid`, `AccessDenied`: a short CamelCase word.
fn is_code(c: &str) -> bool {
    !c.is_empty() && c.len() <= 48 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `invoice_lines.0.tax_rate_id`: field names and indexes, nothing else.
fn is_path(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 80
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'[' | b']')
        })
}

/// The token endpoint's error (`{"error": "invalid_grant", ...}`): a re-authorisation when
/// the grant is refused, an outage otherwise.
pub fn parse_token_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ConnectorError {
    #[derive(serde::Deserialize, Default)]
    struct E {
        #[serde(default)]
        error: Option<String>,
    }
    let e: E = serde_json::from_slice(body).unwrap_or_default();
    let code = e
        .error
        .filter(|c| c.len() <= 40 && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        .unwrap_or_else(|| "unspecified".into());
    match status {
        429 => ConnectorError::RateLimited {
            retry_after: parse_retry_after(headers.get("retry-after")),
        },
        500..=599 => ConnectorError::retriable(format!("sage token endpoint {status}")),
        _ if code == "invalid_grant" => ConnectorError::auth(
            "sage refused the refresh token (invalid_grant): re-authorise the connection",
        ),
        _ => ConnectorError::auth(format!("sage token endpoint {status} {code}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ordersync_sdk::ErrorClass;

    #[test]
    fn classes_and_pii_free_reasons() {
        let h = HeaderMap::new();
        let body = br#"[{"$severity":"error","$dataCode":"RecordInvalid","$message":"Canary Buyer is invalid","$source":"contact_id"},{"$severity":"error","$dataCode":"Canary Street","$message":"x","$source":"Canary Buyer"}]"#;
        let e = parse_error(422, &h, body);
        assert_eq!(e.class(), ErrorClass::Permanent);
        let s = e.to_string();
        assert!(s.contains("RecordInvalid at contact_id"), "{s}");
        assert!(!s.contains("Canary"), "{s}");
        assert_eq!(parse_error(401, &h, b"").class(), ErrorClass::Auth);
        assert_eq!(parse_error(404, &h, b"").class(), ErrorClass::NotFound);
        assert_eq!(
            parse_error(503, &h, b"<html>").class(),
            ErrorClass::Retriable
        );
        assert_eq!(parse_error(429, &h, b"").class(), ErrorClass::RateLimited);
        assert_eq!(parse_error(400, &h, b"[tru").class(), ErrorClass::Permanent);
        let t = parse_token_error(400, &h, br#"{"error":"invalid_grant"}"#);
        assert_eq!(t.class(), ErrorClass::Auth);
        assert_eq!(
            parse_token_error(502, &h, b"").class(),
            ErrorClass::Retriable
        );
    }

    #[test]
    fn retry_after_is_honoured() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(
            parse_error(429, &h, b"").retry_after(),
            Some(std::time::Duration::from_secs(7))
        );
    }
}
