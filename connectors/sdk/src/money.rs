//! Money building blocks of the canonical order (see `docs/money.md`): currencies and their
//! minor units, tax lines, discounts, shipping lines, fees, refunds and the two sets of totals.
//!
//! Every amount is a `Decimal` in the order's (shop) currency, never `f64`, with no more
//! decimals than the currency has. Amounts are in the order's **basis**: with
//! `taxes_included` a price contains its tax, without it tax comes on top. Rates are
//! fractions (`0.20` is 20 %), everywhere.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use time::OffsetDateTime;

/// Three ASCII upper-case letters (the shape of ISO-4217; the list changes yearly).
pub fn is_currency(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// Decimal places of a currency's minor unit (ISO-4217): 0 for JPY, 3 for KWD, 2 for most.
/// A few lines instead of a crate: the exceptions to 2 change rarely and are listed here.
pub fn minor_units(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// One minor unit of `currency` (0.01 for EUR, 1 for JPY, 0.001 for KWD).
pub fn minor_unit(currency: &str) -> Decimal {
    Decimal::new(1, minor_units(currency))
}

/// Parses a platform's decimal string ("12.50"); never goes through f64.
pub fn parse(s: &str) -> Option<Decimal> {
    Decimal::from_str(s.trim()).ok()
}

/// Whether the order's prices contain their tax. Derived from `Order::taxes_included`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Prices are net; tax is added on top (US, CA).
    Exclusive,
    /// Prices contain their tax (EU, UK, AU): the total does not add tax again.
    Inclusive,
}

/// Who owes a tax line to the tax authority.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collector {
    /// The merchant remits it (the default when a platform does not say).
    #[default]
    Merchant,
    /// The marketplace collects and remits it (marketplace-facilitator laws, Shopify's
    /// `channelLiable`): the merchant books it but does not owe it.
    Marketplace,
}

/// One tax on a line, shipping line or fee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxLine {
    pub title: String,
    /// A fraction: 0.04 is 4 %. `None` when the platform does not say (the amount is what
    /// balances; a rate is information).
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub rate: Option<Decimal>,
    /// The tax of the whole line (all its units, after discounts).
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    #[serde(default)]
    pub collector: Collector,
}

/// The part of a discount application that falls on one line or shipping line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscountAllocation {
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// Index into `Order::discount_applications`, when the platform links it.
    #[serde(default)]
    pub application: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountKind {
    /// A code the buyer typed.
    Code,
    /// An automatic discount.
    Automatic,
    /// Added by staff.
    Manual,
    /// A script or app discount.
    Script,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountTarget {
    Line,
    Shipping,
}

/// How a discount application's value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "method", content = "value")]
pub enum DiscountValue {
    /// A fraction of the target's price (0.10 is 10 % off).
    #[serde(with = "rust_decimal::serde::str")]
    Percentage(Decimal),
    /// A fixed amount in the order's currency.
    #[serde(with = "rust_decimal::serde::str")]
    FixedAmount(Decimal),
}

/// How the value is spread over the targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllocationMethod {
    /// Split across all targets (an order-level code: 3.34 / 3.33 / 3.33).
    Across,
    /// Applied to each target in full.
    Each,
    /// Applied to one target.
    One,
}

/// A discount as the buyer saw it (its allocations are on the lines and shipping lines).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscountApplication {
    pub index: u32,
    pub kind: DiscountKind,
    /// The code typed (for `Code`); not PII, a merchant's marketing string.
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    pub target: DiscountTarget,
    #[serde(flatten)]
    pub value: DiscountValue,
    pub allocation: AllocationMethod,
}

/// A shipping charge. `price` is before discounts, in the order's basis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShippingLine {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    pub price: Decimal,
    #[serde(default)]
    pub discounts: Vec<DiscountAllocation>,
    #[serde(default)]
    pub tax_lines: Vec<TaxLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeKind {
    /// Import duties charged at checkout.
    Duty,
    /// A platform's additional fee (a surcharge, a levy).
    AdditionalFee,
    /// A tip, where the platform reports it apart from the lines (Shopify sends tips as
    /// lines of kind `Tip`).
    Tip,
}

/// A charge that is neither goods nor shipping. `amount` is in the order's basis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fee {
    pub kind: FeeKind,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    #[serde(default)]
    pub tax_lines: Vec<TaxLine>,
}

/// Units of one line given back in a refund.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundLine {
    /// `LineItem::external_line_id` of the refunded line.
    pub line_id: String,
    pub quantity: u32,
    /// Whether the units went back to stock.
    #[serde(default)]
    pub restock: bool,
    /// Refunded price of these units after discounts, in the order's basis.
    #[serde(with = "rust_decimal::serde::str")]
    pub subtotal: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
}

/// A non-line refund amount: a goodwill refund, a refund discrepancy, a restocking fee
/// (negative).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundAdjustment {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
}

