//! Pure mapping: a canonical [`Order`] → a V1 `createorder` body, from the same "what is left
//! to ship" plan as V2 ([`crate::mapping::goods`]). No I/O; errors name fields, never values.

use super::wire::{Address, AdvancedOptions, OrderBody, OrderItem};
use crate::mapping::{Goods, goods, truncate};
use ordersync_sdk::{ConnectorError, Order};
use rust_decimal::Decimal;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

/// `orderKey` is ours to choose; ShipStation documents no limit, we keep the engine's 32 hex.
pub const MAX_KEY_LEN: usize = 50;
/// V1 `orderNumber` as we send it (the marketplace's number, truncated).
pub const MAX_NUMBER_LEN: usize = 50;

/// The open status a new or changed order gets.
pub const AWAITING_SHIPMENT: &str = "awaiting_shipment";
/// What an order with nothing left to ship becomes (only if ShipStation already holds it).
pub const CANCELLED: &str = "cancelled";

fn check_key(object_key: &str) -> Result<(), ConnectorError> {
    if object_key.is_empty() || object_key.chars().count() > MAX_KEY_LEN {
        return Err(ConnectorError::permanent(
            "object_key must be 1 to 50 characters (orderKey)",
        ));
    }
    Ok(())
}

/// The V1 order for `order`, or `None` when nothing is left to ship. `orderKey` is the
/// delivery's `object_key`, which makes `createorder` an upsert: a retry or a new version
/// updates the one order instead of making a second.
pub fn order_plan(
    order: &Order,
    object_key: &str,
    warehouse_id: Option<u64>,
) -> Result<Option<OrderBody>, ConnectorError> {
    check_key(object_key)?;
    let Some(g) = goods(order)? else {
        return Ok(None);
    };
    let ship_to = ship_to(order, true)?;
    Ok(Some(body(
        order,
        object_key,
        warehouse_id,
        AWAITING_SHIPMENT,
        ship_to,
        Some(g),
    )))
}

/// The whole order again with `orderStatus` `cancelled` and nothing on it (V1 has no partial
/// update and no cancel call): what withdraws an order that has nothing left to ship. The
/// address is sent as held, without the checks a shippable order needs.
pub fn cancel_body(order: &Order, object_key: &str) -> Result<OrderBody, ConnectorError> {
    check_key(object_key)?;
    let ship_to = ship_to(order, false)?;
    Ok(body(order, object_key, None, CANCELLED, ship_to, None))
}

fn body(
    order: &Order,
    object_key: &str,
    warehouse_id: Option<u64>,
    status: &str,
    ship_to: Address,
    g: Option<Goods>,
) -> OrderBody {
    let (items, paid, tax, shipping) = match g {
        Some(g) => (
            g.items
                .into_iter()
                .map(|i| OrderItem {
                    line_item_key: i.external_order_item_id,
                    sku: i.sku,
                    name: i.name,
                    quantity: i.quantity,
                    unit_price: i.unit_price,
                    tax_amount: i.tax_amount,
                    adjustment: false,
                })
                .collect(),
            g.paid,
            g.tax,
            g.shipping,
        ),
        None => (Vec::new(), Decimal::ZERO, Decimal::ZERO, Decimal::ZERO),
    };
    let pii = &order.pii;
    let bill_name = pii
        .billing_address
        .as_ref()
        .and_then(|a| a.name.clone())
        .or_else(|| pii.buyer_name.clone())
        .or_else(|| ship_to.name.clone());
    OrderBody {
        order_number: Some(truncate(&order.order_number, MAX_NUMBER_LEN)),
        order_key: Some(object_key.to_string()),
        order_date: Some(pacific(order.created_at)),
        payment_date: Some(pacific(order.created_at)),
        order_status: Some(status.to_string()),
        customer_email: pii.email.clone().filter(|e| !e.trim().is_empty()),
        bill_to: Some(Address {
            name: bill_name,
            ..Address::default()
        }),
        ship_to: Some(ship_to),
        items,
        amount_paid: Some(paid),
        tax_amount: Some(tax),
        shipping_amount: Some(shipping),
        customer_notes: pii.notes.clone(),
        requested_shipping_service: order.shipping_method.clone(),
        gift: false,
        advanced_options: Some(AdvancedOptions {
            warehouse_id,
            custom_field1: Some(order.external_id.clone()),
            source: Some(order.marketplace.clone()),
        }),
    }
}

