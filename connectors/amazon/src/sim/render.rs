//! An order as `searchOrders`/`getOrder` show it (`orders_2026-01-01.json` `Order`), with
//! only the datasets `includedData` asked for, and Amazon's rules for personal data:
//!
//! - the delivery address only once the order is released (Unshipped, PartiallyShipped,
//!   Shipped), never for pending or cancelled orders;
//! - no phone for FBA orders, nor for shipped FBM orders past their latest delivery date;
//! - `buyerEmail` only for FBM orders (unless the simulator is told otherwise);
//! - no prices or proceeds before an order is priced (pending).
//!
//! Item proceeds are the item as ordered; the order's proceeds are what the seller receives
//! now (cancelled units left out), and a cancelled order has none.

use super::order::{Poison, SimItem, SimOrder, Status, amount_text};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The datasets of `includedData`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Included {
    pub buyer: bool,
    pub recipient: bool,
    pub proceeds: bool,
    pub expense: bool,
    pub promotion: bool,
    pub cancellation: bool,
    pub fulfillment: bool,
    pub packages: bool,
    pub tax: bool,
    pub payment: bool,
    pub fulfillment_orders: bool,
}

pub const DATASETS: [&str; 11] = [
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
];

impl Included {
    /// Sets one dataset; `false` for a name the API does not know.
    pub fn set(&mut self, name: &str) -> bool {
        let slot = match name {
            "BUYER" => &mut self.buyer,
            "RECIPIENT" => &mut self.recipient,
            "PROCEEDS" => &mut self.proceeds,
            "EXPENSE" => &mut self.expense,
            "PROMOTION" => &mut self.promotion,
            "CANCELLATION" => &mut self.cancellation,
            "FULFILLMENT" => &mut self.fulfillment,
            "PACKAGES" => &mut self.packages,
            "TAX" => &mut self.tax,
            "PAYMENT" => &mut self.payment,
            "FULFILLMENT_ORDERS" => &mut self.fulfillment_orders,
            _ => return false,
        };
        *slot = true;
        true
    }

    pub fn all() -> Self {
        let mut i = Self::default();
        for d in DATASETS {
            i.set(d);
        }
        i
    }

    /// Personal data that needs a restricted role.
    pub fn wants_pii(&self) -> bool {
        self.buyer || self.recipient
    }
}

pub struct RenderCtx {
    pub now: i64,
    /// `buyerEmail` only for FBM orders, as the spec notes.
    pub fbm_only_email: bool,
}

