//! REST order object (an `orders.json` element or a webhook body) → [`Parts`].

use super::parcels::{Parcels, is_dead};
use super::{
    Parts, ReadLine, Reason, address_of, financial, finish, kind, rest_fulfillment, restocks,
    tax_line,
};
use crate::wire_rest::{
    RestAddress, RestDiscountAllocation, RestFulfillment, RestMoneySet, RestOrder, RestTaxLine,
};
use ordersync_sdk::mapping::{
    join_name, non_empty, parse_amount, parse_money, parse_opt_amount, parse_quantity, parse_time,
};
use ordersync_sdk::{
    AllocationMethod, CashRounding, Decimal, DiscountAllocation, DiscountApplication, DiscountKind,
    DiscountTarget, DiscountValue, Fee, FeeKind, LineItem, Order, Pii, Refund, RefundAdjustment,
    RefundLine, ShippingLine, TaxLine,
};
use serde::Deserialize;

fn set(s: Option<&RestMoneySet>, currency: &str, what: &str) -> Result<Decimal, Reason> {
    s.map_or(Ok(Decimal::ZERO), |s| {
        parse_money(
            &s.shop_money.amount,
            &s.shop_money.currency_code,
            currency,
            what,
        )
    })
}

fn taxes(lines: &[RestTaxLine], what: &str) -> Result<Vec<TaxLine>, Reason> {
    lines
        .iter()
        .map(|t| {
            Ok(tax_line(
                t.title.as_deref(),
                t.rate.as_ref(),
                t.channel_liable,
                parse_amount(&t.price, what)?,
            ))
        })
        .collect()
}

fn allocations(
    a: &[RestDiscountAllocation],
    what: &str,
) -> Result<Vec<DiscountAllocation>, Reason> {
    a.iter()
        .map(|d| {
            Ok(DiscountAllocation {
                amount: parse_amount(&d.amount, what)?,
                application: d
                    .discount_application_index
                    .and_then(|i| u32::try_from(i).ok()),
            })
        })
        .collect()
}

