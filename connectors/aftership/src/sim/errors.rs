//! AfterShip error answers: `{"meta": {"code", "message", "type"}, "data": {}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub fn meta_error(status: StatusCode, code: u32, kind: &str, message: &str) -> Response {
    let body = json!({
        "meta": { "code": code, "message": message, "type": kind },
        "data": {},
    });
    (status, Json(body)).into_response()
}

pub fn unauthorized() -> Response {
    meta_error(
        StatusCode::UNAUTHORIZED,
        401,
        "Unauthorized",
        "Invalid API Key.",
    )
}

pub fn bad_request(code: u32, message: &str) -> Response {
    meta_error(StatusCode::BAD_REQUEST, code, "BadRequest", message)
}

pub fn not_found() -> Response {
    meta_error(
        StatusCode::NOT_FOUND,
        4004,
        "NotFound",
        "Tracking does not exist.",
    )
}

/// An unknown path or API version.
pub fn no_such_resource() -> Response {
    meta_error(
        StatusCode::NOT_FOUND,
        404,
        "NotFound",
        "The URI requested is invalid or the resource requested does not exist.",
    )
}

pub fn too_many() -> Response {
    meta_error(
        StatusCode::TOO_MANY_REQUESTS,
        429,
        "TooManyRequests",
        "You have exceeded the API call rate limit. Please retry again at X-RateLimit-Reset.",
    )
}
