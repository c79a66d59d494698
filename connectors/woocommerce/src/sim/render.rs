//! Orders and refunds as WooCommerce's REST API v3 writes them
//! (`WC_REST_Orders_V2_Controller::get_formatted_item_data`): formatted fields with the store's
//! decimals, raw tax values in `taxes[]`, every date twice (site-local and `_gmt`, neither with
//! an offset), refunds negative.

use super::money::{fixed, fixed_micros, raw};
use super::order::{Poison, Refund, RefundItem, SimOrder, Tax};
use super::tz::{SiteTz, naive};
use serde_json::{Map, Value, json};

/// Where the rendered links point (`{base}/wp-json/wc/v3/…`).
pub struct View<'a> {
    pub tz: SiteTz,
    pub base: &'a str,
}

impl View<'_> {
    fn date(&self, m: &mut Map<String, Value>, key: &str, at: Option<i64>) {
        let (local, gmt) = match at {
            Some(t) => (json!(naive(self.tz.local(t))), json!(naive(t))),
            None => (Value::Null, Value::Null),
        };
        m.insert(key.into(), local);
        m.insert(format!("{key}_gmt"), gmt);
    }

    fn link(&self, path: &str) -> Value {
        json!([{ "href": format!("{}/wp-json/wc/v3/{path}", self.base) }])
    }
}

fn taxes(t: &[Tax], sub: Option<&[Tax]>, dp: u32) -> Value {
    Value::Array(
        t.iter()
            .map(|x| {
                let s = sub
                    .and_then(|s| s.iter().find(|y| y.rate.id == x.rate.id))
                    .map_or(String::new(), |y| raw(y.amount, dp));
                json!({ "id": x.rate.id, "total": raw(x.amount, dp), "subtotal": s })
            })
            .collect(),
    )
}

fn address(o: &SimOrder, billing: bool) -> Value {
    let b = &o.buyer;
    let mut a = json!({
        "first_name": b.first_name,
        "last_name": b.last_name,
        "company": "",
        "address_1": b.address1,
        "address_2": "",
        "city": b.city,
        "state": b.province_code,
        "postcode": b.zip,
        "country": b.country_code,
    });
    if let Some(m) = a.as_object_mut() {
        if billing {
            m.insert("email".into(), json!(b.email));
        }
        m.insert("phone".into(), json!(b.phone));
    }
    a
}

fn empty_shipping() -> Value {
    json!({"first_name": "", "last_name": "", "company": "", "address_1": "", "address_2": "",
           "city": "", "state": "", "postcode": "", "country": "", "phone": ""})
}

