//! Extractors whose rejections answer the API's error envelope instead of axum's plain text.
//! Messages name the problem, never a value from the body (serde echoes offending strings,
//! which could be PII), except field names in "missing/unknown field" errors.

use super::ApiError;
use axum::extract::FromRequest;
use axum::extract::FromRequestParts;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// The field-level part of a serde message when it names only schema fields.
fn field_detail(text: &str) -> Option<&str> {
    let i = text
        .find("missing field")
        .or_else(|| text.find("unknown field"))?;
    let detail = &text[i..];
    // "unknown field `x`, expected one of ..." is safe; cut at the position suffix.
    Some(detail.split(" at line ").next().unwrap_or(detail))
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected Content-Type: application/json",
            ),
            JsonRejection::JsonSyntaxError(_) => ApiError::bad_request("malformed JSON body"),
            JsonRejection::JsonDataError(e) => {
                let text = e.body_text();
                ApiError::unprocessable(match field_detail(&text) {
                    Some(d) => format!("JSON body does not match the schema: {d}"),
                    None => {
                        "JSON body does not match the schema (a field has the wrong type or value)"
                            .into()
                    }
                })
            }
            JsonRejection::BytesRejection(_) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "request body could not be read (too large?)",
            ),
            _ => ApiError::bad_request("invalid request body"),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(_: QueryRejection) -> Self {
        ApiError::bad_request("invalid query string")
    }
}

impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        ApiError::bad_request("invalid path parameter")
    }
}

/// Unknown routes answer the envelope too.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route",
    )
}

/// Adds the statuses every route can answer to the OpenAPI document (the handlers list their
/// own): 401 behind a bearer token, 400/415/422 for bad bodies and queries, 503 without the
/// database.
pub struct CommonResponses;

impl utoipa::Modify for CommonResponses {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::response::Response as R;
        for item in api.paths.paths.values_mut() {
            let has_path_params = item.parameters.is_some();
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                let mut add = |code: &str, desc: &str| {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| R::new(desc).into());
                };
                if op.security.is_some() {
                    add("401", "missing or invalid bearer token");
                }
                if op.request_body.is_some() {
                    add("400", "malformed JSON body");
                    add("415", "Content-Type is not application/json");
                    add("422", "the body does not match the schema or is invalid");
                }
                if op.parameters.as_ref().is_some_and(|p| !p.is_empty()) || has_path_params {
                    add("400", "invalid path parameter or query string");
                }
                add("503", "database unavailable");
            }
        }
    }
}
