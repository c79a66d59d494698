//! `searchOrders` and `getOrder` (`orders_2026-01-01.json`), with the API's rules:
//!
//! - exactly one of `createdAfter` / `lastUpdatedAfter`, the matching `…Before` only, both
//!   bounds inclusive, and a `…Before` no later than two minutes before the request (the
//!   cursor trap: 400 `InvalidInput`); `marketplaceIds` required; `maxResultsPerPage`
//!   1..=100; only the spec's values in `includedData`, `fulfillmentStatuses`, `fulfilledBy`;
//! - oldest first (by `lastUpdatedTime`, or `createdTime` when filtering by creation);
//! - `pagination.nextToken`, valid 24 hours and only with the filters of its first page;
//! - one token bucket per operation at the usage plan (0.0056/s burst 20, 0.5/s burst 30),
//!   429 `QuotaExceeded` without `Retry-After`, and `x-amzn-RateLimit-Limit` on most answers
//!   but not all (Amazon sends it "when available");
//! - 403 `Unauthorized` without a valid access token, or for buyer/recipient data when the
//!   seller has not granted the restricted role.
//!
//! Arrays arrive comma-separated (Amazon's SDKs) or as repeated parameters.

// Handlers answer early with the platform's own error response; boxing it gains nothing.
#![allow(clippy::result_large_err)]

use super::SimState;
use super::errors::{
    ROLE_MISSING, invalid_input, not_found, outage, quota_exceeded, request_id, unauthorized,
};
use super::order::Status;
use super::query::{decode_token, encode_token, filter_of, has_filters, included, one, params};
use super::render::{RenderCtx, render, time_text};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ordersync_sdk::sim::{PageQuery, SortKey};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    SearchOrders,
    GetOrder,
}

/// What every API request goes through before its handler: an outage, the token, the
/// operation's bucket.
fn admit(s: &SimState, headers: &HeaderMap, op: Operation) -> Result<(), Response> {
    if let Some(o) = *s.outage.lock().unwrap_or_else(|e| e.into_inner()) {
        return Err(outage(o));
    }
    super::auth::check(s, headers)?;
    let now = s.clock.now();
    let admitted = {
        let mut l = s.limits.lock().unwrap_or_else(|e| e.into_inner());
        match op {
            Operation::SearchOrders => l.search.try_take(1.0, now),
            Operation::GetOrder => l.get.try_take(1.0, now),
        }
    };
    if !admitted {
        s.core.count_throttled();
        return Err(quota_exceeded());
    }
    Ok(())
}

/// Adds the rate header, except on every `rate_header_gap`-th answer (Amazon sends it only
/// "when available").
fn with_rate(s: &SimState, op: Operation, mut r: Response) -> Response {
    let n = s.answers.fetch_add(1, Ordering::Relaxed) + 1;
    let gap = s.opts.rate_header_gap;
    if gap == 0 || !n.is_multiple_of(gap) {
        let rate = match op {
            Operation::SearchOrders => s.opts.search_rate,
            Operation::GetOrder => s.opts.get_rate,
        };
        if let Ok(v) = HeaderValue::from_str(&format!("{rate}")) {
            r.headers_mut().insert("x-amzn-ratelimit-limit", v);
        }
    }
    r
}

fn ok(v: Value) -> Response {
    let mut r = (StatusCode::OK, axum::Json(v)).into_response();
    r.headers_mut().insert("x-amzn-requestid", request_id());
    r
}

/// `GET /orders/2026-01-01/orders`.
pub async fn search_orders(
    State(s): State<Arc<SimState>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let op = Operation::SearchOrders;
    if let Err(r) = admit(&s, &headers, op) {
        return r;
    }
    let r = search(&s, q.as_deref());
    with_rate(&s, op, r)
}

