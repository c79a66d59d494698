//! Control routes that shape the store beyond seeding: an order with many line items
//! (`POST /_sim/order {"lines": 250}`) and deletions (`POST /_sim/delete {"count": n}`).

use super::SimState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Deserialize)]
pub struct OrderReq {
    lines: u32,
}

/// Updated 5 min before now, like seeded orders, so a pull with a 60 s settle sees it.
pub async fn add_order(State(s): State<Arc<SimState>>, Json(r): Json<OrderReq>) -> Json<Value> {
    let at = s.now() - 300;
    let id = s
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .add_order(r.lines, at);
    Json(json!({ "id": id.to_string() }))
}

#[derive(Deserialize)]
pub struct DeleteReq {
    count: u64,
}

/// Deletes the least recently updated orders.
pub async fn delete(State(s): State<Arc<SimState>>, Json(r): Json<DeleteReq>) -> Json<Value> {
    let now = s.now();
    let n = s
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .delete_oldest(r.count, now);
    Json(json!({ "deleted": n }))
}
