//! The canonical order. Money is `Decimal` in the order's ISO-4217 currency, never `f64`; all
//! times are UTC. The serialised form carries no PII (`pii` is skipped).

use crate::pii::Pii;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Open,
    Closed,
    Cancelled,
    /// A value this version does not know; kept so the order is not lost.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfillmentStatus {
    Unfulfilled,
    Partial,
    Fulfilled,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    pub external_line_id: String,
    pub sku: Option<String>,
    pub title: String,
    pub quantity: u32,
    /// Price of one unit before discounts and tax.
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
    /// Discount on the whole line.
    #[serde(with = "rust_decimal::serde::str")]
    pub discount: Decimal,
    /// Tax on the whole line.
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub tax_rate: Option<Decimal>,
}

impl LineItem {
    /// Unit price × quantity; `None` when it overflows `Decimal` (a hostile or corrupt price:
    /// `7e28 × 2` would panic with `*`).
    pub fn gross(&self) -> Option<Decimal> {
        self.unit_price.checked_mul(Decimal::from(self.quantity))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxLine {
    pub title: String,
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub rate: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// Order-level sums. `rounding` is the explicit line that makes
/// `subtotal + shipping − discounts + tax + rounding == total` hold to the cent when a
/// platform rounds differently from per-line sums.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    #[serde(with = "rust_decimal::serde::str")]
    pub subtotal: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub shipping: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub discounts: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub rounding: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Connection kind that produced it (`shopify`, ...).
    pub marketplace: String,
    /// The platform's id, as a string (Shopify ids exceed 2^53).
    pub external_id: String,
    pub order_number: String,
    pub status: OrderStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// ISO-4217, upper case.
    pub currency: String,
    pub lines: Vec<LineItem>,
    pub tax_lines: Vec<TaxLine>,
    pub totals: Totals,
    pub fulfillment_status: FulfillmentStatus,
    pub shipping_method: Option<String>,
    #[serde(skip)]
    pub pii: Pii,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotalsError {
    #[error("currency {0:?} is not an ISO-4217 code")]
    BadCurrency(String),
    #[error("line {0} has a negative amount")]
    NegativeAmount(String),
    #[error("totals differ by {0} (more than a rounding cent per line)")]
    Unbalanced(Decimal),
    #[error("amounts overflow in {0}")]
    Overflow(&'static str),
}

impl Order {
    /// Validates money and fills `totals.rounding` so the order balances exactly.
    /// A difference larger than one cent per line plus one is a mapping bug or a corrupt
    /// payload, not rounding, and is refused.
    pub fn balance(&mut self) -> Result<(), TotalsError> {
        if !money::is_currency(&self.currency) {
            return Err(TotalsError::BadCurrency(self.currency.clone()));
        }
        for l in &self.lines {
            if l.unit_price.is_sign_negative()
                || l.discount.is_sign_negative()
                || l.tax.is_sign_negative()
            {
                return Err(TotalsError::NegativeAmount(l.external_line_id.clone()));
            }
            // A sink multiplies these too; an order whose lines overflow must not reach one.
            l.gross().ok_or(TotalsError::Overflow("line items"))?;
        }
        let t = &self.totals;
        let diff = t
            .subtotal
            .checked_add(t.shipping)
            .and_then(|x| x.checked_sub(t.discounts))
            .and_then(|x| x.checked_add(t.tax))
            .and_then(|computed| t.total.checked_sub(computed))
            .ok_or(TotalsError::Overflow("totals"))?;
        let tolerance = Decimal::new(
            i64::try_from(self.lines.len()).unwrap_or(i64::MAX / 2) + 1,
            2,
        );
        if diff.abs() > tolerance {
            return Err(TotalsError::Unbalanced(diff));
        }
        self.totals.rounding = diff;
        Ok(())
    }
}

pub mod money {
    use rust_decimal::Decimal;
    use std::str::FromStr;

    /// Three ASCII upper-case letters (the shape of ISO-4217; the list changes yearly).
    pub fn is_currency(s: &str) -> bool {
        s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
    }

    /// Parses a platform's decimal string ("12.50"); never goes through f64.
    pub fn parse(s: &str) -> Option<Decimal> {
        Decimal::from_str(s.trim()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Order {
        Order {
            marketplace: "test".into(),
            external_id: "1".into(),
            order_number: "#1001".into(),
            status: OrderStatus::Open,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            currency: "EUR".into(),
            lines: vec![LineItem {
                external_line_id: "l1".into(),
                sku: Some("SKU".into()),
                title: "Widget".into(),
                quantity: 3,
                unit_price: Decimal::new(333, 2),
                discount: Decimal::ZERO,
                tax: Decimal::new(190, 2),
                tax_rate: Some(Decimal::new(19, 2)),
            }],
            tax_lines: vec![],
            totals: Totals {
                subtotal: Decimal::new(999, 2),
                shipping: Decimal::new(500, 2),
                discounts: Decimal::ZERO,
                tax: Decimal::new(190, 2),
                rounding: Decimal::ZERO,
                total: Decimal::new(1689, 2),
            },
            fulfillment_status: FulfillmentStatus::Unfulfilled,
            shipping_method: None,
            pii: Pii {
                email: Some("canary@customer.test".into()),
                ..Default::default()
            },
        }
    }

    #[test]
    fn balance_records_a_rounding_line() {
        let mut o = sample();
        o.totals.total = Decimal::new(1690, 2);
        o.balance().unwrap();
        assert_eq!(o.totals.rounding, Decimal::new(1, 2));
    }

    #[test]
    fn balance_refuses_big_differences_and_bad_input() {
        let mut o = sample();
        o.totals.total = Decimal::new(2000, 2);
        assert!(matches!(o.balance(), Err(TotalsError::Unbalanced(_))));
        let mut o = sample();
        o.currency = "euro".into();
        assert!(matches!(o.balance(), Err(TotalsError::BadCurrency(_))));
        let mut o = sample();
        o.lines[0].unit_price = Decimal::new(-1, 0);
        assert!(matches!(o.balance(), Err(TotalsError::NegativeAmount(_))));
    }

    #[test]
    fn balance_refuses_overflowing_amounts() {
        let huge = Decimal::from_str_exact("70000000000000000000000000000").unwrap();
        let mut o = sample();
        o.lines[0].unit_price = huge;
        o.lines[0].quantity = 2;
        assert_eq!(o.lines[0].gross(), None);
        assert_eq!(o.balance(), Err(TotalsError::Overflow("line items")));
        let mut o = sample();
        o.totals.subtotal = huge;
        o.totals.shipping = huge;
        assert_eq!(o.balance(), Err(TotalsError::Overflow("totals")));
        let mut o = sample();
        o.totals.total = -huge;
        o.totals.subtotal = huge;
        assert_eq!(o.balance(), Err(TotalsError::Overflow("totals")));
    }

    #[test]
    fn serialised_order_has_no_pii() {
        let s = serde_json::to_string(&sample()).unwrap();
        assert!(!s.contains("customer.test"));
        let back: Order = serde_json::from_str(&s).unwrap();
        assert!(back.pii.is_empty());
        assert_eq!(back.totals, sample().totals);
    }
}
