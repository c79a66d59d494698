//! `/_sim/*` control routes (ARCHITECTURE §10), plus Amazon's own knobs: withdrawing the
//! restricted role, an outage answered with HTML pages, revoking a refresh token, one named
//! money case.

use super::SimState;
use super::errors::Outage;
use super::order::Poison;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ordersync_sdk::sim::{
    Expected, ExpiredResponse, SeedRequest, SeedResponse, SimStats, UpdateRequest, UpdateResponse,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Seeded orders were last updated at least 5 minutes ago: inside a pull whose window ends
/// at now − 3 min (the settle).
const SEED_AGE_SECS: i64 = 300;

pub async fn seed(
    State(s): State<Arc<SimState>>,
    Json(r): Json<SeedRequest>,
) -> Json<SeedResponse> {
    let end = s.now() - SEED_AGE_SECS;
    let created = s.store().seed(r.count, r.seed, end).len() as u64;
    Json(SeedResponse { created })
}

pub async fn update(
    State(s): State<Arc<SimState>>,
    Json(r): Json<UpdateRequest>,
) -> Json<UpdateResponse> {
    let now = s.now();
    let ids = s.store().touch_oldest(r.count, now);
    Json(UpdateResponse {
        updated: ids.len() as u64,
        ids,
    })
}

pub async fn expire_tokens(State(s): State<Arc<SimState>>) -> Json<ExpiredResponse> {
    let now = s.now();
    let n = s
        .auth
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .book
        .expire_all(now);
    Json(ExpiredResponse { expired: n as u64 })
}

pub async fn stats(State(s): State<Arc<SimState>>) -> Json<SimStats> {
    let store = s.store();
    let statuses = super::api::status_counts(store.iter().map(|o| o.status));
    Json(
        s.core
            .stats()
            .with("orders", store.len())
            .with("statuses", json!(statuses)),
    )
}

#[derive(Deserialize)]
pub struct PoisonReq {
    kind: Poison,
    count: u64,
}

/// Poisoned orders are updated just before now − 5 min, inside the next pull's window.
pub async fn poison(State(s): State<Arc<SimState>>, Json(r): Json<PoisonReq>) -> Json<Value> {
    let end = s.now() - SEED_AGE_SECS;
    let mut store = s.store();
    let seed = store.next_seed();
    let ids = store.poison(r.kind, r.count.min(10_000), seed, end);
    Json(json!({ "external_ids": ids }))
}

/// `GET /_sim/expected`: per order, the units a fulfillment target should hold: the items of
/// released merchant-fulfilled orders at the quantity not cancelled. FBA orders (Amazon
/// ships them), pending, shipped and cancelled orders are absent, as are poisoned ones.
/// `tracked`: the tracking numbers of the packages of merchant-fulfilled orders (what
/// `includedData=PACKAGES` shows), poisoned orders left out.
pub async fn expected(State(s): State<Arc<SimState>>) -> Json<Expected> {
    let store = s.store();
    let mut out = Expected {
        orders: store.len() as u64,
        ..Default::default()
    };
    for o in store.iter() {
        let numbers = o.tracking_numbers();
        if !numbers.is_empty() {
            out.tracked.insert(o.order_id.clone(), numbers);
        }
        let units: BTreeMap<String, u64> = o.shippable().into_iter().collect();
        if !units.is_empty() {
            out.shippable.insert(o.order_id.clone(), units);
        }
    }
    Json(out)
}

#[derive(Deserialize)]
pub struct RolesReq {
    /// Whether the seller granted the restricted role for buyer and recipient data.
    pii: bool,
}

pub async fn roles(State(s): State<Arc<SimState>>, Json(r): Json<RolesReq>) -> StatusCode {
    s.pii_role.store(r.pii, Ordering::Relaxed);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
pub struct OutageReq {
    /// `html_503`, `waf_403`, or `null` to end it.
    mode: Option<Outage>,
}

pub async fn outage(State(s): State<Arc<SimState>>, Json(r): Json<OutageReq>) -> StatusCode {
    *s.outage.lock().unwrap_or_else(|e| e.into_inner()) = r.mode;
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
pub struct RevokeReq {
    refresh_token: String,
}

/// The seller de-authorized the app: its refresh token answers `invalid_grant`.
pub async fn revoke(State(s): State<Arc<SimState>>, Json(r): Json<RevokeReq>) -> StatusCode {
    let mut a = s.auth.lock().unwrap_or_else(|e| e.into_inner());
    a.book.revoke(&r.refresh_token);
    a.revoked.insert(r.refresh_token);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
pub struct CaseReq {
    case: String,
}

/// `POST /_sim/case {"case": "uk_vat_inclusive"}`: one fixed order of a named money case,
/// updated 5 minutes ago; answers its Amazon id.
pub async fn case(State(s): State<Arc<SimState>>, Json(r): Json<CaseReq>) -> Response {
    let at = s.now() - SEED_AGE_SECS;
    match s.store().add_case(&r.case, at) {
        Some(id) => Json(json!({ "external_id": id })).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "unknown case", "cases": super::CASES })),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
pub struct ShipReq {
    external_id: String,
}

/// `POST /_sim/ship {"external_id"}`: Amazon releases a pending order (it is priced) or the
/// seller ships the rest of a released one; the order is updated now.
pub async fn ship(State(s): State<Arc<SimState>>, Json(r): Json<ShipReq>) -> StatusCode {
    use super::order::Status;
    let now = s.now();
    let done = s.store().edit(&r.external_id, now, |o| match o.status {
        Status::Pending | Status::PendingAvailability => o.status = Status::Unshipped,
        Status::Unshipped | Status::PartiallyShipped => {
            let seq = o.id;
            o.ship_all(now, seq);
        }
        Status::Shipped | Status::Cancelled => {}
    });
    if done {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}
