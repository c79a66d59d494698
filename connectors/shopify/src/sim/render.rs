//! The REST order object of a simulated order, shaped like the 2026-07 examples
//! (`fixtures/GET_order_450789469.response.json`): every amount a string with its `*_set`
//! carrying shop and presentment money. The GraphQL node is in `gql_render.rs`.

use super::money::{Amt, rate_number, short_decimal};
use super::order::{
    Alloc, Allocation, DiscountKind, DiscountValue, FAR_DATE, Fulfillment, HUGE_PRICE, LineKind,
    Poison, RestockType, SimLine, SimOrder, SimRefund, SimShipping, TargetSelection, Tax,
};
use super::search::local;
use serde_json::{Value, json};

/// `{shop_money, presentment_money}` of an amount in shop minor units.
fn set(o: &SimOrder, minor: i64) -> Value {
    json!({
        "shop_money": { "amount": o.money.amt(minor).to_string(), "currency_code": o.currency() },
        "presentment_money": {
            "amount": o.money.present(minor).to_string(),
            "currency_code": o.money.presentment_currency(),
        },
    })
}

fn amount(o: &SimOrder, minor: i64) -> String {
    o.money.amt(minor).to_string()
}

/// An amount as a JSON number (refund lines' `subtotal` and `total_tax` are numbers in the
/// example), written from its exact decimal text.
fn number(a: Amt) -> Value {
    serde_json::from_str(&a.to_string()).unwrap_or(Value::Null)
}

fn tax_lines(o: &SimOrder, t: &[Tax]) -> Value {
    t.iter()
        .map(|t| {
            json!({
                "title": t.title, "rate": rate_number(t.rate), "price": amount(o, t.amount),
                "price_set": set(o, t.amount), "channel_liable": t.channel_liable,
            })
        })
        .collect()
}

fn allocations(o: &SimOrder, a: &[Alloc]) -> Value {
    a.iter()
        .map(|a| {
            json!({
                "amount": amount(o, a.amount), "amount_set": set(o, a.amount),
                "discount_application_index": a.app,
            })
        })
        .collect()
}

fn rest_address(o: &SimOrder) -> Value {
    let b = &o.buyer;
    json!({
        "first_name": b.first_name, "last_name": b.last_name,
        "name": format!("{} {}", b.first_name, b.last_name), "company": null,
        "address1": b.address1, "address2": "", "city": b.city, "province": "California",
        "province_code": b.province_code, "zip": b.zip, "country": "United States",
        "country_code": b.country_code, "phone": b.phone,
    })
}

fn rest_line(o: &SimOrder, l: &SimLine) -> Value {
    json!({
        "id": l.id, "admin_graphql_api_id": format!("gid://shopify/LineItem/{}", l.id),
        "sku": l.sku, "title": l.title, "name": l.title, "quantity": l.quantity,
        "current_quantity": l.current_quantity(),
        "gift_card": l.kind == LineKind::GiftCard,
        "requires_shipping": l.requires_shipping, "taxable": l.taxable,
        "product_id": l.product_id, "product_exists": l.product_id.is_some(),
        "price": amount(o, l.unit), "price_set": set(o, l.unit),
        // Legacy: checkout discounts are in `discount_allocations`, and this stays 0 (as in
        // the example, whose line has a 3.34 allocation).
        "total_discount": amount(o, 0), "total_discount_set": set(o, 0),
        "discount_allocations": allocations(o, &l.discounts),
        "tax_lines": tax_lines(o, &l.taxes),
        "duties": [],
    })
}

fn rest_shipping(o: &SimOrder, s: &SimShipping) -> Value {
    json!({
        "id": s.id, "title": s.title, "code": s.code, "source": "shopify",
        "carrier_identifier": null, "phone": null,
        "price": amount(o, s.price), "price_set": set(o, s.price),
        "discounted_price": amount(o, s.discounted()), "discounted_price_set": set(o, s.discounted()),
        "is_removed": false,
        "discount_allocations": allocations(o, &s.discounts),
        "tax_lines": tax_lines(o, &s.taxes),
    })
}

