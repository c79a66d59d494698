//! A held V1 order as the API answers it, field for field the documentation's examples
//! (fixtures/v1: `CreateOrderResponse.json`, `GetOrderResponse.json`, `ListOrdersResponse.json`).
//! Typed so that money stays an exact JSON number.

use crate::sim::state::V1Stored;
use crate::v1::mapping::pacific;
use crate::v1::wire::{Address, OrderItem};
use crate::wire::decimal_number;
use rust_decimal::Decimal;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

/// `orderId` of the n-th order (V1 ids are plain integers).
pub fn order_id(num: u64) -> u64 {
    140_000_000 + num
}

pub fn num_of_order_id(id: u64) -> Option<u64> {
    id.checked_sub(140_000_000).filter(|n| *n > 0)
}

/// When an open order ships in the simulator: a day after it was created.
pub fn ships_at(o: &V1Stored) -> OffsetDateTime {
    o.created_at + Duration::days(1)
}

/// The status at `now`: as written, except that an order awaiting shipment has shipped once
/// its day is up.
pub fn effective_status(o: &V1Stored, now: OffsetDateTime) -> &str {
    let written = o
        .body
        .order_status
        .as_deref()
        .unwrap_or("awaiting_shipment");
    if written == "awaiting_shipment" && now >= ships_at(o) {
        "shipped"
    } else {
        written
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressView<'a> {
    name: Option<&'a str>,
    company: Option<&'a str>,
    street1: Option<&'a str>,
    street2: Option<&'a str>,
    street3: Option<&'a str>,
    city: Option<&'a str>,
    state: Option<&'a str>,
    postal_code: Option<&'a str>,
    country: Option<&'a str>,
    phone: Option<&'a str>,
    residential: Option<bool>,
    address_verified: Option<&'static str>,
}

fn address(a: Option<&Address>) -> AddressView<'_> {
    let f = |g: fn(&Address) -> &Option<String>| a.and_then(|a| g(a).as_deref());
    AddressView {
        name: f(|a| &a.name),
        company: f(|a| &a.company),
        street1: f(|a| &a.street1),
        street2: f(|a| &a.street2),
        street3: f(|a| &a.street3),
        city: f(|a| &a.city),
        state: f(|a| &a.state),
        postal_code: f(|a| &a.postal_code),
        country: f(|a| &a.country),
        phone: f(|a| &a.phone),
        residential: a.and_then(|a| a.residential),
        address_verified: a
            .and_then(|a| a.street1.as_ref())
            .map(|_| "Address not yet validated"),
    }
}

#[derive(Serialize)]
pub struct Weight {
    value: u32,
    units: &'static str,
}

#[derive(Serialize)]
pub struct NameValue {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemView<'a> {
    order_item_id: u64,
    line_item_key: Option<&'a str>,
    sku: Option<&'a str>,
    name: &'a str,
    image_url: Option<&'a str>,
    weight: Weight,
    quantity: u32,
    #[serde(with = "decimal_number::option")]
    unit_price: Option<Decimal>,
    #[serde(with = "decimal_number::option")]
    tax_amount: Option<Decimal>,
    #[serde(with = "decimal_number::option")]
    shipping_amount: Option<Decimal>,
    warehouse_location: Option<&'a str>,
    options: Vec<NameValue>,
    product_id: Option<u64>,
    fulfillment_sku: Option<&'a str>,
    adjustment: bool,
    upc: Option<&'a str>,
    create_date: String,
    modify_date: String,
}

