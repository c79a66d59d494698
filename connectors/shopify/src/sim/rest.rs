//! The legacy REST surface: `orders.json`, `orders/{id}.json`, `orders/count.json`,
//! `shop.json`, `access_scopes.json`. Every answer carries `X-Shopify-Shop-Api-Call-Limit`.

use super::graphql::{authorized, unauthorized};
use super::render::rest_order;
use super::search::{PageInfo, decode_page_info, encode_page_info, parse_time};
use super::store::{Filter, SortKey, StatusFilter};
use super::{SimState, shop_key};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ordersync_sdk::sim::LeakyBucket;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

const MAX_LIMIT: usize = 250;
/// Parameters allowed next to `page_info` (filters are carried inside the token).
pub(super) const PAGE_INFO_COMPANIONS: [&str; 3] = ["page_info", "limit", "fields"];

/// Auth and call-limit checks shared by every REST route (faults come before, from the
/// layer); `Ok` is the header value.
pub(super) fn guard(s: &SimState, h: &HeaderMap) -> Result<HeaderValue, Box<Response>> {
    if !authorized(s, h) {
        return Err(Box::new(unauthorized()));
    }
    let (size, leak) = (s.opts.rest_bucket_size, s.opts.rest_leak_rate);
    let now = s.now_dt();
    let (admitted, used) = s.call_buckets.with(
        &shop_key(h),
        || LeakyBucket::new(size, leak, now),
        |b| (b.try_take(1.0, now), b.used()),
    );
    let header = HeaderValue::from_str(&format!("{}/{}", used.ceil() as u64, size as u64))
        .unwrap_or(HeaderValue::from_static("0/40"));
    if admitted {
        return Ok(header);
    }
    s.core.count_throttled();
    Err(Box::new((
        StatusCode::TOO_MANY_REQUESTS,
        [("x-shopify-shop-api-call-limit", header), ("retry-after", HeaderValue::from_static("2.0"))],
        Json(json!({ "errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service." })),
    )
        .into_response()))
}

pub(super) fn with_limit(limit: HeaderValue, status: StatusCode, body: Value) -> Response {
    (
        status,
        [("x-shopify-shop-api-call-limit", limit)],
        Json(body),
    )
        .into_response()
}

/// `limit` of a REST list: 50 by default, 1..=250, anything else refused (`None`).
pub(super) fn page_limit(p: &HashMap<String, String>) -> Option<usize> {
    match p.get("limit").map(|l| l.parse::<usize>()) {
        None => Some(50),
        Some(Ok(l)) if (1..=MAX_LIMIT).contains(&l) => Some(l),
        Some(_) => None,
    }
}

pub(super) fn bad(limit: HeaderValue, msg: impl Into<String>) -> Response {
    with_limit(
        limit,
        StatusCode::BAD_REQUEST,
        json!({ "errors": msg.into() }),
    )
}

fn status_filter(s: &str) -> Option<StatusFilter> {
    match s {
        "open" => Some(StatusFilter::Open),
        "closed" => Some(StatusFilter::Closed),
        "cancelled" => Some(StatusFilter::Cancelled),
        "any" => Some(StatusFilter::Any),
        _ => None,
    }
}

/// `order=` values; the sim's default when absent is `id asc`.
fn sort_of(order: &str) -> Option<(SortKey, bool)> {
    let mut it = order.split_whitespace();
    let key = match it.next()? {
        "updated_at" => SortKey::UpdatedAt,
        "created_at" | "processed_at" => SortKey::CreatedAt,
        "id" => SortKey::Id,
        _ => return None,
    };
    let reverse = match it.next().unwrap_or("asc").to_ascii_lowercase().as_str() {
        "asc" => false,
        "desc" => true,
        _ => return None,
    };
    Some((key, reverse))
}

fn time_param(p: &HashMap<String, String>, name: &str) -> Result<Option<i64>, String> {
    match p.get(name) {
        None => Ok(None),
        Some(v) => parse_time(v)
            .map(|(t, _)| Some(t))
            .ok_or_else(|| format!("{name} is not a valid date or timestamp")),
    }
}

