//! `POST /admin/api/{version}/graphql.json`. The query is parsed (`gql_doc.rs`) and costed
//! (`cost.rs`) before it runs: a requested cost above the single-query maximum is refused with
//! `MAX_COST_EXCEEDED`, one the bucket cannot pay with `THROTTLED`; after it runs, the unused
//! part is refunded (`actualQueryCost`). Root fields served: `orders`, `order`,
//! `ordersCount`, `node` / `bulkOperation` / `currentBulkOperation`, and the mutation
//! `bulkOperationRunQuery`. Order nodes are a fixed superset of the fields the connector
//! selects, except `lineItems`, which follows the query's `first`/`after` (cursor paging).

use super::auth::TokenCheck;
use super::bulk;
use super::cost::{CONNECTION_BASE, ConnCost, CostError, Coster};
use super::gql_doc::{self, Document, Field, OpKind, Operation, Selection, Value as Arg};
use super::gql_render::{
    GqlNode, LineWindow, RefundWindow, Windows, graphql_node_with, line_after,
};
use super::search::{decode_cursor, encode_cursor, parse_terms};
use super::store::{Filter, SimOrder, SortKey, StatusFilter};
use super::{SimState, shop_key};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ordersync_sdk::sim::LeakyBucket;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

pub const MAX_PAGE: u64 = 250;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GqlRequest {
    query: String,
    #[serde(default)]
    variables: Option<Value>,
    #[serde(default)]
    operation_name: Option<String>,
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

/// A GraphQL error of one root field or of the whole query.
#[derive(Debug)]
pub struct GqlErr {
    pub message: String,
    pub code: &'static str,
}

fn err(message: impl Into<String>, code: &'static str) -> GqlErr {
    GqlErr {
        message: message.into(),
        code,
    }
}

fn error(message: &str, code: &str, cost: Option<Value>) -> Response {
    let mut body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    if let Some(c) = cost {
        body["extensions"] = json!({ "cost": c });
    }
    Json(body).into_response()
}

/// Shopify's refusal of a query above the single-query maximum (HTTP 200, nothing charged).
fn max_cost_exceeded(cost: f64, max: f64) -> Response {
    let message = format!(
        "Query cost is {cost}, which exceeds the single query max cost limit ({max}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
    );
    Json(json!({ "errors": [{
        "message": message,
        "extensions": { "code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": max },
    }] }))
    .into_response()
}

/// Everything a root field resolver needs.
struct Ctx<'a> {
    s: &'a SimState,
    doc: &'a Document,
    op: &'a Operation,
    vars: &'a Value,
    coster: Coster<'a>,
    shop: &'a str,
    host: &'a str,
    version: &'a str,
}

impl Ctx<'_> {
    fn arg(&self, f: &Field, name: &str) -> Option<Value> {
        f.arg(name)
            .map(|v| v.resolve(self.vars, &self.op.defaults))
            .filter(|v| !v.is_null())
    }
}

/// A resolved root field: its JSON and its actual cost.
struct Resolved {
    json: Vec<u8>,
    actual: f64,
}

