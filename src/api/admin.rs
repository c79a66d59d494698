//! Admin API v1. A merchant token sees only its own merchant's objects: another merchant's id
//! answers 404, exactly like an id that does not exist.

use super::extract::{Json, Path, Query};
use super::{ApiError, ApiState};
use crate::connections::{self, Actor, ConnectionPatch, Lifecycle};
use crate::registry;
use crate::store::{ConnectionRow, OrderQuery, RetentionRow, RouteRow};
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use base64::Engine as _;
use ordersync_sdk::Secrets;
use ordersync_sdk::clock::to_micros;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The admin routes; their OpenAPI description is generated from the handlers below.
pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(create_merchant))
        .routes(routes!(terminate_merchant))
        .routes(routes!(list_kinds))
        .routes(routes!(create_connection, list_connections))
        .routes(routes!(get_connection, patch_connection, delete_connection))
        .routes(routes!(sync_connection))
        .routes(routes!(reconcile_connection))
        .routes(routes!(create_route))
        .routes(routes!(list_orders))
        .routes(routes!(get_order))
        .routes(routes!(order_deliveries))
        .routes(routes!(list_deliveries))
        .routes(routes!(replay_delivery))
        .routes(routes!(status))
        .routes(routes!(get_retention))
        .routes(routes!(put_retention))
        .routes(routes!(put_legal_hold))
        .routes(routes!(audit))
}

/// A fresh API token: 32 random bytes, URL-safe base64, prefixed for secret scanners.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "os_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Tokens are stored hashed only.
pub fn hash_token(t: &str) -> String {
    Sha256::digest(t.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The authenticated merchant.
pub struct Merchant(pub String);

impl FromRequestParts<ApiState> for Merchant {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, s: &ApiState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        s.store
            .merchant_by_token(&hash_token(token))
            .await?
            .map(Merchant)
            .ok_or_else(ApiError::unauthorized)
    }
}

/// The operator (`ORDERSYNC_ADMIN_TOKEN`).
pub struct Operator;

impl FromRequestParts<ApiState> for Operator {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, s: &ApiState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        let expected = s.admin_token_hash.as_deref().ok_or_else(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "operator API disabled: ORDERSYNC_ADMIN_TOKEN is not set",
            )
        })?;
        // Comparing fixed-length hashes keeps the comparison independent of the token's content.
        if hmac_eq(hash_token(token).as_bytes(), expected.as_bytes()) {
            Ok(Operator)
        } else {
            Err(ApiError::unauthorized())
        }
    }
}

fn hmac_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(super) fn now(s: &ApiState) -> i64 {
    to_micros(s.clock.now())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewMerchant {
    name: String,
    /// Scopes of the merchant's first token (default: none; `pii:read` allows exports).
    #[serde(default)]
    scopes: Vec<String>,
}

#[utoipa::path(post, path = "/merchants", tag = "operator", request_body = NewMerchant, responses((status = 201, description = "merchant created; body {id, api_token, scopes} (the token is shown once)"), (status = 401, description = "not the operator")), security(("bearer" = [])))]
async fn create_merchant(
    State(s): State<ApiState>,
    _op: Operator,
    Json(body): Json<NewMerchant>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::unprocessable("name must be 1-200 characters"));
    }
    let scopes = super::tokens::scope_string(&body.scopes)?;
    let id = uuid::Uuid::now_v7().to_string();
    let token = new_token();
    s.store
        .create_merchant_scoped(&id, name, &hash_token(&token), &scopes, now(&s))
        .await?;
    s.store
        .audit(
            Some(&id),
            "operator",
            "merchant.created",
            Some(&id),
            (!scopes.is_empty())
                .then(|| format!("token scopes: {scopes}"))
                .as_deref(),
            now(&s),
        )
        .await?;
    let scopes: Vec<&str> = scopes.split(' ').filter(|s| !s.is_empty()).collect();
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "api_token": token, "scopes": scopes })),
    ))
}

