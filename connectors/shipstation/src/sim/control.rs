//! `/_sim/` control routes (ARCHITECTURE §10) besides `/_sim/faults`.

use super::SimState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

/// `GET /_sim/received`: every shipment held, in creation order, with its create/update
/// counts; the demo derives delivered / duplicate / missing counts from it.
pub async fn received(State(s): State<Arc<SimState>>) -> Json<Value> {
    let store = s.store();
    let mut nums: Vec<u64> = store.by_num.keys().copied().collect();
    nums.sort_unstable();
    let objects: Vec<Value> = nums
        .iter()
        .filter_map(|n| store.by_num.get(n))
        .map(|st| {
            let ext = st.body.external_shipment_id.as_deref();
            json!({
                "shipment_id": super::state::shipment_id(st.num),
                "external_shipment_id": ext,
                "external_order_id": st.body.external_order_id,
                "shipment_number": st.body.shipment_number,
                "shipment_status": if st.cancelled { "cancelled" } else { "pending" },
                "creates": 1,
                "updates": st.updates,
                "idempotency_key": ext,
                "object_key": ext,
            })
        })
        .collect();
    Json(json!({ "count": objects.len(), "objects": objects }))
}

/// `GET /_sim/stats`: requests, 429s sent (real and injected), faults injected, per route.
pub async fn stats(State(s): State<Arc<SimState>>) -> Json<Value> {
    let mut v = s.core.stats();
    v["shipments"] = json!(s.store().by_num.len());
    Json(v)
}

/// `POST /_sim/reset`: empty account, no faults, counters at zero.
pub async fn reset(State(s): State<Arc<SimState>>) -> StatusCode {
    s.reset();
    StatusCode::NO_CONTENT
}
