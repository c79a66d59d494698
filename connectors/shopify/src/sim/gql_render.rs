//! The GraphQL `Order` node as typed, borrowing `Serialize` structs: the benchmark path
//! (20,000 orders/s) cannot afford a `serde_json::Value` tree per order.

use super::search::utc;
use super::store::{FAR_DATE, Fulfillment, HUGE_PRICE, Poison, SimLine, SimOrder, TAX_RATE_BP};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Serialize, Serializer};
use std::fmt;

const CURRENCY: &str = "USD";

/// Cents written as Shopify's decimal string ("12.50") without an intermediate `String`.
#[derive(Clone, Copy)]
pub struct Amount(pub i64);

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `gid://shopify/{kind}/{id}`.
struct Gid(&'static str, u64);

impl Serialize for Gid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("gid://shopify/{}/{}", self.0, self.1))
    }
}

/// A u64 rendered as a JSON string (ids beyond 2^53).
struct IdStr(u64);

impl Serialize for IdStr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

struct OrderName(u64);

impl Serialize for OrderName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("#{}", self.0))
    }
}

/// The tax rate as an exact JSON number (0.0825).
struct Rate;

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // 825 basis points of a percent = 0.0825; f64 is fine for a rate literal on the wire,
        // and the connector reads the number's text, never the f64.
        s.serialize_f64(TAX_RATE_BP as f64 / 10_000.0)
    }
}

/// An amount from cents, or a fixed text (a poisoned order's price).
#[derive(Serialize)]
#[serde(untagged)]
enum AmountText {
    Cents(Amount),
    Raw(&'static str),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Money {
    amount: AmountText,
    currency_code: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bag {
    shop_money: Money,
}

/// Only `shopMoney`: the connector does not select `presentmentMoney`, and a GraphQL server
/// returns only what was selected.
fn bag(cents: i64) -> Bag {
    Bag {
        shop_money: Money {
            amount: AmountText::Cents(Amount(cents)),
            currency_code: CURRENCY,
        },
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TaxLine {
    title: &'static str,
    rate: Rate,
    rate_percentage: f64,
    price_set: Bag,
}

fn tax_line(cents: i64) -> [TaxLine; 1] {
    [TaxLine {
        title: "State Tax",
        rate: Rate,
        rate_percentage: 8.25,
        price_set: bag(cents),
    }]
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Allocation {
    allocated_amount_set: Bag,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    id: Gid,
    sku: &'a str,
    title: &'a str,
    name: &'a str,
    quantity: u32,
    original_unit_price_set: Bag,
    discount_allocations: Vec<Allocation>,
    tax_lines: [TaxLine; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LinePage<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    nodes: Option<Vec<Line<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    edges: Option<Vec<LineEdge<'a>>>,
    page_info: LinePageInfo,
}

#[derive(Serialize)]
struct LineEdge<'a> {
    cursor: String,
    node: Line<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LinePageInfo {
    has_next_page: bool,
    has_previous_page: bool,
    end_cursor: Option<String>,
}

/// Which line items of an order to render: `lineItems(first:, after:)` and the shape asked
/// for (`nodes`, `edges`, or both).
#[derive(Debug, Clone, Copy)]
pub struct LineWindow {
    pub first: usize,
    /// Index of the first line (the one after the `after` cursor).
    pub start: usize,
    pub nodes: bool,
    pub edges: bool,
}

impl LineWindow {
    /// How many lines of `o` this window returns.
    pub fn returned(&self, o: &SimOrder) -> usize {
        o.lines.len().saturating_sub(self.start).min(self.first)
    }
}

/// Opaque cursor of the line at `index` of its order.
pub fn line_cursor(index: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("li:{index}"))
}

/// The index after the line a cursor names.
pub fn line_after(cursor: &str) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    raw.strip_prefix("li:")?
        .parse::<usize>()
        .ok()?
        .checked_add(1)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Customer<'a> {
    first_name: &'a str,
    last_name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Address<'a> {
    name: Name<'a>,
    first_name: &'a str,
    last_name: &'a str,
    company: Option<()>,
    address1: &'a str,
    address2: Option<()>,
    city: &'a str,
    province: &'static str,
    province_code: &'a str,
    zip: &'a str,
    country: &'static str,
    country_code_v2: &'a str,
    phone: &'a str,
}

struct Name<'a>(&'a str, &'a str);

impl Serialize for Name<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{} {}", self.0, self.1))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ShippingLine {
    title: &'static str,
    original_price_set: Bag,
}

/// A fixed superset of the fields the connector selects.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlNode<'a> {
    id: Gid,
    legacy_resource_id: IdStr,
    name: OrderName,
    created_at: String,
    processed_at: String,
    updated_at: String,
    cancelled_at: Option<String>,
    closed: bool,
    closed_at: Option<String>,
    display_fulfillment_status: &'static str,
    display_financial_status: &'static str,
    currency_code: &'static str,
    email: &'a str,
    phone: &'a str,
    note: Option<&'a str>,
    customer: Customer<'a>,
    shipping_address: Address<'a>,
    billing_address: Address<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line_items: Option<LinePage<'a>>,
    shipping_line: ShippingLine,
    total_shipping_price_set: Bag,
    total_discounts_set: Bag,
    total_tax_set: Bag,
    /// After discounts, as Shopify defines it.
    subtotal_price_set: Bag,
    total_price_set: Option<Bag>,
    tax_lines: [TaxLine; 1],
}

fn address(o: &SimOrder) -> Address<'_> {
    let b = &o.buyer;
    Address {
        name: Name(&b.first_name, &b.last_name),
        first_name: &b.first_name,
        last_name: &b.last_name,
        company: None,
        address1: &b.address1,
        address2: None,
        city: &b.city,
        province: "California",
        province_code: &b.province_code,
        zip: &b.zip,
        country: "United States",
        country_code_v2: &b.country_code,
        phone: &b.phone,
    }
}

fn line(l: &SimLine, huge: bool) -> Line<'_> {
    let mut unit = bag(l.unit_cents);
    if huge {
        unit.shop_money.amount = AmountText::Raw(HUGE_PRICE);
    }
    Line {
        id: Gid("LineItem", l.id),
        sku: &l.sku,
        title: l.title,
        name: l.title,
        quantity: l.quantity,
        original_unit_price_set: unit,
        discount_allocations: if l.discount_cents > 0 {
            vec![Allocation {
                allocated_amount_set: bag(l.discount_cents),
            }]
        } else {
            vec![]
        },
        tax_lines: tax_line(l.tax_cents),
    }
}

