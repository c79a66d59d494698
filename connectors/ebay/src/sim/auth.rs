//! eBay's OAuth token endpoint (`POST /identity/v1/oauth2/token`) and the user tokens the
//! Fulfillment API checks, as `ebay-oauth-nodejs-client` talks to them: Basic client
//! authentication, a form body, and the grants `refresh_token` (the connector's),
//! `authorization_code` (a new consent) and `client_credentials` (an application token,
//! which the Fulfillment API refuses: it needs a user token).
//!
//! Access tokens last 2 hours on the simulator's clock (the SDK's `TokenBook`). Refresh tokens
//! are not rotated (eBay's are reusable for about 18 months); any non-empty one is accepted
//! unless `SimOptions::accepted_refresh_tokens` says otherwise, until `/_sim/revoke` revokes
//! it (or all of them: a password change), after which eBay answers `invalid_grant`.

use super::SimState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use ordersync_sdk::sim::{AccessCheck, Rotation, TokenBook, TokenPolicy};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Every eBay OAuth scope starts so; anything else is `invalid_scope`.
const SCOPE_PREFIX: &str = "https://api.ebay.com/oauth/api_scope";
/// The scopes that let a user token read orders.
const FULFILLMENT_SCOPES: [&str; 2] = [
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly",
];

/// What an access token was issued for.
#[derive(Debug, Clone)]
struct Issued {
    client_id: String,
    user: bool,
    /// Its scopes cover the Fulfillment API (a grant without `scope` gets every consented
    /// scope, which the simulator takes to include it).
    fulfillment: bool,
}

pub struct AuthState {
    book: TokenBook,
    issued: HashMap<String, Issued>,
    /// Refresh tokens this simulator issued (authorization-code grants), with the epoch.
    refresh_epochs: HashMap<String, u64>,
    revoked: HashSet<String>,
    /// Raised by "revoke all": older refresh tokens (and unknown ones) die.
    epoch: u64,
    counter: u64,
}

/// Who a valid token belongs to.
pub enum Caller {
    User {
        client_id: String,
    },
    /// An application token, or a user token without a fulfillment scope.
    Forbidden,
    Rejected,
}

impl AuthState {
    pub fn new(ttl_secs: i64) -> Self {
        Self {
            book: TokenBook::new(TokenPolicy {
                access_prefix: "v^1.1#i^1#p^3#r^0#I^3#f^0#t^H4sIAAAAAAAA",
                refresh_prefix: "v^1.1#i^1#r^1#p^3#I^3#f^0#t^Ul4xMF8",
                access_ttl_secs: ttl_secs,
                refresh_ttl_secs: None,
                rotation: Rotation::Reusable,
            }),
            issued: HashMap::new(),
            refresh_epochs: HashMap::new(),
            revoked: HashSet::new(),
            epoch: 0,
            counter: 0,
        }
    }