/// Money given back after the order was placed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    pub external_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(default)]
    pub lines: Vec<RefundLine>,
    /// Refunded shipping, in the order's basis, and its tax.
    #[serde(with = "rust_decimal::serde::str", default)]
    pub shipping: Decimal,
    #[serde(with = "rust_decimal::serde::str", default)]
    pub shipping_tax: Decimal,
    #[serde(with = "rust_decimal::serde::str", default)]
    pub duties: Decimal,
    #[serde(default)]
    pub adjustments: Vec<RefundAdjustment>,
    /// What went back to the buyer across the refund's transactions.
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
}

/// The order as placed (after edits, before returns). With the basis's formula:
///
/// - exclusive: `subtotal − discounts + shipping + fees + tax + rounding = total`
/// - inclusive: `subtotal − discounts + shipping + fees + rounding = total` (tax is inside)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Σ unit price × quantity of every line, before discounts.
    #[serde(with = "rust_decimal::serde::str")]
    pub subtotal: Decimal,
    /// Every discount: line allocations + shipping allocations.
    #[serde(with = "rust_decimal::serde::str")]
    pub discounts: Decimal,
    /// Σ shipping line prices before their discounts.
    #[serde(with = "rust_decimal::serde::str")]
    pub shipping: Decimal,
    /// Σ fees (duties, additional fees, tips reported apart).
    #[serde(with = "rust_decimal::serde::str", default)]
    pub fees: Decimal,
    /// Every tax: lines + shipping + fees. Inside the other amounts when inclusive.
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
    /// What the platform's total differs from the formula by, within the connector's
    /// declared tolerance (always 0 for platforms whose totals are exact, like Shopify).
    /// Not a cash-rounding adjustment (that is `Order::cash_rounding`).
    #[serde(with = "rust_decimal::serde::str")]
    pub rounding: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
}

/// The order now: after refunds, removals and edits. Amounts are after discounts:
///
/// - exclusive: `subtotal + shipping + fees + tax = total`
/// - inclusive: `subtotal + shipping + fees = total`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CurrentTotals {
    /// Lines at their current quantities, after discounts.
    #[serde(with = "rust_decimal::serde::str")]
    pub subtotal: Decimal,
    /// Discounts still applied (information; already taken off `subtotal` and `shipping`).
    #[serde(with = "rust_decimal::serde::str")]
    pub discounts: Decimal,
    /// Shipping after discounts and shipping refunds.
    #[serde(with = "rust_decimal::serde::str")]
    pub shipping: Decimal,
    #[serde(with = "rust_decimal::serde::str", default)]
    pub fees: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
}

/// The buyer's currency when it differs from the shop's (Shopify Markets, eBay's
/// international sites). Only totals are kept: accounting posts in the shop currency and
/// records what the buyer paid and the rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Presentment {
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub current_total: Decimal,
    /// Presentment units per shop unit (`total / Totals::total`), rounded to 6 places.
    #[serde(with = "rust_decimal::serde::str_option", default)]
    pub rate: Option<Decimal>,
}

/// The cash-rounding adjustment of payments and refunds (CHF, where cash is rounded to 0.05):
/// what the buyer paid is `total + payment`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CashRounding {
    #[serde(with = "rust_decimal::serde::str")]
    pub payment: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub refund: Decimal,
}

/// How far a platform's own totals may differ from the sums of its parts, in minor units of
/// the order's currency: `per_order + per_line × lines`. Set by each connector: `EXACT` where
/// the platform's totals add up (Shopify), more where it rounds per unit (Amazon).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tolerance {
    pub per_order: u32,
    pub per_line: u32,
}

impl Tolerance {
    pub const EXACT: Tolerance = Tolerance {
        per_order: 0,
        per_line: 0,
    };
}

/// Sums with overflow checks (`None` on overflow).
pub fn sum<'a>(amounts: impl IntoIterator<Item = &'a Decimal>) -> Option<Decimal> {
    amounts
        .into_iter()
        .try_fold(Decimal::ZERO, |acc, a| acc.checked_add(*a))
}

/// Σ of tax lines.
pub fn tax_of(lines: &[TaxLine]) -> Option<Decimal> {
    sum(lines.iter().map(|t| &t.amount))
}

/// Σ of discount allocations.
pub fn discount_of(allocs: &[DiscountAllocation]) -> Option<Decimal> {
    sum(allocs.iter().map(|d| &d.amount))
}

/// The combined rate of several tax lines (NYC: 0.04 + 0.045 + 0.00375 = 0.08875); `None`
/// when there are none or one has no rate.
pub fn combined_rate(lines: &[TaxLine]) -> Option<Decimal> {
    if lines.is_empty() {
        return None;
    }
    lines
        .iter()
        .try_fold(Decimal::ZERO, |acc, t| acc.checked_add(t.rate?))
}

