//! Pure mapping of WooCommerce orders (`GET /orders`, `GET /orders/{id}`, webhook bodies) and
//! their refunds to the canonical [`Order`] (`docs/money.md`). No I/O. An order that cannot
//! become a balanced order yields a PII-free reason, which the caller turns into a
//! `Page.rejected` entry.
//!
//! **Basis.** `prices_include_tax` decides `taxes_included`; every basis amount is rebuilt
//! from WooCommerce's net-plus-tax pairs (`lines.rs`).
//!
//! **Tolerance.** WooCommerce's totals are not exact sums of what the API shows: it keeps line
//! taxes unrounded (`taxes[]` holds raw values), back-computes net prices in inclusive stores
//! and rounds each line's net and tax on output, and with `woocommerce_tax_round_at_subtotal`
//! it rounds the tax once per order instead of once per line. Each line can therefore be a
//! minor unit off, and the shipping lines and fees together about two: the tolerance is
//! [`TOLERANCE`] (1 minor unit a line + 2 an order).
//!
//! **Shipping.** The REST order does not say which products are virtual; WooCommerce only adds
//! shipping lines to orders that need shipping, so the lines of an order without any are not
//! shipped (downloads, services) and those of an order with some are.

mod amounts;
mod buyer;
mod currency;
mod lines;
mod refunds;
mod status;
mod tracking;

pub use amounts::gmt;
pub use currency::is_known as is_known_currency;
pub use lines::spread;
pub use ordersync_sdk::mapping::Reason;

use crate::wire::{WireOrder, WireRefund};
use amounts::{add, amount, opt_gmt, sub};
use lines::{Ctx, Rates, ReadFee};
use ordersync_sdk::mapping::checked_sum;
use ordersync_sdk::money::minor_units;
use ordersync_sdk::{
    AllocationMethod, CashRounding, CurrentTotals, Decimal, DiscountApplication, DiscountKind,
    DiscountTarget, DiscountValue, LineItem, Order, ShippingLine, Tolerance, Totals,
};
use serde_json::Value;
use time::OffsetDateTime;

pub const MARKETPLACE: &str = "woocommerce";

/// How far WooCommerce's totals may be from the sums of their parts (see the module docs).
pub const TOLERANCE: Tolerance = Tolerance {
    per_order: 2,
    per_line: 1,
};

/// The order's id as the API wrote it, for a rejection (`"unknown"` when it has none).
pub fn external_id(v: &Value) -> String {
    match v.get("id") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => "unknown".into(),
    }
}

/// `date_modified_gmt` of an order as the API wrote it (the keyset of a pull).
pub fn modified_at(v: &Value) -> Option<OffsetDateTime> {
    opt_gmt(v.get("date_modified_gmt").and_then(Value::as_str))
}

/// Whether the order has refunds, whose amounts per line need `GET /orders/{id}/refunds`.
pub fn has_refunds(v: &Value) -> bool {
    v.get("refunds")
        .and_then(Value::as_array)
        .is_some_and(|r| !r.is_empty())
}

fn shape(e: &serde_json::Error, what: &str) -> Reason {
    // The message names a field's expected type only; never a value.
    let detail = e.to_string();
    let detail = detail
        .split(" at line")
        .next()
        .unwrap_or("unexpected shape");
    let safe: String = detail
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || " _`,-".contains(*c))
        .take(120)
        .collect();
    format!("{what} does not have WooCommerce's shape ({safe})")
}

/// Maps an order and its refunds, both as JSON.
pub fn order_from_json(order: &Value, refunds: &[Value]) -> Result<Order, Reason> {
    let o: WireOrder = serde_json::from_value(order.clone()).map_err(|e| shape(&e, "order"))?;
    let rs: Vec<WireRefund> = refunds
        .iter()
        .map(|r| serde_json::from_value(r.clone()).map_err(|e| shape(&e, "refund")))
        .collect::<Result<_, _>>()?;
    order_from_wire(&o, &rs)
}

