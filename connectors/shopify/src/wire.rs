//! The Admin API's JSON shapes this connector reads: the GraphQL envelope and its
//! `extensions.cost`, the order node, bulk operations, and the REST/webhook order. Only the
//! fields we use are typed; unknown fields are ignored. Orders are deserialized from a raw
//! `Value` (one odd node becomes a rejected order, not a failed page).

use serde::Deserialize;

// ---------- GraphQL envelope ----------

/// `{data, errors, extensions}` of a GraphQL answer.
#[derive(Deserialize)]
pub struct GqlResponse<T> {
    #[serde(default = "Option::default")]
    pub data: Option<T>,
    #[serde(default)]
    pub errors: Option<Vec<GqlError>>,
    #[serde(default)]
    pub extensions: Option<Extensions>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Extensions {
    #[serde(default)]
    pub cost: Option<Cost>,
}

/// `extensions.cost` of a GraphQL answer.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    #[serde(default)]
    pub requested_query_cost: Option<f64>,
    #[serde(default)]
    pub actual_query_cost: Option<f64>,
    pub throttle_status: ThrottleStatus,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStatus {
    pub maximum_available: f64,
    pub currently_available: f64,
    pub restore_rate: f64,
}

/// One entry of a GraphQL `errors` array (the message is never copied into our errors).
#[derive(Debug, Clone, Deserialize)]
pub struct GqlError {
    #[serde(default)]
    pub extensions: Option<GqlErrorExt>,
}

/// `errors[].extensions`: the code, and for `MAX_COST_EXCEEDED` the query's cost and the limit
/// (kept untyped: another error's extensions may use these names for other shapes, and an odd
/// one must not make the whole answer unreadable).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlErrorExt {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub cost: Option<serde_json::Value>,
    #[serde(default)]
    pub max_cost: Option<serde_json::Value>,
}

// ---------- orders / order / ordersCount ----------

#[derive(Debug, Deserialize)]
pub struct OrdersData {
    pub orders: Connection,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub edges: Vec<Edge>,
    pub page_info: PageInfo,
}

#[derive(Debug, Deserialize)]
pub struct Edge {
    /// Kept raw: one odd node becomes a rejected order, not a failed page.
    pub node: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub has_next_page: bool,
    #[serde(default)]
    pub end_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct OrderData {
    #[serde(default)]
    pub order: Option<serde_json::Value>,
}

/// `order(id:) { lineItems(first:, after:) { nodes pageInfo } }`: the follow-up page of an
/// order with more lines than one nested page.
#[derive(Debug, Deserialize)]
pub struct OrderLinesData {
    #[serde(default)]
    pub order: Option<OrderLines>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLines {
    pub line_items: LinePage,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinePage {
    #[serde(default)]
    pub nodes: Vec<serde_json::Value>,
    pub page_info: PageInfo,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrdersCountData {
    #[serde(default)]
    pub orders_count: Option<Count>,
}

#[derive(Debug, Deserialize)]
pub struct Count {
    pub count: u64,
}

// ---------- bulk operations ----------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkRunData {
    pub bulk_operation_run_query: BulkRunPayload,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkRunPayload {
    #[serde(default)]
    pub bulk_operation: Option<BulkOperation>,
    #[serde(default)]
    pub user_errors: Vec<BulkUserError>,
}

/// A `BulkOperationUserError`; its message is not kept (it may quote the query).
#[derive(Debug, Deserialize)]
pub struct BulkUserError {
    #[serde(default)]
    pub code: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct BulkNodeData {
    #[serde(default)]
    pub node: Option<BulkOperation>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkOperation {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub error_code: Option<String>,
    /// Where the JSONL result is (a pre-signed storage URL; `null` when nothing matched).
    #[serde(default)]
    pub url: Option<String>,
}

// ---------- the GraphQL Order node (camelCase) ----------
/// `order(id:)` of [`crate::queries::ORDER_EXTRAS_QUERY`]: a raw node whose shipping lines,
/// discount applications and refunds replace the page's.
#[derive(Debug, Deserialize)]
pub struct OrderExtrasData {
    #[serde(default)]
    pub order: Option<serde_json::Value>,
}
