//! Labels and tracking derived from the clock: a shipment gets its label a day after creation,
//! is in transit an hour later and is delivered 2–4 days after creation (deterministic from
//! its id), unless cancelled. Each of those tracking changes moves the shipment's
//! `modified_at`, which is what a `modified_at_start` listing (the delivery feed) sees.

use super::SimState;
use super::errors::not_found;
use super::list::{Paging, bad, links, paging, time_param};
use super::state::{Stored, shipment_id};
use super::view::rfc3339;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
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

/// When the label last changed: bought, in transit, delivered.
fn label_modified_at(s: &Stored, now: OffsetDateTime) -> OffsetDateTime {
    [label_at(s), in_transit_at(s), delivered_at(s)]
        .into_iter()
        .filter(|t| *t <= now)
        .fold(label_at(s), OffsetDateTime::max)
}

fn label_view(st: &Stored, now: OffsetDateTime) -> Value {
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
}

/// The spec's query parameters of `GET /v2/labels`; others are refused.
const KNOWN: [&str; 14] = [
    "label_status",
    "service_code",
    "carrier_id",
    "tracking_number",
    "batch_id",
    "rate_id",
    "shipment_id",
    "warehouse_id",
    "created_at_start",
    "created_at_end",
    "page",
    "page_size",
    "sort_dir",
    "sort_by",
];

/// `GET /v2/labels`: the spec's filters (`label_status`, `shipment_id`, `tracking_number`,
/// `carrier_id`, `service_code`, `created_at_start/end`, inclusive), sorting (`sort_by`
/// `created_at` | `modified_at`, `sort_dir` default `desc`), page numbers (`page` from 1,
/// `page_size` default 25) and the paged envelope `{labels, total, page, pages, links}`.
/// Every live shipment has one completed label here (none is voided); `batch_id`, `rate_id`
/// and `warehouse_id` are not modelled and match nothing. Each request walks the whole
/// account, as a filter over a table would.
pub async fn list(
    State(s): State<Arc<SimState>>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let Paging {
        page,
        size,
        by_modified,
        desc,
    } = match paging(&q, &KNOWN) {
        Ok(p) => p,
        Err(field) => return bad(&s, &field),
    };
    if let Some(st) = q.get("label_status")
        && !["processing", "completed", "error", "voided"].contains(&st.as_str())
    {
        return bad(&s, "label_status");
    }
    let (Ok(start), Ok(end)) = (
        time_param(&q, "created_at_start"),
        time_param(&q, "created_at_end"),
    ) else {
        return bad(&s, "created_at_start");
    };
    let unmodelled = ["batch_id", "rate_id", "warehouse_id"]
        .iter()
        .any(|k| q.contains_key(*k));
    let matches = |name: &str, v: &str| q.get(name).is_none_or(|w| w == v);
    // What every label here shares.
    let live = !unmodelled
        && matches("label_status", "completed")
        && matches("carrier_id", "se-1")
        && matches("service_code", "usps_priority_mail");
    let now = s.clock.now();
    let store = s.store();
    let mut hits: Vec<(OffsetDateTime, &Stored)> = store
        .iter()
        .filter(|_| live)
        .filter(|st| label_exists(st, now))
        .filter(|st| matches("shipment_id", &shipment_id(st.num())))
        .filter(|st| matches("tracking_number", &tracking_number(st.num())))
        .filter(|st| {
            let c = label_at(st);
            start.is_none_or(|a| c >= a) && end.is_none_or(|b| c <= b)
        })
        .map(|st| {
            let key = if by_modified {
                label_modified_at(st, now)
            } else {
                label_at(st)
            };
            (key, st)
        })
        .collect();
    // Ties are broken by creation number, so pages are stable while nothing changes.
    hits.sort_by(|(ka, a), (kb, b)| {
        let ord = ka.cmp(kb).then(a.num().cmp(&b.num()));
        if desc { ord.reverse() } else { ord }
    });
    let total = hits.len();
    let pages = total.div_ceil(size).max(1);
    let labels: Vec<Value> = hits
        .into_iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .map(|(_, st)| label_view(st, now))
        .collect();
    drop(store);
    Json(json!({
        "labels": labels,
        "total": total,
        "page": page,
        "pages": pages,
        "links": links(&headers, "/v2/labels", page, pages),
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
