//! Pure mapping: a canonical [`Order`] (with its PII) → a V2 `create_shipment_request`, and
//! V2 answers → what the engine needs. No I/O. Errors never carry PII: they name fields.

use crate::wire::{Address, MonetaryValue, ShipmentBody, ShipmentItem, TrackingInfo};
use ordersync_sdk::money::minor_units;
use ordersync_sdk::{ConnectorError, Delivered, Order, OrderStatus};
use rust_decimal::Decimal;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The spec's `maxLength` of `external_shipment_id` and `shipment_number`; ShipStation
/// silently truncates longer ids, so we never send one.
pub const MAX_ID_LEN: usize = 50;

/// Why an order produces no shipment: it has no goods with units left (all refunded or
/// removed, or only tips, gift cards and non-shipping lines), or it was cancelled.
pub const NOTHING_TO_SHIP: &str =
    "nothing left to ship (no goods with units left on the order, or it is cancelled)";

/// Builds the shipment for `order`. `object_key` becomes `external_shipment_id`, the id that
/// makes a lost response harmless (a repeat is an `identifier_conflict`, not a second object).
/// An order with nothing left to ship is a Permanent [`NOTHING_TO_SHIP`] error.
pub fn shipment_body(
    order: &Order,
    object_key: &str,
    warehouse_id: Option<&str>,
) -> Result<ShipmentBody, ConnectorError> {
    shipment_plan(order, object_key, warehouse_id)?
        .ok_or_else(|| ConnectorError::permanent(NOTHING_TO_SHIP))
}

/// [`shipment_body`], with "nothing left to ship" as `Ok(None)` so the sink can withdraw a
/// shipment it made earlier.
///
/// ShipStation ships what is left: the goods of [`Order::lines_to_ship`] at their current
/// quantities, each at its unit price after the line's discounts and with the tax of its
/// current units; `amount_paid` is the current total as paid (with the cash-rounding
/// adjustment), `shipping_paid` (after shipping discounts) and `tax_paid` the current totals. Amounts are in the order's basis (docs/money.md).
pub fn shipment_plan(
    order: &Order,
    object_key: &str,
    warehouse_id: Option<&str>,
) -> Result<Option<ShipmentBody>, ConnectorError> {
    if object_key.is_empty() || object_key.chars().count() > MAX_ID_LEN {
        return Err(ConnectorError::permanent(
            "object_key must be 1 to 50 characters (external_shipment_id)",
        ));
    }
    let Some(g) = goods(order)? else {
        return Ok(None);
    };
    let money = |amount: Decimal| MonetaryValue {
        currency: g.currency.clone(),
        amount,
    };
    Ok(Some(ShipmentBody {
        external_shipment_id: Some(object_key.to_string()),
        external_order_id: Some(order.external_id.clone()),
        shipment_number: Some(truncate(&order.order_number, MAX_ID_LEN)),
        warehouse_id: warehouse_id.map(str::to_string),
        ship_to: Some(ship_to(order)?),
        amount_paid: Some(money(g.paid)),
        shipping_paid: Some(money(g.shipping)),
        tax_paid: Some(money(g.tax)),
        items: g.items,
        notes_from_buyer: order.pii.notes.clone(),
    }))
}

/// What is left to ship, the same for V1 and V2: the goods of [`Order::lines_to_ship`] and
/// the order's current money. Amounts are in the order's basis (docs/money.md).
pub struct Goods {
    /// One per line with units left: current quantity, discounted unit price, current tax.
    pub items: Vec<ShipmentItem>,
    /// Lower-case ISO currency.
    pub currency: String,
    /// The current total as paid (with the cash-rounding adjustment).
    pub paid: Decimal,
    /// Current shipping after shipping discounts.
    pub shipping: Decimal,
    pub tax: Decimal,
}

/// The goods left to ship, or `None` when nothing is (cancelled, fully refunded, only tips,
/// gift cards and lines that do not ship). Refuses an order that does not balance.
pub fn goods(order: &Order) -> Result<Option<Goods>, ConnectorError> {
    // Validates currency, signs, decimals and totals the way every mapped order is checked.
    order
        .clone()
        .balance()
        .map_err(|e| ConnectorError::permanent(format!("order does not balance: {e}")))?;
    if order.status == OrderStatus::Cancelled {
        return Ok(None);
    }
    let dp = minor_units(&order.currency);
    let items = order
        .lines_to_ship()
        .map(|l| {
            let overflow = || {
                ConnectorError::permanent(format!("line {} amounts overflow", l.external_line_id))
            };
            Ok(ShipmentItem {
                name: l.title.clone(),
                sku: l.sku.clone(),
                quantity: l.current_quantity,
                unit_price: Some(l.discounted_unit(dp).ok_or_else(overflow)?),
                tax_amount: Some(l.current_tax(dp).ok_or_else(overflow)?),
                external_order_id: Some(order.external_id.clone()),
                external_order_item_id: Some(l.external_line_id.clone()),
            })
        })
        .collect::<Result<Vec<_>, ConnectorError>>()?;
    if items.is_empty() {
        return Ok(None);
    }
    let c = &order.current;
    // What the buyer handed over: cash payments and refunds are rounded (CHF to 0.05).
    // balance() has refused negative amounts; the current totals are ≥ 0 here.
    let paid = c
        .total
        .checked_add(order.cash_rounding.payment)
        .and_then(|p| p.checked_sub(order.cash_rounding.refund))
        .filter(|p| !p.is_sign_negative())
        .unwrap_or(c.total);
    Ok(Some(Goods {
        items,
        currency: order.currency.to_ascii_lowercase(),
        paid,
        shipping: c.shipping,
        tax: c.tax,
    }))
}

