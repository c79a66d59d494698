//! Windows and page tokens of `searchOrders`.
//!
//! Amazon refuses a `lastUpdatedBefore` later than two minutes before the request, and a
//! `paginationToken` sent with other filters than its first page's (issue #2576), and lets a
//! token live 24 hours. So the page token handed to the engine carries the exact bounds the
//! window's first page was asked with, Amazon's `nextToken`, and when Amazon issued it: a
//! token near its expiry restarts the window from its first page (the engine dedupes what it
//! reads twice).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// Amazon's rule: `lastUpdatedBefore` at least two minutes before the request ...
pub const AMAZON_MIN_AGE: Duration = Duration::minutes(2);
/// ... plus a margin for the clocks of Amazon and ours to disagree.
pub const CLOCK_MARGIN: Duration = Duration::seconds(30);
/// A `nextToken` lives 24 hours; one older than this is not sent any more.
pub const TOKEN_LIFETIME: Duration = Duration::hours(23);
/// The lower bound of a full backfill: the API shows 2 years of orders, but JP, AU and SG
/// orders since 2016.
pub const BACKFILL_FROM: &str = "2016-01-01T00:00:00Z";

const PREFIX: &str = "amz1.";

/// Everything a worker needs to continue a window (opaque to the engine).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageToken {
    /// `lastUpdatedAfter` of the window's first page.
    pub after: String,
    /// `lastUpdatedBefore` of the window's first page.
    pub before: String,
    /// Amazon's `nextToken`; `None` restarts the window from its first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// When Amazon issued `next` (unix seconds of the connector's clock).
    pub at: i64,
}

impl PageToken {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }

    pub fn decode(s: &str) -> Option<Self> {
        let b = URL_SAFE_NO_PAD.decode(s.strip_prefix(PREFIX)?).ok()?;
        serde_json::from_slice(&b).ok()
    }

    /// Whether Amazon's token is too old to be sent.
    pub fn is_stale(&self, now: OffsetDateTime) -> bool {
        now.unix_timestamp().saturating_sub(self.at) >= TOKEN_LIFETIME.whole_seconds()
    }
}

/// `2026-11-20T10:00:00Z`: UTC, whole seconds (Amazon's timestamps have no fractions).
pub fn amazon_time(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// The newest `lastUpdatedBefore` Amazon accepts at `now`, with our margin.
pub fn latest_before(now: OffsetDateTime) -> OffsetDateTime {
    now - AMAZON_MIN_AGE - CLOCK_MARGIN
}

/// What to ask for a window `[since, until]` at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Window {
    Ask {
        after: String,
        before: String,
    },
    /// Nothing can be asked yet: the window ends too recently by this much more than the
    /// overlap can make up for.
    TooRecent(Duration),
}

/// The bounds of a window's first page. An upper bound Amazon would refuse is clamped to the
/// newest it accepts: what the clamp cuts off (at most `overlap`) is re-read by the next
/// window, which starts `overlap` before this one's end. The engine's settle (3 min) keeps
/// `until` out of the last 2 minutes, so the clamp only guards callers that ignore it.
pub fn window(
    since: Option<OffsetDateTime>,
    until: OffsetDateTime,
    now: OffsetDateTime,
    overlap: Duration,
) -> Window {
    let latest = latest_before(now);
    let before = if until > latest {
        let cut = until - latest;
        if cut > overlap {
            return Window::TooRecent(cut - overlap);
        }
        latest
    } else {
        until
    };
    let after = since.map_or_else(|| BACKFILL_FROM.to_string(), |s| amazon_time(s.min(before)));
    Window::Ask {
        after,
        before: amazon_time(before),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &Rfc3339).unwrap()
    }

    #[test]
    fn tokens_round_trip_and_refuse_garbage() {
        let p = PageToken {
            after: "2026-11-01T00:00:00Z".into(),
            before: "2026-11-02T00:00:00Z".into(),
            next: Some("2YgYW55IGNhcm5hbCBwbGVhc3VyZS4=".into()),
            at: 1_800_000_000,
        };
        let s = p.encode();
        assert!(s.starts_with("amz1.") && !s.contains('='));
        assert_eq!(PageToken::decode(&s), Some(p.clone()));
        assert_eq!(PageToken::decode("amz1.@@@"), None);
        assert_eq!(PageToken::decode("2YgYW55"), None);
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        assert!(!p.is_stale(now + Duration::hours(22)));
        assert!(p.is_stale(now + Duration::hours(23)));
    }

    #[test]
    fn windows_are_whole_seconds_and_clamped() {
        let now = t("2026-11-20T12:00:00.700Z");
        let overlap = Duration::minutes(10);
        assert_eq!(
            window(
                Some(t("2026-11-20T11:00:00.900Z")),
                t("2026-11-20T11:57:00.500Z"),
                now,
                overlap
            ),
            Window::Ask {
                after: "2026-11-20T11:00:00Z".into(),
                before: "2026-11-20T11:57:00Z".into()
            }
        );
        // Ending 1 minute ago: clamped to now − 2.5 min.
        assert_eq!(
            window(None, t("2026-11-20T11:59:00Z"), now, overlap),
            Window::Ask {
                after: BACKFILL_FROM.into(),
                before: "2026-11-20T11:57:30Z".into()
            }
        );
        // Ending in the future beyond what the overlap re-reads: refused.
        assert_eq!(
            window(None, t("2026-11-20T12:30:00.700Z"), now, overlap),
            Window::TooRecent(Duration::minutes(22) + Duration::seconds(30))
        );
    }
}
