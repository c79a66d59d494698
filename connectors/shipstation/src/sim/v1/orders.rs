//! The V1 order routes.

use super::super::SimState;
use super::validate::{ModelState, invalid, order as validate_order};
use super::view::{effective_status, num_of_order_id, order, order_id, ships_at};
use crate::v1::mapping::pacific;
use crate::v1::wire::OrderBody;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Orders one `createorders` may carry.
pub const MAX_BULK: usize = 100;

/// What a `/_sim/reject`ed write answers: V1's own field refusal (naming no buyer data).
fn rejected(prefix: &str) -> ModelState {
    let mut ms = ModelState::new();
    ms.insert(
        format!("{prefix}.shipTo.street1"),
        json!(["The address could not be validated."]),
    );
    ms
}

fn locked(prefix: &str) -> ModelState {
    let mut ms = ModelState::new();
    ms.insert(
        format!("{prefix}.orderStatus"),
        json!(["Orders in status shipped or cancelled are locked and cannot be updated."]),
    );
    ms
}

fn json_bytes(status: StatusCode, v: &impl Serialize) -> Response {
    match serde_json::to_vec(v) {
        Ok(b) => (
            status,
            [("content-type", "application/json; charset=utf-8")],
            b,
        )
            .into_response(),
        Err(_) => server_error(),
    }
}

/// V1's 500 shape.
fn server_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({
            "Message": "An error has occurred.",
            "ExceptionMessage": "Object reference not set to an instance of an object.",
            "ExceptionType": "System.NullReferenceException",
            "StackTrace": null,
        })),
    )
        .into_response()
}

fn bad_request(ms: ModelState) -> Response {
    (StatusCode::BAD_REQUEST, Json(invalid(ms))).into_response()
}

/// Upserts one validated order: a new one, or the holder of its `orderKey` unless that is
/// shipped or cancelled. Without an `orderKey` ShipStation makes one, so every call creates.
fn upsert(s: &SimState, mut b: OrderBody, prefix: &str) -> Result<u64, ModelState> {
    if s.core.take_reject() {
        return Err(rejected(prefix));
    }
    let now = s.clock.now();
    let mut store = s.v1_store();
    let key = b.order_key.clone().filter(|k| !k.is_empty());
    let cancelled = b.order_status.as_deref() == Some("cancelled");
    match key.as_deref().and_then(|k| store.num_of(k)) {
        Some(num) => {
            let held = store.get(num).ok_or_else(|| locked(prefix))?;
            if matches!(effective_status(held, now), "shipped" | "cancelled") {
                return Err(locked(prefix));
            }
            store.update(num, b, now);
            if let Some(e) = store.get_mut(num) {
                e.cancelled = cancelled;
            }
            Ok(num)
        }
        None => {
            let key = key.unwrap_or_else(|| format!("ss-generated-{}", store.len() + 1));
            b.order_key = Some(key.clone());
            let num = store.insert(Some(key), b, now);
            if let Some(e) = store.get_mut(num) {
                e.cancelled = cancelled;
            }
            Ok(num)
        }
    }
}

fn one(s: &SimState, num: u64, full: bool) -> Response {
    let now = s.clock.now();
    let store = s.v1_store();
    match store.get(num) {
        Some(o) => json_bytes(StatusCode::OK, &order(o, now, full)),
        None => not_found(),
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"Message": "No HTTP resource was found that matches the request URI."})),
    )
        .into_response()
}

