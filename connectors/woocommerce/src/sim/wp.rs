//! WordPress's answers that are not orders: REST error bodies (`{"code", "message",
//! "data": {"status"}}`), `rest_invalid_param` with its per-parameter messages, and the HTML
//! pages hosts put in front of WordPress (a WAF's 403, the maintenance page's 503).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, json};

/// A WordPress REST error.
pub fn error(status: u16, code: &str, message: &str) -> Response {
    let s = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (
        s,
        axum::Json(json!({ "code": code, "message": message, "data": { "status": status } })),
    )
        .into_response();
    r.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// `rest_invalid_param`: every failed parameter with its message.
pub fn invalid_params(params: &[(String, String)]) -> Response {
    let names: Vec<&str> = params.iter().map(|p| p.0.as_str()).collect();
    let mut map = Map::new();
    let mut details = Map::new();
    for (k, m) in params {
        map.insert(k.clone(), json!(m));
        details.insert(
            k.clone(),
            json!({ "code": "rest_invalid_param", "message": m, "data": null }),
        );
    }
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({
            "code": "rest_invalid_param",
            "message": format!("Invalid parameter(s): {}", names.join(", ")),
            "data": { "status": 400, "params": map, "details": details },
        })),
    )
        .into_response()
}

/// The 401 of a request without (usable) credentials.
pub fn cannot_list() -> Response {
    error(
        401,
        "woocommerce_rest_cannot_view",
        "Sorry, you cannot list resources.",
    )
}

pub fn cannot_view() -> Response {
    error(
        401,
        "woocommerce_rest_cannot_view",
        "Sorry, you cannot view this resource.",
    )
}

/// A WAF's block page (Cloudflare-style): HTML, 403.
pub fn waf_page() -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/html; charset=UTF-8"), (header::CACHE_CONTROL, "no-store")],
        "<!DOCTYPE html>\n<html lang=\"en-US\"><head><title>Attention Required! | Cloudflare</title></head>\n\
         <body><h1>Sorry, you have been blocked</h1><p>You are unable to access this website.</p>\n\
         <p>Cloudflare Ray ID: 8c3f2a1b9d0e4f12</p></body></html>\n",
    )
        .into_response()
}

/// WordPress's maintenance page (`wp_maintenance()`): 503 with `Retry-After`.
pub fn maintenance_page(retry_after: u64) -> Response {
    let mut r = (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Maintenance</title></head>\n\
         <body><p>Briefly unavailable for scheduled maintenance. Check back in a minute.</p></body></html>\n",
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// WordPress's fatal-error answer of the REST API (recovery mode, WordPress ≥ 5.2).
pub fn critical_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(json!({
            "code": "internal_server_error",
            "message": "<p>There has been a critical error on this website.</p><p><a href=\"https://wordpress.org/documentation/article/faq-troubleshooting/\">Learn more about troubleshooting WordPress.</a></p>",
            "data": { "status": 500 },
            "additional_errors": [],
        })),
    )
        .into_response()
}

/// `rest_no_route`.
pub fn no_route() -> Response {
    error(
        404,
        "rest_no_route",
        "No route was found matching the URL and request method.",
    )
}
