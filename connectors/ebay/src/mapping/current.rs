//! The order now (eBay sends no current totals) and the buyer-currency totals.

use super::amounts::converted;
use super::lines::ReadLine;
use super::refunds::Back;
use crate::wire;
use ordersync_sdk::mapping::{Reason, checked_sum};
use ordersync_sdk::money::minor_units;
use ordersync_sdk::{CurrentTotals, Decimal, Presentment, ShippingLine, Totals};

fn sum(a: Decimal, b: Decimal, what: &str) -> Result<Decimal, Reason> {
    a.checked_add(b)
        .ok_or_else(|| format!("amounts overflow in {what}"))
}

fn sub(a: Decimal, b: Decimal, what: &str) -> Result<Decimal, Reason> {
    a.checked_sub(b)
        .ok_or_else(|| format!("amounts overflow in {what}"))
}

/// The order now: the totals less what the refunds took back. Money refunded without saying
/// for what comes off the items first, then shipping, fees and tax.
pub fn current_totals(
    read: &[ReadLine],
    shipping_lines: &[ShippingLine],
    totals: &Totals,
    back: &Back,
) -> Result<CurrentTotals, Reason> {
    let mut items = Decimal::ZERO;
    let mut discounts = Decimal::ZERO;
    for l in read {
        items = sum(
            items,
            l.line.discounted().ok_or("amounts overflow in lines")?,
            "current subtotal",
        )?;
        if l.line.current_quantity > 0 {
            discounts = sum(
                discounts,
                l.line.discount().ok_or("amounts overflow in discounts")?,
                "current discounts",
            )?;
        }
    }
    let mut ship = Decimal::ZERO;
    for s in shipping_lines {
        ship = sum(
            ship,
            s.discounted().ok_or("amounts overflow in shipping")?,
            "current shipping",
        )?;
    }
    let mut parts = [
        sub(items, back.items, "current subtotal")?,
        sub(ship, back.shipping, "current shipping")?,
        sub(totals.fees, back.fees, "current fees")?,
        sub(totals.tax, back.tax, "current tax")?,
    ];
    let mut left = back.money;
    for p in parts.iter_mut() {
        let take = left.min(*p).max(Decimal::ZERO);
        *p = sub(*p, take, "current totals")?;
        left = sub(left, take, "current totals")?;
    }
    if left > Decimal::ZERO {
        return Err("refunds exceed the order".into());
    }
    let [subtotal, shipping, fees, tax] = parts;
    Ok(CurrentTotals {
        subtotal,
        discounts,
        shipping,
        fees,
        tax,
        total: checked_sum([subtotal, shipping, fees, tax], "current total")?,
    })
}

/// The buyer's currency when eBay converted. eBay sends no current total in it: after a
/// refund it is the buyer's total scaled like the seller-side total (information only; the
/// shop-currency amounts are the ones that balance).
pub fn presentment(
    total_amount: Option<&wire::Amount>,
    currency: &str,
    total: Decimal,
    current_total: Decimal,
) -> Result<Option<Presentment>, Reason> {
    let Some((pc, pt)) = converted(total_amount, "pricingSummary.total")? else {
        return Ok(None);
    };
    if pc == currency {
        return Ok(None);
    }
    let current = if current_total == total || total.is_zero() {
        pt
    } else {
        pt.checked_mul(current_total)
            .and_then(|x| x.checked_div(total))
            .map(|x| x.round_dp(minor_units(&pc)))
            .ok_or("amounts overflow in the buyer's currency")?
    };
    Ok(Some(Presentment {
        rate: (!total.is_zero())
            .then(|| pt.checked_div(total))
            .flatten()
            .map(|r| r.round_dp(6)),
        currency: pc,
        total: pt,
        current_total: current,
    }))
}
