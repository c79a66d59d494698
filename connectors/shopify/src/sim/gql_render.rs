//! The GraphQL `Order` node as typed, borrowing `Serialize` structs: the benchmark path
//! (20,000 orders/s) cannot afford a `serde_json::Value` tree per order. The node is a fixed
//! superset of what the connector selects, except the connections (`lineItems`,
//! `shippingLines`, `discountApplications`, a refund's `refundLineItems` ...), which follow
//! the query's `first` and report `pageInfo.hasNextPage`.

use super::money::{Amt, percentage_number, rate_number, rate_percentage};
use super::order::{
    Alloc, Allocation, DiscountKind, DiscountValue, FAR_DATE, Fulfillment, HUGE_PRICE, LineKind,
    Poison, RestockType, SimDiscount, SimFee, SimLine, SimOrder, SimRefund, SimShipping,
    TargetSelection, Tax,
};
use super::parcels::SimParcel;
use super::search::utc;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Serialize, Serializer};

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

/// An amount, or a fixed text (a poisoned order's price).
#[derive(Serialize)]
#[serde(untagged)]
enum AmountText {
    Minor(Amt),
    Raw(&'static str),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Money {
    amount: AmountText,
    currency_code: &'static str,
}

/// A `MoneyBag`: shop money, and presentment money on the two bags the connector asks it of
/// (`totalPriceSet`, `currentTotalPriceSet`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bag {
    shop_money: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    presentment_money: Option<Money>,
}

fn bag(o: &SimOrder, minor: i64) -> Bag {
    Bag {
        shop_money: Money {
            amount: AmountText::Minor(o.money.amt(minor)),
            currency_code: o.currency(),
        },
        presentment_money: None,
    }
}

