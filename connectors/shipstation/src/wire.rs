//! The V2 JSON shapes this connector sends and reads, shared by the client, the mapping and
//! the simulator so both sides agree on one definition. Only the fields we use are typed;
//! unknown response fields are ignored.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `monetary_value`: the spec's `amount` is a JSON number. It is written and read through
/// [`decimal_number`], never through `f64`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonetaryValue {
    pub currency: String,
    #[serde(with = "decimal_number")]
    pub amount: Decimal,
}

/// `address` / `shipping_address_to`. Every field is optional here so that the simulator can
/// answer a missing required field the way ShipStation does (a per-shipment error) instead of
/// failing the whole request. `Debug` is redacted: this is buyer PII.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city_locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_residential_indicator: Option<String>,
}

impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Address([redacted])")
    }
}

/// `shipment_item`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentItem {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default)]
    pub quantity: u32,
    #[serde(
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub unit_price: Option<Decimal>,
    #[serde(
        default,
        with = "decimal_number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub tax_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_order_item_id: Option<String>,
}

/// `create_shipment_request`, also the body of the (undocumented in the 2025-07 spec)
/// full-update `PUT /v2/shipments/{shipment_id}`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShipmentBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_shipment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<Address>,
    #[serde(default)]
    pub items: Vec<ShipmentItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_paid: Option<MonetaryValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_paid: Option<MonetaryValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_paid: Option<MonetaryValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes_from_buyer: Option<String>,
}

impl std::fmt::Debug for ShipmentBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // ship_to and notes are PII: show only identifiers.
        f.debug_struct("ShipmentBody")
            .field("external_shipment_id", &self.external_shipment_id)
            .field("external_order_id", &self.external_order_id)
            .field("items", &self.items.len())
            .finish_non_exhaustive()
    }
}

/// `create_shipments_request_body`.
#[derive(Debug, Serialize, Deserialize)]
pub struct CreateShipmentsRequest {
    pub shipments: Vec<ShipmentBody>,
}

/// One element of `create_shipments_response_body.shipments` (a shipment plus `errors`, an
/// array of strings per the spec), or a `shipment` answer of the other routes. The `errors`
/// strings are free text that may echo the address: `Debug` shows only their codes.
#[derive(Clone, Serialize, Deserialize)]
pub struct ShipmentResult {
    #[serde(default)]
    pub shipment_id: Option<String>,
    #[serde(default)]
    pub external_shipment_id: Option<String>,
    #[serde(default)]
    pub shipment_status: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

impl std::fmt::Debug for ShipmentResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let codes: Vec<&str> = self
            .errors
            .iter()
            .map(|e| crate::mapping::per_shipment_code(e))
            .collect();
        f.debug_struct("ShipmentResult")
            .field("shipment_id", &self.shipment_id)
            .field("external_shipment_id", &self.external_shipment_id)
            .field("shipment_status", &self.shipment_status)
            .field("errors", &codes)
            .finish()
    }
}

/// `create_shipments_response_body`.
#[derive(Debug, Serialize, Deserialize)]
pub struct CreateShipmentsResponse {
    pub has_errors: bool,
    pub shipments: Vec<ShipmentResult>,
}

/// One `label` of `list_labels_response_body`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Label {
    pub label_id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub shipment_id: Option<String>,
    /// `unknown` | `in_transit` | `error` | `delivered`.
    #[serde(default)]
    pub tracking_status: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ListLabelsResponse {
    pub labels: Vec<Label>,
    #[serde(default)]
    pub page: u32,
    #[serde(default)]
    pub pages: u32,
}

/// The parts of `get_tracking_log_from_label_response_body` we read.
#[derive(Debug, Serialize, Deserialize)]
pub struct TrackingInfo {
    #[serde(default)]
    pub status_code: Option<String>,
    #[serde(default)]
    pub status_detail_code: Option<String>,
    #[serde(default)]
    pub actual_delivery_date: Option<String>,
}

/// `error_response_body`; every field optional so that an odd error body still classifies.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ErrorItem {
    #[serde(default)]
    pub error_source: Option<String>,
    #[serde(default)]
    pub error_type: Option<String>,
    #[serde(default)]
    pub error_code: Option<String>,
}

pub use ordersync_sdk::decimal_number;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_a_json_number_and_round_trips_exactly() {
        let m = MonetaryValue {
            currency: "usd".into(),
            amount: Decimal::new(1234567890123456789, 2),
        };
        let s = serde_json::to_string(&m).unwrap();
        assert_eq!(s, r#"{"currency":"usd","amount":12345678901234567.89}"#);
        let back: MonetaryValue = serde_json::from_str(&s).unwrap();
        assert_eq!(back, m);
        let e: MonetaryValue = serde_json::from_str(r#"{"currency":"usd","amount":1e2}"#).unwrap();
        assert_eq!(e.amount, Decimal::new(100, 0));
        assert!(
            serde_json::from_str::<MonetaryValue>(r#"{"currency":"usd","amount":true}"#).is_err()
        );
    }
}
