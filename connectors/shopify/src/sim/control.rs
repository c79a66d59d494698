//! `/_sim/*` control routes (ARCHITECTURE §10).

use super::SimState;
use super::store::Poison;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Deserialize)]
pub struct SeedReq {
    count: u64,
    #[serde(default)]
    seed: u64,
}

/// Orders land in the 7 days before now − 5 min, so a pull with a 60 s settle sees them all.
pub async fn seed(State(s): State<Arc<SimState>>, Json(r): Json<SeedReq>) -> Json<Value> {
    let end = s.now() - 300;
    let created =
        s.store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .seed(r.count.min(1_000_000), r.seed, end);
    Json(json!({ "created": created }))
}

#[derive(Deserialize)]
pub struct UpdateReq {
    count: u64,
}

pub async fn update(State(s): State<Arc<SimState>>, Json(r): Json<UpdateReq>) -> Json<Value> {
    let now = s.now();
    let n = s
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .touch_oldest(r.count, now);
    Json(json!({ "updated": n }))
}

pub async fn expire_tokens(State(s): State<Arc<SimState>>) -> Json<Value> {
    let now = s.now();
    let n = s
        .auth
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .expire_all(now);
    Json(json!({ "expired": n }))
}

pub async fn stats(State(s): State<Arc<SimState>>) -> Json<Value> {
    let mut v = s.core.stats();
    let orders = s
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .orders
        .len();
    v["orders"] = json!(orders);
    Json(v)
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