pub fn order_from_wire(o: &WireOrder, refunds: &[WireRefund]) -> Result<Order, Reason> {
    let id =
        o.id.as_ref()
            .map(|i| i.0.clone())
            .filter(|i| !i.is_empty())
            .ok_or("order has no id")?;
    let st = o.status.as_deref().map(str::trim).unwrap_or_default();
    if st.is_empty() {
        return Err("order has no status".into());
    }
    let currency = o.currency.clone().unwrap_or_default();
    if !currency::is_known(&currency) {
        return Err("order has an unknown currency".into());
    }
    let dp = minor_units(&currency);
    let inclusive = o.prices_include_tax.unwrap_or(false);
    let created_at = gmt(o.date_created_gmt.as_deref(), "date_created_gmt")?;
    let updated_at = gmt(o.date_modified_gmt.as_deref(), "date_modified_gmt")?;
    if o.line_items.is_empty() {
        return Err("order has no line items".into());
    }
    let rates = Rates::of(o);
    let c = Ctx {
        dp,
        inclusive,
        rates: &rates,
    };

    let mut apps: Vec<DiscountApplication> = Vec::new();
    for (i, cp) in o.coupon_lines.iter().enumerate() {
        let index = u32::try_from(i).map_err(|_| "too many coupons")?;
        apps.push(lines::coupon(cp, index, &c)?);
    }
    // WooCommerce does not split a line's discount by coupon: with one coupon the line's
    // allocation is that coupon's, with several it is theirs together.
    let line_coupons: Vec<u32> = apps
        .iter()
        .filter(|a| a.target == DiscountTarget::Line)
        .map(|a| a.index)
        .collect();
    let coupon_app = (line_coupons.len() == 1).then(|| line_coupons[0]);
    let mut read = lines::lines(o, &c, coupon_app, !o.shipping_lines.is_empty())?;

    let mut ships = o
        .shipping_lines
        .iter()
        .enumerate()
        .map(|(i, s)| lines::shipping(s, i, &c))
        .collect::<Result<Vec<_>, _>>()?;
    let mut fees = Vec::new();
    for (i, f) in o.fee_lines.iter().enumerate() {
        match lines::fee(f, i, &c)? {
            ReadFee::Fee(f) => fees.push(f),
            ReadFee::Discount {
                title,
                amount,
                taxes,
            } => {
                let index = u32::try_from(apps.len()).map_err(|_| "too many discounts")?;
                apps.push(DiscountApplication {
                    index,
                    kind: DiscountKind::Manual,
                    code: None,
                    title,
                    target: DiscountTarget::Line,
                    value: DiscountValue::FixedAmount(amount),
                    allocation: AllocationMethod::Across,
                });
                lines::apply_discount_fee(&mut read, &mut ships, index, amount, &taxes, dp)?;
            }
        }
    }
    let shipping_lines: Vec<ShippingLine> = ships
        .into_iter()
        .map(|s| {
            let mut l = s.line;
            l.tax_lines = s.taxes.into_iter().map(|t| t.line).collect();
            l
        })
        .collect();
    let (refunds, back) = refunds::refunds(refunds, &c)?;

    let after = checked_sum(read.iter().map(|r| r.after), "line items")?;
    let mut items: Vec<LineItem> = read
        .into_iter()
        .map(|r| {
            let mut l = r.line;
            l.tax_lines = r.taxes.into_iter().map(|t| t.line).collect();
            l
        })
        .collect();
    for l in &mut items {
        let refunded: u64 = refunds
            .iter()
            .map(|r| r.quantity_of(&l.external_line_id))
            .sum();
        // More refunded than ordered leaves 0 here and is refused by `balance()`.
        l.current_quantity =
            u32::try_from(u64::from(l.quantity).saturating_sub(refunded)).unwrap_or(0);
        if st == "refunded" {
            // The whole order went back, whether or not its refunds name the items.
            l.current_quantity = 0;
        }
    }

    let gross: Option<Vec<Decimal>> = items.iter().map(LineItem::gross).collect();
    let disc: Option<Vec<Decimal>> = items.iter().map(LineItem::discount).collect();
    let totals = Totals {
        subtotal: checked_sum(gross.ok_or("amounts overflow in line items")?, "line items")?,
        discounts: checked_sum(disc.ok_or("amounts overflow in discounts")?, "discounts")?,
        shipping: checked_sum(shipping_lines.iter().map(|s| s.price), "shipping")?,
        fees: checked_sum(fees.iter().map(|f| f.amount), "fees")?,
        tax: amount(&o.total_tax, "total_tax")?,
        rounding: Decimal::ZERO,
        total: amount(&o.total, "total")?,
    };
    // The order's rounding allowance, in its currency.
    let tol = Decimal::from(TOLERANCE.per_order)
        .checked_add(
            Decimal::from(TOLERANCE.per_line)
                .checked_mul(Decimal::from(items.len()))
                .unwrap_or(Decimal::MAX),
        )
        .and_then(|t| t.checked_mul(ordersync_sdk::money::minor_unit(&currency)))
        .unwrap_or(Decimal::ZERO);
    let mut current = CurrentTotals {
        subtotal: sub(after, back.lines, "current subtotal")?,
        discounts: totals.discounts,
        shipping: sub(totals.shipping, back.shipping, "current shipping")?,
        fees: sub(totals.fees, back.fees, "current fees")?,
        tax: sub(
            totals.tax,
            add(
                add(back.line_tax, back.shipping_tax, "tax")?,
                back.fee_tax,
                "tax",
            )?,
            "current tax",
        )?,
        total: sub(totals.total, back.total, "current total")?,
    };
    if back.unitemised.is_sign_negative() {
        current.subtotal = sub(current.subtotal, back.unitemised, "current subtotal")?;
    } else {
        let CurrentTotals {
            subtotal,
            shipping,
            fees,
            tax,
            ..
        } = &mut current;
        let mut parts: Vec<&mut Decimal> = vec![subtotal, shipping, fees];
        if !inclusive {
            parts.push(tax);
        }
        let left = refunds::take_in_order(&mut parts, back.unitemised);
        // What is left over is the order's own rounding (the parts fall short of its total by
        // it); beyond that the refunds exceed the order.
        if left > tol {
            return Err("refunds exceed what the order has left".into());
        }
    }

    // Refunds are entered from rounded per-line figures while the order rounded its tax
    // once: a part may end a few minor units below zero, within the tolerance. It is zero.
    for part in [
        &mut current.subtotal,
        &mut current.shipping,
        &mut current.fees,
        &mut current.tax,
    ] {
        if part.is_sign_negative() && -*part <= tol {
            *part = Decimal::ZERO;
        }
    }

    let mut order = Order {
        marketplace: MARKETPLACE.into(),
        external_id: id.clone(),
        order_number: o
            .number
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(id),
        status: status::order_status(st),
        financial_status: status::financial(
            st,
            opt_gmt(o.date_paid_gmt.as_deref()).is_some(),
            totals.total,
            back.total,
        ),
        created_at,
        updated_at,
        currency,
        taxes_included: inclusive,
        tax_exempt: false,
        presentment: None,
        lines: items,
        fulfillments: tracking::fulfillments(&o.meta_data.0),
        shipping_method: shipping_lines.first().and_then(|s| s.title.clone()),
        shipping_lines,
        fees,
        discount_applications: apps,
        refunds,
        tax_lines: vec![],
        totals,
        current,
        cash_rounding: CashRounding::default(),
        tolerance: TOLERANCE,
        fulfillment_status: status::fulfillment(st),
        pii: buyer::pii(o),
        buyer_account: None,
    };
    order.tax_lines = order
        .summarise_taxes()
        .ok_or("amounts overflow in tax lines")?;
    order.balance().map_err(|e| format!("totals: {e}"))?;
    Ok(order)
}
