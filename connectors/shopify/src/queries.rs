//! The GraphQL documents this connector sends, and what each one costs.
//!
//! Costs follow Shopify's documented model (scalar/enum 0, object 1, connection
//! 2 + `first` × one child, nested connections multiply, mutation 10), the worst case the
//! simulator charges too. A `MoneyBag { shopMoney }` is 2 points (3 with `presentmentMoney`);
//! lists that are not connections (`taxLines`, `discountAllocations`, `refunds`,
//! `additionalFees`, `trackingInfo`) count as one object. A list sized by `first` but without
//! `nodes`/`edges` (`fulfillments(first:)`) is charged like a connection of its items, the
//! worst case (the simulator does the same; Shopify documents connections only).
//!
//! - One line item node ([`LINE_FIELDS`]): 1 + `product` 1 + `originalUnitPriceSet` 2 +
//!   `discountAllocations` 4 + `taxLines` 3 = **11**.
//! - One shipping line node: 1 + `originalPriceSet` 2 + `discountAllocations` 4 +
//!   `taxLines` 3 = **10**; one discount application node: 1 + `value` 1 = **2**.
//! - One order node without its lines ([`ORDER_BODY_COST`]): 1, customer 1, two addresses 2,
//!   thirteen money bags 28 (two with presentment money), cash rounding 5, `refunds { id }` 1,
//!   `additionalFees` 6, `shippingLines(first: 2)` 22, `discountApplications(first: 5)` 12,
//!   `fulfillments(first: 2)` 2 + 2 × (1 + `trackingInfo` 1) = 6: **84**; with
//!   `lineItems(first: L)` it is 84 + 2 + 11·L.
//! - [`ORDERS_QUERY`] with `first: n`: **2 + n·(86 + 11·L)**. With L = [`LINE_PAGE`] = 5 one
//!   order costs 141, so n = ⌊(1000 − 2) / 141⌋ = **7** orders per page, requested cost **989**
//!   (see `paging.rs`; the page size follows what Shopify reports back).
//! - [`ORDER_LINES_QUERY`] with `first: m`: 1 + 2 + 11·m; m = [`LINE_FOLLOW_UP`] = 90 → 993.
//! - [`ORDER_QUERY`] (fetch by id) with L = [`FETCH_LINE_PAGE`] = 80: 84 + 2 + 880 = 966.
//! - [`ORDER_EXTRAS_QUERY`]: every shipping line, discount application and refund of one
//!   order, asked only for orders that have refunds or more than the page's shipping lines or
//!   discount applications: 212 + 6·f with f = [`EXTRAS_FIRST`] = 130 → **992** (10 shipping
//!   lines, 10 discount applications, 130 line items per refund).

/// Line items read with each order of a page; an order with more is completed with
/// [`ORDER_LINES_QUERY`]. Most orders have a handful of lines, and every line of this nested page
/// multiplies the cost of every order of the page, so it is small.
pub const LINE_PAGE: u32 = 5;
/// Line items per follow-up page of one order (cost 993 of the 1,000 maximum).
pub const LINE_FOLLOW_UP: u32 = 90;
/// Line items read with a single order fetched by id.
pub const FETCH_LINE_PAGE: u32 = 80;
/// Shipping lines and discount applications read with each order of a page.
pub const SHIPPING_PAGE: u32 = 2;
pub const DISCOUNT_PAGE: u32 = 5;
/// Fulfillments read with each order: enough for the parcel a tracking target follows and a
/// split shipment, while a page still holds 7 orders (a third would make it 6). The list has
/// no `pageInfo`: a third fulfillment is not seen.
pub const FULFILLMENT_PAGE: u32 = 2;
/// `first` of [`ORDER_EXTRAS_QUERY`]'s refund line items: a refund with more (a cancelled
/// order of more than 130 lines) is refused with a reason, never cut short. 212 + 6 × 130 = 992.
pub const EXTRAS_FIRST: u32 = 130;
/// Fixed part and per-`first` cost of [`ORDER_EXTRAS_QUERY`]: order 1; refunds 1 + total 2 +
/// refund shipping lines 2 + 5 × 5 + adjustments 2 + 10 × 5 + duties 3; the three connections'
/// 3 × 2; 10 shipping lines × 10 and 10 discount applications × 2. Per `first`: a refund line
/// item 6.
pub const EXTRAS_BASE: f64 = 212.0;
pub const EXTRAS_PER_ITEM: f64 = 6.0;
/// Requested cost of one order node without its line items (see the module docs).
pub const ORDER_BODY_COST: f64 = 84.0;
/// Requested cost of one line item node.
pub const LINE_NODE_COST: f64 = 11.0;
/// Fixed part of a connection's cost.
pub const CONNECTION_BASE: f64 = 2.0;
/// Requested cost of one order node of [`ORDERS_QUERY`].
pub const ORDER_NODE_COST: f64 =
    ORDER_BODY_COST + CONNECTION_BASE + LINE_NODE_COST * LINE_PAGE as f64;

