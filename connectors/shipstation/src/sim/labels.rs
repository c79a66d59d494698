//! Labels and tracking derived from the clock: a shipment gets its label a day after creation,
//! is in transit an hour later and is delivered 2–4 days after creation (deterministic from
//! its id), unless cancelled. Each of those tracking changes moves the shipment's
//! `modified_at`, which is what a `modified_at_start` listing (the delivery feed) sees.

use super::SimState;
use super::errors::not_found;
use super::list::links;
use super::state::{Stored, parse_shipment_id, shipment_id};
use super::view::rfc3339;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

pub fn label_at(s: &Stored) -> OffsetDateTime {
    s.created_at + Duration::days(1)
}

pub fn in_transit_at(s: &Stored) -> OffsetDateTime {
    label_at(s) + Duration::hours(1)
}

pub fn delivered_at(s: &Stored) -> OffsetDateTime {
    // 48..=96 hours, spread by a multiplicative hash of the id.
    let h = s.num().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    s.created_at + Duration::hours(48 + (h % 49) as i64)
}

pub fn label_exists(s: &Stored, now: OffsetDateTime) -> bool {
    !s.cancelled && now >= label_at(s)
}

pub fn is_delivered(s: &Stored, now: OffsetDateTime) -> bool {
    label_exists(s, now) && now >= delivered_at(s)
}

/// The shipment's `modified_at` at `now`: its last write, or the last tracking change of its
/// label (purchased, in transit, delivered) that has happened by now.
pub fn modified_at(s: &Stored, now: OffsetDateTime) -> OffsetDateTime {
    if !label_exists(s, now) {
        return s.modified_at;
    }
    [label_at(s), in_transit_at(s), delivered_at(s)]
        .into_iter()
        .filter(|t| *t <= now)
        .fold(s.modified_at, OffsetDateTime::max)
}

/// The label's `tracking_status` (spec enum `tracking_status`).
fn tracking_status(s: &Stored, now: OffsetDateTime) -> &'static str {
    if is_delivered(s, now) {
        "delivered"
    } else if now >= in_transit_at(s) {
        "in_transit"
    } else {
        "unknown"
    }
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

/// `GET /v2/labels?shipment_id=` (the one filter the connector uses; without it nothing is
/// listed). A shipment has at most one label here, so there is one page.
pub async fn list(
    State(s): State<Arc<SimState>>,
    headers: HeaderMap,
    Query(q): Query<LabelQuery>,
) -> Response {
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
                "ship_date": rfc3339(label_at(st)),
                "created_at": rfc3339(label_at(st)),
                "shipment_cost": {"currency": "usd", "amount": 7.25},
                "insurance_cost": {"currency": "usd", "amount": 0},
                "tracking_number": tracking_number(st.num()),
                "is_return_label": false,
                "is_international": false,
                "carrier_id": "se-1",
                "service_code": "usps_priority_mail",
                "package_code": "package",
                "voided": false,
                "voided_at": null,
                "label_format": "pdf",
                "display_scheme": "label",
                "label_layout": "4x6",
                "trackable": true,
                "carrier_code": "usps",
                "confirmation": "none",
                "tracking_status": tracking_status(st, now),
            })
        })
        .into_iter()
        .collect();
    drop(store);
    let total = labels.len();
    let pages = usize::from(total > 0);
    Json(json!({
        "labels": labels,
        "total": total,
        "page": 1,
        "pages": pages,
        "links": links(&headers, "/v2/labels", 1, pages.max(1)),
    }))
    .into_response()
}

/// `GET /v2/labels/{label_id}/track`: accepted at label time, in transit an hour later, then
/// delivered with `actual_delivery_date`. Codes are the spec's `tracking_status_detail_code`
/// values (the spec types `status_code` with that enum too).
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
    let event = |at: OffsetDateTime, code: &str, description: &str, carrier: &str| {
        json!({
            "occurred_at": rfc3339(at),
            "city_locality": "", "state_province": "TX", "postal_code": "",
            "carrier_detail_code": carrier, "status_code": code, "status_detail_code": code,
            "status_description": description, "carrier_status_code": carrier,
            "carrier_status_description": description,
        })
    };
    let shipped = label_at(st);
    let due = delivered_at(st);
    let mut events = vec![event(shipped, "RECEIVED_BY_CARRIER", "Accepted", "03")];
    if now >= in_transit_at(st) {
        events.push(event(in_transit_at(st), "IN_TRANSIT", "In Transit", "10"));
    }
    let delivered = is_delivered(st, now);
    if delivered {
        events.push(event(due, "DELIVERED", "Delivered", "01"));
    }
    let (code, description, carrier) = if delivered {
        ("DELIVERED", "Delivered", "01")
    } else if now >= in_transit_at(st) {
        ("IN_TRANSIT", "In Transit", "10")
    } else {
        ("RECEIVED_BY_CARRIER", "Accepted", "03")
    };
    let mut body = json!({
        "tracking_number": tracking_number(st.num()),
        "status_code": code,
        "status_detail_code": code,
        "status_description": description,
        "carrier_code": "usps",
        "carrier_status_code": carrier,
        "carrier_status_description": description,
        "ship_date": rfc3339(shipped),
        "estimated_delivery_date": rfc3339(due),
        "events": events,
    });
    // `actual_delivery_date` is a `date_time`, never null: absent until delivered.
    if delivered {
        body["actual_delivery_date"] = json!(rfc3339(due));
    }
    Json(body).into_response()
}
