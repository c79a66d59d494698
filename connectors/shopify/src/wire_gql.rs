//! The GraphQL `Order` node as the connector's queries select it (camelCase). Only the fields
//! we use are typed; unknown fields are ignored; absent ones default.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlOrder {
    pub id: Option<String>,
    pub legacy_resource_id: Option<String>,
    pub name: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub cancelled_at: Option<String>,
    pub closed: Option<bool>,
    pub display_fulfillment_status: Option<String>,
    pub display_financial_status: Option<String>,
    pub currency_code: Option<String>,
    pub presentment_currency_code: Option<String>,
    pub taxes_included: Option<bool>,
    pub tax_exempt: Option<bool>,
    pub line_items: Option<Nodes<GqlLine>>,
    pub shipping_lines: Option<Nodes<GqlShippingLine>>,
    pub discount_applications: Option<Nodes<GqlDiscountApplication>>,
    pub additional_fees: Vec<GqlFee>,
    pub refunds: Vec<GqlRefund>,
    pub total_shipping_price_set: Option<MoneyBag>,
    pub total_discounts_set: Option<MoneyBag>,
    pub total_tax_set: Option<MoneyBag>,
    pub total_price_set: Option<MoneyBag>,
    pub current_subtotal_price_set: Option<MoneyBag>,
    pub current_total_discounts_set: Option<MoneyBag>,
    pub current_shipping_price_set: Option<MoneyBag>,
    pub current_total_tax_set: Option<MoneyBag>,
    pub current_total_price_set: Option<MoneyBag>,
    pub total_tip_received_set: Option<MoneyBag>,
    pub original_total_duties_set: Option<MoneyBag>,
    pub current_total_duties_set: Option<MoneyBag>,
    pub current_total_additional_fees_set: Option<MoneyBag>,
    pub total_cash_rounding_adjustment: Option<GqlCashRounding>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub customer: Option<GqlCustomer>,
    pub shipping_address: Option<GqlAddress>,
    pub billing_address: Option<GqlAddress>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Nodes<T> {
    #[serde(default = "Vec::new")]
    pub nodes: Vec<T>,
    #[serde(default, rename = "pageInfo")]
    pub page_info: Option<HasNext>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HasNext {
    pub has_next_page: bool,
}

impl<T> Nodes<T> {
    pub fn has_next(&self) -> bool {
        self.page_info.as_ref().is_some_and(|p| p.has_next_page)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoneyBag {
    pub shop_money: MoneyV2,
    #[serde(default)]
    pub presentment_money: Option<MoneyV2>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoneyV2 {
    pub amount: String,
    pub currency_code: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlCashRounding {
    pub payment_set: Option<MoneyBag>,
    pub refund_set: Option<MoneyBag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlLine {
    pub id: Option<String>,
    pub sku: Option<String>,
    pub title: Option<String>,
    pub quantity: Option<i64>,
    pub current_quantity: Option<i64>,
    pub is_gift_card: Option<bool>,
    pub requires_shipping: Option<bool>,
    pub taxable: Option<bool>,
    /// `null` for tips and custom items.
    pub product: Option<IdOnly>,
    pub original_unit_price_set: Option<MoneyBag>,
    pub discount_allocations: Vec<GqlDiscountAllocation>,
    pub tax_lines: Vec<GqlTaxLine>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IdOnly {
    pub id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlDiscountAllocation {
    pub allocated_amount_set: MoneyBag,
    #[serde(default)]
    pub discount_application: Option<IndexOnly>,
}

#[derive(Debug, Deserialize)]
pub struct IndexOnly {
    #[serde(default)]
    pub index: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlTaxLine {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub rate: Option<serde_json::Number>,
    #[serde(default)]
    pub channel_liable: Option<bool>,
    pub price_set: MoneyBag,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlShippingLine {
    pub title: Option<String>,
    pub code: Option<String>,
    pub original_price_set: Option<MoneyBag>,
    pub discount_allocations: Vec<GqlDiscountAllocation>,
    pub tax_lines: Vec<GqlTaxLine>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlDiscountApplication {
    #[serde(rename = "__typename")]
    pub typename: Option<String>,
    pub index: Option<i64>,
    pub target_type: Option<String>,
    pub allocation_method: Option<String>,
    pub value: Option<GqlPricingValue>,
    pub code: Option<String>,
    pub title: Option<String>,
}

/// `PricingValue`: `MoneyV2 { amount }` or `PricingPercentageValue { percentage }`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GqlPricingValue {
    pub amount: Option<String>,
    pub percentage: Option<serde_json::Number>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GqlFee {
    pub name: Option<String>,
    pub price: Option<MoneyBag>,
    #[serde(rename = "taxLines")]
    pub tax_lines: Vec<GqlTaxLine>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlRefund {
    pub id: Option<String>,
    pub created_at: Option<String>,
    pub total_refunded_set: Option<MoneyBag>,
    pub refund_line_items: Option<Nodes<GqlRefundLine>>,
    pub refund_shipping_lines: Option<Nodes<GqlRefundShipping>>,
    pub order_adjustments: Option<Nodes<GqlOrderAdjustment>>,
    pub duties: Vec<GqlRefundDuty>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlRefundLine {
    pub line_item: Option<IdOnly>,
    pub quantity: Option<i64>,
    pub restock_type: Option<String>,
    pub subtotal_set: Option<MoneyBag>,
    pub total_tax_set: Option<MoneyBag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlRefundShipping {
    pub subtotal_amount_set: Option<MoneyBag>,
    pub tax_amount_set: Option<MoneyBag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlOrderAdjustment {
    pub reason: Option<String>,
    pub amount_set: Option<MoneyBag>,
    pub tax_amount_set: Option<MoneyBag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlRefundDuty {
    pub amount_set: Option<MoneyBag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlCustomer {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlAddress {
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub province_code: Option<String>,
    pub province: Option<String>,
    pub zip: Option<String>,
    pub country_code_v2: Option<String>,
    pub phone: Option<String>,
}

/// One element of `fulfillments(first:)` (a list, not a connection). Read element by element,
/// not as a field of [`GqlOrder`]: a malformed one is skipped without failing the order.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GqlFulfillment {
    /// `FulfillmentStatus`: `SUCCESS`, `OPEN`, `PENDING`, `CANCELLED`, `ERROR`, `FAILURE`.
    pub status: Option<String>,
    pub created_at: Option<String>,
    /// Anything but an object in it is ignored.
    pub tracking_info: Vec<serde_json::Value>,
}

/// `FulfillmentTrackingInfo`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GqlTrackingInfo {
    pub number: Option<String>,
    pub company: Option<String>,
}
