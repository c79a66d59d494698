//! One eBay line item: its price, promotions, shipping, taxes and fees, read into a canonical
//! [`LineItem`] plus what the order and its refunds need to know about it.
//!
//! - `lineItemCost` is the price of all units before promotions; `discountedLineItemCost`
//!   the price after them. The unit price must divide it exactly: eBay multiplies a unit
//!   price, so anything else is a corrupt line, not something to round.
//! - `deliveryCost.shippingCost` (+ `handlingCost`) is the line's shipping before its
//!   `discountAmount`; it becomes a shipping line of the order.
//! - `taxes[]` lists every tax and, with `TAX_BREAKDOWN`, the fees (recycling fees) of the
//!   line; an entry that `ebayCollectAndRemitTaxes[]` lists too is collected and remitted by
//!   eBay (`Collector::Marketplace`). eBay adds them on top of the price (`collectionMethod`
//!   is always `NET`), so the order's basis is exclusive. eBay's line tax covers the line's
//!   shipping as well; it stays on the line (eBay does not split it).

use super::amounts::{opt, req};
use crate::wire;
use ordersync_sdk::mapping::{Reason, checked_sum, non_empty, parse_quantity};
use ordersync_sdk::{Collector, Decimal, LineItem, LineKind, TaxLine};

/// A promotion on one line, keyed so the order can group the lines it applies to.
#[derive(Debug, Clone)]
pub struct Promo {
    pub key: String,
    pub title: Option<String>,
    pub amount: Decimal,
}

/// A fee listed among a line's taxes.
#[derive(Debug, Clone)]
pub struct LineFee {
    pub title: String,
    pub amount: Decimal,
    pub collector: Collector,
}

/// A refund entry of the line, as eBay sent it.
#[derive(Debug, Clone)]
pub struct LineRefundIn {
    pub refund_id: Option<String>,
    pub date: String,
    /// The seller's net amount: without what eBay collected and remitted.
    pub amount: Decimal,
}

#[derive(Debug, Clone)]
pub struct ReadLine {
    pub line: LineItem,
    /// After promotions.
    pub item_net: Decimal,
    /// One unit after promotions, when it divides exactly.
    pub unit_net: Option<Decimal>,
    pub ship: Decimal,
    pub ship_discount: Decimal,
    pub promos: Vec<Promo>,
    /// A discount eBay reports without a promotion (`discountedLineItemCost` alone).
    pub unlinked_discount: Decimal,
    pub fees: Vec<LineFee>,
    /// Taxes and fees inside the seller's net amount (the seller collected them).
    pub merchant_extra: Decimal,
    /// Taxes and fees eBay collected: outside the refund amounts eBay reports.
    pub marketplace_extra: Decimal,
    pub refunds: Vec<LineRefundIn>,
}

/// Tax types that are fees (eBay lists them among the taxes with `TAX_BREAKDOWN`).
pub fn is_fee_type(t: &str) -> bool {
    t.ends_with("_FEE") || t == "WHITE_GOODS_DISPOSAL_TAX"
}

/// A taxType as a title: a short enum-like code, kept to safe characters.
fn code(t: &str) -> String {
    t.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(48)
        .collect()
}