/// One `MoneyBag` in shop money (the shop currency every canonical amount is in).
macro_rules! shop {
    () => {
        "{ shopMoney { amount currencyCode } }"
    };
}

/// Tax lines of a line, shipping line or fee; `channelLiable` says who remits.
macro_rules! tax_lines {
    () => {
        concat!(
            "taxLines { title rate channelLiable priceSet ",
            shop!(),
            " }"
        )
    };
}

macro_rules! allocations {
    () => {
        concat!(
            "discountAllocations { allocatedAmountSet ",
            shop!(),
            " discountApplication { index } }"
        )
    };
}

macro_rules! shipping_fields {
    () => {
        concat!(
            "title code originalPriceSet ",
            shop!(),
            " ",
            allocations!(),
            " ",
            tax_lines!()
        )
    };
}

/// Fields of one fulfillment: its status (cancelled ones sent nothing), when, and its parcels.
macro_rules! fulfillment_fields {
    () => {
        "status createdAt trackingInfo { number company }"
    };
}

macro_rules! discount_fields {
    () => {
        "__typename index targetType allocationMethod
    value { __typename ... on MoneyV2 { amount currencyCode } ... on PricingPercentageValue { percentage } }
    ... on DiscountCodeApplication { code }
    ... on AutomaticDiscountApplication { title }
    ... on ManualDiscountApplication { title }
    ... on ScriptDiscountApplication { title }"
    };
}

/// Fields of an order node except its line items (kept in one place: the paged queries and
/// the bulk query select the same fields). `$shipFirst`/`$discountFirst` are the page's
/// nested pages; the bulk query, which takes no `first`, gets them as child objects.
macro_rules! order_money {
    () => {
        concat!(
            "displayFinancialStatus currencyCode presentmentCurrencyCode taxesIncluded taxExempt
  totalShippingPriceSet ", shop!(), "
  totalDiscountsSet ", shop!(), "
  totalTaxSet ", shop!(), "
  totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
  currentSubtotalPriceSet ", shop!(), "
  currentTotalDiscountsSet ", shop!(), "
  currentShippingPriceSet ", shop!(), "
  currentTotalTaxSet ", shop!(), "
  currentTotalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
  totalTipReceivedSet ", shop!(), "
  originalTotalDutiesSet ", shop!(), "
  currentTotalDutiesSet ", shop!(), "
  currentTotalAdditionalFeesSet ", shop!(), "
  totalCashRoundingAdjustment { paymentSet ", shop!(), " refundSet ", shop!(), " }
  refunds { id }
  additionalFees { name price ", shop!(), " ", tax_lines!(), " }"
        )
    };
}

macro_rules! order_body {
    () => {
        concat!(
            "id legacyResourceId name createdAt updatedAt cancelledAt closed
  displayFulfillmentStatus email phone note
  customer { firstName lastName }
  shippingAddress { name firstName lastName company address1 address2 city province provinceCode zip countryCodeV2 phone }
  billingAddress { name firstName lastName company address1 address2 city province provinceCode zip countryCodeV2 phone }
  ",
            order_money!()
        )
    };
}

