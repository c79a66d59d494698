//! Pure mapping: a canonical [`Order`] → the tracking AfterShip follows for it, and a tracking
//! → when it was delivered. No I/O. Errors name fields, never values that could be buyer data
//! (carrier names and tracking numbers are not PII).

use crate::config::carrier_key;
use crate::wire::{Customer, KEY_FIELD, Tracking, TrackingBody};
use ordersync_sdk::{ConnectorError, Order};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Longest tracking number we send (AfterShip refuses longer ones; 4005/4017).
pub const MAX_TRACKING_NUMBER: usize = 64;

/// The parcel an order is followed by: its first fulfillment (one tracking per order; a split
/// shipment is followed through its first parcel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub slug: String,
    pub tracking_number: String,
}

/// The order's tracking target. `Ok(None)`: no fulfillment yet (nothing to follow). An
/// unknown carrier is Permanent and says how to fix it.
pub fn target(
    order: &Order,
    slugs: &BTreeMap<String, String>,
) -> Result<Option<Target>, ConnectorError> {
    let Some(f) = order.fulfillments.first() else {
        return Ok(None);
    };
    let number = f.tracking_number.trim();
    if number.is_empty() {
        return Ok(None);
    }
    if number.len() > MAX_TRACKING_NUMBER || !number.chars().all(is_tracking_char) {
        return Err(ConnectorError::permanent(
            "the first fulfillment's tracking number is not one AfterShip accepts",
        ));
    }
    let carrier = f.carrier.as_deref().map(str::trim).unwrap_or("");
    if carrier.is_empty() {
        return Err(ConnectorError::permanent(
            "the first fulfillment names no carrier: AfterShip needs a slug (add it to `slugs`)",
        ));
    }
    let slug = slugs.get(&carrier_key(carrier)).ok_or_else(|| {
        // Carriers are not PII; cap the echo so a hostile value cannot flood the reason.
        let shown: String = carrier.chars().take(40).collect();
        ConnectorError::permanent(format!(
            "carrier {shown:?} has no AfterShip slug: add it to `slugs`"
        ))
    })?;
    Ok(Some(Target {
        slug: slug.clone(),
        tracking_number: number.to_string(),
    }))
}

fn is_tracking_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ' ')
}

/// `POST /trackings` for `order`: `slug` always (auto-detection may pick another courier),
/// `order_id` = the marketplace id, and our `object_key` in `custom_fields`. `customers[]` only
/// with `send_customers`.
pub fn create_body(
    order: &Order,
    target: &Target,
    object_key: &str,
    send_customers: bool,
) -> TrackingBody {
    TrackingBody {
        tracking_number: Some(target.tracking_number.clone()),
        slug: Some(target.slug.clone()),
        ..update_body(order, object_key, send_customers)
    }
}

/// `PUT /trackings/{id}`: what may change on an existing tracking (not its number or slug).
pub fn update_body(order: &Order, object_key: &str, send_customers: bool) -> TrackingBody {
    let mut custom = Map::new();
    custom.insert(KEY_FIELD.into(), Value::String(object_key.to_string()));
    TrackingBody {
        tracking_number: None,
        slug: None,
        title: Some(format!("Order {}", order.order_number)),
        order_id: Some(order.external_id.clone()),
        order_number: Some(order.order_number.clone()),
        custom_fields: Some(custom),
        customers: send_customers.then(|| customers(order)).flatten(),
        destination_country_region: None,
        language: None,
    }
}

fn customers(order: &Order) -> Option<Vec<Customer>> {
    let present = |v: &Option<String>| v.as_ref().filter(|s| !s.trim().is_empty()).cloned();
    let (name, email) = (present(&order.pii.buyer_name), present(&order.pii.email));
    (name.is_some() || email.is_some()).then(|| {
        vec![Customer {
            role: Some("buyer".into()),
            name,
            email,
            phone_number: None,
            language: None,
        }]
    })
}

/// Whether an existing tracking is the one `target` names.
pub fn same_parcel(t: &Tracking, target: &Target) -> bool {
    t.tracking_number.as_deref().map(str::trim) == Some(target.tracking_number.as_str())
        && t.slug.as_deref() == Some(target.slug.as_str())
}

