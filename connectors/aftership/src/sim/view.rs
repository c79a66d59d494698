//! A tracking as the 2026-07 API answers it: every field of the copied `get-trackings`
//! example, with values from what was sent and from the clock-driven progression.

use super::progress::{Place, Stage, stage_at, stage_time};
use super::state::{Stored, tracking_id, updated_at};
use crate::wire::KEY_FIELD;
use serde_json::{Value, json};
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

/// `2023-01-18T08:47:10+00:00` (AfterShip writes `+00:00`, not `Z`).
pub fn with_offset(t: OffsetDateTime, off: UtcOffset) -> String {
    let f = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    );
    t.to_offset(off).format(f).unwrap_or_default()
}

pub fn utc(t: OffsetDateTime) -> String {
    with_offset(t, UtcOffset::UTC)
}

/// Local wall time without an offset (`shipment_delivery_date`, `shipment_pickup_date`).
fn naive(t: OffsetDateTime, off: UtcOffset) -> String {
    let f = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    t.to_offset(off).format(f).unwrap_or_default()
}

fn date(t: OffsetDateTime, off: UtcOffset) -> String {
    let f = format_description!("[year]-[month]-[day]");
    t.to_offset(off).format(f).unwrap_or_default()
}

fn place(e: &Stored) -> Place {
    Place::of(
        e.body.destination_country_region.as_deref(),
        e.body.slug.as_deref().unwrap_or(""),
        e.num(),
    )
}

fn checkpoint(e: &Stored, stage: Stage, p: &Place) -> Value {
    let at = stage_time(stage, e.created_at, e.num());
    let slug = e.body.slug.as_deref().unwrap_or("");
    // Before delivery the parcel is at the origin hub; the last mile is local.
    let (city, state, postal, country, country_name, off) = match stage {
        Stage::InfoReceived | Stage::InTransit => (
            "Los Angeles",
            "CA",
            "90001",
            "USA",
            "United States",
            UtcOffset::from_hms(-8, 0, 0).unwrap_or(UtcOffset::UTC),
        ),
        _ => (
            p.city,
            p.state,
            p.postal_code,
            p.country,
            p.country_name,
            p.offset(),
        ),
    };
    json!({
        "created_at": utc(at),
        "slug": slug,
        "checkpoint_time": with_offset(at, off),
        "location": format!("{city}, {state}, {postal}, {country}, {country_name}"),
        "city": city,
        "state": state,
        "postal_code": postal,
        "coordinate": null,
        "country_region": country,
        "country_region_name": country_name,
        "message": stage.message(),
        "tag": stage.tag(),
        "subtag": stage.subtag(),
        "subtag_message": stage.message(),
        "raw_tag": format!("{:02}", stage as u8 + 1),
        "events": [{ "code": stage.tag().to_ascii_lowercase(), "reason": { "code": "none" } }],
        "source": "carrier",
        "hash": format!("{:040x}", u128::from(e.num()) << 8 | stage as u128),
    })
}

