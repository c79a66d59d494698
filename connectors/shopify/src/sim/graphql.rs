//! `POST /admin/api/{version}/graphql.json`: `orders(...)` and `order(id:)`.

use super::auth::TokenCheck;
use super::gql_render::{GqlNode, graphql_node};
use super::search::{decode_cursor, encode_cursor, parse_terms};
use super::store::{Filter, SortKey, StatusFilter};
use super::{SimState, shop_key};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ordersync_sdk::sim::LeakyBucket;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;

pub const MAX_PAGE: u64 = 250;

#[derive(Deserialize)]
struct GqlRequest {
    query: String,
    #[serde(default)]
    variables: Option<Value>,
}

pub const UNAUTHORIZED: &str =
    "[API] Invalid API key or access token (unrecognized login or wrong password)";

pub fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "errors": UNAUTHORIZED })),
    )
        .into_response()
}

pub fn authorized(s: &SimState, h: &HeaderMap) -> bool {
    let token = h
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok());
    let auth = s.auth.lock().unwrap_or_else(|e| e.into_inner());
    matches!(
        auth.check(token, s.now(), s.opts.accepted_static_tokens.as_deref()),
        TokenCheck::Ok
    )
}

fn error(message: &str, code: &str, cost: Option<Value>) -> Response {
    let mut body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    if let Some(c) = cost {
        body["extensions"] = json!({ "cost": c });
    }
    Json(body).into_response()
}

/// The text between `name(` and its closing `)` (argument lists hold no nested parentheses).
fn arg_list<'a>(query: &'a str, field: &str) -> Option<&'a str> {
    let start = query.find(&format!("{field}("))? + field.len() + 1;
    let end = query[start..].find(')')? + start;
    Some(&query[start..end])
}

/// An argument's value: a `$variable` from `vars`, or a literal number/boolean/enum.
fn arg(args: &str, vars: &Value, name: &str) -> Option<Value> {
    let pat = format!("{name}:");
    let mut from = 0;
    let pos = loop {
        let p = args[from..].find(&pat)? + from;
        // Whole-word match: `first:` must not match inside `ifirst:`.
        if p == 0 || !args.as_bytes()[p - 1].is_ascii_alphanumeric() {
            break p;
        }
        from = p + 1;
    };
    let rest = args[pos + pat.len()..].trim_start();
    let token: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '$')
        .collect();
    if let Some(var) = token.strip_prefix('$') {
        return vars.get(var).filter(|v| !v.is_null()).cloned();
    }
    if let Ok(n) = token.parse::<u64>() {
        return Some(json!(n));
    }
    match token.as_str() {
        "" => None,
        "true" => Some(json!(true)),
        "false" => Some(json!(false)),
        "null" => None,
        t => Some(json!(t)),
    }
}

pub async fn handle(State(s): State<Arc<SimState>>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&s, &headers) {
        return unauthorized();
    }
    let Ok(req) = serde_json::from_slice::<GqlRequest>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "errors": { "query": "Required parameter missing or invalid" } })),
        )
            .into_response();
    };
    let vars = req.variables.unwrap_or_else(|| json!({}));
    let shop = shop_key(&headers);
    if let Some(args) = arg_list(&req.query, "orders") {
        orders(&s, &shop, args, &vars)
    } else if let Some(args) = arg_list(&req.query, "order") {
        order(&s, &shop, args, &vars)
    } else {
        error(
            "Field doesn't exist on type 'QueryRoot' (the simulator serves orders and order)",
            "undefinedField",
            None,
        )
    }
}

/// Charges `requested` points, or returns the `THROTTLED` answer.
fn charge(s: &SimState, shop: &str, requested: f64) -> Option<Response> {
    let now = s.now_dt();
    let (max, rate) = (s.opts.bucket_size, s.opts.restore_rate);
    let available = s.cost_buckets.with(
        shop,
        || LeakyBucket::new(max, rate, now),
        |b| (!b.try_take(requested, now)).then(|| b.available()),
    )?;
    let cost = cost_json(s, requested, None, available);
    s.core.count_throttled();
    let mut resp = error("Throttled", "THROTTLED", Some(cost));
    if s.opts.throttle_status_429 {
        *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    }
    Some(resp)
}

/// Refunds the unused part of a charge and returns `extensions.cost`.
fn settle(s: &SimState, shop: &str, requested: f64, actual: f64) -> Value {
    let available = s
        .cost_buckets
        .get(shop, |b| {
            b.refund(requested - actual);
            b.available()
        })
        .unwrap_or(s.opts.bucket_size);
    cost_json(s, requested, Some(actual), available)
}

fn cost_json(s: &SimState, requested: f64, actual: Option<f64>, available: f64) -> Value {
    json!({
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": {
            "maximumAvailable": s.opts.bucket_size,
            "currentlyAvailable": available.floor(),
            "restoreRate": s.opts.restore_rate,
        }
    })
}

