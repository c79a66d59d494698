//! `/_sim/*` control routes (ARCHITECTURE §10) and the simulator's own extras: named cases,
//! trashing, touching given orders.

use super::SimState;
use super::order::{Poison, Status};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ordersync_sdk::sim::{
    Expected, SeedRequest, SeedResponse, SimStats, UpdateRequest, UpdateResponse,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

fn ids(v: &[u64]) -> Vec<String> {
    v.iter().map(u64::to_string).collect()
}

/// Orders land in the 7 days before now − 5 min, so a pull with a 30 s settle sees them all.
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
    let touched = s
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .touch_oldest(r.count, now);
    Json(UpdateResponse {
        updated: touched.len() as u64,
        ids: ids(&touched),
    })
}

#[derive(Deserialize)]
pub struct PoisonReq {
    kind: Poison,
    count: u64,
}

/// Poisoned orders modified just before now − 5 min, inside the next pull's window.
pub async fn poison(State(s): State<Arc<SimState>>, Json(r): Json<PoisonReq>) -> Json<Value> {
    let end = s.now() - 300;
    let made =
        s.store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .poison(r.kind, r.count.min(1_000), end);
    Json(json!({ "external_ids": ids(&made) }))
}

#[derive(Deserialize)]
pub struct CaseReq {
    name: String,
}

/// `{"name"}` → `{"id"}`: one order of a named case (`CASES`), modified now − 5 min.
pub async fn case(
    State(s): State<Arc<SimState>>,
    Json(r): Json<CaseReq>,
) -> Result<Json<Value>, StatusCode> {
    let at = s.now() - 300;
    let id = s
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .case(&r.name, at)
        .ok_or(StatusCode::NOT_FOUND)?;
    Ok(Json(json!({ "id": id })))
}

#[derive(Deserialize)]
pub struct CountReq {
    count: u64,
}

/// Moves the `count` least recently modified orders to the trash, now.
pub async fn trash(State(s): State<Arc<SimState>>, Json(r): Json<CountReq>) -> Json<Value> {
    let now = s.now();
    let t = s
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .trash(r.count, now);
    Json(json!({ "ids": ids(&t) }))
}

#[derive(Deserialize)]
pub struct IdsReq {
    ids: Vec<u64>,
}

/// A merchant editing these orders now.
pub async fn touch(State(s): State<Arc<SimState>>, Json(r): Json<IdsReq>) -> Json<Value> {
    let now = s.now();
    let t = s
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .touch(&r.ids, now);
    Json(json!({ "ids": ids(&t) }))
}

pub async fn stats(State(s): State<Arc<SimState>>) -> Json<SimStats> {
    let orders = s.store.lock().unwrap_or_else(|e| e.into_inner()).book.len();
    Json(s.core.stats().with("orders", orders))
}

/// `GET /_sim/expected`: per order, the units a fulfillment target should hold: orders whose
/// status still ships (not cancelled, failed, trashed or refunded) and that are not
/// `completed` (the connector maps it as fulfilled: nothing left to send), with shipping
/// lines (no downloads), each line less its refunded units. `tracked`: the Shipment
/// Tracking number of the orders that carry one. Poisoned orders are rejected by the
/// connector and left out.
pub async fn expected(State(s): State<Arc<SimState>>) -> Json<Expected> {
    let store = s.store.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = Expected {
        orders: store.book.len() as u64,
        ..Default::default()
    };
    for o in store.book.iter() {
        if o.poison.is_some() {
            continue;
        }
        if let Some(t) = super::tracking::item(o) {
            out.tracked.insert(o.id.to_string(), vec![t.number]);
        }
        if !o.status.ships() || o.status == Status::Completed || o.shipping.is_empty() {
            continue;
        }
        let units: BTreeMap<String, u64> = o
            .lines
            .iter()
            .map(|l| {
                (
                    l.id.to_string(),
                    u64::from(l.qty.saturating_sub(o.refunded_units(l.id))),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        if !units.is_empty() {
            out.shippable.insert(o.id.to_string(), units);
        }
    }
    Json(out)
}
