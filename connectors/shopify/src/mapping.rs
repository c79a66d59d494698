//! Pure mapping of Shopify orders (GraphQL node and REST/webhook shape) to the canonical
//! [`Order`]. No I/O. A payload that cannot become a balanced order yields a PII-free reason,
//! which the caller turns into a `Page.rejected` entry.

use crate::wire::{GqlAddress, GqlOrder, MoneyBag, RestAddress, RestOrder};
pub use ordersync_sdk::mapping::Reason;
use ordersync_sdk::mapping::{
    checked_sum, join_name, non_empty, parse_amount, parse_money, parse_opt_amount, parse_quantity,
    parse_rate, parse_time, sum_parsed,
};
use ordersync_sdk::{
    Address, Decimal, FulfillmentStatus, LineItem, Order, OrderStatus, Pii, TaxLine, Totals,
};
use serde::Deserialize;

pub const MARKETPLACE: &str = "shopify";

// ---------- helpers ----------

/// `gid://shopify/Order/820982911946154508` → `820982911946154508` (ids stay strings).
pub fn strip_gid(gid: &str) -> &str {
    gid.rsplit('/').next().unwrap_or(gid)
}

/// Money of the shop currency; any other currency is a mismatch, not something to convert.
fn shop_money(bag: Option<&MoneyBag>, currency: &str, what: &str) -> Result<Decimal, Reason> {
    bag.map_or(Ok(Decimal::ZERO), |b| {
        parse_money(
            &b.shop_money.amount,
            &b.shop_money.currency_code,
            currency,
            what,
        )
    })
}

fn rate(n: Option<&serde_json::Number>) -> Option<Decimal> {
    // The number's own text ("0.06"), never through f64.
    n.and_then(|n| parse_rate(&n.to_string()))
}

/// GraphQL `DisplayFulfillmentStatus`; unknown values become `Unknown`, never an error.
pub fn gql_fulfillment(s: Option<&str>) -> FulfillmentStatus {
    match s {
        Some("FULFILLED") => FulfillmentStatus::Fulfilled,
        Some("PARTIALLY_FULFILLED") => FulfillmentStatus::Partial,
        Some(
            "UNFULFILLED"
            | "OPEN"
            | "PENDING_FULFILLMENT"
            | "IN_PROGRESS"
            | "ON_HOLD"
            | "SCHEDULED"
            | "REQUEST_DECLINED"
            | "RESTOCKED",
        ) => FulfillmentStatus::Unfulfilled,
        _ => FulfillmentStatus::Unknown,
    }
}

/// REST `fulfillment_status` (`null` means nothing shipped yet).
pub fn rest_fulfillment(s: Option<&str>) -> FulfillmentStatus {
    match s {
        None | Some("unfulfilled" | "restocked") => FulfillmentStatus::Unfulfilled,
        Some("partial") => FulfillmentStatus::Partial,
        Some("fulfilled") => FulfillmentStatus::Fulfilled,
        Some(_) => FulfillmentStatus::Unknown,
    }
}

fn status(cancelled: bool, closed: bool) -> OrderStatus {
    if cancelled {
        OrderStatus::Cancelled
    } else if closed {
        OrderStatus::Closed
    } else {
        OrderStatus::Open
    }
}

/// Sums the lines' gross (before discounts): Shopify's `subtotalPriceSet` is *after*
/// discounts, while the canonical subtotal is before them.
fn subtotal(lines: &[LineItem]) -> Result<Decimal, Reason> {
    let gross: Option<Vec<Decimal>> = lines.iter().map(LineItem::gross).collect();
    checked_sum(gross.ok_or("amounts overflow in line items")?, "line items")
}

// ---------- GraphQL → Order ----------

/// The id a GraphQL node is known by (for `Page.rejected`), without mapping the rest.
pub fn gql_external_id(node: &serde_json::Value) -> String {
    node.get("legacyResourceId")
        .and_then(|v| v.as_str())
        .or_else(|| node.get("id").and_then(|v| v.as_str()).map(strip_gid))
        .unwrap_or("unknown")
        .to_string()
}

