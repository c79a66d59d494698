//! What a simulated eBay order is made of: lines with their promotions, shipping, taxes and
//! fees, refunds, cancellation and fulfillment. Money is in minor units of the listing
//! currency (`i64`), built bottom-up the way eBay builds it: a line's tax is its rate applied
//! to the line's price and shipping after discounts, rounded half-up once per line; every
//! order-level amount is a sum of line amounts.

use super::profiles::Market;
use ordersync_sdk::sim::{BookOrder, FakeBuyer};

/// Rates are in units of 10⁻⁵ (8.875 % is 8_875).
pub const RATE_UNIT: i64 = 100_000;

/// `amount × rate`, rounded half-up (amounts are never negative here).
pub fn apply_rate(amount: i64, rate: i64) -> i64 {
    (amount.saturating_mul(rate) + RATE_UNIT / 2) / RATE_UNIT
}

/// A tax or fee on a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimTax {
    /// eBay's `taxType` (`STATE_SALES_TAX`, `VAT`, `ELECTRONIC_RECYCLING_FEE`, ...).
    pub kind: &'static str,
    pub amount: i64,
    /// Collected and remitted by eBay (every tax eBay computes today is).
    pub remit: bool,
    /// `ebayReference` of VAT/GST collected under a scheme (`IOSS`, `ABN`).
    pub reference: Option<(&'static str, &'static str)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimPromo {
    pub id: String,
    pub description: String,
    pub amount: i64,
}

#[derive(Debug, Clone)]
pub struct SimLine {
    pub id: u64,
    pub item_id: u64,
    pub sku: String,
    pub title: String,
    pub quantity: u32,
    pub unit: i64,
    pub promo: Option<SimPromo>,
    pub ship: i64,
    pub ship_discount: i64,
    pub taxes: Vec<SimTax>,
    pub fees: Vec<SimTax>,
    pub fulfilled: bool,
}

impl SimLine {
    pub fn cost(&self) -> i64 {
        self.unit.saturating_mul(i64::from(self.quantity))
    }
    pub fn discount(&self) -> i64 {
        self.promo.as_ref().map_or(0, |p| p.amount)
    }
    pub fn item_net(&self) -> i64 {
        self.cost() - self.discount()
    }
    pub fn ship_net(&self) -> i64 {
        self.ship - self.ship_discount
    }
    pub fn tax(&self) -> i64 {
        self.taxes.iter().map(|t| t.amount).sum()
    }
    pub fn fee(&self) -> i64 {
        self.fees.iter().map(|t| t.amount).sum()
    }
    /// What the seller keeps of the line: eBay's refund amount for the whole line.
    pub fn seller_net(&self) -> i64 {
        self.item_net() + self.ship_net()
    }
    /// One unit after promotions, when it divides exactly.
    pub fn unit_net(&self) -> Option<i64> {
        let q = i64::from(self.quantity);
        (self.item_net() % q == 0).then(|| self.item_net() / q)
    }
}

/// What one refund gives back of a line, or of the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundPart {
    /// `units` of line `line` back for `amount` (the seller's net: taxes eBay remitted are
    /// refunded on top and not shown); `units == 0` is money only.
    Line {
        line: usize,
        amount: i64,
        units: u32,
    },
    /// An order-level refund (`orderLevelRefundAmount`).
    Order { amount: i64 },
}

#[derive(Debug, Clone)]
pub struct SimRefund {
    pub id: String,
    pub reference: String,
    pub at: i64,
    /// Issued but not completed: no `refundDate`, `PENDING`.
    pub pending: bool,
    pub parts: Vec<RefundPart>,
}

impl SimRefund {
    pub fn amount(&self) -> i64 {
        self.parts
            .iter()
            .map(|p| match p {
                RefundPart::Line { amount, .. } | RefundPart::Order { amount } => *amount,
            })
            .sum()
    }
    pub fn has_line_parts(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, RefundPart::Line { .. }))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    None,
    /// The buyer asked; the seller has not answered (`IN_PROGRESS`).
    Requested {
        at: i64,
    },
    /// Done and refunded (`CANCELED`).
    Cancelled {
        at: i64,
        by_buyer: bool,
    },
}

/// An unmappable rendering, for `/_sim/poison`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Poison {
    /// No line items at all.
    Unmappable,
    /// `pricingSummary.total.currency` is not a currency code.
    BadCurrency,
    /// A line cost beyond any real price.
    HugeAmount,
    /// A decimal comma in an amount.
    GarbledAmount,
}

/// The buyer's currency when it is not the listing's: `rate` buyer units per listing unit,
/// in millionths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversion {
    pub currency: &'static str,
    pub rate_micros: i64,
}