pub fn read_line(
    l: &wire::LineItem,
    currency: &str,
    requires_shipping: bool,
) -> Result<ReadLine, Reason> {
    let id = l
        .line_item_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or("a line item has no lineItemId")?
        .to_string();
    let what = |field: &str| format!("line {id} {field}");
    let quantity = parse_quantity(l.quantity, &id)?;
    if quantity == 0 {
        return Err(format!("line {id} has no units"));
    }
    let cost = req(l.line_item_cost.as_ref(), currency, &what("lineItemCost"))?;
    let qty = Decimal::from(quantity);
    let unit_price = cost
        .checked_div(qty)
        .filter(|u| u.checked_mul(qty) == Some(cost))
        .filter(|u| u.normalize().scale() <= ordersync_sdk::money::minor_units(currency))
        .ok_or_else(|| format!("line {id} lineItemCost is not a whole multiple of its quantity"))?
        .normalize();

    let mut promos = Vec::new();
    for (i, p) in l.applied_promotions.iter().enumerate() {
        // The spec gives no sign for a promotion's amount: its size is the discount.
        let amount = opt(p.discount_amount.as_ref(), currency, &what("promotion"))?.abs();
        if amount.is_zero() {
            continue;
        }
        let key = non_empty(p.promotion_id.clone())
            .or_else(|| non_empty(p.description.clone()))
            .unwrap_or_else(|| format!("promotion {i}"));
        promos.push(Promo {
            key,
            title: non_empty(p.description.clone()),
            amount,
        });
    }
    let promo_total = checked_sum(promos.iter().map(|p| p.amount), &what("promotions"))?;
    let (discount, unlinked_discount) = match &l.discounted_line_item_cost {
        Some(a) if a.value.is_some() => {
            let after = req(Some(a), currency, &what("discountedLineItemCost"))?;
            let d = cost
                .checked_sub(after)
                .ok_or_else(|| format!("amounts overflow in line {id}"))?;
            if promos.is_empty() {
                (d, d)
            } else if d != promo_total {
                return Err(format!(
                    "line {id} discountedLineItemCost differs from lineItemCost less its promotions"
                ));
            } else {
                (d, Decimal::ZERO)
            }
        }
        _ => (promo_total, Decimal::ZERO),
    };
    let item_net = cost
        .checked_sub(discount)
        .ok_or_else(|| format!("amounts overflow in line {id}"))?;
    let unit_net = item_net
        .checked_div(qty)
        .filter(|u| u.checked_mul(qty) == Some(item_net))
        .filter(|u| u.normalize().scale() <= ordersync_sdk::money::minor_units(currency));

    let d = l.delivery_cost.as_ref();
    let ship = checked_sum(
        [
            opt(
                d.and_then(|d| d.shipping_cost.as_ref()),
                currency,
                &what("shippingCost"),
            )?,
            opt(
                d.and_then(|d| d.handling_cost.as_ref()),
                currency,
                &what("handlingCost"),
            )?,
        ],
        &what("delivery cost"),
    )?;
    let ship_discount = opt(
        d.and_then(|d| d.discount_amount.as_ref()),
        currency,
        &what("shipping discount"),
    )?
    .abs();

    let (tax_lines, fees) = taxes_and_fees(l, currency, &id)?;
    let mut merchant_extra = Decimal::ZERO;
    let mut marketplace_extra = Decimal::ZERO;
    let sides = tax_lines
        .iter()
        .map(|t| (t.amount, t.collector))
        .chain(fees.iter().map(|f| (f.amount, f.collector)));
    for (amount, collector) in sides {
        let side = match collector {
            Collector::Merchant => &mut merchant_extra,
            Collector::Marketplace => &mut marketplace_extra,
        };
        *side = side
            .checked_add(amount)
            .ok_or_else(|| format!("amounts overflow in line {id} taxes"))?;
    }

    let mut refunds = Vec::new();
    for r in &l.refunds {
        // Without a date the refund is not issued yet: nothing went back so far.
        let Some(date) = non_empty(r.refund_date.clone()) else {
            continue;
        };
        refunds.push(LineRefundIn {
            refund_id: non_empty(r.refund_id.clone()),
            date,
            amount: req(r.amount.as_ref(), currency, &what("refund"))?,
        });
    }

    let gift_card = l.gift_details.is_some();
    let taxable = !tax_lines.is_empty();
    Ok(ReadLine {
        line: LineItem {
            external_line_id: id.clone(),
            sku: non_empty(l.sku.clone()),
            title: non_empty(l.title.clone()).unwrap_or_else(|| format!("eBay line {id}")),
            kind: if gift_card {
                LineKind::GiftCard
            } else {
                LineKind::Product
            },
            quantity,
            current_quantity: quantity,
            unit_price,
            requires_shipping: requires_shipping && !gift_card,
            taxable,
            discounts: vec![],
            tax_lines,
        },
        item_net,
        unit_net,
        ship,
        ship_discount,
        promos,
        unlinked_discount,
        fees,
        merchant_extra,
        marketplace_extra,
        refunds,
    })
}

/// Splits `taxes[]` into taxes and fees, each marked with who collects it. A collect-and-remit
/// entry matches a `taxes[]` entry of the same amount (and type, when both have one). One
/// that matches none means the order was read without `TAX_BREAKDOWN`: its totals then leave
/// that tax out, so the order is refused rather than mapped short.
fn taxes_and_fees(
    l: &wire::LineItem,
    currency: &str,
    id: &str,
) -> Result<(Vec<TaxLine>, Vec<LineFee>), Reason> {
    let mut remit: Vec<(Option<String>, Decimal, bool)> = Vec::new();
    for c in &l.ebay_collect_and_remit_taxes {
        let amount = opt(
            c.amount.as_ref(),
            currency,
            &format!("line {id} collect-and-remit tax"),
        )?;
        if !amount.is_zero() {
            remit.push((c.tax_type.as_deref().map(code), amount, false));
        }
    }
    let mut taxes = Vec::new();
    let mut fees = Vec::new();
    for t in &l.taxes {
        let amount = opt(t.amount.as_ref(), currency, &format!("line {id} tax"))?;
        if amount.is_zero() {
            continue;
        }
        let own_type = t.tax_type.as_deref().map(code);
        let matched = remit.iter_mut().find(|(ty, a, used)| {
            !*used && *a == amount && (own_type.is_none() || ty.is_none() || *ty == own_type)
        });
        let (collector, ty) = match matched {
            Some(m) => {
                m.2 = true;
                (Collector::Marketplace, own_type.or_else(|| m.0.clone()))
            }
            None => (Collector::Merchant, own_type),
        };
        let title = ty.unwrap_or_else(|| "SALES_TAX".to_string());
        if is_fee_type(&title) {
            fees.push(LineFee {
                title,
                amount,
                collector,
            });
        } else {
            taxes.push(TaxLine {
                title,
                // eBay reports amounts only; a rate would be recomputed, so none is given.
                rate: None,
                amount,
                collector,
            });
        }
    }
    if remit.iter().any(|(_, _, used)| !used) {
        return Err(format!(
            "line {id} collect-and-remit tax is missing from its taxes (read without fieldGroups=TAX_BREAKDOWN?)"
        ));
    }
    Ok((taxes, fees))
}