fn orders(s: &SimState, shop: &str, args: &str, vars: &Value) -> Response {
    let Some(first) = arg(args, vars, "first").and_then(|v| v.as_u64()) else {
        return error("you must provide one of first or last", "BAD_REQUEST", None);
    };
    if first == 0 || first > MAX_PAGE {
        return error(
            "The maximum page size is 250 (argument 'first').",
            "BAD_REQUEST",
            None,
        );
    }
    // The default sort is PROCESSED_AT — the trap the connector must avoid.
    let sort = match arg(args, vars, "sortKey").as_ref().and_then(Value::as_str) {
        None | Some("PROCESSED_AT" | "CREATED_AT") => SortKey::CreatedAt,
        Some("UPDATED_AT") => SortKey::UpdatedAt,
        Some("ID") => SortKey::Id,
        Some(_) => {
            return error(
                "Argument 'sortKey' has an invalid value (the simulator supports PROCESSED_AT, CREATED_AT, UPDATED_AT, ID).",
                "argumentLiteralsIncompatible",
                None,
            );
        }
    };
    let reverse = arg(args, vars, "reverse")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let after = match arg(args, vars, "after") {
        None => None,
        Some(c) => match c.as_str().and_then(|c| decode_cursor(c, sort)) {
            Some(k) => Some(k),
            None => {
                return error(
                    "Invalid cursor for current pagination sort.",
                    "BAD_REQUEST",
                    None,
                );
            }
        },
    };
    let terms = arg(args, vars, "query")
        .and_then(|q| q.as_str().map(parse_terms))
        .unwrap_or_default();
    let filter = Filter {
        updated_min: terms.updated_min,
        updated_max: terms.updated_max,
        status: terms.status.unwrap_or(StatusFilter::Any),
    };
    let requested = 2.0 + 2.0 * first as f64;
    if let Some(r) = charge(s, shop, requested) {
        return r;
    }
    // Rendered straight to bytes under the store lock: no per-order `Value` tree.
    let body = {
        let store = s.store.lock().unwrap_or_else(|e| e.into_inner());
        let page = store.page(sort, reverse, after, &filter, first as usize);
        let actual = 2.0 + 2.0 * page.orders.len() as f64;
        let out = OrdersOut {
            data: OrdersData {
                orders: ConnOut {
                    page_info: PageInfoOut {
                        has_next_page: page.has_more,
                        has_previous_page: after.is_some(),
                        end_cursor: page.orders.last().map(|(_, k)| encode_cursor(sort, *k)),
                    },
                    edges: page
                        .orders
                        .iter()
                        .map(|(o, k)| EdgeOut {
                            cursor: encode_cursor(sort, *k),
                            node: graphql_node(o),
                        })
                        .collect(),
                },
            },
            extensions: Ext {
                cost: settle(s, shop, requested, actual),
            },
        };
        serde_json::to_vec(&out).unwrap_or_default()
    };
    ([(CONTENT_TYPE, "application/json")], body).into_response()
}

#[derive(Serialize)]
struct OrdersOut<'a> {
    data: OrdersData<'a>,
    extensions: Ext,
}

#[derive(Serialize)]
struct OrdersData<'a> {
    orders: ConnOut<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConnOut<'a> {
    edges: Vec<EdgeOut<'a>>,
    page_info: PageInfoOut,
}

#[derive(Serialize)]
struct EdgeOut<'a> {
    cursor: String,
    node: GqlNode<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageInfoOut {
    has_next_page: bool,
    has_previous_page: bool,
    end_cursor: Option<String>,
}

#[derive(Serialize)]
struct Ext {
    cost: Value,
}

fn order(s: &SimState, shop: &str, args: &str, vars: &Value) -> Response {
    let id = arg(args, vars, "id")
        .and_then(|v| v.as_str().map(str::to_string))
        .and_then(|g| {
            g.strip_prefix("gid://shopify/Order/")
                .and_then(|n| n.parse::<u64>().ok())
        });
    let Some(id) = id else {
        return error(
            "Invalid global id (pass it as a variable: order(id: $id))",
            "BAD_REQUEST",
            None,
        );
    };
    if let Some(r) = charge(s, shop, 2.0) {
        return r;
    }
    let node = {
        let store = s.store.lock().unwrap_or_else(|e| e.into_inner());
        store
            .get(id)
            .map(|o| serde_json::to_value(graphql_node(o)).unwrap_or_default())
    };
    let cost = settle(s, shop, 2.0, if node.is_some() { 2.0 } else { 1.0 });
    Json(json!({ "data": { "order": node }, "extensions": { "cost": cost } })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_resolve_variables_and_literals() {
        let q = "query($n: Int!, $q: String) { orders(first: $n, query: $q, sortKey: UPDATED_AT, reverse: true) { edges { node { lineItems(first: 5) { nodes { id } } } } } }";
        let args = arg_list(q, "orders").unwrap();
        let vars = json!({ "n": 7, "q": "updated_at:>2020-01-01" });
        assert_eq!(arg(args, &vars, "first"), Some(json!(7)));
        assert_eq!(arg(args, &vars, "sortKey"), Some(json!("UPDATED_AT")));
        assert_eq!(arg(args, &vars, "reverse"), Some(json!(true)));
        assert_eq!(arg(args, &vars, "after"), None);
        assert!(arg_list("{ order(id: $id) { id } }", "orders").is_none());
    }
}
