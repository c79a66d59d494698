//! A held shipment as the V2 API answers it: the spec's `shipment` with every required field
//! (`ship_from`, `return_to`, `confirmation`, `advanced_options`, `insurance_provider`,
//! `tags`, `packages`, `total_weight`). What the sink does not send gets the account's
//! defaults, the way ShipStation fills them in.

use super::labels::{label_exists, modified_at};
use super::state::{Stored, shipment_id};
use crate::wire::{Address, MonetaryValue, ShipmentBody, ShipmentItem};
use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The simulated account's default warehouse (ship-from and return address): not buyer data.
fn warehouse_address() -> Value {
    json!({
        "name": "Sim Fulfilment",
        "phone": "512-555-0100",
        "company_name": "Ordersync Sim Warehouse",
        "address_line1": "1 Dock Road",
        "city_locality": "Austin",
        "state_province": "TX",
        "postal_code": "78701",
        "country_code": "US",
        "address_residential_indicator": "no",
    })
}

/// One package of the default weight: the sink sends no package, ShipStation adds one.
fn default_packages() -> Value {
    json!([{
        "package_code": "package",
        "weight": { "value": 16, "unit": "ounce" },
        "dimensions": { "unit": "inch", "length": 0, "width": 0, "height": 0 },
        "insured_value": { "currency": "usd", "amount": 0 },
        "products": [],
    }])
}

fn advanced_options() -> Value {
    json!({
        "bill_to_account": null, "bill_to_country_code": null, "bill_to_party": null,
        "bill_to_postal_code": null, "contains_alcohol": false, "delivered_duty_paid": false,
        "dry_ice": false, "dry_ice_weight": null, "non_machinable": false,
        "saturday_delivery": false, "freight_class": null, "custom_field1": null,
        "custom_field2": null, "custom_field3": null, "origin_type": null,
        "additional_handling": null, "shipper_release": null, "third_party_consignee": false,
        "dangerous_goods": false,
    })
}

/// Explicit fields: money must stay a `RawValue` number, which `#[serde(flatten)]` and
/// `serde_json::Value` would not preserve.
#[derive(Serialize)]
pub struct View<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    shipment_id: Option<String>,
    carrier_id: Option<&'a str>,
    service_code: Option<&'a str>,
    external_shipment_id: Option<&'a str>,
    external_order_id: Option<&'a str>,
    shipment_number: Option<&'a str>,
    ship_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    modified_at: Option<String>,
    shipment_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ship_to: Option<&'a Address>,
    ship_from: Value,
    warehouse_id: Option<&'a str>,
    return_to: Value,
    is_return: bool,
    confirmation: &'static str,
    customs: Option<()>,
    advanced_options: Value,
    insurance_provider: &'static str,
    tags: [(); 0],
    packages: Value,
    total_weight: Value,
    items: &'a [ShipmentItem],
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_paid: Option<&'a MonetaryValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shipping_paid: Option<MonetaryValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tax_paid: Option<MonetaryValue>,
    notes_from_buyer: Option<&'a str>,
    is_gift: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<String>>,
}

/// The spec's shipment status of a held shipment at `now`.
pub fn status(s: &Stored, now: OffsetDateTime) -> &'static str {
    if s.cancelled {
        "cancelled"
    } else if label_exists(s, now) {
        "label_purchased"
    } else {
        "pending"
    }
}

/// A held shipment (`stored`) or, for a refused row of a batch, the body as sent.
pub fn view<'a>(b: &'a ShipmentBody, stored: Option<(&Stored, OffsetDateTime)>) -> View<'a> {
    // Money the sink left out is zero in the shipment's currency (the spec's
    // `monetary_value` is never null).
    let zero = || {
        b.amount_paid.as_ref().map(|m| MonetaryValue {
            currency: m.currency.clone(),
            amount: rust_decimal::Decimal::ZERO,
        })
    };
    View {
        shipment_id: stored.map(|(s, _)| shipment_id(s.num())),
        carrier_id: None,
        service_code: None,
        external_shipment_id: b.external_shipment_id.as_deref(),
        external_order_id: b.external_order_id.as_deref(),
        shipment_number: b.shipment_number.as_deref(),
        ship_date: stored.map(|(s, _)| rfc3339(s.created_at)),
        created_at: stored.map(|(s, _)| rfc3339(s.created_at)),
        modified_at: stored.map(|(s, now)| rfc3339(modified_at(s, now))),
        shipment_status: stored.map_or("pending", |(s, now)| status(s, now)),
        ship_to: b.ship_to.as_ref(),
        ship_from: warehouse_address(),
        warehouse_id: b.warehouse_id.as_deref(),
        return_to: warehouse_address(),
        is_return: false,
        confirmation: "none",
        customs: None,
        advanced_options: advanced_options(),
        insurance_provider: "none",
        tags: [],
        packages: default_packages(),
        total_weight: json!({ "value": 16, "unit": "ounce" }),
        items: &b.items,
        amount_paid: b.amount_paid.as_ref(),
        shipping_paid: b.shipping_paid.clone().or_else(zero),
        tax_paid: b.tax_paid.clone().or_else(zero),
        notes_from_buyer: b.notes_from_buyer.as_deref(),
        is_gift: false,
        errors: None,
    }
}

impl View<'_> {
    pub fn with_errors(mut self, errors: Vec<String>) -> Self {
        self.errors = Some(errors);
        self
    }
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}
