//! A simulated Shopify order and its money, as the platform stores it: amounts in minor units
//! of the order's currency, built bottom-up by `build.rs` (lines → discount allocations → tax
//! lines → shipping → fees → refunds) and summed here. Nothing is solved backwards.
//!
//! One simulated shop carries orders in several shop currencies and tax regimes: a deliberate
//! simplification so one demo connection exercises every case. Each order on its own is
//! self-consistent as Shopify would build it in a shop of that currency.

use super::money::{Amt, convert};
use ordersync_sdk::money::minor_units;
use ordersync_sdk::sim::FakeBuyer;

/// Most line items one simulated order may have.
pub const MAX_LINES: u64 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fulfillment {
    Unfulfilled,
    Partial,
    Fulfilled,
}

/// A defect `/_sim/poison` plants in an order's rendering, to prove one bad order cannot stop
/// a worker (the store keeps sane values; only the wire shape is poisoned).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Poison {
    /// No total price: the mapper must reject the order.
    Unmappable,
    /// The first line's unit price is [`HUGE_PRICE`] with quantity 2, which overflows
    /// `rust_decimal` when multiplied.
    HugePrice,
    /// `createdAt`/`processedAt` are [`FAR_DATE`]: valid RFC 3339, but date arithmetic on it
    /// (a retention window) overflows.
    FarDate,
}

/// 7e28, close to `rust_decimal`'s maximum (~7.9e28).
pub const HUGE_PRICE: &str = "70000000000000000000000000000";
pub const FAR_DATE: &str = "9999-12-30T00:00:00Z";

/// One tax of a tax regime: a title and a rate in 10⁻⁵ (see `money.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxRate {
    pub title: &'static str,
    pub rate: i64,
}

/// How an order's money is made: its shop currency, whether prices include tax, the taxes
/// of its destination, the buyer's currency, and cash rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    pub currency: &'static str,
    pub taxes_included: bool,
    pub rates: &'static [TaxRate],
    /// Whether shipping is taxed (at the same rates as the goods).
    pub ship_taxed: bool,
    /// The buyer's currency and the rate (presentment units per shop unit, in millionths).
    pub presentment: Option<(&'static str, i64)>,
    /// Payments are rounded to this many minor units (CHF cash: 5).
    pub cash_step: Option<i64>,
    /// Minor units of this currency worth one US dollar of the mix's price ranges (USD 100,
    /// JPY 150, KWD 300), and the step prices are rounded to (yen prices end in 0).
    pub major: i64,
    pub price_step: i64,
}

impl Profile {
    pub fn dp(&self) -> u32 {
        minor_units(self.currency)
    }
    pub fn presentment_currency(&self) -> &'static str {
        self.presentment.map_or(self.currency, |p| p.0)
    }
    /// An amount of the shop currency.
    pub fn amt(&self, minor: i64) -> Amt {
        Amt {
            minor,
            dp: self.dp(),
        }
    }
    /// The same amount in the buyer's currency (itself when the buyer pays in the shop's).
    pub fn present(&self, minor: i64) -> Amt {
        match self.presentment {
            None => self.amt(minor),
            Some((cur, fx)) => {
                let pdp = minor_units(cur);
                Amt {
                    minor: convert(minor, fx, self.dp(), pdp),
                    dp: pdp,
                }
            }
        }
    }
}

/// What a line sells (Shopify has no such field: it shows as `isGiftCard`, `product: null`
/// and the "Tip" title).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Product,
    /// A custom item typed in by staff: no product.
    Custom,
    Tip,
    GiftCard,
}

/// One tax line of a line, shipping line or fee: the whole line's tax after discounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tax {
    pub title: &'static str,
    pub rate: i64,
    pub amount: i64,
    /// `channelLiable`: `None` (unknown, Shopify's usual), or `Some(true)` when a
    /// marketplace remits it.
    pub channel_liable: Option<bool>,
}

