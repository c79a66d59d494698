//! The WooCommerce REST API v3 JSON shapes the connector reads (`GET /orders`,
//! `GET /orders/{id}`, `GET /orders/{id}/refunds`, error bodies). Unknown fields are ignored:
//! stores add fields with every version and plugin. Money stays text ([`Amount`]) until the
//! mapper parses it; fields holding buyer data are [`Redacted`] or have a redacting `Debug`.

use ordersync_sdk::Redacted;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A money value as WooCommerce writes it: a decimal string (`"10.00"`, and raw tax values
/// such as `"0.45454545"`), a JSON number now and then (`price`, freshly computed taxes), or
/// null/`""` for nothing. Kept as text: never through `f64` arithmetic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Amount(pub String);

impl Amount {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal string or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                Ok(Amount(v.trim().to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
                Ok(Amount(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
                Ok(Amount(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
                // Rust writes the shortest text that reads back as `v`, never an exponent.
                Ok(Amount(if v.is_finite() {
                    v.to_string()
                } else {
                    "NaN".into()
                }))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Amount, E> {
                Ok(Amount::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Amount, E> {
                Ok(Amount::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Amount, E> {
                // PHP `false` for "no value" (an unset meta).
                Ok(Amount::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// An id: WooCommerce sends integers; strings are accepted (plugins, webhooks of old versions).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Id(pub String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer id")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                Ok(Id(v.trim().to_string()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Id, E> {
                Err(E::custom("id is not an integer"))
            }
        }
        d.deserialize_any(V)
    }
}

/// A billing or shipping address: all buyer data, so `Debug` shows none of it.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct WireAddress {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub address_1: Option<String>,
    pub address_2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postcode: Option<String>,
    pub country: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl fmt::Debug for WireAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WireAddress([redacted])")
    }
}

/// One tax of a line, shipping line or fee: `id` is the rate id of an order tax line; `total`
/// after discounts, `subtotal` before (empty for shipping). Raw values, not rounded.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WireTax {
    pub id: Option<Id>,
    pub total: Amount,
    pub subtotal: Amount,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WireLine {
    pub id: Option<Id>,
    pub name: Option<String>,
    pub product_id: Option<serde_json::Number>,
    pub variation_id: Option<serde_json::Number>,
    pub quantity: Option<serde_json::Number>,
    pub tax_class: Option<String>,
    /// Before discounts, without tax (even when prices include tax).
    pub subtotal: Amount,
    pub subtotal_tax: Amount,
    /// After discounts, without tax.
    pub total: Amount,
    pub total_tax: Amount,
    pub taxes: Vec<WireTax>,
    pub sku: Option<String>,
}

/// An order tax line: one tax rate's totals, the label and rate the line taxes refer to.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WireTaxLine {
    pub id: Option<Id>,
    pub rate_code: Option<String>,
    pub rate_id: Option<Id>,
    pub label: Option<String>,
    pub compound: Option<bool>,
    pub tax_total: Amount,
    pub shipping_tax_total: Amount,
    /// The rate in percent (WooCommerce ≥ 3.7), e.g. `19` or `8.875`.
    pub rate_percent: Option<serde_json::Number>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WireShipping {
    pub id: Option<Id>,
    pub method_title: Option<String>,
    pub method_id: Option<String>,
    /// Shipping costs are entered without tax, whatever `prices_include_tax` says.
    pub total: Amount,
    pub total_tax: Amount,
    pub taxes: Vec<WireTax>,
}

/// A fee; a negative one is a discount (a plugin's or staff's "discount fee").
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WireFee {
    pub id: Option<Id>,
    pub name: Option<String>,
    pub tax_class: Option<String>,
    pub tax_status: Option<String>,
    pub total: Amount,
    pub total_tax: Amount,
    pub taxes: Vec<WireTax>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WireCoupon {
    pub id: Option<Id>,
    pub code: Option<String>,
    /// The discount without tax, and its tax.
    pub discount: Amount,
    pub discount_tax: Amount,
    /// `percent`, `fixed_cart` or `fixed_product` (newer versions).
    pub discount_type: Option<String>,
    /// The coupon's configured amount (newer versions).
    pub nominal_amount: Option<serde_json::Number>,
    pub free_shipping: Option<bool>,
}

/// An order's refund summary (`refunds[]`): the per-line amounts are only at
/// `GET /orders/{id}/refunds`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WireRefundRef {
    pub id: Option<Id>,
    /// Negative (`"-10.00"`).
    pub total: Amount,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WireOrder {
    pub id: Option<Id>,
    pub number: Option<String>,
    pub status: Option<String>,
    pub currency: Option<String>,
    /// UTC, without an offset (`2017-03-22T19:28:08`); the fields without `_gmt` are in the
    /// site's timezone and never read.
    pub date_created_gmt: Option<String>,
    pub date_modified_gmt: Option<String>,
    pub date_paid_gmt: Option<String>,
    pub date_completed_gmt: Option<String>,
    pub discount_total: Amount,
    pub discount_tax: Amount,
    pub shipping_total: Amount,
    pub shipping_tax: Amount,
    pub cart_tax: Amount,
    pub total: Amount,
    pub total_tax: Amount,
    pub prices_include_tax: Option<bool>,
    pub customer_note: Redacted<Option<String>>,
    pub billing: Option<WireAddress>,
    pub shipping: Option<WireAddress>,
    pub line_items: Vec<WireLine>,
    pub tax_lines: Vec<WireTaxLine>,
    pub shipping_lines: Vec<WireShipping>,
    pub fee_lines: Vec<WireFee>,
    pub coupon_lines: Vec<WireCoupon>,
    pub refunds: Vec<WireRefundRef>,
    /// Plugins' order meta; only the Shipment Tracking plugin's is read.
    pub meta_data: LenientMeta,
}

/// Meta entries read leniently: meta is whatever plugins wrote, and none of it may fail the
/// order. Anything but an array of `{key, value}` objects reads as no (or fewer) entries.
#[derive(Debug, Clone, Default)]
pub struct LenientMeta(pub Vec<WireMeta>);

impl<'de> Deserialize<'de> for LenientMeta {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let entries = match v {
            serde_json::Value::Array(a) => a
                .into_iter()
                .filter_map(|e| WireMeta::deserialize(e).ok())
                .collect(),
            _ => Vec::new(),
        };
        Ok(LenientMeta(entries))
    }
}

/// A meta entry; only `_refunded_item_id` is read, so `Debug` shows the key alone (plugins
/// keep buyer data in meta values).
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct WireMeta {
    pub key: Option<String>,
    pub value: serde_json::Value,
}

impl fmt::Debug for WireMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WireMeta({:?})", self.key)
    }
}

/// A refunded line, shipping line or fee: negative amounts and quantity, and the refunded
/// item's id in meta `_refunded_item_id`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WireRefundItem {
    pub id: Option<Id>,
    pub quantity: Option<serde_json::Number>,
    pub total: Amount,
    pub total_tax: Amount,
    pub taxes: Vec<WireTax>,
    pub meta_data: Vec<WireMeta>,
}

impl WireRefundItem {
    /// The id of the order item this refunds.
    pub fn refunded_item_id(&self) -> Option<String> {
        self.meta_data
            .iter()
            .find(|m| m.key.as_deref() == Some("_refunded_item_id"))
            .and_then(|m| match &m.value {
                serde_json::Value::String(s) => Some(s.trim().to_string()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
    }
}

/// One refund of `GET /orders/{id}/refunds`: `amount` is positive.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WireRefund {
    pub id: Option<Id>,
    pub date_created_gmt: Option<String>,
    pub amount: Amount,
    /// Typed by staff: may name the buyer, never copied.
    pub reason: Redacted<Option<String>>,
    pub line_items: Vec<WireRefundItem>,
    /// Newer versions list refunded shipping and fees too.
    pub shipping_lines: Vec<WireRefundItem>,
    pub fee_lines: Vec<WireRefundItem>,
}

/// WordPress's REST error body: `{"code", "message", "data": {"status", "params"}}`; `data`
/// is sometimes a bare status number (`new WP_Error(code, message, 404)`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct WpError {
    pub code: Option<String>,
    pub message: Option<String>,
    pub data: serde_json::Value,
}

impl WpError {
    /// `rest_invalid_param`'s parameter names.
    pub fn param_names(&self) -> Vec<String> {
        self.data
            .get("params")
            .and_then(serde_json::Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_ids_accept_what_stores_send() {
        #[derive(Deserialize)]
        struct T {
            a: Amount,
            b: Amount,
            c: Amount,
            d: Amount,
            id: Id,
        }
        let t: T =
            serde_json::from_str(r#"{"a":"0.45454545","b":12.5,"c":null,"d":3,"id":727}"#).unwrap();
        assert_eq!(
            (t.a.as_str(), t.b.as_str(), t.c.as_str(), t.d.as_str()),
            ("0.45454545", "12.5", "", "3")
        );
        assert_eq!(t.id.0, "727");
        assert!(serde_json::from_str::<Id>("1.5").is_err());
    }

    #[test]
    fn buyer_data_stays_out_of_debug() {
        let o: WireOrder = serde_json::from_str(
            r#"{"id":1,"customer_note":"Canary note","billing":{"email":"canary@customer.test"},
                "refunds":[]}"#,
        )
        .unwrap();
        let dbg = format!("{o:?}");
        assert!(
            !dbg.contains("Canary") && !dbg.contains("customer.test"),
            "{dbg}"
        );
        let r: WireRefund = serde_json::from_str(
            r#"{"id":2,"reason":"Canary asked","line_items":[{"meta_data":[{"key":"_refunded_item_id","value":"311"},{"key":"engraving","value":"Canary"}]}]}"#,
        )
        .unwrap();
        assert_eq!(r.line_items[0].refunded_item_id().as_deref(), Some("311"));
        assert!(!format!("{r:?}").contains("Canary"));
    }
}
