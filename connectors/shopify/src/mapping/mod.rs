//! Pure mapping of Shopify orders (GraphQL node and REST/webhook shape) to the canonical
//! [`Order`] (`docs/money.md`). No I/O. Both shapes are read into [`Parts`] (`gql.rs`,
//! `rest.rs`) and finished here the same way; a payload that cannot become a balanced order
//! yields a PII-free reason, which the caller turns into a `Page.rejected` entry.

mod gql;
mod parcels;
mod rest;

pub use gql::{gql_external_id, needs_extras, order_from_graphql};
pub use ordersync_sdk::mapping::Reason;
pub use rest::order_from_rest;

use ordersync_sdk::mapping::{checked_sum, parse_rate};
use ordersync_sdk::{
    Address, CashRounding, Collector, CurrentTotals, Decimal, DiscountApplication, Fee, FeeKind,
    FinancialStatus, FulfillmentStatus, LineItem, LineKind, Order, OrderStatus, Pii, Presentment,
    Refund, ShippingLine, TaxLine, Tolerance, Totals,
};
use time::OffsetDateTime;

pub const MARKETPLACE: &str = "shopify";

/// `gid://shopify/Order/820982911946154508` → `820982911946154508` (ids stay strings).
pub fn strip_gid(gid: &str) -> &str {
    gid.rsplit('/').next().unwrap_or(gid)
}

/// A tax rate: the number's own text ("0.0825", a fraction), never through f64.
fn rate(n: Option<&serde_json::Number>) -> Option<Decimal> {
    n.and_then(|n| parse_rate(&n.to_string()))
}

fn collector(channel_liable: Option<bool>) -> Collector {
    // `null` means unknown: the merchant remits unless the platform says otherwise.
    if channel_liable == Some(true) {
        Collector::Marketplace
    } else {
        Collector::Merchant
    }
}

