//! `/_sim/*` control routes (ARCHITECTURE §10).

use super::SimState;
use super::store::Poison;
use axum::Json;
use axum::extract::State;
use ordersync_sdk::sim::{
    Expected, ExpiredResponse, SeedRequest, SeedResponse, SimStats, UpdateRequest, UpdateResponse,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Orders land in the 7 days before now − 5 min, so a pull with a 60 s settle sees them all.
pub async fn seed(
    State(s): State<Arc<SimState>>,
    Json(r): Json<SeedRequest>,
) -> Json<SeedResponse> {
    let end = s.now() - 300;
    let created = s
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .seed(r.count, r.seed, end);
    Json(SeedResponse { created })
}

pub async fn update(
    State(s): State<Arc<SimState>>,
    Json(r): Json<UpdateRequest>,
) -> Json<UpdateResponse> {
    let now = s.now();
    let updated = s
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .touch_oldest(r.count, now);
    Json(UpdateResponse {
        updated: updated.len() as u64,
        ids: updated.iter().map(u64::to_string).collect(),
    })
}

/// `POST /_sim/hide` ([`ordersync_sdk::sim::book::HideRequest`]).
pub async fn hide(
    State(s): State<Arc<SimState>>,
    Json(r): Json<ordersync_sdk::sim::book::HideRequest>,
) -> Json<ordersync_sdk::sim::book::HideResponse> {
    Json(s.store.lock().unwrap_or_else(|e| e.into_inner()).hide(r))
}

pub async fn expire_tokens(State(s): State<Arc<SimState>>) -> Json<ExpiredResponse> {
    let now = s.now();
    let n = s
        .auth
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .expire_all(now);
    Json(ExpiredResponse { expired: n as u64 })
}

pub async fn stats(State(s): State<Arc<SimState>>) -> Json<SimStats> {
    let orders = s.store.lock().unwrap_or_else(|e| e.into_inner()).len();
    Json(s.core.stats().with("orders", orders))
}

#[derive(Deserialize)]
pub struct PoisonReq {
    kind: Poison,
    count: u64,
}

/// Poisoned orders updated just before now − 5 min, inside the next pull's window.
pub async fn poison(State(s): State<Arc<SimState>>, Json(r): Json<PoisonReq>) -> Json<Value> {
    let end = s.now() - 300;
    let ids =
        s.store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .poison(r.kind, r.count.min(10_000), end);
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    Json(json!({ "external_ids": ids }))
}

/// `GET /_sim/expected`: per order, the units a fulfillment target should hold — goods
/// (products and custom items that need shipping) at their current quantity, of orders that
/// are neither cancelled nor already fulfilled (`FULFILLED` / `fulfilled`: the merchant
/// shipped everything, there is nothing left to send to a fulfillment target; partially
/// fulfilled orders stay). `tracked`: the tracking numbers of every order's fulfillments that
/// were not cancelled, in their order. Poisoned orders are left out: the connector rejects
/// them.
pub async fn expected(State(s): State<Arc<SimState>>) -> Json<Expected> {
    use super::order::{Fulfillment, LineKind};
    let store = s.store.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = Expected {
        orders: store.len() as u64,
        ..Default::default()
    };
    for o in store.iter() {
        if o.poison.is_some() {
            continue;
        }
        let numbers: Vec<String> = o.live_parcels().map(|p| p.number.clone()).collect();
        if !numbers.is_empty() {
            out.tracked.insert(o.id.to_string(), numbers);
        }
        if o.cancelled.is_some() || o.fulfillment == Fulfillment::Fulfilled {
            continue;
        }
        let units: BTreeMap<String, u64> = o
            .lines
            .iter()
            .filter(|l| {
                l.requires_shipping && matches!(l.kind, LineKind::Product | LineKind::Custom)
            })
            .map(|l| (l.id.to_string(), u64::from(l.current_quantity())))
            .filter(|(_, n)| *n > 0)
            .collect();
        if !units.is_empty() {
            out.shippable.insert(o.id.to_string(), units);
        }
    }
    Json(out)
}
