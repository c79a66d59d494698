//! `getOrders` (`GET /sell/fulfillment/v1/order`) and `getOrder`
//! (`GET /sell/fulfillment/v1/order/{orderId}`), behind the checks every call passes: an
//! HTML maintenance page when switched on, a user access token, the app's daily call quota.

use super::filter::{self, FilterError};
use super::model::parse_order_id;
use super::render::{View, render};
use super::{Maintenance, SimState};
use axum::Json;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ordersync_sdk::sim::FixedWindow;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

const PATH: &str = "/sell/fulfillment/v1/order";
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;
const MAX_ORDER_IDS: usize = 50;

/// An eBay error body (`ErrorDetailV3`).
pub fn ebay_error(
    status: StatusCode,
    id: i64,
    domain: &str,
    category: &str,
    message: &str,
    parameter: Option<(&str, &str)>,
) -> Response {
    let mut e = json!({
        "errorId": id,
        "domain": domain,
        "category": category,
        "message": message,
        "longMessage": message,
    });
    if let Some((name, value)) = parameter {
        e["parameters"] = json!([{ "name": name, "value": value }]);
    }
    (status, Json(json!({ "errors": [e] }))).into_response()
}

fn request_error(id: i64, message: &str, name: &str, value: &str) -> Response {
    ebay_error(
        StatusCode::BAD_REQUEST,
        id,
        "API_FULFILLMENT",
        "REQUEST",
        message,
        Some((name, value)),
    )
}

/// The 429 of a used-up quota (eBay sends no `Retry-After`).
pub fn too_many() -> Response {
    ebay_error(
        StatusCode::TOO_MANY_REQUESTS,
        2001,
        "ACCESS",
        "REQUEST",
        "Too many requests. The request limit has been reached for the resource.",
        None,
    )
}

const MAINTENANCE_PAGE: &str = "<!DOCTYPE html><html><head><title>eBay</title></head><body><h1>We're sorry</h1><p>Our site is temporarily unavailable for scheduled maintenance.</p></body></html>";

/// Maintenance, token and quota checks; `Err` is the answer to send.
fn guard(s: &SimState, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let html = |status| {
        Box::new(
            (
                status,
                [("content-type", "text/html; charset=utf-8")],
                MAINTENANCE_PAGE,
            )
                .into_response(),
        )
    };
    match s.maintenance() {
        Maintenance::Off => {}
        Maintenance::Unavailable => return Err(html(StatusCode::SERVICE_UNAVAILABLE)),
        Maintenance::PageWithOk => return Err(html(StatusCode::OK)),
    }
    let caller = s
        .auth
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .caller(headers, s.now_secs());
    let client_id = match caller {
        super::auth::Caller::User { client_id } => client_id,
        super::auth::Caller::Forbidden => {
            return Err(Box::new(ebay_error(
                StatusCode::FORBIDDEN,
                1100,
                "ACCESS",
                "REQUEST",
                "Access denied: Insufficient permissions to fulfill the request.",
                None,
            )));
        }
        super::auth::Caller::Rejected => {
            return Err(Box::new(ebay_error(
                StatusCode::UNAUTHORIZED,
                1001,
                "OAuth",
                "REQUEST",
                "Invalid access token",
                None,
            )));
        }
    };
    if let Some(limit) = s.opts.daily_quota {
        let now = s.clock.now();
        let hit = s.quota.with(
            &client_id,
            || FixedWindow::new(limit, 86_400),
            |w| w.hit(now),
        );
        if !hit.admitted {
            s.core.count_throttled();
            return Err(Box::new(too_many()));
        }
    }
    Ok(())
}

fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("api.ebay.com");
    format!("http://{host}")
}

/// Whether `fieldGroups` asks for the tax breakdown; any other value is refused.
fn field_groups(p: &HashMap<String, String>) -> Result<bool, Box<Response>> {
    match p.get("fieldGroups").map(String::as_str) {
        None => Ok(false),
        Some("TAX_BREAKDOWN") => Ok(true),
        Some(other) => Err(Box::new(request_error(
            32800,
            "Invalid field group",
            "fieldGroups",
            other,
        ))),
    }
}