fn bag_both(o: &SimOrder, minor: i64) -> Bag {
    let mut b = bag(o, minor);
    b.presentment_money = Some(Money {
        amount: AmountText::Minor(o.money.present(minor)),
        currency_code: o.money.presentment_currency(),
    });
    b
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TaxLineOut {
    title: &'static str,
    /// An exact JSON number (0.00375): see `money::rate_number`.
    rate: f64,
    rate_percentage: f64,
    /// `null` (unknown, Shopify's usual answer) unless a marketplace remits the tax.
    channel_liable: Option<bool>,
    price_set: Bag,
}

fn tax_lines(o: &SimOrder, t: &[Tax]) -> Vec<TaxLineOut> {
    t.iter()
        .map(|t| TaxLineOut {
            title: t.title,
            rate: rate_number(t.rate),
            rate_percentage: rate_percentage(t.rate),
            channel_liable: t.channel_liable,
            price_set: bag(o, t.amount),
        })
        .collect()
}

#[derive(Serialize)]
struct AppRef {
    index: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AllocOut {
    allocated_amount_set: Bag,
    discount_application: AppRef,
}

fn allocations(o: &SimOrder, a: &[Alloc]) -> Vec<AllocOut> {
    a.iter()
        .map(|a| AllocOut {
            allocated_amount_set: bag(o, a.amount),
            discount_application: AppRef { index: a.app },
        })
        .collect()
}

#[derive(Serialize)]
struct ProductRef {
    id: Gid,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    id: Gid,
    sku: Option<&'a str>,
    title: &'a str,
    name: &'a str,
    quantity: u32,
    current_quantity: u32,
    is_gift_card: bool,
    requires_shipping: bool,
    taxable: bool,
    /// `null` for tips and custom items.
    product: Option<ProductRef>,
    original_unit_price_set: Bag,
    discount_allocations: Vec<AllocOut>,
    tax_lines: Vec<TaxLineOut>,
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

/// What a refund renders: only its `id` (the page's `refunds { id }`), or everything with
/// its nested connections' `first`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RefundWindow {
    pub detail: bool,
    pub lines_first: usize,
    pub shipping_first: usize,
    pub adjustments_first: usize,
}

/// The nested pages of one order node; `None` renders no such field (the query did not
/// select it, or it is a bulk line whose children are lines of their own).
#[derive(Debug, Clone, Copy, Default)]
pub struct Windows {
    pub lines: Option<LineWindow>,
    pub shipping: Option<usize>,
    pub discounts: Option<usize>,
    /// `fulfillments(first:)`; `None` (no `first`, or a bulk line) renders them all.
    pub fulfillments: Option<usize>,
    pub refunds: RefundWindow,
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

/// The deprecated single `shippingLine` (the first shipping line).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FirstShipping {
    title: &'static str,
    original_price_set: Bag,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ShipNode {
    id: Gid,
    title: &'static str,
    code: &'static str,
    original_price_set: Bag,
    discounted_price_set: Bag,
    discount_allocations: Vec<AllocOut>,
    tax_lines: Vec<TaxLineOut>,
}

fn ship_node(o: &SimOrder, s: &SimShipping) -> ShipNode {
    ShipNode {
        id: Gid("ShippingLine", s.id),
        title: s.title,
        code: s.code,
        original_price_set: bag(o, s.price),
        discounted_price_set: bag(o, s.discounted()),
        discount_allocations: allocations(o, &s.discounts),
        tax_lines: tax_lines(o, &s.taxes),
    }
}

/// `value` of a discount application: `MoneyV2` or `PricingPercentageValue`.
#[derive(Serialize)]
#[serde(untagged)]
enum ValueOut {
    #[serde(rename_all = "camelCase")]
    Money {
        #[serde(rename = "__typename")]
        typename: &'static str,
        amount: Amt,
        currency_code: &'static str,
    },
    Percentage {
        #[serde(rename = "__typename")]
        typename: &'static str,
        percentage: f64,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DiscountNode {
    #[serde(rename = "__typename")]
    typename: &'static str,
    index: u32,
    target_type: &'static str,
    target_selection: &'static str,
    allocation_method: &'static str,
    value: ValueOut,
    /// `DiscountCodeApplication.code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    /// The title of the other kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'static str>,
}

fn discount_node(o: &SimOrder, d: &SimDiscount) -> DiscountNode {
    let typename = match d.kind {
        DiscountKind::Code => "DiscountCodeApplication",
        DiscountKind::Automatic => "AutomaticDiscountApplication",
        DiscountKind::Manual => "ManualDiscountApplication",
        DiscountKind::Script => "ScriptDiscountApplication",
    };
    let code = d.kind == DiscountKind::Code;
    DiscountNode {
        typename,
        index: d.index,
        target_type: if d.shipping {
            "SHIPPING_LINE"
        } else {
            "LINE_ITEM"
        },
        target_selection: match d.selection {
            TargetSelection::All => "ALL",
            TargetSelection::Entitled => "ENTITLED",
            TargetSelection::Explicit => "EXPLICIT",
        },
        allocation_method: match d.allocation {
            Allocation::Across => "ACROSS",
            Allocation::Each => "EACH",
            Allocation::One => "ONE",
        },
        value: match d.value {
            DiscountValue::Fixed(a) => ValueOut::Money {
                typename: "MoneyV2",
                amount: o.money.amt(a),
                currency_code: o.currency(),
            },
            DiscountValue::Percentage(bp) => ValueOut::Percentage {
                typename: "PricingPercentageValue",
                percentage: percentage_number(bp),
            },
        },
        code: code.then_some(d.label),
        title: (!code).then_some(d.label),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageInfoShort {
    has_next_page: bool,
}

/// A connection of one page of `nodes`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Conn<T> {
    nodes: Vec<T>,
    page_info: PageInfoShort,
}

fn conn<'a, I: 'a, T>(items: &'a [I], first: usize, f: impl Fn(&'a I) -> T) -> Conn<T> {
    Conn {
        nodes: items.iter().take(first).map(f).collect(),
        page_info: PageInfoShort {
            has_next_page: items.len() > first,
        },
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FeeNode {
    id: Gid,
    name: &'static str,
    price: Bag,
    tax_lines: Vec<TaxLineOut>,
}

fn fee_node(o: &SimOrder, f: &SimFee) -> FeeNode {
    FeeNode {
        id: Gid("AdditionalFee", f.id),
        name: f.name,
        price: bag(o, f.amount),
        tax_lines: tax_lines(o, &f.taxes),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CashRounding {
    payment_set: Bag,
    refund_set: Bag,
}

#[derive(Serialize)]
struct LineRef {
    id: Gid,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RefundLineNode {
    line_item: LineRef,
    quantity: u32,
    restock_type: &'static str,
    subtotal_set: Bag,
    total_tax_set: Bag,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RefundShippingNode {
    subtotal_amount_set: Bag,
    tax_amount_set: Bag,
}

/// The simulator books no refund discrepancies: `orderAdjustments` is always empty.
#[derive(Serialize)]
enum NoAdjustment {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RefundDuty {
    amount_set: Bag,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RefundNode {
    id: Gid,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_refunded_set: Option<Bag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refund_line_items: Option<Conn<RefundLineNode>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refund_shipping_lines: Option<Conn<RefundShippingNode>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_adjustments: Option<Conn<NoAdjustment>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duties: Option<Vec<RefundDuty>>,
}

pub fn restock_type(r: RestockType) -> &'static str {
    match r {
        RestockType::Return => "RETURN",
        RestockType::NoRestock => "NO_RESTOCK",
        RestockType::Cancel => "CANCEL",
    }
}

fn refund_node(o: &SimOrder, r: &SimRefund, w: &RefundWindow) -> RefundNode {
    if !w.detail {
        return RefundNode {
            id: Gid("Refund", r.id),
            created_at: None,
            total_refunded_set: None,
            refund_line_items: None,
            refund_shipping_lines: None,
            order_adjustments: None,
            duties: None,
        };
    }
    // One refund shipping line per refund that gave shipping back.
    let shipping: &[SimRefund] = if r.shipping > 0 || r.shipping_tax > 0 {
        std::slice::from_ref(r)
    } else {
        &[]
    };
    RefundNode {
        id: Gid("Refund", r.id),
        created_at: Some(utc(r.created)),
        total_refunded_set: Some(bag(o, r.total)),
        refund_line_items: Some(conn(&r.lines, w.lines_first, |l| RefundLineNode {
            line_item: LineRef {
                id: Gid("LineItem", o.lines.get(l.line).map_or(0, |x| x.id)),
            },
            quantity: l.quantity,
            restock_type: restock_type(l.restock),
            subtotal_set: bag(o, l.subtotal),
            total_tax_set: bag(o, l.tax),
        })),
        refund_shipping_lines: Some(conn(shipping, w.shipping_first, |r| RefundShippingNode {
            subtotal_amount_set: bag(o, r.shipping),
            tax_amount_set: bag(o, r.shipping_tax),
        })),
        order_adjustments: Some(Conn {
            nodes: Vec::new(),
            page_info: PageInfoShort {
                has_next_page: false,
            },
        }),
        duties: Some(if r.duties > 0 {
            vec![RefundDuty {
                amount_set: bag(o, r.duties),
            }]
        } else {
            Vec::new()
        }),
    }
}

#[derive(Serialize)]
struct TrackingOut<'a> {
    number: &'a str,
    company: &'static str,
    url: String,
}

/// One element of `Order.fulfillments` (a list, not a connection).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FulfillmentNode<'a> {
    id: Gid,
    legacy_resource_id: IdStr,
    name: String,
    status: &'static str,
    display_status: &'static str,
    created_at: String,
    updated_at: String,
    requires_shipping: bool,
    total_quantity: u32,
    tracking_info: Vec<TrackingOut<'a>>,
}

fn fulfillment_node<'a>(o: &'a SimOrder, p: &'a SimParcel, k: usize) -> FulfillmentNode<'a> {
    FulfillmentNode {
        id: Gid("Fulfillment", p.id),
        legacy_resource_id: IdStr(p.id),
        name: format!("#{}.{}", o.number, k + 1),
        status: if p.live { "SUCCESS" } else { "CANCELLED" },
        display_status: if p.live { "FULFILLED" } else { "CANCELED" },
        created_at: utc(p.created),
        updated_at: utc(p.created),
        requires_shipping: true,
        total_quantity: p
            .lines
            .iter()
            .filter_map(|i| o.lines.get(*i))
            .map(SimLine::current_quantity)
            .sum(),
        tracking_info: vec![TrackingOut {
            number: &p.number,
            company: p.carrier.name(),
            url: p.carrier.url(&p.number),
        }],
    }
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
    presentment_currency_code: &'static str,
    taxes_included: bool,
    tax_exempt: bool,
    email: &'a str,
    phone: &'a str,
    note: Option<&'a str>,
    customer: Customer<'a>,
    shipping_address: Address<'a>,
    billing_address: Address<'a>,
    total_shipping_price_set: Bag,
    total_discounts_set: Bag,
    total_tax_set: Bag,
    /// After discounts, as Shopify defines it.
    subtotal_price_set: Bag,
    total_price_set: Option<Bag>,
    current_subtotal_price_set: Bag,
    current_total_discounts_set: Bag,
    current_shipping_price_set: Bag,
    current_total_tax_set: Bag,
    current_total_price_set: Bag,
    total_tip_received_set: Bag,
    /// `null` when the order has no duties, as the schema says.
    original_total_duties_set: Option<Bag>,
    current_total_duties_set: Option<Bag>,
    /// `null` when the order has no additional fees.
    current_total_additional_fees_set: Option<Bag>,
    total_cash_rounding_adjustment: CashRounding,
    refunds: Vec<RefundNode>,
    fulfillments: Vec<FulfillmentNode<'a>>,
    additional_fees: Vec<FeeNode>,
    tax_lines: Vec<TaxLineOut>,
    shipping_line: Option<FirstShipping>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shipping_lines: Option<Conn<ShipNode>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    discount_applications: Option<Conn<DiscountNode>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line_items: Option<LinePage<'a>>,
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

fn line<'a>(o: &'a SimOrder, l: &'a SimLine, huge: bool) -> Line<'a> {
    let mut unit = bag(o, l.unit);
    if huge {
        unit.shop_money.amount = AmountText::Raw(HUGE_PRICE);
    }
    Line {
        id: Gid("LineItem", l.id),
        sku: l.sku.as_deref(),
        title: l.title,
        name: l.title,
        quantity: l.quantity,
        current_quantity: l.current_quantity(),
        is_gift_card: l.kind == LineKind::GiftCard,
        requires_shipping: l.requires_shipping,
        taxable: l.taxable,
        product: l.product_id.map(|p| ProductRef {
            id: Gid("Product", p),
        }),
        original_unit_price_set: unit,
        discount_allocations: allocations(o, &l.discounts),
        tax_lines: tax_lines(o, &l.taxes),
    }
}

/// The node with every line item, shipping line, discount application and refund detail, as
/// a query without nested paging would see it.
pub fn graphql_node(o: &SimOrder) -> GqlNode<'_> {
    let all = Windows {
        lines: Some(LineWindow {
            first: o.lines.len(),
            start: 0,
            nodes: true,
            edges: false,
        }),
        shipping: Some(o.shipping.len()),
        discounts: Some(o.discounts.len()),
        fulfillments: None,
        refunds: RefundWindow {
            detail: true,
            lines_first: usize::MAX,
            shipping_first: usize::MAX,
            adjustments_first: usize::MAX,
        },
    };
    graphql_node_with(o, &all)
}

/// One order line of a bulk operation's JSONL: the node without its connections (their
/// nodes are lines of their own).
pub fn bulk_order_line(o: &SimOrder) -> GqlNode<'_> {
    graphql_node_with(o, &Windows::default())
}

/// Appends `v` as one JSONL object with `__parentId` naming order `order_id`.
fn write_child<T: Serialize>(out: &mut Vec<u8>, v: &T, order_id: u64) {
    let start = out.len();
    if serde_json::to_writer(&mut *out, v).is_err() || out.last() != Some(&b'}') {
        out.truncate(start);
        return;
    }
    out.pop();
    out.extend_from_slice(
        format!(",\"__parentId\":\"gid://shopify/Order/{order_id}\"}}\n").as_bytes(),
    );
}

/// The children of one order in a bulk JSONL, in Shopify's grouped order: its shipping
/// lines, its discount applications, then its line items (each kind only if the bulk query
/// selected it). Returns how many objects were written.
pub fn write_bulk_children(out: &mut Vec<u8>, o: &SimOrder, sel: BulkChildren) -> u64 {
    let mut n = 0;
    if sel.shipping {
        for s in &o.shipping {
            write_child(out, &ship_node(o, s), o.id);
            n += 1;
        }
    }
    if sel.discounts {
        for d in &o.discounts {
            write_child(out, &discount_node(o, d), o.id);
            n += 1;
        }
    }
    if sel.lines {
        for l in &o.lines {
            write_child(out, &line(o, l, false), o.id);
            n += 1;
        }
    }
    n
}

/// Which child connections a bulk query selects.
#[derive(Debug, Clone, Copy, Default)]
pub struct BulkChildren {
    pub shipping: bool,
    pub discounts: bool,
    pub lines: bool,
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
                .map(|(i, l)| line(o, l, huge(o, start + i)))
                .collect()
        }),
        edges: w.edges.then(|| {
            slice
                .iter()
                .enumerate()
                .map(|(i, l)| LineEdge {
                    cursor: line_cursor(start + i),
                    node: line(o, l, huge(o, start + i)),
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

/// The node with the nested pages of `w`.
pub fn graphql_node_with<'a>(o: &'a SimOrder, w: &Windows) -> GqlNode<'a> {
    let b = &o.buyer;
    let created = match o.poison {
        Some(Poison::FarDate) => FAR_DATE.to_string(),
        _ => utc(o.created),
    };
    let t = o.totals();
    let c = o.current();
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
        display_financial_status: o.financial.graphql(),
        currency_code: o.currency(),
        presentment_currency_code: o.money.presentment_currency(),
        taxes_included: o.included(),
        tax_exempt: o.tax_exempt,
        email: &b.email,
        phone: &b.phone,
        note: o.note.as_deref(),
        customer: Customer {
            first_name: &b.first_name,
            last_name: &b.last_name,
        },
        shipping_address: address(o),
        billing_address: address(o),
        total_shipping_price_set: bag(o, t.shipping),
        total_discounts_set: bag(o, t.discounts),
        total_tax_set: bag(o, t.tax),
        subtotal_price_set: bag(o, t.subtotal),
        total_price_set: (o.poison != Some(Poison::Unmappable)).then(|| bag_both(o, t.total)),
        current_subtotal_price_set: bag(o, c.subtotal),
        current_total_discounts_set: bag(o, c.discounts),
        current_shipping_price_set: bag(o, c.shipping_discounted),
        current_total_tax_set: bag(o, c.tax),
        current_total_price_set: bag_both(o, c.total),
        total_tip_received_set: bag(o, o.tips()),
        original_total_duties_set: (t.duties > 0).then(|| bag(o, t.duties)),
        current_total_duties_set: (t.duties > 0).then(|| bag(o, c.duties)),
        current_total_additional_fees_set: (!o.fees.is_empty()).then(|| bag(o, c.fees)),
        total_cash_rounding_adjustment: CashRounding {
            payment_set: bag(o, o.cash_payment()),
            refund_set: bag(o, o.cash_refund()),
        },
        refunds: o
            .refunds
            .iter()
            .map(|r| refund_node(o, r, &w.refunds))
            .collect(),
        fulfillments: o
            .parcels
            .iter()
            .take(w.fulfillments.unwrap_or(usize::MAX))
            .enumerate()
            .map(|(k, p)| fulfillment_node(o, p, k))
            .collect(),
        additional_fees: o.fees.iter().map(|f| fee_node(o, f)).collect(),
        tax_lines: tax_lines(o, &o.tax_summary()),
        shipping_line: o.shipping.first().map(|s| FirstShipping {
            title: s.title,
            original_price_set: bag(o, s.price),
        }),
        shipping_lines: w
            .shipping
            .map(|first| conn(&o.shipping, first, |s| ship_node(o, s))),
        discount_applications: w
            .discounts
            .map(|first| conn(&o.discounts, first, |d| discount_node(o, d))),
        line_items: w.lines.as_ref().map(|lw| line_page(o, lw)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
