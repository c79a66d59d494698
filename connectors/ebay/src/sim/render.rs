//! A simulated order as the Sell Fulfillment API returns it (`Order` of
//! `sell_fulfillment_v1_oas3.json`), as seen at `now`:
//!
//! - PII ages on the simulator's clock: `email` is left out 14 days after creation,
//!   `fullName`, `primaryPhone` and `addressLine1/2` 90 days after (in the registration
//!   address and in `shipTo`): the keys are absent, as on eBay.
//! - `cancelStatus` is always `NONE_REQUESTED` with no requests in getOrders; only getOrder
//!   (`full`) shows the real one.
//! - without `fieldGroups=TAX_BREAKDOWN` the taxes eBay collects are left out of
//!   `pricingSummary.total`, `lineItems.total` and `lineItems.taxes`, and fees are not
//!   broken down; `ebayCollectAndRemitTaxes` is there either way.
//! - amounts are strings the way eBay writes them (`"12.5"`, `"0.0"`); when the buyer paid
//!   in another currency every amount carries `convertedFromValue`/`convertedFromCurrency`.

use super::model::{Cancel, Conversion, Poison, RefundPart, SimLine, SimOrder, SimTax};
use crate::client::ebay_time;
use ordersync_sdk::money::minor_units;
use serde_json::{Map, Value, json};

const DAY_MS: i64 = 86_400_000;
/// eBay returns the buyer's email for this long after the order was created ...
pub const EMAIL_DAYS: i64 = 14;
/// ... and the name, phone and street lines for this long.
pub const CONTACT_DAYS: i64 = 90;

/// How an order is looked at.
pub struct View<'a> {
    pub now: i64,
    /// `fieldGroups=TAX_BREAKDOWN` was asked for.
    pub breakdown: bool,
    /// getOrder rather than getOrders.
    pub full: bool,
    /// `http://host` of the request, for `fulfillmentHrefs`.
    pub base: &'a str,
}

/// eBay's way of writing an amount: no trailing zeros, at least one decimal (`"12.5"`).
pub fn format_minor(m: i64, dp: u32) -> String {
    let sign = if m < 0 { "-" } else { "" };
    let a = m.unsigned_abs();
    let scale = 10u64.pow(dp);
    let (int, frac) = (a / scale, a % scale);
    if frac == 0 {
        return format!("{sign}{int}.0");
    }
    let digits = format!("{frac:0width$}", width = dp as usize);
    format!("{sign}{int}.{}", digits.trim_end_matches('0'))
}

/// `m` minor units of the listing currency in the buyer's, rounded half-up.
pub fn convert(m: i64, seller_dp: u32, c: &Conversion) -> i64 {
    let num = i128::from(m) * i128::from(c.rate_micros) * 10i128.pow(minor_units(c.currency));
    let den = 1_000_000i128 * 10i128.pow(seller_dp);
    let q = (num.abs() + den / 2) / den;
    i64::try_from(if num < 0 { -q } else { q }).unwrap_or(i64::MAX)
}

struct Money<'a> {
    currency: &'a str,
    dp: u32,
    conversion: Option<Conversion>,
}

impl Money<'_> {
    fn amount(&self, m: i64) -> Value {
        let mut a = json!({ "value": format_minor(m, self.dp), "currency": self.currency });
        if let Some(c) = &self.conversion {
            a["convertedFromValue"] = json!(format_minor(
                convert(m, self.dp, c),
                minor_units(c.currency)
            ));
            a["convertedFromCurrency"] = json!(c.currency);
        }
        a
    }
}

