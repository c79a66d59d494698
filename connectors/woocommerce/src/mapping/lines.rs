//! Line items, shipping lines, fees and coupons, in the order's basis.
//!
//! WooCommerce stores every line total *without* tax, even when prices include tax (it
//! back-computes the net and rounds it), so the basis amounts are rebuilt from its pairs:
//! `subtotal (+ subtotal_tax)` before discounts, `total (+ total_tax)` after. Shipping costs
//! and fees are entered without tax in every store. Line taxes come from `taxes[]` (raw
//! values, rounded here to the currency) and take their label and rate from the order's
//! `tax_lines` by rate id.
//!
//! A negative fee is a discount (staff's or a plugin's "discount fee"): WooCommerce splits its
//! tax over the cart's taxes. It becomes a manual discount application allocated over the
//! goods by their discounted amounts, and its tax comes off the goods' taxes of the same rate
//! in proportion, so every amount stays ≥ 0 and the order still adds up.

use super::amounts::{add, amount, html_text, quantity, raw_tax, sub};
use crate::wire::{WireCoupon, WireFee, WireOrder, WireShipping, WireTax};
use ordersync_sdk::mapping::{Reason, parse_rate};
use ordersync_sdk::{
    AllocationMethod, Collector, Decimal, DiscountAllocation, DiscountApplication, DiscountKind,
    DiscountTarget, DiscountValue, Fee, FeeKind, LineItem, LineKind, ShippingLine, TaxLine,
};
use rust_decimal::RoundingStrategy;
use rust_decimal::prelude::ToPrimitive;
use std::collections::HashMap;
use std::str::FromStr;

/// What the order's `tax_lines` say of each rate id: label and rate (a fraction).
pub struct Rates(HashMap<String, (String, Option<Decimal>)>);

impl Rates {
    pub fn of(o: &WireOrder) -> Rates {
        let mut m = HashMap::new();
        for t in &o.tax_lines {
            let Some(id) = t.rate_id.as_ref().map(|i| i.0.clone()) else {
                continue;
            };
            let label = t
                .label
                .clone()
                .filter(|l| !l.trim().is_empty())
                .or_else(|| t.rate_code.clone())
                .unwrap_or_else(|| format!("Tax {id}"));
            let rate = t
                .rate_percent
                .as_ref()
                .and_then(|n| parse_rate(&n.to_string()))
                .and_then(|p| p.checked_div(Decimal::ONE_HUNDRED));
            m.insert(id, (label, rate));
        }
        Rates(m)
    }

    fn tax_line(&self, id: &str, amount: Decimal) -> TaxLine {
        let (title, rate) = self
            .0
            .get(id)
            .cloned()
            .unwrap_or_else(|| (format!("Tax {id}"), None));
        TaxLine {
            title,
            rate,
            amount,
            collector: Collector::Merchant,
        }
    }
}

/// A tax line and the rate id it came from (negative fees are matched by it).
#[derive(Debug, Clone)]
pub struct Taxed {
    pub rate_id: String,
    pub line: TaxLine,
}

/// How the order's money reads.
pub struct Ctx<'a> {
    pub dp: u32,
    pub inclusive: bool,
    pub rates: &'a Rates,
}

impl Ctx<'_> {
    /// A net amount and its tax, in the basis.
    pub fn basis(&self, net: Decimal, tax: Decimal, what: &str) -> Result<Decimal, Reason> {
        if self.inclusive {
            add(net, tax, what)
        } else {
            Ok(net)
        }
    }

    fn taxes(&self, taxes: &[WireTax], what: &str) -> Result<Vec<Taxed>, Reason> {
        let mut out = Vec::with_capacity(taxes.len());
        for t in taxes {
            let Some(id) = t.id.as_ref().map(|i| i.0.clone()) else {
                return Err(format!("{what} has a tax without a rate id"));
            };
            let amount = raw_tax(&t.total, self.dp, what)?;
            out.push(Taxed {
                line: self.rates.tax_line(&id, amount),
                rate_id: id,
            });
        }
        Ok(out)
    }
}

/// A line as read: the canonical line (taxes not yet placed), its taxes by rate id and what
/// it costs after discounts, in the basis.
pub struct ReadLine {
    pub line: LineItem,
    pub taxes: Vec<Taxed>,
    pub after: Decimal,
}

