//! Control routes that shape the store beyond seeding: an order with many line items
//! (`POST /_sim/order {"lines": 250}`), one named money case (`POST /_sim/case {"case":
//! "uk_vat_inclusive"}`, names in [`super::CASES`]) and deletions (`POST /_sim/delete
//! {"count": n}`).

use super::SimState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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
pub struct CaseReq {
    case: String,
}

/// The fixed order of one named case, updated 5 min before now; 404 with the known names for
/// an unknown one.
pub async fn add_case(State(s): State<Arc<SimState>>, Json(r): Json<CaseReq>) -> Response {
    let at = s.now() - 300;
    let id = s
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .add_case(&r.case, at);
    match id {
        Some(id) => Json(json!({ "id": id.to_string(), "case": r.case })).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "unknown case", "cases": super::CASES })),
        )
            .into_response(),
    }
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