fn search(s: &SimState, q: Option<&str>) -> Response {
    let p = params(q);
    let now = s.now();
    let inc = match included(&p) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let limit = match one(&p, "maxResultsPerPage") {
        None => 100,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => return invalid_input("maxResultsPerPage must be between 1 and 100."),
        },
    };
    let token = one(&p, "paginationToken");
    // With a token, the filters are the token's; repeating them is fine, changing them not.
    let (filter, after_key) = match token {
        None => match filter_of(&p, now) {
            Ok(f) => (f, None),
            Err(r) => return r,
        },
        Some(t) => {
            let Some((fp, key, issued)) = decode_token(t) else {
                return invalid_input("Invalid paginationToken.");
            };
            if now - issued >= s.opts.page_token_ttl_secs {
                return invalid_input("The pagination token has expired.");
            }
            let stored = s
                .tokens
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&fp)
                .cloned();
            let Some(f) = stored else {
                return invalid_input("Invalid paginationToken.");
            };
            if has_filters(&p) {
                // The bound check of a first page does not apply again: it was.
                match filter_of(&p, issued) {
                    Ok(mut again) => {
                        // A first page without an upper bound got "now − 2 min" as one.
                        if one(&p, "lastUpdatedBefore").is_none()
                            && one(&p, "createdBefore").is_none()
                        {
                            again.before = f.before;
                        }
                        if again != f {
                            return invalid_input(
                                "The paginationToken does not match the request's other parameters.",
                            );
                        }
                    }
                    Err(r) => return r,
                }
            }
            (f, Some(key))
        }
    };
    if !s.pii_role.load(Ordering::Relaxed) && inc.wants_pii() {
        return unauthorized(ROLE_MISSING);
    }
    let fp = filter.fingerprint();
    let store = s.store.lock().unwrap_or_else(|e| e.into_inner());
    let (sort, updated_min, updated_max) = if filter.by_created {
        (SortKey::CreatedAt, None, None)
    } else {
        (SortKey::UpdatedAt, Some(filter.after), Some(filter.before))
    };
    let start = after_key.or(filter
        .by_created
        .then(|| (filter.after.saturating_sub(1), u64::MAX)));
    let page = store.page(
        &PageQuery {
            sort,
            reverse: false,
            after: start,
            updated_min,
            updated_max,
        },
        limit,
        |o| filter.matches(o),
    );
    let ctx = RenderCtx {
        now,
        fbm_only_email: s.opts.fbm_only_email,
    };
    let orders: Vec<Value> = page
        .orders
        .iter()
        .map(|(o, _)| render(o, &inc, &ctx))
        .collect();
    let mut body = json!({ "orders": orders });
    if page.has_more
        && let Some((_, key)) = page.orders.last()
    {
        s.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(fp, filter.clone());
        body["pagination"] = json!({ "nextToken": encode_token(fp, *key, now) });
    }
    let bound = if filter.by_created {
        "createdBefore"
    } else {
        "lastUpdatedBefore"
    };
    body[bound] = json!(time_text(filter.before));
    ok(body)
}

/// `GET /orders/2026-01-01/orders/{orderId}`.
pub async fn get_order(
    State(s): State<Arc<SimState>>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let op = Operation::GetOrder;
    if let Err(r) = admit(&s, &headers, op) {
        return r;
    }
    let p = params(q.as_deref());
    let r = match included(&p) {
        Err(r) => r,
        Ok(inc) if !s.pii_role.load(Ordering::Relaxed) && inc.wants_pii() => {
            unauthorized(ROLE_MISSING)
        }
        Ok(inc) => {
            let store = s.store.lock().unwrap_or_else(|e| e.into_inner());
            match store.find(&order_id) {
                None => not_found(),
                Some(o) => {
                    let ctx = RenderCtx {
                        now: s.now(),
                        fbm_only_email: s.opts.fbm_only_email,
                    };
                    ok(json!({ "order": render(o, &inc, &ctx) }))
                }
            }
        }
    };
    with_rate(&s, op, r)
}

/// Statuses of the orders held (for `/_sim/stats`).
pub fn status_counts(orders: impl Iterator<Item = Status>) -> BTreeMap<&'static str, u64> {
    let mut m = BTreeMap::new();
    for s in orders {
        *m.entry(s.as_str()).or_default() += 1;
    }
    m
}