/// A refunded amount's tax split as (merchant's, marketplace's) after the taxes of the line it
/// refunds: all of it to the one collector the line has (the merchant's when it has none).
/// `None` when the line has taxes of both: a split would mean recomputing from rates.
pub fn refund_tax_split(lines: &[TaxLine], tax: Decimal) -> Option<(Decimal, Decimal)> {
    let taxed = |c: Collector| {
        lines
            .iter()
            .any(|t| t.collector == c && !t.amount.is_zero())
    };
    match (taxed(Collector::Merchant), taxed(Collector::Marketplace)) {
        (true, true) => None,
        (false, true) => Some((Decimal::ZERO, tax)),
        _ => Some((tax, Decimal::ZERO)),
    }
}

/// Net (tax excluded) and gross (tax included) of an amount after discounts, whatever the
/// basis: `after_discounts` is in the basis, `tax` is the tax on it.
pub fn net_gross(
    basis: Basis,
    after_discounts: Decimal,
    tax: Decimal,
) -> Option<(Decimal, Decimal)> {
    match basis {
        Basis::Exclusive => Some((after_discounts, after_discounts.checked_add(tax)?)),
        Basis::Inclusive => Some((after_discounts.checked_sub(tax)?, after_discounts)),
    }
}

impl ShippingLine {
    pub fn discount(&self) -> Option<Decimal> {
        discount_of(&self.discounts)
    }
    pub fn tax(&self) -> Option<Decimal> {
        tax_of(&self.tax_lines)
    }
    /// Price after its discounts, in the basis.
    pub fn discounted(&self) -> Option<Decimal> {
        self.price.checked_sub(self.discount()?)
    }
    /// (net, gross) after discounts.
    pub fn net_gross(&self, basis: Basis) -> Option<(Decimal, Decimal)> {
        net_gross(basis, self.discounted()?, self.tax()?)
    }
}

impl Fee {
    pub fn tax(&self) -> Option<Decimal> {
        tax_of(&self.tax_lines)
    }
    pub fn net_gross(&self, basis: Basis) -> Option<(Decimal, Decimal)> {
        net_gross(basis, self.amount, self.tax()?)
    }
}

impl Refund {
    /// Σ refunded units of one line.
    pub fn quantity_of(&self, line_id: &str) -> u64 {
        self.lines
            .iter()
            .filter(|l| l.line_id == line_id)
            .map(|l| u64::from(l.quantity))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_of_odd_currencies() {
        assert_eq!(minor_units("JPY"), 0);
        assert_eq!(minor_units("KWD"), 3);
        assert_eq!(minor_units("EUR"), 2);
        assert_eq!(minor_unit("KWD"), Decimal::new(1, 3));
    }

    #[test]
    fn combined_rates_and_basis() {
        let t = |r: i64, s: u32| TaxLine {
            title: "t".into(),
            rate: Some(Decimal::new(r, s)),
            amount: Decimal::ONE,
            collector: Collector::Merchant,
        };
        let nyc = [t(4, 2), t(45, 3), t(375, 5)];
        assert_eq!(combined_rate(&nyc), Some(Decimal::new(8875, 5)));
        assert_eq!(combined_rate(&[]), None);
        let (n, g) = net_gross(
            Basis::Inclusive,
            Decimal::new(2400, 2),
            Decimal::new(400, 2),
        )
        .unwrap();
        assert_eq!((n, g), (Decimal::new(2000, 2), Decimal::new(2400, 2)));
        let (n, g) = net_gross(
            Basis::Exclusive,
            Decimal::new(2000, 2),
            Decimal::new(400, 2),
        )
        .unwrap();
        assert_eq!((n, g), (Decimal::new(2000, 2), Decimal::new(2400, 2)));
    }

    #[test]
    fn refund_tax_goes_to_the_lines_collector() {
        let t = |c: Collector, a: i64| TaxLine {
            title: "t".into(),
            rate: None,
            amount: Decimal::new(a, 2),
            collector: c,
        };
        let tax = Decimal::new(577, 2);
        let (m, k) = (Collector::Merchant, Collector::Marketplace);
        assert_eq!(
            refund_tax_split(&[t(m, 577)], tax),
            Some((tax, Decimal::ZERO))
        );
        assert_eq!(
            refund_tax_split(&[t(k, 577)], tax),
            Some((Decimal::ZERO, tax))
        );
        // A zero merchant line does not make it mixed; no tax lines: the merchant's.
        assert_eq!(
            refund_tax_split(&[t(m, 0), t(k, 577)], tax),
            Some((Decimal::ZERO, tax))
        );
        assert_eq!(refund_tax_split(&[], tax), Some((tax, Decimal::ZERO)));
        assert_eq!(refund_tax_split(&[t(m, 100), t(k, 477)], tax), None);
    }
}