#[derive(Debug, Clone)]
pub struct SimOrder {
    pub id: u64,
    pub seq: u64,
    /// Milliseconds since the epoch (the book's times are this simulator's milliseconds).
    pub created: i64,
    pub updated: i64,
    pub market: &'static Market,
    pub buyer: FakeBuyer,
    pub username: String,
    pub note: Option<String>,
    pub lines: Vec<SimLine>,
    /// Signed, minor units: a price change after the sale.
    pub adjustment: i64,
    pub conversion: Option<Conversion>,
    pub refunds: Vec<SimRefund>,
    pub cancel: Cancel,
    pub poison: Option<Poison>,
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

/// The order's pricing summary, in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub subtotal: i64,
    pub discount: i64,
    pub delivery: i64,
    pub delivery_discount: i64,
    pub tax: i64,
    pub fee: i64,
    pub adjustment: i64,
    pub total: i64,
}

impl SimOrder {
    /// eBay's order id form `12-34567-89012` from the book's id.
    pub fn order_id(&self) -> String {
        order_id(self.id)
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            adjustment: self.adjustment,
            ..Summary::default()
        };
        for l in &self.lines {
            s.subtotal += l.cost();
            s.discount += l.discount();
            s.delivery += l.ship;
            s.delivery_discount += l.ship_discount;
            s.tax += l.tax();
            s.fee += l.fee();
        }
        s.total = s.subtotal - s.discount + s.delivery - s.delivery_discount
            + s.tax
            + s.fee
            + s.adjustment;
        s
    }

    pub fn completed_refunds(&self) -> impl Iterator<Item = &SimRefund> {
        self.refunds.iter().filter(|r| !r.pending)
    }

    /// Units of each line given back by completed refunds.
    pub fn units_back(&self, line: usize) -> u32 {
        self.completed_refunds()
            .flat_map(|r| &r.parts)
            .map(|p| match p {
                RefundPart::Line { line: l, units, .. } if *l == line => *units,
                _ => 0,
            })
            .sum()
    }

    pub fn is_cancelled(&self) -> bool {
        matches!(self.cancel, Cancel::Cancelled { .. })
    }

    /// `FULLY_REFUNDED` once every unit went back, `PARTIALLY_REFUNDED` after any other
    /// completed refund, else `PAID`.
    pub fn payment_status(&self) -> &'static str {
        if self.completed_refunds().next().is_none() {
            return "PAID";
        }
        let all_back = self
            .lines
            .iter()
            .enumerate()
            .all(|(i, l)| self.units_back(i) >= l.quantity);
        if all_back {
            "FULLY_REFUNDED"
        } else {
            "PARTIALLY_REFUNDED"
        }
    }

    pub fn fulfillment_status(&self) -> &'static str {
        let done = self.lines.iter().filter(|l| l.fulfilled).count();
        match done {
            0 => "NOT_STARTED",
            n if n == self.lines.len() => "FULFILLED",
            _ => "IN_PROGRESS",
        }
    }
}

/// `NN-NNNNN-NNNNN` from the low 12 digits of `id`.
pub fn order_id(id: u64) -> String {
    let n = id % 1_000_000_000_000;
    format!(
        "{:02}-{:05}-{:05}",
        n / 10_000_000_000,
        (n / 100_000) % 100_000,
        n % 100_000
    )
}

/// The book id of an eBay order id (the inverse of [`order_id`]).
pub fn parse_order_id(s: &str) -> Option<u64> {
    let mut parts = s.split('-');
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || a.len() != 2 || b.len() != 5 || c.len() != 5 {
        return None;
    }
    let digits = |p: &str| p.bytes().all(|x| x.is_ascii_digit());
    if !(digits(a) && digits(b) && digits(c)) {
        return None;
    }
    Some(
        a.parse::<u64>().ok()? * 10_000_000_000
            + b.parse::<u64>().ok()? * 100_000
            + c.parse::<u64>().ok()?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_round_trip() {
        let id = 270_000_001_234;
        assert_eq!(order_id(id), "27-00000-01234");
        assert_eq!(parse_order_id("27-00000-01234"), Some(id));
        for bad in [
            "27-0000-01234",
            "27-00000-0123x",
            "2700000012345",
            "27-00000-01234-1",
        ] {
            assert_eq!(parse_order_id(bad), None, "{bad}");
        }
        assert_eq!(apply_rate(4_500, 8_875), 399, "399.375 rounds down");
        assert_eq!(apply_rate(1_000, 8_250), 83, "82.5 rounds half-up");
    }
}