#[utoipa::path(delete, path = "/merchants/{id}", tag = "merchants", params(("id" = String, Path, description = "merchant id")), responses((status = 200, description = "{id, pii_deleted_orders, tenant_key_destroyed, data_deleted_after}: the merchant's PII is gone, its tokens and connections stopped; its other data goes after the grace period"), (status = 404, description = "no such merchant")), security(("bearer" = [])))]
async fn terminate_merchant(
    State(s): State<ApiState>,
    _op: Operator,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let at = now(&s);
    // PII, tokens and queued deliveries in one transaction; then the connections (so that
    // cached connectors are dropped) and the tenant key. A repeat finishes what a failed
    // call left.
    let pii = s
        .store
        .terminate_merchant(&id, at)
        .await?
        .ok_or_else(ApiError::not_found)?;
    for c in s.store.list_connections(&id).await? {
        if c.state != "deleted" {
            lifecycle(&s).delete(&id, Actor("operator"), &c.id).await?;
        }
    }
    let destroyed = s.crypto.destroy_tenant(&id, s.clock.now()).await?;
    let grace = s.retention.termination_grace_days.max(0);
    Ok(Json(json!({
        "id": id,
        "pii_deleted_orders": pii,
        "tenant_key_destroyed": destroyed,
        "data_deleted_after": at.saturating_add(grace.saturating_mul(86_400_000_000)),
    })))
}