/// Maps one `orders` edge node; the error is a PII-free reason.
pub fn order_from_graphql(node: &serde_json::Value) -> Result<Order, Reason> {
    let o = GqlOrder::deserialize(node).map_err(|_| "unexpected order shape".to_string())?;
    let external_id = o
        .legacy_resource_id
        .clone()
        .or_else(|| o.id.as_deref().map(|g| strip_gid(g).to_string()))
        .ok_or("missing id")?;
    let currency = o.currency_code.clone().ok_or("missing currencyCode")?;
    let mut lines = Vec::new();
    for l in o.line_items.as_ref().map_or(&[][..], |n| &n.nodes[..]) {
        let lid = l.id.as_deref().map(strip_gid).unwrap_or("").to_string();
        let discount = sum_parsed(
            l.discount_allocations
                .iter()
                .map(|d| shop_money(Some(&d.allocated_amount_set), &currency, "line discount")),
            "line discount",
        )?;
        let tax = sum_parsed(
            l.tax_lines
                .iter()
                .map(|t| shop_money(Some(&t.price_set), &currency, "line tax")),
            "line tax",
        )?;
        lines.push(LineItem {
            quantity: parse_quantity(l.quantity, &lid)?,
            unit_price: shop_money(l.original_unit_price_set.as_ref(), &currency, "unit price")?,
            sku: non_empty(l.sku.clone()),
            title: l.title.clone().unwrap_or_default(),
            discount,
            tax,
            tax_rate: (l.tax_lines.len() == 1)
                .then(|| rate(l.tax_lines[0].rate.as_ref()))
                .flatten(),
            external_line_id: lid,
        });
    }
    let mut tax_lines = Vec::with_capacity(o.tax_lines.len());
    for t in &o.tax_lines {
        tax_lines.push(TaxLine {
            title: t.title.clone().unwrap_or_default(),
            rate: rate(t.rate.as_ref()),
            amount: shop_money(Some(&t.price_set), &currency, "tax line")?,
        });
    }
    let totals = Totals {
        subtotal: subtotal(&lines)?,
        shipping: shop_money(o.total_shipping_price_set.as_ref(), &currency, "shipping")?,
        discounts: shop_money(o.total_discounts_set.as_ref(), &currency, "discounts")?,
        tax: shop_money(o.total_tax_set.as_ref(), &currency, "tax")?,
        rounding: Decimal::ZERO,
        total: shop_money(
            Some(o.total_price_set.as_ref().ok_or("missing totalPriceSet")?),
            &currency,
            "total",
        )?,
    };
    let buyer_name = o
        .customer
        .as_ref()
        .and_then(|c| join_name(c.first_name.as_deref(), c.last_name.as_deref()))
        .or_else(|| o.shipping_address.as_ref().and_then(|a| a.name.clone()));
    let mut order = Order {
        marketplace: MARKETPLACE.into(),
        order_number: o.name.clone().unwrap_or_else(|| external_id.clone()),
        status: status(o.cancelled_at.is_some(), o.closed.unwrap_or(false)),
        created_at: parse_time(o.created_at.as_deref(), "createdAt")?,
        updated_at: parse_time(o.updated_at.as_deref(), "updatedAt")?,
        currency,
        lines,
        tax_lines,
        totals,
        fulfillment_status: gql_fulfillment(o.display_fulfillment_status.as_deref()),
        shipping_method: o.shipping_line.and_then(|s| s.title),
        pii: Pii {
            buyer_name,
            email: non_empty(o.email),
            phone: non_empty(o.phone),
            shipping_address: o.shipping_address.map(gql_address),
            billing_address: o.billing_address.map(gql_address),
            notes: non_empty(o.note),
        },
        external_id,
    };
    order.balance().map_err(|e| format!("totals: {e}"))?;
    Ok(order)
}

fn gql_address(a: GqlAddress) -> Address {
    Address {
        name: a
            .name
            .or_else(|| join_name(a.first_name.as_deref(), a.last_name.as_deref())),
        company: non_empty(a.company),
        line1: non_empty(a.address1),
        line2: non_empty(a.address2),
        city: a.city,
        region: a.province_code.or(a.province),
        postal_code: a.zip,
        country_code: a.country_code_v2,
        phone: non_empty(a.phone),
    }
}

// ---------- REST / webhook → Order ----------