pub async fn handle(
    State(s): State<Arc<SimState>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
    let doc = match gql_doc::parse(&req.query) {
        Ok(d) => d,
        Err(e) => return Json(json!({ "errors": [{ "message": e }] })).into_response(),
    };
    let op = match doc.operation(req.operation_name.as_deref()) {
        Ok(op) => op,
        Err(e) => return Json(json!({ "errors": [{ "message": e }] })).into_response(),
    };
    let vars = req.variables.unwrap_or_else(|| json!({}));
    let shop = shop_key(&headers);
    let ctx = Ctx {
        s: &s,
        doc: &doc,
        op,
        vars: &vars,
        coster: Coster::new(&doc, op, &vars),
        shop: &shop,
        host: &shop,
        version: &version,
    };
    let requested = match ctx.coster.operation(op) {
        Ok(c) => c,
        Err(CostError::MissingFirst(field)) => {
            return error(
                &format!("you must provide one of first or last (field '{field}')"),
                "BAD_REQUEST",
                None,
            );
        }
        Err(CostError::TooDeep) => return error("Query is nested too deeply", "BAD_REQUEST", None),
    };
    if requested > s.opts.max_query_cost {
        return max_cost_exceeded(requested, s.opts.max_query_cost);
    }
    if let Some(r) = charge(&s, &shop, requested) {
        return r;
    }
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"data\":{");
    let mut actual = 0.0;
    for (i, f) in doc.fields(&op.selection).into_iter().enumerate() {
        let resolved = match (op.kind, f.name.as_str()) {
            (OpKind::Query, "orders") => orders(&ctx, f),
            (OpKind::Query, "order") => order(&ctx, f),
            (OpKind::Query, "ordersCount") => orders_count(&ctx, f),
            (OpKind::Query, "node" | "bulkOperation") => node(&ctx, f),
            (OpKind::Query, "currentBulkOperation") => Ok(Resolved {
                json: bytes(&bulk::current(&s, &shop, ctx.host)),
                actual: 1.0,
            }),
            (OpKind::Mutation, "bulkOperationRunQuery") => bulk_run(&ctx, f),
            (OpKind::Query, other) => Err(err(
                format!(
                    "Field '{other}' doesn't exist on type 'QueryRoot' (the simulator serves orders, order, ordersCount, node, bulkOperation, currentBulkOperation)"
                ),
                "undefinedField",
            )),
            (_, other) => Err(err(
                format!(
                    "Field '{other}' doesn't exist on type 'Mutation' (the simulator serves bulkOperationRunQuery)"
                ),
                "undefinedField",
            )),
        };
        let r = match resolved {
            Ok(r) => r,
            Err(e) => {
                // Nothing ran: the whole charge is refunded.
                let cost = settle(&s, &shop, requested, 0.0);
                return error(&e.message, e.code, Some(cost));
            }
        };
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&bytes(&f.key()));
        out.push(b':');
        out.extend_from_slice(&r.json);
        actual += r.actual;
    }
    out.extend_from_slice(b"},\"extensions\":{\"cost\":");
    let cost = settle(&s, &shop, requested, actual.min(requested));
    out.extend_from_slice(&bytes(&cost));
    out.extend_from_slice(b"}}");
    ([(CONTENT_TYPE, "application/json")], out).into_response()
}

fn bytes<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_else(|_| b"null".to_vec())
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

/// Sort, direction and filter of an `orders(...)` field (shared with bulk queries).
pub fn order_args(
    f: &Field,
    vars: &Value,
    defaults: &HashMap<String, Arg>,
) -> Result<(SortKey, bool, Filter), GqlErr> {
    let arg = |n: &str| {
        f.arg(n)
            .map(|v| v.resolve(vars, defaults))
            .filter(|v| !v.is_null())
    };
    // The default sort is PROCESSED_AT — the trap the connector must avoid.
    let sort = match arg("sortKey").as_ref().and_then(Value::as_str) {
        None | Some("PROCESSED_AT" | "CREATED_AT") => SortKey::CreatedAt,
        Some("UPDATED_AT") => SortKey::UpdatedAt,
        Some("ID") => SortKey::Id,
        Some(_) => {
            return Err(err(
                "Argument 'sortKey' has an invalid value (the simulator supports PROCESSED_AT, CREATED_AT, UPDATED_AT, ID).",
                "argumentLiteralsIncompatible",
            ));
        }
    };
    let reverse = arg("reverse").and_then(|v| v.as_bool()).unwrap_or(false);
    let terms = arg("query")
        .and_then(|q| q.as_str().map(parse_terms))
        .unwrap_or_default();
    let filter = Filter {
        updated_min: terms.updated_min,
        updated_max: terms.updated_max,
        status: terms.status.unwrap_or(StatusFilter::Any),
    };
    Ok((sort, reverse, filter))
}