/// The raw query with `offset` set to `offset`.
fn with_offset(raw: &str, offset: usize) -> String {
    let mut parts: Vec<String> = raw
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("offset="))
        .map(str::to_string)
        .collect();
    parts.push(format!("offset={offset}"));
    parts.join("&")
}

fn filter_error(e: FilterError) -> Response {
    request_error(e.id, e.message, "filter", &e.parameter)
}

/// `GET /sell/fulfillment/v1/order`.
pub async fn orders(
    State(s): State<Arc<SimState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = guard(&s, &headers) {
        return *r;
    }
    let raw = raw.unwrap_or_default();
    if filter::has_unencoded(&raw) {
        return request_error(
            30800,
            "Invalid filter value: [ ] { } | must be percent-encoded",
            "filter",
            "",
        );
    }
    let breakdown = match field_groups(&p) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let now = s.now_ms();
    let base = base(&headers);
    let view = View {
        now,
        breakdown,
        full: false,
        base: &base,
    };
    let store = s.store.lock().unwrap_or_else(|e| e.into_inner());
    // `orderIds` overrides every other parameter.
    if let Some(ids) = p.get("orderIds").filter(|v| !v.is_empty()) {
        let ids: Vec<&str> = ids.split(',').map(str::trim).collect();
        if ids.len() > MAX_ORDER_IDS {
            return request_error(
                30900,
                "Exceeded maximum number of order IDs (the current limit is 50)",
                "orderIds",
                "",
            );
        }
        let orders: Vec<Value> = ids
            .iter()
            .filter_map(|id| parse_order_id(id))
            .filter_map(|id| store.lookup(id, now))
            .map(|o| render(o, &view))
            .collect();
        return Json(json!({
            "href": format!("{base}{PATH}?{raw}"),
            "total": orders.len(),
            "limit": orders.len(),
            "offset": 0,
            "orders": orders,
        }))
        .into_response();
    }
    let limit = match p.get("limit").map(|l| l.parse::<usize>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(l)) if (1..=MAX_LIMIT).contains(&l) => l,
        Some(_) => {
            return request_error(31100, "Invalid limit", "limit", p["limit"].as_str());
        }
    };
    let offset = match p.get("offset").map(|o| o.parse::<usize>()) {
        None => 0,
        Some(Ok(o)) => o,
        Some(Err(_)) => {
            return request_error(31000, "Invalid offset", "offset", p["offset"].as_str());
        }
    };
    let f = match filter::parse(p.get("filter").map(String::as_str), now) {
        Ok(f) => f,
        Err(e) => return filter_error(e),
    };
    let hits = store.search(&f, now);
    let total = hits.len();
    let orders: Vec<Value> = hits
        .iter()
        .skip(offset)
        .take(limit)
        .map(|o| render(o, &view))
        .collect();
    let mut page = json!({
        "href": format!("{base}{PATH}?{raw}"),
        "total": total,
        "limit": limit,
        "offset": offset,
        "orders": orders,
    });
    // eBay's `next` is there while `offset + limit` has not passed the total, so a total that
    // is a multiple of the limit ends with an empty page.
    if offset + limit <= total {
        page["next"] = json!(format!(
            "{base}{PATH}?{}",
            with_offset(&raw, offset + limit)
        ));
    }
    if offset > 0 {
        page["prev"] = json!(format!(
            "{base}{PATH}?{}",
            with_offset(&raw, offset.saturating_sub(limit))
        ));
    }
    Json(page).into_response()
}

/// `GET /sell/fulfillment/v1/order/{orderId}`: the real `cancelStatus`.
pub async fn order(
    State(s): State<Arc<SimState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = guard(&s, &headers) {
        return *r;
    }
    let breakdown = match field_groups(&p) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let now = s.now_ms();
    let base = base(&headers);
    let store = s.store.lock().unwrap_or_else(|e| e.into_inner());
    match parse_order_id(&id).and_then(|n| store.lookup(n, now)) {
        Some(o) => Json(render(
            o,
            &View {
                now,
                breakdown,
                full: true,
                base: &base,
            },
        ))
        .into_response(),
        None => ebay_error(
            StatusCode::NOT_FOUND,
            32100,
            "API_FULFILLMENT",
            "REQUEST",
            "Invalid order ID",
            Some(("orderId", &id)),
        ),
    }
}
