//! The REST routes: `GET /orders`, `GET /orders/{id}`, `GET /orders/{id}/refunds`.

use super::auth;
use super::order::SimOrder;
use super::query::{ListQuery, OrderBy, Params};
use super::render::{self, View};
use super::{SimState, wp};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::Arc;

/// `http://{host}` as the client addressed the store (the links and what OAuth signs).
fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|s| *s == "https")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

fn authenticate(
    s: &SimState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    params: &Params,
    single: bool,
) -> Result<(), Box<Response>> {
    let url = format!("{}{}", origin(headers), uri.path());
    auth::check(
        &s.opts.keys,
        &s.nonces,
        s.now(),
        method,
        &url,
        params,
        headers,
        single,
        s.opts.strip_authorization,
    )
    .map(|_| ())
}

fn json_list(items: Vec<Value>, total: usize, pages: u64, links: Vec<String>) -> Response {
    let mut r = axum::Json(Value::Array(items)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        h.insert("x-wp-total", v);
    }
    if let Ok(v) = HeaderValue::from_str(&pages.to_string()) {
        h.insert("x-wp-totalpages", v);
    }
    if !links.is_empty()
        && let Ok(v) = HeaderValue::from_str(&links.join(", "))
    {
        h.insert(header::LINK, v);
    }
    h.insert("allow", HeaderValue::from_static("GET, POST"));
    r
}

/// `<…?page=N…>; rel="…"` with the request's own query, `page` replaced.
fn link(base: &str, params: &Params, page: u64, rel: &str) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params.pairs.iter().filter(|(k, _)| k != "page") {
        ser.append_pair(k, v);
    }
    ser.append_pair("page", &page.to_string());
    format!("<{base}?{}>; rel=\"{rel}\"", ser.finish())
}

fn paginate(total: usize, q: &ListQuery) -> (usize, u64) {
    let pages = (total as u64).div_ceil(q.per_page);
    let start = q.offset.unwrap_or((q.page - 1).saturating_mul(q.per_page));
    (usize::try_from(start).unwrap_or(usize::MAX), pages)
}

pub async fn list(
    State(s): State<Arc<SimState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let params = Params::parse(uri.query());
    if let Err(r) = authenticate(&s, &method, &uri, &headers, &params, false) {
        return *r;
    }
    let tz = s.opts.tz;
    let q = match ListQuery::parse(&params, tz) {
        Ok(q) => q,
        Err(errs) => return wp::invalid_params(&errs),
    };
    let base = origin(&headers);
    let store = s.store.lock().unwrap_or_else(|e| e.into_inner());
    let mut hits: Vec<&SimOrder> = store
        .book
        .iter()
        .filter(|o| q.matches(o.status, o.created, o.updated, o.id, tz))
        .collect();
    // `orderby` then `ID`, both in `order`'s direction (WP_Query's `"modified ID"`).
    let key = |o: &SimOrder| match q.orderby {
        OrderBy::Date => (o.created, o.id),
        OrderBy::Modified => (o.updated, o.id),
        OrderBy::Id => (0, o.id),
    };
    hits.sort_by_key(|o| key(o));
    if q.desc {
        hits.reverse();
    }
    let total = hits.len();
    let (start, pages) = paginate(total, &q);
    let per = usize::try_from(q.per_page).unwrap_or(100);
    let view = View { tz, base: &base };
    let items: Vec<Value> = hits
        .iter()
        .skip(start)
        .take(per)
        .map(|o| render::order(o, &view))
        .collect();
    drop(store);
    let here = format!("{base}{}", uri.path());
    let mut links = Vec::new();
    if q.page > 1 {
        links.push(link(&here, &params, (q.page - 1).min(pages.max(1)), "prev"));
    }
    if pages > q.page {
        links.push(link(&here, &params, q.page + 1, "next"));
    }
    json_list(items, total, pages, links)
}

fn order_id(raw: &str) -> Option<u64> {
    (!raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()))
        .then(|| raw.parse().ok())
        .flatten()
}

pub async fn one(
    State(s): State<Arc<SimState>>,
    Path(raw): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Some(id) = order_id(&raw) else {
        return wp::no_route();
    };
    let params = Params::parse(uri.query());
    if let Err(r) = authenticate(&s, &method, &uri, &headers, &params, true) {
        return *r;
    }
    let base = origin(&headers);
    let store = s.store.lock().unwrap_or_else(|e| e.into_inner());
    match store.book.get(id) {
        Some(o) => axum::Json(render::order(
            o,
            &View {
                tz: s.opts.tz,
                base: &base,
            },
        ))
        .into_response(),
        None => wp::error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID."),
    }
}

pub async fn refunds(
    State(s): State<Arc<SimState>>,
    Path(raw): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Some(id) = order_id(&raw) else {
        return wp::no_route();
    };
    let params = Params::parse(uri.query());
    if let Err(r) = authenticate(&s, &method, &uri, &headers, &params, false) {
        return *r;
    }
    let q = match ListQuery::parse(&params, s.opts.tz) {
        Ok(q) => q,
        Err(errs) => return wp::invalid_params(&errs),
    };
    let base = origin(&headers);
    let store = s.store.lock().unwrap_or_else(|e| e.into_inner());
    let view = View {
        tz: s.opts.tz,
        base: &base,
    };
    // Refunds are posts whose parent is the order: a missing order simply has none.
    let mut all: Vec<Value> = match store.book.get(id) {
        Some(o) => o
            .refunds
            .iter()
            .map(|r| render::refund(o, r, &view))
            .collect(),
        None => vec![],
    };
    drop(store);
    // Newest first (`orderby=date`, `order=desc`).
    all.reverse();
    if !q.desc {
        all.reverse();
    }
    let total = all.len();
    let (start, pages) = paginate(total, &q);
    let per = usize::try_from(q.per_page).unwrap_or(100);
    let items: Vec<Value> = all.into_iter().skip(start).take(per).collect();
    json_list(items, total, pages, vec![])
}

pub async fn no_route() -> Response {
    wp::no_route()
}