#[derive(Serialize)]
pub struct Dimensions {
    units: &'static str,
    length: u32,
    width: u32,
    height: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InsuranceOptions {
    provider: Option<&'static str>,
    insure_shipment: bool,
    insured_value: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InternationalOptions {
    contents: Option<&'static str>,
    customs_items: Option<Vec<()>>,
    non_delivery: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvancedOptionsView<'a> {
    warehouse_id: Option<u64>,
    non_machinable: bool,
    saturday_delivery: bool,
    contains_alcohol: bool,
    merged_or_split: bool,
    merged_ids: Vec<u64>,
    parent_id: Option<u64>,
    store_id: Option<u64>,
    custom_field1: Option<&'a str>,
    custom_field2: Option<&'a str>,
    custom_field3: Option<&'a str>,
    source: Option<&'a str>,
    bill_to_party: Option<&'a str>,
    bill_to_account: Option<&'a str>,
    bill_to_postal_code: Option<&'a str>,
    bill_to_country_code: Option<&'a str>,
}

/// An order. `externally_fulfilled_by_id/name` are in the get and list answers, not in the
/// create answer (as in the examples).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderView<'a> {
    order_id: u64,
    order_number: Option<&'a str>,
    order_key: Option<&'a str>,
    order_date: Option<&'a str>,
    create_date: String,
    modify_date: String,
    payment_date: Option<&'a str>,
    ship_by_date: Option<&'a str>,
    order_status: &'a str,
    customer_id: Option<u64>,
    customer_username: Option<&'a str>,
    customer_email: Option<&'a str>,
    bill_to: AddressView<'a>,
    ship_to: AddressView<'a>,
    items: Vec<ItemView<'a>>,
    #[serde(with = "decimal_number")]
    order_total: Decimal,
    #[serde(with = "decimal_number::option")]
    amount_paid: Option<Decimal>,
    #[serde(with = "decimal_number::option")]
    tax_amount: Option<Decimal>,
    #[serde(with = "decimal_number::option")]
    shipping_amount: Option<Decimal>,
    customer_notes: Option<&'a str>,
    internal_notes: Option<&'a str>,
    gift: bool,
    gift_message: Option<&'a str>,
    payment_method: Option<&'a str>,
    requested_shipping_service: Option<&'a str>,
    carrier_code: Option<&'static str>,
    service_code: Option<&'static str>,
    package_code: Option<&'static str>,
    confirmation: Option<&'static str>,
    ship_date: Option<String>,
    hold_until_date: Option<&'a str>,
    weight: Weight,
    dimensions: Dimensions,
    insurance_options: InsuranceOptions,
    international_options: InternationalOptions,
    advanced_options: AdvancedOptionsView<'a>,
    tag_ids: Option<Vec<u64>>,
    user_id: Option<&'a str>,
    externally_fulfilled: bool,
    externally_fulfilled_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    externally_fulfilled_by_id: Option<Option<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    externally_fulfilled_by_name: Option<Option<&'a str>>,
}

/// Item dates carry milliseconds, order dates seven digits (as in the examples).
fn item_date(t: OffsetDateTime) -> String {
    let s = pacific(t);
    s[..s.len().saturating_sub(4)].to_string()
}

pub fn order<'a>(o: &'a V1Stored, now: OffsetDateTime, full: bool) -> OrderView<'a> {
    let b = &o.body;
    let status = effective_status(o, now);
    let items: Vec<ItemView<'a>> = b
        .items
        .iter()
        .enumerate()
        .map(|(i, it): (usize, &OrderItem)| ItemView {
            order_item_id: o.num() * 1000 + i as u64,
            line_item_key: it.line_item_key.as_deref(),
            sku: it.sku.as_deref(),
            name: &it.name,
            image_url: None,
            weight: Weight {
                value: 0,
                units: "ounces",
            },
            quantity: it.quantity,
            unit_price: it.unit_price,
            tax_amount: it.tax_amount,
            shipping_amount: None,
            warehouse_location: None,
            options: Vec::new(),
            product_id: None,
            fulfillment_sku: None,
            adjustment: it.adjustment,
            upc: None,
            create_date: item_date(o.created_at),
            modify_date: item_date(o.modified_at),
        })
        .collect();
    // orderTotal = Σ unitPrice × quantity + taxAmount + shippingAmount (as in the examples).
    let goods = b.items.iter().try_fold(Decimal::ZERO, |acc, it| {
        acc.checked_add(it.unit_price?.checked_mul(Decimal::from(it.quantity))?)
    });
    let order_total = goods
        .and_then(|g| g.checked_add(b.tax_amount.unwrap_or_default()))
        .and_then(|g| g.checked_add(b.shipping_amount.unwrap_or_default()))
        .unwrap_or_default();
    let adv = b.advanced_options.as_ref();
    OrderView {
        order_id: order_id(o.num()),
        order_number: b.order_number.as_deref(),
        order_key: b.order_key.as_deref(),
        order_date: b.order_date.as_deref(),
        create_date: pacific(o.created_at),
        modify_date: pacific(o.modified_at),
        payment_date: b.payment_date.as_deref(),
        ship_by_date: None,
        order_status: status,
        customer_id: None,
        customer_username: b.customer_email.as_deref(),
        customer_email: b.customer_email.as_deref(),
        bill_to: address(b.bill_to.as_ref()),
        ship_to: address(b.ship_to.as_ref()),
        items,
        order_total,
        amount_paid: b.amount_paid,
        tax_amount: b.tax_amount,
        shipping_amount: b.shipping_amount,
        customer_notes: b.customer_notes.as_deref(),
        internal_notes: None,
        gift: b.gift,
        gift_message: None,
        payment_method: None,
        requested_shipping_service: b.requested_shipping_service.as_deref(),
        carrier_code: (status == "shipped").then_some("stamps_com"),
        service_code: (status == "shipped").then_some("usps_priority_mail"),
        package_code: Some("package"),
        confirmation: Some("none"),
        ship_date: (status == "shipped").then(|| pacific(ships_at(o))[..10].to_string()),
        hold_until_date: None,
        weight: Weight {
            value: 16,
            units: "ounces",
        },
        dimensions: Dimensions {
            units: "inches",
            length: 0,
            width: 0,
            height: 0,
        },
        insurance_options: InsuranceOptions {
            provider: None,
            insure_shipment: false,
            insured_value: 0,
        },
        international_options: InternationalOptions {
            contents: None,
            customs_items: None,
            non_delivery: None,
        },
        advanced_options: AdvancedOptionsView {
            warehouse_id: Some(adv.and_then(|a| a.warehouse_id).unwrap_or(98765)),
            non_machinable: false,
            saturday_delivery: false,
            contains_alcohol: false,
            merged_or_split: false,
            merged_ids: Vec::new(),
            parent_id: None,
            store_id: Some(12345),
            custom_field1: adv.and_then(|a| a.custom_field1.as_deref()),
            custom_field2: None,
            custom_field3: None,
            source: adv.and_then(|a| a.source.as_deref()),
            bill_to_party: None,
            bill_to_account: None,
            bill_to_postal_code: None,
            bill_to_country_code: None,
        },
        tag_ids: None,
        user_id: None,
        externally_fulfilled: false,
        externally_fulfilled_by: None,
        externally_fulfilled_by_id: full.then_some(None),
        externally_fulfilled_by_name: full.then_some(None),
    }
}