#[utoipa::path(get, path = "/kinds", tag = "connections", responses((status = 200, description = "{kinds: [{kind, role, marketplace, summary, secrets, url_fields, webhooks, retention_cap_days, config_schema}]}"), (status = 401, description = "missing or invalid token")), security(("bearer" = [])))]
async fn list_kinds(_m: Merchant) -> Json<Value> {
    let kinds: Vec<Value> = registry::KINDS
        .iter()
        .map(|d| {
            json!({
                "kind": d.kind,
                "role": d.role(),
                "marketplace": d.marketplace,
                "summary": d.summary,
                "secrets": d.secrets.iter().map(|s| json!({ "name": s.name, "required": s.required, "doc": s.doc })).collect::<Vec<_>>(),
                "url_fields": d.url_fields,
                "webhooks": d.webhook.is_some(),
                "app_webhooks": d.app_webhook.is_some(),
                "retention_cap_days": d.retention_cap_days,
                "config_schema": (d.config_schema)(),
            })
        })
        .collect();
    Json(json!({ "kinds": kinds }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewConnection {
    kind: String,
    name: Option<String>,
    #[serde(default)]
    config: Value,
    #[serde(default)]
    secrets: BTreeMap<String, String>,
}

fn lifecycle(s: &ApiState) -> Lifecycle<'_> {
    Lifecycle {
        store: &s.store,
        crypto: &s.crypto,
        clock: &*s.clock,
        allow_private_endpoints: s.allow_private_endpoints,
        cache: Some(&s.engine.connectors),
    }
}

fn secrets_of(m: BTreeMap<String, String>) -> Secrets {
    m.into_iter().map(|(k, v)| (k, v.into())).collect()
}

fn connection_json(c: &ConnectionRow) -> Value {
    json!({
        "id": c.id, "kind": c.kind, "role": c.role, "name": c.name,
        "config": serde_json::from_str::<Value>(&c.config).unwrap_or(Value::Null),
        "has_secrets": c.secrets_ct.is_some(), "state": c.state,
        "last_pull_at": c.last_pull_at, "last_error": c.last_error, "created_at": c.created_at,
    })
}

#[utoipa::path(post, path = "/connections", tag = "connections", request_body = NewConnection, responses((status = 201, description = "{id}; secrets are encrypted and never returned"), (status = 422, description = "unknown kind, invalid config or missing secret")), security(("bearer" = [])))]
async fn create_connection(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    Json(body): Json<NewConnection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let row = lifecycle(&s)
        .create(
            &m,
            Actor("merchant"),
            connections::NewConnection {
                kind: body.kind,
                name: body.name,
                config: body.config,
                secrets: secrets_of(body.secrets),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": row.id }))))
}

async fn owned_connection(s: &ApiState, m: &str, id: &str) -> Result<ConnectionRow, ApiError> {
    match s.store.get_connection(id).await? {
        Some(c) if c.merchant_id == m && c.state != "deleted" => Ok(c),
        _ => Err(ApiError::not_found()),
    }
}

#[utoipa::path(get, path = "/connections", tag = "connections", responses((status = 200, description = "{connections: [...]} without secrets")), security(("bearer" = [])))]
async fn list_connections(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
) -> Result<Json<Value>, ApiError> {
    let rows = s.store.list_connections(&m).await?;
    Ok(Json(
        json!({ "connections": rows.iter().filter(|c| c.state != "deleted").map(connection_json).collect::<Vec<_>>() }),
    ))
}

#[utoipa::path(get, path = "/connections/{id}", tag = "connections", params(("id" = String, Path, description = "object id")), responses((status = 200, description = "the connection without secrets"), (status = 404, description = "no such connection for this merchant")), security(("bearer" = [])))]
async fn get_connection(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(connection_json(&owned_connection(&s, &m, &id).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PatchConnection {
    name: Option<String>,
    config: Option<Value>,
    secrets: Option<BTreeMap<String, String>>,
    /// `active` re-enables a connection (after re-authorisation), `paused` stops it.
    state: Option<String>,
}

#[utoipa::path(patch, path = "/connections/{id}", tag = "connections", params(("id" = String, Path, description = "object id")), request_body = PatchConnection, responses((status = 200, description = "updated connection"), (status = 404, description = "not found"), (status = 422, description = "invalid")), security(("bearer" = [])))]
async fn patch_connection(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    Path(id): Path<String>,
    Json(body): Json<PatchConnection>,
) -> Result<Json<Value>, ApiError> {
    let row = lifecycle(&s)
        .update(
            &m,
            Actor("merchant"),
            &id,
            ConnectionPatch {
                name: body.name,
                config: body.config,
                secrets: body.secrets.map(secrets_of),
                state: body.state,
            },
        )
        .await?;
    Ok(Json(connection_json(&row)))
}

#[utoipa::path(delete, path = "/connections/{id}", tag = "connections", params(("id" = String, Path, description = "object id")), responses((status = 204, description = "deleted; its secrets are erased"), (status = 404, description = "not found")), security(("bearer" = [])))]
async fn delete_connection(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    lifecycle(&s).delete(&m, Actor("merchant"), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/connections/{id}/sync", tag = "connections", params(("id" = String, Path, description = "object id")), responses((status = 202, description = "a pull is scheduled now"), (status = 404, description = "not found")), security(("bearer" = [])))]
async fn sync_connection(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let c = owned_connection(&s, &m, &id).await?;
    if c.role != "source" {
        return Err(ApiError::unprocessable(
            "only source connections are pulled",
        ));
    }
    s.store.schedule_pull(&id, now(&s)).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "scheduled": true }))))
}

#[utoipa::path(post, path = "/connections/{id}/reconcile", tag = "connections", params(("id" = String, Path, description = "object id")), responses((status = 202, description = "a reconciliation pass is due now: the source's orders of the last `reconcile_days` are compared with what is stored, and what the pull missed is backfilled (docs/reconciliation.md); progress and findings in `GET /status`"), (status = 404, description = "not found"), (status = 422, description = "not a source connection")), security(("bearer" = [])))]
async fn reconcile_connection(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let c = owned_connection(&s, &m, &id).await?;
    if c.role != "source" {
        return Err(ApiError::unprocessable(
            "only source connections are reconciled",
        ));
    }
    let at = now(&s);
    s.store.request_reconcile(&id, at).await?;
    // It costs the merchant's API budget: who asked is on record.
    s.store
        .audit(
            Some(&m),
            "merchant",
            "connection.reconcile_requested",
            Some(&id),
            None,
            at,
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "scheduled": true }))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewRoute {
    source_connection_id: String,
    sink_connection_id: String,
    /// Canonical order statuses to forward (`open`, `closed`, `cancelled`, `unknown`); default
    /// `["open", "closed"]`. Once an order went to the target, its later versions always follow.
    statuses: Option<Vec<String>>,
    /// From when orders are forwarded, by creation time: `"now"` (default: orders created after
    /// the route was made), `"all"` (all history) or an RFC 3339 time.
    start: Option<String>,
    /// Forward orders created in the last N days (instead of `start`), e.g. an accounting
    /// backfill.
    backfill_days: Option<u32>,
}

/// The route's start (µs) from its request, or a PII-free reason it is wrong.
fn route_start(body: &NewRoute, now: i64) -> Result<Option<i64>, String> {
    const DAY_US: i64 = 86_400_000_000;
    match (&body.start, body.backfill_days) {
        (Some(_), Some(_)) => Err("give either start or backfill_days, not both".into()),
        (None, Some(d)) => Ok(Some(
            now.saturating_sub(i64::from(d).saturating_mul(DAY_US)),
        )),
        (None, None) => Ok(Some(now)),
        (Some(s), None) => match s.as_str() {
            "now" => Ok(Some(now)),
            "all" => Ok(None),
            t => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map(|t| Some(ordersync_sdk::clock::to_micros(t)))
                .map_err(|_| "start is \"now\", \"all\" or an RFC 3339 time".into()),
        },
    }
}

#[utoipa::path(post, path = "/routes", tag = "routes", request_body = NewRoute, responses((status = 201, description = "{id}"), (status = 404, description = "a connection does not exist"), (status = 422, description = "not source → sink")), security(("bearer" = [])))]
async fn create_route(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    Json(body): Json<NewRoute>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let src = owned_connection(&s, &m, &body.source_connection_id).await?;
    let sink = owned_connection(&s, &m, &body.sink_connection_id).await?;
    if src.role != "source" || sink.role != "sink" {
        return Err(ApiError::unprocessable(
            "a route goes from a source connection to a sink connection",
        ));
    }
    let start_at = route_start(&body, now(&s)).map_err(ApiError::unprocessable)?;
    let statuses = match &body.statuses {
        None => None,
        Some(v) if v.is_empty() => {
            return Err(ApiError::unprocessable(
                "statuses names at least one status",
            ));
        }
        Some(v) => {
            if let Some(bad) = v
                .iter()
                .find(|s| !crate::engine::ALL_STATUSES.contains(&s.as_str()))
            {
                return Err(ApiError::unprocessable(format!(
                    "unknown order status {bad:?} (known: {})",
                    crate::engine::ALL_STATUSES.join(", ")
                )));
            }
            Some(serde_json::to_string(v).map_err(|_| ApiError::internal())?)
        }
    };
    let id = uuid::Uuid::now_v7().to_string();
    let route = RouteRow {
        id: id.clone(),
        merchant_id: m.clone(),
        source_connection_id: src.id,
        sink_connection_id: sink.id,
        created_at: now(&s),
        statuses,
        start_at,
    };
    s.store.insert_route(&route).await?;
    // Orders already stored that the route takes from its start (a history it asked for).
    let backfilled = crate::engine::backfill_route(&*s.store, &route, now(&s))
        .await
        .map_err(|e| {
            tracing::warn!(error = %format!("{e:#}"), "Route backfill failed.");
            ApiError::internal()
        })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "backfilled": backfilled })),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct OrdersParams {
    connection_id: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

fn order_json(o: &crate::store::OrderSummary) -> Value {
    let data: Value = serde_json::from_str(&o.data).unwrap_or(Value::Null);
    let mut v = serde_json::to_value(o).unwrap_or(Value::Null);
    v["order"] = data;
    v
}

#[utoipa::path(get, path = "/orders", tag = "orders", params(OrdersParams), responses((status = 200, description = "{orders, next_cursor}; no PII")), security(("bearer" = [])))]
async fn list_orders(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    Query(p): Query<OrdersParams>,
) -> Result<Json<Value>, ApiError> {
    let limit = p.limit.unwrap_or(100).clamp(1, 500);
    let rows = s
        .store
        .list_orders(&OrderQuery {
            merchant_id: m,
            connection_id: p.connection_id,
            status: p.status,
            after: p.cursor,
            limit,
        })
        .await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id.clone()))
        .flatten();
    Ok(Json(
        json!({ "orders": rows.iter().map(order_json).collect::<Vec<_>>(), "next_cursor": next }),
    ))
}

