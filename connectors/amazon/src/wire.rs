//! The SP-API shapes the connector reads (`orders_2026-01-01.json`, the LWA token answer and
//! the error list), and nothing else. Every field is optional here, even those the spec
//! requires: a missing field becomes a PII-free rejection reason in `mapping.rs`, never a
//! failed page. Money stays text (`Decimal` in the spec is a string) until
//! `ordersync_sdk::mapping` parses it. Unknown fields are ignored (Amazon adds some often).

use serde::Deserialize;

/// `searchOrders` 200: orders stay raw JSON so one malformed order is rejected alone.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchOrdersResponse {
    pub orders: Vec<serde_json::Value>,
    #[serde(default)]
    pub pagination: Option<Pagination>,
    #[serde(default)]
    pub last_updated_before: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    #[serde(default)]
    pub next_token: Option<String>,
}

/// `getOrder` 200.
#[derive(Debug, Deserialize)]
pub struct GetOrderResponse {
    pub order: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub amount: Option<String>,
    pub currency_code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: Option<String>,
    pub created_time: Option<String>,
    pub last_updated_time: Option<String>,
    pub sales_channel: Option<SalesChannel>,
    pub buyer: Option<Buyer>,
    pub recipient: Option<Recipient>,
    pub proceeds: Option<OrderProceeds>,
    pub fulfillment: Option<OrderFulfillment>,
    #[serde(default)]
    pub order_items: Option<Vec<OrderItem>>,
    /// `includedData=PACKAGES` (merchant-fulfilled orders only): the parcels sent.
    #[serde(default)]
    pub packages: Packages,
}

/// `packages[]`, read leniently: tracking is optional, so a malformed package (or list) is
/// left out instead of failing the order.
#[derive(Debug, Clone, Default)]
pub struct Packages(pub Vec<OrderPackage>);

impl<'de> Deserialize<'de> for Packages {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let list = match v {
            serde_json::Value::Array(a) => a
                .into_iter()
                .filter_map(|p| OrderPackage::deserialize(p).ok())
                .collect(),
            _ => Vec::new(),
        };
        Ok(Packages(list))
    }
}

/// `OrderPackage`; `shipFromAddress` (the merchant's) and `packageItems` are not read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderPackage {
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub ship_time: Option<String>,
    pub package_status: Option<PackageStatus>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PackageStatus {
    /// `PENDING`, `IN_TRANSIT`, `SHIPPED`, `DELIVERED`, `CANCELLED`, `UNDELIVERABLE`.
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesChannel {
    pub channel_name: Option<String>,
    pub marketplace_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Buyer {
    pub buyer_name: Option<String>,
    pub buyer_email: Option<String>,
    pub buyer_company_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub delivery_address: Option<CustomerAddress>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerAddress {
    pub name: Option<String>,
    pub company_name: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub address_line3: Option<String>,
    pub city: Option<String>,
    pub district_or_county: Option<String>,
    pub state_or_region: Option<String>,
    pub municipality: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderProceeds {
    pub grand_total: Option<Money>,
    #[serde(default)]
    pub breakdowns: Option<Vec<OrderProceedsBreakdown>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderProceedsBreakdown {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub status: Option<String>,
    pub subtotal: Option<Money>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFulfillment {
    pub fulfillment_status: Option<String>,
    pub fulfilled_by: Option<String>,
    pub fulfillment_service_level: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pub order_item_id: Option<String>,
    pub quantity_ordered: Option<i64>,
    pub product: Option<ItemProduct>,
    pub proceeds: Option<ItemProceeds>,
    pub promotion: Option<ItemPromotion>,
    pub cancellation: Option<serde_json::Value>,
    pub fulfillment: Option<ItemFulfillment>,
    pub tax: Option<ItemTax>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemProduct {
    pub asin: Option<String>,
    pub title: Option<String>,
    pub seller_sku: Option<String>,
    pub price: Option<ItemPrice>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemPrice {
    pub unit_price: Option<Money>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemProceeds {
    pub proceeds_total: Option<Money>,
    #[serde(default)]
    pub breakdowns: Option<Vec<ItemProceedsBreakdown>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemProceedsBreakdown {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub subtotal: Option<Money>,
    #[serde(default)]
    pub detailed_breakdowns: Option<Vec<DetailedBreakdown>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetailedBreakdown {
    pub subtype: Option<String>,
    pub value: Option<Money>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemPromotion {
    #[serde(default)]
    pub breakdowns: Option<Vec<PromotionBreakdown>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromotionBreakdown {
    pub promotion_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFulfillment {
    pub quantity_fulfilled: Option<i64>,
    pub quantity_unfulfilled: Option<i64>,
    pub packing: Option<ItemPacking>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemPacking {
    pub gift_option: Option<GiftOption>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GiftOption {
    pub gift_message: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemTax {
    #[serde(default)]
    pub tax_collections: Option<Vec<TaxCollection>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxCollection {
    pub model: Option<String>,
}

/// `{"errors":[{code, message, details}]}` of every non-2xx SP-API answer.
#[derive(Debug, Deserialize)]
pub struct ErrorList {
    pub errors: Vec<ApiError>,
}

#[derive(Debug, Deserialize)]
pub struct ApiError {
    pub code: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
}

/// The LWA token endpoint's answer.
#[derive(Deserialize)]
pub struct LwaToken {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<i64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// The LWA token endpoint's error (`{"error":"invalid_grant","error_description":…}`).
#[derive(Debug, Deserialize)]
pub struct LwaError {
    pub error: Option<String>,
}
