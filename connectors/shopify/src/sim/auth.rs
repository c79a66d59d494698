//! Access tokens and the OAuth token endpoint (`POST /admin/oauth/access_token`).

use super::SimState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Default)]
pub struct AuthState {
    /// Issued access token → expiry (unix seconds, sim clock).
    issued: HashMap<String, i64>,
    /// Live refresh token → the one it replaced (which stays valid until this one is used).
    refresh: HashMap<String, Option<String>>,
    counter: u64,
}

pub enum TokenCheck {
    Ok,
    Rejected,
}

impl AuthState {
    pub fn check(&self, token: Option<&str>, now: i64, accepted: Option<&[String]>) -> TokenCheck {
        let Some(t) = token.filter(|t| !t.is_empty()) else {
            return TokenCheck::Rejected;
        };
        if let Some(exp) = self.issued.get(t) {
            return if now < *exp {
                TokenCheck::Ok
            } else {
                TokenCheck::Rejected
            };
        }
        let ok = match accepted {
            Some(list) => list.iter().any(|a| a == t),
            None => t.starts_with("shpat_") && t.len() > "shpat_".len(),
        };
        if ok {
            TokenCheck::Ok
        } else {
            TokenCheck::Rejected
        }
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{:06}{:016x}", self.counter, rand::random::<u64>())
    }

    /// Issues an access + refresh pair; `replaced` is the refresh token that was just used.
    fn issue(&mut self, now: i64, ttl: i64, replaced: Option<String>) -> (String, String) {
        let at = self.fresh("shpat_oauth_");
        let rt = self.fresh("shprt_");
        self.issued.insert(at.clone(), now + ttl);
        self.refresh.insert(rt.clone(), replaced);
        (at, rt)
    }

    /// Uses a refresh token: it rotates; the token it had replaced is now dead.
    fn redeem(&mut self, rt: &str, now: i64, ttl: i64) -> Option<(String, String)> {
        let predecessor = self.refresh.get(rt)?.clone();
        if let Some(p) = predecessor {
            self.refresh.remove(&p);
        }
        Some(self.issue(now, ttl, Some(rt.to_string())))
    }

    pub fn expire_all(&mut self, now: i64) -> usize {
        for exp in self.issued.values_mut() {
            *exp = (*exp).min(now);
        }
        self.issued.len()
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
    if let Some(f) = s.core.on_request("oauth_access_token") {
        return super::faults::respond(&s, f).await;
    }
    // Shopify accepts JSON and form bodies; the sim takes JSON.
    let Ok(req) = serde_json::from_slice::<TokenRequest>(&body) else {
        return invalid("invalid_request");
    };
    if req.client_id.is_empty() || req.client_secret.is_empty() {
        return invalid("invalid_client");
    }
    let now = s.now();
    let ttl = s.opts.token_ttl_secs;
    let mut auth = s.auth.lock().unwrap_or_else(|e| e.into_inner());
    let pair = match (req.grant_type.as_deref(), req.code, req.refresh_token) {
        (Some("refresh_token"), _, Some(rt)) => auth.redeem(&rt, now, ttl),
        (None | Some("authorization_code"), Some(code), _) if !code.is_empty() => {
            Some(auth.issue(now, ttl, None))
        }
        _ => return invalid("invalid_request"),
    };
    match pair {
        None => invalid("invalid_grant"),
        Some((at, rt)) => Json(json!({
            "access_token": at,
            "scope": "read_orders,read_all_orders",
            "expires_in": ttl,
            "refresh_token": rt,
            "refresh_token_expires_in": 90 * 86_400,
        }))
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_rotation_keeps_the_previous_token_until_the_new_one_is_used() {
        let mut a = AuthState::default();
        let (_, r0) = a.issue(0, 3600, None);
        let (_, r1) = a.redeem(&r0, 0, 3600).unwrap();
        // r0 still valid: r1 not used yet (a lost response must not lock the app out).
        let (_, r1b) = a.redeem(&r0, 0, 3600).unwrap();
        let (_, _r2) = a.redeem(&r1b, 0, 3600).unwrap();
        assert!(
            a.redeem(&r0, 0, 3600).is_none(),
            "r0 dies once its successor is used"
        );
        assert!(a.redeem(&r1, 0, 3600).is_some());
    }

    #[test]
    fn tokens_expire_and_static_rules_apply() {
        let mut a = AuthState::default();
        let (at, _) = a.issue(100, 3600, None);
        assert!(matches!(a.check(Some(&at), 200, None), TokenCheck::Ok));
        assert!(matches!(
            a.check(Some(&at), 3700, None),
            TokenCheck::Rejected
        ));
        assert!(matches!(a.check(Some("shpat_x"), 0, None), TokenCheck::Ok));
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
