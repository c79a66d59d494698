//! Pure mapping of a Sell Fulfillment `Order` into the canonical [`Order`] (no I/O).
//!
//! Money (docs/money.md):
//! - every amount is in `pricingSummary.total.currency`, the listing marketplace's currency
//!   (the seller's side). When the buyer paid in another currency eBay adds
//!   `convertedFromValue`/`convertedFromCurrency`: that is the [`Presentment`].
//! - the basis is exclusive: every tax and fee eBay reports is added on top of the price
//!   (`collectionMethod: NET`). A seller's own VAT inside a UK/EU listing price is not
//!   reported by the API at all, so it cannot be split out (no rate is ever applied here).
//! - totals as placed are eBay's `pricingSummary` (`priceSubtotal`, `priceDiscount` and
//!   `deliveryDiscount` negated, `deliveryCost`, `tax`, `fee`, signed `adjustment`, `total`,
//!   read with `fieldGroups=TAX_BREAKDOWN` so the collect-and-remit tax is in the total);
//!   `balance()` proves the lines add up to them.
//! - tolerance: [`Tolerance::EXACT`]. eBay builds the pricing summary in the listing currency as
//!   the sum of the line fields it shows; currency conversion only affects the buyer-currency
//!   mirror (`convertedFromValue`), which is kept as presentment totals, never summed.
//! - `totalMarketplaceFee` is the seller's fee to eBay, deducted from the payout: it is not
//!   part of what the buyer paid and not in the totals.
//! - current totals are not sent by eBay; they are the totals less what the refunds took
//!   back (see `refunds.rs` for how a refund amount is read).

pub mod amounts;
mod current;
mod discounts;
mod lines;
mod pii;
mod refunds;

pub use lines::is_fee_type;

use crate::wire;
use amounts::{negative, opt, req};
use lines::{ReadLine, read_line};
use ordersync_sdk::mapping::{Reason, non_empty, parse_time};
use ordersync_sdk::money::is_currency;
use ordersync_sdk::{
    Decimal, Fee, FeeKind, FinancialStatus, FulfillmentStatus, Order, OrderStatus, Tolerance,
    Totals,
};
use serde_json::Value;

/// The order's id for a rejection, as far as it can be read.
pub fn external_id(v: &Value) -> String {
    v.get("orderId")
        .and_then(Value::as_str)
        .filter(|s| is_order_id(s))
        .unwrap_or("(no orderId)")
        .to_string()
}

/// eBay order ids: `12-34567-89012`, or legacy `itemId-transactionId` ones; digits and dashes.
pub fn is_order_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Whether getOrders' copy of an order cannot tell its cancel state: getOrders always sends
/// `cancelStatus` as `NONE_REQUESTED` with no requests. A completed cancellation refunds the
/// buyer in full, so only an order whose payment status is `FULLY_REFUNDED` (or, without a
/// payment status, one with any refund entry) can be cancelled, and only those are read again
/// with getOrder: at most one call per such order, remembered per `lastModifiedDate`.
/// (`getOrders?orderIds=` would batch 50, but it is getOrders: its `cancelRequests` are just as
/// empty.) A cancellation the buyer only requested shows in no getOrders field; it is seen
/// once it completes, which refunds the order and moves its `lastModifiedDate`.
pub fn needs_cancel_check(v: &Value) -> bool {
    if v.pointer("/cancelStatus/cancelState")
        .and_then(Value::as_str)
        == Some("CANCELED")
    {
        return false;
    }
    if let Some(status) = v.get("orderPaymentStatus").and_then(Value::as_str) {
        return status == "FULLY_REFUNDED";
    }
    let non_empty = |a: Option<&Value>| a.and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    non_empty(v.pointer("/paymentSummary/refunds"))
        || v.get("lineItems")
            .and_then(Value::as_array)
            .is_some_and(|ls| ls.iter().any(|l| non_empty(l.get("refunds"))))
}

fn financial(s: Option<&str>) -> FinancialStatus {
    match s {
        Some("PAID") => FinancialStatus::Paid,
        Some("PENDING") => FinancialStatus::Pending,
        // The payment did not go through: nothing was taken.
        Some("FAILED") => FinancialStatus::Voided,
        Some("PARTIALLY_REFUNDED") => FinancialStatus::PartiallyRefunded,
        Some("FULLY_REFUNDED") => FinancialStatus::Refunded,
        _ => FinancialStatus::Unknown,
    }
}

fn fulfillment(s: Option<&str>) -> FulfillmentStatus {
    match s {
        Some("NOT_STARTED") | None => FulfillmentStatus::Unfulfilled,
        Some("IN_PROGRESS") => FulfillmentStatus::Partial,
        Some("FULFILLED") => FulfillmentStatus::Fulfilled,
        _ => FulfillmentStatus::Unknown,
    }
}

/// Whether the seller ships the order's goods: not digital, not picked up in a store, not
/// fulfilled by eBay's own warehouses.
fn seller_ships(o: &wire::Order) -> bool {
    !o.fulfillment_start_instructions.iter().any(|f| {
        matches!(
            f.fulfillment_instructions_type.as_deref(),
            Some("DIGITAL" | "PREPARE_FOR_PICKUP" | "FULFILLED_BY_EBAY")
        )
    })
}

fn sum(a: Decimal, b: Decimal, what: &str) -> Result<Decimal, Reason> {
    a.checked_add(b)
        .ok_or_else(|| format!("amounts overflow in {what}"))
}