/// The part of discount application `app` (its index) on a line or shipping line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alloc {
    pub app: u32,
    pub amount: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscountKind {
    Code,
    Automatic,
    Manual,
    Script,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscountValue {
    /// Basis points: 10 % = 1 000 (Shopify's `PricingPercentageValue.percentage` is 10.0).
    Percentage(i64),
    /// Minor units of the shop currency (`MoneyV2`).
    Fixed(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocation {
    Across,
    Each,
    One,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetSelection {
    All,
    Entitled,
    Explicit,
}

/// A discount application as the buyer saw it; its amounts are the allocations on lines
/// and shipping lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimDiscount {
    pub index: u32,
    pub kind: DiscountKind,
    /// The code for `Code`, the title otherwise.
    pub label: &'static str,
    /// `SHIPPING_LINE` when true, `LINE_ITEM` otherwise.
    pub shipping: bool,
    pub value: DiscountValue,
    pub allocation: Allocation,
    pub selection: TargetSelection,
}

/// Units of a line taken off the order (refunded or removed by an edit) and what they carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Taken {
    pub units: u32,
    /// Their share of the line after discounts, in the basis.
    pub subtotal: i64,
    /// Their share of the line's tax.
    pub tax: i64,
}

#[derive(Debug, Clone)]
pub struct SimLine {
    pub id: u64,
    pub sku: Option<String>,
    pub title: &'static str,
    pub kind: LineKind,
    pub product_id: Option<u64>,
    pub quantity: u32,
    /// Price of one unit before discounts, in the basis.
    pub unit: i64,
    pub requires_shipping: bool,
    pub taxable: bool,
    pub discounts: Vec<Alloc>,
    pub taxes: Vec<Tax>,
    /// Refunded units (Σ of the refund lines naming this line).
    pub refunded: u32,
    /// Units removed by an edit after payment (no refund).
    pub removed: u32,
    /// What refunds and removals took.
    pub taken: Taken,
}

impl SimLine {
    pub fn gross(&self) -> i64 {
        self.unit * i64::from(self.quantity)
    }
    pub fn discount(&self) -> i64 {
        self.discounts.iter().map(|d| d.amount).sum()
    }
    pub fn discounted(&self) -> i64 {
        self.gross() - self.discount()
    }
    pub fn tax(&self) -> i64 {
        self.taxes.iter().map(|t| t.amount).sum()
    }
    pub fn current_quantity(&self) -> u32 {
        // Saturating: a `huge_price` poison rewrites the quantity of a line that may have
        // refunded units.
        self.quantity
            .saturating_sub(self.refunded)
            .saturating_sub(self.removed)
    }
    /// The line after discounts, at its current quantity.
    pub fn current_subtotal(&self) -> i64 {
        self.discounted() - self.taken.subtotal
    }
    pub fn current_tax(&self) -> i64 {
        self.tax() - self.taken.tax
    }
    /// Discounts still applied: the line's, less the part on the units taken (their gross
    /// minus what they took after discounts).
    pub fn current_discount(&self) -> i64 {
        self.discount() - (self.unit * i64::from(self.taken.units) - self.taken.subtotal)
    }
}

#[derive(Debug, Clone)]
pub struct SimShipping {
    pub id: u64,
    pub title: &'static str,
    pub code: &'static str,
    /// Before discounts, in the basis.
    pub price: i64,
    pub discounts: Vec<Alloc>,
    pub taxes: Vec<Tax>,
    /// Refunded (after discounts, in the basis) and its tax.
    pub refunded: i64,
    pub refunded_tax: i64,
}

impl SimShipping {
    pub fn discount(&self) -> i64 {
        self.discounts.iter().map(|d| d.amount).sum()
    }
    pub fn discounted(&self) -> i64 {
        self.price - self.discount()
    }
    pub fn tax(&self) -> i64 {
        self.taxes.iter().map(|t| t.amount).sum()
    }
}

/// An additional fee (a bottle deposit, a retail delivery fee), in the basis.
#[derive(Debug, Clone)]
pub struct SimFee {
    pub id: u64,
    pub name: &'static str,
    pub amount: i64,
    pub taxes: Vec<Tax>,
}

impl SimFee {
    pub fn tax(&self) -> i64 {
        self.taxes.iter().map(|t| t.amount).sum()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestockType {
    Return,
    NoRestock,
    Cancel,
}

#[derive(Debug, Clone)]
pub struct SimRefundLine {
    pub id: u64,
    /// Index into `SimOrder::lines`.
    pub line: usize,
    pub quantity: u32,
    pub restock: RestockType,
    /// That share of the discounted line, in the basis, and of its tax.
    pub subtotal: i64,
    pub tax: i64,
}

#[derive(Debug, Clone)]
pub struct SimRefund {
    pub id: u64,
    pub created: i64,
    pub lines: Vec<SimRefundLine>,
    /// Shipping refunded (after discounts, in the basis) and its tax.
    pub shipping: i64,
    pub shipping_tax: i64,
    pub duties: i64,
    /// What went back across the refund's transactions.
    pub total: i64,
    /// Cash rounding of this refund (CHF).
    pub rounding: i64,
}

/// `displayFinancialStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Financial {
    Pending,
    Authorized,
    PartiallyPaid,
    Paid,
    PartiallyRefunded,
    Refunded,
    Voided,
}

impl Financial {
    pub fn graphql(self) -> &'static str {
        match self {
            Financial::Pending => "PENDING",
            Financial::Authorized => "AUTHORIZED",
            Financial::PartiallyPaid => "PARTIALLY_PAID",
            Financial::Paid => "PAID",
            Financial::PartiallyRefunded => "PARTIALLY_REFUNDED",
            Financial::Refunded => "REFUNDED",
            Financial::Voided => "VOIDED",
        }
    }
    pub fn rest(self) -> &'static str {
        match self {
            Financial::Pending => "pending",
            Financial::Authorized => "authorized",
            Financial::PartiallyPaid => "partially_paid",
            Financial::Paid => "paid",
            Financial::PartiallyRefunded => "partially_refunded",
            Financial::Refunded => "refunded",
            Financial::Voided => "voided",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SimOrder {
    pub id: u64,
    pub number: u64,
    /// Unix seconds (Shopify timestamps have second precision).
    pub created: i64,
    pub updated: i64,
    pub cancelled: Option<i64>,
    pub closed: Option<i64>,
    pub fulfillment: Fulfillment,
    /// Its fulfillments, kept in step with `fulfillment` by `parcels::sync`.
    pub parcels: Vec<super::parcels::SimParcel>,
    pub money: Profile,
    pub tax_exempt: bool,
    pub financial: Financial,
    pub lines: Vec<SimLine>,
    pub shipping: Vec<SimShipping>,
    pub fees: Vec<SimFee>,
    /// Import duties charged at checkout (untaxed), and what refunds gave back of them.
    pub duties: i64,
    pub duties_refunded: i64,
    pub discounts: Vec<SimDiscount>,
    pub refunds: Vec<SimRefund>,
    /// The case of the seeded mix (or `/_sim/case`) that built it.
    pub case: &'static str,
    pub buyer: FakeBuyer,
    pub note: Option<String>,
    pub poison: Option<Poison>,
}

/// An order's totals as placed or now, in minor units and Shopify's terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    /// Σ unit × quantity (REST `total_line_items_price`); for current totals, of current units.
    pub line_items: i64,
    /// Lines after their discounts (`subtotalPriceSet` / `currentSubtotalPriceSet`).
    pub subtotal: i64,
    /// Line + shipping discount allocations.
    pub discounts: i64,
    /// Shipping before discounts (as placed) ...
    pub shipping: i64,
    /// ... and after discounts (and refunds, for current totals).
    pub shipping_discounted: i64,
    pub duties: i64,
    pub fees: i64,
    /// Line + shipping + fee taxes.
    pub tax: i64,
    pub total: i64,
}

impl SimOrder {
    pub fn dp(&self) -> u32 {
        self.money.dp()
    }
    pub fn currency(&self) -> &'static str {
        self.money.currency
    }
    pub fn included(&self) -> bool {
        self.money.taxes_included
    }

    /// Adds tax on top when prices exclude it.
    fn with_tax(&self, untaxed: i64, tax: i64) -> i64 {
        if self.included() {
            untaxed
        } else {
            untaxed + tax
        }
    }

    /// The order as placed: every amount summed from its parts.
    pub fn totals(&self) -> Sums {
        let line_items = self.lines.iter().map(SimLine::gross).sum();
        let subtotal: i64 = self.lines.iter().map(SimLine::discounted).sum();
        let line_disc: i64 = self.lines.iter().map(SimLine::discount).sum();
        let ship_disc: i64 = self.shipping.iter().map(SimShipping::discount).sum();
        let shipping = self.shipping.iter().map(|s| s.price).sum();
        let shipping_discounted: i64 = self.shipping.iter().map(SimShipping::discounted).sum();
        let fees: i64 = self.fees.iter().map(|f| f.amount).sum();
        let tax = self.lines.iter().map(SimLine::tax).sum::<i64>()
            + self.shipping.iter().map(SimShipping::tax).sum::<i64>()
            + self.fees.iter().map(SimFee::tax).sum::<i64>();
        Sums {
            line_items,
            subtotal,
            discounts: line_disc + ship_disc,
            shipping,
            shipping_discounted,
            duties: self.duties,
            fees,
            tax,
            total: self.with_tax(subtotal + shipping_discounted + self.duties + fees, tax),
        }
    }

    /// Nothing left on the order: every unit refunded or removed (a cancellation).
    pub fn emptied(&self) -> bool {
        self.lines.iter().all(|l| l.current_quantity() == 0)
    }

    /// The order now, after refunds and removals, by the same bottom-up sum. A voided order
    /// (cancelled before payment) has nothing current.
    pub fn current(&self) -> Sums {
        if self.financial == Financial::Voided {
            return Sums::default();
        }
        let line_items = self
            .lines
            .iter()
            .map(|l| l.unit * i64::from(l.current_quantity()))
            .sum();
        let subtotal: i64 = self.lines.iter().map(SimLine::current_subtotal).sum();
        let line_disc: i64 = self.lines.iter().map(SimLine::current_discount).sum();
        // Shipping discounts stay applied while anything is left to ship or pay for.
        let ship_disc: i64 = if self.emptied() {
            0
        } else {
            self.shipping.iter().map(SimShipping::discount).sum()
        };
        let shipping_discounted: i64 = self
            .shipping
            .iter()
            .map(|s| s.discounted() - s.refunded)
            .sum();
        let fees: i64 = self.fees.iter().map(|f| f.amount).sum();
        let duties = self.duties - self.duties_refunded;
        let tax = self.lines.iter().map(SimLine::current_tax).sum::<i64>()
            + self
                .shipping
                .iter()
                .map(|s| s.tax() - s.refunded_tax)
                .sum::<i64>()
            + self.fees.iter().map(SimFee::tax).sum::<i64>();
        Sums {
            line_items,
            subtotal,
            discounts: line_disc + ship_disc,
            shipping: self.shipping.iter().map(|s| s.price).sum(),
            shipping_discounted,
            duties,
            fees,
            tax,
            total: self.with_tax(subtotal + shipping_discounted + duties + fees, tax),
        }
    }

    /// Σ tip lines (`totalTipReceivedSet`).
    pub fn tips(&self) -> i64 {
        self.lines
            .iter()
            .filter(|l| l.kind == LineKind::Tip)
            .map(SimLine::gross)
            .sum()
    }

    /// The cash-rounding adjustment of the payment: rounded − total (CHF: 10.02 → −0.02).
    pub fn cash_payment(&self) -> i64 {
        match self.money.cash_step {
            Some(step) => {
                let t = self.totals().total;
                super::money::round_to(t, step) - t
            }
            None => 0,
        }
    }

    /// The cash-rounding adjustment of the refunds.
    pub fn cash_refund(&self) -> i64 {
        self.refunds.iter().map(|r| r.rounding).sum()
    }

    /// The order's taxes summed by title and rate, first seen first.
    pub fn tax_summary(&self) -> Vec<Tax> {
        let mut out: Vec<Tax> = Vec::new();
        let all = self
            .lines
            .iter()
            .flat_map(|l| &l.taxes)
            .chain(self.shipping.iter().flat_map(|s| &s.taxes))
            .chain(self.fees.iter().flat_map(|f| &f.taxes));
        for t in all {
            match out
                .iter_mut()
                .find(|o| o.title == t.title && o.rate == t.rate)
            {
                Some(o) => o.amount += t.amount,
                None => out.push(*t),
            }
        }
        out
    }

    /// Σ of one discount application's allocations.
    pub fn allocated(&self, app: u32) -> i64 {
        self.lines
            .iter()
            .flat_map(|l| &l.discounts)
            .chain(self.shipping.iter().flat_map(|s| &s.discounts))
            .filter(|a| a.app == app)
            .map(|a| a.amount)
            .sum()
    }

    pub fn status_matches(&self, s: StatusFilter) -> bool {
        match s {
            StatusFilter::Any => true,
            StatusFilter::Open => self.closed.is_none() && self.cancelled.is_none(),
            StatusFilter::Closed => self.closed.is_some(),
            StatusFilter::Cancelled => self.cancelled.is_some(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Open,
    Closed,
    Cancelled,
    Any,
}
