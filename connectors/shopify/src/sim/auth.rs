//! Access tokens and the OAuth token endpoint (`POST /admin/oauth/access_token`).

use super::SimState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ordersync_sdk::sim::{AccessCheck, Rotation, TokenBook, TokenPolicy};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// OAuth-issued tokens, plus the static-token rule of custom apps.
pub struct AuthState {
    book: TokenBook,
}

pub enum TokenCheck {
    Ok,
    Rejected,
}

impl AuthState {
    /// Access tokens live `ttl` sim-clock seconds; the previous refresh token stays valid
    /// until its successor is used (Shopify since 2026-08-28).
    pub fn new(ttl: i64) -> Self {
        Self {
            book: TokenBook::new(TokenPolicy {
                access_prefix: "shpat_oauth_",
                refresh_prefix: "shprt_",
                access_ttl_secs: ttl,
                refresh_ttl_secs: None,
                rotation: Rotation::UntilSuccessorUsed,
            }),
        }
    }

    pub fn check(&self, token: Option<&str>, now: i64, accepted: Option<&[String]>) -> TokenCheck {
        let Some(t) = token.filter(|t| !t.is_empty()) else {
            return TokenCheck::Rejected;
        };
        let ok = match self.book.check(t, now) {
            AccessCheck::Valid => true,
            AccessCheck::Expired => false,
            AccessCheck::Unknown => match accepted {
                Some(list) => list.iter().any(|a| a == t),
                None => t.starts_with("shpat_") && t.len() > "shpat_".len(),
            },
        };
        if ok {
            TokenCheck::Ok
        } else {
            TokenCheck::Rejected
        }
    }

    pub fn expire_all(&mut self, now: i64) -> usize {
        self.book.expire_all(now)
    }
}

#[derive(Deserialize)]
pub struct TokenRequest {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    grant_type: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
}

fn invalid(error: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
}

/// `{client_id, client_secret, code}` or `{…, grant_type: "refresh_token", refresh_token}`.
pub async fn access_token(
    State(s): State<Arc<SimState>>,
    _headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    // Shopify accepts JSON and form bodies; the sim takes JSON.
    let Ok(req) = serde_json::from_slice::<TokenRequest>(&body) else {
        return invalid("invalid_request");
    };
    if req.client_id.is_empty() || req.client_secret.is_empty() {
        return invalid("invalid_client");
    }
    let now = s.now();
    let mut auth = s.auth.lock().unwrap_or_else(|e| e.into_inner());
    let pair = match (req.grant_type.as_deref(), req.code, req.refresh_token) {
        (Some("refresh_token"), _, Some(rt)) => auth.book.refresh(&rt, now),
        (None | Some("authorization_code"), Some(code), _) if !code.is_empty() => {
            Some(auth.book.issue(now))
        }
        _ => return invalid("invalid_request"),
    };
    match pair {
        None => invalid("invalid_grant"),
        Some(p) => Json(json!({
            "access_token": p.access_token,
            "scope": "read_orders,read_all_orders",
            "expires_in": p.expires_in,
            "refresh_token": p.refresh_token,
            "refresh_token_expires_in": 90 * 86_400,
        }))
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_expire_and_static_rules_apply() {
        let mut a = AuthState::new(3600);
        let at = a.book.issue(100).access_token;
        assert!(at.starts_with("shpat_oauth_"));
        assert!(matches!(a.check(Some(&at), 200, None), TokenCheck::Ok));
        assert!(matches!(
            a.check(Some(&at), 3700, None),
            TokenCheck::Rejected
        ));
        assert!(matches!(a.check(Some("shpat_x"), 0, None), TokenCheck::Ok));
        assert!(matches!(
            a.check(Some("shpat_"), 0, None),
            TokenCheck::Rejected
        ));
        assert!(matches!(a.check(Some(""), 0, None), TokenCheck::Rejected));
        assert!(matches!(
            a.check(Some("nope"), 0, None),
            TokenCheck::Rejected
        ));
        let only = vec!["shpat_good".to_string()];
        assert!(matches!(
            a.check(Some("shpat_x"), 0, Some(&only)),
            TokenCheck::Rejected
        ));
        a.expire_all(200);
        assert!(matches!(
            a.check(Some(&at), 200, None),
            TokenCheck::Rejected
        ));
    }
}
