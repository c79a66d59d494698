//! [`Order::balance`]: proves an order's money adds up with the formula of its basis, before
//! any target sees it. See `docs/money.md` for the rules; each refusal names what failed,
//! never a buyer's data.

use crate::model::Order;
use crate::money::{Basis, TaxLine, discount_of, is_currency, minor_units, sum, tax_of};
use rust_decimal::Decimal;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotalsError {
    #[error("currency {0:?} is not an ISO-4217 code")]
    BadCurrency(String),
    #[error("{0} has a negative amount")]
    NegativeAmount(String),
    #[error("{0} has more decimals than the currency allows")]
    TooManyDecimals(String),
    #[error("{what} differs by {diff} (beyond the connector's tolerance)")]
    Unbalanced { what: &'static str, diff: Decimal },
    #[error("amounts overflow in {0}")]
    Overflow(&'static str),
    #[error("{0}")]
    Quantity(String),
    #[error("refunds exceed what was paid")]
    RefundExceedsPaid,
    #[error("a tax-exempt order carries tax")]
    ExemptWithTax,
}

type R = Result<(), TotalsError>;

/// Checks one amount: not negative, no finer than the currency's minor unit.
fn amount(a: Decimal, dp: u32, what: impl FnOnce() -> String) -> R {
    if a.is_sign_negative() && !a.is_zero() {
        return Err(TotalsError::NegativeAmount(what()));
    }
    if a.normalize().scale() > dp {
        return Err(TotalsError::TooManyDecimals(what()));
    }
    Ok(())
}

fn taxes(lines: &[TaxLine], dp: u32, what: &impl Fn() -> String) -> R {
    for t in lines {
        amount(t.amount, dp, what)?;
        if t.rate.is_some_and(|r| r.is_sign_negative() && !r.is_zero()) {
            return Err(TotalsError::NegativeAmount(format!("{} tax rate", what())));
        }
    }
    Ok(())
}

fn check_sum(what: &'static str, parts: Option<Decimal>, total: Decimal, tol: Decimal) -> R {
    let diff = parts
        .and_then(|p| total.checked_sub(p))
        .ok_or(TotalsError::Overflow(what))?;
    if diff.abs() > tol {
        return Err(TotalsError::Unbalanced { what, diff });
    }
    Ok(())
}

impl Order {
    /// Validates the order's money and fills `totals.rounding` with what the platform's total
    /// differs from the formula by (0 unless the connector declares a tolerance). Checks:
    ///
    /// - the currency, and every amount: ≥ 0, no more decimals than the currency has;
    /// - quantities: current ≤ ordered, refunded ≤ ordered − current, refunds name lines;
    /// - sub-sums: Σ lines = subtotal, line + shipping discounts = discounts, line + shipping +
    ///   fee taxes = tax (0 when exempt);
    /// - the basis's formula for the totals as placed and for the current totals;
    /// - refunds do not exceed what was paid.
    pub fn balance(&mut self) -> Result<(), TotalsError> {
        if !is_currency(&self.currency) {
            return Err(TotalsError::BadCurrency(self.currency.clone()));
        }
        let dp = minor_units(&self.currency);
        let unit = Decimal::new(1, dp);
        let tol = i64::from(self.tolerance.per_order)
            .checked_add(
                i64::from(self.tolerance.per_line)
                    .checked_mul(i64::try_from(self.lines.len()).unwrap_or(i64::MAX))
                    .unwrap_or(i64::MAX / 2),
            )
            .and_then(|n| Decimal::from(n).checked_mul(unit))
            .ok_or(TotalsError::Overflow("tolerance"))?;

        let mut line_gross = Vec::with_capacity(self.lines.len());
        let mut line_disc = Vec::with_capacity(self.lines.len());
        let mut line_tax = Vec::with_capacity(self.lines.len());
        for l in &self.lines {
            let what = || format!("line {}", l.external_line_id);
            amount(l.unit_price, dp, what)?;
            for d in &l.discounts {
                amount(d.amount, dp, what)?;
            }
            taxes(&l.tax_lines, dp, &what)?;
            if l.current_quantity > l.quantity {
                return Err(TotalsError::Quantity(format!(
                    "line {} has more current than ordered units",
                    l.external_line_id
                )));
            }
            // A sink multiplies these too; an order whose lines overflow must not reach one.
            let gross = l.gross().ok_or(TotalsError::Overflow("line items"))?;
            let disc = l
                .discount()
                .ok_or(TotalsError::Overflow("line discounts"))?;
            if disc > gross {
                return Err(TotalsError::Unbalanced {
                    what: "a line's discounts (more than its price)",
                    diff: gross - disc,
                });
            }
            line_gross.push(gross);
            line_disc.push(disc);
            line_tax.push(l.tax().ok_or(TotalsError::Overflow("line taxes"))?);
        }
        let mut ship_price = Vec::new();
        let mut ship_disc = Vec::new();
        let mut ship_tax = Vec::new();
        for (i, s) in self.shipping_lines.iter().enumerate() {
            let what = || format!("shipping line {i}");
            amount(s.price, dp, what)?;
            for d in &s.discounts {
                amount(d.amount, dp, what)?;
            }
            taxes(&s.tax_lines, dp, &what)?;
            let disc = discount_of(&s.discounts).ok_or(TotalsError::Overflow("shipping"))?;
            if disc > s.price {
                return Err(TotalsError::Unbalanced {
                    what: "a shipping line's discounts (more than its price)",
                    diff: s.price - disc,
                });
            }
            ship_price.push(s.price);
            ship_disc.push(disc);
            ship_tax.push(tax_of(&s.tax_lines).ok_or(TotalsError::Overflow("shipping"))?);
        }
        let mut fee_amount = Vec::new();
        let mut fee_tax = Vec::new();
        for (i, f) in self.fees.iter().enumerate() {
            let what = || format!("fee {i}");
            amount(f.amount, dp, what)?;
            taxes(&f.tax_lines, dp, &what)?;
            fee_amount.push(f.amount);
            fee_tax.push(tax_of(&f.tax_lines).ok_or(TotalsError::Overflow("fees"))?);
        }
        taxes(&self.tax_lines, dp, &|| "order tax line".to_string())?;

        let t = &self.totals;
        for (a, what) in [
            (t.subtotal, "subtotal"),
            (t.discounts, "discounts"),
            (t.shipping, "shipping"),
            (t.fees, "fees"),
            (t.tax, "tax"),
            (t.total, "total"),
        ] {
            amount(a, dp, || format!("totals.{what}"))?;
        }
        let c = &self.current;
        for (a, what) in [
            (c.subtotal, "subtotal"),
            (c.discounts, "discounts"),
            (c.shipping, "shipping"),
            (c.fees, "fees"),
            (c.tax, "tax"),
            (c.total, "total"),
        ] {
            amount(a, dp, || format!("current.{what}"))?;
        }
        if self.cash_rounding.payment.normalize().scale() > dp
            || self.cash_rounding.refund.normalize().scale() > dp
        {
            return Err(TotalsError::TooManyDecimals("cash rounding".into()));
        }

        // Sub-sums.
        check_sum("line subtotal", sum(&line_gross), t.subtotal, tol)?;
        check_sum("shipping", sum(&ship_price), t.shipping, tol)?;
        check_sum("fees", sum(&fee_amount), t.fees, tol)?;
        let discounts = sum(&line_disc).and_then(|a| a.checked_add(sum(&ship_disc)?));
        check_sum("line + shipping discounts", discounts, t.discounts, tol)?;
        let tax = sum(&line_tax)
            .and_then(|a| a.checked_add(sum(&ship_tax)?))
            .and_then(|a| a.checked_add(sum(&fee_tax)?));
        check_sum("line + shipping + fee taxes", tax, t.tax, tol)?;
        if self.tax_exempt && !t.tax.is_zero() {
            return Err(TotalsError::ExemptWithTax);
        }

        // The basis's formula, as placed and now.
        let basis = self.basis();
        let placed = t
            .subtotal
            .checked_sub(t.discounts)
            .and_then(|x| x.checked_add(t.shipping))
            .and_then(|x| x.checked_add(t.fees))
            .and_then(|x| match basis {
                Basis::Exclusive => x.checked_add(t.tax),
                Basis::Inclusive => Some(x),
            });
        let diff = placed
            .and_then(|p| t.total.checked_sub(p))
            .ok_or(TotalsError::Overflow("totals"))?;
        if diff.abs() > tol {
            return Err(TotalsError::Unbalanced {
                what: "total",
                diff,
            });
        }
        let now = c
            .subtotal
            .checked_add(c.shipping)
            .and_then(|x| x.checked_add(c.fees))
            .and_then(|x| match basis {
                Basis::Exclusive => x.checked_add(c.tax),
                Basis::Inclusive => Some(x),
            });
        check_sum("current total", now, c.total, tol)?;

        // Refunds.
        let mut refunded: HashMap<&str, u64> = HashMap::new();
        for r in &self.refunds {
            let what = || format!("refund {}", r.external_id);
            for a in [r.shipping, r.shipping_tax, r.duties, r.total] {
                amount(a, dp, what)?;
            }
            for rl in &r.lines {
                amount(rl.subtotal, dp, what)?;
                amount(rl.tax, dp, what)?;
                *refunded.entry(rl.line_id.as_str()).or_default() += u64::from(rl.quantity);
            }
            for a in &r.adjustments {
                // Adjustments may be negative (a restocking fee kept back).
                for x in [a.amount, a.tax] {
                    if x.normalize().scale() > dp {
                        return Err(TotalsError::TooManyDecimals(what()));
                    }
                }
            }
        }
        for (id, qty) in refunded {
            let l = self
                .lines
                .iter()
                .find(|l| l.external_line_id == id)
                .ok_or_else(|| {
                    TotalsError::Quantity(format!("a refund names unknown line {id}"))
                })?;
            if qty > u64::from(l.quantity - l.current_quantity) {
                return Err(TotalsError::Quantity(format!(
                    "line {id} has more refunded than removed units"
                )));
            }
        }
        let paid = self.paid().ok_or(TotalsError::Overflow("paid"))?;
        let refunds = self.refunded().ok_or(TotalsError::Overflow("refunds"))?;
        let refund_rounding = self.cash_rounding.refund;
        if refunds.checked_add(refund_rounding).unwrap_or(refunds)
            > paid.checked_add(tol).unwrap_or(paid)
        {
            return Err(TotalsError::RefundExceedsPaid);
        }
        self.totals.rounding = diff;
        self.rescale(dp);
        Ok(())
    }

    /// Writes every amount with exactly the currency's decimals ("12.00", "1500", "12.345"),
    /// so a stored or sent order reads the same whatever arithmetic produced it. Only called
    /// once no amount has more decimals than that (rescaling never rounds here).
    fn rescale(&mut self, dp: u32) {
        let mut all: Vec<&mut Decimal> = Vec::new();
        for l in &mut self.lines {
            all.push(&mut l.unit_price);
            all.extend(l.discounts.iter_mut().map(|d| &mut d.amount));
            all.extend(l.tax_lines.iter_mut().map(|t| &mut t.amount));
        }
        for s in &mut self.shipping_lines {
            all.push(&mut s.price);
            all.extend(s.discounts.iter_mut().map(|d| &mut d.amount));
            all.extend(s.tax_lines.iter_mut().map(|t| &mut t.amount));
        }
        for f in &mut self.fees {
            all.push(&mut f.amount);
            all.extend(f.tax_lines.iter_mut().map(|t| &mut t.amount));
        }
        all.extend(self.tax_lines.iter_mut().map(|t| &mut t.amount));
        for r in &mut self.refunds {
            all.extend([
                &mut r.shipping,
                &mut r.shipping_tax,
                &mut r.duties,
                &mut r.total,
            ]);
            for l in &mut r.lines {
                all.extend([&mut l.subtotal, &mut l.tax]);
            }
            for a in &mut r.adjustments {
                all.extend([&mut a.amount, &mut a.tax]);
            }
        }
        let t = &mut self.totals;
        all.extend([
            &mut t.subtotal,
            &mut t.discounts,
            &mut t.shipping,
            &mut t.fees,
            &mut t.tax,
            &mut t.rounding,
            &mut t.total,
        ]);
        let c = &mut self.current;
        all.extend([
            &mut c.subtotal,
            &mut c.discounts,
            &mut c.shipping,
            &mut c.fees,
            &mut c.tax,
            &mut c.total,
        ]);
        all.extend([
            &mut self.cash_rounding.payment,
            &mut self.cash_rounding.refund,
        ]);
        for a in all {
            a.rescale(dp);
        }
        if let Some(p) = &mut self.presentment {
            let pdp = minor_units(&p.currency);
            for a in [&mut p.total, &mut p.current_total] {
                if a.normalize().scale() <= pdp {
                    a.rescale(pdp);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FinancialStatus, FulfillmentStatus, LineItem, LineKind, OrderStatus};
    use crate::money::{
        CashRounding, Collector, CurrentTotals, DiscountAllocation, Refund, RefundLine,
        ShippingLine, TaxLine, Tolerance, Totals,
    };
    use time::OffsetDateTime;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn vat(amount: &str) -> Vec<TaxLine> {
        vec![TaxLine {
            title: "VAT".into(),
            rate: Some(d("0.20")),
            amount: d(amount),
            collector: Collector::Merchant,
        }]
    }

    /// The UK case of the money issue: 20 % VAT included, 2 × £12.00, a £2.40 discount,
    /// £4.80 shipping; Shopify's total is £26.40.
    fn uk() -> Order {
        Order {
            marketplace: "test".into(),
            external_id: "1".into(),
            order_number: "#1001".into(),
            status: OrderStatus::Open,
            financial_status: FinancialStatus::Paid,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            currency: "GBP".into(),
            taxes_included: true,
            tax_exempt: false,
            presentment: None,
            lines: vec![LineItem {
                external_line_id: "l1".into(),
                sku: Some("MUG".into()),
                title: "Mug".into(),
                kind: LineKind::Product,
                quantity: 2,
                current_quantity: 2,
                unit_price: d("12.00"),
                requires_shipping: true,
                taxable: true,
                discounts: vec![DiscountAllocation {
                    amount: d("2.40"),
                    application: Some(0),
                }],
                tax_lines: vat("3.60"),
            }],
            shipping_lines: vec![ShippingLine {
                title: Some("Royal Mail".into()),
                code: None,
                price: d("4.80"),
                discounts: vec![],
                tax_lines: vat("0.80"),
            }],
            fees: vec![],
            discount_applications: vec![],
            refunds: vec![],
            tax_lines: vat("4.40"),
            totals: Totals {
                subtotal: d("24.00"),
                discounts: d("2.40"),
                shipping: d("4.80"),
                fees: Decimal::ZERO,
                tax: d("4.40"),
                rounding: Decimal::ZERO,
                total: d("26.40"),
            },
            current: CurrentTotals {
                subtotal: d("21.60"),
                discounts: d("2.40"),
                shipping: d("4.80"),
                fees: Decimal::ZERO,
                tax: d("4.40"),
                total: d("26.40"),
            },
            cash_rounding: CashRounding::default(),
            tolerance: Tolerance::EXACT,
            fulfillment_status: FulfillmentStatus::Unfulfilled,
            fulfillments: Vec::new(),
            shipping_method: Some("Royal Mail".into()),
            pii: Default::default(),
            buyer_account: None,
        }
    }

    #[test]
    fn inclusive_orders_balance_without_adding_tax_again() {
        let mut o = uk();
        o.balance().unwrap();
        assert_eq!(o.totals.rounding, Decimal::ZERO);
        let (net, gross) = o.lines[0].net_gross(o.basis()).unwrap();
        assert_eq!((net, gross), (d("18.00"), d("21.60")));
        // The same numbers read as exclusive are 4.40 off: the old formula's bug.
        o.taxes_included = false;
        assert!(matches!(
            o.balance(),
            Err(TotalsError::Unbalanced { what: "total", .. })
        ));
    }

    #[test]
    fn sub_sums_are_checked() {
        let mut o = uk();
        o.totals.discounts = d("4.99");
        o.totals.total = d("23.81");
        assert!(matches!(
            o.balance(),
            Err(TotalsError::Unbalanced {
                what: "line + shipping discounts",
                ..
            })
        ));
        let mut o = uk();
        o.shipping_lines[0].tax_lines.clear();
        assert!(matches!(
            o.balance(),
            Err(TotalsError::Unbalanced {
                what: "line + shipping + fee taxes",
                ..
            })
        ));
        let mut o = uk();
        o.tax_exempt = true;
        assert_eq!(o.balance(), Err(TotalsError::ExemptWithTax));
    }

    #[test]
    fn tolerance_is_in_minor_units_of_the_currency() {
        let mut o = uk();
        o.totals.total = d("26.41");
        o.current.total = d("26.41");
        assert!(o.clone().balance().is_err(), "exact by default");
        o.tolerance = Tolerance {
            per_order: 1,
            per_line: 0,
        };
        o.balance().unwrap();
        assert_eq!(o.totals.rounding, d("0.01"));
        // JPY has no decimals: 0.5 yen is not an amount.
        let mut o = uk();
        o.currency = "JPY".into();
        assert!(matches!(o.balance(), Err(TotalsError::TooManyDecimals(_))));
    }

    #[test]
    fn refunds_and_quantities_are_bounded() {
        let mut o = uk();
        o.lines[0].current_quantity = 1;
        o.refunds.push(Refund {
            external_id: "r1".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            lines: vec![RefundLine {
                line_id: "l1".into(),
                quantity: 1,
                restock: true,
                subtotal: d("10.80"),
                tax: d("1.80"),
            }],
            shipping: Decimal::ZERO,
            shipping_tax: Decimal::ZERO,
            duties: Decimal::ZERO,
            adjustments: vec![],
            total: d("10.80"),
        });
        o.current = CurrentTotals {
            subtotal: d("10.80"),
            discounts: d("1.20"),
            shipping: d("4.80"),
            fees: Decimal::ZERO,
            tax: d("2.60"),
            total: d("15.60"),
        };
        o.clone().balance().unwrap();
        let mut bad = o.clone();
        bad.refunds[0].total = d("26.41");
        assert_eq!(bad.balance(), Err(TotalsError::RefundExceedsPaid));
        let mut bad = o.clone();
        bad.refunds[0].lines[0].quantity = 2;
        assert!(matches!(bad.balance(), Err(TotalsError::Quantity(_))));
        let mut bad = o.clone();
        bad.lines[0].current_quantity = 3;
        assert!(matches!(bad.balance(), Err(TotalsError::Quantity(_))));
        let mut bad = o;
        bad.refunds[0].lines[0].line_id = "nope".into();
        assert!(matches!(bad.balance(), Err(TotalsError::Quantity(_))));
    }

    #[test]
    fn bad_amounts_are_refused() {
        let huge = Decimal::from_str_exact("70000000000000000000000000000").unwrap();
        let mut o = uk();
        o.lines[0].unit_price = huge;
        assert_eq!(o.balance(), Err(TotalsError::Overflow("line items")));
        let mut o = uk();
        o.lines[0].unit_price = d("-1");
        assert!(matches!(o.balance(), Err(TotalsError::NegativeAmount(_))));
        let mut o = uk();
        o.currency = "pound".into();
        assert!(matches!(o.balance(), Err(TotalsError::BadCurrency(_))));
        let mut o = uk();
        o.totals.total = d("26.405");
        assert!(matches!(o.balance(), Err(TotalsError::TooManyDecimals(_))));
        let mut o = uk();
        o.lines[0].discounts[0].amount = d("30.00");
        assert!(matches!(o.balance(), Err(TotalsError::Unbalanced { .. })));
    }

    #[test]
    fn serialised_order_has_no_pii_and_round_trips() {
        let mut o = uk();
        o.pii.email = Some("canary@customer.test".into());
        let s = serde_json::to_string(&o).unwrap();
        assert!(!s.contains("customer.test"));
        let back: Order = serde_json::from_str(&s).unwrap();
        assert!(back.pii.is_empty());
        assert_eq!(back.totals, o.totals);
        assert_eq!(back.lines, o.lines);
    }
}
