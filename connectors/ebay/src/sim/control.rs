//! `/_sim/*` control routes (ARCHITECTURE §10), plus eBay's own: `/_sim/cancel` (a seller
//! cancels orders), `/_sim/revoke` (the merchant revokes the app, or changes the password),
//! `/_sim/maintenance` (HTML pages instead of JSON).

use super::model::Poison;
use super::{Maintenance, SimState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ordersync_sdk::sim::{
    Expected, ExpiredResponse, SeedRequest, SeedResponse, SimStats, UpdateRequest, UpdateResponse,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// Seeded orders are last modified in the 7 days before now − 5 min, so a pull with a 2 min
/// settle sees them all.
const SEED_END_MS: i64 = 300_000;

fn ids(store: &super::store::Store, ids: &[u64]) -> Vec<String> {
    ids.iter()
        .filter_map(|id| store.get(*id))
        .map(|o| o.order_id())
        .collect()
}

pub async fn seed(
    State(s): State<Arc<SimState>>,
    Json(r): Json<SeedRequest>,
) -> Json<SeedResponse> {
    let end = s.now_ms() - SEED_END_MS;
    let created = s.store().seed(r.count, r.seed, end);
    Json(SeedResponse { created })
}

/// Modifies the least recently modified orders, whatever their age (PII aged away stays
/// away: aging follows the creation date).
pub async fn update(
    State(s): State<Arc<SimState>>,
    Json(r): Json<UpdateRequest>,
) -> Json<UpdateResponse> {
    let now = s.now_ms();
    let mut store = s.store();
    let touched = store.touch_oldest(r.count, now);
    Json(UpdateResponse {
        updated: touched.len() as u64,
        ids: ids(&store, &touched),
    })
}

#[derive(Deserialize)]
pub struct CountReq {
    count: u64,
}

pub async fn cancel(State(s): State<Arc<SimState>>, Json(r): Json<CountReq>) -> Json<Value> {
    let now = s.now_ms();
    let mut store = s.store();
    let cancelled = store.cancel_oldest(r.count, now);
    Json(json!({ "cancelled": cancelled.len(), "ids": ids(&store, &cancelled) }))
}

#[derive(Deserialize)]
pub struct PoisonReq {
    kind: Poison,
    count: u64,
}

pub async fn poison(State(s): State<Arc<SimState>>, Json(r): Json<PoisonReq>) -> Json<Value> {
    let end = s.now_ms() - SEED_END_MS;
    let mut store = s.store();
    let made = store.poison(r.kind, r.count.min(1_000), end);
    Json(json!({ "external_ids": ids(&store, &made) }))
}

pub async fn expire_tokens(State(s): State<Arc<SimState>>) -> Json<ExpiredResponse> {
    let n = s
        .auth
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .expire_all(s.now_secs());
    Json(ExpiredResponse { expired: n as u64 })
}

#[derive(Deserialize, Default)]
pub struct RevokeReq {
    #[serde(default)]
    refresh_token: Option<String>,
}

/// `{"refresh_token": "..."}` revokes one; `{}` revokes every refresh token issued so far.
pub async fn revoke(State(s): State<Arc<SimState>>, Json(r): Json<RevokeReq>) -> StatusCode {
    s.auth
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .revoke(r.refresh_token.as_deref());
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
pub struct MaintenanceReq {
    /// `off`, `unavailable` (503 HTML) or `page_with_ok` (an HTML page with status 200).
    mode: String,
}

pub async fn maintenance(
    State(s): State<Arc<SimState>>,
    Json(r): Json<MaintenanceReq>,
) -> StatusCode {
    let m = match r.mode.as_str() {
        "off" => Maintenance::Off,
        "unavailable" => Maintenance::Unavailable,
        "page_with_ok" => Maintenance::PageWithOk,
        _ => return StatusCode::BAD_REQUEST,
    };
    s.set_maintenance(m);
    StatusCode::NO_CONTENT
}

pub async fn stats(State(s): State<Arc<SimState>>) -> Json<SimStats> {
    let orders = s.store().len();
    Json(s.core.stats().with("orders", orders))
}

/// `GET /_sim/expected`. `tracked` stays empty: `getOrders` gives only `fulfillmentHrefs`,
/// and the connector makes no call per fulfillment, so it reports no tracking numbers.
pub async fn expected(State(s): State<Arc<SimState>>) -> Json<Expected> {
    let store = s.store();
    Json(Expected {
        orders: store.len() as u64,
        shippable: store.expected(),
        tracked: Default::default(),
    })
}