pub fn time_text(t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn money(minor: i64, dp: u32, currency: &str) -> Value {
    json!({ "amount": amount_text(minor, dp), "currencyCode": currency })
}

fn window(earliest: i64, latest: i64) -> Value {
    json!({ "earliestDateTime": time_text(earliest), "latestDateTime": time_text(latest) })
}

/// Breakdown entries with details (`TAX`, `DISCOUNT`), leaving out zero details.
fn detailed(kind: &str, parts: &[(&str, i64)], dp: u32, cur: &str) -> Option<Value> {
    let total: i64 = parts.iter().map(|p| p.1).sum();
    if parts.iter().all(|p| p.1 == 0) {
        return None;
    }
    let details: Vec<Value> = parts
        .iter()
        .filter(|p| p.1 != 0)
        .map(|(sub, v)| json!({ "subtype": sub, "value": money(*v, dp, cur) }))
        .collect();
    Some(json!({ "type": kind, "subtotal": money(total, dp, cur), "detailedBreakdowns": details }))
}

fn item_json(o: &SimOrder, it: &SimItem, inc: &Included) -> Value {
    let dp = o.dp();
    let mut cur = o.market.currency.to_string();
    if o.poison == Some(Poison::Unmappable) {
        // A price in another currency than the marketplace's: no mapper may convert it.
        cur = if cur == "EUR" { "USD" } else { "EUR" }.to_string();
    }
    let priced = o.status.priced();
    let mut product = json!({
        "asin": it.asin,
        "title": it.title,
        "sellerSku": it.sku,
        "condition": { "conditionType": "NEW", "conditionSubtype": "NEW" },
    });
    if priced {
        product["price"] = json!({ "unitPrice": money(it.unit_price, dp, &cur) });
    }
    let mut v = json!({
        "orderItemId": it.item_id,
        "quantityOrdered": it.quantity,
        "product": product,
    });
    if inc.proceeds && priced {
        let s = it.sum(it.quantity);
        let (gw, gw_tax) = (s.gift_wrap, s.gift_wrap_tax);
        let mut b = vec![json!({ "type": "ITEM", "subtotal": money(s.price, dp, &cur) })];
        if s.ship > 0 {
            b.push(json!({ "type": "SHIPPING", "subtotal": money(s.ship, dp, &cur) }));
        }
        if gw > 0 {
            b.push(json!({ "type": "GIFT_WRAP", "subtotal": money(gw, dp, &cur) }));
        }
        if let Some(t) = detailed(
            "TAX",
            &[
                ("ITEM", s.tax),
                ("SHIPPING", s.ship_tax),
                ("GIFT_WRAP", gw_tax),
            ],
            dp,
            &cur,
        ) {
            b.push(t);
        }
        if let Some(d) = detailed(
            "DISCOUNT",
            &[("ITEM", -s.discount), ("SHIPPING", -s.ship_discount)],
            dp,
            &cur,
        ) {
            b.push(d);
        }
        let mut total = s.price + s.ship + gw - s.discount - s.ship_discount;
        if !o.included() {
            total += s.tax + s.ship_tax + gw_tax;
        }
        v["proceeds"] = json!({ "proceedsTotal": money(total, dp, &cur), "breakdowns": b });
    }
    if inc.promotion && !it.promotions.is_empty() {
        let b: Vec<Value> = it
            .promotions
            .iter()
            .map(|p| json!({ "promotionId": p }))
            .collect();
        v["promotion"] = json!({ "breakdowns": b });
    }
    if inc.cancellation && it.cancelled > 0 {
        v["cancellation"] = json!({
            "cancellationRequest": { "requester": "BUYER", "cancelReason": "ORDERED_BY_MISTAKE" },
            "cancellationExecution": { "cancelledBy": "MERCHANT", "cancelReason": "BUYER_CANCELLED" },
        });
    }
    if inc.fulfillment {
        let mut f = json!({
            "quantityFulfilled": it.shipped,
            "quantityUnfulfilled": it.unshipped(),
        });
        if it.gift_wrapped() || it.gift_message.is_some() {
            let mut g = Map::new();
            if let Some(m) = &it.gift_message {
                g.insert("giftMessage".into(), json!(m));
            }
            if it.gift_wrapped() {
                g.insert("giftWrapLevel".into(), json!("CLASSIC"));
            }
            f["packing"] = json!({ "giftOption": g });
        }
        v["fulfillment"] = f;
    }
    if inc.tax && priced {
        let mut t = Map::new();
        if let Some(s) = o.tax.scheme {
            t.insert(
                "taxCalculationBreakdowns".into(),
                json!([{ "reportingScheme": s }]),
            );
        }
        if o.tax.facilitator {
            let party = match o.market.country {
                "US" => "Amazon Services, Inc.",
                "CA" => "Amazon.com.ca ULC",
                "JP" => "Amazon Japan G.K.",
                _ => "Amazon Services Europe S.a.r.L.",
            };
            t.insert(
                "taxCollections".into(),
                json!([{ "model": "MARKETPLACE_FACILITATOR", "responsibleParty": party }]),
            );
        }
        if !t.is_empty() {
            v["tax"] = Value::Object(t);
        }
    }
    v
}

/// The order's proceeds now: the units not cancelled.
fn order_proceeds(o: &SimOrder) -> Value {
    let dp = o.dp();
    let cur = o.market.currency;
    let (mut item, mut ship, mut gw, mut tax, mut disc) = (0, 0, 0, 0, 0);
    for it in &o.items {
        let n = it.open_units();
        let s = it.sum(n);
        let (g, gt) = (s.gift_wrap, s.gift_wrap_tax);
        item += s.price;
        ship += s.ship;
        gw += g;
        tax += s.tax + s.ship_tax + gt;
        disc += s.discount + s.ship_discount;
    }
    let mut b = vec![json!({ "type": "ITEM", "subtotal": money(item, dp, cur) })];
    for (kind, v) in [
        ("SHIPPING", ship),
        ("GIFT_WRAP", gw),
        ("TAX", tax),
        ("DISCOUNT", -disc),
    ] {
        if v != 0 {
            b.push(json!({ "type": kind, "subtotal": money(v, dp, cur) }));
        }
    }
    if o.tip > 0 {
        b.push(json!({ "type": "DELIVERY_TIP", "status": "FINALIZED",
                       "subtotal": money(o.tip, dp, cur) }));
    }
    json!({ "grandTotal": money(o.current_total(), dp, cur), "breakdowns": b })
}

pub fn render(o: &SimOrder, inc: &Included, ctx: &RenderCtx) -> Value {
    let mut v = json!({
        "orderId": o.order_id,
        "createdTime": time_text(o.created),
        "lastUpdatedTime": time_text(o.updated),
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": o.market.id,
            "marketplaceName": o.market.name,
        },
        "orderItems": o.items.iter().map(|it| item_json(o, it, inc)).collect::<Vec<_>>(),
    });
    let mut programs = vec![];
    if o.prime {
        programs.push("PRIME");
    }
    if !programs.is_empty() {
        v["programs"] = json!(programs);
    }
    if inc.buyer {
        let mut b = json!({
            "buyerName": format!("{} {}", o.buyer.first_name, o.buyer.last_name),
        });
        if !(ctx.fbm_only_email && o.afn) {
            b["buyerEmail"] = json!(o.buyer.email);
        }
        v["buyer"] = b;
    }
    if inc.recipient && o.status.shows_address() {
        let mut a = json!({
            "name": format!("{} {}", o.buyer.first_name, o.buyer.last_name),
            "addressLine1": o.buyer.address1,
            "city": o.buyer.city,
            "stateOrRegion": o.region,
            "postalCode": o.buyer.zip,
            "countryCode": o.market.country,
            "addressType": "RESIDENTIAL",
        });
        let past_delivery = o.status == Status::Shipped && ctx.now > o.deliver_by;
        if !o.afn && !past_delivery {
            a["phone"] = json!(o.buyer.phone);
        }
        v["recipient"] = json!({ "deliveryAddress": a });
    }
    if inc.proceeds && o.status.priced() && o.status != Status::Cancelled {
        v["proceeds"] = order_proceeds(o);
    }
    if inc.fulfillment {
        v["fulfillment"] = json!({
            "fulfillmentStatus": o.status.as_str(),
            "fulfilledBy": if o.afn { "AMAZON" } else { "MERCHANT" },
            "fulfillmentServiceLevel": o.service_level,
            "shipByWindow": window(o.created, o.ship_by),
            "deliverByWindow": window(o.ship_by, o.deliver_by),
        });
    }
    if inc.packages && !o.afn && !o.packages.is_empty() {
        let p: Vec<Value> = o
            .packages
            .iter()
            .map(|p| {
                json!({
                    "packageReferenceId": p.reference,
                    "createdTime": time_text(p.created),
                    "packageStatus": {
                        "status": if p.delivered || ctx.now > o.deliver_by { "DELIVERED" } else { "IN_TRANSIT" },
                    },
                    "carrier": p.carrier,
                    "shipTime": time_text(p.shipped),
                    "shippingService": p.service,
                    "trackingNumber": p.tracking,
                    "packageItems": p.items.iter().map(|(j, n)| json!({
                        "orderItemId": o.items[*j].item_id,
                        "quantity": n,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        v["packages"] = json!(p);
    }
    v
}