/// Maps a REST order object (an `orders.json` element or a webhook body).
pub fn order_from_rest(v: &serde_json::Value) -> Result<Order, Reason> {
    let o = RestOrder::deserialize(v).map_err(|_| "unexpected order shape".to_string())?;
    let external_id = o.id.as_ref().ok_or("missing id")?.to_string();
    let currency = o.currency.clone().ok_or("missing currency")?;
    let c = currency.as_str();
    let mut lines = Vec::with_capacity(o.line_items.len());
    for l in &o.line_items {
        let lid = l.id.as_ref().map(ToString::to_string).unwrap_or_default();
        let quantity = parse_quantity(l.quantity, &lid)?;
        let has_product = l.product_id.is_some();
        lines.push(ReadLine {
            line: LineItem {
                quantity,
                current_quantity: match l.current_quantity {
                    Some(q) => parse_quantity(Some(q), &lid)?,
                    None => quantity,
                },
                unit_price: parse_amount(
                    l.price.as_deref().ok_or("line without price")?,
                    "unit price",
                )?,
                sku: non_empty(l.sku.clone()),
                title: l.title.clone().unwrap_or_default(),
                kind: kind(l.gift_card.unwrap_or(false), has_product),
                requires_shipping: l.requires_shipping.unwrap_or(true),
                taxable: l.taxable.unwrap_or(true),
                discounts: allocations(&l.discount_allocations, "line discount")?,
                tax_lines: taxes(&l.tax_lines, "line tax")?,
                external_line_id: lid,
            },
            has_product,
        });
    }
    let shipping_lines = o
        .shipping_lines
        .iter()
        .filter(|s| s.is_removed != Some(true))
        .map(|s| {
            Ok(ShippingLine {
                title: s.title.clone(),
                code: s.code.clone(),
                price: parse_opt_amount(s.price.as_deref(), "shipping line")?,
                discounts: allocations(&s.discount_allocations, "shipping discount")?,
                tax_lines: taxes(&s.tax_lines, "shipping tax")?,
            })
        })
        .collect::<Result<Vec<_>, Reason>>()?;
    let discount_applications = o
        .discount_applications
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let raw = parse_amount(
                a.value.as_deref().ok_or("discount without value")?,
                "discount value",
            )?;
            Ok(DiscountApplication {
                index: u32::try_from(i).unwrap_or(u32::MAX),
                kind: match a.kind.as_deref() {
                    Some("discount_code") => DiscountKind::Code,
                    Some("manual") => DiscountKind::Manual,
                    Some("script") => DiscountKind::Script,
                    _ => DiscountKind::Automatic,
                },
                code: non_empty(a.code.clone()),
                title: non_empty(a.title.clone()),
                target: if a.target_type.as_deref() == Some("shipping_line") {
                    DiscountTarget::Shipping
                } else {
                    DiscountTarget::Line
                },
                value: if a.value_type.as_deref() == Some("percentage") {
                    DiscountValue::Percentage(raw.abs() / Decimal::ONE_HUNDRED)
                } else {
                    DiscountValue::FixedAmount(raw)
                },
                allocation: match a.allocation_method.as_deref() {
                    Some("each") => AllocationMethod::Each,
                    Some("one") => AllocationMethod::One,
                    _ => AllocationMethod::Across,
                },
            })
        })
        .collect::<Result<Vec<_>, Reason>>()?;
    let mut refunds = Vec::with_capacity(o.refunds.len());
    for r in &o.refunds {
        let mut refund = Refund {
            external_id: r.id.as_ref().ok_or("refund without id")?.to_string(),
            created_at: parse_time(r.created_at.as_deref(), "refund created_at")?,
            lines: Vec::with_capacity(r.refund_line_items.len()),
            shipping: Decimal::ZERO,
            shipping_tax: Decimal::ZERO,
            duties: set(r.total_duties_set.as_ref(), c, "refunded duties")?,
            adjustments: vec![],
            total: Decimal::ZERO,
        };
        for l in &r.refund_line_items {
            let line_id = l
                .line_item_id
                .as_ref()
                .ok_or("refund line without line item")?
                .to_string();
            refund.lines.push(RefundLine {
                quantity: parse_quantity(l.quantity, &line_id)?,
                restock: restocks(l.restock_type.as_deref()),
                subtotal: set(l.subtotal_set.as_ref(), c, "refund line")?,
                tax: set(l.total_tax_set.as_ref(), c, "refund line tax")?,
                line_id,
            });
        }
        for a in &r.order_adjustments {
            // Adjustments are negative on the order (money leaving it): given back is −amount.
            let amount = -parse_opt_amount(a.amount.as_deref(), "refund adjustment")?;
            let tax = -parse_opt_amount(a.tax_amount.as_deref(), "refund adjustment")?;
            if a.kind.as_deref() == Some("shipping_refund") {
                refund.shipping = refund
                    .shipping
                    .checked_add(amount)
                    .ok_or("amounts overflow in refund")?;
                refund.shipping_tax = refund
                    .shipping_tax
                    .checked_add(tax)
                    .ok_or("amounts overflow in refund")?;
            } else {
                refund.adjustments.push(RefundAdjustment {
                    reason: a.kind.clone().or_else(|| a.reason.clone()),
                    amount,
                    tax,
                });
            }
        }
        for t in &r.transactions {
            if t.kind.as_deref() == Some("refund") && t.status.as_deref() == Some("success") {
                let a = parse_opt_amount(t.amount.as_deref(), "refund transaction")?;
                refund.total = refund
                    .total
                    .checked_add(a)
                    .ok_or("amounts overflow in refund")?;
            }
        }
        refunds.push(refund);
    }
    let presentment = match (
        &o.presentment_currency,
        &o.total_price_set,
        &o.current_total_price_set,
    ) {
        (Some(pc), Some(t), Some(ct)) if *pc != currency => {
            let p = |s: &RestMoneySet, what| {
                let m = s
                    .presentment_money
                    .as_ref()
                    .ok_or("presentment money missing")?;
                parse_money(&m.amount, &m.currency_code, pc, what)
            };
            Some((
                pc.clone(),
                p(t, "presentment total")?,
                p(ct, "presentment current total")?,
            ))
        }
        (Some(pc), _, _) if *pc != currency => {
            return Err("presentment currency without presentment totals".into());
        }
        _ => None,
    };
    let current_fees = set(o.current_total_duties_set.as_ref(), c, "current duties")?
        .checked_add(set(
            o.current_total_additional_fees_set.as_ref(),
            c,
            "current fees",
        )?)
        .ok_or("amounts overflow in current fees")?;
    let customer = o.customer.unwrap_or_default();
    let buyer_name = join_name(
        customer.first_name.as_deref(),
        customer.last_name.as_deref(),
    )
    .or_else(|| o.shipping_address.as_ref().and_then(|a| a.name.clone()));
    let total = parse_amount(
        o.total_price.as_deref().ok_or("missing total_price")?,
        "total",
    )?;
    let parts = Parts {
        order_number: o.name.clone().unwrap_or_else(|| external_id.clone()),
        external_id,
        cancelled: o.cancelled_at.is_some(),
        closed: o.closed_at.is_some(),
        financial_status: financial(o.financial_status.as_deref()),
        fulfillment_status: rest_fulfillment(o.fulfillment_status.as_deref()),
        created_at: parse_time(o.created_at.as_deref(), "created_at")?,
        updated_at: parse_time(o.updated_at.as_deref(), "updated_at")?,
        taxes_included: o.taxes_included.unwrap_or(false),
        tax_exempt: o.tax_exempt.unwrap_or(false),
        fulfillments: fulfillments(v.get("fulfillments")),
        shipping_method: shipping_lines.first().and_then(|s| s.title.clone()),
        lines,
        shipping_lines,
        fees: rest_fees(
            &o.additional_fees,
            o.original_total_additional_fees_set.as_ref(),
            c,
        )?,
        discount_applications,
        refunds,
        total_shipping: set(o.total_shipping_price_set.as_ref(), c, "shipping")?,
        total_discounts: parse_opt_amount(o.total_discounts.as_deref(), "discounts")?,
        total_tax: parse_opt_amount(o.total_tax.as_deref(), "tax")?,
        total,
        tips: parse_opt_amount(o.total_tip_received.as_deref(), "tips")?,
        duties: set(o.original_total_duties_set.as_ref(), c, "duties")?,
        current_subtotal: match o.current_subtotal_price.as_deref() {
            Some(s) => parse_amount(s, "current subtotal")?,
            None => return Err("missing current_subtotal_price".into()),
        },
        current_discounts: parse_opt_amount(
            o.current_total_discounts.as_deref(),
            "current discounts",
        )?,
        current_shipping: match &o.current_shipping_price_set {
            Some(s) => Some(set(Some(s), c, "current shipping")?),
            None => None,
        },
        current_tax: parse_opt_amount(o.current_total_tax.as_deref(), "current tax")?,
        current_fees,
        current_total: parse_amount(
            o.current_total_price
                .as_deref()
                .ok_or("missing current_total_price")?,
            "current total",
        )?,
        presentment,
        cash_rounding: CashRounding {
            payment: set(
                o.total_cash_rounding_payment_adjustment_set.as_ref(),
                c,
                "cash rounding",
            )?,
            refund: set(
                o.total_cash_rounding_refund_adjustment_set.as_ref(),
                c,
                "cash rounding",
            )?,
        },
        pii: Pii {
            buyer_name,
            email: non_empty(o.email)
                .or(non_empty(o.contact_email))
                .or(non_empty(customer.email)),
            phone: non_empty(o.phone).or(non_empty(customer.phone)),
            shipping_address: o.shipping_address.map(address),
            billing_address: o.billing_address.map(address),
            notes: non_empty(o.note),
        },
        currency,
    };
    finish(parts)
}

