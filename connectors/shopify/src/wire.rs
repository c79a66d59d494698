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

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlOrder {
    pub id: Option<String>,
    pub legacy_resource_id: Option<String>,
    pub name: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub cancelled_at: Option<String>,
    pub closed: Option<bool>,
    pub display_fulfillment_status: Option<String>,
    pub currency_code: Option<String>,
    pub line_items: Option<Nodes<GqlLine>>,
    pub shipping_line: Option<Titled>,
    pub total_shipping_price_set: Option<MoneyBag>,
    pub total_discounts_set: Option<MoneyBag>,
    pub total_tax_set: Option<MoneyBag>,
    pub total_price_set: Option<MoneyBag>,
    pub tax_lines: Vec<GqlTaxLine>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub customer: Option<GqlCustomer>,
    pub shipping_address: Option<GqlAddress>,
    pub billing_address: Option<GqlAddress>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Nodes<T> {
    #[serde(default = "Vec::new")]
    pub nodes: Vec<T>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Titled {
    pub title: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoneyBag {
    pub shop_money: MoneyV2,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoneyV2 {
    pub amount: String,
    pub currency_code: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlLine {
    pub id: Option<String>,
    pub sku: Option<String>,
    pub title: Option<String>,
    pub quantity: Option<i64>,
    pub original_unit_price_set: Option<MoneyBag>,
    pub discount_allocations: Vec<GqlDiscountAllocation>,
    pub tax_lines: Vec<GqlTaxLine>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlDiscountAllocation {
    pub allocated_amount_set: MoneyBag,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlTaxLine {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub rate: Option<serde_json::Number>,
    pub price_set: MoneyBag,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlCustomer {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlAddress {
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub province_code: Option<String>,
    pub province: Option<String>,
    pub zip: Option<String>,
    pub country_code_v2: Option<String>,
    pub phone: Option<String>,
}

// ---------- REST / webhook shapes (snake_case) ----------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RestOrder {
    pub id: Option<serde_json::Number>,
    pub name: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub cancelled_at: Option<String>,
    pub closed_at: Option<String>,
    pub fulfillment_status: Option<String>,
    pub currency: Option<String>,
    pub line_items: Vec<RestLine>,
    pub shipping_lines: Vec<Titled>,
    pub total_shipping_price_set: Option<RestMoneySet>,
    pub total_discounts: Option<String>,
    pub total_tax: Option<String>,
    pub total_price: Option<String>,
    pub tax_lines: Vec<RestTaxLine>,
    pub email: Option<String>,
    pub contact_email: Option<String>,
    pub phone: Option<String>,
    pub customer: Option<RestCustomer>,
    pub shipping_address: Option<RestAddress>,
    pub billing_address: Option<RestAddress>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RestMoneySet {
    pub shop_money: RestMoney,
}

#[derive(Debug, Deserialize)]
pub struct RestMoney {
    pub amount: String,
    pub currency_code: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RestLine {
    pub id: Option<serde_json::Number>,
    pub sku: Option<String>,
    pub title: Option<String>,
    pub quantity: Option<i64>,
    pub price: Option<String>,
    pub discount_allocations: Vec<RestDiscountAllocation>,
    pub tax_lines: Vec<RestTaxLine>,
}

#[derive(Debug, Deserialize)]
pub struct RestDiscountAllocation {
    pub amount: String,
}

#[derive(Debug, Deserialize)]
pub struct RestTaxLine {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub rate: Option<serde_json::Number>,
    pub price: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RestCustomer {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RestAddress {
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub province_code: Option<String>,
    pub province: Option<String>,
    pub zip: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
}