pub fn order(o: &SimOrder, v: &View<'_>) -> Value {
    let p = o.profile;
    let dp = p.dp;
    let t = &o.totals;
    let mut m = Map::new();
    m.insert("id".into(), json!(o.id));
    m.insert("parent_id".into(), json!(0));
    m.insert("status".into(), json!(o.status.slug()));
    m.insert("currency".into(), json!(p.currency));
    m.insert("version".into(), json!("9.4.2"));
    m.insert("prices_include_tax".into(), json!(p.inclusive));
    v.date(&mut m, "date_created", Some(o.created));
    v.date(&mut m, "date_modified", Some(o.updated));
    m.insert("discount_total".into(), json!(fixed(t.discount_total, dp)));
    m.insert("discount_tax".into(), json!(fixed(t.discount_tax, dp)));
    m.insert("shipping_total".into(), json!(fixed(t.shipping_total, dp)));
    m.insert("shipping_tax".into(), json!(fixed(t.shipping_tax, dp)));
    m.insert("cart_tax".into(), json!(fixed(t.cart_tax, dp)));
    m.insert("total".into(), json!(fixed(t.total, dp)));
    m.insert("total_tax".into(), json!(fixed(t.total_tax, dp)));
    m.insert("customer_id".into(), json!(0));
    m.insert(
        "order_key".into(),
        json!(format!("wc_order_{:013x}", o.id.wrapping_mul(0x9E37_79B9))),
    );
    m.insert("billing".into(), address(o, true));
    m.insert(
        "shipping".into(),
        if o.shipping.is_empty() {
            empty_shipping()
        } else {
            address(o, false)
        },
    );
    m.insert("payment_method".into(), json!(o.payment_method.0));
    m.insert("payment_method_title".into(), json!(o.payment_method.1));
    m.insert(
        "transaction_id".into(),
        json!(
            o.paid
                .map_or(String::new(), |_| format!("ch_{}", o.id * 7919))
        ),
    );
    m.insert(
        "customer_ip_address".into(),
        json!(format!("203.0.113.{}", o.id % 250)),
    );
    m.insert(
        "customer_user_agent".into(),
        json!("Mozilla/5.0 (Canary; rv:128.0) Gecko/20100101 Firefox/128.0"),
    );
    m.insert("created_via".into(), json!("checkout"));
    m.insert(
        "customer_note".into(),
        json!(o.note.clone().unwrap_or_default()),
    );
    v.date(&mut m, "date_completed", o.completed);
    v.date(&mut m, "date_paid", o.paid);
    m.insert(
        "cart_hash".into(),
        json!(format!(
            "{:032x}",
            u128::from(o.id) * 31 + u128::from(o.edits)
        )),
    );
    m.insert("number".into(), json!(o.id.to_string()));
    m.insert("meta_data".into(), super::tracking::meta(o));
    let lines: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            let total = fixed_micros(l.total, dp);
            json!({
                "id": l.id,
                "name": l.name,
                "product_id": l.product_id,
                "variation_id": l.variation_id,
                "quantity": l.qty,
                "tax_class": l.tax_class,
                "subtotal": fixed_micros(l.subtotal, dp),
                "subtotal_tax": fixed_micros(l.subtotal_tax, dp),
                "total": total,
                "total_tax": fixed_micros(l.total_tax, dp),
                "taxes": taxes(&l.taxes, Some(&l.subtotal_taxes), dp),
                "meta_data": [],
                "sku": if l.sku.is_empty() { Value::Null } else { json!(l.sku) },
                // `get_total() / get_quantity()`: a float on the wire.
                "price": price_number(l.total, l.qty, dp),
                "image": { "id": 0, "src": "" },
                "parent_name": Value::Null,
            })
        })
        .collect();
    m.insert("line_items".into(), Value::Array(lines));
    let tax_lines: Vec<Value> = o
        .tax_lines
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "rate_code": t.rate.code,
                "rate_id": t.rate.id,
                "label": t.rate.label,
                "compound": t.rate.compound,
                "tax_total": fixed_micros(t.tax_total, dp),
                "shipping_tax_total": fixed_micros(t.shipping_tax_total, dp),
                "rate_percent": percent_number(t.rate.percent4),
                "meta_data": [],
            })
        })
        .collect();
    m.insert("tax_lines".into(), Value::Array(tax_lines));
    let shipping: Vec<Value> = o
        .shipping
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "method_title": s.title,
                "method_id": s.method_id,
                "instance_id": "1",
                "total": fixed(s.cost, dp),
                "total_tax": fixed_micros(s.total_tax, dp),
                "taxes": taxes(&s.taxes, None, dp),
                "meta_data": [],
            })
        })
        .collect();
    m.insert("shipping_lines".into(), Value::Array(shipping));
    let fees: Vec<Value> = o
        .fees
        .iter()
        .map(|f| {
            json!({
                "id": f.id,
                "name": f.name,
                "tax_class": "",
                "tax_status": if f.taxable { "taxable" } else { "none" },
                "amount": fixed(f.total, dp),
                "total": fixed(f.total, dp),
                "total_tax": fixed_micros(f.total_tax, dp),
                "taxes": taxes(&f.taxes, None, dp),
                "meta_data": [],
            })
        })
        .collect();
    m.insert("fee_lines".into(), Value::Array(fees));
    let coupons: Vec<Value> = o
        .coupons
        .iter()
        .map(|c| {
            use super::order::CouponKind;
            let (kind, nominal) = match c.kind {
                CouponKind::Percent(p) => ("percent", number(i128::from(p), 2)),
                CouponKind::FixedCart(a) => ("fixed_cart", number(i128::from(a), dp)),
                CouponKind::FixedProduct(a) => ("fixed_product", number(i128::from(a), dp)),
            };
            json!({
                "id": c.id,
                "code": c.code,
                "discount": fixed_micros(c.discount, dp),
                "discount_tax": fixed_micros(c.discount_tax, dp),
                "discount_type": kind,
                "nominal_amount": nominal,
                "free_shipping": c.free_shipping,
                "meta_data": [],
            })
        })
        .collect();
    m.insert("coupon_lines".into(), Value::Array(coupons));
    let refunds: Vec<Value> = o
        .refunds
        .iter()
        .rev()
        .map(|r| json!({ "id": r.id, "reason": r.reason, "total": format!("-{}", fixed(r.amount, dp)) }))
        .collect();
    m.insert("refunds".into(), Value::Array(refunds));
    let needs_payment = matches!(o.status.slug(), "pending" | "failed");
    m.insert(
        "payment_url".into(),
        json!(format!(
            "{}/checkout/order-pay/{}/?pay_for_order=true",
            v.base, o.id
        )),
    );
    m.insert(
        "is_editable".into(),
        json!(matches!(
            o.status.slug(),
            "pending" | "on-hold" | "checkout-draft"
        )),
    );
    m.insert("needs_payment".into(), json!(needs_payment));
    m.insert("needs_processing".into(), json!(!o.shipping.is_empty()));
    m.insert("currency_symbol".into(), json!(p.symbol));
    m.insert(
        "_links".into(),
        json!({ "self": v.link(&format!("orders/{}", o.id)), "collection": v.link("orders") }),
    );
    poison(&mut m, o.poison);
    Value::Object(m)
}

