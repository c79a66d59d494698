//! Refunds (`GET /orders/{id}/refunds`: negative amounts, the refunded item in meta
//! `_refunded_item_id`) and the order as it stands after them. WooCommerce keeps no current
//! totals: they are the placed ones less what the refunds itemise. A refund's amount that its
//! items do not explain (an amount-only refund, the only kind older versions list) is an
//! adjustment; it comes off the goods first, then shipping, then fees (then tax, when tax is
//! on top), which is where a merchant's "refund the rest" takes it from.
//!
//! Known limit: a line refunded at its full price in an order where a negative fee took a
//! share of that line's price gives back more than the line cost; the goods' current amount
//! would fall below zero, and the order is rejected with that reason rather than reshaped.

use super::amounts::{add, amount, gmt, quantity, sub};
use super::lines::Ctx;
use crate::wire::{WireRefund, WireRefundItem};
use ordersync_sdk::mapping::Reason;
use ordersync_sdk::{Decimal, Refund, RefundAdjustment, RefundLine};

/// What all refunds of an order give back, by part, in the basis.
#[derive(Debug, Default)]
pub struct Returned {
    pub lines: Decimal,
    pub line_tax: Decimal,
    pub shipping: Decimal,
    pub shipping_tax: Decimal,
    pub fees: Decimal,
    pub fee_tax: Decimal,
    /// Refunded amounts no item explains.
    pub unitemised: Decimal,
    pub total: Decimal,
}

/// A refund item's refunded net and tax: WooCommerce writes them negative.
fn given_back(i: &WireRefundItem, what: &str) -> Result<(Decimal, Decimal), Reason> {
    let net = -amount(&i.total, what)?;
    let tax = -amount(&i.total_tax, what)?;
    if (net.is_sign_negative() && !net.is_zero()) || (tax.is_sign_negative() && !tax.is_zero()) {
        return Err(format!("{what} takes money instead of refunding it"));
    }
    Ok((net, tax))
}

pub fn refunds(list: &[WireRefund], c: &Ctx<'_>) -> Result<(Vec<Refund>, Returned), Reason> {
    let mut out = Vec::with_capacity(list.len());
    let mut sum = Returned::default();
    // What the buyer got back for a part: with its tax when tax is on top.
    let paid_back = |basis: Decimal, tax: Decimal, what: &str| {
        if c.inclusive {
            Ok(basis)
        } else {
            add(basis, tax, what)
        }
    };
    for r in list {
        let id =
            r.id.as_ref()
                .map(|i| i.0.clone())
                .filter(|i| !i.is_empty())
                .ok_or("a refund has no id")?;
        let what = format!("refund {id}");
        let total = amount(&r.amount, &what)?;
        if total.is_sign_negative() && !total.is_zero() {
            return Err(format!("{what} has a negative amount"));
        }
        let mut itemised = Decimal::ZERO;
        let mut lines = Vec::with_capacity(r.line_items.len());
        for i in &r.line_items {
            let line_id = i
                .refunded_item_id()
                .ok_or_else(|| format!("{what} has a line without _refunded_item_id"))?;
            let qty = match i.quantity.as_ref() {
                None => 0,
                Some(n) => quantity(Some(n), &what)?.unsigned_abs(),
            };
            let (net, tax) = given_back(i, &what)?;
            let subtotal = c.basis(net, tax, &what)?;
            itemised = add(itemised, paid_back(subtotal, tax, &what)?, &what)?;
            sum.lines = add(sum.lines, subtotal, &what)?;
            sum.line_tax = add(sum.line_tax, tax, &what)?;
            lines.push(RefundLine {
                line_id,
                quantity: u32::try_from(qty)
                    .map_err(|_| format!("{what} quantity out of range"))?,
                // The REST API does not say whether the units went back to stock.
                restock: false,
                subtotal,
                tax,
            });
        }
        let (mut shipping, mut shipping_tax) = (Decimal::ZERO, Decimal::ZERO);
        for s in &r.shipping_lines {
            let (net, tax) = given_back(s, &what)?;
            shipping = add(shipping, c.basis(net, tax, &what)?, &what)?;
            shipping_tax = add(shipping_tax, tax, &what)?;
        }
        itemised = add(itemised, paid_back(shipping, shipping_tax, &what)?, &what)?;
        sum.shipping = add(sum.shipping, shipping, &what)?;
        sum.shipping_tax = add(sum.shipping_tax, shipping_tax, &what)?;
        let mut adjustments = Vec::new();
        let (mut fees, mut fee_tax) = (Decimal::ZERO, Decimal::ZERO);
        for f in &r.fee_lines {
            let (net, tax) = given_back(f, &what)?;
            fees = add(fees, c.basis(net, tax, &what)?, &what)?;
            fee_tax = add(fee_tax, tax, &what)?;
        }
        if !fees.is_zero() || !fee_tax.is_zero() {
            itemised = add(itemised, paid_back(fees, fee_tax, &what)?, &what)?;
            sum.fees = add(sum.fees, fees, &what)?;
            sum.fee_tax = add(sum.fee_tax, fee_tax, &what)?;
            adjustments.push(RefundAdjustment {
                reason: Some("refunded fees".into()),
                amount: fees,
                tax: fee_tax,
            });
        }
        let rest = sub(total, itemised, &what)?;
        if !rest.is_zero() {
            sum.unitemised = add(sum.unitemised, rest, &what)?;
            adjustments.push(RefundAdjustment {
                reason: Some("refund without items".into()),
                amount: rest,
                tax: Decimal::ZERO,
            });
        }
        sum.total = add(sum.total, total, &what)?;
        out.push(Refund {
            external_id: id,
            created_at: gmt(r.date_created_gmt.as_deref(), "refund date_created_gmt")?,
            lines,
            shipping,
            shipping_tax,
            duties: Decimal::ZERO,
            adjustments,
            total,
        });
    }
    // Oldest first, as the order saw them (the API lists newest first).
    out.sort_by(|a, b| (a.created_at, &a.external_id).cmp(&(b.created_at, &b.external_id)));
    Ok((out, sum))
}

/// Takes `amount` off `parts` in order, each down to zero at most; what is left over.
pub fn take_in_order(parts: &mut [&mut Decimal], mut amount: Decimal) -> Decimal {
    for p in parts.iter_mut() {
        if amount <= Decimal::ZERO {
            break;
        }
        let t = amount.min(**p).max(Decimal::ZERO);
        **p -= t;
        amount -= t;
    }
    amount
}
