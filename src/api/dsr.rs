//! Data-subject requests over the API (`crate::dsr` does the work): `POST /dsr` runs one now
//! and answers its outcome (an export's PII only in that answer), `GET /dsr[/{id}]` shows the
//! requests' clocks and counts. An export needs a token with the `pii:read` scope.

use super::admin::{Merchant, now};
use super::extract::{Json, Path};
use super::tokens::{Grant, PII_READ};
use super::{ApiError, ApiState};
use crate::dsr::{Dsr, DsrError, DsrKind, request_json};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(create_dsr, list_dsr))
        .routes(routes!(get_dsr))
}

/// No `Debug`: the body carries the subject's email.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewDsr {
    kind: DsrKind,
    /// The buyer's email; trimmed and lower-cased before the blind-index lookup.
    email: String,
}

impl From<DsrError> for ApiError {
    fn from(e: DsrError) -> Self {
        match e {
            DsrError::Invalid(m) => ApiError::unprocessable(m),
            DsrError::UnknownMerchant => ApiError::unauthorized(),
            DsrError::Store(e) => e.into(),
            DsrError::Crypto(e) => e.into(),
        }
    }
}

#[utoipa::path(post, path = "/dsr", tag = "privacy", request_body = NewDsr, responses(
    (status = 201, description = "completed: {id, kind, status, actor, created_at, due_at, completed_at, orders, erased, held, recipients}; an export adds data: [{order_id, connection_id, marketplace, external_id, order_number, legal_hold_until, pii_readable, pii, forwarded_to}]"),
    (status = 403, description = "an export with a token lacking the pii:read scope")), security(("bearer" = [])))]
async fn create_dsr(
    State(s): State<ApiState>,
    g: Grant,
    Json(body): Json<NewDsr>,
) -> Result<Response, ApiError> {
    if body.kind == DsrKind::Export && !g.has(PII_READ) {
        // Refusals are evidence too (who tried to read PII without the right).
        s.store
            .audit(
                Some(&g.merchant),
                "merchant",
                "dsr.refused",
                None,
                Some("export without the pii:read scope"),
                now(&s),
            )
            .await?;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "exporting personal data needs a token with the pii:read scope",
        ));
    }
    let dsr = Dsr {
        store: &*s.store,
        crypto: &s.crypto,
        clock: &*s.clock,
    };
    let out = dsr
        .run(&g.merchant, body.kind, &body.email, "merchant")
        .await?;
    let mut r = (StatusCode::CREATED, Json(out.to_json())).into_response();
    let h = r.headers_mut();
    // An export carries PII: no cache may keep it.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/dsr/{}", out.request.id)) {
        h.insert(header::LOCATION, loc);
    }
    Ok(r)
}

#[utoipa::path(get, path = "/dsr", tag = "privacy", responses((status = 200, description = "{requests: [...]}: the merchant's data-subject requests, newest first (at most 500), without any export data")), security(("bearer" = [])))]
async fn list_dsr(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
) -> Result<axum::Json<Value>, ApiError> {
    let rows = s.store.list_dsr(&m, 500).await?;
    Ok(axum::Json(
        json!({ "requests": rows.iter().map(request_json).collect::<Vec<_>>() }),
    ))
}

#[utoipa::path(get, path = "/dsr/{id}", tag = "privacy", params(("id" = String, Path, description = "request id")), responses((status = 200, description = "{id, kind, status, actor, created_at, due_at, completed_at, orders, erased, held}; never the export (it is not stored)"), (status = 404, description = "no such request for this merchant")), security(("bearer" = [])))]
async fn get_dsr(
    State(s): State<ApiState>,
    Merchant(m): Merchant,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let r = s
        .store
        .get_dsr(&m, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(axum::Json(request_json(&r)))
}
