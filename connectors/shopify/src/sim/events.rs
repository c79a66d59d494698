//! `GET /admin/api/{version}/events.json`: the shop's event log, written when orders are
//! created (`confirmed`), updated (`update`) and deleted (`destroy`). Filters: `filter`
//! (subject types, comma-separated), `verb`, `since_id`, `created_at_min`/`created_at_max`,
//! `limit` (≤ 250, default 50); `Link: <…page_info=…>; rel="next"` pagination where the token
//! carries the filters and refuses new ones, like `orders.json`. Oldest (lowest id) first.

use super::SimState;
use super::rest::{PAGE_INFO_COMPANIONS, bad, guard, page_limit, with_limit};
use super::search::{local, parse_time};
use super::store::SimOrder;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// First event id (Shopify's are nine digits and up).
const FIRST_EVENT_ID: u64 = 164_748_010;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Confirmed,
    Update,
    Destroy,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Verb::Confirmed => "confirmed",
            Verb::Update => "update",
            Verb::Destroy => "destroy",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SimEvent {
    pub id: u64,
    pub subject_id: u64,
    pub at: i64,
    pub verb: Verb,
    number: u64,
    buyer: String,
}

/// Append-only, ids increasing.
#[derive(Debug, Default)]
pub struct EventLog {
    events: Vec<SimEvent>,
}

impl EventLog {
    pub fn push(&mut self, verb: Verb, o: &SimOrder, at: i64) {
        let id = FIRST_EVENT_ID + self.events.len() as u64;
        self.events.push(SimEvent {
            id,
            subject_id: o.id,
            at,
            verb,
            number: o.number,
            buyer: format!("{} {}", o.buyer.first_name, o.buyer.last_name),
        });
    }

    /// Events after `after_id` matching `q`, at most `limit`, and whether more match.
    fn page(&self, q: &EventQuery, after_id: u64, limit: usize) -> (Vec<&SimEvent>, bool) {
        let start = self.events.partition_point(|e| e.id <= after_id);
        let mut out = Vec::with_capacity(limit.min(256));
        for e in &self.events[start..] {
            if !q.matches(e) {
                continue;
            }
            if out.len() == limit {
                return (out, true);
            }
            out.push(e);
        }
        (out, false)
    }
}

/// The filters of one listing (carried inside `page_info`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct EventQuery {
    subjects: Option<Vec<String>>,
    verb: Option<String>,
    min: Option<i64>,
    max: Option<i64>,
    since_id: u64,
}

impl EventQuery {
    fn matches(&self, e: &SimEvent) -> bool {
        // Every simulated event is about an order.
        self.subjects
            .as_ref()
            .is_none_or(|s| s.iter().any(|t| t.eq_ignore_ascii_case("Order")))
            && self.verb.as_deref().is_none_or(|v| v == e.verb.as_str())
            && self.min.is_none_or(|m| e.at >= m)
            && self.max.is_none_or(|m| e.at <= m)
    }
}

#[derive(Serialize, Deserialize)]
struct PageToken {
    q: EventQuery,
    last: u64,
}

fn render(e: &SimEvent) -> Value {
    let name = format!("#{}", e.number);
    let (arguments, message) = match e.verb {
        Verb::Confirmed => (
            json!([name, e.buyer]),
            format!("Received new order {name} by {}.", e.buyer),
        ),
        Verb::Update => (json!([name]), format!("Order {name} was updated.")),
        Verb::Destroy => (json!([name]), format!("Order {name} was deleted.")),
    };
    json!({
        "id": e.id, "subject_id": e.subject_id, "created_at": local(e.at),
        "subject_type": "Order", "verb": e.verb.as_str(), "arguments": arguments,
        "body": null, "message": message, "author": "Shopify", "description": message,
        "path": format!("/admin/orders/{}", e.subject_id),
    })
}

pub async fn events(
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
    let (q, after) = if let Some(tok) = p.get("page_info") {
        if let Some(k) = p
            .keys()
            .find(|k| !PAGE_INFO_COMPANIONS.contains(&k.as_str()))
        {
            return bad(
                limit_h,
                format!("{k} cannot be passed when page_info is present"),
            );
        }
        match URL_SAFE_NO_PAD
            .decode(tok)
            .ok()
            .and_then(|b| serde_json::from_slice::<PageToken>(&b).ok())
        {
            Some(t) => (t.q, t.last),
            None => return bad(limit_h, "page_info is invalid"),
        }
    } else {
        let time = |name: &str| match p.get(name) {
            None => Ok(None),
            Some(v) => parse_time(v)
                .map(|(t, _)| Some(t))
                .ok_or_else(|| format!("{name} is not a valid date or timestamp")),
        };
        let (min, max) = match (time("created_at_min"), time("created_at_max")) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return bad(limit_h, e),
        };
        let since_id = match p.get("since_id").map(|v| v.parse::<u64>()) {
            None => 0,
            Some(Ok(v)) => v,
            Some(Err(_)) => return bad(limit_h, "since_id must be an integer"),
        };
        let q = EventQuery {
            subjects: p.get("filter").map(|f| {
                f.split(',')
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect()
            }),
            verb: p.get("verb").cloned(),
            min,
            max,
            since_id,
        };
        let after = q.since_id;
        (q, after)
    };
    let (body, next) = {
        let store = s.store.lock().unwrap_or_else(|e| e.into_inner());
        let (page, more) = store.events.page(&q, after, limit);
        let next = more
            .then(|| page.last().map(|e| e.id))
            .flatten()
            .map(|last| {
                URL_SAFE_NO_PAD.encode(
                    serde_json::to_vec(&PageToken { q: q.clone(), last }).unwrap_or_default(),
                )
            });
        let events: Vec<Value> = page.into_iter().map(render).collect();
        (json!({ "events": events }), next)
    };
    let mut resp = with_limit(limit_h, StatusCode::OK, body);
    if let Some(tok) = next {
        let host = super::shop_key(&headers);
        let link = format!(
            "<http://{host}/admin/api/{version}/events.json?limit={limit}&page_info={tok}>; rel=\"next\""
        );
        if let Ok(v) = HeaderValue::from_str(&link) {
            resp.headers_mut().insert("link", v);
        }
    }
    resp
}
