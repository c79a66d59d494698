//! The canonical order. Money is `Decimal` in the order's ISO-4217 currency, never `f64`; all
//! times are UTC. The serialised form carries no PII (`pii` is skipped). What each amount
//! means is in [`crate::money`] and `docs/money.md`; [`Order::balance`] proves it adds up.

use crate::money::{
    Basis, CashRounding, CurrentTotals, DiscountAllocation, DiscountApplication, Fee, Presentment,
    Refund, ShippingLine, TaxLine, Tolerance, Totals, combined_rate, discount_of, net_gross,
    tax_of,
};
use crate::pii::{Pii, Redacted};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use crate::balance::TotalsError;

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

/// Where the buyer's money stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinancialStatus {
    Pending,
    Authorized,
    PartiallyPaid,
    #[default]
    Paid,
    PartiallyRefunded,
    Refunded,
    Voided,
    Expired,
    /// A value this version does not know.
    Unknown,
}

/// What a line sells. Only `Product` and `Custom` lines are goods: a tip is income that is
/// not revenue, a gift card is a liability until redeemed, and neither is shipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    #[default]
    Product,
    GiftCard,
    Tip,
    /// A custom item without a product (typed in by staff).
    Custom,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    pub external_line_id: String,
    pub sku: Option<String>,
    pub title: String,
    #[serde(default)]
    pub kind: LineKind,
    /// Units ordered, including refunded and removed ones.
    pub quantity: u32,
    /// Units still on the order: without refunded and removed ones.
    pub current_quantity: u32,
    /// Price of one unit before discounts, in the order's basis.
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
    pub requires_shipping: bool,
    pub taxable: bool,
    /// Discounts on the line's `quantity` units.
    #[serde(default)]
    pub discounts: Vec<DiscountAllocation>,
    /// Taxes on the line's `quantity` units, after discounts.
    #[serde(default)]
    pub tax_lines: Vec<TaxLine>,
}

impl LineItem {
    /// Unit price × quantity; `None` when it overflows `Decimal` (a hostile or corrupt price:
    /// `7e28 × 2` would panic with `*`).
    pub fn gross(&self) -> Option<Decimal> {
        self.unit_price.checked_mul(Decimal::from(self.quantity))
    }
    /// Σ discount allocations.
    pub fn discount(&self) -> Option<Decimal> {
        discount_of(&self.discounts)
    }
    /// Σ tax lines.
    pub fn tax(&self) -> Option<Decimal> {
        tax_of(&self.tax_lines)
    }
    /// Combined rate of the line's taxes, a fraction.
    pub fn tax_rate(&self) -> Option<Decimal> {
        combined_rate(&self.tax_lines)
    }
    /// Gross − discounts, in the basis.
    pub fn discounted(&self) -> Option<Decimal> {
        self.gross()?.checked_sub(self.discount()?)
    }
    /// (net, gross) of the whole line after discounts: without and with its tax.
    pub fn net_gross(&self, basis: Basis) -> Option<(Decimal, Decimal)> {
        net_gross(basis, self.discounted()?, self.tax()?)
    }
    /// Goods to ship: not a tip or gift card, and the product needs shipping.
    pub fn ships(&self) -> bool {
        self.requires_shipping && matches!(self.kind, LineKind::Product | LineKind::Custom)
    }
    /// One unit's price after discounts, in the basis, rounded half-even to `dp` places
    /// (for targets that take a unit price: the exact figures are the line's).
    pub fn discounted_unit(&self, dp: u32) -> Option<Decimal> {
        if self.quantity == 0 {
            return Some(Decimal::ZERO);
        }
        Some(
            self.discounted()?
                .checked_div(Decimal::from(self.quantity))?
                .round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven),
        )
    }
    /// The tax of the units still on the order (`tax × current / quantity`), rounded to `dp`.
    pub fn current_tax(&self, dp: u32) -> Option<Decimal> {
        if self.quantity == 0 || self.current_quantity == self.quantity {
            return self.tax();
        }
        Some(
            self.tax()?
                .checked_mul(Decimal::from(self.current_quantity))?
                .checked_div(Decimal::from(self.quantity))?
                .round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven),
        )
    }
}