fn contact(o: &SimOrder, v: &View<'_>, company: bool) -> Value {
    let b = &o.buyer;
    let age = v.now - o.created;
    let young = age <= CONTACT_DAYS * DAY_MS;
    let mut address = Map::new();
    if young {
        address.insert("addressLine1".into(), json!(b.address1));
        if o.seq.is_multiple_of(4) {
            address.insert(
                "addressLine2".into(),
                json!(format!("Apt {}", o.seq % 97 + 1)),
            );
        }
    }
    address.insert("city".into(), json!(b.city));
    if !b.province_code.is_empty() {
        address.insert("stateOrProvince".into(), json!(b.province_code));
    }
    address.insert("postalCode".into(), json!(b.zip));
    address.insert("countryCode".into(), json!(b.country_code));
    let mut c = Map::new();
    if young {
        c.insert(
            "fullName".into(),
            json!(format!("{} {}", b.first_name, b.last_name)),
        );
        c.insert("primaryPhone".into(), json!({ "phoneNumber": b.phone }));
    }
    if company && o.seq % 10 == 3 {
        c.insert("companyName".into(), json!("Canary Trading Ltd"));
    }
    c.insert("contactAddress".into(), Value::Object(address));
    if age <= EMAIL_DAYS * DAY_MS {
        c.insert("email".into(), json!(b.email));
    }
    Value::Object(c)
}

fn tax_entry(m: &Money<'_>, t: &SimTax, breakdown: bool) -> Value {
    let mut e = json!({ "amount": m.amount(t.amount) });
    if breakdown {
        e["taxType"] = json!(t.kind);
    }
    e
}

fn remit_entry(m: &Money<'_>, t: &SimTax) -> Value {
    let mut e = json!({
        "taxType": t.kind,
        "amount": m.amount(t.amount),
        "collectionMethod": "NET",
    });
    if let Some((name, value)) = t.reference {
        e["ebayReference"] = json!({ "name": name, "value": value });
    }
    e
}

fn line(o: &SimOrder, i: usize, l: &SimLine, m: &Money<'_>, v: &View<'_>) -> Value {
    let charges: Vec<&SimTax> = l.taxes.iter().chain(&l.fees).collect();
    // Everything eBay computes is collected and remitted; without the breakdown it is left
    // out of the line's taxes and total.
    let shown: Vec<&&SimTax> = charges.iter().filter(|t| v.breakdown || !t.remit).collect();
    let total = l.item_net() + l.ship_net() + shown.iter().map(|t| t.amount).sum::<i64>();
    let mut delivery = json!({ "shippingCost": m.amount(l.ship) });
    if l.ship_discount > 0 {
        delivery["discountAmount"] = m.amount(l.ship_discount);
    }
    let refunds: Vec<Value> = o
        .refunds
        .iter()
        .flat_map(|r| {
            r.parts.iter().filter_map(move |p| match p {
                RefundPart::Line { line, amount, .. } if *line == i => {
                    let mut e = json!({ "amount": m.amount(*amount), "refundId": r.id });
                    if !r.pending {
                        e["refundDate"] = json!(ebay_time(r.at));
                    }
                    Some(e)
                }
                _ => None,
            })
        })
        .collect();
    let mut cost = m.amount(l.cost());
    if i == 0 {
        match o.poison {
            Some(Poison::HugeAmount) => cost["value"] = json!("99999999999999999999999.99"),
            Some(Poison::GarbledAmount) => cost["value"] = json!("12,99"),
            _ => {}
        }
    }
    let mut out = json!({
        "lineItemId": l.id.to_string(),
        "legacyItemId": l.item_id.to_string(),
        "sku": l.sku,
        "title": l.title,
        "lineItemCost": cost,
        "quantity": l.quantity,
        "soldFormat": "FIXED_PRICE",
        "listingMarketplaceId": o.market.id,
        "purchaseMarketplaceId": o.market.id,
        "lineItemFulfillmentStatus": if l.fulfilled { "FULFILLED" } else { "NOT_STARTED" },
        "total": m.amount(total),
        "deliveryCost": delivery,
        "appliedPromotions": l.promo.iter().map(|p| json!({
            "description": p.description,
            "discountAmount": m.amount(p.amount),
            "promotionId": p.id,
        })).collect::<Vec<_>>(),
        "taxes": shown.iter().map(|t| tax_entry(m, t, v.breakdown)).collect::<Vec<_>>(),
        "properties": { "buyerProtection": true },
        "lineItemFulfillmentInstructions": {
            "minEstimatedDeliveryDate": ebay_time(o.created + 3 * DAY_MS),
            "maxEstimatedDeliveryDate": ebay_time(o.created + 6 * DAY_MS),
            "shipByDate": ebay_time(o.created + DAY_MS),
            "guaranteedDelivery": false,
        },
        "refunds": refunds,
    });
    if let Some(p) = &l.promo {
        out["discountedLineItemCost"] = m.amount(l.cost() - p.amount);
    }
    let remit: Vec<Value> = charges
        .iter()
        .filter(|t| t.remit)
        .map(|t| remit_entry(m, t))
        .collect();
    if !remit.is_empty() {
        out["ebayCollectAndRemitTaxes"] = json!(remit);
    }
    out
}