/// The `lineItems` field inside a selection of an order node, and the window it asks for.
fn line_window(
    ctx: &Ctx<'_>,
    node_sel: &[Selection],
) -> Result<Option<(LineWindow, ConnCost)>, GqlErr> {
    let Some(f) = ctx.doc.field(node_sel, "lineItems") else {
        return Ok(None);
    };
    let conn = ctx.coster.connection(f, 0).map_err(|_| {
        err(
            "you must provide one of first or last (field 'lineItems')",
            "BAD_REQUEST",
        )
    })?;
    if conn.first > MAX_PAGE {
        return Err(err(
            "The maximum page size is 250 (argument 'first' of lineItems).",
            "BAD_REQUEST",
        ));
    }
    let start = match ctx.arg(f, "after") {
        None => 0,
        Some(c) => c
            .as_str()
            .and_then(line_after)
            .ok_or_else(|| err("Invalid cursor for current pagination sort.", "BAD_REQUEST"))?,
    };
    let shapes = ctx.doc.fields(&f.selection);
    let window = LineWindow {
        first: usize::try_from(conn.first).unwrap_or(usize::MAX),
        start,
        nodes: shapes.iter().any(|x| x.name == "nodes"),
        edges: shapes.iter().any(|x| x.name == "edges"),
    };
    Ok(Some((window, conn)))
}

/// How one order node of a query renders and what its nested connections cost.
struct NodePlan {
    windows: Windows,
    /// The node's nested connections (`lineItems`, `shippingLines`, `discountApplications`,
    /// and `fulfillments` when sized by `first`).
    conns: Vec<(&'static str, ConnCost)>,
    /// Requested cost of the `refunds` field (a list: one object and what it selects).
    refunds_cost: f64,
}

impl NodePlan {
    /// How many children of connection `name` the page returns for `o`.
    fn returned(&self, o: &SimOrder, name: &str) -> u64 {
        let w = &self.windows;
        let n = match name {
            "lineItems" => w.lines.map_or(0, |l| l.returned(o)),
            "shippingLines" => w.shipping.map_or(0, |f| o.shipping.len().min(f)),
            "discountApplications" => w.discounts.map_or(0, |f| o.discounts.len().min(f)),
            "fulfillments" => w
                .fulfillments
                .map_or(o.parcels.len(), |f| o.parcels.len().min(f)),
            _ => 0,
        };
        n as u64
    }

