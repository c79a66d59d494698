//! `POST /connect/token` of Xero's identity server: HTTP Basic client credentials and the
//! `refresh_token` grant. Refresh tokens rotate on every use; a used one stays valid for a
//! 30-minute grace (a lost answer can be retried), then `invalid_grant`.

use super::SimState;
use super::state::REFRESH_GRACE;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

fn oauth_error(code: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": code })),
    )
        .into_response()
}

fn client_ok(headers: &HeaderMap) -> bool {
    let Some(b64) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return false;
    };
    let text = String::from_utf8_lossy(&raw);
    matches!(text.split_once(':'), Some((id, secret)) if !id.is_empty() && !secret.is_empty())
}

pub async fn token(
    State(s): State<Arc<SimState>>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if !client_ok(&headers) {
        return oauth_error("invalid_client");
    }
    if f.get("grant_type").map(String::as_str) != Some("refresh_token") {
        return oauth_error("unsupported_grant_type");
    }
    let Some(rt) = f.get("refresh_token").filter(|t| !t.is_empty()) else {
        return oauth_error("invalid_request");
    };
    let now = s.now_secs();
    let mut d = s.data();
    let pair = if let Some(first) = d.seeds.get(rt).copied() {
        match first {
            Some(t) if now - t >= REFRESH_GRACE => None,
            _ => {
                d.seeds.insert(rt.clone(), Some(first.unwrap_or(now)));
                Some(d.tokens.issue(now))
            }
        }
    } else {
        d.tokens.refresh(rt, now)
    };
    let Some(p) = pair else {
        return oauth_error("invalid_grant");
    };
    d.refreshes += 1;
    axum::Json(json!({
        "id_token": null,
        "access_token": p.access_token,
        "expires_in": p.expires_in,
        "token_type": "Bearer",
        "refresh_token": p.refresh_token,
        "scope": "offline_access accounting.invoices accounting.contacts accounting.settings.read",
    }))
    .into_response()
}
