//! What runs before every platform route: fault injection, `API-Key` check, the fixed-window
//! rate limit, and the `X-Rate-Limit-*` headers on the answer.

use super::SimState;
use super::errors::{too_many, v2_error};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use ordersync_sdk::sim::{FaultKind, fault_response};
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub async fn gate(
    State(s): State<Arc<SimState>>,
    path: MatchedPath,
    req: Request,
    next: Next,
) -> Response {
    let route = format!("{} {}", req.method(), path.as_str());
    match s.core.on_request(&route) {
        // ShipStation's own 429 shape, not the generic one.
        Some(FaultKind::TooMany) => return too_many(&s, 1),
        Some(kind) => return fault_response(kind).await,
        None => {}
    }
    let key = req
        .headers()
        .get("api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    let accepted = !key.is_empty()
        && s.opts
            .api_keys
            .as_ref()
            .is_none_or(|keys| keys.iter().any(|k| k == key));
    if !accepted {
        return v2_error(
            &s,
            StatusCode::UNAUTHORIZED,
            "security",
            "unauthorized",
            "The API key is invalid. Please see https://www.shipstation.com/docs/api/",
        );
    }
    let (remaining, reset) = s.count_request(key);
    let limit = s.opts.requests_per_minute;
    let mut resp = match remaining {
        None => {
            s.core.throttled.fetch_add(1, Ordering::Relaxed);
            too_many(&s, reset)
        }
        Some(_) => next.run(req).await,
    };
    let h = resp.headers_mut();
    h.insert("x-rate-limit-limit", HeaderValue::from(limit));
    h.insert(
        "x-rate-limit-remaining",
        HeaderValue::from(remaining.unwrap_or(0)),
    );
    h.insert("x-rate-limit-reset", HeaderValue::from(reset));
    resp
}
