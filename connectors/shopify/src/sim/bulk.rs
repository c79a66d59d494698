//! Bulk operations: `bulkOperationRunQuery` starts an export of `orders`, `node(id:)`,
//! `bulkOperation(id:)` and `currentBulkOperation` report it (CREATED → RUNNING → COMPLETED
//! as it is polled, or after [`super::SimOptions::bulk_seconds`] of sim time), and the JSONL
//! result is served from a pre-signed URL on the simulator itself (no access token, like
//! Shopify's storage links). The JSONL is Shopify's: one line per order (without its
//! connections), then one line per child with `__parentId` — its shipping lines
//! (`gid://shopify/ShippingLine/N`), its discount applications (with `__typename`), its line
//! items, each kind if the query selects it; grouped under their order only with
//! `groupObjects: true` (the default before API version 2026-01), otherwise every order first
//! and every child after. One running bulk query per shop.

use super::gql_doc::{Document, Field, OpKind, parse};
use super::gql_render::{BulkChildren, bulk_order_line, write_bulk_children};
use super::graphql::{node_selection, order_args};
use super::search::utc;
use super::store::{Filter, SortKey, Store};
use super::{SimOptions, SimState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub const GID_PREFIX: &str = "gid://shopify/BulkOperation/";
/// Shopify's bulk query limits.
const MAX_CONNECTIONS: usize = 5;
const MAX_NESTING: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Created,
    Running,
    Completed,
    Failed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Created => "CREATED",
            Status::Running => "RUNNING",
            Status::Completed => "COMPLETED",
            Status::Failed => "FAILED",
        }
    }
}

struct BulkOp {
    id: u64,
    shop: String,
    query: String,
    created: i64,
    completed: Option<i64>,
    reads: u32,
    status: Status,
    filter: Filter,
    sort: SortKey,
    reverse: bool,
    grouped: bool,
    children: BulkChildren,
    fail: bool,
    result: Option<Bytes>,
    roots: u64,
    objects: u64,
    sig: String,
    downloads: u32,
}

#[derive(Default)]
pub struct BulkBook {
    ops: BTreeMap<u64, BulkOp>,
    next: u64,
    fail_next: bool,
}

fn advance(op: &mut BulkOp, now: i64, opts: &SimOptions, store: &Store, read: bool) {
    if matches!(op.status, Status::Completed | Status::Failed) {
        return;
    }
    if read {
        op.reads = op.reads.saturating_add(1);
    }
    let due = op.reads >= opts.bulk_polls_to_complete
        || now >= op.created.saturating_add(opts.bulk_seconds);
    if !due {
        if op.reads > 0 {
            op.status = Status::Running;
        }
        return;
    }
    op.completed = Some(now);
    if op.fail {
        op.status = Status::Failed;
        return;
    }
    let mut out = Vec::new();
    let page = store.page(op.sort, op.reverse, None, &op.filter, usize::MAX);
    for (o, _) in &page.orders {
        if serde_json::to_writer(&mut out, &bulk_order_line(o)).is_ok() {
            out.push(b'\n');
        }
        op.objects += 1;
        if op.grouped {
            op.objects += write_bulk_children(&mut out, o, op.children);
        }
    }
    if !op.grouped {
        for (o, _) in &page.orders {
            op.objects += write_bulk_children(&mut out, o, op.children);
        }
    }
    op.roots = page.orders.len() as u64;
    op.result = Some(Bytes::from(out));
    op.status = Status::Completed;
}

fn render(op: &BulkOp, host: &str) -> Value {
    let url = (op.status == Status::Completed && op.roots > 0).then(|| {
        format!(
            "http://{host}/bulk-results/{}.jsonl?X-Goog-Signature={}",
            op.id, op.sig
        )
    });
    json!({
        "id": format!("{GID_PREFIX}{}", op.id),
        "status": op.status.as_str(),
        "errorCode": (op.status == Status::Failed).then_some("INTERNAL_SERVER_ERROR"),
        "createdAt": utc(op.created),
        "completedAt": op.completed.map(utc),
        "objectCount": op.objects.to_string(),
        "rootObjectCount": op.roots.to_string(),
        "fileSize": op.result.as_ref().filter(|_| op.roots > 0).map(|r| r.len().to_string()),
        "url": url,
        "partialDataUrl": null,
        "query": op.query,
        "type": "QUERY",
    })
}

fn user_error(message: String, code: &str) -> Value {
    json!({
        "bulkOperation": null,
        "userErrors": [{ "field": ["query"], "message": message, "code": code }],
    })
}

/// Counts connections and checks the nesting of a bulk query's selection.
fn check_connections(doc: &Document, f: &Field, depth: usize) -> Result<usize, String> {
    let mut n = 0;
    if super::cost::is_connection(doc, f) {
        n += 1;
        if depth >= MAX_NESTING {
            return Err(format!(
                "Bulk queries cannot contain connections with a nesting depth greater than {MAX_NESTING}."
            ));
        }
    }
    let next = depth + usize::from(n > 0);
    for c in doc.fields(&f.selection) {
        n += check_connections(doc, c, next)?;
    }
    Ok(n)
}