/// Maps one order of getOrders or getOrder; the error is a PII-free rejection reason.
pub fn order_from_json(v: &Value) -> Result<Order, Reason> {
    // serde's messages quote the offending value: only the category is kept.
    let o: wire::Order =
        serde_json::from_value(v.clone()).map_err(|_| "unexpected order shape".to_string())?;
    let id = o
        .order_id
        .clone()
        .filter(|s| is_order_id(s))
        .ok_or("missing or malformed orderId")?;
    let created_at = parse_time(o.creation_date.as_deref(), "creationDate")?;
    let updated_at = parse_time(o.last_modified_date.as_deref(), "lastModifiedDate")?;
    let ps = o.pricing_summary.as_ref().ok_or("missing pricingSummary")?;
    let currency = ps
        .total
        .as_ref()
        .and_then(|t| t.currency.clone())
        .ok_or("missing pricingSummary.total currency")?;
    if !is_currency(&currency) {
        return Err("unknown currency in pricingSummary.total".into());
    }
    let c = currency.as_str();
    if o.line_items.is_empty() {
        return Err("order has no line items".into());
    }
    let ships = seller_ships(&o);
    let mut read: Vec<ReadLine> = o
        .line_items
        .iter()
        .map(|l| read_line(l, c, ships))
        .collect::<Result<_, _>>()?;

    let subtotal = req(
        ps.price_subtotal.as_ref(),
        c,
        "pricingSummary.priceSubtotal",
    )?;
    let price_discount = negative(
        ps.price_discount.as_ref(),
        c,
        "pricingSummary.priceDiscount",
    )?;
    let delivery_discount = negative(
        ps.delivery_discount.as_ref(),
        c,
        "pricingSummary.deliveryDiscount",
    )?;
    let shipping = opt(ps.delivery_cost.as_ref(), c, "pricingSummary.deliveryCost")?;
    let tax = opt(ps.tax.as_ref(), c, "pricingSummary.tax")?;
    let fee = opt(ps.fee.as_ref(), c, "pricingSummary.fee")?;
    let adjustment = opt(ps.adjustment.as_ref(), c, "pricingSummary.adjustment")?;
    let total = req(ps.total.as_ref(), c, "pricingSummary.total")?;

    let mut applications = Vec::new();
    discounts::allocate_promotions(&mut read, &mut applications);
    if adjustment.is_sign_negative() && !adjustment.is_zero() {
        discounts::allocate_adjustment(&mut read, -adjustment, &mut applications)?;
    }
    let shipping_lines = discounts::shipping_lines(&o, &read, &mut applications);

    let mut fees: Vec<Fee> = read
        .iter()
        .flat_map(|l| &l.fees)
        .map(|f| Fee {
            kind: FeeKind::AdditionalFee,
            title: Some(f.title.clone()),
            amount: f.amount,
            tax_lines: vec![],
        })
        .collect();
    if adjustment.is_sign_positive() && !adjustment.is_zero() {
        fees.push(Fee {
            kind: FeeKind::AdditionalFee,
            title: Some("Price adjustment".into()),
            amount: adjustment,
            tax_lines: vec![],
        });
    }

    let payment_refunds = o
        .payment_summary
        .as_ref()
        .map(|p| p.refunds.as_slice())
        .unwrap_or_default();
    let (refunds, back) = refunds::read_refunds(&mut read, payment_refunds, c)?;

    let totals = Totals {
        subtotal,
        discounts: sum(
            sum(price_discount, delivery_discount, "discounts")?,
            if adjustment.is_sign_negative() && !adjustment.is_zero() {
                -adjustment
            } else {
                Decimal::ZERO
            },
            "discounts",
        )?,
        shipping,
        fees: sum(fee, adjustment.max(Decimal::ZERO), "fees")?,
        tax,
        rounding: Decimal::ZERO,
        total,
    };
    let current = current::current_totals(&read, &shipping_lines, &totals, &back)?;
    let presentment = current::presentment(ps.total.as_ref(), c, total, current.total)?;

    let cancelled = o
        .cancel_status
        .as_ref()
        .and_then(|s| s.cancel_state.as_deref())
        == Some("CANCELED");
    let fulfillment_status = fulfillment(o.order_fulfillment_status.as_deref());
    let status = if cancelled {
        OrderStatus::Cancelled
    } else if fulfillment_status == FulfillmentStatus::Fulfilled {
        OrderStatus::Closed
    } else {
        OrderStatus::Open
    };
    let mut order = Order {
        marketplace: crate::KIND.into(),
        external_id: id.clone(),
        // Seller Hub shows the order id as the order number.
        order_number: id,
        status,
        financial_status: financial(o.order_payment_status.as_deref()),
        created_at,
        updated_at,
        currency,
        taxes_included: false,
        tax_exempt: false,
        presentment,
        lines: read.into_iter().map(|r| r.line).collect(),
        fulfillments: Vec::new(),
        shipping_method: shipping_lines
            .first()
            .and_then(|s| s.title.clone())
            .or_else(|| service_code(&o)),
        shipping_lines,
        fees,
        discount_applications: applications,
        refunds,
        tax_lines: vec![],
        totals,
        current,
        cash_rounding: Default::default(),
        tolerance: Tolerance::EXACT,
        fulfillment_status,
        pii: pii::read_pii(&o),
        buyer_account: pii::buyer_account(&o),
    };
    order.tax_lines = order
        .summarise_taxes()
        .ok_or("amounts overflow in tax lines")?;
    order.balance().map_err(|e| format!("totals: {e}"))?;
    Ok(order)
}

pub(crate) fn service_code(o: &wire::Order) -> Option<String> {
    o.fulfillment_start_instructions
        .iter()
        .find_map(|f| non_empty(f.shipping_step.as_ref()?.shipping_service_code.clone()))
}

pub(crate) fn carrier_code(o: &wire::Order) -> Option<String> {
    o.fulfillment_start_instructions
        .iter()
        .find_map(|f| non_empty(f.shipping_step.as_ref()?.shipping_carrier_code.clone()))
}
