//! The REST order object (an `orders.json` element or a webhook body), snake_case. Amounts
//! are decimal strings; `*_set` bags carry shop and presentment money.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RestOrder {
    pub id: Option<serde_json::Number>,
    pub name: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub cancelled_at: Option<String>,
    pub closed_at: Option<String>,
    pub fulfillment_status: Option<String>,
    pub financial_status: Option<String>,
    pub currency: Option<String>,
    pub presentment_currency: Option<String>,
    pub taxes_included: Option<bool>,
    pub tax_exempt: Option<bool>,
    pub line_items: Vec<RestLine>,
    pub shipping_lines: Vec<RestShippingLine>,
    pub discount_applications: Vec<RestDiscountApplication>,
    pub refunds: Vec<RestRefund>,
    pub additional_fees: Vec<RestFee>,
    pub total_shipping_price_set: Option<RestMoneySet>,
    pub total_discounts: Option<String>,
    pub total_tax: Option<String>,
    pub total_price: Option<String>,
    pub total_price_set: Option<RestMoneySet>,
    pub current_subtotal_price: Option<String>,
    pub current_total_discounts: Option<String>,
    pub current_total_tax: Option<String>,
    pub current_total_price: Option<String>,
    pub current_total_price_set: Option<RestMoneySet>,
    pub current_shipping_price_set: Option<RestMoneySet>,
    pub total_tip_received: Option<String>,
    pub original_total_duties_set: Option<RestMoneySet>,
    pub current_total_duties_set: Option<RestMoneySet>,
    pub original_total_additional_fees_set: Option<RestMoneySet>,
    pub current_total_additional_fees_set: Option<RestMoneySet>,
    pub total_cash_rounding_payment_adjustment_set: Option<RestMoneySet>,
    pub total_cash_rounding_refund_adjustment_set: Option<RestMoneySet>,
    pub email: Option<String>,
    pub contact_email: Option<String>,
    pub phone: Option<String>,
    pub customer: Option<RestCustomer>,
    pub shipping_address: Option<RestAddress>,
    pub billing_address: Option<RestAddress>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RestMoneySet {
    pub shop_money: RestMoney,
    #[serde(default)]
    pub presentment_money: Option<RestMoney>,
}

#[derive(Debug, Deserialize)]
pub struct RestMoney {
    pub amount: String,
    pub currency_code: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RestLine {
    pub id: Option<serde_json::Number>,
    pub sku: Option<String>,
    pub title: Option<String>,
    pub quantity: Option<i64>,
    pub current_quantity: Option<i64>,
    pub gift_card: Option<bool>,
    pub requires_shipping: Option<bool>,
    pub taxable: Option<bool>,
    /// `null` for tips and custom items.
    pub product_id: Option<serde_json::Number>,
    pub price: Option<String>,
    pub discount_allocations: Vec<RestDiscountAllocation>,
    pub tax_lines: Vec<RestTaxLine>,
}

#[derive(Debug, Deserialize)]
pub struct RestDiscountAllocation {
    pub amount: String,
    #[serde(default)]
    pub discount_application_index: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct RestTaxLine {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub rate: Option<serde_json::Number>,
    #[serde(default)]
    pub channel_liable: Option<bool>,
    pub price: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RestShippingLine {
    pub title: Option<String>,
    pub code: Option<String>,
    pub price: Option<String>,
    pub is_removed: Option<bool>,
    pub discount_allocations: Vec<RestDiscountAllocation>,
    pub tax_lines: Vec<RestTaxLine>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RestDiscountApplication {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub value: Option<String>,
    pub value_type: Option<String>,
    pub allocation_method: Option<String>,
    pub target_type: Option<String>,
    pub code: Option<String>,
    pub title: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RestFee {
    pub name: Option<String>,
    pub price_set: Option<RestMoneySet>,
    pub tax_lines: Vec<RestTaxLine>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RestRefund {
    pub id: Option<serde_json::Number>,
    pub created_at: Option<String>,
    pub refund_line_items: Vec<RestRefundLine>,
    pub order_adjustments: Vec<RestOrderAdjustment>,
    pub total_duties_set: Option<RestMoneySet>,
    pub transactions: Vec<RestTransaction>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RestRefundLine {
    pub line_item_id: Option<serde_json::Number>,
    pub quantity: Option<i64>,
    pub restock_type: Option<String>,
    pub subtotal_set: Option<RestMoneySet>,
    pub total_tax_set: Option<RestMoneySet>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RestOrderAdjustment {
    pub kind: Option<String>,
    pub reason: Option<String>,
    pub amount: Option<String>,
    pub tax_amount: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RestTransaction {
    pub kind: Option<String>,
    pub status: Option<String>,
    pub amount: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RestCustomer {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RestAddress {
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
    pub country_code: Option<String>,
    pub phone: Option<String>,
}

/// One element of `fulfillments[]`. Read element by element (not as a field of
/// [`RestOrder`]): a malformed one is skipped without failing the order.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RestFulfillment {
    /// `pending`, `open`, `success`, `cancelled`, `error`, `failure`.
    pub status: Option<String>,
    pub created_at: Option<String>,
    pub tracking_company: Option<String>,
    /// The first of `tracking_numbers` (older payloads have only this one).
    pub tracking_number: Option<String>,
    /// Anything but a string in it is ignored.
    pub tracking_numbers: Vec<serde_json::Value>,
}
