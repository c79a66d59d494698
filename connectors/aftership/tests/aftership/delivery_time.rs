//! The delivery-time rule (targets.md §2.6): one test per branch, the legacy fixture whose
//! `shipment_delivery_date` contradicts the documented zone, and randomised properties.

use crate::fixture;
use ordersync_aftership::mapping::{DeliveredSource, delivered_at};
use ordersync_aftership::wire::Tracking;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use time::macros::{datetime, format_description};
use time::{Duration, OffsetDateTime, UtcOffset};

fn tracking(v: Value) -> Tracking {
    serde_json::from_value(v).expect("tracking shape")
}

fn delivered(extra: Value) -> Tracking {
    let mut v = json!({ "id": "a5000000000000000000000000000001", "tag": "Delivered",
                        "updated_at": "2024-03-05T06:00:00+00:00" });
    v.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    tracking(v)
}

fn at(t: &Tracking) -> (OffsetDateTime, DeliveredSource) {
    let d = delivered_at(t).unwrap().expect("delivered");
    assert_eq!(d.at.offset(), UtcOffset::UTC, "always UTC");
    (d.at, d.source)
}

#[test]
fn not_delivered_is_none() {
    for tag in [
        "InfoReceived",
        "InTransit",
        "OutForDelivery",
        "Exception",
        "Expired",
    ] {
        let t = tracking(json!({ "id": "x", "tag": tag, "shipment_delivery_date": "2024-03-01" }));
        assert_eq!(delivered_at(&t).unwrap(), None, "{tag}");
    }
}

#[test]
fn the_delivered_checkpoint_wins_with_its_offset() {
    let t = delivered(json!({
        "shipment_delivery_date": "2024-03-04T09:00:00",
        "checkpoints": [
            { "tag": "InTransit", "checkpoint_time": "2024-03-01T10:00:00+08:00" },
            { "tag": "Delivered", "checkpoint_time": "2024-03-04T18:47:10-05:00" },
            { "tag": "Delivered", "checkpoint_time": "2024-03-05T09:00:00-05:00" },
        ],
    }));
    assert_eq!(
        at(&t),
        (
            datetime!(2024-03-04 23:47:10 UTC),
            DeliveredSource::Checkpoint
        ),
        "the earliest Delivered checkpoint, converted to UTC"
    );
}

#[test]
fn a_delivery_date_with_an_offset_is_next() {
    for (s, want) in [
        ("2024-03-04T11:23:00Z", datetime!(2024-03-04 11:23:00 UTC)),
        (
            "2024-03-04T11:23:00+09:00",
            datetime!(2024-03-04 02:23:00 UTC),
        ),
        (
            "2024-03-04T11:23:00-0500",
            datetime!(2024-03-04 16:23:00 UTC),
        ),
    ] {
        // A checkpoint without an offset is not trusted either.
        let t = delivered(json!({ "shipment_delivery_date": s,
            "checkpoints": [{ "tag": "Delivered", "checkpoint_time": "2024-03-04T10:00:00" }] }));
        assert_eq!(
            at(&t),
            (want, DeliveredSource::DeliveryDateWithOffset),
            "{s}"
        );
    }
}

#[test]
fn a_naive_delivery_date_is_read_at_utc_plus_14() {
    let t = delivered(json!({ "shipment_delivery_date": "2024-03-04T11:23:00" }));
    assert_eq!(
        at(&t),
        (
            datetime!(2024-03-03 21:23:00 UTC),
            DeliveredSource::NaiveDateTime
        )
    );
}

#[test]
fn a_date_only_delivery_date_is_the_start_of_that_day_at_utc_plus_14() {
    let t = delivered(json!({ "shipment_delivery_date": "2024-03-04" }));
    assert_eq!(
        at(&t),
        (
            datetime!(2024-03-03 10:00:00 UTC),
            DeliveredSource::DateOnly
        )
    );
}

#[test]
fn updated_at_is_the_last_resort_and_nothing_readable_is_permanent() {
    let t = delivered(json!({ "shipment_delivery_date": "soon" }));
    assert_eq!(
        at(&t),
        (
            datetime!(2024-03-05 06:00:00 UTC),
            DeliveredSource::UpdatedAt
        )
    );
    let t = tracking(json!({ "id": "x", "tag": "Delivered" }));
    let e = delivered_at(&t).unwrap_err();
    assert_eq!(e.class(), ordersync_sdk::ErrorClass::Permanent);
}

/// AfterShip's own legacy fixture: `shipment_delivery_date` `2018-07-25T01:10:00` is the
/// Delivered checkpoint `2018-07-25T10:10:00+09:00` in UTC, not in the recipient's zone (Japan)
/// as documented. The checkpoint gives the true instant; without it, reading the naive value at
/// UTC+14 stays at or before the true instant whichever zone the field was really in.
#[test]
fn legacy_fixture_contradiction() {
    let legacy = fixture("legacy-GetTrackingResult.json")["data"]["tracking"].clone();
    let truth = datetime!(2018-07-25 01:10:00 UTC);
    assert_eq!(
        at(&tracking(legacy.clone())),
        (truth, DeliveredSource::Checkpoint)
    );
    let mut no_checkpoints = legacy;
    no_checkpoints["checkpoints"] = json!([]);
    let (got, source) = at(&tracking(no_checkpoints));
    assert_eq!(source, DeliveredSource::NaiveDateTime);
    assert_eq!(got, datetime!(2018-07-24 11:10:00 UTC));
    assert!(got <= truth, "never after the true delivery");
    // Had the field been Japan local time (as documented), the truth would be 2018-07-24
    // 16:10 UTC: still not before our reading.
    assert!(got <= datetime!(2018-07-24 16:10:00 UTC));
}

/// The 2026-07 example: its Delivered checkpoint carries -05:00.
#[test]
fn example_2026_07_uses_the_checkpoint() {
    let t = fixture("get-trackings.response.delivered.json")["data"]["trackings"][0].clone();
    assert_eq!(
        at(&tracking(t)),
        (
            datetime!(2022-01-01 23:47:10 UTC),
            DeliveredSource::Checkpoint
        )
    );
}

/// For any instant and any real zone (UTC-12 to UTC+14): a checkpoint with its offset gives the
/// instant exactly; the naive local time gives at most the instant and at most 26 hours
/// before it; the local date gives at most the instant.
#[test]
fn property_never_later_than_the_truth() {
    let naive = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let day = format_description!("[year]-[month]-[day]");
    let offset_fmt = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    for _ in 0..2000 {
        let truth =
            OffsetDateTime::from_unix_timestamp(rng.random_range(0..4_000_000_000)).unwrap();
        let quarter_hours: i32 = rng.random_range(-48..=56);
        let off = UtcOffset::from_whole_seconds(quarter_hours * 900).unwrap();
        let local = truth.to_offset(off);
        let cp = delivered(json!({ "checkpoints": [
            { "tag": "Delivered", "checkpoint_time": local.format(offset_fmt).unwrap() }] }));
        assert_eq!(at(&cp).0, truth);
        let n = delivered(json!({ "shipment_delivery_date": local.format(naive).unwrap() }));
        let got = at(&n).0;
        assert!(
            got <= truth && truth - got <= Duration::hours(26),
            "{local} → {got}"
        );
        let d = delivered(json!({ "shipment_delivery_date": local.format(day).unwrap() }));
        assert!(at(&d).0 <= truth, "{local}");
    }
}
