//! Sage's error answers: an array of `{"$severity", "$dataCode", "$message", "$source"}`.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub fn sage_error(status: StatusCode, errors: &[(&str, &str, &str)]) -> Response {
    let body: Vec<_> = errors
        .iter()
        .map(|(code, message, source)| {
            json!({"$severity": "error", "$dataCode": code, "$message": message, "$source": source})
        })
        .collect();
    (status, axum::Json(body)).into_response()
}

/// 422 `RecordInvalid` on one field.
pub fn invalid(source: &str, message: &str) -> Response {
    sage_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        &[("RecordInvalid", message, source)],
    )
}

pub fn not_found() -> Response {
    sage_error(
        StatusCode::NOT_FOUND,
        &[(
            "RecordNotFound",
            "The requested resource could not be found",
            "",
        )],
    )
}

pub fn unauthorized() -> Response {
    sage_error(
        StatusCode::UNAUTHORIZED,
        &[("Unauthorized", "The access token is invalid or expired", "")],
    )
}

pub fn too_many(retry_after: Option<u64>) -> Response {
    let mut r = sage_error(
        StatusCode::TOO_MANY_REQUESTS,
        &[("TooManyRequests", "Too many requests", "")],
    );
    if let Some(s) = retry_after {
        r.headers_mut().insert("retry-after", HeaderValue::from(s));
    }
    r
}

/// The validation error `/_sim/reject` answers with. Its message names the buyer, as a real
/// one can: a sink must never copy `$message`.
pub fn rejected() -> Response {
    sage_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        &[(
            "RecordInvalid",
            "Contact Canary Rejected cannot be used: the record is invalid",
            "contact_id",
        )],
    )
}
