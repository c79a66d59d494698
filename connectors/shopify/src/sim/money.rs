//! Integer money arithmetic of the simulated shop: amounts are `i64` minor units of the order's
//! currency, rates integers, every rounding half-up and explicit (Shopify rounds each tax line
//! and each allocation on its own, so the simulator must too). No `f64` touches an amount.

use std::fmt;

/// Rates are integers in units of 10⁻⁵ (0.00375 = 375, 0.0825 = 8 250, 0.20 = 20 000): the
/// finest rate in the mix is NYC's 0.375 %.
pub const RATE_ONE: i64 = 100_000;
/// Percentages of discounts are in basis points (10 % = 1 000).
pub const BP_ONE: i64 = 10_000;
/// Presentment exchange rates are in millionths (1.0837 = 1 083 700).
pub const FX_ONE: i64 = 1_000_000;

/// `a × num / den` rounded half-up, for `a, num ≥ 0`, `den > 0` (i128 inside: no overflow for
/// any simulated amount).
pub fn mul_div_round(a: i64, num: i64, den: i64) -> i64 {
    let (a, num, den) = (i128::from(a), i128::from(num), i128::from(den.max(1)));
    let q = (2 * a * num + den).div_euclid(2 * den);
    i64::try_from(q).unwrap_or(i64::MAX)
}

/// `⌊a × n / q⌋`: the share of `a` that `n` of `q` units carry, cumulatively. Taking units one
/// refund after another with this rule leaves the remainder to the last unit, so taking all
/// `q` units returns exactly `a`.
pub fn unit_share(a: i64, n: u32, q: u32) -> i64 {
    if q == 0 {
        return 0;
    }
    let v = i128::from(a) * i128::from(n.min(q)) / i128::from(q);
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Spreads `amount` over `weights` pro rata, rounding down, and gives the remainder minor
/// units one each to the first weights (10.00 over three equal lines → 3.34 / 3.33 / 3.33).
/// Zero weights get nothing; the result sums to `amount` unless every weight is zero.
pub fn spread(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|w| i128::from((*w).max(0))).sum();
    if total == 0 {
        return vec![0; weights.len()];
    }
    let mut out: Vec<i64> = weights
        .iter()
        .map(|w| {
            let v = i128::from(amount) * i128::from((*w).max(0)) / total;
            i64::try_from(v).unwrap_or(0)
        })
        .collect();
    let mut rest = amount - out.iter().sum::<i64>();
    for (o, w) in out.iter_mut().zip(weights) {
        if rest == 0 {
            break;
        }
        if *w > 0 {
            *o += 1;
            rest -= 1;
        }
    }
    out
}

/// The tax of one tax line on `amount` (after discounts): on top of it when prices exclude
/// tax, `amount × r / (1 + Σr)` inside it when they include it — `rates_sum` is Σr of every
/// tax of the same amount. Rounded half-up per tax line, as Shopify does.
pub fn tax_of(amount: i64, rate: i64, rates_sum: i64, included: bool) -> i64 {
    if included {
        mul_div_round(amount, rate, RATE_ONE + rates_sum)
    } else {
        mul_div_round(amount, rate, RATE_ONE)
    }
}

/// `amount` rounded half-up to a multiple of `step` (cash rounding: CHF to 0.05 = 5 minor
/// units).
pub fn round_to(amount: i64, step: i64) -> i64 {
    if step <= 1 {
        return amount;
    }
    mul_div_round(amount, 1, step) * step
}

/// Converts shop minor units to presentment minor units: `round(amount × fx)`, each currency
/// with its own decimals.
pub fn convert(amount: i64, fx: i64, shop_dp: u32, pres_dp: u32) -> i64 {
    let sign = amount.signum();
    let a = i128::from(amount.unsigned_abs());
    let num = a * i128::from(fx) * 10i128.pow(pres_dp);
    let den = i128::from(FX_ONE) * 10i128.pow(shop_dp);
    let q = (2 * num + den) / (2 * den);
    sign * i64::try_from(q).unwrap_or(i64::MAX)
}

/// An amount in minor units written with its currency's decimals: `"1500"` for JPY,
/// `"12.345"` for KWD, `"12.50"` for most — without an intermediate `String`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amt {
    pub minor: i64,
    pub dp: u32,
}

impl fmt::Display for Amt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let a = self.minor.unsigned_abs();
        if self.dp == 0 {
            return write!(f, "{sign}{a}");
        }
        let scale = 10u64.pow(self.dp);
        write!(
            f,
            "{sign}{}.{:0width$}",
            a / scale,
            a % scale,
            width = self.dp as usize
        )
    }
}