/// Where a delivery time came from (targets.md §2.6), most trustworthy first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveredSource {
    /// The Delivered checkpoint's `checkpoint_time`, with its offset.
    Checkpoint,
    /// `shipment_delivery_date` carrying an offset.
    DeliveryDateWithOffset,
    /// `shipment_delivery_date` as a naive local date-time, read at UTC+14.
    NaiveDateTime,
    /// `shipment_delivery_date` as a date only: the start of that day at UTC+14.
    DateOnly,
    /// `updated_at` (UTC) of the Delivered tracking.
    UpdatedAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveredTime {
    pub at: OffsetDateTime,
    pub source: DeliveredSource,
}

/// The furthest-ahead offset in use: a naive local time read here is the earliest instant it
/// can be anywhere, so the retention clock never starts late.
const EARLIEST_ZONE: UtcOffset = match UtcOffset::from_hms(14, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// When a Delivered tracking was delivered, in UTC (`None` until the tag is `Delivered`):
/// 1. the (earliest) Delivered checkpoint's `checkpoint_time` with its offset;
/// 2. `shipment_delivery_date` if it has an offset;
/// 3. `shipment_delivery_date` naive: a date-time read at UTC+14, a date at its start at
///    UTC+14 (its zone is not to be trusted: AfterShip documents the recipient's zone, but
///    its own fixture holds UTC there, so the earliest plausible instant is taken);
/// 4. `updated_at`.
///
/// A Delivered tracking with none of these readable is Permanent (a shape we do not know).
pub fn delivered_at(t: &Tracking) -> Result<Option<DeliveredTime>, ConnectorError> {
    if t.tag.as_deref() != Some("Delivered") {
        return Ok(None);
    }
    let checkpoint = t
        .checkpoints
        .iter()
        .filter(|c| c.tag.as_deref() == Some("Delivered"))
        .filter_map(|c| c.checkpoint_time.as_deref().and_then(parse_offset_time))
        .min();
    if let Some(at) = checkpoint {
        return Ok(Some(found(at, DeliveredSource::Checkpoint)));
    }
    if let Some(d) = t.shipment_delivery_date.as_deref().map(str::trim) {
        if let Some(at) = parse_offset_time(d) {
            return Ok(Some(found(at, DeliveredSource::DeliveryDateWithOffset)));
        }
        if let Some(local) = parse_naive(d) {
            return Ok(Some(found(
                local.assume_offset(EARLIEST_ZONE),
                DeliveredSource::NaiveDateTime,
            )));
        }
        if let Some(day) = parse_date(d) {
            return Ok(Some(found(
                day.midnight().assume_offset(EARLIEST_ZONE),
                DeliveredSource::DateOnly,
            )));
        }
    }
    match t.updated_at.as_deref().and_then(parse_offset_time) {
        Some(at) => Ok(Some(found(at, DeliveredSource::UpdatedAt))),
        None => Err(ConnectorError::permanent(
            "delivered tracking has no readable delivery time or updated_at",
        )),
    }
}

fn found(at: OffsetDateTime, source: DeliveredSource) -> DeliveredTime {
    DeliveredTime {
        at: at.to_offset(UtcOffset::UTC),
        source,
    }
}

/// RFC 3339 with `Z` or `±hh:mm` (also `±hhmm`, which AfterShip's examples do not use but
/// carriers' feeds do).
fn parse_offset_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    let f = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory][offset_minute]"
    );
    OffsetDateTime::parse(s, f).ok()
}

fn parse_naive(s: &str) -> Option<PrimitiveDateTime> {
    let f = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let f_ms = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]");
    PrimitiveDateTime::parse(s, f)
        .or_else(|_| PrimitiveDateTime::parse(s, f_ms))
        .ok()
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, format_description!("[year]-[month]-[day]")).ok()
}

/// RFC 3339 in UTC, seconds precision (the form `updated_at_min` takes).
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// True when `s` is safe as one URL path segment (AfterShip ids are 32 hex characters).
pub fn is_path_safe(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
