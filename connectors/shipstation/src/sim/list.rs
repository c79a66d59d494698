//! `GET /v2/shipments`: the spec's filters (`shipment_status`, `external_shipment_id`,
//! `shipment_number`, `created_at_start/end`, `modified_at_start/end`, inclusive), sorting
//! (`sort_by` `created_at` | `modified_at`, `sort_dir` default `desc`), page numbers
//! (`page` from 1, `page_size` default 25) and the paged envelope
//! `{shipments, total, page, pages, links}`. Filters the simulator does not model
//! (`batch_id`, `pickup_id`, `sales_order_id`, `store_id`, …) match nothing.

use super::SimState;
use super::errors::v2_error;
use super::labels::modified_at;
use super::view::{View, status, view};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Most shipments one page holds here (the spec sets no maximum).
pub const MAX_PAGE_SIZE: usize = 500;

/// The `links` object of a paged answer: absolute URLs on the host the client called.
pub fn links(headers: &HeaderMap, path: &str, page: usize, pages: usize) -> Value {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let href = |p: usize| json!({ "href": format!("http://{host}{path}?page={p}") });
    json!({
        "first": href(1),
        "last": href(pages.max(1)),
        "prev": if page > 1 { href(page - 1) } else { json!({}) },
        "next": if page < pages { href(page + 1) } else { json!({}) },
    })
}

pub(super) fn time_param(
    q: &BTreeMap<String, String>,
    name: &str,
) -> Result<Option<OffsetDateTime>, ()> {
    q.get(name)
        .map(|v| OffsetDateTime::parse(v, &Rfc3339).map_err(|_| ()))
        .transpose()
}

pub(super) fn bad(s: &SimState, field: &str) -> Response {
    v2_error(
        s,
        StatusCode::BAD_REQUEST,
        "validation",
        "invalid_field_value",
        &format!("{field} is not valid."),
    )
}

/// The paging and sorting every list route shares: unknown parameters refused, `page` from
/// 1, `page_size` default 25 (capped), `sort_by` `created_at` | `modified_at`, `sort_dir`
/// default `desc`.
pub(super) struct Paging {
    pub page: usize,
    pub size: usize,
    pub by_modified: bool,
    pub desc: bool,
}

/// `Err` names the refused parameter.
pub(super) fn paging(q: &BTreeMap<String, String>, known: &[&str]) -> Result<Paging, String> {
    if let Some(k) = q.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(k.clone());
    }
    let Ok(page) = q.get("page").map_or(Ok(1), |p| p.parse::<usize>()) else {
        return Err("page".into());
    };
    let Ok(size) = q.get("page_size").map_or(Ok(25), |p| p.parse::<usize>()) else {
        return Err("page_size".into());
    };
    if page == 0 || size == 0 {
        return Err("page".into());
    }
    let by_modified = match q.get("sort_by").map_or("created_at", String::as_str) {
        "created_at" => false,
        "modified_at" => true,
        _ => return Err("sort_by".into()),
    };
    let desc = match q.get("sort_dir").map_or("desc", String::as_str) {
        "asc" => false,
        "desc" => true,
        _ => return Err("sort_dir".into()),
    };
    Ok(Paging {
        page,
        size: size.min(MAX_PAGE_SIZE),
        by_modified,
        desc,
    })
}

#[derive(Serialize)]
struct ListAnswer<'a> {
    shipments: Vec<View<'a>>,
    total: usize,
    page: usize,
    pages: usize,
    links: Value,
}

/// Query parameters this route knows; others are refused like the real API's validation.
const KNOWN: [&str; 20] = [
    "shipment_status",
    "batch_id",
    "pickup_id",
    "created_at_start",
    "created_at_end",
    "modified_at_start",
    "modified_at_end",
    "page",
    "page_size",
    "sales_order_id",
    "sort_dir",
    "shipment_number",
    "ship_to_name",
    "item_keyword",
    "payment_date_start",
    "payment_date_end",
    "store_id",
    "external_shipment_id",
    "sort_by",
    "tag",
];

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
    let mut range = [None; 4];
    for (i, name) in [
        "created_at_start",
        "created_at_end",
        "modified_at_start",
        "modified_at_end",
    ]
    .into_iter()
    .enumerate()
    {
        match time_param(&q, name) {
            Ok(t) => range[i] = t,
            Err(()) => return bad(&s, name),
        }
    }
    let [c_start, c_end, m_start, m_end] = range;
    let unmodelled = [
        "batch_id",
        "pickup_id",
        "sales_order_id",
        "store_id",
        "tag",
        "ship_to_name",
        "item_keyword",
        "payment_date_start",
        "payment_date_end",
    ]
    .iter()
    .any(|k| q.contains_key(*k));
    let now = s.clock.now();
    let store = s.store();
    let within = |t: OffsetDateTime, a: Option<OffsetDateTime>, b: Option<OffsetDateTime>| {
        a.is_none_or(|a| t >= a) && b.is_none_or(|b| t <= b)
    };
    let mut hits: Vec<_> = store
        .iter()
        .filter(|_| !unmodelled)
        .filter(|st| {
            q.get("shipment_status")
                .is_none_or(|w| w == status(st, now))
        })
        .filter(|st| {
            q.get("external_shipment_id")
                .is_none_or(|w| st.body.external_shipment_id.as_ref() == Some(w))
        })
        .filter(|st| {
            q.get("shipment_number")
                .is_none_or(|w| st.body.shipment_number.as_ref() == Some(w))
        })
        .filter(|st| within(st.created_at, c_start, c_end))
        .map(|st| (modified_at(st, now), st))
        .filter(|(m, _)| within(*m, m_start, m_end))
        .collect();
    // Ties are broken by creation number, so pages are stable while nothing changes.
    hits.sort_by(|(ma, a), (mb, b)| {
        let (ka, kb) = if by_modified {
            (*ma, *mb)
        } else {
            (a.created_at, b.created_at)
        };
        let ord = ka.cmp(&kb).then(a.num().cmp(&b.num()));
        if desc { ord.reverse() } else { ord }
    });
    let total = hits.len();
    let pages = total.div_ceil(size).max(1);
    let shipments = hits
        .into_iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .map(|(_, st)| view(&st.body, Some((st, now))))
        .collect();
    let answer = ListAnswer {
        shipments,
        total,
        page,
        pages,
        links: links(&headers, "/v2/shipments", page, pages),
    };
    match serde_json::to_vec(&answer) {
        Ok(b) => (StatusCode::OK, [("content-type", "application/json")], b).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
