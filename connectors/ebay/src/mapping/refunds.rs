//! eBay refunds into canonical [`Refund`]s.
//!
//! eBay reports refunds as amounts only, never as units, and each amount is the **seller's
//! net**: the tax (and fees) eBay collected and remitted are left out of it, although the
//! buyer got them back too. A line refund (`lineItems[].refunds[]`) is read as:
//!
//! 1. the whole line: its amount is the line's price after promotions plus its shipping
//!    after discounts (plus any tax or fee the seller itself collected). Every unit is back,
//!    with the line's whole tax and fees, and the buyer got `amount` + what eBay remitted;
//! 2. whole units: its amount is an exact multiple `k` of one unit after promotions (a
//!    return or an out-of-stock unit). `k` units are back; the tax eBay refunded alongside is
//!    not reported, so the refund carries none;
//! 3. anything else: money only (a goodwill refund for a damaged item): every unit stays on
//!    the order and ships.
//!
//! Line entries with the same `refundId` are one refund. `paymentSummary.refunds[]` lists
//! every refund from the payment side; a line-level refund's id is on the lines instead
//! ("returned at the line item level instead"), so an entry there counts only if its
//! `refundId` is on no line (an order-level refund), or, for orders without any line refund,
//! by its `refundReferenceId`. Refunds not issued yet (no `refundDate`, `PENDING`, `FAILED`)
//! gave nothing back and are left out.

use super::lines::ReadLine;
use crate::wire::OrderRefund;
use ordersync_sdk::mapping::{Reason, checked_sum, non_empty, parse_time};
use ordersync_sdk::{Decimal, Refund, RefundAdjustment, RefundLine};
use rust_decimal::prelude::ToPrimitive;
use std::collections::HashSet;

/// What the refunds took off the order, for its current totals.
#[derive(Debug, Default, Clone)]
pub struct Back {
    pub items: Decimal,
    pub shipping: Decimal,
    pub tax: Decimal,
    pub fees: Decimal,
    /// Money refunded without saying for what (goodwill, order-level refunds).
    pub money: Decimal,
}

fn add(a: &mut Decimal, b: Decimal, what: &str) -> Result<(), Reason> {
    *a = a
        .checked_add(b)
        .ok_or_else(|| format!("amounts overflow in {what}"))?;
    Ok(())
}

fn refund(id: String, date: &str) -> Result<Refund, Reason> {
    Ok(Refund {
        external_id: id,
        created_at: parse_time(Some(date), "refundDate")?,
        lines: vec![],
        shipping: Decimal::ZERO,
        shipping_tax: Decimal::ZERO,
        duties: Decimal::ZERO,
        adjustments: vec![],
        total: Decimal::ZERO,
    })
}

/// Reads the refunds of `lines` and `payment_refunds`, lowering the lines' current
/// quantities by the units that went back.
pub fn read_refunds(
    lines: &mut [ReadLine],
    payment_refunds: &[OrderRefund],
    currency: &str,
) -> Result<(Vec<Refund>, Back), Reason> {
    let mut out: Vec<Refund> = Vec::new();
    let mut back = Back::default();
    let mut line_ids: HashSet<String> = HashSet::new();
    let mut any_line_refund = false;
    for l in lines.iter_mut() {
        let entries = std::mem::take(&mut l.refunds);
        for r in &entries {
            any_line_refund = true;
            let key = match &r.refund_id {
                Some(id) => {
                    line_ids.insert(id.clone());
                    id.clone()
                }
                None => format!("refund {}", r.date),
            };
            let pos = match out.iter().position(|x| x.external_id == key) {
                Some(p) => p,
                None => {
                    out.push(refund(key, &r.date)?);
                    out.len() - 1
                }
            };
            apply_line_refund(l, r.amount, &mut out[pos], &mut back)?;
        }
        l.refunds = entries;
    }
    for p in payment_refunds {
        let Some(date) = non_empty(p.refund_date.clone()) else {
            continue;
        };
        if matches!(p.refund_status.as_deref(), Some("PENDING" | "FAILED")) {
            continue;
        }
        let id = match (&p.refund_id, &p.refund_reference_id) {
            (Some(id), _) if line_ids.contains(id) => continue,
            (Some(id), _) => id.clone(),
            // The payment side of a line-level refund, whose id is on the lines.
            (None, _) if any_line_refund => continue,
            (None, Some(r)) => r.clone(),
            (None, None) => format!("refund {date}"),
        };
        let amount = super::amounts::req(p.amount.as_ref(), currency, "order refund")?;
        let mut r = refund(id, &date)?;
        r.adjustments.push(RefundAdjustment {
            reason: Some("order refund".into()),
            amount,
            tax: Decimal::ZERO,
        });
        r.total = amount;
        add(&mut back.money, amount, "refunds")?;
        out.push(r);
    }
    Ok((out, back))
}

fn apply_line_refund(
    l: &mut ReadLine,
    amount: Decimal,
    r: &mut Refund,
    back: &mut Back,
) -> Result<(), Reason> {
    let id = l.line.external_line_id.clone();
    let ship_net = l
        .ship
        .checked_sub(l.ship_discount)
        .ok_or("amounts overflow in shipping")?;
    let whole = checked_sum([l.item_net, ship_net, l.merchant_extra], "line refund")?;
    let units = l.line.current_quantity;
    let tax = l.line.tax().ok_or("amounts overflow in line taxes")?;
    let fees = checked_sum(l.fees.iter().map(|f| f.amount), "line fees")?;
    if units == l.line.quantity && amount == whole {
        r.lines.push(RefundLine {
            line_id: id,
            quantity: units,
            restock: false,
            subtotal: l.item_net,
            tax,
        });
        add(&mut r.shipping, ship_net, "refund shipping")?;
        if !fees.is_zero() {
            r.adjustments.push(RefundAdjustment {
                reason: Some("fees".into()),
                amount: fees,
                tax: Decimal::ZERO,
            });
        }
        add(&mut r.total, amount, "refund total")?;
        add(&mut r.total, l.marketplace_extra, "refund total")?;
        add(&mut back.items, l.item_net, "refunds")?;
        add(&mut back.shipping, ship_net, "refunds")?;
        add(&mut back.tax, tax, "refunds")?;
        add(&mut back.fees, fees, "refunds")?;
        l.line.current_quantity = 0;
        return Ok(());
    }
    let k = l
        .unit_net
        .filter(|u| !u.is_zero() && !amount.is_zero())
        .and_then(|u| amount.checked_div(u))
        .filter(|k| k.fract().is_zero() && k.is_sign_positive())
        .and_then(|k| k.to_u32())
        .filter(|k| *k <= units);
    match k {
        Some(k) => {
            r.lines.push(RefundLine {
                line_id: id,
                quantity: k,
                restock: false,
                subtotal: amount,
                tax: Decimal::ZERO,
            });
            add(&mut back.items, amount, "refunds")?;
            l.line.current_quantity = units - k;
        }
        None => {
            r.adjustments.push(RefundAdjustment {
                reason: Some(format!("partial refund of line {id}")),
                amount,
                tax: Decimal::ZERO,
            });
            add(&mut back.money, amount, "refunds")?;
        }
    }
    add(&mut r.total, amount, "refund total")
}
