//! Parsing helpers every source mapper needs: amounts, rates, quantities, timestamps, names.
//! Each returns a PII-free [`Reason`] instead of panicking, so a hostile or corrupt payload
//! becomes a `Page.rejected` entry. Reasons name the field (`what`), never its value.

use rust_decimal::Decimal;
use std::str::FromStr;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Why an order could not be mapped (never contains PII).
pub type Reason = String;

/// Largest magnitude an amount may have (10^15). No platform sends more, and it keeps
/// `amount × u32::MAX` quantity far inside `Decimal`'s range (~7.9e28).
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(0xA4C6_8000, 0x38D7E, 0, false, 0);
/// Most decimal places an amount may carry once trailing zeros are dropped (ISO 4217 uses at
/// most 4 minor digits).
pub const MAX_AMOUNT_SCALE: u32 = 4;

/// Plain decimal text only (`-12.50`): `Decimal::from_str` also takes `1_000` and `1e3`,
/// which no platform sends for money and which would widen what a hostile payload can say.
fn decimal(s: &str) -> Option<Decimal> {
    let s = s.trim();
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !plain(int) || !plain(frac) || (digits.ends_with('.')) {
        return None;
    }
    Decimal::from_str(s).ok()
}

/// A platform's decimal amount string ("12.50"), never through `f64`; refused when
/// unparseable, beyond [`MAX_AMOUNT`] or finer than [`MAX_AMOUNT_SCALE`] places.
pub fn parse_amount(s: &str, what: &str) -> Result<Decimal, Reason> {
    let d = decimal(s)
        .ok_or_else(|| format!("unparseable amount in {what}"))?
        .normalize();
    if d.abs() > MAX_AMOUNT {
        return Err(format!("amount out of range in {what}"));
    }
    if d.scale() > MAX_AMOUNT_SCALE {
        return Err(format!("too many decimal places in {what}"));
    }
    Ok(d)
}

/// An optional amount; absent is zero.
pub fn parse_opt_amount(s: Option<&str>, what: &str) -> Result<Decimal, Reason> {
    s.map_or(Ok(Decimal::ZERO), |s| parse_amount(s, what))
}

/// An amount that must be in `expected` currency: another currency is a mismatch to refuse,
/// never something to convert.
pub fn parse_money(
    amount: &str,
    currency: &str,
    expected: &str,
    what: &str,
) -> Result<Decimal, Reason> {
    if currency != expected {
        return Err(format!("currency mismatch in {what}"));
    }
    parse_amount(amount, what)
}

/// A tax rate as a fraction ("0.0825"), from the number's own text. Unusable rates are
/// `None`: a rate is informative, the tax amount is what balances.
pub fn parse_rate(s: &str) -> Option<Decimal> {
    decimal(s).filter(|d| !d.is_sign_negative() && *d <= Decimal::ONE_HUNDRED)
}

/// Sums amounts with overflow checks.
pub fn checked_sum(
    amounts: impl IntoIterator<Item = Decimal>,
    what: &str,
) -> Result<Decimal, Reason> {
    amounts.into_iter().try_fold(Decimal::ZERO, |acc, a| {
        acc.checked_add(a)
            .ok_or_else(|| format!("amounts overflow in {what}"))
    })
}

/// Sums amounts that are each parsed (or refused) on the way: the first refusal or an
/// overflow is the reason. Saves every mapper a collect-then-sum.
pub fn sum_parsed(
    amounts: impl IntoIterator<Item = Result<Decimal, Reason>>,
    what: &str,
) -> Result<Decimal, Reason> {
    amounts.into_iter().try_fold(Decimal::ZERO, |acc, a| {
        acc.checked_add(a?)
            .ok_or_else(|| format!("amounts overflow in {what}"))
    })
}

/// A line quantity: present, not negative, within `u32`.
pub fn parse_quantity(q: Option<i64>, line: &str) -> Result<u32, Reason> {
    match q {
        None => Err(format!("line {line} has no quantity")),
        Some(q) if q < 0 => Err(format!("line {line} has a negative quantity")),
        Some(q) => u32::try_from(q).map_err(|_| format!("line {line} quantity out of range")),
    }
}

