//! Shopify search-query terms (`updated_at:>='…' AND status:any`), opaque cursors and the
//! REST `page_info` token.

use super::store::{Key, SortKey, StatusFilter};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// The shop's time zone offset (REST renders times in it; bare dates are read in it).
pub const SHOP_OFFSET_HOURS: i8 = -5;

pub fn shop_offset() -> UtcOffset {
    UtcOffset::from_hms(SHOP_OFFSET_HOURS, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// A timestamp with offset, or a bare `YYYY-MM-DD` taken as midnight in the shop's zone.
/// Returns unix seconds and whether fractional seconds were present (matters for rounding).
pub fn parse_time(s: &str) -> Option<(i64, bool)> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some((t.unix_timestamp(), t.nanosecond() != 0));
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = Date::parse(s, &fmt).ok()?;
    let t = PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_offset(shop_offset());
    Some((t.unix_timestamp(), false))
}

/// Inclusive `updated_at` bounds and status parsed from a GraphQL search `query`.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Terms {
    pub updated_min: Option<i64>,
    pub updated_max: Option<i64>,
    pub status: Option<StatusFilter>,
}

/// Parses the terms the sim understands; others are ignored, as Shopify ignores unknown
/// fields. Values may be quoted with `'` or `"` or bare.
pub fn parse_terms(q: &str) -> Terms {
    let mut t = Terms::default();
    for raw in q.split_whitespace() {
        if raw.eq_ignore_ascii_case("AND") {
            continue;
        }
        if let Some(v) = raw.strip_prefix("status:") {
            t.status = match unquote(v) {
                "open" => Some(StatusFilter::Open),
                "closed" => Some(StatusFilter::Closed),
                "cancelled" => Some(StatusFilter::Cancelled),
                _ => Some(StatusFilter::Any),
            };
            continue;
        }
        let Some(rest) = raw.strip_prefix("updated_at:") else {
            continue;
        };
        let (op, v) = [">=", "<=", ">", "<"]
            .iter()
            .find_map(|op| rest.strip_prefix(op).map(|v| (*op, v)))
            .unwrap_or(("=", rest));
        let Some((secs, frac)) = parse_time(unquote(v)) else {
            continue;
        };
        // Stored times are whole seconds: turn every comparison into inclusive second bounds.
        let lower = |m: i64| t.updated_min.map_or(m, |c: i64| c.max(m));
        let upper = |m: i64| t.updated_max.map_or(m, |c: i64| c.min(m));
        match op {
            ">=" => t.updated_min = Some(lower(if frac { secs + 1 } else { secs })),
            ">" => t.updated_min = Some(lower(secs + 1)),
            "<=" => t.updated_max = Some(upper(secs)),
            "<" => t.updated_max = Some(upper(if frac { secs } else { secs - 1 })),
            _ => {
                t.updated_min = Some(lower(secs));
                t.updated_max = Some(upper(secs));
            }
        }
    }
    t
}

fn unquote(v: &str) -> &str {
    v.trim_matches(|c| c == '\'' || c == '"')
}

/// An opaque GraphQL cursor bound to its sort key.
pub fn encode_cursor(sort: SortKey, k: Key) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}:{}", sort.code(), k.0, k.1))
}

pub fn decode_cursor(c: &str, sort: SortKey) -> Option<Key> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    let mut it = raw.splitn(3, ':');
    let code = it.next()?.chars().next()?;
    if SortKey::from_code(code)? != sort {
        return None;
    }
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// REST `page_info`: carries every filter of the first request plus the position.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PageInfo {
    pub status: String,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub order: String,
    pub last: Key,
}

pub fn encode_page_info(p: &PageInfo) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(p).unwrap_or_default())
}

pub fn decode_page_info(s: &str) -> Option<PageInfo> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).ok()?).ok()
}

/// RFC 3339 in UTC (`…Z`), as GraphQL renders `DateTime`.
pub fn utc(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// RFC 3339 in the shop's zone (`…-05:00`), as REST renders timestamps.
pub fn local(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.to_offset(shop_offset()).format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms() {
        let t = parse_terms(
            "updated_at:>='2026-11-18T11:06:40Z' AND updated_at:<=\"2026-11-18T12:00:00Z\"",
        );
        assert_eq!(t.updated_min, Some(1_795_000_000));
        assert_eq!(t.updated_max, Some(1_795_003_200));
        let t = parse_terms("updated_at:>2026-11-18T11:06:40Z updated_at:<2026-11-18T11:06:45.5Z");
        assert_eq!(
            (t.updated_min, t.updated_max),
            (Some(1_795_000_001), Some(1_795_000_005))
        );
        // A bare date is midnight in the shop's zone (UTC-5).
        assert_eq!(
            parse_terms("updated_at:>=2026-11-18").updated_min,
            Some(1_794_978_000)
        );
        assert_eq!(parse_terms("title:foo").updated_min, None);
    }

    #[test]
    fn cursors_are_bound_to_their_sort() {
        let c = encode_cursor(SortKey::UpdatedAt, (5, 820_982_911_940_000_001));
        assert_eq!(
            decode_cursor(&c, SortKey::UpdatedAt),
            Some((5, 820_982_911_940_000_001))
        );
        assert_eq!(decode_cursor(&c, SortKey::CreatedAt), None);
        assert_eq!(decode_cursor("!!", SortKey::UpdatedAt), None);
    }
}
