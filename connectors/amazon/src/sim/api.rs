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
use super::order::{SimOrder, Status};
use super::render::{Included, RenderCtx, render, time_text};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ordersync_sdk::sim::{PageQuery, SortKey};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Amazon's rule on `…Before`.
const MIN_AGE_SECS: i64 = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    SearchOrders,
    GetOrder,
}

/// Query parameters, each with every value given (comma lists split).
fn params(raw: Option<&str>) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let array = k_is_array(&k);
        let e = m.entry(k.into_owned()).or_default();
        if array {
            e.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from),
            );
        } else {
            e.push(v.into_owned());
        }
    }
    m
}

fn k_is_array(k: &str) -> bool {
    matches!(
        k,
        "marketplaceIds" | "includedData" | "fulfillmentStatuses" | "fulfilledBy"
    )
}

fn one<'a>(p: &'a BTreeMap<String, Vec<String>>, k: &str) -> Option<&'a str> {
    p.get(k).and_then(|v| v.first()).map(String::as_str)
}

/// ISO 8601: RFC 3339, or a date-time without offset (taken as UTC, as Python's
/// `isoformat()` of a naive datetime sends it).
pub fn parse_date(s: &str) -> Option<i64> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

fn included(p: &BTreeMap<String, Vec<String>>) -> Result<Included, Response> {
    let mut inc = Included::default();
    for d in p.get("includedData").into_iter().flatten() {
        if !inc.set(d) {
            return Err(invalid_input(&format!(
                "{} is not a valid value for includedData.",
                safe(d)
            )));
        }
    }
    Ok(inc)
}

/// Echoes only harmless characters of a request value into a message.
fn safe(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_-:.".contains(*c))
        .take(40)
        .collect()
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

/// The filters of a search, and what a pagination token must repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    by_created: bool,
    after: i64,
    before: i64,
    marketplaces: Vec<String>,
    statuses: Vec<String>,
    fulfilled_by: Vec<String>,
}

impl Filter {
    fn fingerprint(&self) -> u64 {
        // FNV-1a: stable across runs, unlike std's hasher.
        let text = format!(
            "{}|{}|{}|{}|{}|{}",
            self.by_created,
            self.after,
            self.before,
            self.marketplaces.join(","),
            self.statuses.join(","),
            self.fulfilled_by.join(",")
        );
        text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }

    fn matches(&self, o: &SimOrder) -> bool {
        let t = if self.by_created {
            o.created
        } else {
            o.updated
        };
        t >= self.after
            && t <= self.before
            && self.marketplaces.iter().any(|m| m == o.market.id)
            && (self.statuses.is_empty() || self.statuses.iter().any(|s| s == o.status.as_str()))
            && (self.fulfilled_by.is_empty()
                || self
                    .fulfilled_by
                    .iter()
                    .any(|f| f == if o.afn { "AMAZON" } else { "MERCHANT" }))
    }
}

/// `nextToken`: position, filters and issue time, opaque to clients.
fn encode_token(fp: u64, key: (i64, u64), issued: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1.{fp:x}.{}.{}.{issued}", key.0, key.1))
}

fn decode_token(t: &str) -> Option<(u64, (i64, u64), i64)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')).ok()?).ok()?;
    let mut it = raw.split('.');
    if it.next()? != "v1" {
        return None;
    }
    let fp = u64::from_str_radix(it.next()?, 16).ok()?;
    let k0 = it.next()?.parse().ok()?;
    let k1 = it.next()?.parse().ok()?;
    let issued = it.next()?.parse().ok()?;
    Some((fp, (k0, k1), issued))
}

fn filter_of(p: &BTreeMap<String, Vec<String>>, now: i64) -> Result<Filter, Response> {
    let created_after = one(p, "createdAfter");
    let created_before = one(p, "createdBefore");
    let updated_after = one(p, "lastUpdatedAfter");
    let updated_before = one(p, "lastUpdatedBefore");
    let by_created = match (created_after, updated_after) {
        (Some(_), None) => true,
        (None, Some(_)) => false,
        _ => {
            return Err(invalid_input(
                "Exactly one of createdAfter and lastUpdatedAfter must be provided.",
            ));
        }
    };
    if by_created && updated_before.is_some() {
        return Err(invalid_input(
            "lastUpdatedBefore cannot be provided with createdAfter.",
        ));
    }
    if !by_created && created_before.is_some() {
        return Err(invalid_input(
            "createdBefore cannot be provided with lastUpdatedAfter.",
        ));
    }
    let (after_name, before_name, after, before) = if by_created {
        (
            "createdAfter",
            "createdBefore",
            created_after,
            created_before,
        )
    } else {
        (
            "lastUpdatedAfter",
            "lastUpdatedBefore",
            updated_after,
            updated_before,
        )
    };
    let after = after
        .and_then(parse_date)
        .ok_or_else(|| invalid_input(&format!("{after_name} must be an ISO 8601 date-time.")))?;
    let latest = now - MIN_AGE_SECS;
    let before = match before {
        None => latest,
        Some(b) => {
            let b = parse_date(b).ok_or_else(|| {
                invalid_input(&format!("{before_name} must be an ISO 8601 date-time."))
            })?;
            if b > latest {
                return Err(invalid_input(&format!(
                    "{before_name} must be at least two minutes before the time of the request."
                )));
            }
            b
        }
    };
    if before < after {
        return Err(invalid_input(&format!(
            "{before_name} must be equal to or after {after_name}."
        )));
    }
    let mut marketplaces = p.get("marketplaceIds").cloned().unwrap_or_default();
    if marketplaces.is_empty() {
        return Err(invalid_input("marketplaceIds is required."));
    }
    if marketplaces.len() > 50 {
        return Err(invalid_input("marketplaceIds accepts at most 50 values."));
    }
    if let Some(bad) = marketplaces
        .iter()
        .find(|m| crate::marketplaces::by_id(m).is_none())
    {
        return Err(invalid_input(&format!(
            "{} is not a valid marketplace id.",
            safe(bad)
        )));
    }
    marketplaces.sort();
    marketplaces.dedup();
    let mut statuses = p.get("fulfillmentStatuses").cloned().unwrap_or_default();
    const STATUSES: [&str; 7] = [
        "PENDING_AVAILABILITY",
        "PENDING",
        "UNSHIPPED",
        "PARTIALLY_SHIPPED",
        "SHIPPED",
        "CANCELLED",
        "UNFULFILLABLE",
    ];
    if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(&s.as_str())) {
        return Err(invalid_input(&format!(
            "{} is not a valid value for fulfillmentStatuses.",
            safe(bad)
        )));
    }
    statuses.sort();
    let mut fulfilled_by = p.get("fulfilledBy").cloned().unwrap_or_default();
    if let Some(bad) = fulfilled_by
        .iter()
        .find(|s| !["MERCHANT", "AMAZON"].contains(&s.as_str()))
    {
        return Err(invalid_input(&format!(
            "{} is not a valid value for fulfilledBy.",
            safe(bad)
        )));
    }
    fulfilled_by.sort();
    Ok(Filter {
        by_created,
        after,
        before,
        marketplaces,
        statuses,
        fulfilled_by,
    })
}

fn has_filters(p: &BTreeMap<String, Vec<String>>) -> bool {
    ["createdAfter", "lastUpdatedAfter"]
        .iter()
        .any(|k| p.contains_key(*k))
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
