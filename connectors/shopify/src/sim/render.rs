//! The REST order object of a simulated order (shaped like the 2026-07 examples). The GraphQL
//! node is in `gql_render.rs`.

use super::search::local;
use super::store::{FAR_DATE, Fulfillment, HUGE_PRICE, Poison, SimLine, SimOrder, TAX_RATE_BP};
use serde_json::{Value, json};

const CURRENCY: &str = "USD";

/// Cents as Shopify's decimal string ("12.50").
pub fn amount(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

fn rest_set(cents: i64) -> Value {
    let m = json!({ "amount": amount(cents), "currency_code": CURRENCY });
    json!({ "shop_money": m, "presentment_money": m })
}

/// "0.0825" (a JSON number written from its exact decimal, as Shopify's `rate`).
fn tax_rate() -> Value {
    serde_json::from_str(&format!("0.{:04}", TAX_RATE_BP)).unwrap_or(Value::Null)
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

fn rest_line(l: &SimLine) -> Value {
    json!({
        "id": l.id, "admin_graphql_api_id": format!("gid://shopify/LineItem/{}", l.id),
        "sku": l.sku, "title": l.title, "name": l.title, "quantity": l.quantity,
        "current_quantity": l.quantity,
        "price": amount(l.unit_cents), "price_set": rest_set(l.unit_cents),
        "total_discount": "0.00", "total_discount_set": rest_set(0),
        "discount_allocations": if l.discount_cents > 0 {
            json!([{ "amount": amount(l.discount_cents), "amount_set": rest_set(l.discount_cents), "discount_application_index": 0 }])
        } else { json!([]) },
        "tax_lines": [{ "title": "State Tax", "rate": tax_rate(), "price": amount(l.tax_cents), "price_set": rest_set(l.tax_cents), "channel_liable": null }],
        "requires_shipping": true, "taxable": true,
    })
}

pub fn rest_order(o: &SimOrder) -> Value {
    let b = &o.buyer;
    let gross = o.subtotal_gross();
    let mut lines: Vec<Value> = o.lines.iter().map(rest_line).collect();
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
    let mut v = json!({
        "id": o.id,
        "admin_graphql_api_id": format!("gid://shopify/Order/{}", o.id),
        "name": format!("#{}", o.number), "number": o.number - 1000 + 1, "order_number": o.number,
        "email": b.email, "contact_email": b.email, "phone": b.phone,
        "created_at": created, "processed_at": created, "updated_at": local(o.updated),
        "cancelled_at": o.cancelled.map(local), "cancel_reason": o.cancelled.map(|_| "customer"),
        "closed_at": o.closed.map(local),
        "currency": CURRENCY, "presentment_currency": CURRENCY,
        "financial_status": if o.cancelled.is_some() { "voided" } else { "paid" },
        "fulfillment_status": match o.fulfillment {
            Fulfillment::Unfulfilled => Value::Null,
            Fulfillment::Partial => json!("partial"),
            Fulfillment::Fulfilled => json!("fulfilled"),
        },
        "taxes_included": false, "test": false, "note": o.note, "note_attributes": [],
        "total_line_items_price": amount(gross), "total_line_items_price_set": rest_set(gross),
        "subtotal_price": amount(gross - o.discounts()), "subtotal_price_set": rest_set(gross - o.discounts()),
        "total_discounts": amount(o.discounts()), "total_discounts_set": rest_set(o.discounts()),
        "total_tax": amount(o.tax()), "total_tax_set": rest_set(o.tax()),
        "total_price": amount(o.total()), "total_price_set": rest_set(o.total()),
        "total_shipping_price_set": rest_set(o.shipping_cents),
        "tax_lines": [{ "title": "State Tax", "rate": tax_rate(), "price": amount(o.tax()), "price_set": rest_set(o.tax()), "channel_liable": null }],
        "customer": {
            "id": o.id / 7, "email": b.email, "first_name": b.first_name, "last_name": b.last_name,
            "phone": b.phone, "currency": CURRENCY,
        },
        "billing_address": rest_address(o), "shipping_address": rest_address(o),
        "line_items": lines,
        "shipping_lines": [{
            "id": o.id + 1, "code": o.shipping_title, "title": o.shipping_title, "source": "shopify",
            "price": amount(o.shipping_cents), "price_set": rest_set(o.shipping_cents),
            "discounted_price": amount(o.shipping_cents), "discounted_price_set": rest_set(o.shipping_cents),
            "tax_lines": [], "discount_allocations": [],
        }],
    });
    if o.poison == Some(Poison::Unmappable) {
        v["total_price"] = Value::Null;
        v["total_price_set"] = Value::Null;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(amount(0), "0.00");
        assert_eq!(amount(1234), "12.34");
        assert_eq!(amount(-5), "-0.05");
        assert_eq!(tax_rate().to_string(), "0.0825");
    }
}
