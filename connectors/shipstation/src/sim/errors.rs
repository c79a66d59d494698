//! V2 error answers: `{"request_id", "errors": [{"error_source", "error_type", "error_code",
//! "message"}]}` (spec `error_response_body`).

use super::SimState;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub fn v2_error(
    s: &SimState,
    status: StatusCode,
    error_type: &str,
    error_code: &str,
    message: &str,
) -> Response {
    let body = json!({
        "request_id": s.request_id(),
        "errors": [{
            "error_source": "ShipStation",
            "error_type": error_type,
            "error_code": error_code,
            "message": message,
        }],
    });
    (status, Json(body)).into_response()
}

pub fn not_found(s: &SimState, what: &str) -> Response {
    v2_error(
        s,
        StatusCode::NOT_FOUND,
        "validation",
        "invalid_identifier",
        &format!("{what} not found"),
    )
}

pub fn too_many(s: &SimState, retry_after: u64) -> Response {
    let mut r = v2_error(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "system",
        "rate_limit_exceeded",
        "You have exceeded the rate limit.",
    );
    r.headers_mut()
        .insert("retry-after", axum::http::HeaderValue::from(retry_after));
    r
}
