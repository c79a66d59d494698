//! `/_sim/` control routes (ARCHITECTURE §10) besides faults and rejects.

use super::SimState;
use super::progress::stage_at;
use super::state::tracking_id;
use super::view::object_key;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ordersync_sdk::sim::{Received, ReceivedObject, SimStats};
use serde_json::{Map, json};
use std::sync::Arc;

/// `GET /_sim/received`: every live tracking (a deleted one no longer exists at AfterShip),
/// in creation order; `status` is its tag now, `object_key` the `ordersync_key` sent.
pub async fn received(State(s): State<Arc<SimState>>) -> Json<Received> {
    let now = s.clock.now();
    let book = s.book();
    let objects = book
        .iter_live()
        .map(|e| ReceivedObject {
            external_order_id: e.body.order_id.clone().unwrap_or_default(),
            object_key: object_key(e),
            idempotency_key: None,
            external_ref: tracking_id(e.num()),
            creates: 1,
            updates: e.updates,
            status: Some(stage_at(e.created_at, e.num(), now).0.tag().to_string()),
            units: None,
            extra: Map::from_iter([
                ("tracking_number".to_string(), json!(e.body.tracking_number)),
                ("slug".to_string(), json!(e.body.slug)),
            ]),
        })
        .collect();
    Json(Received::new(objects))
}

/// `GET /_sim/stats`: requests, 429s sent (real and injected), faults injected, per route.
pub async fn stats(State(s): State<Arc<SimState>>) -> Json<SimStats> {
    let live = s.book().iter_live().count();
    Json(s.core.stats().with("trackings", live))
}

/// `POST /_sim/reset`: empty account, no faults, counters at zero.
pub async fn reset(State(s): State<Arc<SimState>>) -> StatusCode {
    s.reset();
    StatusCode::NO_CONTENT
}