/// The node with every line item (`nodes`), as a query without nested paging would see it.
pub fn graphql_node(o: &SimOrder) -> GqlNode<'_> {
    let all = LineWindow {
        first: o.lines.len(),
        start: 0,
        nodes: true,
        edges: false,
    };
    graphql_node_with(o, Some(&all))
}

/// One order line of a bulk operation's JSONL: the node without its line items (they are
/// lines of their own).
pub fn bulk_order_line(o: &SimOrder) -> GqlNode<'_> {
    graphql_node_with(o, None)
}

/// One line-item line of a bulk operation's JSONL, `__parentId` naming its order.
pub fn write_bulk_line(out: &mut Vec<u8>, l: &SimLine, order_id: u64) {
    let start = out.len();
    if serde_json::to_writer(&mut *out, &line(l, false)).is_err() || out.last() != Some(&b'}') {
        out.truncate(start);
        return;
    }
    out.pop();
    out.extend_from_slice(
        format!(",\"__parentId\":\"gid://shopify/Order/{order_id}\"}}").as_bytes(),
    );
}

/// The first line of a `huge_price` poisoned order carries the poison.
fn huge(o: &SimOrder, index: usize) -> bool {
    index == 0 && o.poison == Some(Poison::HugePrice)
}

fn line_page<'a>(o: &'a SimOrder, w: &LineWindow) -> LinePage<'a> {
    let start = w.start.min(o.lines.len());
    let end = start + w.returned(o);
    let slice = &o.lines[start..end];
    LinePage {
        nodes: w.nodes.then(|| {
            slice
                .iter()
                .enumerate()
                .map(|(i, l)| line(l, huge(o, start + i)))
                .collect()
        }),
        edges: w.edges.then(|| {
            slice
                .iter()
                .enumerate()
                .map(|(i, l)| LineEdge {
                    cursor: line_cursor(start + i),
                    node: line(l, huge(o, start + i)),
                })
                .collect()
        }),
        page_info: LinePageInfo {
            has_next_page: end < o.lines.len(),
            has_previous_page: start > 0,
            end_cursor: (end > start).then(|| line_cursor(end - 1)),
        },
    }
}