/// The tracking `e` as of `now`.
pub fn tracking(e: &Stored, now: OffsetDateTime) -> Value {
    let b = &e.body;
    let id = tracking_id(e.num());
    let p = place(e);
    let off = p.offset();
    let (stage, _) = stage_at(e.created_at, e.num(), now);
    let delivered = stage == Stage::Delivered;
    let at = |s| stage_time(s, e.created_at, e.num());
    let due = at(Stage::Delivered);
    let number = b.tracking_number.clone().unwrap_or_default();
    let slug = b.slug.clone().unwrap_or_default();
    let link = format!("https://track.example-courier.test/{slug}/{number}");
    let checkpoints: Vec<Value> = Stage::ALL
        .iter()
        .filter(|s| **s <= stage)
        .map(|s| checkpoint(e, *s, &p))
        .collect();
    let customers: Vec<Value> = b
        .customers
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "role": c.role, "name": c.name, "phone_number": c.phone_number,
                "email": c.email, "language": c.language.clone().or(Some("en".into())),
                "id": format!("cust_{}_{i}", e.num()),
            })
        })
        .collect();
    let emails: Vec<&String> = b
        .customers
        .iter()
        .flatten()
        .filter_map(|c| c.email.as_ref())
        .collect();
    let smses: Vec<&String> = b
        .customers
        .iter()
        .flatten()
        .filter_map(|c| c.phone_number.as_ref())
        .collect();
    let order_id = b.order_id.clone();
    let edd = |d: OffsetDateTime| with_offset(d, off);
    json!({
        "id": id,
        "legacy_id": format!("{:024x}", e.num()),
        "created_at": utc(e.created_at),
        "updated_at": utc(updated_at(e, now)),
        "tracking_number": number,
        "slug": slug,
        "active": !delivered,
        "custom_fields": b.custom_fields.clone().unwrap_or_default(),
        "transit_time": if delivered { json!((due - e.created_at).whole_days().max(1)) } else { Value::Null },
        "origin_country_region": "USA",
        "origin_state": "CA",
        "origin_city": "Los Angeles",
        "origin_postal_code": "90001",
        "origin_raw_location": "Los Angeles, CA, 90001, USA, United States",
        "destination_country_region": p.country,
        "destination_state": p.state,
        "destination_city": p.city,
        "destination_postal_code": p.postal_code,
        "destination_raw_location": format!("{}, {}, {}", p.city, p.state, p.country_name),
        "courier_destination_country_region": p.country,
        "courier_estimated_delivery_date": {
            "estimated_delivery_date": edd(due),
            "estimated_delivery_date_min": edd(due - Duration::hours(12)),
            "estimated_delivery_date_max": edd(due + Duration::hours(12)),
        },
        "note": "",
        "order_id": order_id,
        "order_id_path": order_id.as_ref().map(|o| format!("https://shop.example.test/orders/{o}")),
        "order_date": with_offset(e.created_at, off),
        "shipment_package_count": 1,
        "shipment_pickup_date": naive(at(Stage::InTransit), off),
        "shipment_delivery_date": if delivered { json!(naive(due, off)) } else { Value::Null },
        "shipment_type": "Ground",
        "shipment_weight": { "value": 0.7, "unit": "kg" },
        "signed_by": if delivered { json!("Left at front door") } else { Value::Null },
        "customers": customers,
        "source": "api",
        "tag": stage.tag(),
        "subtag": stage.subtag(),
        "subtag_message": stage.message(),
        "title": b.title.clone().unwrap_or_else(|| number.clone()),
        "tracked_count": checkpoints.len(),
        "language": b.language.clone().unwrap_or_else(|| "en".into()),
        "checkpoints": checkpoints,
        "subscribed_smses": smses,
        "subscribed_emails": emails,
        "return_to_sender": false,
        "order_promised_delivery_date": {
            "promised_delivery_date": date(due + Duration::days(1), off),
            "promised_delivery_date_max": null,
            "promised_delivery_date_min": null,
        },
        "delivery_type": "door_to_door",
        "pickup_location": "",
        "pickup_note": "",
        "courier_tracking_link": link,
        "first_attempted_at": if delivered { json!(with_offset(due, off)) } else { Value::Null },
        "courier_redirect_link": format!("{link}?redirect=1"),
        "tracking_account_number": null,
        "tracking_key": null,
        "tracking_ship_date": date(at(Stage::InTransit), off).replace('-', ""),
        "on_time_status": "on-time",
        "on_time_difference": 0,
        "order_tags": ["ordersync"],
        "aftership_estimated_delivery_date": {
            "estimated_delivery_date": date(due, off),
            "confidence_code": 10001,
            "estimated_delivery_date_min": date(due - Duration::days(1), off),
            "estimated_delivery_date_max": date(due + Duration::days(1), off),
        },
        "custom_estimated_delivery_date": {
            "type": "specific",
            "datetime": date(due, off),
            "datetime_min": null,
            "datetime_max": null,
        },
        "order_number": b.order_number,
        "first_estimated_delivery": {
            "type": "specific",
            "source": "Carrier EDD",
            "datetime": edd(due),
            "datetime_min": null,
            "datetime_max": null,
        },
        "latest_estimated_delivery": {
            "type": "specific",
            "source": "AfterShip EDD",
            "datetime": edd(due),
            "datetime_min": null,
            "datetime_max": null,
            "revise_reason": "none",
        },
        "shipment_tags": ["ordersync"],
        "courier_connection_id": format!("{:032x}", 0xc0ffee_u64),
        "last_mile": {
            "slug": slug,
            "tracking_number": number,
            "source": "system",
            "courier_tracking_link": link,
            "courier_redirect_link": format!("{link}?redirect=1"),
        },
        "first_mile": {
            "slug": slug,
            "tracking_number": number,
            "courier_tracking_link": link,
            "courier_redirect_link": format!("{link}?redirect=1"),
        },
        "carbon_emissions": { "unit": "kg", "value": 0.7 },
        "location_id": format!("{:032x}", 0x10ca7e_u64),
        "shipping_method": "Standard",
        "failed_delivery_attempts": 0,
        "signature_requirement": "no_signature_required",
        "delivery_location_type": null,
        "aftership_tracking_url": format!("https://track.aftership.example.test/{number}"),
        "aftership_tracking_order_url": format!(
            "https://track.aftership.example.test/order-status?order-number={}",
            b.order_number.as_deref().unwrap_or("")
        ),
        "shipment_dimensions": { "unit": "cm", "length": 30, "width": 20, "height": 10 },
        "proof_of_delivery": if delivered {
            json!([{ "type": "image", "url": format!("https://pod.example.test/{id}.jpg") }])
        } else {
            json!([])
        },
        "multi_piece_info": {
            "type": "master",
            "pieces": [{ "tracking_id": id, "tracking_number": number, "type": "master", "trackable": true }],
        },
        "shipment_direction": "forward",
        // A forward shipment has no return leg.
        "return_shipment": null,
        "forward_shipment": null,
    })
}

/// The object key a tracking was made with (`custom_fields.ordersync_key`).
pub fn object_key(e: &Stored) -> String {
    e.body
        .custom_fields
        .as_ref()
        .and_then(|c| c.get(KEY_FIELD))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}