/// `bulkOperationRunQuery(query:, groupObjects:)`: the mutation's payload.
pub fn run_query(
    s: &SimState,
    shop: &str,
    version: &str,
    query: &str,
    group: Option<bool>,
    host: &str,
) -> Value {
    let doc = match parse(query) {
        Ok(d) => d,
        Err(e) => return user_error(format!("Invalid bulk query: {e}"), "INVALID"),
    };
    let op = match doc.operation(None) {
        Ok(op) if op.kind == OpKind::Query => op,
        Ok(_) => return user_error("Bulk queries must be queries.".into(), "INVALID"),
        Err(e) => return user_error(format!("Invalid bulk query: {e}"), "INVALID"),
    };
    let roots = doc.fields(&op.selection);
    let [root] = roots.as_slice() else {
        return user_error(
            "Bulk queries must have exactly one top-level field.".into(),
            "INVALID",
        );
    };
    if root.name != "orders" {
        return user_error(
            "The simulator's bulk operations export orders only.".into(),
            "INVALID",
        );
    }
    match check_connections(&doc, root, 0) {
        Ok(n) if n > MAX_CONNECTIONS => {
            return user_error(
                format!("Bulk queries cannot contain more than {MAX_CONNECTIONS} connections."),
                "INVALID",
            );
        }
        Ok(_) => {}
        Err(e) => return user_error(e, "INVALID"),
    }
    let sel = node_selection(&doc, root);
    let children = BulkChildren {
        shipping: doc.field(&sel, "shippingLines").is_some(),
        discounts: doc.field(&sel, "discountApplications").is_some(),
        lines: doc.field(&sel, "lineItems").is_some(),
    };
    let (sort, reverse, filter) = match order_args(root, &json!({}), &op.defaults) {
        Ok(a) => a,
        Err(e) => return user_error(format!("Invalid bulk query: {}", e.message), "INVALID"),
    };
    let now = s.now();
    let mut book = s.bulk.lock().unwrap_or_else(|e| e.into_inner());
    {
        let store = s.store.lock().unwrap_or_else(|e| e.into_inner());
        for o in book.ops.values_mut().filter(|o| o.shop == shop) {
            advance(o, now, &s.opts, &store, false);
        }
    }
    if let Some(o) = book
        .ops
        .values()
        .find(|o| o.shop == shop && matches!(o.status, Status::Created | Status::Running))
    {
        return user_error(
            format!(
                "A bulk query operation for this app and shop is already in progress: {GID_PREFIX}{}.",
                o.id
            ),
            "OPERATION_IN_PROGRESS",
        );
    }
    book.next += 1;
    let id = book.next;
    let fail = std::mem::take(&mut book.fail_next);
    let op = BulkOp {
        id,
        shop: shop.to_string(),
        query: query.to_string(),
        created: now,
        completed: None,
        reads: 0,
        status: Status::Created,
        filter,
        sort,
        reverse,
        // The default flipped to ungrouped in 2026-01 ("unstable" sorts after the dates).
        grouped: group.unwrap_or(version < "2026-01"),
        children,
        fail,
        result: None,
        roots: 0,
        objects: 0,
        sig: format!("{:032x}", rand::random::<u128>()),
        downloads: 0,
    };
    let out = json!({ "bulkOperation": render(&op, host), "userErrors": [] });
    book.ops.insert(id, op);
    out
}

/// The id of `gid://shopify/BulkOperation/{n}`.
pub fn parse_gid(gid: &str) -> Option<u64> {
    gid.strip_prefix(GID_PREFIX)?.parse().ok()
}

/// One status read of an operation (polling advances it); `None` if unknown to this shop.
pub fn read(s: &SimState, shop: &str, id: u64, host: &str) -> Option<Value> {
    let now = s.now();
    let mut book = s.bulk.lock().unwrap_or_else(|e| e.into_inner());
    let op = book.ops.get_mut(&id).filter(|o| o.shop == shop)?;
    let store = s.store.lock().unwrap_or_else(|e| e.into_inner());
    advance(op, now, &s.opts, &store, true);
    Some(render(op, host))
}

/// `currentBulkOperation`: the shop's most recent operation.
pub fn current(s: &SimState, shop: &str, host: &str) -> Option<Value> {
    let id = {
        let book = s.bulk.lock().unwrap_or_else(|e| e.into_inner());
        book.ops.values().rev().find(|o| o.shop == shop)?.id
    };
    read(s, shop, id, host)
}

/// `GET /bulk-results/{id}.jsonl?X-Goog-Signature=…`: the result file.
pub async fn download(
    State(s): State<Arc<SimState>>,
    Path(file): Path<String>,
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    let id = file
        .strip_suffix(".jsonl")
        .and_then(|n| n.parse::<u64>().ok());
    let body = {
        let mut book = s.bulk.lock().unwrap_or_else(|e| e.into_inner());
        id.and_then(|id| book.ops.get_mut(&id))
            .filter(|o| p.get("X-Goog-Signature") == Some(&o.sig))
            .and_then(|o| {
                o.downloads += 1;
                o.result.clone()
            })
    };
    match body {
        Some(b) => ([(CONTENT_TYPE, "application/jsonl")], b).into_response(),
        None => (
            StatusCode::FORBIDDEN,
            [(CONTENT_TYPE, "application/xml")],
            "<?xml version='1.0' encoding='UTF-8'?><Error><Code>SignatureDoesNotMatch</Code></Error>",
        )
            .into_response(),
    }
}

/// `POST /_sim/bulk/fail_next`: the next bulk operation ends `FAILED`.
pub async fn fail_next(State(s): State<Arc<SimState>>) -> Json<Value> {
    s.bulk.lock().unwrap_or_else(|e| e.into_inner()).fail_next = true;
    Json(json!({ "fail_next": true }))
}

/// `GET /_sim/bulk`: every operation (for tests and the demo).
pub async fn list(State(s): State<Arc<SimState>>) -> Json<Value> {
    let book = s.bulk.lock().unwrap_or_else(|e| e.into_inner());
    let ops: Vec<Value> = book
        .ops
        .values()
        .map(|o| {
            json!({
                "id": format!("{GID_PREFIX}{}", o.id), "status": o.status.as_str(),
                "reads": o.reads, "grouped": o.grouped, "downloads": o.downloads,
                "root_object_count": o.roots,
            })
        })
        .collect();
    Json(json!({ "operations": ops }))
}
