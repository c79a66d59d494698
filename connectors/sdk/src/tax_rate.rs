//! The rate of a tax a platform sends without one (Amazon sends amounts only), for targets
//! that must name a rate (a Xero tax type, a Sage tax rate id). Only the rate's *id* is
//! inferred: the amount booked stays the platform's (`docs/money.md`: never recompute tax).
//!
//! A platform that rounds per unit (Amazon: each unit's tax on its own discounted price, on
//! its shipping charge, on its gift wrap, half-up) makes an amount of `n` units differ from
//! `rate × net` by up to half a minor unit per unit on the gross, which is at most
//! `(1 + rate) / 2` minor units per unit measured on the net (the net already lost the
//! rounded tax). So a candidate explains the tax when `|net × rate − tax| ≤ n` minor units,
//! for any rate below 100 %; of several, the closest wins (ties: the first candidate).

use crate::Order;
use rust_decimal::Decimal;

/// What an unrated tax was charged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxBase {
    /// The taxed amount after discounts, without its tax.
    pub net: Decimal,
    /// How many separately rounded amounts the tax may be the sum of (units sold).
    pub units: u32,
    /// The currency's minor unit (0.01 EUR, 1 JPY).
    pub minor_unit: Decimal,
}

impl TaxBase {
    /// A line of `quantity` units.
    pub fn line(order: &Order, net: Decimal, quantity: u32) -> TaxBase {
        TaxBase {
            net,
            units: quantity,
            minor_unit: crate::money::minor_unit(&order.currency),
        }
    }

    /// An order-level charge (shipping, a fee such as gift wrap): a platform that rounds per
    /// unit charges it per unit of the goods too (Amazon's shipping and gift wrap are per
    /// item unit, summed into one shipping line or fee), so every unit of the order may have
    /// rounded its share.
    pub fn charge(order: &Order, net: Decimal) -> TaxBase {
        let units = order
            .lines
            .iter()
            .fold(0u32, |n, l| n.saturating_add(l.quantity));
        TaxBase::line(order, net, units)
    }

    /// The tax's percentage of the net, 3 places (for an error message).
    pub fn effective_percent(&self, tax: Decimal) -> Option<Decimal> {
        tax.checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|x| x.checked_div(self.net))
            .map(|x| x.round_dp(3).normalize())
    }
}

/// Why no rate was inferred.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoRate {
    /// A zero net: any rate explains nothing.
    NoBase,
    /// No candidate explains the tax; `effective` is its percentage of the net (3 places).
    Unexplained { effective: Decimal },
}

/// The candidate (`(percent, id)`, 20 is 20 %) whose percentage of `base.net` is closest to
/// `tax`, within one minor unit per unit (module docs). Zero percentages are skipped: a
/// non-zero tax is never explained by a zero rate.
pub fn infer_rate<T>(
    tax: Decimal,
    base: TaxBase,
    candidates: impl IntoIterator<Item = (Decimal, T)>,
) -> Result<T, NoRate> {
    if base.net.is_zero() {
        return Err(NoRate::NoBase);
    }
    let slack = base
        .minor_unit
        .checked_mul(Decimal::from(base.units.max(1)))
        .unwrap_or(Decimal::MAX);
    let mut best: Option<(Decimal, T)> = None;
    for (pct, id) in candidates {
        if pct.is_zero() || pct.is_sign_negative() {
            continue;
        }
        let expected = base
            .net
            .checked_mul(pct)
            .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED));
        let Some(diff) = expected.and_then(|e| e.checked_sub(tax)).map(|d| d.abs()) else {
            continue;
        };
        if diff <= slack && best.as_ref().is_none_or(|(b, _)| diff < *b) {
            best = Some((diff, id));
        }
    }
    best.map(|(_, id)| id).ok_or_else(|| NoRate::Unexplained {
        effective: base.effective_percent(tax).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn eur(net: &str, units: u32) -> TaxBase {
        TaxBase {
            net: d(net),
            units,
            minor_unit: d("0.01"),
        }
    }

    fn rates() -> Vec<(Decimal, &'static str)> {
        vec![
            (d("7"), "r7"),
            (d("10"), "r10"),
            (d("19"), "r19"),
            (d("20"), "r20"),
        ]
    }

    #[test]
    fn exact_and_rounded_lines_find_their_rate() {
        assert_eq!(infer_rate(d("3.80"), eur("20.00", 1), rates()), Ok("r19"));
        // 3 units of 87.20 incl. 19 %: 13.92 each, 41.76, on a net of 219.84 (× 0.19 =
        // 41.7696): off by 0.0096, inside 3 minor units.
        assert_eq!(infer_rate(d("41.76"), eur("219.84", 3), rates()), Ok("r19"));
    }

    #[test]
    fn shipping_rounded_per_unit_of_the_order() {
        // Amazon DE: 3 units each shipped for 3.67 incl. 19 %, 0.59 tax each (half-up of
        // 0.586): 1.77 on 11.01, a net of 9.24 → 19.156 % effective. One minor unit would
        // not explain it; one per unit of the order does, and 20 % is further off.
        assert!(infer_rate(d("1.77"), eur("9.24", 1), rates()).is_err());
        assert_eq!(infer_rate(d("1.77"), eur("9.24", 3), rates()), Ok("r19"));
        // JPY: 3 × 590 incl. 10 % = 3 × 54 = 162 on a net of 1 608 (10.075 %).
        let jpy = TaxBase {
            net: d("1608"),
            units: 3,
            minor_unit: Decimal::ONE,
        };
        assert_eq!(infer_rate(d("162"), jpy, rates()), Ok("r10"));
    }

    #[test]
    fn the_closest_rate_wins_and_ties_keep_the_first() {
        let c = vec![(d("19"), "a"), (d("20"), "b"), (d("19"), "c")];
        assert_eq!(
            infer_rate(d("19.00"), eur("100.00", 200), c.clone()),
            Ok("a")
        );
        assert_eq!(infer_rate(d("19.90"), eur("100.00", 200), c), Ok("b"));
    }

    #[test]
    fn unexplained_or_baseless_taxes_are_refused() {
        assert_eq!(
            infer_rate(d("1.50"), eur("10.00", 1), rates()),
            Err(NoRate::Unexplained { effective: d("15") })
        );
        assert_eq!(
            infer_rate(d("1.00"), eur("0", 1), rates()),
            Err(NoRate::NoBase)
        );
        // A zero rate never explains a tax, however small the slack makes it look.
        assert!(infer_rate(d("0.01"), eur("0.05", 1), vec![(Decimal::ZERO, "z")]).is_err());
        // Overflowing candidates are skipped, not a panic.
        let huge = TaxBase {
            net: Decimal::MAX,
            units: 1,
            minor_unit: d("0.01"),
        };
        assert!(infer_rate(d("1"), huge, vec![(d("50"), "x")]).is_err());
    }
}