/// `ship_to` with the spec's required fields (name, phone, address_line1, city_locality,
/// state_province, postal_code, country_code); a missing one is a Permanent error naming
/// the field, never its value.
fn ship_to(order: &Order) -> Result<Address, ConnectorError> {
    let pii = &order.pii;
    let a = pii
        .shipping_address
        .as_ref()
        .ok_or_else(|| ConnectorError::permanent("shipping address missing"))?;
    let present = |v: Option<&String>| v.filter(|s| !s.trim().is_empty()).cloned();
    let need = |v: Option<String>, field: &str| {
        v.ok_or_else(|| {
            ConnectorError::permanent(format!("shipping address lacks required {field}"))
        })
    };
    Ok(Address {
        name: Some(need(
            present(a.name.as_ref()).or_else(|| present(pii.buyer_name.as_ref())),
            "name",
        )?),
        phone: Some(need(
            present(a.phone.as_ref()).or_else(|| present(pii.phone.as_ref())),
            "phone",
        )?),
        email: present(pii.email.as_ref()),
        company_name: present(a.company.as_ref()),
        address_line1: Some(need(present(a.line1.as_ref()), "address_line1")?),
        address_line2: present(a.line2.as_ref()),
        city_locality: Some(need(present(a.city.as_ref()), "city_locality")?),
        state_province: Some(need(present(a.region.as_ref()), "state_province")?),
        postal_code: Some(need(present(a.postal_code.as_ref()), "postal_code")?),
        country_code: Some(need(
            present(a.country_code.as_ref()).map(|c| c.to_ascii_uppercase()),
            "country_code",
        )?),
        // We do not know; "unknown" is the spec's default.
        address_residential_indicator: Some("unknown".into()),
    })
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The error code a per-shipment `errors` string carries. ShipStation's strings are free text
/// that may echo the address, so only a known code is ever kept.
pub fn per_shipment_code(msg: &str) -> &'static str {
    const KNOWN: [&str; 6] = [
        "identifier_conflict",
        "field_value_required",
        "invalid_field_value",
        "invalid_address",
        "invalid_string_length",
        "invalid_status",
    ];
    KNOWN
        .into_iter()
        .find(|c| msg.contains(c))
        .unwrap_or("unspecified")
}

/// Detail codes that mean the buyer has the parcel (`DELIVERED_IN_PART` does not: part of it
/// is still travelling).
const DELIVERED_DETAIL: [&str; 7] = [
    "DELIVERED",
    "DELIVERED_DAMAGED",
    "DELIVERED_SPECIFIED_SAFE_PLACE",
    "DELIVERED_TO_ALTERNATIVE_DELIVERY_LOCATION",
    "DELIVERED_TO_NEIGHBOUR",
    "DELIVERED_TO_PO_BOX",
    "PARCEL_COLLECTED_FROM_PICKUP_POINT",
];

/// Tracking → `Delivered` once the parcel is delivered and `actual_delivery_date` is set.
/// The live API sends `status_code` `DE`; the 2025-07 spec types `status_code` with the
/// detail-code enum (`DELIVERED`, …), so either form counts.
pub fn delivered(t: &TrackingInfo) -> Result<Option<Delivered>, ConnectorError> {
    let is_delivered =
        |c: Option<&str>| c.is_some_and(|c| c == "DE" || DELIVERED_DETAIL.contains(&c));
    if !is_delivered(t.status_code.as_deref()) && !is_delivered(t.status_detail_code.as_deref()) {
        return Ok(None);
    }
    let Some(at) = t.actual_delivery_date.as_deref() else {
        return Ok(None);
    };
    let at = OffsetDateTime::parse(at, &Rfc3339)
        .map_err(|_| ConnectorError::permanent("actual_delivery_date is not RFC 3339"))?;
    Ok(Some(Delivered {
        at: at.to_offset(time::UtcOffset::UTC),
    }))
}

/// True when `s` is safe as one URL path segment (ids we put into paths).
pub fn is_path_safe(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