/// The node with the line items of `lines` (none when the query did not select them).
pub fn graphql_node_with<'a>(o: &'a SimOrder, lines: Option<&LineWindow>) -> GqlNode<'a> {
    let b = &o.buyer;
    let created = match o.poison {
        Some(Poison::FarDate) => FAR_DATE.to_string(),
        _ => utc(o.created),
    };
    GqlNode {
        id: Gid("Order", o.id),
        legacy_resource_id: IdStr(o.id),
        name: OrderName(o.number),
        processed_at: created.clone(),
        created_at: created,
        updated_at: utc(o.updated),
        cancelled_at: o.cancelled.map(utc),
        closed: o.closed.is_some(),
        closed_at: o.closed.map(utc),
        display_fulfillment_status: match o.fulfillment {
            Fulfillment::Unfulfilled => "UNFULFILLED",
            Fulfillment::Partial => "PARTIALLY_FULFILLED",
            Fulfillment::Fulfilled => "FULFILLED",
        },
        display_financial_status: if o.cancelled.is_some() {
            "VOIDED"
        } else {
            "PAID"
        },
        currency_code: CURRENCY,
        email: &b.email,
        phone: &b.phone,
        note: o.note.as_deref(),
        customer: Customer {
            first_name: &b.first_name,
            last_name: &b.last_name,
        },
        shipping_address: address(o),
        billing_address: address(o),
        line_items: lines.map(|w| line_page(o, w)),
        shipping_line: ShippingLine {
            title: o.shipping_title,
            original_price_set: bag(o.shipping_cents),
        },
        total_shipping_price_set: bag(o.shipping_cents),
        total_discounts_set: bag(o.discounts()),
        total_tax_set: bag(o.tax()),
        subtotal_price_set: bag(o.subtotal_gross() - o.discounts()),
        total_price_set: (o.poison != Some(Poison::Unmappable)).then(|| bag(o.total())),
        tax_lines: tax_line(o.tax()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_rate() {
        assert_eq!(Amount(0).to_string(), "0.00");
        assert_eq!(Amount(1234).to_string(), "12.34");
        assert_eq!(Amount(-5).to_string(), "-0.05");
        assert_eq!(serde_json::to_string(&Rate).unwrap(), "0.0825");
    }

    #[test]
    fn poisoned_orders_render_their_defect() {
        let mut st = super::super::store::Store::default();
        let end = 1_800_000_000;
        let huge = st.poison(Poison::HugePrice, 1, end);
        let far = st.poison(Poison::FarDate, 1, end);
        let bad = st.poison(Poison::Unmappable, 2, end);
        assert_eq!(bad.len(), 2);
        let node = |id: u64| serde_json::to_value(graphql_node(st.get(id).unwrap())).unwrap();
        let h = node(huge[0]);
        let l0 = &h["lineItems"]["nodes"][0];
        assert_eq!(
            l0["originalUnitPriceSet"]["shopMoney"]["amount"],
            HUGE_PRICE
        );
        assert_eq!(l0["quantity"], 2);
        let f = node(far[0]);
        assert_eq!(f["createdAt"], FAR_DATE);
        assert_eq!(f["processedAt"], FAR_DATE);
        assert!(node(bad[1])["totalPriceSet"].is_null());
        // Within the pull window, and the REST shape carries the same defects.
        assert!(
            st.get(huge[0]).unwrap().updated <= end && st.get(huge[0]).unwrap().updated > end - 60
        );
        let r = super::super::render::rest_order(st.get(huge[0]).unwrap());
        assert_eq!(r["line_items"][0]["price"], HUGE_PRICE);
        let r = super::super::render::rest_order(st.get(far[0]).unwrap());
        assert_eq!(r["created_at"], FAR_DATE);
        let r = super::super::render::rest_order(st.get(bad[0]).unwrap());
        assert!(r["total_price"].is_null());
    }

    #[test]
    fn line_cursors_round_trip() {
        assert_eq!(line_after(&line_cursor(4)), Some(5));
        assert_eq!(line_after("bm9wZQ"), None);
        assert_eq!(line_after("!"), None);
    }
}