    /// The actual cost of one node whose requested cost is `requested`: its connections as
    /// returned, and an empty `refunds` list as one object.
    fn actual(&self, o: &SimOrder, requested: f64) -> f64 {
        let mut a = requested;
        for (name, c) in &self.conns {
            let n = self.returned(o, name).min(c.first);
            a += CONNECTION_BASE + n as f64 * c.child_requested() - c.requested();
        }
        if o.refunds.is_empty() && self.refunds_cost > 1.0 {
            a -= self.refunds_cost - 1.0;
        }
        a
    }
}

/// The `first` of a nested connection field, checked against the maximum page size.
fn nested_first(ctx: &Ctx<'_>, f: &Field) -> Result<ConnCost, GqlErr> {
    let conn = ctx.coster.connection(f, 0).map_err(|_| {
        err(
            format!("you must provide one of first or last (field '{}')", f.name),
            "BAD_REQUEST",
        )
    })?;
    if conn.first > MAX_PAGE {
        return Err(err(
            format!(
                "The maximum page size is 250 (argument 'first' of {}).",
                f.name
            ),
            "BAD_REQUEST",
        ));
    }
    Ok(conn)
}

fn node_plan(ctx: &Ctx<'_>, node_sel: &[Selection]) -> Result<NodePlan, GqlErr> {
    let mut conns = Vec::new();
    let mut windows = Windows::default();
    if let Some((w, c)) = line_window(ctx, node_sel)? {
        windows.lines = Some(w);
        conns.push(("lineItems", c));
    }
    for name in ["shippingLines", "discountApplications"] {
        if let Some(f) = ctx.doc.field(node_sel, name) {
            let c = nested_first(ctx, f)?;
            let first = usize::try_from(c.first).unwrap_or(usize::MAX);
            if name == "shippingLines" {
                windows.shipping = Some(first);
            } else {
                windows.discounts = Some(first);
            }
            conns.push((name, c));
        }
    }
    // A list sized by `first` is charged (and refunded) like a connection; without `first`
    // it comes whole, as one object.
    if let Some(f) = ctx.doc.field(node_sel, "fulfillments")
        && super::cost::is_connection(ctx.doc, f)
    {
        let c = nested_first(ctx, f)?;
        windows.fulfillments = Some(usize::try_from(c.first).unwrap_or(usize::MAX));
        conns.push(("fulfillments", c));
    }
    let mut refunds_cost = 0.0;
    if let Some(f) = ctx.doc.field(node_sel, "refunds") {
        refunds_cost = ctx
            .coster
            .field(f, 1)
            .map_err(|_| err("you must provide one of first or last", "BAD_REQUEST"))?;
        let fields = ctx.doc.fields(&f.selection);
        let mut w = RefundWindow {
            detail: fields
                .iter()
                .any(|x| x.name != "id" && x.name != "__typename"),
            ..RefundWindow::default()
        };
        for x in fields {
            let slot = match x.name.as_str() {
                "refundLineItems" => &mut w.lines_first,
                "refundShippingLines" => &mut w.shipping_first,
                "orderAdjustments" => &mut w.adjustments_first,
                _ => continue,
            };
            *slot = usize::try_from(nested_first(ctx, x)?.first).unwrap_or(usize::MAX);
        }
        windows.refunds = w;
    }
    Ok(NodePlan {
        windows,
        conns,
        refunds_cost,
    })
}

/// The selection of one node of a connection field (`edges { node }` or `nodes`).
pub(super) fn node_selection<'a>(doc: &'a Document, f: &'a Field) -> Vec<Selection> {
    let mut out = Vec::new();
    for w in doc.fields(&f.selection) {
        match w.name.as_str() {
            "nodes" => out.extend(w.selection.iter().cloned()),
            "edges" => {
                for n in doc
                    .fields(&w.selection)
                    .into_iter()
                    .filter(|n| n.name == "node")
                {
                    out.extend(n.selection.iter().cloned());
                }
            }
            _ => {}
        }
    }
    out
}

fn orders(ctx: &Ctx<'_>, f: &Field) -> Result<Resolved, GqlErr> {
    let conn = ctx
        .coster
        .connection(f, 0)
        .map_err(|_| err("you must provide one of first or last", "BAD_REQUEST"))?;
    let first = conn.first;
    if first == 0 || first > MAX_PAGE {
        return Err(err(
            "The maximum page size is 250 (argument 'first').",
            "BAD_REQUEST",
        ));
    }
    let (sort, reverse, filter) = order_args(f, ctx.vars, &ctx.op.defaults)?;
    let after = match ctx.arg(f, "after") {
        None => None,
        Some(c) => Some(
            c.as_str()
                .and_then(|c| decode_cursor(c, sort))
                .ok_or_else(|| err("Invalid cursor for current pagination sort.", "BAD_REQUEST"))?,
        ),
    };
    let node_sel = node_selection(ctx.doc, f);
    let plan = node_plan(ctx, &node_sel)?;
    // Rendered straight to bytes under the store lock: no per-order `Value` tree.
    let store = ctx.s.store.lock().unwrap_or_else(|e| e.into_inner());
    let page = store.page(sort, reverse, after, &filter, first as usize);
    let actual = conn.actual(page.orders.len(), |i, name| {
        page.orders
            .get(i)
            .map_or(0, |(o, _)| plan.returned(o, name))
    }) - page
        .orders
        .iter()
        .filter(|(o, _)| o.refunds.is_empty() && plan.refunds_cost > 1.0)
        .count() as f64
        * (plan.refunds_cost - 1.0);
    let out = ConnOut {
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
                node: graphql_node_with(o, &plan.windows),
            })
            .collect(),
    };
    Ok(Resolved {
        json: bytes(&out),
        actual,
    })
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