/// Every tracking number of the fulfillments that were not cancelled or failed, each with
/// its fulfillment's company and creation time.
fn fulfillments(v: Option<&serde_json::Value>) -> Vec<ordersync_sdk::Fulfillment> {
    let mut out = Parcels::default();
    for f in v
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        let Ok(f) = RestFulfillment::deserialize(f) else {
            continue;
        };
        if is_dead(f.status.as_deref()) {
            continue;
        }
        let at = parse_time(f.created_at.as_deref(), "fulfillment created_at").ok();
        let company = f.tracking_company.as_deref();
        let numbers: Vec<&str> = f
            .tracking_numbers
            .iter()
            .filter_map(serde_json::Value::as_str)
            .collect();
        if numbers.is_empty() {
            out.push(f.tracking_number.as_deref(), company, at);
        }
        for n in numbers {
            out.push(Some(n), company, at);
        }
    }
    out.into_vec()
}

/// `additional_fees` when the payload lists them; otherwise one fee of their total (older
/// payloads carry only `original_total_additional_fees_set`).
fn rest_fees(
    fees: &[crate::wire_rest::RestFee],
    total: Option<&RestMoneySet>,
    c: &str,
) -> Result<Vec<Fee>, Reason> {
    if fees.is_empty() {
        let amount = set(total, c, "additional fees")?;
        return Ok(if amount.is_zero() {
            vec![]
        } else {
            vec![Fee {
                kind: FeeKind::AdditionalFee,
                title: None,
                amount,
                tax_lines: vec![],
            }]
        });
    }
    fees.iter()
        .map(|f| {
            Ok(Fee {
                kind: FeeKind::AdditionalFee,
                title: f.name.clone(),
                amount: set(f.price_set.as_ref(), c, "additional fee")?,
                tax_lines: taxes(&f.tax_lines, "additional fee tax")?,
            })
        })
        .collect()
}

fn address(a: RestAddress) -> ordersync_sdk::Address {
    address_of(ordersync_sdk::Address {
        name: non_empty(a.name)
            .or_else(|| join_name(a.first_name.as_deref(), a.last_name.as_deref())),
        company: a.company,
        line1: a.address1,
        line2: a.address2,
        city: a.city,
        region: a.province_code.or(a.province),
        postal_code: a.zip,
        country_code: a.country_code,
        phone: a.phone,
    })
}