pub fn lines(
    o: &WireOrder,
    c: &Ctx<'_>,
    coupon_app: Option<u32>,
    requires_shipping: bool,
) -> Result<Vec<ReadLine>, Reason> {
    let mut out = Vec::with_capacity(o.line_items.len());
    for l in &o.line_items {
        let id =
            l.id.as_ref()
                .map(|i| i.0.clone())
                .filter(|i| !i.is_empty())
                .ok_or("a line item has no id")?;
        let what = format!("line {id}");
        let q = quantity(l.quantity.as_ref(), &what)?;
        let qty =
            u32::try_from(q).map_err(|_| format!("{what} has a negative or huge quantity"))?;
        let gross = c.basis(
            amount(&l.subtotal, &what)?,
            amount(&l.subtotal_tax, &what)?,
            &what,
        )?;
        let after = c.basis(
            amount(&l.total, &what)?,
            amount(&l.total_tax, &what)?,
            &what,
        )?;
        let unit = match qty {
            0 if gross.is_zero() => Decimal::ZERO,
            0 => return Err(format!("{what} has no units but a price")),
            // The inclusive gross is rebuilt from two rounded halves, so it may not divide by
            // the quantity: the unit rounds, the difference is the order's rounding.
            q => gross
                .checked_div(Decimal::from(q))
                .ok_or_else(|| format!("amounts overflow in {what}"))?
                .round_dp_with_strategy(c.dp, RoundingStrategy::MidpointNearestEven),
        };
        let discount = sub(gross, after, &what)?;
        if discount.is_sign_negative() && !discount.is_zero() {
            return Err(format!("{what} costs more after discounts than before"));
        }
        let taxes = c.taxes(&l.taxes, &what)?;
        let product = l.product_id.as_ref().and_then(serde_json::Number::as_u64);
        let taxable = !l.taxes.is_empty() || !amount(&l.total_tax, &what)?.is_zero();
        out.push(ReadLine {
            line: LineItem {
                external_line_id: id,
                sku: l.sku.clone().filter(|s| !s.trim().is_empty()),
                title: html_text(l.name.as_deref().unwrap_or_default()),
                kind: if product.is_some_and(|p| p > 0) {
                    LineKind::Product
                } else {
                    LineKind::Custom
                },
                quantity: qty,
                current_quantity: qty,
                unit_price: unit,
                requires_shipping,
                taxable,
                discounts: if discount.is_zero() {
                    vec![]
                } else {
                    vec![DiscountAllocation {
                        amount: discount,
                        application: coupon_app,
                    }]
                },
                tax_lines: vec![],
            },
            taxes,
            after,
        });
    }
    Ok(out)
}

/// A shipping line as read (taxes not yet placed) and its taxes by rate id.
pub struct ReadShip {
    pub line: ShippingLine,
    pub taxes: Vec<Taxed>,
}

pub fn shipping(s: &WireShipping, i: usize, c: &Ctx<'_>) -> Result<ReadShip, Reason> {
    let what = format!("shipping line {i}");
    let price = c.basis(
        amount(&s.total, &what)?,
        amount(&s.total_tax, &what)?,
        &what,
    )?;
    Ok(ReadShip {
        line: ShippingLine {
            title: s.method_title.as_deref().map(html_text),
            code: s.method_id.clone().filter(|m| !m.is_empty()),
            price,
            discounts: vec![],
            tax_lines: vec![],
        },
        taxes: c.taxes(&s.taxes, &what)?,
    })
}

/// A fee: positive ones are fees, negative ones discounts (`Err` side of the `Ok`).
pub enum ReadFee {
    Fee(Fee),
    /// The discount in the basis (positive) and its taxes by rate id (positive).
    Discount {
        title: Option<String>,
        amount: Decimal,
        taxes: Vec<Taxed>,
    },
}

pub fn fee(f: &WireFee, i: usize, c: &Ctx<'_>) -> Result<ReadFee, Reason> {
    let what = format!("fee {i}");
    let total = amount(&f.total, &what)?;
    let tax = amount(&f.total_tax, &what)?;
    let basis = c.basis(total, tax, &what)?;
    let taxes = c.taxes(&f.taxes, &what)?;
    let title = f.name.as_deref().map(html_text);
    if basis.is_sign_negative() && !basis.is_zero() {
        return Ok(ReadFee::Discount {
            title,
            amount: -basis,
            taxes: taxes
                .into_iter()
                .map(|mut t| {
                    t.line.amount = -t.line.amount;
                    t
                })
                .collect(),
        });
    }
    Ok(ReadFee::Fee(Fee {
        kind: FeeKind::AdditionalFee,
        title,
        amount: basis,
        tax_lines: taxes.into_iter().map(|t| t.line).collect(),
    }))
}

/// A coupon as the buyer saw it. `discount_type`/`nominal_amount` (newer versions) give its
/// value; without them it is the fixed amount it took off.
pub fn coupon(cp: &WireCoupon, index: u32, c: &Ctx<'_>) -> Result<DiscountApplication, Reason> {
    let what = format!("coupon {index}");
    let took = c.basis(
        amount(&cp.discount, &what)?,
        amount(&cp.discount_tax, &what)?,
        &what,
    )?;
    let nominal = cp
        .nominal_amount
        .as_ref()
        .and_then(|n| Decimal::from_str(&n.to_string()).ok())
        .filter(|n| !n.is_sign_negative());
    let free_shipping_only = cp.free_shipping == Some(true) && took.is_zero();
    let (value, allocation) = match (cp.discount_type.as_deref(), nominal) {
        _ if free_shipping_only => (
            DiscountValue::Percentage(Decimal::ONE),
            AllocationMethod::One,
        ),
        (Some("percent"), Some(n)) => (
            DiscountValue::Percentage(n / Decimal::ONE_HUNDRED),
            AllocationMethod::Across,
        ),
        (Some("fixed_product"), Some(n)) => (DiscountValue::FixedAmount(n), AllocationMethod::Each),
        (Some("fixed_cart"), Some(n)) => (DiscountValue::FixedAmount(n), AllocationMethod::Across),
        _ => (DiscountValue::FixedAmount(took), AllocationMethod::Across),
    };
    Ok(DiscountApplication {
        index,
        kind: DiscountKind::Code,
        code: cp.code.clone().filter(|s| !s.is_empty()),
        title: None,
        // A free-shipping coupon unlocks a free shipping method: the price is 0, not a
        // discount of the price, so it has no allocation.
        target: if free_shipping_only {
            DiscountTarget::Shipping
        } else {
            DiscountTarget::Line
        },
        value,
        allocation,
    })
}

