//! Pure mapping of a v2026-01-01 `Order` to the canonical [`Order`] (no I/O). See
//! `docs/money.md` for what each field means; this is how Amazon's figures land there.
//!
//! - **Currency and basis** come from the marketplace (`salesChannel.marketplaceId`): Amazon
//!   sends neither a "taxes included" flag nor tax rates. Every amount must be in the
//!   marketplace's currency.
//! - **As placed** (`totals`, the lines): each item's `proceeds` describe its units as ordered
//!   (`ITEM`, `SHIPPING`, `GIFT_WRAP`, …, `TAX` and `DISCOUNT` split by what they fall on).
//!   `totals.total` is the sum of the items' `proceedsTotal` (and an order-level delivery
//!   tip); the difference to the lines' `unitPrice × quantity` is `totals.rounding`.
//! - **Now** (`current`): cancelled units leave the order (`quantityOrdered` − fulfilled −
//!   unfulfilled, or all of them in a `CANCELLED` order); the order's `proceeds.grandTotal`
//!   is what the seller receives now and becomes `current.total`. The current parts of a
//!   partly cancelled line are its figures × current / ordered, rounded half-even.
//! - **Tolerance**: Amazon computes every amount per unit. `unitPrice` is one unit's share of
//!   the item's price, rounded: `unitPrice × quantity` may miss `ITEM` by up to half a minor
//!   unit per unit (multi-buy prices), and the per-unit figures of the units left after a
//!   partial cancellation differ from our pro-rata ones by a few minor units. The tolerance
//!   allows exactly that, per order; an order without either case is exact.
//! - **Tax** is one line per charge, titled after the marketplace, without a rate (Amazon does
//!   not send one). `MARKETPLACE_FACILITATOR` collection → [`Collector::Marketplace`]: the
//!   buyer paid it, Amazon remits it, the merchant does not owe it.
//! - **Promotions** become discount applications (one per `promotionId`); item discounts are
//!   line allocations, shipping discounts shipping allocations. Gift wrap, COD and other
//!   charges are fees, the order's `DELIVERY_TIP` a tip fee.
//! - **What we ship**: FBA orders (`fulfilledBy: AMAZON`) are shipped by Amazon, and
//!   `PENDING` orders are not released for shipment: their lines have
//!   `requires_shipping: false`, so fulfillment targets skip them. A pending order's next
//!   version (`UNSHIPPED`) carries its prices and is shippable.
//! - **Pending orders carry no prices** (spec): they map with zero money and
//!   `financial_status: pending` rather than being rejected, so they are not lost and their
//!   priced version updates them; nothing downstream ships or books a pending order.
//! - **Refunds** are not in the Orders API (they are in the Finances API): none are mapped.

mod items;
mod packages;
mod pii;
pub mod proceeds;
mod promotions;
mod status;

use crate::marketplaces;
use crate::wire;
use items::{Item, ck, read_item, share, sum, tax_line};
use ordersync_sdk::mapping::{Reason, parse_time};
use ordersync_sdk::money::minor_units;
use ordersync_sdk::{
    CurrentTotals, Decimal, DiscountAllocation, Fee, FeeKind, LineItem, Order, ShippingLine,
    TaxLine, Tolerance, Totals,
};
use proceeds::{money, shown};
use serde_json::Value;
use status::Status;

/// The external id of a raw order, for rejections of orders that cannot even be read.
pub fn external_id(v: &Value) -> String {
    v.get("orderId")
        .and_then(Value::as_str)
        .filter(|s| is_order_id(s))
        .map_or_else(|| "(no orderId)".to_string(), str::to_string)
}

/// Amazon order ids are `3-7-7` digits; other channels' may differ, so any short id of
/// letters, digits and dashes is taken.
pub fn is_order_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Maps one raw order of a page or of `getOrder`.
pub fn order_from_value(v: &Value) -> Result<Order, Reason> {
    use serde::Deserialize as _;
    let o = wire::Order::deserialize(v).map_err(|_| "order has an unexpected shape".to_string())?;
    order_from_wire(&o)
}

/// A service level that is Amazon's enum value (`NEXT_DAY`), else none.
fn service_level(level: Option<&str>) -> Option<&str> {
    level.filter(|l| shown(l) == *l)
}

