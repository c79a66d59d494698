//! The GraphQL documents this connector sends, and what each one costs.
//!
//! Costs follow Shopify's documented model (scalar/enum 0, object 1, connection
//! 2 + `first` × one child, nested connections multiply, mutation 10), the worst case the
//! simulator charges too. Money fields are `MoneyBag { shopMoney }` (2 points each); lists that
//! are not connections (`taxLines`, `discountAllocations`) count as one object.
//!
//! - One line item node ([`LINE_FIELDS`]): 1 + `originalUnitPriceSet` 2 +
//!   `discountAllocations` 3 + `taxLines` 3 = **9**.
//! - One order node without its lines: 1 + customer 1 + two addresses 2 + shippingLine 1 +
//!   four money bags 8 + taxLines 3 = **16**; with `lineItems(first: L)` it is
//!   16 + 2 + 9·L = **18 + 9·L**.
//! - [`ORDERS_QUERY`] with `first: n`: **2 + n·(18 + 9·L)**. With L = [`LINE_PAGE`] = 5 one
//!   order costs 63, so n = ⌊(1000 − 2) / 63⌋ = **15** orders per page, requested cost **947**
//!   (see `paging.rs`; the page size follows what Shopify reports back).
//! - [`ORDER_LINES_QUERY`] with `first: m`: 1 + 2 + 9·m; m = [`LINE_FOLLOW_UP`] = 100 → 903.
//! - [`ORDER_QUERY`] (fetch by id) with L = [`FETCH_LINE_PAGE`] = 100: 1 + 16 + 2 + 900 = 919.

/// Line items read with each order of a page; an order with more is completed with
/// [`ORDER_LINES_QUERY`]. Most orders have a handful of lines, and every line of this nested page
/// multiplies the cost of every order of the page, so it is small.
pub const LINE_PAGE: u32 = 5;
/// Line items per follow-up page of one order (cost 903 of the 1,000 maximum).
pub const LINE_FOLLOW_UP: u32 = 100;
/// Line items read with a single order fetched by id.
pub const FETCH_LINE_PAGE: u32 = 100;
/// Requested cost of one order node of [`ORDERS_QUERY`] (see the module docs).
pub const ORDER_NODE_COST: f64 = 18.0 + 9.0 * LINE_PAGE as f64;
/// Fixed part of a connection's cost.
pub const CONNECTION_BASE: f64 = 2.0;
/// Requested cost of one line item node.
pub const LINE_NODE_COST: f64 = 9.0;

/// Fields of an order node except its line items (kept in one place: the paged queries and
/// the bulk query select the same fields).
macro_rules! order_body {
    () => {
        "id legacyResourceId name createdAt updatedAt cancelledAt closed
  displayFulfillmentStatus currencyCode email phone note
  customer { firstName lastName }
  shippingAddress { name firstName lastName company address1 address2 city province provinceCode zip countryCodeV2 phone }
  billingAddress { name firstName lastName company address1 address2 city province provinceCode zip countryCodeV2 phone }
  shippingLine { title }
  totalShippingPriceSet { shopMoney { amount currencyCode } }
  totalDiscountsSet { shopMoney { amount currencyCode } }
  totalTaxSet { shopMoney { amount currencyCode } }
  totalPriceSet { shopMoney { amount currencyCode } }
  taxLines { title rate priceSet { shopMoney { amount currencyCode } } }"
    };
}

/// Fields of a line item node. `discountAllocations` and `taxLines` are lists, not
/// connections: they come whole with their line.
macro_rules! line_body {
    () => {
        "id sku title quantity
  originalUnitPriceSet { shopMoney { amount currencyCode } }
  discountAllocations { allocatedAmountSet { shopMoney { amount currencyCode } } }
  taxLines { title rate priceSet { shopMoney { amount currencyCode } } }"
    };
}

macro_rules! line_fragment {
    () => {
        concat!(
            "fragment LineFields on LineItem {\n  ",
            line_body!(),
            "\n}\n"
        )
    };
}

macro_rules! order_fragment {
    () => {
        concat!(
            "fragment OrderFields on Order {\n  ",
            order_body!(),
            "\n  lineItems(first: $lineFirst) { nodes { ...LineFields } pageInfo { hasNextPage endCursor } }\n}\n",
            line_fragment!()
        )
    };
}

/// Every field the mapping reads of one line item.
pub const LINE_FIELDS: &str = line_body!();

/// `sortKey: UPDATED_AT` is essential: the default (`PROCESSED_AT`) breaks the watermark.
pub const ORDERS_QUERY: &str = concat!(
    "query Orders($first: Int!, $after: String, $query: String, $lineFirst: Int!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges { cursor node { ...OrderFields } }
    pageInfo { hasNextPage endCursor }
  }
}
",
    order_fragment!()
);

pub const ORDER_QUERY: &str = concat!(
    "query Order($id: ID!, $lineFirst: Int!) { order(id: $id) { ...OrderFields } }\n",
    order_fragment!()
);

/// The next line items of one order.
pub const ORDER_LINES_QUERY: &str = concat!(
    "query OrderLines($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    lineItems(first: $first, after: $after) { nodes { ...LineFields } pageInfo { hasNextPage endCursor } }
  }
}
",
    line_fragment!()
);

/// How many orders a window holds, up to `limit` (Shopify counts up to a limit).
pub const ORDERS_COUNT_QUERY: &str = "query OrdersCount($query: String, $limit: Int) {
  ordersCount(query: $query, limit: $limit) { count precision }
}";

/// Starts a bulk export. `groupObjects: true` puts each order's line items right after it,
/// which lets the JSONL be read as a stream; since 2026-01 the default is ungrouped.
pub const BULK_RUN_GROUPED: &str = "mutation BulkOrders($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: true) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}";

/// The same for API versions before `groupObjects` existed (2024-10), which always group.
pub const BULK_RUN_LEGACY: &str = "mutation BulkOrders($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}";

/// Polls one bulk operation.
pub const BULK_POLL_QUERY: &str = "query BulkPoll($id: ID!) {
  node(id: $id) { ... on BulkOperation { id status errorCode objectCount rootObjectCount url } }
}";

/// The query a bulk operation runs: the same order and line fields, no pagination arguments
/// (bulk queries take none) and no fragments. `search` is the window's search string.
pub fn bulk_orders_query(search: &str) -> String {
    // A JSON string literal is a valid GraphQL string literal.
    let quoted = serde_json::Value::String(search.to_string()).to_string();
    format!(
        "{{ orders(query: {quoted}, sortKey: UPDATED_AT) {{ edges {{ node {{ {} lineItems {{ edges {{ node {{ {} }} }} }} }} }} }} }}",
        order_body!(),
        line_body!()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_cost_fits_the_single_query_maximum() {
        let n = ((1000.0 - CONNECTION_BASE) / ORDER_NODE_COST).floor();
        assert_eq!(n, 15.0);
        assert_eq!(CONNECTION_BASE + n * ORDER_NODE_COST, 947.0);
        assert!(3.0 + f64::from(LINE_FOLLOW_UP) * LINE_NODE_COST <= 1000.0);
    }

    #[test]
    fn bulk_query_quotes_the_search() {
        let q = bulk_orders_query("updated_at:<='2026-01-01T00:00:00Z' \"x\"");
        assert!(q.starts_with("{ orders(query: \"updated_at:<='2026-01-01T00:00:00Z' \\\"x\\\"\""));
        assert!(!q.contains("first:") && !q.contains("..."));
    }
}
