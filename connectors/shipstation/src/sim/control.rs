//! `/_sim/` control routes (ARCHITECTURE §10) besides `/_sim/faults`.

use super::SimState;
use super::state::shipment_id;
use super::view::status;
use crate::wire::ShipmentItem;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ordersync_sdk::sim::{Received, ReceivedObject, SimStats};
use serde_json::{Map, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Units per marketplace line of a shipment (items without a line id count under "").
fn units(items: &[ShipmentItem]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for i in items {
        *m.entry(i.external_order_item_id.clone().unwrap_or_default())
            .or_default() += u64::from(i.quantity);
    }
    m
}

/// `GET /_sim/received`: every shipment held, in creation order, with its create/update
/// counts; the demo derives delivered / duplicate / missing counts from it. The object key
/// is the `external_shipment_id` the sink chose (ShipStation's only idempotency handle).
pub async fn received(State(s): State<Arc<SimState>>) -> Json<Received> {
    let now = s.clock.now();
    let store = s.store();
    Json(store.received(|st| {
        let ext = st.body.external_shipment_id.clone();
        let status = status(st, now);
        ReceivedObject {
            external_order_id: st.body.external_order_id.clone().unwrap_or_default(),
            object_key: ext.clone().unwrap_or_default(),
            idempotency_key: ext.clone(),
            external_ref: shipment_id(st.num()),
            creates: 1,
            updates: st.updates,
            status: Some(status.to_string()),
            units: Some(units(&st.body.items)),
            extra: Map::from_iter([
                ("shipment_id".to_string(), json!(shipment_id(st.num()))),
                ("external_shipment_id".to_string(), json!(ext)),
                (
                    "shipment_number".to_string(),
                    json!(st.body.shipment_number),
                ),
                ("shipment_status".to_string(), json!(status)),
            ]),
        }
    }))
}

/// `GET /_sim/stats`: requests, 429s sent (real and injected), faults injected, per route.
pub async fn stats(State(s): State<Arc<SimState>>) -> Json<SimStats> {
    let shipments = s.store().len();
    Json(s.core.stats().with("shipments", shipments))
}

/// `POST /_sim/reset`: empty account, no faults, counters at zero.
pub async fn reset(State(s): State<Arc<SimState>>) -> StatusCode {
    s.reset();
    StatusCode::NO_CONTENT
}