/// V1 `shipTo`: name, street1, city, postalCode and country are needed to ship (state and
/// phone are not, abroad); a missing one is a Permanent error naming the field.
fn ship_to(order: &Order, strict: bool) -> Result<Address, ConnectorError> {
    let pii = &order.pii;
    let Some(a) = pii.shipping_address.as_ref() else {
        return if strict {
            Err(ConnectorError::permanent("shipping address missing"))
        } else {
            Ok(Address::default())
        };
    };
    let present = |v: Option<&String>| v.filter(|s| !s.trim().is_empty()).cloned();
    let need = |v: Option<String>, field: &str| match v {
        None if strict => Err(ConnectorError::permanent(format!(
            "shipping address lacks required {field}"
        ))),
        v => Ok(v),
    };
    Ok(Address {
        name: need(
            present(a.name.as_ref()).or_else(|| present(pii.buyer_name.as_ref())),
            "name",
        )?,
        company: present(a.company.as_ref()),
        street1: need(present(a.line1.as_ref()), "street1")?,
        street2: present(a.line2.as_ref()),
        street3: None,
        city: need(present(a.city.as_ref()), "city")?,
        state: present(a.region.as_ref()),
        postal_code: need(present(a.postal_code.as_ref()), "postalCode")?,
        country: need(
            present(a.country_code.as_ref()).map(|c| c.to_ascii_uppercase()),
            "country",
        )?,
        phone: present(a.phone.as_ref()).or_else(|| present(pii.phone.as_ref())),
        residential: None,
    })
}

/// `t` as V1 writes dates: naive Pacific time (PST, or PDT from the second Sunday of March
/// 02:00 to the first Sunday of November 02:00), `2015-06-29T08:46:27.0000000`.
pub fn pacific(t: OffsetDateTime) -> String {
    let local = t.to_offset(pacific_offset(t));
    let fraction = local.nanosecond() / 100;
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{fraction:07}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

/// Reads a V1 naive Pacific date back to UTC (for the simulator and tests).
pub fn parse_pacific(s: &str) -> Option<OffsetDateTime> {
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i32>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, _) = time.split_once('.').unwrap_or((time, ""));
    let mut h = hms.split(':').map(|p| p.parse::<u8>().ok());
    let (hh, mm, ss) = (h.next()??, h.next()??, h.next()??);
    let date = Date::from_calendar_date(
        y,
        Month::try_from(u8::try_from(m).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    let naive = PrimitiveDateTime::new(date, Time::from_hms(hh, mm, ss).ok()?);
    // Standard time first; a summer wall clock is an hour ahead of it.
    let guess = naive.assume_offset(UtcOffset::from_hms(-8, 0, 0).ok()?);
    Some(naive.assume_offset(pacific_offset(guess)))
}

fn pacific_offset(t: OffsetDateTime) -> UtcOffset {
    let utc = t.to_offset(UtcOffset::UTC);
    let year = utc.year();
    // DST starts at 10:00 UTC (02:00 PST) and ends at 09:00 UTC (02:00 PDT).
    let start = nth_sunday(year, Month::March, 2).map(|d| d.with_hms(10, 0, 0));
    let end = nth_sunday(year, Month::November, 1).map(|d| d.with_hms(9, 0, 0));
    let summer = match (start, end) {
        (Some(Ok(s)), Some(Ok(e))) => {
            let naive = PrimitiveDateTime::new(utc.date(), utc.time());
            naive >= s && naive < e
        }
        _ => false,
    };
    let hours = if summer { -7 } else { -8 };
    UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC)
}

fn nth_sunday(year: i32, month: Month, n: u8) -> Option<Date> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let to_sunday = (7 - first.weekday().number_days_from_sunday()) % 7;
    let day = 1 + to_sunday + 7 * (n - 1);
    let d = Date::from_calendar_date(year, month, day).ok()?;
    (d.weekday() == Weekday::Sunday).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn pacific_time_follows_us_daylight_saving() {
        // Summer: PDT (UTC−7).
        assert_eq!(
            pacific(datetime!(2015-06-29 15:46:27 UTC)),
            "2015-06-29T08:46:27.0000000"
        );
        // Winter: PST (UTC−8).
        assert_eq!(
            pacific(datetime!(2026-01-10 08:00:00.5 UTC)),
            "2026-01-10T00:00:00.5000000"
        );
        // 2026: DST from 8 March 10:00 UTC to 1 November 09:00 UTC.
        assert_eq!(
            pacific(datetime!(2026-03-08 09:59:59 UTC)),
            "2026-03-08T01:59:59.0000000"
        );
        assert_eq!(
            pacific(datetime!(2026-03-08 10:00:00 UTC)),
            "2026-03-08T03:00:00.0000000"
        );
        assert_eq!(
            pacific(datetime!(2026-11-01 08:59:59 UTC)),
            "2026-11-01T01:59:59.0000000"
        );
        assert_eq!(
            pacific(datetime!(2026-11-01 09:00:00 UTC)),
            "2026-11-01T01:00:00.0000000"
        );
        let t = datetime!(2026-07-04 12:00:00 UTC);
        assert_eq!(parse_pacific(&pacific(t)), Some(t));
        let w = datetime!(2026-12-24 23:30:00 UTC);
        assert_eq!(parse_pacific(&pacific(w)), Some(w));
        assert_eq!(parse_pacific("yesterday"), None);
    }
}