fn tax_line(
    title: Option<&str>,
    r: Option<&serde_json::Number>,
    liable: Option<bool>,
    amount: Decimal,
) -> TaxLine {
    TaxLine {
        title: title.unwrap_or_default().to_string(),
        rate: rate(r),
        amount,
        collector: collector(liable),
    }
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

/// `displayFinancialStatus` (GraphQL, upper case) or `financial_status` (REST, lower case).
/// Absent means paid: the field is informative; the amounts are what balance.
pub fn financial(s: Option<&str>) -> FinancialStatus {
    let Some(s) = s else {
        return FinancialStatus::Paid;
    };
    match s.to_ascii_lowercase().as_str() {
        "pending" => FinancialStatus::Pending,
        "authorized" => FinancialStatus::Authorized,
        "partially_paid" => FinancialStatus::PartiallyPaid,
        "paid" => FinancialStatus::Paid,
        "partially_refunded" => FinancialStatus::PartiallyRefunded,
        "refunded" => FinancialStatus::Refunded,
        "voided" => FinancialStatus::Voided,
        "expired" => FinancialStatus::Expired,
        _ => FinancialStatus::Unknown,
    }
}

/// `RefundLineItemRestockType`: every type but `NO_RESTOCK` puts the units back.
fn restocks(t: Option<&str>) -> bool {
    !t.is_some_and(|t| t.eq_ignore_ascii_case("no_restock"))
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

/// One line as read, and whether it has a product (tips and custom items have none).
pub(crate) struct ReadLine {
    pub line: LineItem,
    pub has_product: bool,
}

/// What both shapes are read into before the common finish.
pub(crate) struct Parts {
    pub external_id: String,
    pub order_number: String,
    pub cancelled: bool,
    pub closed: bool,
    pub financial_status: FinancialStatus,
    pub fulfillment_status: FulfillmentStatus,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub currency: String,
    pub taxes_included: bool,
    pub tax_exempt: bool,
    pub lines: Vec<ReadLine>,
    pub shipping_lines: Vec<ShippingLine>,
    /// Additional fees (duties are added from the totals).
    pub fees: Vec<Fee>,
    pub discount_applications: Vec<DiscountApplication>,
    pub refunds: Vec<Refund>,
    /// The platform's totals as placed.
    pub total_shipping: Decimal,
    pub total_discounts: Decimal,
    pub total_tax: Decimal,
    pub total: Decimal,
    pub tips: Decimal,
    pub duties: Decimal,
    /// Current totals; `shipping: None` when the payload lacks it (older REST versions).
    pub current_subtotal: Decimal,
    pub current_discounts: Decimal,
    pub current_shipping: Option<Decimal>,
    pub current_tax: Decimal,
    pub current_fees: Decimal,
    pub current_total: Decimal,
    /// (currency, total, current total) in the buyer's currency.
    pub presentment: Option<(String, Decimal, Decimal)>,
    pub cash_rounding: CashRounding,
    pub fulfillments: Vec<ordersync_sdk::Fulfillment>,
    pub shipping_method: Option<String>,
    pub pii: Pii,
}

/// Marks tip lines: Shopify sends a tip as a line without product that is neither shipped,
/// taxed nor a gift card; such lines, last first, whose amounts add up to the order's tip total
/// are tips. Anything else without a product stays `Custom` (the amounts balance either way).
fn mark_tips(lines: &mut [ReadLine], tips: Decimal) {
    if tips.is_zero() {
        return;
    }
    let mut left = tips;
    let mut marked = Vec::new();
    for (i, r) in lines.iter().enumerate().rev() {
        let l = &r.line;
        if r.has_product || l.requires_shipping || l.taxable || l.kind != LineKind::Custom {
            continue;
        }
        let Some(amount) = l.discounted() else {
            return;
        };
        if amount <= left {
            left -= amount;
            marked.push(i);
        }
        if left.is_zero() {
            break;
        }
    }
    if left.is_zero() {
        for i in marked {
            lines[i].line.kind = LineKind::Tip;
        }
    }
}

fn finish(mut p: Parts) -> Result<Order, Reason> {
    mark_tips(&mut p.lines, p.tips);
    let lines: Vec<LineItem> = p.lines.into_iter().map(|r| r.line).collect();
    let gross: Option<Vec<Decimal>> = lines.iter().map(LineItem::gross).collect();
    let subtotal = checked_sum(gross.ok_or("amounts overflow in line items")?, "line items")?;
    let mut fees = p.fees;
    if !p.duties.is_zero() {
        fees.insert(
            0,
            Fee {
                kind: FeeKind::Duty,
                title: Some("Duties".into()),
                amount: p.duties,
                tax_lines: vec![],
            },
        );
    }
    let fee_total = checked_sum(fees.iter().map(|f| f.amount), "fees")?;
    let current_shipping = match p.current_shipping {
        Some(s) => s,
        None => {
            // Older payloads: discounted shipping less what refunds gave back.
            let mut s = Decimal::ZERO;
            for l in &p.shipping_lines {
                s = s
                    .checked_add(l.discounted().ok_or("amounts overflow in shipping")?)
                    .ok_or("amounts overflow in shipping")?;
            }
            let back = checked_sum(p.refunds.iter().map(|r| r.shipping), "refunded shipping")?;
            s.checked_sub(back).ok_or("amounts overflow in shipping")?
        }
    };
    let presentment = match p.presentment {
        Some((currency, total, current_total)) if currency != p.currency => Some(Presentment {
            rate: (!p.total.is_zero())
                .then(|| total.checked_div(p.total))
                .flatten()
                .map(|r| r.round_dp(6)),
            currency,
            total,
            current_total,
        }),
        _ => None,
    };
    let mut order = Order {
        marketplace: MARKETPLACE.into(),
        external_id: p.external_id,
        order_number: p.order_number,
        status: status(p.cancelled, p.closed),
        financial_status: p.financial_status,
        created_at: p.created_at,
        updated_at: p.updated_at,
        currency: p.currency,
        taxes_included: p.taxes_included,
        tax_exempt: p.tax_exempt,
        presentment,
        lines,
        shipping_lines: p.shipping_lines,
        fees,
        discount_applications: p.discount_applications,
        refunds: p.refunds,
        tax_lines: vec![],
        totals: Totals {
            subtotal,
            discounts: p.total_discounts,
            shipping: p.total_shipping,
            fees: fee_total,
            tax: p.total_tax,
            rounding: Decimal::ZERO,
            total: p.total,
        },
        current: CurrentTotals {
            subtotal: p.current_subtotal,
            discounts: p.current_discounts,
            shipping: current_shipping,
            fees: p.current_fees,
            tax: p.current_tax,
            total: p.current_total,
        },
        cash_rounding: p.cash_rounding,
        // Shopify's totals are exact sums of its parts.
        tolerance: Tolerance::EXACT,
        fulfillment_status: p.fulfillment_status,
        fulfillments: p.fulfillments,
        shipping_method: p.shipping_method,
        pii: p.pii,
        buyer_account: None,
    };
    order.tax_lines = order
        .summarise_taxes()
        .ok_or("amounts overflow in tax lines")?;
    order.balance().map_err(|e| format!("totals: {e}"))?;
    Ok(order)
}

/// The line's kind from what Shopify says of it (tips are marked later, by amount).
fn kind(gift_card: bool, has_product: bool) -> LineKind {
    if gift_card {
        LineKind::GiftCard
    } else if has_product {
        LineKind::Product
    } else {
        LineKind::Custom
    }
}

/// An address as either shape has it, with empty strings dropped.
fn address_of(a: Address) -> Address {
    use ordersync_sdk::mapping::non_empty;
    Address {
        company: non_empty(a.company),
        line1: non_empty(a.line1),
        line2: non_empty(a.line2),
        phone: non_empty(a.phone),
        ..a
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
        assert_eq!(
            financial(Some("PARTIALLY_REFUNDED")),
            FinancialStatus::PartiallyRefunded
        );
        assert_eq!(financial(Some("voided")), FinancialStatus::Voided);
        assert_eq!(financial(Some("new")), FinancialStatus::Unknown);
        assert!(restocks(Some("RETURN")) && !restocks(Some("NO_RESTOCK")));
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