#[utoipa::path(get, path = "/orders/{id}", tag = "orders", params(("id" = String, Path, description = "object id")), responses((status = 200, description = "the order without PII"), (status = 404, description = "not found")), security(("bearer" = [])))]
async fn get_order(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let o = s
        .store
        .get_order(&m, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(order_json(&o)))
}

#[utoipa::path(get, path = "/orders/{id}/deliveries", tag = "orders", params(("id" = String, Path, description = "object id")), responses((status = 200, description = "{deliveries}"), (status = 404, description = "not found")), security(("bearer" = [])))]
async fn order_deliveries(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    s.store
        .get_order(&m, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(
        json!({ "deliveries": s.store.deliveries_of_order(&m, &id).await? }),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct DeliveriesParams {
    status: Option<String>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/deliveries", tag = "deliveries", params(DeliveriesParams), responses((status = 200, description = "{deliveries}")), security(("bearer" = [])))]
async fn list_deliveries(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    Query(p): Query<DeliveriesParams>,
) -> Result<Json<Value>, ApiError> {
    let rows = s
        .store
        .list_deliveries(
            &m,
            p.status.as_deref(),
            p.limit.unwrap_or(100).clamp(1, 1000),
        )
        .await?;
    Ok(Json(json!({ "deliveries": rows })))
}

#[utoipa::path(post, path = "/deliveries/{id}/replay", tag = "deliveries", params(("id" = String, Path, description = "object id")), responses((status = 202, description = "the dead delivery is pending again"), (status = 404, description = "no dead delivery with this id")), security(("bearer" = [])))]
async fn replay_delivery(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if s.store.replay_delivery(&m, &id, now(&s)).await? == 0 {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no dead delivery with this id",
        ));
    }
    s.store
        .audit(
            Some(&m),
            "merchant",
            "delivery.replayed",
            Some(&id),
            None,
            now(&s),
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "replayed": true }))))
}

