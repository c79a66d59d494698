//! GraphQL `Order` node → [`Parts`].

use super::parcels::{Parcels, is_dead};
use super::{
    Parts, ReadLine, Reason, address_of, financial, finish, gql_fulfillment, kind, restocks,
    strip_gid, tax_line,
};
use crate::wire_gql::{
    GqlAddress, GqlDiscountAllocation, GqlDiscountApplication, GqlFulfillment, GqlOrder, GqlRefund,
    GqlTaxLine, GqlTrackingInfo, MoneyBag,
};
use ordersync_sdk::mapping::{
    join_name, non_empty, parse_money, parse_quantity, parse_time, sum_parsed,
};
use ordersync_sdk::{
    AllocationMethod, CashRounding, Decimal, DiscountAllocation, DiscountApplication, DiscountKind,
    DiscountTarget, DiscountValue, Fee, FeeKind, LineItem, Order, Pii, Refund, RefundAdjustment,
    RefundLine, ShippingLine, TaxLine,
};
use serde::Deserialize;

/// Money of the shop currency; any other currency is a mismatch, not something to convert.
fn shop(bag: Option<&MoneyBag>, currency: &str, what: &str) -> Result<Decimal, Reason> {
    bag.map_or(Ok(Decimal::ZERO), |b| {
        parse_money(
            &b.shop_money.amount,
            &b.shop_money.currency_code,
            currency,
            what,
        )
    })
}

fn taxes(lines: &[GqlTaxLine], currency: &str, what: &str) -> Result<Vec<TaxLine>, Reason> {
    lines
        .iter()
        .map(|t| {
            Ok(tax_line(
                t.title.as_deref(),
                t.rate.as_ref(),
                t.channel_liable,
                shop(Some(&t.price_set), currency, what)?,
            ))
        })
        .collect()
}

fn allocations(
    a: &[GqlDiscountAllocation],
    currency: &str,
    what: &str,
) -> Result<Vec<DiscountAllocation>, Reason> {
    a.iter()
        .map(|d| {
            Ok(DiscountAllocation {
                amount: shop(Some(&d.allocated_amount_set), currency, what)?,
                application: d
                    .discount_application
                    .as_ref()
                    .and_then(|x| x.index)
                    .and_then(|i| u32::try_from(i).ok()),
            })
        })
        .collect()
}

fn application(a: &GqlDiscountApplication, position: usize) -> Result<DiscountApplication, Reason> {
    let value = match &a.value {
        Some(v) if v.percentage.is_some() => {
            let p = v
                .percentage
                .as_ref()
                .and_then(|n| ordersync_sdk::money::parse(&n.to_string()))
                .ok_or("unparseable discount percentage")?;
            // The schema says −100 (free) … 0; some answers are positive. A fraction either way.
            DiscountValue::Percentage(p.abs() / Decimal::ONE_HUNDRED)
        }
        Some(v) => DiscountValue::FixedAmount(ordersync_sdk::mapping::parse_amount(
            v.amount.as_deref().ok_or("discount value without amount")?,
            "discount value",
        )?),
        None => return Err("discount application without value".into()),
    };
    Ok(DiscountApplication {
        index: a
            .index
            .and_then(|i| u32::try_from(i).ok())
            .unwrap_or(u32::try_from(position).unwrap_or(u32::MAX)),
        kind: match a.typename.as_deref() {
            Some("DiscountCodeApplication") => DiscountKind::Code,
            Some("ManualDiscountApplication") => DiscountKind::Manual,
            Some("ScriptDiscountApplication") => DiscountKind::Script,
            _ => DiscountKind::Automatic,
        },
        code: non_empty(a.code.clone()),
        title: non_empty(a.title.clone()),
        target: if a.target_type.as_deref() == Some("SHIPPING_LINE") {
            DiscountTarget::Shipping
        } else {
            DiscountTarget::Line
        },
        value,
        allocation: match a.allocation_method.as_deref() {
            Some("EACH") => AllocationMethod::Each,
            Some("ONE") => AllocationMethod::One,
            _ => AllocationMethod::Across,
        },
    })
}

