//! The Sell Fulfillment API's JSON shapes (`sell_fulfillment_v1_oas3.json`, v1.20.7) as far
//! as the connector reads them, and the OAuth token answer. Every field is optional: eBay omits
//! what does not apply (and what has aged away), and the mapper decides what is required.

use ordersync_sdk::Redacted;
use serde::Deserialize;

/// `OrderSearchPagedCollection`: one page of `getOrders`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderPage {
    #[serde(default)]
    pub total: Option<u64>,
    #[serde(default)]
    pub limit: Option<u64>,
    #[serde(default)]
    pub offset: Option<u64>,
    #[serde(default)]
    pub next: Option<String>,
    /// Orders as raw JSON: one order that does not fit the shape is rejected alone.
    #[serde(default)]
    pub orders: Vec<serde_json::Value>,
}

/// `Amount`: `value` in `currency` (the seller's side); `convertedFrom*` is the buyer's
/// currency when eBay converted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Amount {
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub converted_from_value: Option<String>,
    #[serde(default)]
    pub converted_from_currency: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    #[serde(default)]
    pub order_id: Option<String>,
    #[serde(default)]
    pub creation_date: Option<String>,
    #[serde(default)]
    pub last_modified_date: Option<String>,
    #[serde(default)]
    pub order_fulfillment_status: Option<String>,
    #[serde(default)]
    pub order_payment_status: Option<String>,
    #[serde(default)]
    pub buyer: Option<Buyer>,
    #[serde(default)]
    pub buyer_checkout_notes: Option<Redacted<String>>,
    #[serde(default)]
    pub pricing_summary: Option<PricingSummary>,
    #[serde(default)]
    pub cancel_status: Option<CancelStatus>,
    #[serde(default)]
    pub payment_summary: Option<PaymentSummary>,
    #[serde(default)]
    pub fulfillment_start_instructions: Vec<FulfillmentStartInstruction>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    #[serde(default)]
    pub ebay_collect_and_remit_tax: Option<bool>,
    /// A seller fee deducted from the payout: not something the buyer paid.
    #[serde(default)]
    pub total_marketplace_fee: Option<Amount>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Buyer {
    /// The buyer's eBay user name: what an account-deletion notice names the buyer by.
    #[serde(default)]
    pub username: Option<Redacted<String>>,
    #[serde(default)]
    pub buyer_registration_address: Option<ExtendedContact>,
}

