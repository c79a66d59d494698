//! The store's timezone. WordPress keeps every order date twice: site-local wall time (no
//! offset, `date_created`) and GMT (`date_created_gmt`), and its date queries compare with one
//! column or the other. European and US daylight saving rules are applied, so a store in
//! Berlin is +01:00 in December and +02:00 in July.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, Weekday};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteTz {
    /// A fixed offset in seconds (WordPress's `UTC+1` setting).
    Fixed(i32),
    /// `Europe/Berlin`: CET, CEST from the last Sunday of March to the last Sunday of
    /// October (01:00 UTC).
    Berlin,
    /// `America/New_York`: EST, EDT from the second Sunday of March to the first Sunday of
    /// November (02:00 local).
    NewYork,
}

fn nth_sunday(year: i32, month: Month, n: u8) -> Option<Date> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let to_sunday = (7 - first.weekday().number_days_from_sunday()) % 7;
    Date::from_calendar_date(year, month, 1 + to_sunday + 7 * (n - 1)).ok()
}

fn last_sunday(year: i32, month: Month) -> Option<Date> {
    let mut d = nth_sunday(year, month, 4)?;
    while let Some(n) = d.checked_add(time::Duration::days(7)) {
        if n.month() != month {
            break;
        }
        d = n;
    }
    debug_assert_eq!(d.weekday(), Weekday::Sunday);
    Some(d)
}

fn utc(d: Date, hour: u8) -> i64 {
    PrimitiveDateTime::new(d, Time::from_hms(hour, 0, 0).unwrap_or(Time::MIDNIGHT))
        .assume_utc()
        .unix_timestamp()
}

impl SiteTz {
    /// The offset in seconds at the instant `unix`.
    pub fn offset_at(self, unix: i64) -> i32 {
        let Ok(t) = OffsetDateTime::from_unix_timestamp(unix) else {
            return 0;
        };
        let y = t.year();
        match self {
            SiteTz::Fixed(s) => s,
            SiteTz::Berlin => {
                let (Some(a), Some(b)) =
                    (last_sunday(y, Month::March), last_sunday(y, Month::October))
                else {
                    return 3600;
                };
                if (utc(a, 1)..utc(b, 1)).contains(&unix) {
                    7200
                } else {
                    3600
                }
            }
            SiteTz::NewYork => {
                let (Some(a), Some(b)) = (
                    nth_sunday(y, Month::March, 2),
                    nth_sunday(y, Month::November, 1),
                ) else {
                    return -18_000;
                };
                // 02:00 EST = 07:00 UTC; 02:00 EDT = 06:00 UTC.
                if (utc(a, 7)..utc(b, 6)).contains(&unix) {
                    -14_400
                } else {
                    -18_000
                }
            }
        }
    }

    /// The site-local wall time of `unix`, as seconds of a naive clock (what the local column
    /// holds, read as if it were UTC).
    pub fn local(self, unix: i64) -> i64 {
        unix + i64::from(self.offset_at(unix))
    }

    /// WordPress's `timezone_string`.
    pub fn name(self) -> String {
        match self {
            SiteTz::Fixed(0) => "UTC".into(),
            SiteTz::Fixed(s) => format!("UTC{:+}", s / 3600),
            SiteTz::Berlin => "Europe/Berlin".into(),
            SiteTz::NewYork => "America/New_York".into(),
        }
    }
}

/// `2017-03-22T16:28:02` of a naive clock's seconds.
pub fn naive(secs: i64) -> String {
    crate::paging::wp_time(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        crate::mapping::gmt(Some(s), "t").unwrap().unix_timestamp()
    }

    #[test]
    fn daylight_saving() {
        assert_eq!(SiteTz::Berlin.offset_at(at("2026-12-02T04:00:00")), 3600);
        assert_eq!(SiteTz::Berlin.offset_at(at("2026-07-01T00:00:00")), 7200);
        assert_eq!(SiteTz::Berlin.offset_at(at("2026-03-29T00:59:59")), 3600);
        assert_eq!(SiteTz::Berlin.offset_at(at("2026-03-29T01:00:00")), 7200);
        assert_eq!(SiteTz::Berlin.offset_at(at("2026-10-25T01:00:00")), 3600);
        assert_eq!(
            SiteTz::NewYork.offset_at(at("2026-12-02T04:00:00")),
            -18_000
        );
        assert_eq!(
            SiteTz::NewYork.offset_at(at("2026-03-08T07:00:00")),
            -14_400
        );
        assert_eq!(
            SiteTz::NewYork.offset_at(at("2026-11-01T06:00:00")),
            -18_000
        );
        assert_eq!(
            naive(SiteTz::Berlin.local(at("2017-03-22T19:28:08"))),
            "2017-03-22T20:28:08"
        );
    }
}
