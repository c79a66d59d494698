//! The scripted life of a tracking, derived from its creation time and number on the
//! simulator's clock (computed when asked, so fast-forwarding the clock moves every parcel):
//! InfoReceived at create, InTransit a day later, OutForDelivery five hours before delivery,
//! Delivered 66 to 78 hours after creation. The destination (and so every local time) follows
//! the courier: Japan Post in Japan (+09:00), USPS/UPS/FedEx in the US (-05:00), ...

use time::{Duration, OffsetDateTime, UtcOffset};

/// Delivery comes this many hours after creation, plus 0..=12 more spread by the number.
pub const DELIVERED_AFTER_HOURS: i64 = 66;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    InfoReceived,
    InTransit,
    OutForDelivery,
    Delivered,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::InfoReceived,
        Stage::InTransit,
        Stage::OutForDelivery,
        Stage::Delivered,
    ];

    pub fn tag(self) -> &'static str {
        match self {
            Stage::InfoReceived => "InfoReceived",
            Stage::InTransit => "InTransit",
            Stage::OutForDelivery => "OutForDelivery",
            Stage::Delivered => "Delivered",
        }
    }

    pub fn subtag(self) -> &'static str {
        match self {
            Stage::InfoReceived => "InfoReceived_001",
            Stage::InTransit => "InTransit_002",
            Stage::OutForDelivery => "OutForDelivery_001",
            Stage::Delivered => "Delivered_001",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Stage::InfoReceived => "Shipment information received",
            Stage::InTransit => "Acceptance scan",
            Stage::OutForDelivery => "Out for delivery",
            Stage::Delivered => "Delivered",
        }
    }
}

/// Where a parcel ends up: ISO3 country, offset, and a city (never the buyer's address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub country: &'static str,
    pub country_name: &'static str,
    pub offset_hours: i8,
    pub city: &'static str,
    pub state: &'static str,
    pub postal_code: &'static str,
}

const PLACES: [Place; 5] = [
    Place {
        country: "USA",
        country_name: "United States",
        offset_hours: -5,
        city: "New York",
        state: "NY",
        postal_code: "10011",
    },
    Place {
        country: "JPN",
        country_name: "Japan",
        offset_hours: 9,
        city: "Sapporo",
        state: "Hokkaido",
        postal_code: "060-0001",
    },
    Place {
        country: "GBR",
        country_name: "United Kingdom",
        offset_hours: 0,
        city: "London",
        state: "London",
        postal_code: "EC1A 1BB",
    },
    Place {
        country: "DEU",
        country_name: "Germany",
        offset_hours: 1,
        city: "Berlin",
        state: "BE",
        postal_code: "10115",
    },
    Place {
        country: "AUS",
        country_name: "Australia",
        offset_hours: 10,
        city: "Sydney",
        state: "NSW",
        postal_code: "2000",
    },
];

impl Place {
    pub fn offset(&self) -> UtcOffset {
        UtcOffset::from_hms(self.offset_hours, 0, 0).unwrap_or(UtcOffset::UTC)
    }

    /// The destination of a parcel: the sent `destination_country_region` if we know it,
    /// else the courier's home, else spread by number.
    pub fn of(destination: Option<&str>, slug: &str, num: u64) -> Place {
        if let Some(p) = destination.and_then(|d| PLACES.iter().find(|p| p.country == d)) {
            return *p;
        }
        let home = match slug {
            "usps" | "ups" | "fedex" => Some("USA"),
            "japan-post" => Some("JPN"),
            "royal-mail" => Some("GBR"),
            "deutsch-post" | "dhl" | "dpd" => Some("DEU"),
            "australia-post" => Some("AUS"),
            _ => None,
        };
        home.and_then(|h| PLACES.iter().find(|p| p.country == h))
            .copied()
            .unwrap_or(PLACES[(spread(num) % PLACES.len() as u64) as usize])
    }
}

fn spread(num: u64) -> u64 {
    num.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40
}

/// When each stage is reached.
pub fn stage_time(stage: Stage, created: OffsetDateTime, num: u64) -> OffsetDateTime {
    let delivered = created + Duration::hours(DELIVERED_AFTER_HOURS + (spread(num) % 13) as i64);
    match stage {
        Stage::InfoReceived => created,
        Stage::InTransit => created + Duration::days(1),
        Stage::OutForDelivery => delivered - Duration::hours(5),
        Stage::Delivered => delivered,
    }
}

/// The stage reached at `now` and when it was reached.
pub fn stage_at(created: OffsetDateTime, num: u64, now: OffsetDateTime) -> (Stage, OffsetDateTime) {
    Stage::ALL
        .iter()
        .rev()
        .map(|s| (*s, stage_time(*s, created, num)))
        .find(|(_, t)| *t <= now)
        .unwrap_or((Stage::InfoReceived, created))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_follow_the_clock() {
        let t0 = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        for num in 1..50 {
            assert_eq!(stage_at(t0, num, t0).0, Stage::InfoReceived);
            assert_eq!(
                stage_at(t0, num, t0 + Duration::hours(30)).0,
                Stage::InTransit
            );
            let (s, at) = stage_at(t0, num, t0 + Duration::days(4));
            assert_eq!(s, Stage::Delivered);
            assert!(at >= t0 + Duration::hours(66) && at <= t0 + Duration::hours(78));
            let out = stage_time(Stage::OutForDelivery, t0, num);
            assert!(out > stage_time(Stage::InTransit, t0, num) && out < at);
        }
    }
}