fn rest_discounts(o: &SimOrder) -> (Value, Value) {
    let dp = o.dp();
    let apps: Vec<Value> = o
        .discounts
        .iter()
        .map(|d| {
            let (value, value_type) = match d.value {
                DiscountValue::Percentage(bp) => (short_decimal(bp, 2), "percentage"),
                DiscountValue::Fixed(a) => (short_decimal(a, dp), "fixed_amount"),
            };
            let mut v = json!({
                "target_type": if d.shipping { "shipping_line" } else { "line_item" },
                "type": match d.kind {
                    DiscountKind::Code => "discount_code",
                    DiscountKind::Automatic => "automatic",
                    DiscountKind::Manual => "manual",
                    DiscountKind::Script => "script",
                },
                "value": value, "value_type": value_type,
                "allocation_method": match d.allocation {
                    Allocation::Across => "across",
                    Allocation::Each => "each",
                    Allocation::One => "one",
                },
                "target_selection": match d.selection {
                    TargetSelection::All => "all",
                    TargetSelection::Entitled => "entitled",
                    TargetSelection::Explicit => "explicit",
                },
            });
            match d.kind {
                DiscountKind::Code => v["code"] = json!(d.label),
                _ => {
                    v["title"] = json!(d.label);
                    v["description"] = json!(d.label);
                }
            }
            v
        })
        .collect();
    let codes: Vec<Value> = o
        .discounts
        .iter()
        .filter(|d| d.kind == DiscountKind::Code)
        .map(|d| {
            json!({
                "code": d.label, "amount": amount(o, o.allocated(d.index)),
                "type": match (d.shipping, d.value) {
                    (true, _) => "shipping",
                    (false, DiscountValue::Percentage(_)) => "percentage",
                    (false, DiscountValue::Fixed(_)) => "fixed_amount",
                },
            })
        })
        .collect();
    (Value::Array(apps), Value::Array(codes))
}

fn rest_refund(o: &SimOrder, r: &SimRefund) -> Value {
    let lines: Vec<Value> = r
        .lines
        .iter()
        .map(|rl| {
            let line_id = o.lines.get(rl.line).map_or(0, |l| l.id);
            json!({
                "id": rl.id, "line_item_id": line_id, "quantity": rl.quantity,
                "location_id": null,
                "restock_type": match rl.restock {
                    RestockType::Return => "return",
                    RestockType::NoRestock => "no_restock",
                    RestockType::Cancel => "cancel",
                },
                "subtotal": number(o.money.amt(rl.subtotal)), "subtotal_set": set(o, rl.subtotal),
                "total_tax": number(o.money.amt(rl.tax)), "total_tax_set": set(o, rl.tax),
            })
        })
        .collect();
    // REST books refunded shipping as a negative `shipping_refund` order adjustment. Its id and
    // the transaction's are the refund's plus 40 and 70: an order has fewer refunds than that
    // (ids of one order's refunds are 100 apart from the next order's).
    let adjustments: Vec<Value> = (r.shipping > 0 || r.shipping_tax > 0)
        .then(|| {
            json!({
                "id": r.id + 40, "order_id": o.id, "refund_id": r.id,
                "kind": "shipping_refund", "reason": "Shipping refund",
                "amount": amount(o, -r.shipping), "amount_set": set(o, -r.shipping),
                "tax_amount": amount(o, -r.shipping_tax), "tax_amount_set": set(o, -r.shipping_tax),
            })
        })
        .into_iter()
        .collect();
    json!({
        "id": r.id, "admin_graphql_api_id": format!("gid://shopify/Refund/{}", r.id),
        "order_id": o.id, "created_at": local(r.created), "processed_at": local(r.created),
        "note": null,
        "restock": r.lines.iter().any(|l| matches!(l.restock, RestockType::Return | RestockType::Cancel)),
        "refund_line_items": lines,
        "order_adjustments": adjustments,
        "total_duties_set": set(o, r.duties), "duties": [],
        "total_additional_fees_set": set(o, 0), "additional_fees": [],
        // In the shop currency (a simplification: Shopify's are in the buyer's).
        "transactions": [{
            "id": r.id + 70, "admin_graphql_api_id": format!("gid://shopify/OrderTransaction/{}", r.id + 70),
            "order_id": o.id, "kind": "refund", "status": "success", "gateway": "bogus",
            "amount": amount(o, r.total), "currency": o.currency(),
            "created_at": local(r.created),
        }],
    })
}

/// `fulfillments[]`, shaped like the example's (`status`, `tracking_company`,
/// `tracking_number(s)`, `tracking_url(s)`, the line items it holds).
fn rest_fulfillments(o: &SimOrder) -> Vec<Value> {
    o.parcels
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let url = p.carrier.url(&p.number);
            json!({
                "id": p.id, "admin_graphql_api_id": format!("gid://shopify/Fulfillment/{}", p.id),
                "created_at": local(p.created), "updated_at": local(p.created),
                "location_id": 655_441_491, "name": format!("#{}.{}", o.number, k + 1),
                "order_id": o.id, "origin_address": {}, "receipt": {}, "service": "manual",
                "shipment_status": null,
                "status": if p.live { "success" } else { "cancelled" },
                "tracking_company": p.carrier.name(),
                "tracking_number": p.number, "tracking_numbers": [p.number],
                "tracking_url": url, "tracking_urls": [url],
                "line_items": p.lines.iter().filter_map(|i| o.lines.get(*i)).map(|l| rest_line(o, l)).collect::<Vec<_>>(),
            })
        })
        .collect()
}