/// An RFC 3339 timestamp, moved to UTC. Refused when missing, unparseable, or when UTC falls
/// outside the representable years (`9999-12-31T23:00:00-05:00`).
pub fn parse_time(s: Option<&str>, what: &str) -> Result<OffsetDateTime, Reason> {
    let s = s.ok_or_else(|| format!("missing {what}"))?;
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .ok()
        .and_then(|t| t.checked_to_offset(UtcOffset::UTC))
        .ok_or_else(|| format!("unparseable {what}"))
}

/// `Some` trimmed-non-empty text, else `None`.
pub fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// "First Last" from the parts that are present and non-blank.
pub fn join_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let n = [first, last]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!n.is_empty()).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_bounded_and_exact() {
        assert_eq!(MAX_AMOUNT, Decimal::from(1_000_000_000_000_000i64));
        assert_eq!(parse_amount("12.50", "x"), Ok(Decimal::new(125, 1)));
        assert_eq!(parse_amount(" 0.10000 ", "x"), Ok(Decimal::new(1, 1)));
        assert_eq!(parse_amount("1000000000000000", "x"), Ok(MAX_AMOUNT));
        for (s, why) in [
            ("70000000000000000000000000000", "out of range"),
            ("1000000000000000.01", "out of range"),
            ("-1000000000000001", "out of range"),
            ("0.00001", "decimal places"),
            ("1e3", "unparseable"),
            ("1_000", "unparseable"),
            ("1.", "unparseable"),
            (".5", "unparseable"),
            ("+1", "unparseable"),
            ("", "unparseable"),
            ("12,50", "unparseable"),
            ("99999999999999999999999999999999", "unparseable"),
        ] {
            let e = parse_amount(s, "unit price").unwrap_err();
            assert!(e.contains(why) && e.ends_with("unit price"), "{s}: {e}");
        }
        assert_eq!(parse_opt_amount(None, "x"), Ok(Decimal::ZERO));
        assert!(
            parse_money("1.00", "EUR", "USD", "tax")
                .unwrap_err()
                .contains("currency mismatch")
        );
    }

    #[test]
    fn sums_and_quantities_are_checked() {
        let big = Decimal::MAX;
        assert!(
            checked_sum([big, Decimal::ONE], "lines")
                .unwrap_err()
                .contains("overflow")
        );
        assert_eq!(
            checked_sum([Decimal::ONE, Decimal::TWO], "lines"),
            Ok(Decimal::new(3, 0))
        );
        assert_eq!(
            sum_parsed([Ok(Decimal::ONE), Ok(Decimal::TWO)], "tax"),
            Ok(Decimal::new(3, 0))
        );
        assert_eq!(
            sum_parsed([Ok(Decimal::ONE), Err("bad".to_string())], "tax"),
            Err("bad".to_string())
        );
        assert!(
            sum_parsed([Ok(big), Ok(Decimal::ONE)], "tax")
                .unwrap_err()
                .contains("overflow in tax")
        );
        assert_eq!(parse_quantity(Some(2), "l"), Ok(2));
        assert!(parse_quantity(Some(-1), "l").is_err());
        assert!(parse_quantity(Some(i64::MAX), "l").is_err());
        assert!(parse_quantity(None, "l").is_err());
        assert_eq!(parse_rate("0.0825"), Some(Decimal::new(825, 4)));
        assert_eq!(parse_rate("-1"), None);
        assert_eq!(parse_rate("1e400"), None);
    }

    #[test]
    fn times_are_utc_and_never_panic() {
        let t = parse_time(Some("2026-03-01T10:00:00+02:00"), "createdAt").unwrap();
        assert_eq!((t.hour(), t.offset()), (8, UtcOffset::UTC));
        assert!(parse_time(Some("9999-12-30T00:00:00Z"), "createdAt").is_ok());
        // Year 10000 in UTC: refused, not a panic in `to_offset`.
        assert_eq!(
            parse_time(Some("9999-12-31T23:00:00-05:00"), "createdAt"),
            Err("unparseable createdAt".to_string())
        );
        assert_eq!(
            parse_time(None, "updatedAt"),
            Err("missing updatedAt".to_string())
        );
        assert!(parse_time(Some("yesterday"), "updatedAt").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(
            join_name(Some(" Ada "), Some("Lark")),
            Some("Ada Lark".into())
        );
        assert_eq!(join_name(None, Some("Lark")), Some("Lark".into()));
        assert_eq!(join_name(Some(" "), None), None);
        assert_eq!(non_empty(Some("  ".into())), None);
        assert_eq!(non_empty(Some("x".into())), Some("x".into()));
    }
}
