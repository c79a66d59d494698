//! `/tracking/2026-07/trackings` routes: create, list, get, update, delete.

use super::SimState;
use super::errors::{bad_request, not_found};
use super::state::{Stored, parse_id, tracking_id, updated_at};
use super::view::tracking;
use crate::config::is_slug;
use crate::mapping::MAX_TRACKING_NUMBER;
use crate::wire::TrackingBody;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn answer(status: StatusCode, data: Value) -> Response {
    (
        status,
        Json(json!({ "meta": { "code": status.as_u16() }, "data": data })),
    )
        .into_response()
}

/// A body error as (meta code, message); answered with [`bad_request`].
type Refusal = (u32, &'static str);

fn parse_body(raw: &[u8]) -> Result<TrackingBody, Refusal> {
    const BAD_JSON: Refusal = (4001, "Invalid JSON data.");
    let v: Value = serde_json::from_slice(raw).map_err(|_| BAD_JSON)?;
    if !v.is_object() {
        return Err(BAD_JSON);
    }
    serde_json::from_value(v).map_err(|_| (4008, "The value of a field is invalid."))
}

/// The platform's validation refusal for `POST /_sim/reject`.
fn rejected() -> Response {
    bad_request(4008, "The value of `title` is invalid.")
}

/// `POST /trackings` → 201, or 4003 when `(slug, tracking_number)` exists.
pub async fn create(State(s): State<Arc<SimState>>, raw: Bytes) -> Response {
    let body = match parse_body(&raw) {
        Ok(b) => b,
        Err((code, msg)) => return bad_request(code, msg),
    };
    if s.core.take_reject() {
        return rejected();
    }
    let Some(number) = body
        .tracking_number
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
    else {
        return bad_request(4007, "`tracking_number` is required.");
    };
    if number.len() > MAX_TRACKING_NUMBER {
        return bad_request(4005, "The value of `tracking_number` is invalid.");
    }
    let Some(slug) = body.slug.clone() else {
        // No auto-detection here: the account has no couriers enabled to detect among.
        return bad_request(
            4012,
            "Cannot detect courier. Activate courier at https://admin.aftership.com/settings/couriers.",
        );
    };
    if !is_slug(&slug) {
        return bad_request(4010, "The value of `slug` is invalid.");
    }
    let now = s.clock.now();
    let mut book = s.book();
    if book.find(&slug, &number).is_some() {
        return bad_request(4003, "Tracking already exists.");
    }
    let body = TrackingBody {
        tracking_number: Some(number.clone()),
        ..body
    };
    let num = book.insert(&slug, &number, body, now);
    let view = book
        .objects
        .get(num)
        .map(|e| tracking(e, now))
        .unwrap_or(Value::Null);
    answer(StatusCode::CREATED, view)
}

/// `GET /trackings/{id}`.
pub async fn get_one(
    State(s): State<Arc<SimState>>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let now = s.clock.now();
    let book = s.book();
    match book.live(&id) {
        Some(e) => answer(StatusCode::OK, tracking(e, now)),
        None => not_found(),
    }
}

/// `PUT /trackings/{id}`: the fields an update may change; number and slug stay.
pub async fn update(
    State(s): State<Arc<SimState>>,
    Path((_, id)): Path<(String, String)>,
    raw: Bytes,
) -> Response {
    let body = match parse_body(&raw) {
        Ok(b) => b,
        Err((code, msg)) => return bad_request(code, msg),
    };
    let now = s.clock.now();
    let mut book = s.book();
    let Some(e) = book.live_mut(&id) else {
        return not_found();
    };
    if s.core.take_reject() {
        return rejected();
    }
    let b = &mut e.body;
    macro_rules! take {
        ($($f:ident),*) => { $( if body.$f.is_some() { b.$f = body.$f; } )* };
    }
    take!(
        title,
        order_id,
        order_number,
        custom_fields,
        customers,
        language,
        destination_country_region
    );
    e.updates += 1;
    e.modified_at = now;
    answer(StatusCode::OK, tracking(e, now))
}

/// `DELETE /trackings/{id}` → the deleted tracking.
pub async fn delete(
    State(s): State<Arc<SimState>>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let now = s.clock.now();
    let mut book = s.book();
    let Some(view) = book.live(&id).map(|e| tracking(e, now)) else {
        return not_found();
    };
    book.delete(&id);
    answer(StatusCode::OK, view)
}

/// Keyset position: `base64([updated_at_ms, id])`, the shape of AfterShip's own cursors.
fn encode_cursor(updated_ms: i64, num: u64) -> String {
    STANDARD.encode(json!([updated_ms, tracking_id(num)]).to_string())
}

fn decode_cursor(c: &str) -> Option<(i64, u64)> {
    let v: Value = serde_json::from_slice(&STANDARD.decode(c).ok()?).ok()?;
    Some((v.get(0)?.as_i64()?, parse_id(v.get(1)?.as_str()?)?))
}

fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn list_of(q: &HashMap<String, String>, name: &str) -> Option<Vec<String>> {
    q.get(name).map(|v| {
        v.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

fn time_param(q: &HashMap<String, String>, name: &str) -> Result<Option<OffsetDateTime>, Refusal> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => OffsetDateTime::parse(v, &Rfc3339)
            .map(Some)
            .map_err(|_| (4008, "The value of a date filter is invalid.")),
    }
}

/// `GET /trackings`: filters `tracking_numbers`, `slug`, `tag` (comma lists),
/// `updated_at_min`/`updated_at_max` (RFC 3339); sorted by `updated_at` ascending; `limit`
/// 1..=200 (default 100); `cursor` from the previous page's `next_cursor`.
pub async fn list(
    State(s): State<Arc<SimState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let numbers = list_of(&q, "tracking_numbers");
    let slugs = list_of(&q, "slug");
    let tags = list_of(&q, "tag");
    let (min, max) = match (
        time_param(&q, "updated_at_min"),
        time_param(&q, "updated_at_max"),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err((code, msg)), _) | (_, Err((code, msg))) => return bad_request(code, msg),
    };
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 100,
        Some(Ok(l @ 1..=200)) => l,
        Some(_) => return bad_request(4008, "The value of `limit` is invalid."),
    };
    let after = match q.get("cursor") {
        None => None,
        Some(c) => match decode_cursor(c) {
            Some(p) => Some(p),
            None => return bad_request(4008, "The value of `cursor` is invalid."),
        },
    };
    let now = s.clock.now();
    let book = s.book();
    let has = |list: &Option<Vec<String>>, v: Option<&str>| {
        list.as_ref()
            .is_none_or(|l| v.is_some_and(|v| l.iter().any(|x| x == v)))
    };
    let mut hits: Vec<(i64, u64, &Stored)> = book
        .iter_live()
        .filter(|e| has(&numbers, e.body.tracking_number.as_deref()))
        .filter(|e| has(&slugs, e.body.slug.as_deref()))
        .filter_map(|e| {
            let up = updated_at(e, now);
            let tag = super::progress::stage_at(e.created_at, e.num(), now)
                .0
                .tag();
            let ok =
                has(&tags, Some(tag)) && min.is_none_or(|m| up >= m) && max.is_none_or(|m| up <= m);
            ok.then(|| (millis(up), e.num(), e))
        })
        .collect();
    hits.sort_by_key(|(up, num, _)| (*up, *num));
    let total = hits.len();
    let start = after.map_or(0, |(up, num)| {
        hits.partition_point(|(u, n, _)| (*u, *n) <= (up, num))
    });
    let page: Vec<&(i64, u64, &Stored)> = hits.iter().skip(start).take(limit).collect();
    let has_next = start + page.len() < total;
    let next_cursor = match (has_next, page.last()) {
        (true, Some((up, num, _))) => json!(encode_cursor(*up, *num)),
        _ => Value::Null,
    };
    let trackings: Vec<Value> = page.iter().map(|(_, _, e)| tracking(e, now)).collect();
    answer(
        StatusCode::OK,
        json!({
            "pagination": { "total": total, "next_cursor": next_cursor, "has_next_page": has_next },
            "trackings": trackings,
        }),
    )
}
