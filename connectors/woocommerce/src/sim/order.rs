//! A simulated WooCommerce order as the store keeps it: what `build.rs` computed, in minor
//! units and micros, plus its status, dates and buyer.

use super::profiles::Profile;
use super::tax::Rate;
use ordersync_sdk::sim::{BookOrder, FakeBuyer};

/// `wc-` statuses (without the prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pending,
    Processing,
    OnHold,
    Completed,
    Cancelled,
    Refunded,
    Failed,
    Trash,
    CheckoutDraft,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Pending,
        Status::Processing,
        Status::OnHold,
        Status::Completed,
        Status::Cancelled,
        Status::Refunded,
        Status::Failed,
        Status::Trash,
        Status::CheckoutDraft,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Processing => "processing",
            Status::OnHold => "on-hold",
            Status::Completed => "completed",
            Status::Cancelled => "cancelled",
            Status::Refunded => "refunded",
            Status::Failed => "failed",
            Status::Trash => "trash",
            Status::CheckoutDraft => "checkout-draft",
        }
    }

    pub fn from_slug(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.slug() == s)
    }

    /// Whether the goods are still to be handed over (what `/_sim/expected` counts).
    pub fn ships(self) -> bool {
        !matches!(
            self,
            Status::Cancelled | Status::Refunded | Status::Failed | Status::Trash
        )
    }

    /// Whether the payment has been taken.
    pub fn paid(self) -> bool {
        matches!(
            self,
            Status::Processing | Status::Completed | Status::Refunded
        )
    }
}

/// A defect `/_sim/poison` plants in an order's rendering (the stored order stays sane).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Poison {
    /// `total` is `"12,34"`: not a number.
    Unmappable,
    /// No line items at all.
    ZeroLines,
    /// A currency WooCommerce does not have.
    UnknownCurrency,
    /// A line subtotal of 7e28, beyond any amount.
    Overflow,
}

/// One tax of a line, shipping line or fee: rate and micros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tax {
    pub rate: Rate,
    pub amount: i128,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub id: u64,
    pub name: String,
    pub product_id: u64,
    pub variation_id: u64,
    pub sku: String,
    pub qty: u32,
    /// `""` (standard), `reduced-rate` or `zero-rate`.
    pub tax_class: &'static str,
    /// Without tax, raw (inclusive stores back-compute it).
    pub subtotal: i128,
    pub total: i128,
    pub subtotal_taxes: Vec<Tax>,
    pub taxes: Vec<Tax>,
    /// Σ per-line-rounded taxes.
    pub subtotal_tax: i128,
    pub total_tax: i128,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipping {
    pub id: u64,
    pub title: &'static str,
    pub method_id: &'static str,
    pub cost: i64,
    pub taxes: Vec<Tax>,
    pub total_tax: i128,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fee {
    pub id: u64,
    pub name: &'static str,
    pub taxable: bool,
    /// Without tax; negative for a discount fee.
    pub total: i64,
    pub taxes: Vec<Tax>,
    pub total_tax: i128,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouponKind {
    /// Hundredths of a percent (10 % = 1 000).
    Percent(i64),
    /// Minor units off the cart, spread per unit.
    FixedCart(i64),
    /// Minor units off every unit.
    FixedProduct(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coupon {
    pub id: u64,
    pub code: &'static str,
    pub kind: CouponKind,
    pub free_shipping: bool,
    /// What it took off, without tax, and the tax of that.
    pub discount: i128,
    pub discount_tax: i128,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxLine {
    pub id: u64,
    pub rate: Rate,
    pub tax_total: i128,
    pub shipping_tax_total: i128,
}

/// A refunded item: positive amounts here, negative on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundItem {
    pub id: u64,
    /// The order item it refunds.
    pub item: u64,
    pub qty: u32,
    pub total: i64,
    pub taxes: Vec<(Rate, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: u64,
    pub created: i64,
    pub amount: i64,
    pub reason: String,
    pub lines: Vec<RefundItem>,
    pub shipping: Vec<RefundItem>,
    pub fees: Vec<RefundItem>,
}

/// The order's totals as `WC_Abstract_Order::calculate_totals` stores them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub discount_total: i64,
    pub discount_tax: i64,
    pub shipping_total: i64,
    pub shipping_tax: i64,
    pub cart_tax: i64,
    pub total: i64,
    pub total_tax: i64,
}

#[derive(Debug, Clone)]
pub struct SimOrder {
    pub id: u64,
    pub profile: &'static Profile,
    pub status: Status,
    pub created: i64,
    pub updated: i64,
    pub paid: Option<i64>,
    pub completed: Option<i64>,
    pub lines: Vec<Line>,
    pub shipping: Vec<Shipping>,
    pub fees: Vec<Fee>,
    pub coupons: Vec<Coupon>,
    pub tax_lines: Vec<TaxLine>,
    pub totals: Totals,
    pub refunds: Vec<Refund>,
    pub buyer: FakeBuyer,
    pub note: Option<String>,
    pub payment_method: (&'static str, &'static str),
    pub poison: Option<Poison>,
    /// Edits since creation (changes the cart hash).
    pub edits: u32,
}

impl BookOrder for SimOrder {
    fn id(&self) -> u64 {
        self.id
    }
    fn created(&self) -> i64 {
        self.created
    }
    fn updated(&self) -> i64 {
        self.updated
    }
    fn set_updated(&mut self, at: i64) {
        self.updated = at;
    }
}

impl SimOrder {
    /// Units refunded of an order item.
    pub fn refunded_units(&self, item: u64) -> u32 {
        self.refunds
            .iter()
            .flat_map(|r| &r.lines)
            .filter(|l| l.item == item)
            .map(|l| l.qty)
            .sum()
    }
}
