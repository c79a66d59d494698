//! What runs before every platform route once the fault layer let a request through: the
//! `API-Key` check, the fixed-window rate limit, and the `X-Rate-Limit-*` headers on the
//! answer.

use super::SimState;
use super::errors::{too_many, v2_error};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

pub async fn gate(State(s): State<Arc<SimState>>, req: Request, next: Next) -> Response {
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
    let hit = s.count_request(key);
    let mut resp = if hit.admitted {
        next.run(req).await
    } else {
        s.core.count_throttled();
        too_many(&s, hit.reset_secs)
    };
    let h = resp.headers_mut();
    h.insert("x-rate-limit-limit", HeaderValue::from(hit.limit));
    h.insert("x-rate-limit-remaining", HeaderValue::from(hit.remaining));
    h.insert("x-rate-limit-reset", HeaderValue::from(hit.reset_secs));
    resp
}
