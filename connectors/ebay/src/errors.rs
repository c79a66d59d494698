//! Classifies every eBay answer once into a [`ConnectorError`]: the REST APIs'
//! `{"errors": [{errorId, domain, category, ...}]}`, the OAuth endpoint's
//! `{"error": "invalid_grant", ...}`, and HTML pages (maintenance, edge firewalls). Reasons
//! carry a status and an error id, never a body (messages echo order ids and parameters).

use crate::wire::{ErrorBody, OAuthError};
use ordersync_sdk::ConnectorError;
use ordersync_sdk::error::parse_retry_after;
use reqwest::header::HeaderMap;

/// "Too many requests": the daily call quota of the app (or a burst limit) is used up.
pub const TOO_MANY_REQUESTS: i64 = 2001;
/// "Invalid order ID": eBay's answer for an order that is not the seller's or does not exist.
pub const INVALID_ORDER_ID: i64 = 32100;

/// What the merchant must do after `invalid_grant`: the refresh token is dead for good.
pub const REVOKED: &str = "the eBay authorization was revoked or expired (invalid_grant); the merchant must reconnect the eBay account";

/// Whether a body is an HTML page rather than JSON (eBay's maintenance page, a WAF block).
pub fn is_html(headers: &HeaderMap, body: &[u8]) -> bool {
    let typed = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().contains("text/html"));
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    typed || first == Some(&b'<')
}

/// The first `errorId` of an eBay error body.
pub fn error_id(body: &[u8]) -> Option<i64> {
    serde_json::from_slice::<ErrorBody>(body)
        .ok()?
        .errors
        .iter()
        .find_map(|e| e.error_id)
}

/// Classifies a non-2xx answer of the Fulfillment API or the token endpoint.
pub fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ConnectorError {
    let retry_after = parse_retry_after(headers.get("retry-after"));
    if is_html(headers, body) {
        return match status {
            429 => ConnectorError::RateLimited { retry_after },
            500..=599 => ConnectorError::Retriable {
                reason: format!("http {status} with an HTML page (eBay maintenance?)"),
                retry_after,
            },
            401 => ConnectorError::auth("http 401 with an HTML page"),
            // An edge firewall's block page is not an answer about our credentials.
            _ => ConnectorError::permanent(format!(
                "http {status} with an HTML page (blocked by a firewall or proxy?)"
            )),
        };
    }
    if let Some(code) = serde_json::from_slice::<OAuthError>(body)
        .ok()
        .and_then(|e| e.error)
    {
        return oauth_error(status, &code);
    }
    let id = error_id(body);
    let with_id = |what: &str| match id {
        Some(id) => format!("{what} (errorId {id})"),
        None => what.to_string(),
    };
    match (status, id) {
        (429, _) | (_, Some(TOO_MANY_REQUESTS)) => ConnectorError::RateLimited { retry_after },
        (401, _) => ConnectorError::auth(with_id("http 401: eBay rejected the access token")),
        (403, _) => ConnectorError::auth(with_id(
            "http 403: access denied (the authorization lacks the sell.fulfillment scope?)",
        )),
        (404, _) | (400, Some(INVALID_ORDER_ID)) => ConnectorError::NotFound,
        _ => ConnectorError::from_status(status, retry_after, with_id(&format!("http {status}"))),
    }
}

/// The token endpoint's RFC 6749 errors. Only a known code is named.
fn oauth_error(status: u16, code: &str) -> ConnectorError {
    match code {
        "invalid_grant" => ConnectorError::auth(REVOKED),
        "invalid_client" => ConnectorError::auth(
            "the eBay app's client_id/client_secret were rejected (invalid_client)",
        ),
        "invalid_scope" => ConnectorError::auth(
            "the eBay authorization does not cover sell.fulfillment.readonly (invalid_scope); reconnect",
        ),
        "unauthorized_client" => {
            ConnectorError::auth("the eBay app may not use this grant (unauthorized_client)")
        }
        "temporarily_unavailable" | "server_error" => {
            ConnectorError::retriable(format!("token endpoint http {status} ({code})"))
        }
        _ => ConnectorError::from_status(status, None, format!("token endpoint http {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ordersync_sdk::ErrorClass;

    fn class(status: u16, body: &str) -> ErrorClass {
        parse_error(status, &HeaderMap::new(), body.as_bytes()).class()
    }

    #[test]
    fn rest_errors() {
        let quota = r#"{"errors":[{"errorId":2001,"domain":"ACCESS","category":"REQUEST","message":"Too many requests."}]}"#;
        assert_eq!(class(429, quota), ErrorClass::RateLimited);
        assert_eq!(
            class(401, r#"{"errors":[{"errorId":1001}]}"#),
            ErrorClass::Auth
        );
        assert_eq!(
            class(403, r#"{"errors":[{"errorId":1100}]}"#),
            ErrorClass::Auth
        );
        assert_eq!(class(404, ""), ErrorClass::NotFound);
        assert_eq!(
            class(400, r#"{"errors":[{"errorId":32100}]}"#),
            ErrorClass::NotFound
        );
        assert_eq!(
            class(500, r#"{"errors":[{"errorId":30500}]}"#),
            ErrorClass::Retriable
        );
        let e = parse_error(
            400,
            &HeaderMap::new(),
            br#"{"errors":[{"errorId":31100,"message":"Invalid limit: canary@customer.test"}]}"#,
        );
        assert_eq!(e.class(), ErrorClass::Permanent);
        assert!(e.to_string().contains("31100") && !e.to_string().contains("canary"));
    }

    #[test]
    fn oauth_errors_and_html() {
        let e = parse_error(
            400,
            &HeaderMap::new(),
            br#"{"error":"invalid_grant","error_description":"the provided authorization refresh token is invalid or was issued to another client"}"#,
        );
        assert_eq!(e.class(), ErrorClass::Auth);
        assert!(e.to_string().contains("reconnect"));
        assert_eq!(
            class(401, r#"{"error":"invalid_client"}"#),
            ErrorClass::Auth
        );
        let page = "<!DOCTYPE html><html><body>eBay is down for maintenance</body></html>";
        assert_eq!(class(503, page), ErrorClass::Retriable);
        assert_eq!(class(403, page), ErrorClass::Permanent);
        assert_eq!(class(200, page), ErrorClass::Permanent);
    }
}