fn cancel_status(o: &SimOrder, full: bool) -> Value {
    let none = json!({ "cancelState": "NONE_REQUESTED", "cancelRequests": [] });
    if !full {
        return none;
    }
    let id = format!("5{:09}", o.seq);
    match o.cancel {
        Cancel::None => none,
        Cancel::Requested { at } => json!({
            "cancelState": "IN_PROGRESS",
            "cancelRequests": [{
                "cancelInitiator": "BUYER",
                "cancelReason": "ORDER_MISTAKE",
                "cancelRequestedDate": ebay_time(at),
                "cancelRequestId": id,
                "cancelRequestState": "REQUESTED",
            }],
        }),
        Cancel::Cancelled { at, by_buyer } => json!({
            "cancelState": "CANCELED",
            "cancelledDate": ebay_time(at),
            "cancelRequests": [{
                "cancelCompletedDate": ebay_time(at),
                "cancelInitiator": if by_buyer { "BUYER" } else { "SELLER" },
                "cancelReason": if by_buyer { "ORDER_MISTAKE" } else { "OUT_OF_STOCK_OR_CANNOT_FULFILL" },
                "cancelRequestedDate": ebay_time(at - 3_600_000),
                "cancelRequestId": id,
                "cancelRequestState": "COMPLETED",
            }],
        }),
    }
}

