//! eBay `Amount`s read in the order's currency: a value in another currency is refused, never
//! converted; the buyer's currency is only in `convertedFrom*`.

use crate::wire::Amount;
use ordersync_sdk::Decimal;
use ordersync_sdk::mapping::{Reason, parse_amount, parse_money};

/// A required amount in `currency`.
pub fn req(a: Option<&Amount>, currency: &str, what: &str) -> Result<Decimal, Reason> {
    let a = a.ok_or_else(|| format!("missing {what}"))?;
    let value = a
        .value
        .as_deref()
        .ok_or_else(|| format!("missing {what}"))?;
    let cur = a.currency.as_deref().unwrap_or(currency);
    parse_money(value, cur, currency, what)
}

/// An optional amount in `currency`; absent is zero.
pub fn opt(a: Option<&Amount>, currency: &str, what: &str) -> Result<Decimal, Reason> {
    match a {
        Some(a) if a.value.is_some() => req(Some(a), currency, what),
        _ => Ok(Decimal::ZERO),
    }
}

/// An amount eBay documents as negative (`priceDiscount`, `deliveryDiscount`), as the
/// positive size of the discount. A positive value is refused: it would add to the total.
pub fn negative(a: Option<&Amount>, currency: &str, what: &str) -> Result<Decimal, Reason> {
    let v = opt(a, currency, what)?;
    if v.is_sign_positive() && !v.is_zero() {
        return Err(format!(
            "{what} is positive (eBay sends discounts as negative amounts)"
        ));
    }
    Ok(if v.is_zero() { Decimal::ZERO } else { -v })
}

/// The buyer-currency side of an amount: `(currency, value)` when eBay converted it.
pub fn converted(a: Option<&Amount>, what: &str) -> Result<Option<(String, Decimal)>, Reason> {
    let Some(a) = a else { return Ok(None) };
    match (&a.converted_from_currency, &a.converted_from_value) {
        (Some(c), Some(v)) => {
            if !ordersync_sdk::money::is_currency(c) {
                return Err(format!("unknown buyer currency in {what}"));
            }
            Ok(Some((c.clone(), parse_amount(v, what)?)))
        }
        _ => Ok(None),
    }
}
