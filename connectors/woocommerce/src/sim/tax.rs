//! WooCommerce's tax arithmetic (`WC_Tax::calc_exclusive_tax`/`calc_inclusive_tax`) on
//! micros, and the per-line rounding switch (`woocommerce_tax_round_at_subtotal`).

use super::money::{MICRO, mul_div};

/// A tax rate of the store: `percent4` is the rate in ten-thousandths of a percent
/// (7.5 % = 75 000, WooCommerce keeps four decimals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub id: u32,
    pub code: &'static str,
    pub label: &'static str,
    pub percent4: i64,
    /// Applied on the price plus the taxes before it (Québec's QST until 2013).
    pub compound: bool,
    /// Also taxes shipping.
    pub shipping: bool,
}

/// Denominator of `percent4` as a fraction.
const RATE_ONE: i128 = 1_000_000;

/// The taxes of `amount` (micros) under `rates`, one per rate, in micros: on top of the
/// amount (`inclusive == false`) or inside it. Compound rates only exist on top here.
pub fn calc(amount: i128, rates: &[Rate], inclusive: bool) -> Vec<i128> {
    if inclusive {
        let sum: i128 = rates.iter().map(|r| i128::from(r.percent4)).sum();
        return rates
            .iter()
            .map(|r| mul_div(amount, i128::from(r.percent4), RATE_ONE + sum))
            .collect();
    }
    let mut out = Vec::with_capacity(rates.len());
    for r in rates.iter().filter(|r| !r.compound) {
        out.push((r.id, mul_div(amount, i128::from(r.percent4), RATE_ONE)));
    }
    for r in rates.iter().filter(|r| r.compound) {
        let base = amount + out.iter().map(|x| x.1).sum::<i128>();
        out.push((r.id, mul_div(base, i128::from(r.percent4), RATE_ONE)));
    }
    rates
        .iter()
        .map(|r| out.iter().find(|x| x.0 == r.id).map_or(0, |x| x.1))
        .collect()
}

/// `round_line_tax`: to whole minor units unless the store rounds at subtotal.
pub fn round_line(t: i128, at_subtotal: bool) -> i128 {
    if at_subtotal {
        t
    } else {
        mul_div(t, 1, MICRO) * MICRO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn r(id: u32, p: i64, compound: bool) -> Rate {
        Rate {
            id,
            code: "X",
            label: "X",
            percent4: p,
            compound,
            shipping: true,
        }
    }

    #[test]
    fn woocommerce_tax_arithmetic() {
        // 6.00 at 7.5 % = 0.45 (the spec's example order).
        assert_eq!(
            calc(600 * MICRO, &[r(75, 75_000, false)], false),
            vec![45 * MICRO]
        );
        // 10.00 including 19 %: 1.596639 (kept to micros).
        assert_eq!(
            calc(1000 * MICRO, &[r(1, 190_000, false)], true),
            vec![159_663_866]
        );
        // 100.00 with GST 5 % and compound QST 9.975 % on 105.00.
        assert_eq!(
            calc(
                10_000 * MICRO,
                &[r(1, 50_000, false), r(2, 99_750, true)],
                false
            ),
            vec![500 * MICRO, 1_047_375_000]
        );
        assert_eq!(round_line(159_663_866, false), 160 * MICRO);
        assert_eq!(round_line(159_663_866, true), 159_663_866);
    }
}
