//! The V1 JSON shapes (`ssapi.shipstation.com`), camelCase as the API spells them, shared by
//! the V1 client, mapping and simulator. Field names follow the documentation's
//! `OrderModel.json` (fixtures/v1). Only the fields we send or read are typed.

use crate::wire::decimal_number;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// V1 `Address` (`billTo` / `shipTo`). `Debug` is redacted: this is buyer PII.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub street1: Option<String>,
    #[serde(default)]
    pub street2: Option<String>,
    #[serde(default)]
    pub street3: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub residential: Option<bool>,
}

impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Address([redacted])")
    }
}

/// V1 `OrderItem`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    /// Our marketplace line id: what `/_sim/received` counts units under.
    #[serde(default)]
    pub line_item_key: Option<String>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub quantity: u32,
    #[serde(default, with = "decimal_number::option")]
    pub unit_price: Option<Decimal>,
    #[serde(default, with = "decimal_number::option")]
    pub tax_amount: Option<Decimal>,
    #[serde(default)]
    pub adjustment: bool,
}

/// V1 `AdvancedOptions`: the parts we set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvancedOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<u64>,
    /// The marketplace order id (not PII): ShipStation shows it, `/_sim/received` reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_field1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The body of `POST /orders/createorder` (one element of `createorders`): the whole order,
/// V1 has no partial update.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderBody {
    #[serde(default)]
    pub order_number: Option<String>,
    #[serde(default)]
    pub order_key: Option<String>,
    /// Naive Pacific time, `2015-06-29T08:46:27.0000000`.
    #[serde(default)]
    pub order_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_date: Option<String>,
    #[serde(default)]
    pub order_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub bill_to: Option<Address>,
    #[serde(default)]
    pub ship_to: Option<Address>,
    #[serde(default)]
    pub items: Vec<OrderItem>,
    #[serde(default, with = "decimal_number::option")]
    pub amount_paid: Option<Decimal>,
    #[serde(default, with = "decimal_number::option")]
    pub tax_amount: Option<Decimal>,
    #[serde(default, with = "decimal_number::option")]
    pub shipping_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_shipping_service: Option<String>,
    #[serde(default)]
    pub gift: bool,
    #[serde(default)]
    pub advanced_options: Option<AdvancedOptions>,
}

impl std::fmt::Debug for OrderBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Addresses, email and notes are PII: show only identifiers.
        f.debug_struct("OrderBody")
            .field("order_key", &self.order_key)
            .field("order_status", &self.order_status)
            .field("items", &self.items.len())
            .finish_non_exhaustive()
    }
}

/// The parts of a V1 `Order` answer we read (`createorder`, `GET /orders/{id}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderAnswer {
    pub order_id: u64,
    #[serde(default)]
    pub order_key: Option<String>,
    #[serde(default)]
    pub order_status: Option<String>,
    #[serde(default)]
    pub create_date: Option<String>,
    #[serde(default)]
    pub modify_date: Option<String>,
}

/// `GET /orders?orderNumber=`: `{orders, total, page, pages}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ListOrdersAnswer {
    pub orders: Vec<OrderAnswer>,
    #[serde(default)]
    pub page: u32,
    #[serde(default)]
    pub pages: u32,
}

/// One row of `POST /orders/createorders`'s `results`. `errorMessage` is free text that may
/// echo buyer data: `Debug` leaves it out.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkResult {
    #[serde(default)]
    pub order_id: Option<u64>,
    #[serde(default)]
    pub order_number: Option<String>,
    #[serde(default)]
    pub order_key: Option<String>,
    pub success: bool,
    #[serde(default)]
    pub error_message: Option<String>,
}

impl std::fmt::Debug for BulkResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkResult")
            .field("order_id", &self.order_id)
            .field("order_key", &self.order_key)
            .field("success", &self.success)
            .finish_non_exhaustive()
    }
}

/// `POST /orders/createorders`: `{hasErrors, results}` in request order.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkAnswer {
    pub has_errors: bool,
    pub results: Vec<BulkResult>,
}

/// V1's ASP.NET error body: `{"Message", "ModelState": {"apiOrder.x": ["…"]}}` (400) or
/// `{"Message", "ExceptionMessage", "ExceptionType", "StackTrace"}` (500). Only the
/// `ModelState` keys (field paths) are ever read: the texts can echo buyer data, and `Debug`
/// shows the keys only.
#[derive(Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default, rename = "ModelState")]
    pub model_state: Option<std::collections::BTreeMap<String, serde_json::Value>>,
}

impl std::fmt::Debug for ErrorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<&String> = self.model_state.iter().flat_map(|m| m.keys()).collect();
        f.debug_struct("ErrorBody")
            .field("model_state_keys", &keys)
            .finish()
    }
}