#[utoipa::path(get, path = "/status", tag = "status", responses((status = 200, description = "per connection: last pull, lag, cursor, last error, rejected orders, deliveries pending/dead/done; for sources `reconciliation` (last pass, gaps found, alert) and `backfill` (history import: from, to, through, percent, orders, done_at); and the merchant's decryption failures of the last 15 minutes in this process, by key kind and reason (`decrypt_failures`)")), security(("bearer" = [])))]
async fn status(State(s): State<ApiState>, Merchant(m): Merchant) -> Result<Json<Value>, ApiError> {
    let n = now(&s);
    let rows = s.store.connection_status(Some(&m)).await?;
    let reconciled: BTreeMap<String, crate::store::ReconcileRow> = s
        .store
        .reconcile_status(Some(&m))
        .await?
        .into_iter()
        .map(|r| (r.connection_id.clone(), r))
        .collect();
    let backfills: BTreeMap<String, crate::store::BackfillRow> = s
        .store
        .backfill_status(Some(&m))
        .await?
        .into_iter()
        .map(|b| (b.connection_id.clone(), b))
        .collect();
    let days = s.engine.cfg.reconcile_days;
    let conns: Vec<Value> = rows
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
            v["lag_s"] = json!(c.watermark.map(|w| (n - w) as f64 / 1e6));
            if c.role == "source" {
                v["reconciliation"] = json!(
                    reconciled
                        .get(&c.id)
                        .map(|r| crate::engine::ReconcileView::of(r, n, days))
                );
                v["backfill"] =
                    match crate::engine::BackfillProgress::of(backfills.get(&c.id), c.watermark) {
                        Some(b) => {
                            let mut b = json!(b);
                            b["orders"] = json!(c.orders);
                            b
                        }
                        None => Value::Null,
                    };
            }
            v
        })
        .collect();
    let failures = s.crypto.decrypt_failures(Some(&m));
    Ok(Json(json!({
        "connections": conns,
        "decrypt_failures": {
            "window_s": crate::crypto::failures::WINDOW.as_secs(),
            "total": failures.iter().map(|f| f.count).sum::<u64>(),
            "by_key": failures,
        },
    })))
}

