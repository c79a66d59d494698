//! Labels and tracking derived from the clock: a shipment gets its label a day after creation
//! and is delivered 2–4 days after creation (deterministic from its id), unless cancelled.

use super::SimState;
use super::errors::not_found;
use super::shipments::rfc3339;
use super::state::{Stored, parse_shipment_id, shipment_id};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

pub fn label_at(s: &Stored) -> OffsetDateTime {
    s.created_at + Duration::days(1)
}

pub fn delivered_at(s: &Stored) -> OffsetDateTime {
    // 48..=96 hours, spread by a multiplicative hash of the id.
    let h = s.num().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    s.created_at + Duration::hours(48 + (h % 49) as i64)
}

pub fn label_exists(s: &Stored, now: OffsetDateTime) -> bool {
    !s.cancelled && now >= label_at(s)
}

fn label_id(num: u64) -> String {
    format!("se-l{num}")
}

fn tracking_number(num: u64) -> String {
    format!("9400{num:018}")
}

#[derive(Deserialize)]
pub struct LabelQuery {
    shipment_id: Option<String>,
}

/// `GET /v2/labels?shipment_id=` (the one filter the connector uses; others list nothing).
pub async fn list(State(s): State<Arc<SimState>>, Query(q): Query<LabelQuery>) -> Response {
    let now = s.clock.now();
    let store = s.store();
    let labels: Vec<_> = q
        .shipment_id
        .as_deref()
        .and_then(parse_shipment_id)
        .and_then(|n| store.get(n))
        .filter(|st| label_exists(st, now))
        .map(|st| {
            json!({
                "label_id": label_id(st.num()),
                "status": "completed",
                "shipment_id": shipment_id(st.num()),
                "external_shipment_id": st.body.external_shipment_id,
                "external_order_id": st.body.external_order_id,
                "created_at": rfc3339(label_at(st)),
                "ship_date": rfc3339(label_at(st)),
                "tracking_number": tracking_number(st.num()),
                "is_return_label": false,
                "carrier_id": "se-1",
                "service_code": "usps_priority_mail",
            })
        })
        .into_iter()
        .collect();
    let total = labels.len();
    Json(json!({
        "labels": labels,
        "total": total,
        "page": 1,
        "pages": usize::from(total > 0),
        "links": {"first": {"href": "/v2/labels?page=1"}, "last": {"href": "/v2/labels?page=1"}},
    }))
    .into_response()
}

/// `GET /v2/labels/{label_id}/track`: `IT` in transit, then `DE` with `actual_delivery_date`.
pub async fn track(State(s): State<Arc<SimState>>, Path(id): Path<String>) -> Response {
    let now = s.clock.now();
    let store = s.store();
    let Some(st) = id
        .strip_prefix("se-l")
        .and_then(|n| n.parse::<u64>().ok())
        .and_then(|n| store.get(n))
        .filter(|st| label_exists(st, now))
    else {
        drop(store);
        return not_found(&s, "label");
    };
    let shipped = label_at(st);
    let due = delivered_at(st);
    let mut events = vec![json!({
        "occurred_at": rfc3339(shipped),
        "city_locality": "", "state_province": "CA", "postal_code": "",
        "carrier_detail_code": "AC", "status_code": "AC",
        "status_description": "Accepted", "carrier_status_code": "03",
        "carrier_status_description": "Accepted at origin",
    })];
    let delivered = now >= due;
    if delivered {
        events.push(json!({
            "occurred_at": rfc3339(due),
            "city_locality": "", "state_province": "CA", "postal_code": "",
            "carrier_detail_code": "DE", "status_code": "DE",
            "status_description": "Delivered", "carrier_status_code": "01",
            "carrier_status_description": "Delivered",
        }));
    }
    let (code, detail, description) = if delivered {
        ("DE", "DELIVERED", "Delivered")
    } else {
        ("IT", "IN_TRANSIT", "In Transit")
    };
    Json(json!({
        "tracking_number": tracking_number(st.num()),
        "status_code": code,
        "status_detail_code": detail,
        "status_description": description,
        "carrier_code": "usps",
        "carrier_status_code": if delivered { "01" } else { "03" },
        "carrier_status_description": description,
        "ship_date": rfc3339(shipped),
        "estimated_delivery_date": rfc3339(due),
        "actual_delivery_date": if delivered { json!(rfc3339(due)) } else { json!(null) },
        "events": events,
    }))
    .into_response()
}