fn poison(m: &mut Map<String, Value>, p: Option<Poison>) {
    match p {
        None => {}
        Some(Poison::Unmappable) => {
            m.insert("total".into(), json!("12,34"));
        }
        Some(Poison::ZeroLines) => {
            m.insert("line_items".into(), json!([]));
        }
        Some(Poison::UnknownCurrency) => {
            m.insert("currency".into(), json!("XBT"));
        }
        Some(Poison::Overflow) => {
            if let Some(Value::Array(lines)) = m.get_mut("line_items")
                && let Some(Value::Object(l)) = lines.first_mut()
            {
                l.insert("subtotal".into(), json!("70000000000000000000000000000"));
            }
        }
    }
}

/// A fixed-point value as the JSON number PHP writes (`10`, `2.5`, `0.45`).
fn number(v: i128, places: u32) -> Value {
    let s = raw(v * 10i128.pow(6), places);
    serde_json::from_str::<serde_json::Number>(&s).map_or(Value::Null, Value::Number)
}

fn percent_number(percent4: i64) -> Value {
    number(i128::from(percent4), 4)
}

fn price_number(total: i128, qty: u32, dp: u32) -> Value {
    if qty == 0 {
        return json!(0);
    }
    // `get_total() / get_quantity()`: a PHP float, shown here to six places.
    let f = total as f64 / f64::from(qty) / 10f64.powi(6 + dp as i32);
    serde_json::Number::from_f64((f * 1e6).round() / 1e6).map_or(json!(0), Value::Number)
}

fn refund_item(i: &RefundItem, dp: u32, kind: &str, o: &SimOrder) -> Value {
    let tax: i64 = i.taxes.iter().map(|t| t.1).sum();
    let taxes: Vec<Value> = i
        .taxes
        .iter()
        .map(|(r, a)| json!({ "id": r.id, "total": fixed(-a, dp), "subtotal": fixed(-a, dp) }))
        .collect();
    let meta = json!([{ "id": i.id * 3, "key": "_refunded_item_id", "value": i.item.to_string() }]);
    match kind {
        "line" => {
            let l = o.lines.iter().find(|l| l.id == i.item);
            json!({
                "id": i.id,
                "name": l.map(|l| l.name.clone()).unwrap_or_default(),
                "product_id": l.map_or(0, |l| l.product_id),
                "variation_id": 0,
                "quantity": -i64::from(i.qty),
                "tax_class": l.map_or("", |l| l.tax_class),
                "subtotal": fixed(-i.total, dp),
                "subtotal_tax": fixed(-tax, dp),
                "total": fixed(-i.total, dp),
                "total_tax": fixed(-tax, dp),
                "taxes": taxes,
                "meta_data": meta,
                "sku": l.map(|l| l.sku.clone()).unwrap_or_default(),
                "price": if i.qty == 0 { json!(0) } else { number(-i128::from(i.total) / i128::from(i.qty) , dp) },
            })
        }
        "shipping" => {
            let s = o.shipping.iter().find(|s| s.id == i.item);
            json!({
                "id": i.id,
                "method_title": s.map_or("", |s| s.title),
                "method_id": s.map_or("", |s| s.method_id),
                "total": fixed(-i.total, dp),
                "total_tax": fixed(-tax, dp),
                "taxes": taxes,
                "meta_data": meta,
            })
        }
        _ => {
            let f = o.fees.iter().find(|f| f.id == i.item);
            json!({
                "id": i.id,
                "name": f.map_or("", |f| f.name),
                "tax_class": "",
                "tax_status": "taxable",
                "total": fixed(-i.total, dp),
                "total_tax": fixed(-tax, dp),
                "taxes": taxes,
                "meta_data": meta,
            })
        }
    }
}

pub fn refund(o: &SimOrder, r: &Refund, v: &View<'_>) -> Value {
    let dp = o.profile.dp;
    let mut m = Map::new();
    m.insert("id".into(), json!(r.id));
    v.date(&mut m, "date_created", Some(r.created));
    m.insert("amount".into(), json!(fixed(r.amount, dp)));
    m.insert("reason".into(), json!(r.reason));
    m.insert("refunded_by".into(), json!(1));
    m.insert(
        "refunded_payment".into(),
        json!(o.payment_method.0 == "stripe"),
    );
    m.insert("meta_data".into(), json!([]));
    let items = |list: &[RefundItem], kind: &str| {
        Value::Array(list.iter().map(|i| refund_item(i, dp, kind, o)).collect())
    };
    m.insert("line_items".into(), items(&r.lines, "line"));
    m.insert("shipping_lines".into(), items(&r.shipping, "shipping"));
    m.insert("fee_lines".into(), items(&r.fees, "fee"));
    m.insert(
        "_links".into(),
        json!({
            "self": v.link(&format!("orders/{}/refunds/{}", o.id, r.id)),
            "collection": v.link(&format!("orders/{}/refunds", o.id)),
            "up": v.link(&format!("orders/{}", o.id)),
        }),
    );
    Value::Object(m)
}