#[utoipa::path(get, path = "/retention", tag = "retention", responses((status = 200, description = "defaults, allowed range and the merchant's policies")), security(("bearer" = [])))]
async fn get_retention(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
) -> Result<Json<Value>, ApiError> {
    let policies = s.store.retention_policies(&m).await?;
    Ok(Json(json!({
        "default": { "days_after_delivery": s.retention.days_after_delivery, "days_after_order": s.retention.days_after_order },
        "allowed_days": [s.retention.min_days, s.retention.max_days],
        "policies": policies.iter().map(|p| json!({ "marketplace": p.marketplace, "days_after_delivery": p.days_after_delivery, "days_after_order": p.days_after_order })).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RetentionBody {
    days_after_delivery: i64,
    days_after_order: Option<i64>,
}

#[utoipa::path(put, path = "/retention/{marketplace}", tag = "retention", params(("marketplace" = String, Path, description = "a source kind's marketplace (see GET /kinds)")), request_body = RetentionBody, responses((status = 200, description = "stored"), (status = 422, description = "out of range, or above the marketplace's cap")), security(("bearer" = [])))]
async fn put_retention(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    Path(marketplace): Path<String>,
    Json(b): Json<RetentionBody>,
) -> Result<Json<Value>, ApiError> {
    let Some(d) = registry::marketplace(&marketplace) else {
        let known: Vec<&str> = registry::KINDS
            .iter()
            .filter_map(|k| k.marketplace)
            .collect();
        return Err(ApiError::unprocessable(format!(
            "unknown marketplace {marketplace:?} (known: {})",
            known.join(", ")
        )));
    };
    let (lo, hi) = (s.retention.min_days, s.retention.max_days);
    if !(lo..=hi).contains(&b.days_after_delivery) {
        return Err(ApiError::unprocessable(format!(
            "days_after_delivery must be between {lo} and {hi}"
        )));
    }
    // The platform's own cap (Amazon's Data Protection Policy: 30 days after delivery).
    if let Some(cap) = d.retention_cap_days
        && b.days_after_delivery > cap
    {
        return Err(ApiError::unprocessable(format!(
            "{marketplace} allows keeping PII at most {cap} days after delivery"
        )));
    }
    let dao = b.days_after_order.unwrap_or(s.retention.days_after_order);
    if !(lo..=hi.max(dao.min(365))).contains(&dao) || dao < b.days_after_delivery {
        return Err(ApiError::unprocessable(
            "days_after_order must be at least days_after_delivery and within the allowed range",
        ));
    }
    let row = RetentionRow {
        merchant_id: m.clone(),
        marketplace: marketplace.clone(),
        days_after_delivery: b.days_after_delivery,
        days_after_order: dao,
    };
    let rescheduled = s.store.put_retention(&row, now(&s)).await?;
    s.store
        .audit(
            Some(&m),
            "merchant",
            "retention.updated",
            Some(&marketplace),
            Some(&format!("{}/{}", b.days_after_delivery, dao)),
            now(&s),
        )
        .await?;
    Ok(Json(
        json!({ "marketplace": marketplace, "days_after_delivery": b.days_after_delivery, "days_after_order": dao, "orders_rescheduled": rescheduled }),
    ))
}

/// A hold is narrow by design (compliance R10): it names its legal basis and ends by itself.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct LegalHoldBody {
    hold: bool,
    /// Required with `hold: true`: the law or claim that obliges keeping the PII (1–200
    /// characters; no personal data).
    legal_basis: Option<String>,
    /// Required with `hold: true`: when the hold ends (RFC 3339, in the future, at most 10
    /// years on). The purge resumes from then.
    until: Option<String>,
}

#[utoipa::path(put, path = "/orders/{id}/legal-hold", tag = "orders", params(("id" = String, Path, description = "object id")), request_body = LegalHoldBody, responses((status = 200, description = "{id, legal_hold, until}: until then the order's PII is neither purged nor erased"), (status = 404, description = "not found"), (status = 422, description = "no legal basis, or a bad end date")), security(("bearer" = [])))]
async fn put_legal_hold(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    Path(id): Path<String>,
    Json(b): Json<LegalHoldBody>,
) -> Result<Json<Value>, ApiError> {
    let at = now(&s);
    let hold = if b.hold {
        let basis = b
            .legal_basis
            .as_deref()
            .map(str::trim)
            .filter(|v| (1..=200).contains(&v.chars().count()) && !v.chars().any(char::is_control))
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "legal_basis (1-200 characters) is required to hold an order",
                )
            })?;
        let until = b
            .until
            .as_deref()
            .and_then(|u| {
                time::OffsetDateTime::parse(u, &time::format_description::well_known::Rfc3339).ok()
            })
            .map(ordersync_sdk::clock::to_micros)
            .filter(|u| *u > at && *u <= at.saturating_add(10 * 366 * 86_400_000_000))
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "until (RFC 3339, in the future, at most 10 years on) is required to hold an order",
                )
            })?;
        Some(crate::store::LegalHold {
            basis: basis.to_string(),
            until,
        })
    } else {
        None
    };
    if !s.store.set_legal_hold(&m, &id, hold.as_ref(), at).await? {
        return Err(ApiError::not_found());
    }
    let (event, detail) = match &hold {
        Some(h) => (
            "order.legal_hold.set",
            Some(json!({ "legal_basis": h.basis, "until": h.until }).to_string()),
        ),
        None => ("order.legal_hold.lifted", None),
    };
    s.store
        .audit(
            Some(&m),
            "merchant",
            event,
            Some(&id),
            detail.as_deref(),
            at,
        )
        .await?;
    Ok(Json(
        json!({ "id": id, "legal_hold": b.hold, "until": hold.map(|h| h.until) }),
    ))
}

#[utoipa::path(get, path = "/audit", tag = "audit", responses((status = 200, description = "{audit}: the merchant's audit records, newest first")), security(("bearer" = [])))]
async fn audit(State(s): State<ApiState>, Merchant(m): Merchant) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "audit": s.store.list_audit(&m, 500).await? })))
}
