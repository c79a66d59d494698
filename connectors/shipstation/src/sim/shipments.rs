//! `/v2/shipments` writes and lookups: batch create, get by id / external id, full update,
//! cancel.

use super::SimState;
use super::errors::{not_found, v2_error};
use super::labels::label_exists;
use super::state::parse_shipment_id;
use super::view::{View, view};
use crate::mapping::MAX_ID_LEN;
use crate::wire::{CreateShipmentsRequest, ShipmentBody};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::Arc;

/// Per-shipment validation of the spec's required fields. Messages start with the error
/// code, the way clients can tell a conflict from a bad field.
fn validate(b: &ShipmentBody) -> Vec<String> {
    let mut errs = Vec::new();
    let Some(to) = &b.ship_to else {
        errs.push("field_value_required: ship_to is required".to_string());
        return errs;
    };
    for (field, v) in [
        ("name", &to.name),
        ("phone", &to.phone),
        ("address_line1", &to.address_line1),
        ("city_locality", &to.city_locality),
        ("state_province", &to.state_province),
        ("postal_code", &to.postal_code),
        ("country_code", &to.country_code),
    ] {
        if v.as_deref().is_none_or(|s| s.trim().is_empty()) {
            errs.push(format!("field_value_required: ship_to.{field} is required"));
        }
    }
    errs
}

/// What a `/_sim/reject`ed write answers: the platform's own invalid-field refusal (its
/// real messages may echo the address; this one names only the field).
const REJECTED: &str = "invalid_field_value: ship_to.address_line1 is not a deliverable address";

fn bad_body(s: &SimState) -> Response {
    v2_error(
        s,
        StatusCode::BAD_REQUEST,
        "validation",
        "invalid_field_value",
        "The request body could not be parsed.",
    )
}

/// `POST /v2/shipments`.
pub async fn create(State(s): State<Arc<SimState>>, raw: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<CreateShipmentsRequest>(&raw) else {
        return bad_body(&s);
    };
    if req.shipments.is_empty() {
        return v2_error(
            &s,
            StatusCode::BAD_REQUEST,
            "validation",
            "request_body_required",
            "shipments must contain at least one shipment",
        );
    }
    let now = s.clock.now();
    let mut store = s.store();
    let mut nums: Vec<Result<u64, Vec<String>>> = Vec::with_capacity(req.shipments.len());
    let mut bodies = Vec::with_capacity(req.shipments.len());
    for mut b in req.shipments {
        // The real API silently truncates; clients must keep their ids short.
        if let Some(ext) = &mut b.external_shipment_id
            && ext.chars().count() > MAX_ID_LEN
        {
            *ext = ext.chars().take(MAX_ID_LEN).collect();
        }
        let mut errs = validate(&b);
        // `/_sim/reject`: refused the way ShipStation refuses a bad field, per shipment.
        if errs.is_empty() && s.core.take_reject() {
            errs.push(REJECTED.to_string());
        }
        if let Some(ext) = &b.external_shipment_id
            && store.num_of(ext).is_some()
        {
            errs.push(
                "identifier_conflict: a shipment with this external_shipment_id already exists"
                    .to_string(),
            );
        }
        if !errs.is_empty() {
            nums.push(Err(errs));
            bodies.push(b);
            continue;
        }
        let num = store.insert(b.external_shipment_id.clone(), b, now);
        nums.push(Ok(num));
        bodies.push(ShipmentBody::default());
    }
    let mut has_errors = false;
    let shipments: Vec<View<'_>> = nums
        .into_iter()
        .zip(&bodies)
        .map(|(r, b)| match r {
            Ok(num) => match store.get(num) {
                Some(st) => view(&st.body, Some((st, now))),
                None => view(b, None),
            },
            Err(errs) => {
                has_errors = true;
                view(b, None).with_errors(errs)
            }
        })
        .collect();
    let bytes = match serde_json::to_vec(&CreateAnswer {
        has_errors,
        shipments,
    }) {
        Ok(b) => b,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    json_bytes(StatusCode::OK, bytes)
}

#[derive(Serialize)]
struct CreateAnswer<'a> {
    has_errors: bool,
    shipments: Vec<View<'a>>,
}

fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    (status, [("content-type", "application/json")], bytes).into_response()
}

fn one(s: &SimState, num: Option<u64>) -> Response {
    let now = s.clock.now();
    let store = s.store();
    match num.and_then(|n| store.get(n)) {
        Some(st) => match serde_json::to_vec(&view(&st.body, Some((st, now)))) {
            Ok(b) => json_bytes(StatusCode::OK, b),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        None => not_found(s, "shipment"),
    }
}

/// `GET /v2/shipments/{shipment_id}`.
pub async fn get_by_id(State(s): State<Arc<SimState>>, Path(id): Path<String>) -> Response {
    one(&s, parse_shipment_id(&id))
}

/// `GET /v2/shipments/external_shipment_id/{external_shipment_id}`.
pub async fn get_by_external_id(
    State(s): State<Arc<SimState>>,
    Path(ext): Path<String>,
) -> Response {
    let num = s.store().num_of(&ext);
    one(&s, num)
}

/// `PUT /v2/shipments/{shipment_id}`: a full update; `external_shipment_id` is immutable.
pub async fn update(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    raw: Bytes,
) -> Response {
    let Ok(mut b) = serde_json::from_slice::<ShipmentBody>(&raw) else {
        return bad_body(&s);
    };
    let errs = validate(&b);
    if errs.is_empty() && s.core.take_reject() {
        return v2_error(
            &s,
            StatusCode::BAD_REQUEST,
            "validation",
            "invalid_field_value",
            REJECTED,
        );
    }
    if let Some(first) = errs.first() {
        return v2_error(
            &s,
            StatusCode::BAD_REQUEST,
            "validation",
            "field_value_required",
            first,
        );
    }
    let now = s.clock.now();
    {
        let mut store = s.store();
        let Some(st) = parse_shipment_id(&id).and_then(|n| store.get_mut(n)) else {
            drop(store);
            return not_found(&s, "shipment");
        };
        if st.cancelled || label_exists(st, now) {
            drop(store);
            return v2_error(
                &s,
                StatusCode::BAD_REQUEST,
                "business_rules",
                "invalid_status",
                "Only a pending shipment without a label can be updated.",
            );
        }
        if let Some(ext) = &b.external_shipment_id {
            let ext: String = ext.chars().take(MAX_ID_LEN).collect();
            if Some(&ext) != st.body.external_shipment_id.as_ref() {
                drop(store);
                return v2_error(
                    &s,
                    StatusCode::BAD_REQUEST,
                    "validation",
                    "identifiers_must_match",
                    "external_shipment_id cannot be changed.",
                );
            }
        }
        b.external_shipment_id = st.body.external_shipment_id.take();
        st.body = b;
        st.updates += 1;
        st.modified_at = now;
    }
    one(&s, parse_shipment_id(&id))
}

/// `PUT /v2/shipments/{shipment_id}/cancel` → 204; refused once a label exists.
pub async fn cancel(State(s): State<Arc<SimState>>, Path(id): Path<String>) -> Response {
    let now = s.clock.now();
    let mut store = s.store();
    let Some(st) = parse_shipment_id(&id).and_then(|n| store.get_mut(n)) else {
        drop(store);
        return not_found(&s, "shipment");
    };
    if label_exists(st, now) {
        drop(store);
        return v2_error(
            &s,
            StatusCode::BAD_REQUEST,
            "business_rules",
            "invalid_status",
            "A shipment with a label cannot be cancelled; void the label first.",
        );
    }
    st.cancelled = true;
    st.modified_at = now;
    StatusCode::NO_CONTENT.into_response()
}
