//! Sage's list answers: the `$`-envelope, `page` / `items_per_page` (≤ 200), and
//! `attributes` (lists show `id`, `displayed_as` and `$path` unless asked for more).

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

pub const MAX_PER_PAGE: usize = 200;
const DEFAULT_PER_PAGE: usize = 20;

pub type Query = HashMap<String, String>;

/// Keeps what `attributes` asks for (`all`, or a comma list) besides the three base fields.
fn shape(item: Value, attributes: Option<&str>) -> Value {
    let Value::Object(m) = item else { return item };
    if attributes.is_some_and(|a| a.trim() == "all") {
        return Value::Object(m);
    }
    let wanted: Vec<&str> = attributes
        .map(|a| a.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let kept: Map<String, Value> = m
        .into_iter()
        .filter(|(k, _)| {
            matches!(k.as_str(), "id" | "displayed_as" | "$path") || wanted.contains(&k.as_str())
        })
        .collect();
    Value::Object(kept)
}

/// One page of `items` as Sage answers it; `path` is the list's route for `$next`/`$back`.
pub fn page(path: &str, q: &Query, items: Vec<Value>) -> Response {
    let per = q
        .get("items_per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(DEFAULT_PER_PAGE)
        .clamp(1, MAX_PER_PAGE);
    let page = q
        .get("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len();
    let start = per.saturating_mul(page - 1);
    let attributes = q.get("attributes").map(String::as_str);
    let shown: Vec<Value> = items
        .into_iter()
        .skip(start)
        .take(per)
        .map(|i| shape(i, attributes))
        .collect();
    let link = |p: usize| {
        let mut qs = url::form_urlencoded::Serializer::new(String::new());
        let mut keys: Vec<_> = q.iter().filter(|(k, _)| k.as_str() != "page").collect();
        keys.sort();
        for (k, v) in keys {
            qs.append_pair(k, v);
        }
        qs.append_pair("page", &p.to_string());
        format!("{path}?{}", qs.finish())
    };
    let next = (start + per < total).then(|| link(page + 1));
    let back = (page > 1).then(|| link(page - 1));
    Json(json!({
        "$total": total,
        "$page": page,
        "$next": next,
        "$back": back,
        "$itemsPerPage": per,
        "$items": shown,
    }))
    .into_response()
}

/// `{id, displayed_as, $path}` (Sage's `Base`).
pub fn base(id: &str, displayed_as: &str, path: &str) -> Value {
    json!({"id": id, "displayed_as": displayed_as, "$path": format!("{path}/{id}")})
}

/// A decimal as a JSON number (the simulator's own answers; amounts stay within f64's
/// exact range for the test data).
pub fn num(d: ordersync_sdk::Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(Value::Null)
}