/// A parcel the marketplace knows was sent: what a tracking target (AfterShip) follows. Tracking
/// numbers and carriers are not PII; the recipient is in [`Pii`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fulfillment {
    pub tracking_number: String,
    /// The carrier as the marketplace names it (`UPS`, `Royal Mail`, `usps`): a tracking
    /// target maps it to its own courier code.
    #[serde(default)]
    pub carrier: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub shipped_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Connection kind that produced it (`shopify`, ...).
    pub marketplace: String,
    /// The platform's id, as a string (Shopify ids exceed 2^53).
    pub external_id: String,
    pub order_number: String,
    pub status: OrderStatus,
    #[serde(default)]
    pub financial_status: FinancialStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// ISO-4217, upper case: the shop's currency, which every amount is in.
    pub currency: String,
    /// The basis: prices contain their tax (`true`) or tax comes on top.
    pub taxes_included: bool,
    /// The buyer is exempt: no tax at all.
    #[serde(default)]
    pub tax_exempt: bool,
    /// The buyer's currency when it is not the shop's.
    #[serde(default)]
    pub presentment: Option<Presentment>,
    pub lines: Vec<LineItem>,
    #[serde(default)]
    pub shipping_lines: Vec<ShippingLine>,
    #[serde(default)]
    pub fees: Vec<Fee>,
    #[serde(default)]
    pub discount_applications: Vec<DiscountApplication>,
    #[serde(default)]
    pub refunds: Vec<Refund>,
    /// The order's taxes summed by title and rate (information; the lines carry the detail).
    pub tax_lines: Vec<TaxLine>,
    /// As placed (before returns).
    pub totals: Totals,
    /// Now (after refunds, removals, edits).
    pub current: CurrentTotals,
    #[serde(default)]
    pub cash_rounding: CashRounding,
    /// The connector's tolerance for its platform's totals.
    #[serde(default)]
    pub tolerance: Tolerance,
    pub fulfillment_status: FulfillmentStatus,
    /// Parcels already sent, with their tracking numbers (empty when the platform does not say).
    #[serde(default)]
    pub fulfillments: Vec<Fulfillment>,
    /// Title of the first shipping line.
    pub shipping_method: Option<String>,
    #[serde(skip)]
    pub pii: Pii,
    /// The buyer's account name on the marketplace (eBay's `username`), when the platform's
    /// privacy notices name buyers by it. Never stored: only its blind index is, so that such
    /// a notice finds the buyer's orders.
    #[serde(skip)]
    pub buyer_account: Option<Redacted<String>>,
}

impl Order {
    pub fn basis(&self) -> Basis {
        if self.taxes_included {
            Basis::Inclusive
        } else {
            Basis::Exclusive
        }
    }

    /// What the buyer paid for the order as placed: the total plus the cash-rounding
    /// adjustment.
    pub fn paid(&self) -> Option<Decimal> {
        self.totals.total.checked_add(self.cash_rounding.payment)
    }

    /// Σ refund totals.
    pub fn refunded(&self) -> Option<Decimal> {
        crate::money::sum(self.refunds.iter().map(|r| &r.total))
    }

    /// Lines with units left to ship (goods, current quantity > 0).
    pub fn lines_to_ship(&self) -> impl Iterator<Item = &LineItem> {
        self.lines
            .iter()
            .filter(|l| l.ships() && l.current_quantity > 0)
    }

    /// Sums the taxes of lines, shipping lines and fees by (title, rate, collector), in
    /// first-seen order: the order-level summary a mapper fills `tax_lines` with when the
    /// platform does not send one.
    pub fn summarise_taxes(&self) -> Option<Vec<TaxLine>> {
        let mut out: Vec<TaxLine> = Vec::new();
        let all = self
            .lines
            .iter()
            .flat_map(|l| &l.tax_lines)
            .chain(self.shipping_lines.iter().flat_map(|s| &s.tax_lines))
            .chain(self.fees.iter().flat_map(|f| &f.tax_lines));
        for t in all {
            match out
                .iter_mut()
                .find(|o| o.title == t.title && o.rate == t.rate && o.collector == t.collector)
            {
                Some(o) => o.amount = o.amount.checked_add(t.amount)?,
                None => out.push(t.clone()),
            }
        }
        Some(out)
    }
}