fn refund(r: &GqlRefund, currency: &str) -> Result<Refund, Reason> {
    let external_id = strip_gid(r.id.as_deref().ok_or("refund without id")?).to_string();
    let mut lines = Vec::new();
    if let Some(rl) = &r.refund_line_items {
        if rl.has_next() {
            return Err("a refund has more line items than one page".into());
        }
        for l in &rl.nodes {
            let line_id = l
                .line_item
                .as_ref()
                .and_then(|x| x.id.as_deref())
                .map(strip_gid)
                .ok_or("refund line without line item")?
                .to_string();
            lines.push(RefundLine {
                quantity: parse_quantity(l.quantity, &line_id)?,
                restock: restocks(l.restock_type.as_deref()),
                subtotal: shop(l.subtotal_set.as_ref(), currency, "refund line")?,
                tax: shop(l.total_tax_set.as_ref(), currency, "refund line tax")?,
                line_id,
            });
        }
    }
    let ship = r
        .refund_shipping_lines
        .as_ref()
        .map_or(&[][..], |n| &n.nodes[..]);
    let adjustments = r
        .order_adjustments
        .as_ref()
        .map_or(&[][..], |n| &n.nodes[..])
        .iter()
        .map(|a| {
            // Adjustments are negative on the order (money leaving it): given back is −amount.
            Ok(RefundAdjustment {
                reason: a.reason.clone(),
                amount: -shop(a.amount_set.as_ref(), currency, "refund adjustment")?,
                tax: -shop(a.tax_amount_set.as_ref(), currency, "refund adjustment")?,
            })
        })
        .collect::<Result<Vec<_>, Reason>>()?;
    Ok(Refund {
        external_id,
        created_at: parse_time(r.created_at.as_deref(), "refund createdAt")?,
        lines,
        shipping: sum_parsed(
            ship.iter().map(|s| {
                shop(
                    s.subtotal_amount_set.as_ref(),
                    currency,
                    "refunded shipping",
                )
            }),
            "refunded shipping",
        )?,
        shipping_tax: sum_parsed(
            ship.iter()
                .map(|s| shop(s.tax_amount_set.as_ref(), currency, "refunded shipping tax")),
            "refunded shipping tax",
        )?,
        duties: sum_parsed(
            r.duties
                .iter()
                .map(|d| shop(d.amount_set.as_ref(), currency, "refunded duties")),
            "refunded duties",
        )?,
        adjustments,
        total: shop(r.total_refunded_set.as_ref(), currency, "refund total")?,
    })
}

/// The id a GraphQL node is known by (for `Page.rejected`), without mapping the rest.
pub fn gql_external_id(node: &serde_json::Value) -> String {
    node.get("legacyResourceId")
        .and_then(|v| v.as_str())
        .or_else(|| node.get("id").and_then(|v| v.as_str()).map(strip_gid))
        .unwrap_or("unknown")
        .to_string()
}

