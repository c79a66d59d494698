//! A merchant's API tokens: rotate (create a new one, then revoke the old) and revoke. A token
//! is shown once, when it is made; only its hash is stored, and its id is the first 16 hex of
//! that hash (not secret: the token cannot be derived from it).

use super::admin::{Merchant, bearer, hash_token, new_token, now};
use super::extract::Path;
use super::{ApiError, ApiState};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
}

/// The id of the token this request came with.
fn current(headers: &HeaderMap) -> Option<String> {
    bearer(headers).map(|t| hash_token(t)[..16].to_string())
}

#[utoipa::path(post, path = "/tokens", tag = "tokens", responses((status = 201, description = "{id, api_token}: the new token, shown this once")), security(("bearer" = [])))]
async fn create_token(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let token = new_token();
    let hash = hash_token(&token);
    s.store.add_token(&m, &hash, now(&s)).await?;
    let id = hash[..16].to_string();
    s.store
        .audit(
            Some(&m),
            "merchant",
            "token.created",
            Some(&id),
            None,
            now(&s),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "api_token": token })),
    ))
}

#[utoipa::path(get, path = "/tokens", tag = "tokens", responses((status = 200, description = "{tokens: [{id, created_at, current}]}")), security(("bearer" = [])))]
async fn list_tokens(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let me = current(&headers);
    let tokens: Vec<Value> = s
        .store
        .list_tokens(&m)
        .await?
        .into_iter()
        .map(|(id, at)| json!({ "id": id, "created_at": at, "current": me.as_deref() == Some(id.as_str()) }))
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
