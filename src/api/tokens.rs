//! A merchant's API tokens: rotate (create a new one, then revoke the old) and revoke. A token
//! is shown once, when it is made; only its hash is stored, and its id is the first 16 hex of
//! that hash (not secret: the token cannot be derived from it).
//!
//! Scopes: a token may carry `pii:read`, which reading a buyer's PII (a data-subject export)
//! needs. A token mints only tokens with scopes it holds itself, so only the operator (at
//! merchant creation, or `POST /merchants/{id}/tokens`) can first grant one.

use super::admin::{Merchant, Operator, bearer, hash_token, new_token, now};
use super::extract::Path;
use super::{ApiError, ApiState};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Reading buyers' PII through the API (`POST /dsr` with `kind: export`).
pub const PII_READ: &str = "pii:read";
/// Every scope a token can carry.
pub const SCOPES: &[&str] = &[PII_READ];

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
        .routes(routes!(mint_for_merchant))
}

/// The authenticated merchant and what its token may do.
pub struct Grant {
    pub merchant: String,
    /// Space-separated, as stored.
    pub scopes: String,
}

impl Grant {
    pub fn has(&self, scope: &str) -> bool {
        self.scopes.split(' ').any(|s| s == scope)
    }
}

impl FromRequestParts<ApiState> for Grant {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, s: &ApiState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        let (merchant, scopes) = s
            .store
            .token_grant(&hash_token(token))
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Grant { merchant, scopes })
    }
}

/// Known scopes, deduplicated and sorted, space-separated (the stored form).
pub(super) fn scope_string(requested: &[String]) -> Result<String, ApiError> {
    let mut v: Vec<&str> = Vec::with_capacity(requested.len());
    for r in requested {
        let Some(known) = SCOPES.iter().find(|k| **k == r.as_str()) else {
            return Err(ApiError::unprocessable(format!(
                "unknown scope (known: {})",
                SCOPES.join(", ")
            )));
        };
        v.push(known);
    }
    v.sort_unstable();
    v.dedup();
    Ok(v.join(" "))
}

fn scope_list(stored: &str) -> Vec<&str> {
    stored.split(' ').filter(|s| !s.is_empty()).collect()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewToken {
    /// Scopes of the new token (default: those of the token making it); each must be one the
    /// calling token holds.
    scopes: Option<Vec<String>>,
}

/// An optional JSON body: none (no `Content-Type`) is `None`; a bad one answers the envelope.
fn optional_body<T>(
    b: Result<Option<axum::Json<T>>, JsonRejection>,
) -> Result<Option<T>, ApiError> {
    Ok(b.map_err(ApiError::from)?.map(|axum::Json(t)| t))
}

/// The id of the token this request came with.
fn current(headers: &HeaderMap) -> Option<String> {
    bearer(headers).map(|t| hash_token(t)[..16].to_string())
}

/// Makes, stores and audits a token; answers `{id, api_token, scopes}`.
pub(super) async fn mint(
    s: &ApiState,
    merchant: &str,
    actor: &str,
    scopes: &str,
) -> Result<Value, ApiError> {
    let token = new_token();
    let hash = hash_token(&token);
    s.store
        .add_scoped_token(merchant, &hash, scopes, now(s))
        .await?;
    let id = hash[..16].to_string();
    let detail = (!scopes.is_empty()).then(|| format!("scopes: {scopes}"));
    s.store
        .audit(
            Some(merchant),
            actor,
            "token.created",
            Some(&id),
            detail.as_deref(),
            now(s),
        )
        .await?;
    Ok(json!({ "id": id, "api_token": token, "scopes": scope_list(scopes) }))
}

#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body(content = Option<NewToken>, description = "optional: the new token's scopes"), responses((status = 201, description = "{id, api_token, scopes}: the new token, shown this once"), (status = 403, description = "a scope the calling token does not hold")), security(("bearer" = [])))]
async fn create_token(
    State(s): State<ApiState>,
    g: Grant,
    body: Result<Option<axum::Json<NewToken>>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    // A rotation keeps what the old token could do; a narrower token is asked for.
    let scopes = match optional_body(body)?.and_then(|b| b.scopes) {
        None => g.scopes.clone(),
        Some(v) => {
            let wanted = scope_string(&v)?;
            if let Some(missing) = scope_list(&wanted).into_iter().find(|w| !g.has(w)) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    format!("this token does not hold the scope {missing} and cannot grant it"),
                ));
            }
            wanted
        }
    };
    let body = mint(&s, &g.merchant, "merchant", &scopes).await?;
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct OperatorToken {
    /// Scopes of the new token (default: none).
    #[serde(default)]
    scopes: Vec<String>,
}

#[utoipa::path(post, path = "/merchants/{id}/tokens", tag = "operator", params(("id" = String, Path, description = "merchant id")), request_body(content = Option<OperatorToken>, description = "optional: the new token's scopes"), responses((status = 201, description = "{id, api_token, scopes}: a token for that merchant, shown this once"), (status = 401, description = "not the operator"), (status = 404, description = "no such merchant, or it was terminated")), security(("bearer" = [])))]
async fn mint_for_merchant(
    State(s): State<ApiState>,
    _op: Operator,
    Path(m): Path<String>,
    body: Result<Option<axum::Json<OperatorToken>>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let scopes = scope_string(&optional_body(body)?.map(|b| b.scopes).unwrap_or_default())?;
    if !s.store.merchant_active(&m).await? {
        return Err(ApiError::not_found());
    }
    let body = mint(&s, &m, "operator", &scopes).await?;
    Ok((StatusCode::CREATED, Json(body)))
}

#[utoipa::path(get, path = "/tokens", tag = "tokens", responses((status = 200, description = "{tokens: [{id, created_at, scopes, current}]}")), security(("bearer" = [])))]
async fn list_tokens(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let me = current(&headers);
    let tokens: Vec<Value> = s
        .store
        .list_scoped_tokens(&m)
        .await?
        .into_iter()
        .map(|(id, at, scopes)| json!({ "id": id, "created_at": at, "scopes": scope_list(&scopes), "current": me.as_deref() == Some(id.as_str()) }))
        .collect();
    Ok(Json(json!({ "tokens": tokens })))
}

#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens", params(("id" = String, Path, description = "token id")), responses((status = 204, description = "revoked: it is refused from now on"), (status = 404, description = "no such token for this merchant")), security(("bearer" = [])))]
async fn revoke_token(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !s.store.revoke_token(&m, &id).await? {
        return Err(ApiError::not_found());
    }
    s.store
        .audit(
            Some(&m),
            "merchant",
            "token.revoked",
            Some(&id),
            None,
            now(&s),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
