//! Login with Amazon (`POST /auth/o2/token`, form-encoded) and the access-token check of the
//! API (`x-amz-access-token`). Access tokens live an hour on the simulator's clock; LWA
//! refresh tokens are reusable (the answer carries the same one). Any non-empty client
//! credentials are accepted unless the options name one pair; any refresh token of LWA's
//! shape (`Atzr|…`) is a seller's authorization unless revoked.

// Handlers answer early with the platform's own error response; boxing it gains nothing.
#![allow(clippy::result_large_err)]

use super::SimState;
use super::errors::{TOKEN_EXPIRED, TOKEN_INVALID, unauthorized};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ordersync_sdk::sim::{AccessCheck, Rotation, TokenBook, TokenPolicy};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub struct Auth {
    pub book: TokenBook,
    pub revoked: HashSet<String>,
}

impl Auth {
    pub fn new(ttl_secs: i64, rotate: bool) -> Self {
        Self {
            book: TokenBook::new(TokenPolicy {
                access_prefix: "Atza|",
                refresh_prefix: "Atzr|",
                access_ttl_secs: ttl_secs,
                refresh_ttl_secs: None,
                rotation: if rotate {
                    Rotation::SingleUse
                } else {
                    Rotation::Reusable
                },
            }),
            revoked: HashSet::new(),
        }
    }
}

fn lwa_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// `POST /auth/o2/token`.
pub async fn token(State(s): State<Arc<SimState>>, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let (client_id, client_secret) = (get("client_id"), get("client_secret"));
    let client_ok = match &s.opts.accepted_client {
        Some((id, secret)) => client_id == id && client_secret == secret,
        None => !client_id.is_empty() && !client_secret.is_empty(),
    };
    if !client_ok {
        return lwa_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    if get("grant_type") != "refresh_token" {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server",
        );
    }
    let rt = get("refresh_token");
    let now = s.now();
    let mut auth = s.auth.lock().unwrap_or_else(|e| e.into_inner());
    if rt.is_empty() || !rt.starts_with("Atzr|") || auth.revoked.contains(rt) {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The request has an invalid grant parameter : refresh_token",
        );
    }
    let pair = match auth.book.refresh(rt, now) {
        Some(p) => p,
        // An authorization granted outside this simulator (the demo's, a test's).
        None => auth.book.issue(now),
    };
    let refresh_token = if s.opts.rotate_refresh_tokens {
        auth.revoked.insert(rt.to_string());
        pair.refresh_token
    } else {
        rt.to_string()
    };
    axum::Json(json!({
        "access_token": pair.access_token,
        "refresh_token": refresh_token,
        "token_type": "bearer",
        "expires_in": pair.expires_in,
    }))
    .into_response()
}

/// The API's check of `x-amz-access-token`: 403 `Unauthorized` as Amazon answers it.
pub fn check(s: &SimState, headers: &HeaderMap) -> Result<(), Response> {
    let token = headers
        .get("x-amz-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let auth = s.auth.lock().unwrap_or_else(|e| e.into_inner());
    match auth.book.check(token, s.now()) {
        AccessCheck::Valid => Ok(()),
        AccessCheck::Expired => Err(unauthorized(TOKEN_EXPIRED)),
        AccessCheck::Unknown => Err(unauthorized(TOKEN_INVALID)),
    }
}