/// The order as eBay returns it.
pub fn render(o: &SimOrder, v: &View<'_>) -> Value {
    let currency = if o.poison == Some(Poison::BadCurrency) {
        "US$"
    } else {
        o.market.currency
    };
    let m = Money {
        currency,
        dp: minor_units(o.market.currency),
        conversion: o.conversion,
    };
    let s = o.summary();
    let remitted: i64 = o
        .lines
        .iter()
        .flat_map(|l| l.taxes.iter().chain(&l.fees))
        .filter(|t| t.remit)
        .map(|t| t.amount)
        .sum();
    let mut pricing = json!({
        "priceSubtotal": m.amount(s.subtotal),
        "deliveryCost": m.amount(s.delivery),
        "total": m.amount(if v.breakdown { s.total } else { s.total - remitted }),
    });
    let shown_tax = if v.breakdown { s.tax } else { 0 };
    for (key, amount, show) in [
        ("priceDiscount", -s.discount, s.discount > 0),
        (
            "deliveryDiscount",
            -s.delivery_discount,
            s.delivery_discount > 0,
        ),
        ("tax", shown_tax, shown_tax > 0),
        ("fee", s.fee, s.fee > 0 && v.breakdown),
        ("adjustment", s.adjustment, s.adjustment != 0),
    ] {
        if show {
            pricing[key] = m.amount(amount);
        }
    }
    let refunded: i64 = o.completed_refunds().map(|r| r.amount()).sum();
    let refunds: Vec<Value> = o
        .refunds
        .iter()
        .map(|r| {
            let mut e = json!({
                "amount": m.amount(r.amount()),
                "refundReferenceId": r.reference,
                "refundStatus": if r.pending { "PENDING" } else { "REFUNDED" },
            });
            // A refund issued per line carries its id on the lines instead.
            if !r.has_line_parts() {
                e["refundId"] = json!(r.id);
            }
            if !r.pending {
                e["refundDate"] = json!(ebay_time(r.at));
            }
            e
        })
        .collect();
    let lines: Vec<Value> = if o.poison == Some(Poison::Unmappable) {
        vec![]
    } else {
        o.lines
            .iter()
            .enumerate()
            .map(|(i, l)| line(o, i, l, &m, v))
            .collect()
    };
    let id = o.order_id();
    let hrefs: Vec<Value> = o
        .lines
        .iter()
        .any(|l| l.fulfilled)
        .then(|| {
            json!(format!(
                "{}/sell/fulfillment/v1/order/{id}/shipping_fulfillment/9400{:018}",
                v.base, o.seq
            ))
        })
        .into_iter()
        .collect();
    let b = &o.buyer;
    let mut tax_address = json!({ "postalCode": b.zip, "countryCode": b.country_code });
    if !b.province_code.is_empty() {
        tax_address["stateOrProvince"] = json!(b.province_code);
    }
    let mut out = json!({
        "orderId": id,
        "creationDate": ebay_time(o.created),
        "lastModifiedDate": ebay_time(o.updated),
        "orderFulfillmentStatus": o.fulfillment_status(),
        "orderPaymentStatus": o.payment_status(),
        "sellerId": "ordersync_sim_seller",
        "buyer": {
            "username": o.username,
            "taxAddress": tax_address,
            "buyerRegistrationAddress": contact(o, v, true),
        },
        "pricingSummary": pricing,
        "cancelStatus": cancel_status(o, v.full),
        "paymentSummary": {
            "totalDueSeller": m.amount(s.total - refunded),
            "refunds": refunds,
            "payments": [{
                "paymentMethod": "EBAY",
                "paymentReferenceId": format!("PAY{:012}", o.seq),
                "paymentDate": ebay_time(o.created + 3_000),
                "amount": m.amount(s.total),
                "paymentStatus": "PAID",
            }],
        },
        "fulfillmentStartInstructions": [{
            "fulfillmentInstructionsType": "SHIP_TO",
            "minEstimatedDeliveryDate": ebay_time(o.created + 3 * DAY_MS),
            "maxEstimatedDeliveryDate": ebay_time(o.created + 6 * DAY_MS),
            "ebaySupportedFulfillment": false,
            "shippingStep": {
                "shipTo": contact(o, v, false),
                "shippingCarrierCode": o.market.carrier,
                "shippingServiceCode": o.market.service,
            },
        }],
        "fulfillmentHrefs": hrefs,
        "lineItems": lines,
        "salesRecordReference": (1000 + o.seq).to_string(),
        "totalFeeBasisAmount": m.amount(s.total),
        // eBay's final value fee: 13.25 % of the total plus 0.30 per order.
        "totalMarketplaceFee": m.amount(super::model::apply_rate(s.total, 13_250) + 30),
    });
    if let Some(n) = &o.note {
        out["buyerCheckoutNotes"] = json!(n);
    }
    if remitted > 0 {
        out["ebayCollectAndRemitTax"] = json!(true);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_the_ebay_way() {
        assert_eq!(format_minor(0, 2), "0.0");
        assert_eq!(format_minor(1250, 2), "12.5");
        assert_eq!(format_minor(1499, 2), "14.99");
        assert_eq!(format_minor(-500, 2), "-5.0");
        assert_eq!(format_minor(1234, 0), "1234.0");
        assert_eq!(format_minor(1, 3), "0.001");
        let gbp = Conversion {
            currency: "GBP",
            rate_micros: 789_450,
        };
        assert_eq!(
            convert(4_860, 2, &gbp),
            3_837,
            "48.60 USD = 38.367 → 38.37 GBP"
        );
        let jpy = Conversion {
            currency: "JPY",
            rate_micros: 149_520_000,
        };
        assert_eq!(
            convert(4_860, 2, &jpy),
            7_267,
            "48.60 USD = 7266.672 → 7267 JPY"
        );
    }
}