/// Fields of a line item node. `discountAllocations` and `taxLines` are lists, not
/// connections: they come whole with their line. `product` tells a tip (no product) from
/// goods.
macro_rules! line_body {
    () => {
        concat!(
            "id sku title quantity currentQuantity isGiftCard requiresShipping taxable
  product { id }
  originalUnitPriceSet ",
            shop!(),
            "
  ",
            allocations!(),
            "
  ",
            tax_lines!()
        )
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
            "\n  shippingLines(first: 2) { nodes { ",
            shipping_fields!(),
            " } pageInfo { hasNextPage } }\n  discountApplications(first: 5) { nodes { ",
            discount_fields!(),
            " } pageInfo { hasNextPage } }\n  fulfillments(first: 2) { ",
            fulfillment_fields!(),
            " }",
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

/// Every shipping line, discount application and refund of one order (see the module docs
/// for when it is asked).
pub const ORDER_EXTRAS_QUERY: &str = concat!(
    "query OrderExtras($id: ID!, $first: Int!) {
  order(id: $id) {
    shippingLines(first: 10) { nodes { ",
    shipping_fields!(),
    " } pageInfo { hasNextPage } }
    discountApplications(first: 10) { nodes { ",
    discount_fields!(),
    " } pageInfo { hasNextPage } }
    refunds {
      id createdAt totalRefundedSet ",
    shop!(),
    "
      refundLineItems(first: $first) { nodes { lineItem { id } quantity restockType subtotalSet ",
    shop!(),
    " totalTaxSet ",
    shop!(),
    " } pageInfo { hasNextPage } }
      refundShippingLines(first: 5) { nodes { subtotalAmountSet ",
    shop!(),
    " taxAmountSet ",
    shop!(),
    " } }
      orderAdjustments(first: 10) { nodes { reason amountSet ",
    shop!(),
    " taxAmountSet ",
    shop!(),
    " } }
      duties { amountSet ",
    shop!(),
    " }
    }
  }
}"
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
        "{{ orders(query: {quoted}, sortKey: UPDATED_AT) {{ edges {{ node {{ {} fulfillments {{ {} }} shippingLines {{ edges {{ node {{ id {} }} }} }} discountApplications {{ edges {{ node {{ {} }} }} }} lineItems {{ edges {{ node {{ {} }} }} }} }} }} }} }}",
        order_body!(),
        fulfillment_fields!(),
        shipping_fields!(),
        discount_fields!(),
        line_body!()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_cost_fits_the_single_query_maximum() {
        let n = ((1000.0 - CONNECTION_BASE) / ORDER_NODE_COST).floor();
        assert_eq!(n, 7.0);
        assert_eq!(CONNECTION_BASE + n * ORDER_NODE_COST, 989.0);
        assert!(3.0 + f64::from(LINE_FOLLOW_UP) * LINE_NODE_COST <= 1000.0);
    }

    #[test]
    fn fulfillments_are_read_with_the_documented_page() {
        let want = format!(
            "fulfillments(first: {FULFILLMENT_PAGE}) {{ status createdAt trackingInfo {{ number company }} }}"
        );
        assert!(ORDERS_QUERY.contains(&want) && ORDER_QUERY.contains(&want));
        // A bulk query takes no `first`: there the list comes whole.
        assert!(bulk_orders_query("x").contains("fulfillments { status createdAt trackingInfo"));
    }

    #[test]
    fn bulk_query_quotes_the_search() {
        let q = bulk_orders_query("updated_at:<='2026-01-01T00:00:00Z' \"x\"");
        assert!(q.starts_with("{ orders(query: \"updated_at:<='2026-01-01T00:00:00Z' \\\"x\\\"\""));
        assert!(!q.contains("first:") && !q.contains("...Line") && !q.contains("...Order"));
    }
}
