//! Before every V1 route: Basic auth (`base64(api_key:api_secret)`), the plan check (403),
//! the per-pair fixed window, and the `X-Rate-Limit-*` headers on every answer.

use super::super::SimState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use std::sync::Arc;

/// `(api_key, api_secret)` from `Authorization: Basic …`.
fn credentials(req: &Request) -> Option<(String, String)> {
    let v = req.headers().get("authorization")?.to_str().ok()?;
    let b64 = v.strip_prefix("Basic ")?.trim();
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (k, s) = text.split_once(':')?;
    (!k.is_empty() && !s.is_empty()).then(|| (k.to_string(), s.to_string()))
}

pub async fn gate(State(s): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    let accepted = credentials(&req).filter(|(k, sec)| {
        s.opts
            .v1_credentials
            .as_ref()
            .is_none_or(|pairs| pairs.iter().any(|(pk, ps)| pk == k && ps == sec))
    });
    let Some((key, _)) = accepted else {
        // V1 answers a bad pair with a bare 401.
        return (StatusCode::UNAUTHORIZED, "401 Unauthorized").into_response();
    };
    if s.opts.v1_without_api_access.contains(&key) {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(
                serde_json::json!({"Message": "Authorization has been denied for this request."}),
            ),
        )
            .into_response();
    }
    let hit = s.count_v1_request(&key);
    let mut resp = if hit.admitted {
        next.run(req).await
    } else {
        s.core.count_throttled();
        (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(serde_json::json!({"Message": "Too Many Requests"})),
        )
            .into_response()
    };
    let h = resp.headers_mut();
    h.insert("x-rate-limit-limit", HeaderValue::from(hit.limit));
    h.insert("x-rate-limit-remaining", HeaderValue::from(hit.remaining));
    h.insert("x-rate-limit-reset", HeaderValue::from(hit.reset_secs));
    resp
}