/// Maps a REST order object (an `orders.json` element or a webhook body).
pub fn order_from_rest(v: &serde_json::Value) -> Result<Order, Reason> {
    let o = RestOrder::deserialize(v).map_err(|_| "unexpected order shape".to_string())?;
    let external_id = o.id.as_ref().ok_or("missing id")?.to_string();
    let currency = o.currency.clone().ok_or("missing currency")?;
    let mut lines = Vec::with_capacity(o.line_items.len());
    for l in &o.line_items {
        let lid = l.id.as_ref().map(ToString::to_string).unwrap_or_default();
        let discount = sum_parsed(
            l.discount_allocations
                .iter()
                .map(|d| parse_amount(&d.amount, "line discount")),
            "line discount",
        )?;
        let tax = sum_parsed(
            l.tax_lines
                .iter()
                .map(|t| parse_amount(&t.price, "line tax")),
            "line tax",
        )?;
        lines.push(LineItem {
            quantity: parse_quantity(l.quantity, &lid)?,
            unit_price: parse_amount(
                l.price.as_deref().ok_or("line without price")?,
                "unit price",
            )?,
            sku: non_empty(l.sku.clone()),
            title: l.title.clone().unwrap_or_default(),
            discount,
            tax,
            tax_rate: (l.tax_lines.len() == 1)
                .then(|| rate(l.tax_lines[0].rate.as_ref()))
                .flatten(),
            external_line_id: lid,
        });
    }
    let mut tax_lines = Vec::with_capacity(o.tax_lines.len());
    for t in &o.tax_lines {
        tax_lines.push(TaxLine {
            title: t.title.clone().unwrap_or_default(),
            rate: rate(t.rate.as_ref()),
            amount: parse_amount(&t.price, "tax line")?,
        });
    }
    let shipping = match &o.total_shipping_price_set {
        Some(s) => parse_money(
            &s.shop_money.amount,
            &s.shop_money.currency_code,
            &currency,
            "shipping",
        )?,
        None => Decimal::ZERO,
    };
    let totals = Totals {
        subtotal: subtotal(&lines)?,
        shipping,
        discounts: parse_opt_amount(o.total_discounts.as_deref(), "discounts")?,
        tax: parse_opt_amount(o.total_tax.as_deref(), "tax")?,
        rounding: Decimal::ZERO,
        total: parse_amount(
            o.total_price.as_deref().ok_or("missing total_price")?,
            "total",
        )?,
    };
    let customer = o.customer.unwrap_or_default();
    let buyer_name = join_name(
        customer.first_name.as_deref(),
        customer.last_name.as_deref(),
    )
    .or_else(|| o.shipping_address.as_ref().and_then(|a| a.name.clone()));
    let mut order = Order {
        marketplace: MARKETPLACE.into(),
        order_number: o.name.clone().unwrap_or_else(|| external_id.clone()),
        status: status(o.cancelled_at.is_some(), o.closed_at.is_some()),
        created_at: parse_time(o.created_at.as_deref(), "created_at")?,
        updated_at: parse_time(o.updated_at.as_deref(), "updated_at")?,
        currency,
        lines,
        tax_lines,
        totals,
        fulfillment_status: rest_fulfillment(o.fulfillment_status.as_deref()),
        shipping_method: o.shipping_lines.into_iter().find_map(|s| s.title),
        pii: Pii {
            buyer_name,
            email: non_empty(o.email)
                .or(non_empty(o.contact_email))
                .or(non_empty(customer.email)),
            phone: non_empty(o.phone).or(non_empty(customer.phone)),
            shipping_address: o.shipping_address.map(rest_address),
            billing_address: o.billing_address.map(rest_address),
            notes: non_empty(o.note),
        },
        external_id,
    };
    order.balance().map_err(|e| format!("totals: {e}"))?;
    Ok(order)
}

fn rest_address(a: RestAddress) -> Address {
    Address {
        name: non_empty(a.name)
            .or_else(|| join_name(a.first_name.as_deref(), a.last_name.as_deref())),
        company: non_empty(a.company),
        line1: non_empty(a.address1),
        line2: non_empty(a.address2),
        city: a.city,
        region: a.province_code.or(a.province),
        postal_code: a.zip,
        country_code: a.country_code,
        phone: non_empty(a.phone),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gid_and_enums() {
        assert_eq!(
            strip_gid("gid://shopify/Order/820982911946154508"),
            "820982911946154508"
        );
        assert_eq!(strip_gid("123"), "123");
        assert_eq!(
            gql_fulfillment(Some("SOMETHING_NEW")),
            FulfillmentStatus::Unknown
        );
        assert_eq!(rest_fulfillment(Some("weird")), FulfillmentStatus::Unknown);
        assert_eq!(rest_fulfillment(None), FulfillmentStatus::Unfulfilled);
    }

    #[test]
    fn bad_nodes_give_reasons_not_panics() {
        for v in [
            serde_json::json!(null),
            serde_json::json!([1, 2]),
            serde_json::json!({"legacyResourceId": "1"}),
            serde_json::json!({"legacyResourceId": 5}),
        ] {
            assert!(order_from_graphql(&v).is_err());
        }
    }
}