pub fn rest_order(o: &SimOrder) -> Value {
    let b = &o.buyer;
    let t = o.totals();
    let c = o.current();
    let mut lines: Vec<Value> = o.lines.iter().map(|l| rest_line(o, l)).collect();
    let created = match o.poison {
        Some(Poison::FarDate) => FAR_DATE.to_string(),
        _ => local(o.created),
    };
    if o.poison == Some(Poison::HugePrice)
        && let Some(l) = lines.first_mut()
    {
        l["price"] = json!(HUGE_PRICE);
        l["price_set"]["shop_money"]["amount"] = json!(HUGE_PRICE);
    }
    let (discount_applications, discount_codes) = rest_discounts(o);
    let duties = |v: i64| if t.duties > 0 { set(o, v) } else { Value::Null };
    let fees = |v: i64| {
        if o.fees.is_empty() {
            Value::Null
        } else {
            set(o, v)
        }
    };
    let mut v = json!({
        "id": o.id,
        "admin_graphql_api_id": format!("gid://shopify/Order/{}", o.id),
        "name": format!("#{}", o.number), "number": o.number - 1000 + 1, "order_number": o.number,
        "email": b.email, "contact_email": b.email, "phone": b.phone,
        "created_at": created, "processed_at": created, "updated_at": local(o.updated),
        "cancelled_at": o.cancelled.map(local), "cancel_reason": o.cancelled.map(|_| "customer"),
        "closed_at": o.closed.map(local),
        "currency": o.currency(), "presentment_currency": o.money.presentment_currency(),
        "financial_status": o.financial.rest(),
        "fulfillment_status": match o.fulfillment {
            Fulfillment::Unfulfilled => Value::Null,
            Fulfillment::Partial => json!("partial"),
            Fulfillment::Fulfilled => json!("fulfilled"),
        },
        "taxes_included": o.included(), "tax_exempt": o.tax_exempt,
        "test": false, "note": o.note, "note_attributes": [],
        "total_line_items_price": amount(o, t.line_items), "total_line_items_price_set": set(o, t.line_items),
        "subtotal_price": amount(o, t.subtotal), "subtotal_price_set": set(o, t.subtotal),
        "total_discounts": amount(o, t.discounts), "total_discounts_set": set(o, t.discounts),
        "total_tax": amount(o, t.tax), "total_tax_set": set(o, t.tax),
        "total_price": amount(o, t.total), "total_price_set": set(o, t.total),
        "total_shipping_price_set": set(o, t.shipping),
        "current_subtotal_price": amount(o, c.subtotal), "current_subtotal_price_set": set(o, c.subtotal),
        "current_total_discounts": amount(o, c.discounts), "current_total_discounts_set": set(o, c.discounts),
        "current_total_tax": amount(o, c.tax), "current_total_tax_set": set(o, c.tax),
        "current_total_price": amount(o, c.total), "current_total_price_set": set(o, c.total),
        "current_shipping_price_set": set(o, c.shipping_discounted),
        "total_tip_received": amount(o, o.tips()),
        "original_total_duties_set": duties(t.duties),
        "current_total_duties_set": duties(c.duties),
        "original_total_additional_fees_set": fees(t.fees),
        "current_total_additional_fees_set": fees(c.fees),
        "total_cash_rounding_payment_adjustment_set": set(o, o.cash_payment()),
        "total_cash_rounding_refund_adjustment_set": set(o, o.cash_refund()),
        "discount_applications": discount_applications,
        "discount_codes": discount_codes,
        "tax_lines": tax_lines(o, &o.tax_summary()),
        "customer": {
            "id": o.id / 7, "email": b.email, "first_name": b.first_name, "last_name": b.last_name,
            "phone": b.phone, "currency": o.currency(),
        },
        "billing_address": rest_address(o), "shipping_address": rest_address(o),
        "line_items": lines,
        "shipping_lines": o.shipping.iter().map(|s| rest_shipping(o, s)).collect::<Vec<_>>(),
        "refunds": o.refunds.iter().map(|r| rest_refund(o, r)).collect::<Vec<_>>(),
        "fulfillments": rest_fulfillments(o),
    });
    if o.poison == Some(Poison::Unmappable) {
        v["total_price"] = Value::Null;
        v["total_price_set"] = Value::Null;
    }
    v
}
