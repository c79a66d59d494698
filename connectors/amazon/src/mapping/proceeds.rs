//! An item's `proceeds.breakdowns`, sorted into what the canonical model needs.
//!
//! Categories (`ITEM`, `SHIPPING`, `GIFT_WRAP`, `COD_FEE`, `OTHER`, `TAX`, `DISCOUNT`) are
//! the item's figures for the units ordered. `TAX` and `DISCOUNT` say in their
//! `detailedBreakdowns` which charge they belong to; without details they belong to the item
//! itself. Discounts reduce proceeds and are read by magnitude whatever their sign (the spec
//! does not fix it); the order's totals, checked by `balance()`, prove the reading.

use crate::wire::{ItemProceedsBreakdown, Money};
use ordersync_sdk::Decimal;
use ordersync_sdk::mapping::{Reason, parse_money};

/// What a tax or discount falls on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Split {
    pub item: Decimal,
    pub shipping: Decimal,
    pub gift_wrap: Decimal,
    pub cod_fee: Decimal,
    pub other: Decimal,
    /// `TAX` details of subtype `DISCOUNT`: the tax a discount took off.
    pub discount: Decimal,
}

impl Split {
    fn slot(&mut self, subtype: &str) -> Option<&mut Decimal> {
        Some(match subtype {
            "ITEM" => &mut self.item,
            "SHIPPING" => &mut self.shipping,
            "GIFT_WRAP" => &mut self.gift_wrap,
            "COD_FEE" => &mut self.cod_fee,
            "OTHER" => &mut self.other,
            "DISCOUNT" => &mut self.discount,
            _ => return None,
        })
    }
}

/// One item's proceeds by category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Parts {
    pub item: Decimal,
    pub shipping: Decimal,
    pub gift_wrap: Decimal,
    pub cod_fee: Decimal,
    pub other: Decimal,
    pub tax: Split,
    pub discount: Split,
}

/// A money value in the order's currency.
pub fn money(m: Option<&Money>, currency: &str, what: &str) -> Result<Decimal, Reason> {
    let m = m.ok_or_else(|| format!("missing {what}"))?;
    match (&m.amount, &m.currency_code) {
        (Some(a), Some(c)) => parse_money(a, c, currency, what),
        _ => Err(format!("incomplete money in {what}")),
    }
}

/// An enum-like value of Amazon's (`GIFT_WRAP`, `ATVPDKIKX0DER`) for a rejection reason;
/// anything else is not echoed at all (it could be data).
pub fn shown(s: &str) -> String {
    if !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    {
        s.to_string()
    } else {
        "(unrecognised)".to_string()
    }
}

fn add(to: &mut Decimal, v: Decimal, what: &str) -> Result<(), Reason> {
    *to = to
        .checked_add(v)
        .ok_or_else(|| format!("amounts overflow in {what}"))?;
    Ok(())
}

/// Sorts the breakdowns of item `line` (its id, for reasons).
pub fn parts(
    breakdowns: &[ItemProceedsBreakdown],
    currency: &str,
    line: &str,
) -> Result<Parts, Reason> {
    let mut p = Parts::default();
    for b in breakdowns {
        let kind = b.kind.as_deref().unwrap_or("");
        let what = format!("item {line} {} proceeds", shown(kind));
        let v = money(b.subtotal.as_ref(), currency, &what)?;
        match kind {
            "ITEM" => add(&mut p.item, v, &what)?,
            "SHIPPING" => add(&mut p.shipping, v, &what)?,
            "GIFT_WRAP" => add(&mut p.gift_wrap, v, &what)?,
            "COD_FEE" => add(&mut p.cod_fee, v, &what)?,
            "OTHER" => add(&mut p.other, v, &what)?,
            "TAX" => split(&mut p.tax, b, v, currency, &what, false)?,
            "DISCOUNT" => split(&mut p.discount, b, v.abs(), currency, &what, true)?,
            _ => {
                return Err(format!(
                    "item {line} has unknown proceeds type {:?}",
                    shown(kind)
                ));
            }
        }
    }
    Ok(p)
}

/// Spreads a `TAX` or `DISCOUNT` subtotal over the charges its details name; the details
/// must add up to it.
fn split(
    to: &mut Split,
    b: &ItemProceedsBreakdown,
    subtotal: Decimal,
    currency: &str,
    what: &str,
    magnitude: bool,
) -> Result<(), Reason> {
    let details = b.detailed_breakdowns.as_deref().unwrap_or_default();
    if details.is_empty() {
        return add(&mut to.item, subtotal, what);
    }
    let mut sum = Decimal::ZERO;
    for d in details {
        let sub = d.subtype.as_deref().unwrap_or("");
        let mut v = money(d.value.as_ref(), currency, what)?;
        if magnitude {
            v = v.abs();
        }
        let slot = to
            .slot(sub)
            .filter(|_| !(magnitude && sub == "DISCOUNT"))
            .ok_or_else(|| format!("{what}: unknown detail subtype {:?}", shown(sub)))?;
        add(slot, v, what)?;
        add(&mut sum, v, what)?;
    }
    if sum != subtotal {
        return Err(format!("{what}: details do not add up to the subtotal"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bd(v: serde_json::Value) -> Vec<ItemProceedsBreakdown> {
        serde_json::from_value(v).unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn categories_details_and_discount_signs() {
        let b = bd(json!([
            {"type":"ITEM","subtotal":{"amount":"20.00","currencyCode":"USD"}},
            {"type":"SHIPPING","subtotal":{"amount":"4.99","currencyCode":"USD"}},
            {"type":"DISCOUNT","subtotal":{"amount":"-6.99","currencyCode":"USD"},
             "detailedBreakdowns":[{"subtype":"ITEM","value":{"amount":"-2.00","currencyCode":"USD"}},
                                   {"subtype":"SHIPPING","value":{"amount":"-4.99","currencyCode":"USD"}}]},
            {"type":"TAX","subtotal":{"amount":"1.62","currencyCode":"USD"}}
        ]));
        let p = parts(&b, "USD", "1").unwrap();
        assert_eq!(
            (
                p.item,
                p.shipping,
                p.discount.item,
                p.discount.shipping,
                p.tax.item
            ),
            (d("20"), d("4.99"), d("2"), d("4.99"), d("1.62"))
        );
    }

    #[test]
    fn refusals_name_the_problem_not_the_data() {
        let wrong_currency =
            bd(json!([{"type":"ITEM","subtotal":{"amount":"1","currencyCode":"EUR"}}]));
        assert!(
            parts(&wrong_currency, "USD", "7")
                .unwrap_err()
                .contains("currency mismatch")
        );
        let unknown =
            bd(json!([{"type":"CANARY<x>","subtotal":{"amount":"1","currencyCode":"USD"}}]));
        assert!(
            parts(&unknown, "USD", "7")
                .unwrap_err()
                .ends_with("unknown proceeds type \"(unrecognised)\"")
        );
        let short = bd(
            json!([{"type":"TAX","subtotal":{"amount":"1.00","currencyCode":"USD"},
            "detailedBreakdowns":[{"subtype":"ITEM","value":{"amount":"0.90","currencyCode":"USD"}}]}]),
        );
        assert!(
            parts(&short, "USD", "7")
                .unwrap_err()
                .contains("do not add up")
        );
        let missing = bd(json!([{"type":"ITEM"}]));
        assert!(parts(&missing, "USD", "7").unwrap_err().contains("missing"));
    }
}
