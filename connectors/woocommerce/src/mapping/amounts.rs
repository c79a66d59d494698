//! Parsing WooCommerce's numbers and dates without panics: every failure is a PII-free
//! reason naming the field.

use ordersync_sdk::Decimal;
use ordersync_sdk::mapping::{MAX_AMOUNT, Reason, parse_amount};
use rust_decimal::RoundingStrategy;
use std::str::FromStr;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Most decimal places a raw (unrounded) tax value may carry: WooCommerce keeps taxes to 6
/// places of cents (`0.45454545`).
const MAX_RAW_SCALE: u32 = 12;

/// A formatted amount (`"10.00"`): the SDK's parser (plain decimal, bounded, ≤ 4 places);
/// empty is zero.
pub fn amount(s: &crate::wire::Amount, what: &str) -> Result<Decimal, Reason> {
    if s.as_str().is_empty() {
        return Ok(Decimal::ZERO);
    }
    parse_amount(s.as_str(), what)
}

/// A raw tax value (`"0.45454545"`, `"0.9"`, `""`), rounded half away from zero to the
/// currency's `dp`, as WooCommerce rounds a tax (`wc_round_tax_total`).
pub fn raw_tax(s: &crate::wire::Amount, dp: u32, what: &str) -> Result<Decimal, Reason> {
    let t = s.as_str();
    if t.is_empty() {
        return Ok(Decimal::ZERO);
    }
    let digits = t.strip_prefix('-').unwrap_or(t);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty()
        || !plain(int)
        || !plain(frac)
        || digits.ends_with('.')
        || frac.len() > MAX_RAW_SCALE as usize
        || int.len() > 16
    {
        return Err(format!("unparseable tax in {what}"));
    }
    let d = Decimal::from_str(t).map_err(|_| format!("unparseable tax in {what}"))?;
    if d.abs() > MAX_AMOUNT {
        return Err(format!("amount out of range in {what}"));
    }
    Ok(d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero))
}

/// A `*_gmt` date: UTC wall time without an offset (`2017-03-22T19:28:08`). An offset, when a
/// plugin adds one, is honoured.
pub fn gmt(s: Option<&str>, what: &str) -> Result<OffsetDateTime, Reason> {
    let s = s
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("missing {what}"))?;
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let naive = s.split('.').next().unwrap_or(s);
    match PrimitiveDateTime::parse(naive, fmt) {
        Ok(p) => Ok(p.assume_utc()),
        Err(_) => ordersync_sdk::mapping::parse_time(Some(s), what),
    }
}

/// `Some` when the date is present and readable; `None` for null/empty.
pub fn opt_gmt(s: Option<&str>) -> Option<OffsetDateTime> {
    gmt(s, "date").ok()
}

/// An integer quantity (`2`, or `-1` in a refund): anything else is refused.
pub fn quantity(n: Option<&serde_json::Number>, what: &str) -> Result<i64, Reason> {
    let n = n.ok_or_else(|| format!("{what} has no quantity"))?;
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    // `2.0` from a plugin is still two units; `1.5` is not a quantity this model has.
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e9 => Ok(f as i64),
        _ => Err(format!("{what} has a fractional or huge quantity")),
    }
}

/// Checked `a + b`.
pub fn add(a: Decimal, b: Decimal, what: &str) -> Result<Decimal, Reason> {
    a.checked_add(b)
        .ok_or_else(|| format!("amounts overflow in {what}"))
}

/// Checked `a − b`.
pub fn sub(a: Decimal, b: Decimal, what: &str) -> Result<Decimal, Reason> {
    a.checked_sub(b)
        .ok_or_else(|| format!("amounts overflow in {what}"))
}

/// Product names come HTML-escaped (`Ship Your Idea &ndash; Color: Black`): the common
/// entities become text.
pub fn html_text(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    const ENTITIES: &[(&str, &str)] = &[
        ("&amp;", "&"),
        ("&#038;", "&"),
        ("&ndash;", "\u{2013}"),
        ("&#8211;", "\u{2013}"),
        ("&mdash;", "\u{2014}"),
        ("&#8212;", "\u{2014}"),
        ("&quot;", "\""),
        ("&#039;", "'"),
        ("&#8217;", "\u{2019}"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&nbsp;", " "),
        ("&times;", "\u{d7}"),
    ];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    'scan: while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        for (e, t) in ENTITIES {
            if let Some(r) = rest.strip_prefix(e) {
                out.push_str(t);
                rest = r;
                continue 'scan;
            }
        }
        out.push('&');
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Amount;

    fn a(s: &str) -> Amount {
        Amount(s.into())
    }

    #[test]
    fn raw_taxes_round_half_away_from_zero() {
        assert_eq!(raw_tax(&a("0.45454545"), 2, "t"), Ok(Decimal::new(45, 2)));
        assert_eq!(raw_tax(&a("0.125"), 2, "t"), Ok(Decimal::new(13, 2)));
        assert_eq!(raw_tax(&a("-0.125"), 2, "t"), Ok(Decimal::new(-13, 2)));
        assert_eq!(raw_tax(&a("0.9"), 2, "t"), Ok(Decimal::new(9, 1)));
        assert_eq!(raw_tax(&a("136.3636"), 0, "t"), Ok(Decimal::new(136, 0)));
        assert_eq!(raw_tax(&a(""), 2, "t"), Ok(Decimal::ZERO));
        for bad in [
            "1e3",
            "abc",
            "1.",
            ".5",
            "0.1234567890123",
            "99999999999999999999",
        ] {
            assert!(raw_tax(&a(bad), 2, "t").is_err(), "{bad}");
        }
    }

    #[test]
    fn gmt_dates_are_utc() {
        let t = gmt(Some("2017-03-22T19:28:08"), "d").unwrap();
        assert_eq!(t.unix_timestamp(), 1_490_210_888);
        assert_eq!(gmt(Some("2017-03-22T19:28:08Z"), "d").unwrap(), t);
        assert!(
            gmt(None, "date_modified_gmt")
                .unwrap_err()
                .contains("missing")
        );
        assert!(gmt(Some("yesterday"), "d").is_err());
        assert!(opt_gmt(Some("")).is_none());
    }

    #[test]
    fn quantities_and_names() {
        let n = |s: &str| serde_json::from_str::<serde_json::Number>(s).unwrap();
        assert_eq!(quantity(Some(&n("2")), "l"), Ok(2));
        assert_eq!(quantity(Some(&n("-1")), "l"), Ok(-1));
        assert_eq!(quantity(Some(&n("3.0")), "l"), Ok(3));
        assert!(quantity(Some(&n("1.5")), "l").is_err());
        assert!(quantity(None, "l").is_err());
        assert_eq!(
            html_text("Ship Your Idea &ndash; Color: Black &amp; &bogus;"),
            "Ship Your Idea \u{2013} Color: Black & &bogus;"
        );
    }
}
