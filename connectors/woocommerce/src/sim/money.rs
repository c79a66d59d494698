//! Integer money of the simulated store. WooCommerce computes in cents with six more decimals
//! (`wc_add_number_precision` and `WC_Tax::round` to 6 places), rounds taxes per line or once
//! per order, and writes most fields with the store's decimals and raw tax values with as many
//! as they have. Here amounts are `i64` minor units, and raw taxes `i128` millionths of a minor
//! unit ("micros"). No `f64` touches an amount.

/// Micros per minor unit.
pub const MICRO: i128 = 1_000_000;

/// `a × num / den`, rounded half away from zero (PHP's `round`), `den > 0`.
pub fn mul_div(a: i128, num: i128, den: i128) -> i128 {
    let den = den.max(1);
    let p = a.saturating_mul(num);
    let q = p / den;
    let r = p % den;
    if r.abs().saturating_mul(2) >= den {
        q + p.signum()
    } else {
        q
    }
}

/// Micros rounded to minor units, half away from zero.
pub fn to_minor(micros: i128) -> i64 {
    i64::try_from(mul_div(micros, 1, MICRO)).unwrap_or(i64::MAX)
}

pub fn micros(minor: i64) -> i128 {
    i128::from(minor) * MICRO
}

/// `x` in minor units written with exactly `dp` decimals (`wc_format_decimal($x, $dp)`):
/// `"8.40"`, `"1500"`, `"12.345"`, `"-10.00"`.
pub fn fixed(minor: i64, dp: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let a = minor.unsigned_abs();
    if dp == 0 {
        return format!("{sign}{a}");
    }
    let scale = 10u64.pow(dp);
    format!(
        "{sign}{}.{:0width$}",
        a / scale,
        a % scale,
        width = dp as usize
    )
}

/// Micros rounded and written with `dp` decimals.
pub fn fixed_micros(m: i128, dp: u32) -> String {
    fixed(to_minor(m), dp)
}

/// A raw value as PHP writes a float: the shortest decimal, no trailing zeros (`"0.9"`,
/// `"0.45454545"`, `"2"`, `"-0.5"`).
pub fn raw(m: i128, dp: u32) -> String {
    let places = dp + 6;
    let sign = if m < 0 { "-" } else { "" };
    let a = m.unsigned_abs();
    let scale = 10u128.pow(places);
    let (int, frac) = (a / scale, a % scale);
    if frac == 0 {
        return format!("{sign}{int}");
    }
    let f = format!("{frac:0width$}", width = places as usize);
    format!("{sign}{int}.{}", f.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_matches_php() {
        assert_eq!(fixed(840, 2), "8.40");
        assert_eq!(fixed(-1000, 2), "-10.00");
        assert_eq!(fixed(1500, 0), "1500");
        assert_eq!(fixed(12345, 3), "12.345");
        assert_eq!(raw(90 * MICRO, 2), "0.9");
        assert_eq!(raw(45_454_545, 2), "0.45454545");
        assert_eq!(raw(200 * MICRO, 2), "2");
        assert_eq!(raw(-50 * MICRO, 2), "-0.5");
        assert_eq!(raw(0, 0), "0");
        assert_eq!(raw(136_363_636, 0), "136.363636");
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(to_minor(1_500_000), 2);
        assert_eq!(to_minor(1_499_999), 1);
        assert_eq!(to_minor(-1_500_000), -2);
        assert_eq!(mul_div(1000, 7_500, 100_000), 75);
    }
}