/// Splits `amount` over `weights` pro rata in minor units, remainders one unit each to the
/// first weights, so the parts sum to `amount` exactly. Nothing spreads as zeros, whatever the
/// weights (a negative fee's tax of a rate no item carries is `0` in WooCommerce). `None` when
/// something must be spread but nothing carries weight, or the arithmetic overflows.
pub fn spread(amount: Decimal, weights: &[Decimal], dp: u32) -> Option<Vec<Decimal>> {
    let scale = Decimal::from(10i64.checked_pow(dp)?);
    let to_minor = |d: Decimal| -> Option<i128> { d.checked_mul(scale)?.trunc().to_i128() };
    let total = to_minor(amount)?;
    if total == 0 {
        return Some(vec![Decimal::ZERO; weights.len()]);
    }
    let w: Vec<i128> = weights
        .iter()
        .map(|d| to_minor((*d).max(Decimal::ZERO)))
        .collect::<Option<_>>()?;
    let sum = w.iter().try_fold(0i128, |a, b| a.checked_add(*b))?;
    if sum == 0 {
        return None;
    }
    let mut out: Vec<i128> = w
        .iter()
        .map(|x| total.checked_mul(*x).map(|p| p / sum))
        .collect::<Option<_>>()?;
    let mut rest = total - out.iter().sum::<i128>();
    for (o, x) in out.iter_mut().zip(&w) {
        if rest <= 0 {
            break;
        }
        if *x > 0 {
            *o += 1;
            rest -= 1;
        }
    }
    out.into_iter()
        .map(|m| Decimal::try_from_i128_with_scale(m, dp).ok())
        .collect()
}

/// Applies one negative fee (application `app`) to the goods: its amount as allocations by
/// what each line costs after discounts; each of its taxes off the taxes of that rate, the
/// lines' and then the shipping lines' (WooCommerce takes a negative fee's tax from every
/// taxable cost, shipping included), in proportion.
pub fn apply_discount_fee(
    lines: &mut [ReadLine],
    ships: &mut [ReadShip],
    app: u32,
    amount: Decimal,
    taxes: &[Taxed],
    dp: u32,
) -> Result<(), Reason> {
    let refuse = || "a negative fee cannot be spread over the line items".to_string();
    let weights: Vec<Decimal> = lines.iter().map(|l| l.after).collect();
    let parts = spread(amount, &weights, dp).ok_or_else(refuse)?;
    for (l, part) in lines.iter_mut().zip(parts) {
        if part.is_zero() {
            continue;
        }
        l.line.discounts.push(DiscountAllocation {
            amount: part,
            application: Some(app),
        });
        l.after = sub(l.after, part, "a negative fee")?;
    }
    for t in taxes {
        let of = |x: &[Taxed]| -> Decimal {
            x.iter()
                .filter(|x| x.rate_id == t.rate_id)
                .map(|x| x.line.amount)
                .sum()
        };
        let mut all: Vec<&mut Vec<Taxed>> = lines
            .iter_mut()
            .map(|l| &mut l.taxes)
            .chain(ships.iter_mut().map(|s| &mut s.taxes))
            .collect();
        let weights: Vec<Decimal> = all.iter().map(|x| of(x)).collect();
        let parts = spread(t.line.amount, &weights, dp).ok_or_else(refuse)?;
        for (x, mut part) in all.iter_mut().zip(parts) {
            for y in x.iter_mut().filter(|y| y.rate_id == t.rate_id) {
                let take = part.min(y.line.amount);
                y.line.amount -= take;
                part -= take;
            }
            if !part.is_zero() {
                return Err(refuse());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn spread_is_exact_and_fair() {
        let p = spread(d("10.00"), &[d("1"), d("1"), d("1")], 2).unwrap();
        assert_eq!(p, vec![d("3.34"), d("3.33"), d("3.33")]);
        let p = spread(d("5"), &[d("0"), d("300"), d("100")], 0).unwrap();
        assert_eq!(p, vec![d("0"), d("4"), d("1")]);
        assert!(spread(d("1.00"), &[d("0")], 2).is_none());
        // A zero tax of a rate nothing else carries (a zero-rated order's loyalty discount).
        assert_eq!(
            spread(d("0"), &[d("0"), d("0")], 2).unwrap(),
            vec![d("0"); 2]
        );
        let p = spread(d("0.07"), &[d("19.99"), d("0.01")], 2).unwrap();
        assert_eq!(p.iter().sum::<Decimal>(), d("0.07"));
    }
}