pub async fn orders(
    State(s): State<Arc<SimState>>,
    Path(version): Path<String>,
    Query(p): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let limit_h = match guard(&s, &headers) {
        Ok(h) => h,
        Err(r) => return *r,
    };
    let limit = match page_limit(&p) {
        Some(l) => l,
        None => return bad(limit_h, "limit must be between 1 and 250"),
    };
    let info = if let Some(tok) = p.get("page_info") {
        if let Some(k) = p
            .keys()
            .find(|k| !PAGE_INFO_COMPANIONS.contains(&k.as_str()))
        {
            return bad(
                limit_h,
                format!("{k} cannot be passed when page_info is present"),
            );
        }
        match decode_page_info(tok) {
            Some(i) => i,
            None => return bad(limit_h, "page_info is invalid"),
        }
    } else {
        let (min, max) = match (
            time_param(&p, "updated_at_min"),
            time_param(&p, "updated_at_max"),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return bad(limit_h, e),
        };
        PageInfo {
            // The trap: without `status=any`, closed and cancelled orders are not listed.
            status: p.get("status").cloned().unwrap_or_else(|| "open".into()),
            min,
            max,
            order: p.get("order").cloned().unwrap_or_else(|| "id asc".into()),
            last: (i64::MIN, 0),
        }
    };
    let Some(status) = status_filter(&info.status) else {
        return bad(limit_h, "status must be open, closed, cancelled or any");
    };
    let Some((sort, reverse)) = sort_of(&info.order) else {
        return bad(limit_h, "order must be like 'updated_at asc'");
    };
    let filter = Filter {
        updated_min: info.min,
        updated_max: info.max,
        status,
    };
    let after = p.contains_key("page_info").then_some(info.last);
    let (body, next) = {
        let store = s.store.lock().unwrap_or_else(|e| e.into_inner());
        let page = store.page(sort, reverse, after, &filter, limit);
        let orders: Vec<Value> = page.orders.iter().map(|(o, _)| rest_order(o)).collect();
        let next = page
            .has_more
            .then(|| page.orders.last().map(|(_, k)| *k))
            .flatten()
            .map(|last| {
                encode_page_info(&PageInfo {
                    last,
                    ..info.clone()
                })
            });
        (json!({ "orders": orders }), next)
    };
    let mut resp = with_limit(limit_h, StatusCode::OK, body);
    if let Some(tok) = next {
        let host = shop_key(&headers);
        let link = format!(
            "<http://{host}/admin/api/{version}/orders.json?limit={limit}&page_info={tok}>; rel=\"next\""
        );
        if let Ok(v) = HeaderValue::from_str(&link) {
            resp.headers_mut().insert("link", v);
        }
    }
    resp
}

/// `orders/{id}.json` and `orders/count.json`.
pub async fn order_or_count(
    State(s): State<Arc<SimState>>,
    Path((_version, file)): Path<(String, String)>,
    Query(p): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let limit_h = match guard(&s, &headers) {
        Ok(h) => h,
        Err(r) => return *r,
    };
    let Some(stem) = file.strip_suffix(".json") else {
        return with_limit(
            limit_h,
            StatusCode::NOT_FOUND,
            json!({ "errors": "Not Found" }),
        );
    };
    if stem == "count" {
        let (min, max) = match (
            time_param(&p, "updated_at_min"),
            time_param(&p, "updated_at_max"),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return bad(limit_h, e),
        };
        let Some(status) = status_filter(p.get("status").map_or("open", String::as_str)) else {
            return bad(limit_h, "status must be open, closed, cancelled or any");
        };
        let f = Filter {
            updated_min: min,
            updated_max: max,
            status,
        };
        let n = s.store.lock().unwrap_or_else(|e| e.into_inner()).count(&f);
        return with_limit(limit_h, StatusCode::OK, json!({ "count": n }));
    }
    let order = stem.parse::<u64>().ok().and_then(|id| {
        s.store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .map(rest_order)
    });
    match order {
        Some(o) => with_limit(limit_h, StatusCode::OK, json!({ "order": o })),
        None => with_limit(
            limit_h,
            StatusCode::NOT_FOUND,
            json!({ "errors": "Not Found" }),
        ),
    }
}

pub async fn shop(State(s): State<Arc<SimState>>, headers: HeaderMap) -> Response {
    let limit_h = match guard(&s, &headers) {
        Ok(h) => h,
        Err(r) => return *r,
    };
    let host = shop_key(&headers);
    with_limit(
        limit_h,
        StatusCode::OK,
        json!({ "shop": {
            "id": 548_380_009u64, "name": "Simulated Shop", "domain": host,
            "myshopify_domain": "sim-shop.myshopify.com", "currency": "USD",
            "iana_timezone": "America/New_York", "timezone": "(GMT-05:00) Eastern Time (US & Canada)",
            "plan_name": "basic", "country_code": "US",
        } }),
    )
}

pub async fn access_scopes(State(s): State<Arc<SimState>>, headers: HeaderMap) -> Response {
    let limit_h = match guard(&s, &headers) {
        Ok(h) => h,
        Err(r) => return *r,
    };
    with_limit(
        limit_h,
        StatusCode::OK,
        json!({ "access_scopes": [{ "handle": "read_orders" }, { "handle": "read_all_orders" }] }),
    )
}
