//! A miniature checkout: prices lines the way a platform does, from unit prices, discount
//! values and tax rates, so the sample totals are what a platform would send (never solved
//! backwards from the balance formula).
//!
//! Rounding: every tax line and every percentage discount is rounded on its own, per line, to
//! the currency's minor unit, half away from zero ("half-up", as checkouts round). Inclusive
//! taxes are taken out of the discounted price (`price × rate / (1 + Σ rates)`), exclusive
//! ones put on top (`price × rate`). Inputs are small constants: plain arithmetic suffices.

use ordersync_sdk::money::minor_units;
use ordersync_sdk::{
    Collector, CurrentTotals, Decimal, DiscountAllocation, DiscountApplication, LineItem, LineKind,
    ShippingLine, TaxLine, Totals,
};
use rust_decimal::RoundingStrategy;

/// A tax as a checkout configures it: a title and a rate (a fraction).
pub type Rate = (&'static str, Decimal);

/// A percentage discount (a fraction of the price) and the index of its application.
#[derive(Clone, Copy)]
pub struct Off {
    pub application: u32,
    pub fraction: Decimal,
}

pub struct Item {
    pub id: String,
    pub sku: String,
    pub title: &'static str,
    pub unit_price: Decimal,
    pub quantity: u32,
    pub off: Option<Off>,
    pub taxes: Vec<Rate>,
}

pub struct Shipping {
    pub title: &'static str,
    pub price: Decimal,
    pub off: Option<Off>,
    pub taxes: Vec<Rate>,
}

pub struct Cart {
    pub currency: &'static str,
    pub taxes_included: bool,
    pub items: Vec<Item>,
    pub shipping: Shipping,
    pub applications: Vec<DiscountApplication>,
}

/// What the checkout charged.
pub struct Priced {
    pub lines: Vec<LineItem>,
    pub shipping_lines: Vec<ShippingLine>,
    pub totals: Totals,
    pub current: CurrentTotals,
}

impl Cart {
    fn round(&self, x: Decimal) -> Decimal {
        x.round_dp_with_strategy(
            minor_units(self.currency),
            RoundingStrategy::MidpointAwayFromZero,
        )
    }

    fn discount(&self, price: Decimal, off: Option<Off>) -> Vec<DiscountAllocation> {
        off.map(|o| DiscountAllocation {
            amount: self.round(price * o.fraction),
            application: Some(o.application),
        })
        .into_iter()
        .collect()
    }

    /// One tax line per rate on `price` (after discounts, in the basis).
    fn taxes(&self, price: Decimal, rates: &[Rate]) -> Vec<TaxLine> {
        let combined: Decimal = rates.iter().map(|(_, r)| *r).sum();
        rates
            .iter()
            .map(|(title, rate)| {
                let tax = if self.taxes_included {
                    price * rate / (Decimal::ONE + combined)
                } else {
                    price * rate
                };
                TaxLine {
                    title: (*title).to_string(),
                    rate: Some(*rate),
                    amount: self.round(tax),
                    collector: Collector::Merchant,
                }
            })
            .collect()
    }

    pub fn price(&self) -> Priced {
        let lines: Vec<LineItem> = self
            .items
            .iter()
            .map(|it| {
                let gross = it.unit_price * Decimal::from(it.quantity);
                let discounts = self.discount(gross, it.off);
                let after: Decimal = gross - discounts.iter().map(|d| d.amount).sum::<Decimal>();
                LineItem {
                    external_line_id: it.id.clone(),
                    sku: Some(it.sku.clone()),
                    title: it.title.into(),
                    kind: LineKind::Product,
                    quantity: it.quantity,
                    current_quantity: it.quantity,
                    unit_price: it.unit_price,
                    requires_shipping: true,
                    taxable: !it.taxes.is_empty(),
                    tax_lines: self.taxes(after, &it.taxes),
                    discounts,
                }
            })
            .collect();
        let s = &self.shipping;
        let ship_discounts = self.discount(s.price, s.off);
        let ship_after = s.price - ship_discounts.iter().map(|d| d.amount).sum::<Decimal>();
        let shipping = ShippingLine {
            title: Some(s.title.into()),
            code: Some(s.title.to_ascii_lowercase().replace(' ', "-")),
            price: s.price,
            tax_lines: self.taxes(ship_after, &s.taxes),
            discounts: ship_discounts,
        };

        let subtotal: Decimal = lines.iter().filter_map(LineItem::gross).sum();
        let line_discounts: Decimal = lines.iter().filter_map(LineItem::discount).sum();
        let ship_discount = shipping.discount().unwrap_or_default();
        let line_tax: Decimal = lines.iter().filter_map(LineItem::tax).sum();
        let tax = line_tax + shipping.tax().unwrap_or_default();
        // Tax is inside the prices when inclusive, on top when exclusive.
        let on_top = if self.taxes_included {
            Decimal::ZERO
        } else {
            tax
        };
        let totals = Totals {
            subtotal,
            discounts: line_discounts + ship_discount,
            shipping: shipping.price,
            fees: Decimal::ZERO,
            tax,
            rounding: Decimal::ZERO,
            total: subtotal - line_discounts - ship_discount + shipping.price + on_top,
        };
        // Nothing refunded or removed: the order now is the order as placed.
        let current_subtotal: Decimal = lines.iter().filter_map(LineItem::discounted).sum();
        let current_shipping = shipping.discounted().unwrap_or_default();
        let current = CurrentTotals {
            subtotal: current_subtotal,
            discounts: totals.discounts,
            shipping: current_shipping,
            fees: Decimal::ZERO,
            tax,
            total: current_subtotal + current_shipping + on_top,
        };
        Priced {
            lines,
            shipping_lines: vec![shipping],
            totals,
            current,
        }
    }
}