/// Whether a page's node lacks what only [`crate::queries::ORDER_EXTRAS_QUERY`] gives: its
/// refunds' details, or more shipping lines / discount applications than the page holds.
pub fn needs_extras(node: &serde_json::Value) -> bool {
    let more = |field: &str| {
        node.get(field)
            .and_then(|c| c.get("pageInfo"))
            .and_then(|p| p.get("hasNextPage"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    };
    let refunds = node
        .get("refunds")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|r| {
            r.iter()
                .any(|x| x.get("refundLineItems").is_none() && x.get("totalRefundedSet").is_none())
        });
    refunds || more("shippingLines") || more("discountApplications")
}

/// Maps one `orders` edge node; the error is a PII-free reason.
pub fn order_from_graphql(node: &serde_json::Value) -> Result<Order, Reason> {
    let o = GqlOrder::deserialize(node).map_err(|_| "unexpected order shape".to_string())?;
    let external_id = o
        .legacy_resource_id
        .clone()
        .or_else(|| o.id.as_deref().map(|g| strip_gid(g).to_string()))
        .ok_or("missing id")?;
    let currency = o.currency_code.clone().ok_or("missing currencyCode")?;
    let c = currency.as_str();
    if o.line_items.as_ref().is_some_and(|l| l.has_next())
        || o.shipping_lines.as_ref().is_some_and(|l| l.has_next())
        || o.discount_applications
            .as_ref()
            .is_some_and(|l| l.has_next())
    {
        return Err("order node is incomplete (more nested pages)".into());
    }
    let mut lines = Vec::new();
    for l in o.line_items.as_ref().map_or(&[][..], |n| &n.nodes[..]) {
        let lid = l.id.as_deref().map(strip_gid).unwrap_or("").to_string();
        let quantity = parse_quantity(l.quantity, &lid)?;
        let has_product = l.product.is_some();
        lines.push(ReadLine {
            line: LineItem {
                quantity,
                current_quantity: match l.current_quantity {
                    Some(q) => parse_quantity(Some(q), &lid)?,
                    None => quantity,
                },
                unit_price: shop(l.original_unit_price_set.as_ref(), c, "unit price")?,
                sku: non_empty(l.sku.clone()),
                title: l.title.clone().unwrap_or_default(),
                kind: kind(l.is_gift_card.unwrap_or(false), has_product),
                requires_shipping: l.requires_shipping.unwrap_or(true),
                taxable: l.taxable.unwrap_or(true),
                discounts: allocations(&l.discount_allocations, c, "line discount")?,
                tax_lines: taxes(&l.tax_lines, c, "line tax")?,
                external_line_id: lid,
            },
            has_product,
        });
    }
    let shipping_lines = o
        .shipping_lines
        .as_ref()
        .map_or(&[][..], |n| &n.nodes[..])
        .iter()
        .map(|s| {
            Ok(ShippingLine {
                title: s.title.clone(),
                code: s.code.clone(),
                price: shop(s.original_price_set.as_ref(), c, "shipping line")?,
                discounts: allocations(&s.discount_allocations, c, "shipping discount")?,
                tax_lines: taxes(&s.tax_lines, c, "shipping tax")?,
            })
        })
        .collect::<Result<Vec<_>, Reason>>()?;
    let fees = o
        .additional_fees
        .iter()
        .map(|f| {
            Ok(Fee {
                kind: FeeKind::AdditionalFee,
                title: f.name.clone(),
                amount: shop(f.price.as_ref(), c, "additional fee")?,
                tax_lines: taxes(&f.tax_lines, c, "additional fee tax")?,
            })
        })
        .collect::<Result<Vec<_>, Reason>>()?;
    let discount_applications = o
        .discount_applications
        .as_ref()
        .map_or(&[][..], |n| &n.nodes[..])
        .iter()
        .enumerate()
        .map(|(i, a)| application(a, i))
        .collect::<Result<Vec<_>, Reason>>()?;
    let refunds = o
        .refunds
        .iter()
        .map(|r| refund(r, c))
        .collect::<Result<Vec<_>, Reason>>()?;
    let total_bag = o.total_price_set.as_ref().ok_or("missing totalPriceSet")?;
    let current_bag = o
        .current_total_price_set
        .as_ref()
        .ok_or("missing currentTotalPriceSet")?;
    let presentment = match (
        &o.presentment_currency_code,
        &total_bag.presentment_money,
        &current_bag.presentment_money,
    ) {
        (Some(pc), Some(t), Some(ct)) if *pc != currency => Some((
            pc.clone(),
            parse_money(&t.amount, &t.currency_code, pc, "presentment total")?,
            parse_money(
                &ct.amount,
                &ct.currency_code,
                pc,
                "presentment current total",
            )?,
        )),
        (Some(pc), _, _) if *pc != currency => {
            return Err("presentment currency without presentment totals".into());
        }
        _ => None,
    };
    let cash = o.total_cash_rounding_adjustment.as_ref();
    let buyer_name = o
        .customer
        .as_ref()
        .and_then(|c| join_name(c.first_name.as_deref(), c.last_name.as_deref()))
        .or_else(|| o.shipping_address.as_ref().and_then(|a| a.name.clone()));
    let parts = Parts {
        order_number: o.name.clone().unwrap_or_else(|| external_id.clone()),
        external_id,
        cancelled: o.cancelled_at.is_some(),
        closed: o.closed.unwrap_or(false),
        financial_status: financial(o.display_financial_status.as_deref()),
        fulfillment_status: gql_fulfillment(o.display_fulfillment_status.as_deref()),
        created_at: parse_time(o.created_at.as_deref(), "createdAt")?,
        updated_at: parse_time(o.updated_at.as_deref(), "updatedAt")?,
        taxes_included: o.taxes_included.unwrap_or(false),
        tax_exempt: o.tax_exempt.unwrap_or(false),
        fulfillments: fulfillments(node.get("fulfillments")),
        shipping_method: shipping_lines.first().and_then(|s| s.title.clone()),
        lines,
        shipping_lines,
        fees,
        discount_applications,
        refunds,
        total_shipping: shop(o.total_shipping_price_set.as_ref(), c, "shipping")?,
        total_discounts: shop(o.total_discounts_set.as_ref(), c, "discounts")?,
        total_tax: shop(o.total_tax_set.as_ref(), c, "tax")?,
        total: shop(Some(total_bag), c, "total")?,
        tips: shop(o.total_tip_received_set.as_ref(), c, "tips")?,
        duties: shop(o.original_total_duties_set.as_ref(), c, "duties")?,
        current_subtotal: shop(o.current_subtotal_price_set.as_ref(), c, "current subtotal")?,
        current_discounts: shop(
            o.current_total_discounts_set.as_ref(),
            c,
            "current discounts",
        )?,
        current_shipping: Some(shop(
            o.current_shipping_price_set.as_ref(),
            c,
            "current shipping",
        )?),
        current_tax: shop(o.current_total_tax_set.as_ref(), c, "current tax")?,
        current_fees: shop(o.current_total_duties_set.as_ref(), c, "current duties")?
            .checked_add(shop(
                o.current_total_additional_fees_set.as_ref(),
                c,
                "current fees",
            )?)
            .ok_or("amounts overflow in current fees")?,
        current_total: shop(Some(current_bag), c, "current total")?,
        presentment,
        cash_rounding: CashRounding {
            payment: shop(
                cash.and_then(|x| x.payment_set.as_ref()),
                c,
                "cash rounding",
            )?,
            refund: shop(cash.and_then(|x| x.refund_set.as_ref()), c, "cash rounding")?,
        },
        pii: Pii {
            buyer_name,
            email: non_empty(o.email),
            phone: non_empty(o.phone),
            shipping_address: o.shipping_address.map(address),
            billing_address: o.billing_address.map(address),
            notes: non_empty(o.note),
        },
        currency,
    };
    finish(parts)
}

/// Every `trackingInfo` number of the fulfillments that were not cancelled or failed, each
/// with its company and the fulfillment's `createdAt`.
fn fulfillments(v: Option<&serde_json::Value>) -> Vec<ordersync_sdk::Fulfillment> {
    let mut out = Parcels::default();
    for f in v
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        let Ok(f) = GqlFulfillment::deserialize(f) else {
            continue;
        };
        if is_dead(f.status.as_deref()) {
            continue;
        }
        let at = parse_time(f.created_at.as_deref(), "fulfillment createdAt").ok();
        for t in &f.tracking_info {
            if let Ok(t) = GqlTrackingInfo::deserialize(t) {
                out.push(t.number.as_deref(), t.company.as_deref(), at);
            }
        }
    }
    out.into_vec()
}

fn address(a: GqlAddress) -> ordersync_sdk::Address {
    address_of(ordersync_sdk::Address {
        name: a
            .name
            .or_else(|| join_name(a.first_name.as_deref(), a.last_name.as_deref())),
        company: a.company,
        line1: a.address1,
        line2: a.address2,
        city: a.city,
        region: a.province_code.or(a.province),
        postal_code: a.zip,
        country_code: a.country_code_v2,
        phone: a.phone,
    })
}