/// `STANDARD` → `Standard`, `NEXT_DAY` → `Next day`.
fn service_title(level: &str) -> String {
    let s = level.replace('_', " ").to_lowercase();
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Maps a typed order; the error is a PII-free rejection reason.
pub fn order_from_wire(o: &wire::Order) -> Result<Order, Reason> {
    let external_id = o
        .order_id
        .as_deref()
        .filter(|s| is_order_id(s))
        .ok_or("missing or malformed orderId")?
        .to_string();
    let market_id = o
        .sales_channel
        .as_ref()
        .and_then(|c| c.marketplace_id.as_deref())
        .ok_or("order without a marketplaceId")?;
    let market = marketplaces::by_id(market_id)
        .ok_or_else(|| format!("unknown marketplace {:?}", shown(market_id)))?;
    let currency = market.currency;
    let dp = minor_units(currency);
    let f = o.fulfillment.clone().unwrap_or_default();
    let status_text = f
        .fulfillment_status
        .as_deref()
        .ok_or("order without fulfillment.fulfillmentStatus")?;
    let status = Status::parse(status_text);
    let afn = f.fulfilled_by.as_deref() == Some("AMAZON");
    let items = o.order_items.as_deref().unwrap_or_default();
    if items.is_empty() {
        return Err("order has no items".into());
    }
    let items = items
        .iter()
        .map(|it| read_item(it, status, afn, market))
        .collect::<Result<Vec<_>, _>>()?;

    // Promotions, in the order they first appear.
    let mut promo_ids: Vec<String> = Vec::new();
    for it in &items {
        for p in &it.promotions {
            if !promo_ids.contains(p) {
                promo_ids.push(p.clone());
            }
        }
    }
    let app_of = |it: &Item| -> Option<u32> {
        match it.promotions.as_slice() {
            [only] => promo_ids
                .iter()
                .position(|p| p == only)
                .and_then(|i| u32::try_from(i).ok()),
            _ => None,
        }
    };

    let mut lines = Vec::with_capacity(items.len());
    let mut ship = ShippingLine {
        title: service_level(f.fulfillment_service_level.as_deref()).map(service_title),
        code: service_level(f.fulfillment_service_level.as_deref()).map(str::to_string),
        price: Decimal::ZERO,
        discounts: vec![],
        tax_lines: vec![],
    };
    let mut fees: Vec<Fee> = Vec::new();
    let mut cur_sub = Vec::new();
    let mut cur_disc = Vec::new();
    let mut cur_ship = Vec::new();
    let mut cur_fees = Vec::new();
    let mut cur_tax = Vec::new();
    let mut per_line = 0u32;
    for it in &items {
        let mut line = it.line.clone();
        let app = app_of(it);
        for d in &mut line.discounts {
            d.application = app;
        }
        let (q, c) = (line.quantity, line.current_quantity);
        let p = &it.parts;
        // Tolerance: a rounded unit price (multi-buy) and pro-rata shares of a partial
        // cancellation.
        let gross = ck(line.gross(), "line items")?;
        let mut need = 0u32;
        if gross != p.item {
            need += q.div_ceil(2);
        }
        if c > 0 && c < q {
            need += 3;
        }
        per_line = per_line.max(need);
        // The line now.
        let discounted = ck(line.discounted(), "line discounts")?;
        cur_sub.push(share(discounted, c, q, dp, "current lines")?);
        cur_disc.push(share(p.discount.item, c, q, dp, "current discounts")?);
        cur_tax.push(ck(line.current_tax(dp), "current taxes")?);
        // Shipping, per item, into the order's one shipping line.
        ship.price = ck(ship.price.checked_add(p.shipping), "shipping")?;
        if !p.discount.shipping.is_zero() {
            ship.discounts.push(DiscountAllocation {
                amount: p.discount.shipping,
                application: app,
            });
        }
        ship.tax_lines
            .extend(tax_line(market.tax_title, p.tax.shipping, it.collector));
        let ship_net = ck(p.shipping.checked_sub(p.discount.shipping), "shipping")?;
        cur_ship.push(share(ship_net, c, q, dp, "current shipping")?);
        cur_disc.push(share(p.discount.shipping, c, q, dp, "current discounts")?);
        cur_tax.push(share(p.tax.shipping, c, q, dp, "current taxes")?);
        // Gift wrap, cash on delivery and other charges are fees of their own.
        for (amount, tax, title) in [
            (p.gift_wrap, p.tax.gift_wrap, "Gift wrap"),
            (p.cod_fee, p.tax.cod_fee, "Cash on delivery fee"),
            (p.other, p.tax.other, "Other charges"),
        ] {
            if amount.is_zero() && tax.is_zero() {
                continue;
            }
            fees.push(Fee {
                kind: FeeKind::AdditionalFee,
                title: Some(title.to_string()),
                amount,
                tax_lines: tax_line(market.tax_title, tax, it.collector),
            });
            cur_fees.push(share(amount, c, q, dp, "current fees")?);
            cur_tax.push(share(tax, c, q, dp, "current taxes")?);
        }
        lines.push(line);
    }
    // Merge the shipping tax of all items into one tax line per collector.
    let mut ship_taxes: Vec<TaxLine> = Vec::new();
    for t in ship.tax_lines.drain(..) {
        match ship_taxes.iter_mut().find(|x| x.collector == t.collector) {
            Some(x) => x.amount = ck(x.amount.checked_add(t.amount), "shipping taxes")?,
            None => ship_taxes.push(t),
        }
    }
    ship.tax_lines = ship_taxes;

    // Order-level proceeds: the current total, and a delivery tip charged apart.
    let op = o.proceeds.clone().unwrap_or_default();
    let still_open = lines.iter().any(|l| l.current_quantity > 0);
    let mut tip_placed = Decimal::ZERO;
    for b in op.breakdowns.as_deref().unwrap_or_default() {
        if b.kind.as_deref() == Some("DELIVERY_TIP") {
            let v = money(b.subtotal.as_ref(), currency, "order DELIVERY_TIP proceeds")?;
            tip_placed = ck(tip_placed.checked_add(v), "tips")?;
        }
    }
    if !tip_placed.is_zero() {
        fees.push(Fee {
            kind: FeeKind::Tip,
            title: Some("Delivery tip".into()),
            amount: tip_placed,
            tax_lines: vec![],
        });
        cur_fees.push(if still_open {
            tip_placed
        } else {
            Decimal::ZERO
        });
    }

    // Totals as placed: the lines, and Amazon's own item totals.
    let subtotal = sum(lines.iter().filter_map(LineItem::gross), "line items")?;
    let line_discounts = sum(
        lines.iter().filter_map(LineItem::discount),
        "line discounts",
    )?;
    let ship_discounts = sum(
        ship.discounts.iter().map(|d| d.amount),
        "shipping discounts",
    )?;
    let tax = sum(
        lines
            .iter()
            .filter_map(LineItem::tax)
            .chain(ship.tax_lines.iter().map(|t| t.amount))
            .chain(
                fees.iter()
                    .flat_map(|f| f.tax_lines.iter().map(|t| t.amount)),
            ),
        "taxes",
    )?;
    let placed_total = ck(
        sum(items.iter().map(|i| i.total), "item totals")?.checked_add(tip_placed),
        "totals",
    )?;
    let totals = Totals {
        subtotal,
        discounts: ck(line_discounts.checked_add(ship_discounts), "discounts")?,
        shipping: ship.price,
        fees: sum(fees.iter().map(|f| f.amount), "fees")?,
        tax,
        rounding: Decimal::ZERO,
        total: placed_total,
    };
    let cur_parts = CurrentTotals {
        subtotal: sum(cur_sub, "current lines")?,
        discounts: sum(cur_disc, "current discounts")?,
        shipping: sum(cur_ship, "current shipping")?,
        fees: sum(cur_fees, "current fees")?,
        tax: sum(cur_tax, "current taxes")?,
        total: Decimal::ZERO,
    };
    let computed_now = ck(
        cur_parts
            .subtotal
            .checked_add(cur_parts.shipping)
            .and_then(|x| x.checked_add(cur_parts.fees))
            .and_then(|x| {
                if market.taxes_included {
                    Some(x)
                } else {
                    x.checked_add(cur_parts.tax)
                }
            }),
        "current totals",
    )?;
    let current_total = match op.grand_total.as_ref() {
        Some(m) => money(Some(m), currency, "order grandTotal")?,
        // Amazon drops the money of a cancelled order and has none yet for a pending one.
        None if !still_open || status.pending() => computed_now,
        None => return Err("order without proceeds.grandTotal".into()),
    };
    let current = CurrentTotals {
        total: current_total,
        ..cur_parts
    };

    let discount_applications =
        promotions::applications(&promo_ids, &lines, &ship, &items, &app_of);
    let shipping_lines = if ship.price.is_zero()
        && ship.discounts.is_empty()
        && ship.tax_lines.is_empty()
        && ship.title.is_none()
    {
        vec![]
    } else {
        vec![ship]
    };
    let notes: Vec<&str> = items
        .iter()
        .filter_map(|i| i.gift_message.as_deref())
        .collect();
    let mut order = Order {
        marketplace: crate::KIND.to_string(),
        order_number: external_id.clone(),
        external_id,
        status: status.order_status(),
        financial_status: status.financial(),
        created_at: parse_time(o.created_time.as_deref(), "createdTime")?,
        updated_at: parse_time(o.last_updated_time.as_deref(), "lastUpdatedTime")?,
        currency: currency.to_string(),
        taxes_included: market.taxes_included,
        tax_exempt: false,
        presentment: None,
        fulfillments: packages::fulfillments(&o.packages.0),
        shipping_method: shipping_lines.first().and_then(|s| s.title.clone()),
        lines,
        shipping_lines,
        fees,
        discount_applications,
        refunds: vec![],
        tax_lines: vec![],
        totals,
        current,
        cash_rounding: Default::default(),
        tolerance: if per_line == 0 {
            Tolerance::EXACT
        } else {
            Tolerance {
                per_order: 1,
                per_line,
            }
        },
        fulfillment_status: status.fulfillment(),
        pii: pii::pii(o, &notes),
        buyer_account: None,
    };
    order.tax_lines = order
        .summarise_taxes()
        .ok_or("amounts overflow in order taxes")?;
    order.balance().map_err(|e| e.to_string())?;
    Ok(order)
}