impl serde::Serialize for Amt {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A fixed-point value as REST's discount `value` writes it: trailing zeros dropped but one
/// decimal kept (`"10.0"`, `"12.5"`, `"3.34"`).
pub fn short_decimal(v: i64, dp: u32) -> String {
    let s = Amt { minor: v, dp }.to_string();
    match s.split_once('.') {
        None => format!("{s}.0"),
        Some((i, frac)) => {
            let t = frac.trim_end_matches('0');
            if t.is_empty() {
                format!("{i}.0")
            } else {
                format!("{i}.{t}")
            }
        }
    }
}

/// A rate in 10⁻⁵ as the JSON number text Shopify sends (`0.0825`, `0.00375`, `0.2`): the
/// shortest text of the nearest `f64`, which is exactly the decimal (every rate here has at
/// most five decimals). Only the wire form is a float; arithmetic uses the integer.
pub fn rate_number(rate: i64) -> f64 {
    rate as f64 / RATE_ONE as f64
}

/// A rate in 10⁻⁵ as a percentage number (`ratePercentage`: 8.25, 0.375).
pub fn rate_percentage(rate: i64) -> f64 {
    rate as f64 / 1_000.0
}

/// A discount percentage in basis points as the number Shopify sends (10.0, 12.5, 100.0).
pub fn percentage_number(bp: i64) -> f64 {
    bp as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_gives_remainders_to_the_first_lines() {
        assert_eq!(spread(1000, &[1000, 1000, 1000]), vec![334, 333, 333]);
        assert_eq!(spread(1000, &[0, 500, 500]), vec![0, 500, 500]);
        assert_eq!(spread(5, &[1, 1, 1, 1, 1, 1, 1]), vec![1, 1, 1, 1, 1, 0, 0]);
        assert_eq!(spread(7, &[0, 0]), vec![0, 0]);
        let s = spread(1999, &[1234, 5678, 91]);
        assert_eq!(s.iter().sum::<i64>(), 1999);
    }

    #[test]
    fn taxes_round_half_up_per_line() {
        // UK: 21.60 incl. 20 % VAT → 3.60; 4.80 → 0.80.
        assert_eq!(tax_of(2160, 20_000, 20_000, true), 360);
        assert_eq!(tax_of(480, 20_000, 20_000, true), 80);
        // 8.25 % on 10.00 = 0.825 → 0.83 (half-up).
        assert_eq!(tax_of(1000, 8_250, 8_250, false), 83);
        // NYC on 100.00: 4.00 + 4.50 + 0.375 → 0.38.
        let nyc = [4_000, 4_500, 375];
        let t: Vec<i64> = nyc
            .iter()
            .map(|r| tax_of(10_000, *r, 8_875, false))
            .collect();
        assert_eq!(t, vec![400, 450, 38]);
    }

    #[test]
    fn unit_shares_sum_to_the_whole() {
        let (a, q) = (1001, 3);
        let first = unit_share(a, 1, q);
        let second = unit_share(a, 2, q) - first;
        let third = a - unit_share(a, 2, q);
        assert_eq!((first, second, third), (333, 334, 334));
        assert_eq!(unit_share(a, 3, q), a);
    }

    #[test]
    fn amounts_render_with_their_currency_decimals() {
        assert_eq!(Amt { minor: 1500, dp: 0 }.to_string(), "1500");
        assert_eq!(
            Amt {
                minor: 12345,
                dp: 3
            }
            .to_string(),
            "12.345"
        );
        assert_eq!(Amt { minor: 5, dp: 3 }.to_string(), "0.005");
        assert_eq!(Amt { minor: 1250, dp: 2 }.to_string(), "12.50");
        assert_eq!(Amt { minor: -2, dp: 2 }.to_string(), "-0.02");
        assert_eq!(short_decimal(1000, 2), "10.0");
        assert_eq!(short_decimal(1250, 2), "12.5");
        assert_eq!(short_decimal(334, 2), "3.34");
        assert_eq!(short_decimal(500, 0), "500.0");
        assert_eq!(serde_json::to_string(&rate_number(375)).unwrap(), "0.00375");
        assert_eq!(
            serde_json::to_string(&rate_number(8_250)).unwrap(),
            "0.0825"
        );
        assert_eq!(serde_json::to_string(&rate_number(20_000)).unwrap(), "0.2");
        assert_eq!(
            serde_json::to_string(&percentage_number(10_000)).unwrap(),
            "100.0"
        );
    }

    #[test]
    fn cash_rounding_and_conversion() {
        assert_eq!(round_to(1002, 5), 1000);
        assert_eq!(round_to(1003, 5), 1005);
        assert_eq!(round_to(1007, 5), 1005);
        assert_eq!(round_to(1008, 5), 1010);
        // 26.40 EUR at 1.0837 = 28.60968 USD → 28.61.
        assert_eq!(convert(2640, 1_083_700, 2, 2), 2861);
        // 1500 JPY at 0.0062 → 9.30 USD.
        assert_eq!(convert(1500, 6_200, 0, 2), 930);
        assert_eq!(convert(-2, 1_083_700, 2, 2), -2);
    }
}
