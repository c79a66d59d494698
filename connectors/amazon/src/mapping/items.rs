//! One order item: its product, price, proceeds, cancelled units, tax collection model,
//! promotions and gift message, read into a canonical line and the figures the order needs.

use super::is_order_id;
use super::proceeds::{Parts, money, parts};
use super::status::Status;
use crate::marketplaces::Market;
use crate::wire;
use ordersync_sdk::mapping::{Reason, parse_quantity};
use ordersync_sdk::{Collector, Decimal, DiscountAllocation, LineItem, LineKind, TaxLine};
use rust_decimal::RoundingStrategy;

/// One item, read.
pub struct Item {
    pub line: LineItem,
    pub parts: Parts,
    /// Amazon's own total of the item as ordered.
    pub total: Decimal,
    pub collector: Collector,
    pub promotions: Vec<String>,
    pub gift_message: Option<String>,
}

pub fn ck(v: Option<Decimal>, what: &str) -> Result<Decimal, Reason> {
    v.ok_or_else(|| format!("amounts overflow in {what}"))
}

pub fn sum(values: impl IntoIterator<Item = Decimal>, what: &str) -> Result<Decimal, Reason> {
    ordersync_sdk::mapping::checked_sum(values, what)
}

/// `a × current / quantity`, rounded half-even to the currency (exact at 0 and all units).
pub fn share(
    a: Decimal,
    current: u32,
    quantity: u32,
    dp: u32,
    what: &str,
) -> Result<Decimal, Reason> {
    if current == quantity {
        return Ok(a);
    }
    if current == 0 || quantity == 0 {
        return Ok(Decimal::ZERO);
    }
    let v = a
        .checked_mul(Decimal::from(current))
        .and_then(|x| x.checked_div(Decimal::from(quantity)));
    Ok(ck(v, what)?.round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven))
}

pub fn tax_line(title: &str, amount: Decimal, collector: Collector) -> Vec<TaxLine> {
    if amount.is_zero() {
        return vec![];
    }
    vec![TaxLine {
        title: title.to_string(),
        rate: None,
        amount,
        collector,
    }]
}

pub fn read_item(
    it: &wire::OrderItem,
    status: Status,
    afn: bool,
    market: &Market,
) -> Result<Item, Reason> {
    let id = it
        .order_item_id
        .as_deref()
        .filter(|s| is_order_id(s))
        .ok_or("an item has no usable orderItemId")?
        .to_string();
    let currency = market.currency;
    let quantity = parse_quantity(it.quantity_ordered, &id)?;
    let product = it.product.clone().unwrap_or_default();
    let unit = match product.price.as_ref().and_then(|p| p.unit_price.as_ref()) {
        Some(m) => money(Some(m), currency, &format!("item {id} unitPrice"))?,
        // Amazon prices a pending order only once payment authorization begins.
        None if status.pending() => Decimal::ZERO,
        None => return Err(format!("item {id} has no unitPrice")),
    };
    let cancelled_order = matches!(status, Status::Cancelled);
    let (parts, total) = match &it.proceeds {
        Some(p) => {
            let parts = parts(p.breakdowns.as_deref().unwrap_or_default(), currency, &id)?;
            let total = money(
                p.proceeds_total.as_ref(),
                currency,
                &format!("item {id} proceedsTotal"),
            )?;
            (parts, total)
        }
        None if status.pending() || cancelled_order => {
            let gross = ck(unit.checked_mul(Decimal::from(quantity)), "line items")?;
            (
                Parts {
                    item: gross,
                    ..Parts::default()
                },
                gross,
            )
        }
        None => return Err(format!("item {id} has no proceeds")),
    };
    // Cancelled units are those neither fulfilled nor still to fulfil.
    let f = it.fulfillment.as_ref();
    let current = if cancelled_order {
        0
    } else {
        match f.map(|f| (f.quantity_fulfilled, f.quantity_unfulfilled)) {
            Some((Some(done), Some(open))) => {
                let done = parse_quantity(Some(done), &id)?;
                let open = parse_quantity(Some(open), &id)?;
                done.saturating_add(open).min(quantity)
            }
            _ if it
                .cancellation
                .as_ref()
                .is_some_and(|c| c.get("cancellationExecution").is_some()) =>
            {
                0
            }
            _ => quantity,
        }
    };
    let collector = if it
        .tax
        .as_ref()
        .and_then(|t| t.tax_collections.as_ref())
        .is_some_and(|c| {
            c.iter()
                .any(|c| c.model.as_deref() == Some("MARKETPLACE_FACILITATOR"))
        }) {
        Collector::Marketplace
    } else {
        Collector::Merchant
    };
    // A tax that a discount took off belongs to the item's discounted price.
    let item_tax = parts
        .tax
        .item
        .checked_sub(parts.tax.discount.abs())
        .filter(|t| !t.is_sign_negative())
        .ok_or_else(|| format!("item {id}: discount tax exceeds the item's tax"))?;
    for (v, what) in [
        (parts.discount.gift_wrap, "gift wrap"),
        (parts.discount.cod_fee, "cash on delivery fee"),
        (parts.discount.other, "other charges"),
    ] {
        if !v.is_zero() {
            return Err(format!("item {id} has a discount on its {what}"));
        }
    }
    let line = LineItem {
        external_line_id: id.clone(),
        sku: product.seller_sku.filter(|s| !s.trim().is_empty()),
        title: product
            .title
            .filter(|s| !s.trim().is_empty())
            .or(product.asin)
            .unwrap_or_else(|| "Amazon item".to_string()),
        kind: LineKind::Product,
        quantity,
        current_quantity: current,
        unit_price: unit,
        // Amazon ships FBA orders itself, and pending ones are not released yet.
        requires_shipping: !afn && !status.pending(),
        // Amazon flags no taxability: a line is taxable when it was taxed.
        taxable: !item_tax.is_zero(),
        discounts: if parts.discount.item.is_zero() {
            vec![]
        } else {
            vec![DiscountAllocation {
                amount: parts.discount.item,
                application: None,
            }]
        },
        tax_lines: tax_line(market.tax_title, item_tax, collector),
    };
    let promotions = it
        .promotion
        .as_ref()
        .and_then(|p| p.breakdowns.as_ref())
        .map(|b| {
            b.iter()
                .filter_map(|p| p.promotion_id.clone())
                .filter(|p| !p.trim().is_empty())
                .collect()
        })
        .unwrap_or_default();
    let gift_message = it
        .fulfillment
        .as_ref()
        .and_then(|f| f.packing.as_ref())
        .and_then(|p| p.gift_option.as_ref())
        .and_then(|g| g.gift_message.clone())
        .filter(|m| !m.trim().is_empty());
    let mut parts = parts;
    parts.tax.item = item_tax;
    Ok(Item {
        line,
        parts,
        total,
        collector,
        promotions,
        gift_message,
    })
}
