//! `/_sim/` control routes (ARCHITECTURE §10) besides `/_sim/faults`.

use super::SimState;
use super::state::shipment_id;
use super::v1::{effective_status, order_id};
use super::view::status;
use crate::wire::ShipmentItem;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ordersync_sdk::sim::{Received, ReceivedObject, SimStats};
use serde_json::{Map, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use time::OffsetDateTime;

/// Units per marketplace line of a shipment (items without a line id count under "").
fn units(items: &[ShipmentItem]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for i in items {
        *m.entry(i.external_order_item_id.clone().unwrap_or_default())
            .or_default() += u64::from(i.quantity);
    }
    m
}

/// `GET /_sim/received`: every V2 shipment held, then every V1 order, in creation order, with
/// create/update counts; the demo derives delivered / duplicate / missing counts from it. The
/// object key is the `external_shipment_id` (V2) or `orderKey` (V1) the sink chose.
pub async fn received(State(s): State<Arc<SimState>>) -> Json<Received> {
    let now = s.clock.now();
    let mut objects = v2_objects(&s, now);
    objects.extend(v1_objects(&s, now));
    Json(Received::new(objects))
}

fn v1_objects(s: &SimState, now: OffsetDateTime) -> Vec<ReceivedObject> {
    let store = s.v1_store();
    store
        .iter()
        .map(|o| {
            let b = &o.body;
            let mut units = BTreeMap::new();
            for i in &b.items {
                *units
                    .entry(i.line_item_key.clone().unwrap_or_default())
                    .or_default() += u64::from(i.quantity);
            }
            let status = effective_status(o, now).to_string();
            let id = order_id(o.num()).to_string();
            ReceivedObject {
                external_order_id: b
                    .advanced_options
                    .as_ref()
                    .and_then(|a| a.custom_field1.clone())
                    .unwrap_or_default(),
                object_key: b.order_key.clone().unwrap_or_default(),
                idempotency_key: b.order_key.clone(),
                external_ref: id.clone(),
                creates: 1,
                updates: o.updates,
                status: Some(status.clone()),
                units: Some(units),
                extra: Map::from_iter([
                    ("api".to_string(), json!("v1")),
                    ("orderId".to_string(), json!(order_id(o.num()))),
                    ("orderNumber".to_string(), json!(b.order_number)),
                    ("orderStatus".to_string(), json!(status)),
                ]),
            }
        })
        .collect()
}

fn v2_objects(s: &SimState, now: OffsetDateTime) -> Vec<ReceivedObject> {
    let store = s.store();
    store
        .received(|st| {
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
        })
        .objects
}

/// `GET /_sim/stats`: requests, 429s sent (real and injected), faults injected, per route.
pub async fn stats(State(s): State<Arc<SimState>>) -> Json<SimStats> {
    let shipments = s.store().len();
    let orders = s.v1_store().len();
    Json(
        s.core
            .stats()
            .with("shipments", shipments)
            .with("orders", orders),
    )
}

/// `POST /_sim/reset`: empty account, no faults, counters at zero.
pub async fn reset(State(s): State<Arc<SimState>>) -> StatusCode {
    s.reset();
    StatusCode::NO_CONTENT
}