/// `ExtendedContact`: name, address, phone, email. eBay drops `email` 14 days and
/// `fullName`, `primaryPhone`, `addressLine1/2` 90 days after the order was created.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedContact {
    #[serde(default)]
    pub full_name: Option<Redacted<String>>,
    #[serde(default)]
    pub company_name: Option<Redacted<String>>,
    #[serde(default)]
    pub contact_address: Option<Address>,
    #[serde(default)]
    pub primary_phone: Option<PhoneNumber>,
    #[serde(default)]
    pub email: Option<Redacted<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    #[serde(default)]
    pub address_line1: Option<Redacted<String>>,
    #[serde(default)]
    pub address_line2: Option<Redacted<String>>,
    #[serde(default)]
    pub city: Option<Redacted<String>>,
    #[serde(default)]
    pub state_or_province: Option<String>,
    #[serde(default)]
    pub postal_code: Option<Redacted<String>>,
    #[serde(default)]
    pub country_code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumber {
    #[serde(default)]
    pub phone_number: Option<Redacted<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingSummary {
    #[serde(default)]
    pub price_subtotal: Option<Amount>,
    /// Negative.
    #[serde(default)]
    pub price_discount: Option<Amount>,
    #[serde(default)]
    pub delivery_cost: Option<Amount>,
    /// Negative.
    #[serde(default)]
    pub delivery_discount: Option<Amount>,
    #[serde(default)]
    pub tax: Option<Amount>,
    /// Special fees (recycling fees); only with `fieldGroups=TAX_BREAKDOWN`.
    #[serde(default)]
    pub fee: Option<Amount>,
    /// A price adjustment made after the sale (signed).
    #[serde(default)]
    pub adjustment: Option<Amount>,
    #[serde(default)]
    pub total: Option<Amount>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelStatus {
    #[serde(default)]
    pub cancel_state: Option<String>,
    #[serde(default)]
    pub cancel_requests: Vec<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentSummary {
    #[serde(default)]
    pub refunds: Vec<OrderRefund>,
}

/// `paymentSummary.refunds[]`. A refund issued per line carries its `refundId` on the lines
/// instead; this entry then has only `refundReferenceId`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRefund {
    #[serde(default)]
    pub amount: Option<Amount>,
    #[serde(default)]
    pub refund_date: Option<String>,
    #[serde(default)]
    pub refund_id: Option<String>,
    #[serde(default)]
    pub refund_reference_id: Option<String>,
    #[serde(default)]
    pub refund_status: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentStartInstruction {
    #[serde(default)]
    pub fulfillment_instructions_type: Option<String>,
    #[serde(default)]
    pub shipping_step: Option<ShippingStep>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingStep {
    #[serde(default)]
    pub shipping_carrier_code: Option<String>,
    #[serde(default)]
    pub shipping_service_code: Option<String>,
    #[serde(default)]
    pub ship_to: Option<ExtendedContact>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    #[serde(default)]
    pub line_item_id: Option<String>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub quantity: Option<i64>,
    /// Unit price × quantity, before discounts.
    #[serde(default)]
    pub line_item_cost: Option<Amount>,
    /// After the line's promotions (only when it had one).
    #[serde(default)]
    pub discounted_line_item_cost: Option<Amount>,
    #[serde(default)]
    pub delivery_cost: Option<DeliveryCost>,
    #[serde(default)]
    pub applied_promotions: Vec<AppliedPromotion>,
    #[serde(default)]
    pub taxes: Vec<Tax>,
    #[serde(default)]
    pub ebay_collect_and_remit_taxes: Vec<CollectAndRemitTax>,
    #[serde(default)]
    pub line_item_fulfillment_status: Option<String>,
    #[serde(default)]
    pub refunds: Vec<LineItemRefund>,
    /// Present for digital gift cards.
    #[serde(default)]
    pub gift_details: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryCost {
    #[serde(default)]
    pub shipping_cost: Option<Amount>,
    #[serde(default)]
    pub handling_cost: Option<Amount>,
    /// The line's shipping discount (positive).
    #[serde(default)]
    pub discount_amount: Option<Amount>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedPromotion {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub discount_amount: Option<Amount>,
    #[serde(default)]
    pub promotion_id: Option<String>,
}

/// `lineItems[].taxes[]`; `taxType` only with `fieldGroups=TAX_BREAKDOWN`, which also lists
/// fees (recycling fees) here.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tax {
    #[serde(default)]
    pub amount: Option<Amount>,
    #[serde(default)]
    pub tax_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectAndRemitTax {
    #[serde(default)]
    pub amount: Option<Amount>,
    #[serde(default)]
    pub tax_type: Option<String>,
}

/// `lineItems[].refunds[]`: the seller's net amount (without the tax eBay collected).
/// `refundDate` is absent until the refund is issued.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItemRefund {
    #[serde(default)]
    pub amount: Option<Amount>,
    #[serde(default)]
    pub refund_date: Option<String>,
    #[serde(default)]
    pub refund_id: Option<String>,
}

/// `{"errors": [...]}` of every eBay REST API.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub errors: Vec<ErrorDetail>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    #[serde(default)]
    pub error_id: Option<i64>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
}

/// The token endpoint's answer.
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// eBay does not rotate refresh tokens on a refresh grant; taken if one comes.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// The token endpoint's error (`{"error": "invalid_grant", "error_description": ...}`).
#[derive(Debug, Default, Deserialize)]
pub struct OAuthError {
    #[serde(default)]
    pub error: Option<String>,
}
