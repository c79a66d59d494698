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

mod pii;
pub mod proceeds;

use crate::marketplaces::{self, Market};
use crate::wire;
use ordersync_sdk::mapping::{Reason, parse_quantity, parse_time};
use ordersync_sdk::money::minor_units;
use ordersync_sdk::{
    AllocationMethod, Collector, CurrentTotals, Decimal, DiscountAllocation, DiscountApplication,
    DiscountKind, DiscountTarget, DiscountValue, Fee, FeeKind, FinancialStatus, FulfillmentStatus,
    LineItem, LineKind, Order, OrderStatus, ShippingLine, TaxLine, Tolerance, Totals,
};
use proceeds::{Parts, money, parts, shown};
use rust_decimal::RoundingStrategy;
use serde_json::Value;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    PendingAvailability,
    Pending,
    Unshipped,
    PartiallyShipped,
    Shipped,
    Cancelled,
    Unfulfillable,
    Unknown,
}

impl Status {
    fn parse(s: &str) -> Self {
        match s {
            "PENDING_AVAILABILITY" => Status::PendingAvailability,
            "PENDING" => Status::Pending,
            "UNSHIPPED" => Status::Unshipped,
            "PARTIALLY_SHIPPED" => Status::PartiallyShipped,
            "SHIPPED" => Status::Shipped,
            "CANCELLED" => Status::Cancelled,
            "UNFULFILLABLE" => Status::Unfulfillable,
            _ => Status::Unknown,
        }
    }

    fn pending(self) -> bool {
        matches!(self, Status::Pending | Status::PendingAvailability)
    }

    fn order_status(self) -> OrderStatus {
        match self {
            Status::PendingAvailability
            | Status::Pending
            | Status::Unshipped
            | Status::PartiallyShipped => OrderStatus::Open,
            Status::Shipped => OrderStatus::Closed,
            Status::Cancelled | Status::Unfulfillable => OrderStatus::Cancelled,
            Status::Unknown => OrderStatus::Unknown,
        }
    }

    /// Amazon authorizes the buyer's payment at checkout and charges it as units ship.
    fn financial(self) -> FinancialStatus {
        match self {
            Status::PendingAvailability | Status::Pending => FinancialStatus::Pending,
            Status::Unshipped => FinancialStatus::Authorized,
            Status::PartiallyShipped => FinancialStatus::PartiallyPaid,
            Status::Shipped => FinancialStatus::Paid,
            Status::Cancelled | Status::Unfulfillable => FinancialStatus::Voided,
            Status::Unknown => FinancialStatus::Unknown,
        }
    }

    fn fulfillment(self) -> FulfillmentStatus {
        match self {
            Status::PendingAvailability
            | Status::Pending
            | Status::Unshipped
            | Status::Cancelled
            | Status::Unfulfillable => FulfillmentStatus::Unfulfilled,
            Status::PartiallyShipped => FulfillmentStatus::Partial,
            Status::Shipped => FulfillmentStatus::Fulfilled,
            Status::Unknown => FulfillmentStatus::Unknown,
        }
    }
}

/// One item, read.
struct Item {
    line: LineItem,
    parts: Parts,
    /// Amazon's own total of the item as ordered.
    total: Decimal,
    collector: Collector,
    promotions: Vec<String>,
    gift_message: Option<String>,
}

fn ck(v: Option<Decimal>, what: &str) -> Result<Decimal, Reason> {
    v.ok_or_else(|| format!("amounts overflow in {what}"))
}

fn sum(values: impl IntoIterator<Item = Decimal>, what: &str) -> Result<Decimal, Reason> {
    ordersync_sdk::mapping::checked_sum(values, what)
}

/// `a × current / quantity`, rounded half-even to the currency (exact at 0 and all units).
fn share(a: Decimal, current: u32, quantity: u32, dp: u32, what: &str) -> Result<Decimal, Reason> {
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

fn tax_line(title: &str, amount: Decimal, collector: Collector) -> Vec<TaxLine> {
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

fn read_item(
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

    let discount_applications = applications(&promo_ids, &lines, &ship, &items, &app_of);
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
    };
    order.tax_lines = order
        .summarise_taxes()
        .ok_or("amounts overflow in order taxes")?;
    order.balance().map_err(|e| e.to_string())?;
    Ok(order)
}

/// One discount application per promotion id. Its value is what the items carrying only
/// that promotion were discounted (items with several promotions do not say which gave what).
fn applications(
    promo_ids: &[String],
    lines: &[LineItem],
    ship: &ShippingLine,
    items: &[Item],
    app_of: &dyn Fn(&Item) -> Option<u32>,
) -> Vec<DiscountApplication> {
    promo_ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            let index = u32::try_from(i).ok()?;
            let mine = |a: &DiscountAllocation| a.application == Some(index);
            let on_lines: Decimal = lines
                .iter()
                .flat_map(|l| &l.discounts)
                .filter(|a| mine(a))
                .map(|a| a.amount)
                .sum();
            let on_ship: Decimal = ship
                .discounts
                .iter()
                .filter(|a| mine(a))
                .map(|a| a.amount)
                .sum();
            let only_shipping = on_lines.is_zero()
                && !on_ship.is_zero()
                && items.iter().filter(|it| app_of(it) == Some(index)).count() > 0;
            Some(DiscountApplication {
                index,
                kind: DiscountKind::Automatic,
                code: None,
                title: Some(shown_title(id)),
                target: if only_shipping {
                    DiscountTarget::Shipping
                } else {
                    DiscountTarget::Line
                },
                value: DiscountValue::FixedAmount(on_lines.checked_add(on_ship)?),
                allocation: AllocationMethod::Across,
            })
        })
        .collect()
}

/// A promotion id is the seller's marketing string; keep it printable and short.
fn shown_title(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(100).collect()
}