/// `POST /orders/createorder`.
pub async fn create_one(State(s): State<Arc<SimState>>, raw: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    let b = match validate_order(&v, "apiOrder") {
        Ok(b) => b,
        Err(ms) => return bad_request(ms),
    };
    match upsert(&s, b, "apiOrder") {
        Ok(num) => one(&s, num, false),
        Err(ms) => bad_request(ms),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BulkRow {
    order_id: Option<u64>,
    order_number: Option<String>,
    order_key: Option<String>,
    success: bool,
    error_message: Option<String>,
}

/// Flattens a ModelState into the one line V1 puts in a failed row's `errorMessage`.
fn message(ms: &ModelState) -> String {
    let parts: Vec<String> = ms
        .iter()
        .map(|(k, v)| {
            let texts: Vec<&str> = v
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            format!("{k}: {}", texts.join(" "))
        })
        .collect();
    format!("The request is invalid. {}", parts.join("; "))
}

/// `POST /orders/createorders`: a JSON array of at most 100 orders, one result each.
pub async fn create_many(State(s): State<Arc<SimState>>, raw: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    let Some(list) = v.as_array() else {
        let mut ms = ModelState::new();
        ms.insert(
            "apiOrders".into(),
            json!(["Cannot deserialize the current JSON object (e.g. {\"name\":\"value\"}) into type 'System.Collections.Generic.List`1[ShipStation.Api.Models.Order]' because the type requires a JSON array (e.g. [1,2,3]) to deserialize correctly."]),
        );
        return bad_request(ms);
    };
    if list.is_empty() || list.len() > MAX_BULK {
        let mut ms = ModelState::new();
        ms.insert(
            "apiOrders".into(),
            json!(["Between 1 and 100 orders can be created at a time."]),
        );
        return bad_request(ms);
    }
    let mut results = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let prefix = format!("apiOrders[{i}]");
        let number = item
            .get("orderNumber")
            .and_then(Value::as_str)
            .map(str::to_string);
        let key = item
            .get("orderKey")
            .and_then(Value::as_str)
            .map(str::to_string);
        let outcome = validate_order(item, &prefix).and_then(|b| upsert(&s, b, &prefix));
        results.push(match outcome {
            Ok(num) => BulkRow {
                order_id: Some(order_id(num)),
                order_number: number,
                order_key: s.v1_store().get(num).and_then(|o| o.body.order_key.clone()),
                success: true,
                error_message: None,
            },
            Err(ms) => BulkRow {
                order_id: None,
                order_number: number,
                order_key: key,
                success: false,
                error_message: Some(message(&ms)),
            },
        });
    }
    let has_errors = results.iter().any(|r| !r.success);
    json_bytes(
        StatusCode::OK,
        &json!({ "hasErrors": has_errors, "results": results }),
    )
}

/// `GET /orders/{orderId}`.
pub async fn get_one(State(s): State<Arc<SimState>>, Path(id): Path<String>) -> Response {
    match id.parse::<u64>().ok().and_then(num_of_order_id) {
        Some(num) => one(&s, num, true),
        None => not_found(),
    }
}

fn page_params(q: &BTreeMap<String, String>) -> (usize, usize) {
    let get = |k: &str, d: usize| {
        q.iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(k))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .filter(|n| *n >= 1)
            .unwrap_or(d)
    };
    (get("page", 1), get("pageSize", 100).min(500))
}

fn param<'a>(q: &'a BTreeMap<String, String>, k: &str) -> Option<&'a str> {
    q.iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(k))
        .map(|(_, v)| v.as_str())
}

/// `GET /orders?orderNumber=&orderStatus=&page=&pageSize=` → `{orders, total, page, pages}`
/// (query names are case-insensitive, as on the ASP.NET API).
pub async fn list(
    State(s): State<Arc<SimState>>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let (page, size) = page_params(&q);
    let now = s.clock.now();
    let store = s.v1_store();
    let hits: Vec<_> = store
        .iter()
        .filter(|o| {
            param(&q, "orderNumber").is_none_or(|n| o.body.order_number.as_deref() == Some(n))
        })
        .filter(|o| param(&q, "orderStatus").is_none_or(|st| effective_status(o, now) == st))
        .collect();
    let total = hits.len();
    let orders: Vec<_> = hits
        .into_iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .map(|o| order(o, now, true))
        .collect();
    json_bytes(
        StatusCode::OK,
        &ListAnswer {
            orders,
            total,
            page,
            pages: total.div_ceil(size),
        },
    )
}

#[derive(Serialize)]
struct ListAnswer<'a> {
    orders: Vec<super::view::OrderView<'a>>,
    total: usize,
    page: usize,
    pages: usize,
}

/// `GET /shipments?orderId=`: the label of an order that has shipped (none before, none for
/// a cancelled one). V1 has no delivery date.
pub async fn shipments(
    State(s): State<Arc<SimState>>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let now = s.clock.now();
    let store = s.v1_store();
    let wanted = param(&q, "orderId").and_then(|v| v.parse::<u64>().ok());
    let list: Vec<Value> = store
        .iter()
        .filter(|o| wanted.is_none_or(|id| order_id(o.num()) == id))
        .filter(|o| effective_status(o, now) == "shipped")
        .map(|o| {
            json!({
                "shipmentId": 50_000_000 + o.num(),
                "orderId": order_id(o.num()),
                "orderKey": o.body.order_key,
                "userId": null,
                "orderNumber": o.body.order_number,
                "createDate": pacific(ships_at(o)),
                "shipDate": pacific(ships_at(o))[..10],
                "shipmentCost": 7.25,
                "insuranceCost": 0,
                "trackingNumber": format!("9400{:018}", o.num()),
                "isReturnLabel": false,
                "batchNumber": null,
                "carrierCode": "stamps_com",
                "serviceCode": "usps_priority_mail",
                "packageCode": "package",
                "confirmation": "none",
                "warehouseId": 98765,
                "voided": false,
                "voidDate": null,
                "marketplaceNotified": false,
                "notifyErrorMessage": null,
                "shipmentItems": null,
            })
        })
        .collect();
    let total = list.len();
    Json(json!({ "shipments": list, "total": total, "page": 1, "pages": usize::from(total > 0) }))
        .into_response()
}
