//! `POST /token` and what runs before every API route: the bearer check, `X-Business`, and
//! the per-business window.

use super::SimState;
use super::errors::{sage_error, too_many, unauthorized};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use ordersync_sdk::sim::AccessCheck;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// The business a request works on (set by [`gate`]).
#[derive(Clone)]
pub struct Business(pub String);

pub async fn gate(State(s): State<Arc<SimState>>, mut req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .unwrap_or("")
        .trim()
        .to_string();
    let now = s.now().unix_timestamp();
    if token.is_empty() || s.auth().book.check(&token, now) != AccessCheck::Valid {
        return unauthorized();
    }
    let business = match req
        .headers()
        .get("x-business")
        .and_then(|v| v.to_str().ok())
    {
        None => s.lead(),
        Some(b) if s.knows_business(b.trim()) => b.trim().to_string(),
        Some(_) => {
            return sage_error(
                StatusCode::FORBIDDEN,
                &[(
                    "AccessDenied",
                    "You do not have access to this business",
                    "X-Business",
                )],
            );
        }
    };
    let hit = s.count_request(&business);
    if !hit.admitted {
        s.core.count_throttled();
        return too_many(Some(hit.reset_secs));
    }
    req.extensions_mut().insert(Business(business));
    next.run(req).await
}

#[derive(Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    refresh_token: Option<String>,
    code: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn grant_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// `POST /token`: `refresh_token` rotates (the used one dies at once); `authorization_code`
/// issues a first pair for any non-empty code.
pub async fn token(
    State(s): State<Arc<SimState>>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let f = TokenForm {
        grant_type: f.get("grant_type").cloned(),
        refresh_token: f.get("refresh_token").cloned(),
        code: f.get("code").cloned(),
        client_id: f.get("client_id").cloned(),
        client_secret: f.get("client_secret").cloned(),
    };
    if f.client_id.as_deref().is_none_or(str::is_empty)
        || f.client_secret.as_deref().is_none_or(str::is_empty)
    {
        return grant_error("invalid_client", "Client authentication failed");
    }
    let now = s.now().unix_timestamp();
    let mut auth = s.auth();
    let pair = match f.grant_type.as_deref() {
        Some("refresh_token") => {
            let rt = f.refresh_token.unwrap_or_default();
            match auth.book.refresh(&rt, now) {
                Some(p) => Some(p),
                None => {
                    let issued_here = rt.starts_with(auth.book.policy().refresh_prefix);
                    let preauthorised = match &s.opts.refresh_tokens {
                        None => !rt.is_empty() && !issued_here,
                        Some(list) => list.iter().any(|t| t == &rt),
                    };
                    if preauthorised && auth.consumed.insert(rt) {
                        Some(auth.book.issue(now))
                    } else {
                        None
                    }
                }
            }
        }
        Some("authorization_code") if f.code.as_deref().is_some_and(|c| !c.is_empty()) => {
            Some(auth.book.issue(now))
        }
        _ => return grant_error("unsupported_grant_type", "The grant type is not supported"),
    };
    drop(auth);
    match pair {
        Some(p) => Json(json!({
            "access_token": p.access_token,
            "expires_in": p.expires_in,
            "token_type": "bearer",
            "refresh_token": p.refresh_token,
            "refresh_token_expires_in": super::state::REFRESH_TTL_SECS,
            "scope": "full_access",
            "requested_by_id": "sim-user",
        }))
        .into_response(),
        None => grant_error(
            "invalid_grant",
            "The refresh token is invalid, expired or already used",
        ),
    }
}
