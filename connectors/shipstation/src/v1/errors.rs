//! Classifies every non-success V1 answer into a [`ConnectorError`], once.
//!
//! 400 `{Message, ModelState}` → Permanent naming the `ModelState` keys (field paths; their
//! texts can echo buyer data and are never copied); 401 → Auth; 403 → Auth (the plan lacks
//! API access); 404 → NotFound; 429 → RateLimited after `X-Rate-Limit-Reset`; 5xx (ASP.NET
//! `{Message, ExceptionMessage, …}`) and anything unreadable → Retriable.

use super::wire::ErrorBody;
use ordersync_sdk::ConnectorError;
use ordersync_sdk::error::parse_retry_after;
use reqwest::header::HeaderMap;
use std::time::Duration;

/// The `ModelState` key a refused update of a shipped or cancelled order carries.
pub const LOCK_KEY: &str = "apiOrder.orderStatus";

/// Why an update cannot reach a V1 order any more.
pub const LOCKED: &str = "the ShipStation V1 order is shipped or cancelled, and V1 locks such \
                          orders against updates: change it in ShipStation";

pub fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ConnectorError {
    let reset = headers
        .get("x-rate-limit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.clamp(1, 600)));
    match status {
        429 => ConnectorError::RateLimited {
            retry_after: parse_retry_after(headers.get("retry-after"))
                .or(reset)
                .or(Some(Duration::from_secs(1))),
        },
        401 => ConnectorError::auth("shipstation v1 401: API key or secret rejected"),
        403 => ConnectorError::auth("shipstation v1 403: the plan lacks API access"),
        404 => ConnectorError::NotFound,
        400 => {
            let keys = model_state_keys(body);
            if keys.iter().any(|k| k == LOCK_KEY) {
                ConnectorError::permanent(LOCKED)
            } else if keys.is_empty() {
                ConnectorError::permanent("shipstation v1 400: request refused")
            } else {
                ConnectorError::permanent(format!(
                    "shipstation v1 400: invalid {}",
                    keys.join(", ")
                ))
            }
        }
        _ => ConnectorError::from_status(status, reset, format!("shipstation v1 {status}")),
    }
}

/// The field paths of a `ModelState`, only those that look like paths (`apiOrder.shipTo`,
/// `apiOrders[0].items[1].sku`): a key is never free text.
pub fn model_state_keys(body: &[u8]) -> Vec<String> {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    parsed
        .model_state
        .unwrap_or_default()
        .into_keys()
        .filter(|k| {
            !k.is_empty()
                && k.len() <= 80
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._[]".contains(&b))
        })
        .take(8)
        .collect()
}

/// A failed row of `createorders`: its `errorMessage` is free text, so only a known meaning
/// is kept.
pub fn bulk_row_error(message: Option<&str>) -> ConnectorError {
    let m = message.unwrap_or("").to_ascii_lowercase();
    if m.contains("shipped") || m.contains("cancelled") || m.contains("locked") {
        ConnectorError::permanent(LOCKED)
    } else {
        ConnectorError::permanent("shipstation v1 refused the order (createorders row failed)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ordersync_sdk::ErrorClass;
    use reqwest::header::HeaderValue;

    fn class(status: u16, body: &str) -> ErrorClass {
        parse_error(status, &HeaderMap::new(), body.as_bytes()).class()
    }

    #[test]
    fn classes_and_reasons() {
        let bad = r#"{"Message":"The request is invalid.","ModelState":{"apiOrder.shipTo.street1":["1 Canary Street is not valid"],"bad key with spaces":["x"]}}"#;
        let e = parse_error(400, &HeaderMap::new(), bad.as_bytes());
        assert_eq!(e.class(), ErrorClass::Permanent);
        let s = e.to_string();
        assert!(
            s.contains("apiOrder.shipTo.street1") && !s.contains("Canary") && !s.contains("spaces"),
            "{s}"
        );
        let lock = r#"{"Message":"x","ModelState":{"apiOrder.orderStatus":["locked"]}}"#;
        assert!(
            parse_error(400, &HeaderMap::new(), lock.as_bytes())
                .to_string()
                .contains("locks")
        );
        assert_eq!(class(400, "<html>"), ErrorClass::Permanent);
        assert_eq!(class(401, ""), ErrorClass::Auth);
        assert_eq!(class(403, ""), ErrorClass::Auth);
        assert!(
            parse_error(403, &HeaderMap::new(), b"")
                .to_string()
                .contains("plan lacks API access")
        );
        assert_eq!(class(404, ""), ErrorClass::NotFound);
        assert_eq!(
            class(
                500,
                r#"{"Message":"An error has occurred.","ExceptionMessage":"Canary"}"#
            ),
            ErrorClass::Retriable
        );
        assert!(
            !parse_error(500, &HeaderMap::new(), b"Canary")
                .to_string()
                .contains("Canary")
        );
        assert_eq!(
            class(502, "<html>bad gateway</html>"),
            ErrorClass::Retriable
        );
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-reset", HeaderValue::from_static("17"));
        let e = parse_error(429, &h, b"");
        assert_eq!(e.class(), ErrorClass::RateLimited);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(17)));
        assert!(
            bulk_row_error(Some("Order TEST is shipped"))
                .to_string()
                .contains("locks")
        );
        assert!(
            !bulk_row_error(Some("1 Canary Street"))
                .to_string()
                .contains("Canary")
        );
    }
}