/// An order node and its actual cost (object 1 + what it selects, its lines as returned).
fn order_node(ctx: &Ctx<'_>, f: &Field, o: &SimOrder) -> Result<Resolved, GqlErr> {
    let requested = ctx
        .coster
        .field(f, 0)
        .map_err(|_| err("you must provide one of first or last", "BAD_REQUEST"))?;
    let plan = node_plan(ctx, &f.selection)?;
    Ok(Resolved {
        json: bytes(&graphql_node_with(o, &plan.windows)),
        actual: plan.actual(o, requested),
    })
}

fn gid_arg(ctx: &Ctx<'_>, f: &Field) -> Result<String, GqlErr> {
    ctx.arg(f, "id")
        .and_then(|v| v.as_str().map(str::to_string))
        .ok_or_else(|| err("Invalid global id", "BAD_REQUEST"))
}

fn order(ctx: &Ctx<'_>, f: &Field) -> Result<Resolved, GqlErr> {
    let id = gid_arg(ctx, f)?
        .strip_prefix("gid://shopify/Order/")
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| err("Invalid global id", "BAD_REQUEST"))?;
    let store = ctx.s.store.lock().unwrap_or_else(|e| e.into_inner());
    match store.get(id) {
        Some(o) => order_node(ctx, f, o),
        None => Ok(Resolved {
            json: b"null".to_vec(),
            actual: 1.0,
        }),
    }
}

/// `node(id:)` / `bulkOperation(id:)`: bulk operations and orders.
fn node(ctx: &Ctx<'_>, f: &Field) -> Result<Resolved, GqlErr> {
    let gid = gid_arg(ctx, f)?;
    if let Some(id) = bulk::parse_gid(&gid) {
        return Ok(Resolved {
            json: bytes(&bulk::read(ctx.s, ctx.shop, id, ctx.host)),
            actual: 1.0,
        });
    }
    if f.name == "node"
        && let Some(id) = gid
            .strip_prefix("gid://shopify/Order/")
            .and_then(|n| n.parse::<u64>().ok())
    {
        let store = ctx.s.store.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(o) = store.get(id) {
            return order_node(ctx, f, o);
        }
    }
    Ok(Resolved {
        json: b"null".to_vec(),
        actual: 1.0,
    })
}

/// `ordersCount(query:, limit:)`: counts up to `limit` (default 10,000), as Shopify does.
fn orders_count(ctx: &Ctx<'_>, f: &Field) -> Result<Resolved, GqlErr> {
    let terms = ctx
        .arg(f, "query")
        .and_then(|q| q.as_str().map(parse_terms))
        .unwrap_or_default();
    let limit = match f
        .arg("limit")
        .map(|v| v.resolve(ctx.vars, &ctx.op.defaults))
    {
        None => Some(10_000),
        Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| err("Argument 'limit' must be a positive integer", "BAD_REQUEST"))?,
        ),
    };
    let filter = Filter {
        updated_min: terms.updated_min,
        updated_max: terms.updated_max,
        status: terms.status.unwrap_or(StatusFilter::Any),
    };
    let n = ctx
        .s
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .count(&filter) as u64;
    let (count, precision) = match limit {
        Some(l) if n > l => (l, "AT_LEAST"),
        _ => (n, "EXACT"),
    };
    Ok(Resolved {
        json: bytes(&json!({ "count": count, "precision": precision })),
        actual: 1.0,
    })
}

fn bulk_run(ctx: &Ctx<'_>, f: &Field) -> Result<Resolved, GqlErr> {
    let query = ctx
        .arg(f, "query")
        .and_then(|q| q.as_str().map(str::to_string))
        .ok_or_else(|| {
            err(
                "Argument 'query' on Field 'bulkOperationRunQuery' is required",
                "missingRequiredArguments",
            )
        })?;
    let group = ctx.arg(f, "groupObjects").and_then(|v| v.as_bool());
    let payload = bulk::run_query(ctx.s, ctx.shop, ctx.version, &query, group, ctx.host);
    Ok(Resolved {
        json: bytes(&payload),
        actual: super::cost::MUTATION_COST,
    })
}