    /// The caller of an `Authorization: Bearer` header.
    pub fn caller(&self, headers: &HeaderMap, now: i64) -> Caller {
        let Some(token) = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return Caller::Rejected;
        };
        match (self.book.check(token, now), self.issued.get(token)) {
            (AccessCheck::Valid, Some(i)) if i.user && i.fulfillment => Caller::User {
                client_id: i.client_id.clone(),
            },
            (AccessCheck::Valid, Some(_)) => Caller::Forbidden,
            _ => Caller::Rejected,
        }
    }

    /// Whether the bearer is a valid application token (client-credentials grant): what
    /// the Notification API's getPublicKey takes.
    pub fn is_app(&self, headers: &HeaderMap, now: i64) -> bool {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or_default();
        matches!(
            (self.book.check(token, now), self.issued.get(token)),
            (AccessCheck::Valid, Some(i)) if !i.user
        )
    }

    pub fn expire_all(&mut self, now: i64) -> usize {
        self.book.expire_all(now)
    }

    /// Revokes one refresh token, or every one issued so far (`None`).
    pub fn revoke(&mut self, token: Option<&str>) {
        match token {
            Some(t) => {
                self.revoked.insert(t.to_string());
            }
            None => self.epoch += 1,
        }
    }

    fn refresh_ok(&self, token: &str, accepted: Option<&[String]>) -> bool {
        if token.is_empty() || self.revoked.contains(token) {
            return false;
        }
        match self.refresh_epochs.get(token) {
            Some(e) => *e == self.epoch,
            None => self.epoch == 0 && accepted.is_none_or(|a| a.iter().any(|x| x == token)),
        }
    }

    fn access(
        &mut self,
        client_id: &str,
        user: bool,
        scope: Option<&str>,
        now: i64,
    ) -> (String, i64) {
        let p = self.book.issue(now);
        let fulfillment = scope.is_none_or(|s| {
            s.split_whitespace()
                .any(|x| FULFILLMENT_SCOPES.contains(&x))
        });
        self.issued.insert(
            p.access_token.clone(),
            Issued {
                client_id: client_id.to_string(),
                user,
                fulfillment,
            },
        );
        (p.access_token, p.expires_in)
    }

    fn new_refresh(&mut self) -> String {
        self.counter += 1;
        let t = format!(
            "v^1.1#i^1#r^1#p^3#I^3#f^0#t^Ul4xMF8{:06}{:016x}",
            self.counter,
            rand::random::<u64>()
        );
        self.refresh_epochs.insert(t.clone(), self.epoch);
        t
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// `Authorization: Basic base64(client_id:client_secret)`.
fn client(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let b64 = v
        .strip_prefix("Basic ")
        .or_else(|| v.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    (!id.is_empty() && !secret.is_empty()).then(|| (id.to_string(), secret.to_string()))
}

#[derive(Default)]
struct TokenForm {
    grant_type: Option<String>,
    refresh_token: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
}

/// Form fields, decoded (`ebay-oauth-nodejs-client` sends the refresh token unencoded; its
/// `#` and `^` are plain characters of a form body).
fn form(body: &[u8]) -> TokenForm {
    let mut f = TokenForm::default();
    for (k, v) in url::form_urlencoded::parse(body) {
        let slot = match k.as_ref() {
            "grant_type" => &mut f.grant_type,
            "refresh_token" => &mut f.refresh_token,
            "code" => &mut f.code,
            "redirect_uri" => &mut f.redirect_uri,
            "scope" => &mut f.scope,
            _ => continue,
        };
        *slot = Some(v.into_owned());
    }
    f
}

/// `POST /identity/v1/oauth2/token`.
pub async fn token(
    State(s): State<Arc<SimState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some((client_id, client_secret)) = client(&headers) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    };
    if let Some(allowed) = &s.opts.accepted_clients
        && !allowed
            .iter()
            .any(|(i, c)| *i == client_id && *c == client_secret)
    {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    }
    let form = form(&body);
    if let Some(scope) = &form.scope
        && scope
            .split_whitespace()
            .any(|sc| !sc.starts_with(SCOPE_PREFIX))
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client",
        );
    }
    let now = s.now_secs();
    let mut auth = s.auth.lock().unwrap_or_else(|e| e.into_inner());
    match form.grant_type.as_deref() {
        Some("refresh_token") => {
            let rt = form.refresh_token.unwrap_or_default();
            if !auth.refresh_ok(&rt, s.opts.accepted_refresh_tokens.as_deref()) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "the provided authorization refresh token is invalid or was issued to another client",
                );
            }
            let (at, ttl) = auth.access(&client_id, true, form.scope.as_deref(), now);
            Json(
                json!({ "access_token": at, "expires_in": ttl, "token_type": "User Access Token" }),
            )
            .into_response()
        }
        Some("authorization_code") => {
            if form.code.as_deref().is_none_or(str::is_empty)
                || form.redirect_uri.as_deref().is_none_or(str::is_empty)
            {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "the provided authorization grant code is invalid or was issued to another client",
                );
            }
            let (at, ttl) = auth.access(&client_id, true, form.scope.as_deref(), now);
            let rt = auth.new_refresh();
            Json(json!({
                "access_token": at,
                "expires_in": ttl,
                "refresh_token": rt,
                "refresh_token_expires_in": 47_304_000,
                "token_type": "User Access Token",
            }))
            .into_response()
        }
        Some("client_credentials") => {
            let (at, ttl) = auth.access(&client_id, false, form.scope.as_deref(), now);
            Json(json!({ "access_token": at, "expires_in": ttl, "token_type": "Application Access Token" }))
                .into_response()
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant type in request is not supported by the authorization server",
        ),
    }
}
